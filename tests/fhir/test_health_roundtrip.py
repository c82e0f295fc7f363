"""The health facts out and back: a binder with medications, allergies, other conditions,
treatments, results and opinions with structured cancer facts is exported (IPS- and
mCODE-shaped, every resource valid R4B), imported into an empty binder, and compared
field by field. The "none known" statements travel the same way."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle
from sqlalchemy.orm import Session

from carebinder.choices import (
    AllergyKind,
    Interpretation,
    Laterality,
    MedicationKind,
    RecordKind,
    Severity,
    TreatmentKind,
)
from carebinder.db import session_scope
from carebinder.fhir import read
from carebinder.fhir.exporter import export_bundle
from carebinder.fhir.importer import Summary
from carebinder.models import Patient
from carebinder.services import (
    allergies,
    conditions,
    doctors,
    medications,
    opinions,
    patients,
    records,
    results,
    treatments,
)
from tests.fhir.fhirkit import Binder, new_binder, row_counts, run_import

Resource = dict[str, Any]
HEALTH = ("medication", "allergy", "condition", "treatment", "result", "opinion")
TODAY = date.today()


def build(s: Session, store: Any) -> None:
    """Ana's binder with every kind of health fact, and edge cases of each."""
    ana = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
    bell = doctors.add_doctor(s, ana.id, name="Dr. Marcus Bell", specialty="Breast surgery")
    chen = doctors.add_doctor(s, ana.id, name="Dr. Wei Chen", specialty="Medical oncology")
    park = doctors.add_doctor(s, ana.id, name="Dr. Ruth Park")
    biopsy = records.add_record(
        s, store, ana.id, kind=RecordKind.PATHOLOGY, title="Core biopsy", date=date(2026, 1, 5)
    )
    opinions.add_opinion(
        s,
        ana.id,
        doctor=bell.id,
        diagnosis="Invasive ductal carcinoma",
        date=date(2026, 1, 10),
        stage="IA",
        site="Breast, upper outer quadrant",
        laterality=Laterality.LEFT,
        histology="Invasive ductal carcinoma, NOS",
        grade="2",
        t="cT1c",
        n="N0",
        m="M0",
        ajcc_edition=8,
        ecog=0,
        records=[biopsy.id],
    )
    opinions.add_opinion(
        s,
        ana.id,
        doctor=chen.id,
        diagnosis="Invasive ductal carcinoma, ER+/PR+/HER2-",
        date=date(2026, 2, 2),
        stage="IIA",
        plan="Lumpectomy, then radiation and endocrine therapy",
        notes="Reviewed the slides.",
        laterality=Laterality.BILATERAL,
        histology="Invasive ductal carcinoma",
        grade="G3",
        t="pT2",
        n="pN1a",
        m="M0",
        ajcc_edition=7,
        ecog=1,
    )
    opinions.add_opinion(  # no basis, an edition alone, no site
        s, ana.id, doctor=park.id, diagnosis="Breast cancer", t="T2", ajcc_edition=6
    )
    medications.add_medication(
        s,
        ana.id,
        name="Letrozole",
        dose="2.5 mg",
        how="by mouth, once a day",
        started=date(2026, 2, 15),
        reason="breast cancer",
        prescriber=chen.id,
        notes="Take with food.",
    )
    medications.add_medication(
        s, ana.id, name="Vitamin D3", dose="1000 IU", kind=MedicationKind.SUPPLEMENT
    )
    medications.add_medication(
        s, ana.id, name="Ibuprofen", how="as needed", kind=MedicationKind.OVER_THE_COUNTER
    )
    medications.add_medication(
        s, ana.id, name="Amoxicillin", started=date(2025, 5, 1), stopped=date(2025, 5, 10)
    )
    medications.add_medication(  # stops in the future: still current
        s, ana.id, name="Ondansetron", stopped=TODAY + timedelta(days=20)
    )
    allergies.add_allergy(
        s,
        ana.id,
        substance="Penicillin",
        reaction="hives, swelling",
        severity=Severity.SEVERE,
        kind=AllergyKind.MEDICATION,
        notes="Since childhood.",
    )
    allergies.add_allergy(s, ana.id, substance="Latex", severity=Severity.MODERATE)
    allergies.add_allergy(s, ana.id, substance="Bee stings", kind=AllergyKind.OTHER)
    allergies.add_allergy(s, ana.id, substance="Peanut allergy", kind=AllergyKind.FOOD)
    conditions.add_condition(s, ana.id, name="Type 2 diabetes", since=date(2015, 3, 1))
    conditions.add_condition(
        s, ana.id, name="Basal cell carcinoma of the skin", notes="Removed in 2010."
    )
    treatments.add_treatment(
        s,
        ana.id,
        kind=TreatmentKind.SURGERY,
        name="Lumpectomy with sentinel node biopsy",
        started=date(2026, 3, 1),
        ended=date(2026, 3, 1),
        doctor=bell.id,
        response="Clear margins",
    )
    treatments.add_treatment(
        s,
        ana.id,
        kind=TreatmentKind.CHEMOTHERAPY,
        name="AC-T",
        started=date(2026, 3, 20),
        doctor=chen.id,
        response="Partial response",
        notes="Cycle 3 delayed a week.",
    )
    treatments.add_treatment(s, ana.id, kind=TreatmentKind.RADIATION, name="Whole breast RT")
    treatments.add_treatment(s, ana.id, kind=TreatmentKind.HORMONE_THERAPY, name="Tamoxifen")
    treatments.add_treatment(s, ana.id, kind=TreatmentKind.OTHER, name="Cold cap")
    for name, value, unit, on, how in (
        ("CA 15-3", "32", "U/mL", date(2026, 1, 5), Interpretation.NORMAL),
        ("CA 15-3", "41.5", "U/mL", date(2026, 2, 5), Interpretation.HIGH),
        ("Ki-67", "<5", "%", date(2026, 1, 5), Interpretation.LOW),
        ("ER", "positive", None, date(2026, 1, 5), Interpretation.POSITIVE),
        ("HER2", "1+", "IHC score", None, Interpretation.NEGATIVE),
        ("BRCA1", "c.68_69delAG", None, None, Interpretation.ABNORMAL),
        ("CEA", "1,200", "ng/mL", None, None),
        ("Hemoglobin", "12.50", "g/dL", None, None),
        ("PSA", "0.04", None, None, None),
    ):
        results.add_result(
            s,
            ana.id,
            name=name,
            value=value,
            unit=unit,
            on=on,
            interpretation=how,
            record=biopsy.id if name == "ER" else None,
            notes="From the biopsy." if name == "ER" else None,
        )


@dataclass
class Trip:
    a: Binder
    b: Binder
    bundle: Resource
    back: Resource
    summary: Summary


def _patient(s: Session) -> Patient:
    (patient,) = patients.list_patients(s)
    return patient


def _export(binder: Binder) -> Resource:
    with session_scope(binder.engine, write=False) as s:
        bundle, _ = export_bundle(s, binder.store, _patient(s))
    return bundle


def _import(binder: Binder, bundle: Resource, folder: Path) -> Summary:
    path = folder / "exported.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return run_import(binder.engine, binder.store, read.load(path))


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trip]:
    folder = tmp_path_factory.mktemp("health-trip")
    a, b = new_binder(folder / "a"), new_binder(folder / "b")
    with session_scope(a.engine) as s:
        build(s, a.store)
    bundle = _export(a)
    summary = _import(b, bundle, folder)
    yield Trip(a, b, bundle, _export(b), summary)
    a.engine.dispose()
    b.engine.dispose()


def resources(bundle: Resource, kind: str) -> list[Resource]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def health_json(s: Session) -> dict[str, Any]:
    """Each service's JSON of the health facts, ids replaced by what they name."""
    pid = _patient(s).id

    def plain(rows: list[dict[str, Any]], *drop: str) -> list[dict[str, Any]]:
        kept = [{k: v for k, v in row.items() if k not in ("id", *drop)} for row in rows]
        return sorted(kept, key=lambda row: json.dumps(row, sort_keys=True))

    return {
        "medications": plain(
            [medications.to_json(m) for m in medications.list_medications(s, pid)], "prescriber"
        ),
        "allergies": plain([allergies.to_json(a) for a in allergies.list_allergies(s, pid)]),
        "conditions": plain([conditions.to_json(c) for c in conditions.list_conditions(s, pid)]),
        "treatments": plain(
            [treatments.to_json(t) for t in treatments.list_treatments(s, pid)], "doctor"
        ),
        "results": plain(
            [
                {**results.to_json(r), "record": r.record.title if r.record else None}
                for r in results.list_results(s, pid)
            ]
        ),
        "opinions": plain(
            [opinions.to_json(o) for o in opinions.list_opinions(s, pid)], "doctor", "records"
        ),
    }


def test_every_resource_validates_with_r4b(trip: Trip) -> None:
    for bundle in (trip.bundle, trip.back):
        R4BBundle.model_validate(bundle)
    kinds = Counter(e["resource"]["resourceType"] for e in trip.bundle["entry"])
    assert kinds["MedicationStatement"] == 5 + 2  # medications; chemotherapy, hormone therapy
    assert kinds["AllergyIntolerance"] == 4
    assert kinds["Procedure"] == 3  # surgery, radiation, other
    # 9 results; T, N, M, stage group, grade, ECOG twice; a T (with its AJCC edition)
    assert kinds["Observation"] == 9 + 6 * 2 + 1
    assert kinds["Condition"] == 2 + 1  # the comorbidities and the latest opinion's


def test_the_round_trip_gives_back_every_health_fact(trip: Trip) -> None:
    with session_scope(trip.a.engine, write=False) as s:
        before = health_json(s)
    with session_scope(trip.b.engine, write=False) as s:
        after = health_json(s)
    for part in before:
        assert after[part] == before[part], part
    assert len(before["medications"]) == 5 and len(before["results"]) == 9
    assert {o["tnm"] for o in before["opinions"]} == {"cT1c cN0 cM0", "pT2 pN1a cM0", "T2"}
    counts_a, counts_b = row_counts(trip.a.engine), row_counts(trip.b.engine)
    assert {k: counts_a[k] for k in HEALTH} == {k: counts_b[k] for k in HEALTH}


def test_the_round_trip_summary_skips_nothing(trip: Trip) -> None:
    assert trip.summary.skipped == Counter()
    imported = {k: v for k, v in trip.summary.imported.items() if v}
    assert imported == {
        "patient": 1,
        "doctor": 3,
        "record": 1,
        "opinion": 3,
        "medication": 5,
        "allergy": 4,
        "condition": 2,
        "treatment": 5,
        "result": 9,
    }


def test_prescribers_and_doctors_come_back(trip: Trip) -> None:
    with session_scope(trip.b.engine, write=False) as s:
        pid = _patient(s).id
        letrozole = next(m for m in medications.list_medications(s, pid) if m.name == "Letrozole")
        assert letrozole.prescriber is not None and letrozole.prescriber.name == "Dr. Wei Chen"
        surgery = treatments.list_treatments(s, pid)[0]
        assert surgery.doctor is not None and surgery.doctor.name == "Dr. Marcus Bell"


def test_the_cancer_condition_is_mcode_shaped(trip: Trip) -> None:
    (condition,) = [
        c for c in resources(trip.bundle, "Condition") if "meta" in c
    ]  # the latest opinion's
    assert condition["meta"]["profile"] == [
        "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"
    ]
    plans = resources(trip.bundle, "CarePlan")
    (earlier,) = [p for p in plans if "Dr. Marcus Bell" in p["title"]]
    contained = earlier["contained"][0]
    assert contained["bodySite"][0]["text"] == "Breast, upper outer quadrant"
    side = contained["bodySite"][0]["extension"][0]
    assert side["url"].endswith("mcode-laterality-qualifier")
    assert side["valueCodeableConcept"]["coding"][0]["code"] == "7771000"  # left
    histology = contained["extension"][0]
    assert histology["url"].endswith("mcode-histology-morphology-behavior")
    assert histology["valueCodeableConcept"] == {"text": "Invasive ductal carcinoma, NOS"}


def _codes(observation: Resource) -> set[str]:
    return {c["code"] for c in observation["code"].get("coding", [])}


def test_staging_codes_tell_clinical_from_pathologic(trip: Trip) -> None:
    by_url = {e["fullUrl"]: e["resource"] for e in trip.bundle["entry"]}
    found: dict[str, dict[str, str]] = {}
    for plan in resources(trip.bundle, "CarePlan"):
        facts = [by_url[r["reference"]] for r in plan.get("supportingInfo", [])]
        found[plan["title"]] = {
            next(iter(_codes(o))): o.get("valueCodeableConcept", {}).get("text")
            or str(o.get("valueInteger"))
            for o in facts
            if o["resourceType"] == "Observation"
        }
    assert found["Opinion of Dr. Marcus Bell"] == {
        "21905-5": "cT1c",  # clinical T
        "21906-3": "cN0",
        "21907-1": "cM0",
        "21908-9": "IA",  # clinical stage group
        "33732-9": "2",  # grade
        "89247-1": "0",  # ECOG
    }
    assert found["Opinion of Dr. Wei Chen"] == {
        "21899-0": "pT2",  # pathologic T
        "21900-6": "pN1a",
        "21901-4": "cM0",  # a pathologic stage's M0 is written cM0
        "21902-2": "IIA",
        "33732-9": "G3",
        "89247-1": "1",
    }
    assert found["Opinion of Dr. Ruth Park"] == {"78873005": "T2"}  # SNOMED's plain T
    editions = {o["method"]["text"] for o in resources(trip.bundle, "Observation") if "method" in o}
    assert editions == {"AJCC 8th edition", "AJCC 7th edition", "AJCC 6th edition"}


def test_medications_allergies_and_results_are_ips_shaped(trip: Trip) -> None:
    statements = {
        s["medicationCodeableConcept"]["text"]: s
        for s in resources(trip.bundle, "MedicationStatement")
    }
    letrozole = statements["Letrozole"]
    assert letrozole["status"] == "active"
    assert letrozole["dosage"][0]["text"] == "2.5 mg; by mouth, once a day"
    assert letrozole["effectivePeriod"] == {"start": "2026-02-15"}
    assert statements["Amoxicillin"]["status"] == "completed"
    assert statements["Ondansetron"]["status"] == "active"
    assert statements["AC-T"]["category"]["coding"][0]["code"] == "chemotherapy"
    penicillin = next(
        a for a in resources(trip.bundle, "AllergyIntolerance") if a["code"]["text"] == "Penicillin"
    )
    assert penicillin["criticality"] == "high"
    assert penicillin["category"] == ["medication"]
    assert penicillin["reaction"] == [
        {"manifestation": [{"text": "hives, swelling"}], "severity": "severe"}
    ]
    values = {
        o["code"]["text"]: o.get("valueQuantity") or o.get("valueString")
        for o in resources(trip.bundle, "Observation")
        if "text" in o["code"]
    }
    assert values["Ki-67"] == {"value": 5, "unit": "%", "comparator": "<"}
    assert values["CEA"] == "1,200"  # not a FHIR decimal: kept as written
    assert values["Hemoglobin"] == "12.50"  # a decimal would lose its last zero
    assert values["PSA"] == "0.04"  # a number without a unit
    assert values["ER"] == "positive"


def test_importing_the_export_again_adds_nothing(trip: Trip, tmp_path: Path) -> None:
    before = row_counts(trip.b.engine)
    again = _import(trip.b, trip.bundle, tmp_path)
    assert row_counts(trip.b.engine) == before
    assert {k: v for k, v in again.imported.items() if v} == {}
    assert again.already["medication"] == 5 and again.already["result"] == 9
    assert again.skipped == Counter()


def test_the_none_known_statements_travel(tmp_path: Path) -> None:
    a, b = new_binder(tmp_path / "a"), new_binder(tmp_path / "b")
    with session_scope(a.engine) as s:
        ana = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        allergies.state_none(s, ana, on=date(2026, 1, 3))
        medications.state_none(s, ana, on=date(2026, 1, 4))
    bundle = _export(a)
    R4BBundle.model_validate(bundle)
    (statement,) = resources(bundle, "AllergyIntolerance")
    assert {c["code"] for c in statement["code"]["coding"]} == {
        "no-known-allergies",
        "716186003",
    }
    (taken,) = resources(bundle, "MedicationStatement")
    assert {c["code"] for c in taken["medicationCodeableConcept"]["coding"]} == {
        "no-known-medications",
        "787481004",
    }
    summary = _import(b, bundle, tmp_path)
    assert summary.imported["no_allergies"] == summary.imported["no_medications"] == 1
    assert summary.skipped == Counter()
    with session_scope(b.engine, write=False) as s:
        patient = _patient(s)
        assert patient.no_allergies_on == date(2026, 1, 3)
        assert patient.no_medications_on == date(2026, 1, 4)
    again = _import(b, bundle, tmp_path)
    assert again.already["no_allergies"] == again.already["no_medications"] == 1
    a.engine.dispose()
    b.engine.dispose()
