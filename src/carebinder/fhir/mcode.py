"""The codes of the health facts in FHIR, read by both the import and the export: IPS
(medications, allergies, problems, and their "none known" statements) and mCODE (the
cancer condition, TNM staging, grade, ECOG, cancer treatments).

Codes were checked against the published guides: IPS 1.1 (absent-unknown-uv-ips, the
SNOMED "no known …" situations) and mCODE STU3/STU4 (staging LOINC and SNOMED codes,
the histology and laterality extensions, the histologic grade and ECOG observations).
"""

from __future__ import annotations

from carebinder.choices import (
    AllergyKind,
    Interpretation,
    Laterality,
    MedicationKind,
    StagingBasis,
    TreatmentKind,
)
from carebinder.fhir.vocab import LOINC, SYSTEM, extension

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
IPS_ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

# carebinder's own words, where FHIR has no element for a binder's fact.
MEDICATION_KIND = f"{SYSTEM}:medication-kind"
TREATMENT_KIND = f"{SYSTEM}:treatment-kind"
HEALTH = f"{SYSTEM}:health"  # a category marking carebinder's own comorbidity Conditions
COMORBIDITY = "condition"
STAGING = f"{SYSTEM}:staging"  # a stage group given without a clinical/pathologic basis
EXT_DOSE = extension("dose")
EXT_HOW = extension("how")
EXT_RESPONSE = extension("response")
EXT_UNIT = extension("unit")
EXT_ALLERGY_KIND = extension("allergy-kind")

# mCODE
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition"
PRIMARY_CANCER = f"{MCODE}/mcode-primary-cancer-condition"
SECONDARY_CANCER = f"{MCODE}/mcode-secondary-cancer-condition"
CANCER_SURGERY = f"{MCODE}/mcode-cancer-related-surgical-procedure"
RADIOTHERAPY = f"{MCODE}/mcode-radiotherapy-course-summary"
CANCER_MEDICATION = f"{MCODE}/mcode-cancer-related-medication-statement"
EXT_HISTOLOGY = f"{MCODE}/mcode-histology-morphology-behavior"
EXT_LATERALITY = f"{MCODE}/mcode-laterality-qualifier"
LATERALITY_CODES: dict[Laterality, tuple[str, str]] = {
    Laterality.LEFT: ("7771000", "Left (qualifier value)"),
    Laterality.RIGHT: ("24028007", "Right (qualifier value)"),
    Laterality.BILATERAL: ("51440002", "Right and left (qualifier value)"),
}
LATERALITY_OF = {code: side for side, (code, _) in LATERALITY_CODES.items()}

# TNM as mCODE codes it: LOINC for clinical and pathologic (the binder's two bases),
# SNOMED's plain "T category" when no basis is given. (letter, basis) -> (system, code).
TNM_CODES: dict[tuple[str, StagingBasis | None], tuple[str, str, str]] = {
    ("T", StagingBasis.CLINICAL): (LOINC, "21905-5", "Primary tumor.clinical [Class] Cancer"),
    ("N", StagingBasis.CLINICAL): (
        LOINC,
        "21906-3",
        "Regional lymph nodes.clinical [Class] Cancer",
    ),
    ("M", StagingBasis.CLINICAL): (LOINC, "21907-1", "Distant metastases.clinical [Class] Cancer"),
    ("stage", StagingBasis.CLINICAL): (LOINC, "21908-9", "Stage group.clinical Cancer"),
    ("T", StagingBasis.PATHOLOGIC): (LOINC, "21899-0", "Primary tumor.pathology Cancer"),
    ("N", StagingBasis.PATHOLOGIC): (LOINC, "21900-6", "Regional lymph nodes.pathology Cancer"),
    ("M", StagingBasis.PATHOLOGIC): (LOINC, "21901-4", "Distant metastases.pathology Cancer"),
    ("stage", StagingBasis.PATHOLOGIC): (LOINC, "21902-2", "Stage group.pathology Cancer"),
    ("T", None): (SNOMED, "78873005", "T category"),
    ("N", None): (SNOMED, "277206009", "N category"),
    ("M", None): (SNOMED, "277208005", "M category"),
    ("stage", None): (STAGING, "stage-group", "Stage group"),
}
# Read back, with mCODE STU3's SNOMED c/p codes too.
TNM_OF: dict[str, tuple[str, StagingBasis | None]] = {
    code: key for key, (_, code, _) in TNM_CODES.items()
} | {
    "399504009": ("T", StagingBasis.CLINICAL),
    "384625004": ("T", StagingBasis.PATHOLOGIC),
    "399534004": ("N", StagingBasis.CLINICAL),
    "371494008": ("N", StagingBasis.PATHOLOGIC),
    "399387003": ("M", StagingBasis.CLINICAL),
    "371497001": ("M", StagingBasis.PATHOLOGIC),
    "21914-7": ("stage", None),  # Stage group.other Cancer
    "21911-3": ("T", None),  # Primary tumor.other [Class] Cancer
}
# The AJCC manual, as mCODE names it in a staging observation's method.
AJCC_CODES = {
    8: ("897275008", "American Joint Commission on Cancer, Cancer Staging Manual, 8th edition"),
    7: ("443830009", "American Joint Commission on Cancer, Cancer Staging Manual, 7th edition"),
}
AJCC_OF = {code: edition for edition, (code, _) in AJCC_CODES.items()}
GRADE = ("33732-9", "Histology grade [Identifier] in Cancer specimen")
ECOG = ("89247-1", "ECOG Performance Status score")
# LOINC answers for ECOG 0-4 (LA9627-6, 5, is death: not a performance status to keep).
ECOG_ANSWERS = {"LA9622-7": 0, "LA9623-5": 1, "LA9624-3": 2, "LA9625-0": 3, "LA9626-8": 4}
# Observations that are facts of an opinion, never results.
OPINION_FACTS = frozenset({*(c for _, c, _ in TNM_CODES.values()), *TNM_OF, GRADE[0], ECOG[0]})

# IPS "none known" statements. "No known drug/food allergy" is narrower than "no known
# allergies", so it does not state the binder's "no known allergies".
NO_KNOWN_ALLERGIES = {(SNOMED, "716186003"), (IPS_ABSENT, "no-known-allergies")}
NO_ALLERGY_INFO = {(IPS_ABSENT, "no-allergy-info")}
NO_KNOWN_MEDICATIONS = {(SNOMED, "787481004"), (IPS_ABSENT, "no-known-medications")}
NO_MEDICATION_INFO = {(IPS_ABSENT, "no-medication-info")}

# Interpretations (HL7 v3 ObservationInterpretation) both ways.
INTERPRETATION_OUT: dict[Interpretation, str] = {
    Interpretation.POSITIVE: "POS",
    Interpretation.NEGATIVE: "NEG",
    Interpretation.HIGH: "H",
    Interpretation.LOW: "L",
    Interpretation.NORMAL: "N",
    Interpretation.ABNORMAL: "A",
}
INTERPRETATION_IN: dict[str, Interpretation] = {
    **{code: kind for kind, code in INTERPRETATION_OUT.items()},
    "HH": Interpretation.HIGH,
    "HU": Interpretation.HIGH,
    "H>": Interpretation.HIGH,
    "LL": Interpretation.LOW,
    "LU": Interpretation.LOW,
    "L<": Interpretation.LOW,
    "AA": Interpretation.ABNORMAL,
    "DET": Interpretation.POSITIVE,
    "ND": Interpretation.NEGATIVE,
}

ALLERGY_CATEGORY_IN = {
    "medication": AllergyKind.MEDICATION,
    "food": AllergyKind.FOOD,
    "environment": AllergyKind.ENVIRONMENT,
    "biologic": AllergyKind.OTHER,
}
ALLERGY_CATEGORY_OUT = {
    kind: code for code, kind in ALLERGY_CATEGORY_IN.items() if kind is not AllergyKind.OTHER
}

# Treatments: the kinds a Procedure carries (the rest are medicines: MedicationStatement).
PROCEDURE_KINDS = frozenset(
    {TreatmentKind.SURGERY, TreatmentKind.RADIATION, TreatmentKind.TRANSPLANT, TreatmentKind.OTHER}
)
PROCEDURE_CATEGORY = {
    TreatmentKind.SURGERY: ("387713003", "Surgical procedure"),
    TreatmentKind.RADIATION: ("108290001", "Radiation oncology AND/OR radiotherapy"),
}

__all__ = ["MedicationKind", "TreatmentKind"]
