"""Telling imported resources apart: the cancer from the other health problems, a health
problem from a social finding, a cancer treatment from another procedure or medicine.

Pure functions of the JSON (and the bundle, to follow a reason to its Condition). The
rules, as the README says them:

**Conditions.** A Condition is *the cancer* (an opinion, as before) when it carries an
mCODE cancer-condition profile, or its SNOMED code is one of `CANCER_CODES`, or its name
says cancer (carcinoma, neoplasm, malignant, lymphoma, leukemia, melanoma, sarcoma,
myeloma, metastasis, tumor…) and not "benign". Otherwise it is *another health problem*
(a comorbidity) unless one of these holds, in which case it is not kept:

- it is a social or administrative finding: its SNOMED code is on `SOCIAL_CODES`
  (employment, education, housing, income, transport, stress, isolation, abuse, a criminal
  record, "Medication review due"…), or its name says so (`SOCIAL_WORDS`);
- its SNOMED semantic tag is "(finding)", "(situation)", "(procedure)", "(observable
  entity)" or "(regime/therapy)" and it is not a clinical finding a doctor counts among
  health problems (`CLINICAL_FINDING_WORDS`: obesity, pain, tobacco, alcohol or drug use…).
  A "(disorder)", or a code without a tag, is a health problem;
- it has resolved (clinical status resolved, inactive or remission): a sinusitis of 2005
  is not a comorbidity, and listing every episode would hide the ones that matter.

carebinder's own comorbidity export carries the category `urn:carebinder:health#condition`
and is always a health problem, even one named like a cancer (a skin cancer treated long
ago is a comorbidity).

**Treatments.** A Procedure is a cancer treatment when it carries an mCODE cancer-related
surgery or radiotherapy profile, when its code or name is a chemotherapy, radiotherapy or
transplant, or when its reason is the cancer (a prostatectomy "for" a prostate neoplasm),
unless it only looks (a biopsy, an examination, a scan, a screening). A medicine is a
cancer treatment when its name holds one of the antineoplastic drugs of `DRUGS` (kind by
class: chemotherapy, hormone therapy, targeted therapy, immunotherapy). Methotrexate is
left out: the same drug treats arthritis.
"""

from __future__ import annotations

import re
from typing import Any

from carebinder.choices import TreatmentKind
from carebinder.fhir import mcode
from carebinder.fhir.read import Bundle, Resource, as_list
from carebinder.fhir.values import codes, tidy

CANCER = "cancer"
CONDITION = "condition"

# Synthea's cancer codes (its lung, breast, colorectal and prostate modules) and common
# general ones. The names catch the rest.
CANCER_CODES = frozenset(
    {
        "126906006",  # Neoplasm of prostate
        "92691004",  # Carcinoma in situ of prostate
        "314994000",  # Metastasis from malignant tumor of prostate
        "254637007",  # Non-small cell lung cancer
        "424132000",  # Non-small cell carcinoma of lung, TNM stage 1
        "425048006",  # Non-small cell carcinoma of lung, TNM stage 2
        "422968005",  # Non-small cell carcinoma of lung, TNM stage 3
        "423121009",  # Non-small cell carcinoma of lung, TNM stage 4
        "254632001",  # Small cell carcinoma of lung
        "67811000119102",  # Primary small cell malignant neoplasm of lung, TNM stage 1
        "254837009",  # Malignant neoplasm of breast
        "363406005",  # Malignant tumor of colon
        "93761005",  # Primary malignant neoplasm of colon
        "94260004",  # Secondary malignant neoplasm of colon
        "109838007",  # Overlapping malignant neoplasm of colon
        "363346000",  # Malignant neoplastic disease
    }
)
_CANCER_WORDS = re.compile(
    r"cancer|carcinoma|neoplasm|neoplastic|malignan|lymphoma|leuk[a]?emia|melanoma|sarcoma"
    r"|myeloma|metasta|tumou?r|glioma|blastoma|mesothelioma",
    re.IGNORECASE,
)

# Synthea's social and administrative findings (SDOH), by SNOMED code.
SOCIAL_CODES = frozenset(
    {
        "160903007",  # Full-time employment
        "160904001",  # Part-time employment
        "73438004",  # Unemployed
        "741062008",  # Not in labor force
        "224299000",  # Received higher education
        "224295006",  # Only received primary school education
        "473461003",  # Educated to high school level
        "5251000175109",  # Received certificate of high school equivalency
        "314529007",  # Medication review due
        "73595000",  # Stress
        "422650009",  # Social isolation
        "423315002",  # Limited social contact
        "706893006",  # Victim of intimate partner abuse
        "105531004",  # Housing unsatisfactory
        "32911000",  # Homeless
        "266948004",  # Has a criminal record
        "446654005",  # Refugee
        "713458007",  # Lack of access to transportation
        "424393004",  # Reports of violence in the environment
        "266934004",  # Transport problem
        "160968000",  # Risk activity involvement
        "706875005",  # Insufficient food supply
        "1156191002",  # Housing insecurity
    }
)
SOCIAL_WORDS = re.compile(
    r"employ|labou?r force|education|school|housing|homeless|income|transport|criminal"
    r"|refugee|review due|social|isolation|stress\b|partner abuse|violence|armed forces"
    r"|insurance|food (?:insecurity|supply)|risk activity",
    re.IGNORECASE,
)
CLINICAL_FINDING_WORDS = re.compile(
    r"obes|body mass index 3|body mass index 4|pain|tobacco|smok|alcohol|drug|dependence"
    r"|anemia|anaemia|hypertension|hyperglyc|prediabet",
    re.IGNORECASE,
)
_NOT_PROBLEMS = ("(finding)", "(situation)", "(procedure)", "(observable entity)", "(regime")
RESOLVED = frozenset({"resolved", "inactive", "remission"})
SOCIAL_REASON = "a social or administrative finding, not a health problem"
FINDING_REASON = "a finding, not a health problem"
RESOLVED_REASON = "a past problem that has resolved (the binder keeps current ones)"


def names_of(concept: Any) -> list[str]:
    """The words of a CodeableConcept: its text and every coding's display."""
    found = [tidy(concept.get("text"))] if isinstance(concept, dict) else []
    for coding in as_list(concept.get("coding") if isinstance(concept, dict) else None):
        if isinstance(coding, dict):
            found.append(tidy(coding.get("display")))
    return [name for name in found if name]


def profiles(resource: Resource) -> set[str]:
    meta = resource.get("meta")
    return (
        {p for p in as_list(meta.get("profile")) if isinstance(p, str)}
        if isinstance(meta, dict)
        else set()
    )


def is_cancer(condition: Resource) -> bool:
    """Whether a Condition is a cancer (primary or secondary): see the module's rule."""
    if profiles(condition) & {mcode.PRIMARY_CANCER, mcode.SECONDARY_CANCER}:
        return True
    if set(codes(condition.get("code"), mcode.SNOMED)) & CANCER_CODES:
        return True
    names = names_of(condition.get("code"))
    return any(_CANCER_WORDS.search(n) and "benign" not in n.lower() for n in names)


def is_own_comorbidity(condition: Resource) -> bool:
    return mcode.COMORBIDITY in codes(condition.get("category"), mcode.HEALTH)


def condition_kind(condition: Resource) -> tuple[str | None, str | None]:
    """(CANCER or CONDITION, None), or (None, why it is not kept): the module's rule."""
    if is_own_comorbidity(condition):
        return CONDITION, None
    if is_cancer(condition):
        return CANCER, None
    snomed = set(codes(condition.get("code"), mcode.SNOMED))
    names = names_of(condition.get("code"))
    if snomed & SOCIAL_CODES or any(SOCIAL_WORDS.search(n) for n in names):
        return None, SOCIAL_REASON
    tagged = [n for n in names if n.lower().endswith(_NOT_PROBLEMS)]
    if tagged and not any(CLINICAL_FINDING_WORDS.search(n) for n in names):
        return None, FINDING_REASON
    status = codes(
        condition.get("clinicalStatus"), "http://terminology.hl7.org/CodeSystem/condition-clinical"
    )
    if set(status) & RESOLVED:
        return None, RESOLVED_REASON
    return CONDITION, None


# --- treatments ---------------------------------------------------------------------------

DRUGS: dict[TreatmentKind, tuple[str, ...]] = {
    TreatmentKind.CHEMOTHERAPY: (
        "docetaxel", "paclitaxel", "nab-paclitaxel", "cabazitaxel", "cisplatin",
        "carboplatin", "oxaliplatin", "doxorubicin", "epirubicin", "cyclophosphamide",
        "fluorouracil", "capecitabine", "gemcitabine", "etoposide", "vincristine",
        "vinorelbine", "irinotecan", "pemetrexed", "ifosfamide", "temozolomide",
        "eribulin", "bleomycin", "dacarbazine", "mitomycin", "topotecan",
    ),
    TreatmentKind.HORMONE_THERAPY: (
        "leuprolide", "goserelin", "triptorelin", "degarelix", "tamoxifen", "letrozole",
        "anastrozole", "exemestane", "fulvestrant", "bicalutamide", "enzalutamide",
        "apalutamide", "darolutamide", "abiraterone",
    ),
    TreatmentKind.TARGETED_THERAPY: (
        "trastuzumab", "pertuzumab", "bevacizumab", "cetuximab", "panitumumab",
        "imatinib", "erlotinib", "gefitinib", "osimertinib", "afatinib", "palbociclib",
        "ribociclib", "abemaciclib", "olaparib", "niraparib", "lapatinib", "neratinib",
        "tucatinib", "sunitinib", "sorafenib", "alectinib", "crizotinib", "lorlatinib",
        "dabrafenib", "trametinib", "everolimus", "rituximab", "ado-trastuzumab",
        "sacituzumab",
    ),
    TreatmentKind.IMMUNOTHERAPY: (
        "pembrolizumab", "nivolumab", "atezolizumab", "durvalumab", "ipilimumab",
        "cemiplimab", "avelumab", "dostarlimab", "tremelimumab",
    ),
}  # fmt: skip
_DRUG_KIND = {name: kind for kind, names in DRUGS.items() for name in names}
_DRUG = re.compile(r"(?<![a-z-])(" + "|".join(map(re.escape, _DRUG_KIND)) + r")(?![a-z])")

_RADIATION = re.compile(r"radiotherap|radiation|brachytherap|irradiation|radiosurgery")
_CHEMO = re.compile(r"chemotherap|antineoplastic")
_TRANSPLANT = re.compile(r"transplant")
_LOOKS_ONLY = re.compile(
    r"biopsy|examination|screening|imaging|scan\b|documentation|measurement|assessment"
    r"|consultation|counsel|education|referral|test\b|ultrasound|x-ray|tomography|scopy"
)
# SNOMED codes for the same.
_CHEMO_CODES = frozenset({"367336001", "265760000", "266719004"})
_RADIATION_CODES = frozenset({"108290001", "33195004", "1287742003", "152198000", "399315003"})


def drug_kind(name: str | None) -> TreatmentKind | None:
    """The kind of cancer treatment a medicine of this name is, or None."""
    found = _DRUG.search(name.casefold()) if name else None
    return None if found is None else _DRUG_KIND[found[1]]


def procedure_kind(bundle: Bundle, procedure: Resource) -> TreatmentKind | None:
    """The kind of cancer treatment a Procedure is, or None: see the module's rule."""
    own = profiles(procedure)
    if mcode.RADIOTHERAPY in own:
        return TreatmentKind.RADIATION
    if mcode.CANCER_SURGERY in own:
        return TreatmentKind.SURGERY
    snomed = set(codes(procedure.get("code"), mcode.SNOMED))
    name = " ".join(names_of(procedure.get("code"))).casefold()
    if snomed & _CHEMO_CODES or _CHEMO.search(name):
        return TreatmentKind.CHEMOTHERAPY
    if snomed & _RADIATION_CODES or _RADIATION.search(name):
        return TreatmentKind.RADIATION
    if _LOOKS_ONLY.search(name):
        return None
    if not _for_cancer(bundle, procedure):
        return None
    return TreatmentKind.TRANSPLANT if _TRANSPLANT.search(name) else TreatmentKind.SURGERY


def _for_cancer(bundle: Bundle, procedure: Resource) -> bool:
    for reference in as_list(procedure.get("reasonReference")):
        target = bundle.resolve(reference, "Condition")
        if target is not None and is_cancer(target):
            return True
        shown = reference.get("display") if isinstance(reference, dict) else None
        if target is None and isinstance(shown, str) and _CANCER_WORDS.search(shown):
            return True
    return any(is_cancer({"code": concept}) for concept in as_list(procedure.get("reasonCode")))
