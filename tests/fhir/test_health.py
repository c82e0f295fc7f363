"""The rules of the health facts' import, on small bundles built by hand: conditions vs
social findings, the "none known" statements and their refusals, when a medication
stopped, cancer medicines and procedures, another system's mCODE staging, markers."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carebinder.choices import Laterality, StagingBasis, TreatmentKind
from carebinder.db import session_scope
from carebinder.fhir import clinical
from carebinder.services import allergies, medications, opinions, patients, treatments
from carebinder.services.markers import is_cancer_marker
from carebinder.store import Store
from tests.fhir.fhirkit import (
    bundle_doc,
    new_id,
    parsed,
    patient_resource,
    practitioner,
    ref,
    row_counts,
    run_import,
)

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def _condition(display: str, code: str = "1", status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": status,
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("display", "code", "status", "kind"),
    [
        ("Full-time employment (finding)", "160903007", "active", "social"),
        ("Medication review due (situation)", "314529007", "active", "social"),
        ("Received higher education (finding)", "224299000", "active", "social"),
        ("Stress (finding)", "73595000", "active", "social"),
        ("Fatigue (finding)", "84229001", "active", "finding"),
        ("Body mass index 30+ - obesity (finding)", "162864005", "active", "condition"),
        ("Chronic pain (finding)", "82423001", "active", "condition"),
        ("Hypertension (disorder)", "59621000", "active", "condition"),
        ("Prediabetes", "15777000", "active", "condition"),
        ("Viral sinusitis (disorder)", "444814009", "resolved", "resolved"),
        ("Neoplasm of prostate", "126906006", "active", "cancer"),
        ("Malignant neoplasm of breast (disorder)", "9", "active", "cancer"),
        ("Benign neoplasm of skin (disorder)", "9", "active", "condition"),
    ],
)
def test_conditions_and_social_findings(display: str, code: str, status: str, kind: str) -> None:
    found, reason = clinical.condition_kind(_condition(display, code, status))
    expected = {
        "social": (None, clinical.SOCIAL_REASON),
        "finding": (None, clinical.FINDING_REASON),
        "resolved": (None, clinical.RESOLVED_REASON),
        "condition": (clinical.CONDITION, None),
        "cancer": (clinical.CANCER, None),
    }[kind]
    assert (found, reason) == expected


def test_medicines_and_procedures_that_treat_the_cancer() -> None:
    assert clinical.drug_kind("1 ML DOCEtaxel 20 MG/ML Injection") is TreatmentKind.CHEMOTHERAPY
    assert clinical.drug_kind("Letrozole 2.5 MG Oral Tablet") is TreatmentKind.HORMONE_THERAPY
    assert clinical.drug_kind("pembrolizumab 25 MG/ML") is TreatmentKind.IMMUNOTHERAPY
    assert clinical.drug_kind("Methotrexate 2.5 MG") is None
    assert clinical.drug_kind("Simvastatin 10 MG") is None
    cancer = {**_condition("Neoplasm of prostate", "126906006"), "id": "c1"}
    bundle = parsed(bundle_doc(cancer))
    operation = {"code": {"text": "Prostatectomy"}, "reasonReference": [ref(cancer)]}
    biopsy = {"code": {"text": "Biopsy of prostate"}, "reasonReference": [ref(cancer)]}
    radiation = {"code": {"coding": [{"system": SNOMED, "code": "33195004"}], "text": "RT"}}
    assert clinical.procedure_kind(bundle, operation) is TreatmentKind.SURGERY
    assert clinical.procedure_kind(bundle, biopsy) is None
    assert clinical.procedure_kind(bundle, radiation) is TreatmentKind.RADIATION
    assert clinical.procedure_kind(bundle, {"code": {"text": "Colonoscopy"}}) is None


def test_cancer_markers_by_loinc_and_by_name() -> None:
    for name in ("ER", "HER2/neu", "HER-2", "Ki-67", "Ki67", "CA 19-9", "CA19-9", "CA-125"):
        assert is_cancer_marker(name), name
    assert is_cancer_marker("Prostate specific Ag [Mass/volume] in Serum or Plasma")
    assert is_cancer_marker("anything", "2857-1")
    assert is_cancer_marker("BRCA1 c.68_69delAG")
    for name in ("Glucose", "Hemoglobin", "Creatinine", "Neutrophils", "Calcium"):
        assert not is_cancer_marker(name), name


def _allergy(patient: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": new_id(), "patient": ref(patient), **extra}


NKA = {
    "coding": [{"system": SNOMED, "code": "716186003", "display": "No known allergy"}],
}


def test_no_known_allergies_is_stated_on_its_day(engine: Engine, store: Store) -> None:
    ana = patient_resource()
    statement = _allergy(ana, code=NKA, recordedDate="2025-11-02")
    summary = run_import(engine, store, parsed(bundle_doc(ana, statement)))
    assert summary.imported["no_allergies"] == 1 and summary.skipped == Counter()
    with session_scope(engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        assert patient.no_allergies_on == date(2025, 11, 2)


def test_no_known_allergies_beside_an_allergy_is_refused_and_nothing_changes(
    engine: Engine, store: Store
) -> None:
    """The file contradicts itself: the allergy is kept, the statement skipped, saying why."""
    ana = patient_resource()
    fish = _allergy(ana, code={"text": "Fish"})
    statement = _allergy(ana, code=NKA)
    summary = run_import(engine, store, parsed(bundle_doc(ana, fish, statement)))
    assert summary.skipped == Counter(
        {
            (
                "AllergyIntolerance",
                "it could not be kept (1 allergy is recorded (Fish). Remove it first if it"
                " was recorded by mistake.)",
            ): 1
        }
    )
    with session_scope(engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        assert patient.no_allergies_on is None
        assert [a.substance for a in allergies.list_allergies(s, patient.id)] == ["Fish"]
    before = row_counts(engine)
    again = run_import(engine, store, parsed(bundle_doc(ana, fish, statement)))
    assert row_counts(engine) == before
    assert sum(again.skipped.values()) == 1


def test_no_information_is_not_recorded(engine: Engine, store: Store) -> None:
    ana = patient_resource()
    ips = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
    unknown = _allergy(ana, code={"coding": [{"system": ips, "code": "no-allergy-info"}]})
    summary = run_import(engine, store, parsed(bundle_doc(ana, unknown)))
    assert summary.skipped == Counter(
        {
            (
                "AllergyIntolerance",
                'it says nothing is known about allergies: the binder shows "not recorded"',
            ): 1
        }
    )


def _request(patient: dict[str, Any], name: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": new_id(),
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"text": name},
        "subject": ref(patient),
        **extra,
    }


def test_when_a_medication_stopped(engine: Engine, store: Store) -> None:
    ana = patient_resource()
    doctor = practitioner()
    resources = [
        ana,
        doctor,
        _request(
            ana,
            "Metformin 500 MG",
            "completed",
            authoredOn="2024-01-05",
            dispenseRequest={"validityPeriod": {"start": "2024-01-05", "end": "2024-07-05"}},
            requester=ref(doctor),
            dosageInstruction=[
                {
                    "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                    "route": {"text": "by mouth"},
                    "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg"}}],
                }
            ],
        ),
        _request(ana, "Cefalexin", "stopped", authoredOn="2023-03-01"),
        _request(ana, "Never taken", "cancelled", authoredOn="2023-03-01"),
        _request(ana, "Aspirin 81 MG", "active", authoredOn="2022-09-09"),
    ]
    summary = run_import(engine, store, parsed(bundle_doc(*resources)))
    assert summary.imported["medication"] == 3
    assert summary.skipped == Counter({("MedicationRequest", "never taken (status cancelled)"): 1})
    with session_scope(engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        found = {m.name: m for m in medications.list_medications(s, patient.id)}
        metformin = found["Metformin 500 MG"]
        assert (metformin.started, metformin.stopped) == (date(2024, 1, 5), date(2024, 7, 5))
        assert (metformin.dose, metformin.how) == ("500 mg", "by mouth, twice a day")
        assert metformin.prescriber is not None and metformin.prescriber.name == "Dr. Carol Weimann"
        cefalexin = found["Cefalexin"]
        assert cefalexin.stopped == cefalexin.started == date(2023, 3, 1)
        assert medications.is_current(found["Aspirin 81 MG"])


def test_another_systems_mcode_staging(engine: Engine, store: Store, session: Session) -> None:
    ana = patient_resource()
    doctor = practitioner()
    cancer = {
        "resourceType": "Condition",
        "id": new_id(),
        "meta": {
            "profile": [
                "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"
            ]
        },
        "code": {"text": "Adenocarcinoma of lung"},
        "subject": ref(ana),
        "asserter": ref(doctor),
        "recordedDate": "2025-04-01",
        "bodySite": [
            {
                "text": "Upper lobe of lung",
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier",
                        "valueCodeableConcept": {
                            "coding": [{"system": SNOMED, "code": "24028007"}]
                        },
                    }
                ],
            }
        ],
    }

    def fact(system: str, code: str, **value: Any) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": new_id(),
            "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": ref(ana),
            "focus": [ref(cancer)],
            **value,
        }

    eighth = {"coding": [{"system": SNOMED, "code": "897275008"}]}
    observations = [
        fact(
            SNOMED,
            "384625004",  # pT category
            valueCodeableConcept={
                "coding": [
                    {
                        "system": SNOMED,
                        "code": "1228938002",
                        "display": "American Joint Committee on Cancer pT2a (qualifier value)",
                    }
                ]
            },
            method=eighth,
        ),
        fact(LOINC, "21900-6", valueCodeableConcept={"text": "pN0"}),
        fact(
            LOINC,
            "89247-1",
            valueCodeableConcept={"coding": [{"system": LOINC, "code": "LA9623-5"}]},
        ),
    ]
    summary = run_import(engine, store, parsed(bundle_doc(ana, doctor, cancer, *observations)))
    assert summary.skipped == Counter()
    with session_scope(engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        (opinion,) = opinions.list_opinions(s, patient.id)
        assert (opinion.site, opinion.laterality) == ("Upper lobe of lung", Laterality.RIGHT)
        assert (opinion.t_category, opinion.n_category) == ("T2a", "N0")
        assert opinion.staging is StagingBasis.PATHOLOGIC
        assert (opinion.ajcc_edition, opinion.ecog) == (8, 1)
        assert treatments.list_treatments(s, patient.id) == []


def test_an_imported_cancer_marker_joins_the_values_typed_by_hand(
    engine: Engine, store: Store
) -> None:
    from carebinder.services import results

    ana = patient_resource()
    long_name = "Cancer Ag 15-3 [Units/volume] in Serum or Plasma"
    lab = {
        "resourceType": "Observation",
        "id": new_id(),
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": "6875-9", "display": long_name}]},
        "subject": ref(ana),
        "effectiveDateTime": "2026-03-01",
        "valueQuantity": {"value": 45, "unit": "U/mL"},
    }
    run_import(engine, store, parsed(bundle_doc(ana, lab)))
    with session_scope(engine) as s:
        (patient,) = patients.list_patients(s)
        results.add_result(
            s, patient.id, name="CA15-3", value="30", unit="U/mL", on=date(2026, 1, 5)
        )
    with session_scope(engine, write=False) as s:
        (trend,) = results.trends(results.list_results(s, patient.id))
        assert [(r.value, r.taken_on) for r in trend.values] == [
            ("30", date(2026, 1, 5)),
            ("45", date(2026, 3, 1)),
        ]
        imported = trend.values[1]
        assert imported.name == "CA 15-3"
        assert imported.notes == f"Test: {long_name}."
