"""`export_bundle`: a patient's binder as a FHIR R4 collection Bundle, and the round trip
export → import into an empty binder → export again.

The rich binder (the demo case plus a few rows it lacks) is built, exported and round-tripped
once per module; tests only read it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carebinder import config, demo
from carebinder.choices import (
    AppointmentStatus,
    DoctorRole,
    MaterialKind,
    MaterialStatus,
    Purpose,
    RecordKind,
    TreatmentKind,
)
from carebinder.db import session_scope
from carebinder.fhir import read
from carebinder.fhir.exporter import export_bundle
from carebinder.fhir.importer import Summary
from carebinder.models import Opinion, Patient
from carebinder.services import (
    allergies,
    appointments,
    conditions,
    doctors,
    materials,
    medications,
    opinions,
    patients,
    questions,
    records,
    results,
    treatments,
)
from carebinder.store import Store
from tests.fhir.fhirkit import (
    VALID_NPI,
    Binder,
    new_binder,
    row_counts,
    run_import,
)
from tests.packet.pdfutil import text_pdf_bytes

Resource = dict[str, Any]
TODAY = date(2026, 3, 1)
ENTITIES = ("patient", "doctor", "record", "file", "opinion", "appointment", "question", "material")


def add_extras(s: Session, store: Store, folder: Path) -> None:
    """What the demo binder lacks: an NPI, doctor notes, a record without date or doctor,
    one with two files of two kinds, a cancelled visit abroad, an unattached question and a
    returned material."""
    (patient,) = patients.list_patients(s)
    chen = next(d for d in doctors.list_doctors(s, patient.id) if d.name == "Dr. Wei Chen")
    ortiz = doctors.add_doctor(
        s,
        patient.id,
        name="Dr. Lena Ortiz",
        specialty="Radiation oncology",
        institution="Northeastern Cancer Institute",
        role=DoctorRole.THIRD_OPINION,
        email="ortiz@nci.example.org",
        address="450 Longwood Ave\nBoston, MA 02215",
        npi=VALID_NPI,
        notes="Prefers fax.\nAsk for Maria at the front desk.",
        referred_by=chen.id,
    )
    records.add_record(
        s,
        store,
        patient.id,
        kind=RecordKind.OTHER,
        title="Insurance letter",
        notes="Line one\nLine two",
    )
    pdf = folder / "ct-report.pdf"
    pdf.write_bytes(text_pdf_bytes(["CT page 1", "CT page 2"]))
    text = folder / "radiologist-notes.txt"
    text.write_text("Nodule unchanged since the last study.\n", encoding="utf-8")
    records.add_record(
        s,
        store,
        patient.id,
        kind=RecordKind.IMAGING,
        title="CT chest",
        date=date(2026, 2, 20),
        doctor=ortiz.id,
        files=[pdf, text],
    )
    visit = appointments.add_appointment(
        s,
        patient.id,
        doctor=ortiz.id,
        starts_at=datetime(2026, 4, 2, 14, 15, tzinfo=ZoneInfo("Europe/Paris")),
        time_zone="Europe/Paris",
        purpose=Purpose.THIRD_OPINION,
        notes="Moved to May at their request.",
    )
    appointments.edit_appointment(s, visit, status=AppointmentStatus.CANCELLED)
    questions.add_question(s, patient.id, text="Should I keep taking vitamin D?")
    material = materials.add_material(
        s,
        patient.id,
        kind=MaterialKind.TISSUE_BLOCKS,
        description="Block A3",
        status=MaterialStatus.REQUESTED,
        on=date(2026, 1, 5),
    )
    materials.update_material(s, material, status=MaterialStatus.RETURNED, on=date(2026, 2, 27))


@dataclass
class RoundTrip:
    a: Binder
    b: Binder
    bundle: Resource  # of binder A
    again: Resource  # of binder A, a second time
    bare: Resource  # of binder A, data=False
    back: Resource  # of binder B, after importing `bundle`
    missing: list[str]
    summary: Summary


def _patient(s: Session) -> Patient:
    (patient,) = patients.list_patients(s)
    return patient


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoundTrip]:
    folder = tmp_path_factory.mktemp("round-trip")
    a, b = new_binder(folder / "a"), new_binder(folder / "b")
    extras = folder / "extras"
    extras.mkdir()
    with session_scope(a.engine) as s:
        demo.build(s, a.settings, today=TODAY)
        add_extras(s, a.store, extras)
    with session_scope(a.engine, write=False) as s:
        bundle, missing = export_bundle(s, a.store, _patient(s))
        again, _ = export_bundle(s, a.store, _patient(s))
        bare, _ = export_bundle(s, a.store, _patient(s), data=False)
    exported = folder / "ana-souza.json"
    exported.write_text(json.dumps(bundle), encoding="utf-8")
    summary = run_import(b.engine, b.store, read.load(exported))
    with session_scope(b.engine, write=False) as s:
        back, _ = export_bundle(s, b.store, _patient(s))
    yield RoundTrip(a, b, bundle, again, bare, back, missing, summary)
    a.engine.dispose()
    b.engine.dispose()


def resources(bundle: Resource, kind: str) -> list[Resource]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_url(bundle: Resource) -> dict[str, Resource]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


# --- the bundle -----------------------------------------------------------------------------


def test_export_validates_with_the_r4b_models(trip: RoundTrip) -> None:
    for bundle in (trip.bundle, trip.bare, trip.back):
        parsed = R4BBundle.model_validate(bundle)
        assert parsed.type == "collection"
        assert len(parsed.entry or []) == len(bundle["entry"])
    assert trip.missing == []


DRUG_KINDS = frozenset(
    {
        TreatmentKind.CHEMOTHERAPY,
        TreatmentKind.HORMONE_THERAPY,
        TreatmentKind.TARGETED_THERAPY,
        TreatmentKind.IMMUNOTHERAPY,
    }
)


def _staging_facts(opinion: Opinion) -> int:
    """How many Observations carry an opinion's structured facts."""
    return sum(
        (
            bool(opinion.t_category),
            bool(opinion.n_category),
            bool(opinion.m_category),
            bool(opinion.stage and opinion.staging),
            bool(opinion.grade),
            opinion.ecog is not None,
        )
    )


def test_export_holds_the_resources_of_the_binder(trip: RoundTrip) -> None:
    with session_scope(trip.a.engine, write=False) as s:
        pid = _patient(s).id
        counts = {
            "Patient": 1,
            "Practitioner": len(doctors.list_doctors(s, pid)),
            "PractitionerRole": len(doctors.list_doctors(s, pid)),
            "DocumentReference": len(records.list_records(s, pid)),
            "CarePlan": len(opinions.list_opinions(s, pid)),
            # of the latest opinion (earlier ones travel inside their plans), and each of
            # the other health problems
            "Condition": 1 + len(conditions.list_conditions(s, pid)),
            # each result; each opinion's grade, ECOG, T, N, M and stage group
            "Observation": len(results.list_results(s, pid))
            + sum(_staging_facts(o) for o in opinions.list_opinions(s, pid)),
            # medications, and the treatments that are medicines; the others are procedures
            "MedicationStatement": len(medications.list_medications(s, pid))
            + sum(t.kind in DRUG_KINDS for t in treatments.list_treatments(s, pid)),
            "Procedure": sum(t.kind not in DRUG_KINDS for t in treatments.list_treatments(s, pid)),
            "AllergyIntolerance": len(allergies.list_allergies(s, pid)),
            "Appointment": len(appointments.list_appointments(s, pid)),
            "Location": 1,  # the demo visit has a place; the cancelled one has none
            "Communication": len(questions.list_questions(s, pid)),
            "Task": len(materials.list_materials(s, pid)),
            "Coverage": 1,
            "Organization": 1,  # the insurer
        }
    assert counts["Practitioner"] == 6 and counts["DocumentReference"] == 7
    assert counts["CarePlan"] == 2 and counts["Communication"] == 6
    assert counts["Observation"] == 20 and counts["MedicationStatement"] == 6
    found = Counter(e["resource"]["resourceType"] for e in trip.bundle["entry"])
    assert dict(found) == counts


def test_every_entry_has_a_urn_uuid_full_url_matching_its_id(trip: RoundTrip) -> None:
    urls = [e["fullUrl"] for e in trip.bundle["entry"]]
    assert len(set(urls)) == len(urls)
    for entry in trip.bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"


def test_every_reference_resolves_inside_the_bundle(trip: RoundTrip) -> None:
    urls = set(by_url(trip.bundle))
    seen = []

    def walk(value: Any, resource: Resource) -> None:
        if isinstance(value, dict):
            target = value.get("reference")
            if isinstance(target, str):
                seen.append(target)
                if target.startswith("#"):
                    assert target[1:] in {c["id"] for c in resource.get("contained", [])}
                else:
                    assert target in urls, target
            for item in value.values():
                walk(item, resource)
        elif isinstance(value, list):
            for item in value:
                walk(item, resource)

    for entry in trip.bundle["entry"]:
        walk(entry["resource"], entry["resource"])
    assert len(seen) > 30


def test_patient_and_coverage(trip: RoundTrip) -> None:
    (patient,) = resources(trip.bundle, "Patient")
    assert patient["name"] == [{"use": "official", "text": "Ana Souza"}]
    assert patient["birthDate"] == "1964-04-12"
    assert patient["identifier"][0]["value"] == "MRN 004417-2"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    (coverage,) = resources(trip.bundle, "Coverage")
    assert coverage["subscriberId"] == "BHH-22871934"
    assert coverage["class"][0]["value"] == "PPO Select"
    (insurer,) = resources(trip.bundle, "Organization")
    assert by_url(trip.bundle)[coverage["payor"][0]["reference"]] is insurer
    assert insurer["name"] == "Blue Harbor Health"
    assert insurer["telecom"] == [{"system": "phone", "value": "(800) 555-0199"}]
    assert coverage["beneficiary"]["reference"] == f"urn:uuid:{patient['id']}"


def test_practitioner_and_role(trip: RoundTrip) -> None:
    people = by_url(trip.bundle)
    ortiz = next(p for p in resources(trip.bundle, "Practitioner") if "Ortiz" in str(p["name"]))
    assert ortiz["identifier"] == [{"system": "http://hl7.org/fhir/sid/us-npi", "value": VALID_NPI}]
    assert {"system": "email", "value": "ortiz@nci.example.org"} in ortiz["telecom"]
    (role,) = [
        r
        for r in resources(trip.bundle, "PractitionerRole")
        if people[r["practitioner"]["reference"]] is ortiz
    ]
    assert role["specialty"] == [{"text": "Radiation oncology"}]
    assert role["organization"] == {"display": "Northeastern Cancer Institute"}
    assert role["code"][0]["coding"][0]["code"] == "third-opinion"


def test_document_references_carry_size_type_hash_and_data(trip: RoundTrip) -> None:
    with session_scope(trip.a.engine, write=False) as s:
        stored = {
            f.original_name: (f.media_type, f.size, trip.a.store.path_for(f.sha256).read_bytes())
            for r in records.list_records(s, _patient(s).id)
            for f in r.files
        }
    assert len(stored) == 6
    attachments = [
        item["attachment"]
        for document in resources(trip.bundle, "DocumentReference")
        for item in document["content"]
        if "size" in item["attachment"]
    ]
    assert sorted(a["title"] for a in attachments) == sorted(stored)
    for attachment in attachments:
        media_type, size, content = stored[attachment["title"]]
        assert attachment["contentType"] == media_type
        assert attachment["size"] == size == len(content)
        assert attachment["hash"] == base64.b64encode(hashlib.sha1(content).digest()).decode()
        assert base64.b64decode(attachment["data"]) == content
    assert {a["contentType"] for a in attachments} >= {"application/pdf", "text/plain"}


def test_a_record_without_files_says_so(trip: RoundTrip) -> None:
    (letter,) = [
        d
        for d in resources(trip.bundle, "DocumentReference")
        if d["description"] == "Insurance letter"
    ]
    assert letter["content"] == [{"attachment": {"title": "Insurance letter"}}]
    assert "context" not in letter and "author" not in letter


def test_opinions_are_proposed_care_plans_and_the_latest_is_the_condition(
    trip: RoundTrip,
) -> None:
    plans = resources(trip.bundle, "CarePlan")
    assert {p["intent"] for p in plans} == {"proposal"}
    assert all("author" in p for p in plans)
    (condition,) = [
        c for c in resources(trip.bundle, "Condition") if "category" not in c
    ]  # the others are the problem list's
    with session_scope(trip.a.engine, write=False) as s:
        newest = opinions.latest(s, _patient(s).id)
        assert newest is not None
        assert condition["code"] == {"text": newest.diagnosis}
        assert condition["stage"] == [{"summary": {"text": newest.stage}}]
        assert newest.date is not None
        assert condition["recordedDate"] == newest.date.isoformat()
        current = [p for p in plans if p.get("description") == newest.plan]
    (plan,) = current
    assert plan["addresses"] == [{"reference": f"urn:uuid:{condition['id']}"}]
    (earlier,) = [p for p in plans if p is not plan]
    assert earlier["addresses"] == [{"reference": "#diagnosis"}]
    assert earlier["contained"][0]["resourceType"] == "Condition"


def test_questions_are_communications(trip: RoundTrip) -> None:
    found = resources(trip.bundle, "Communication")
    answered = [c for c in found if len(c["payload"]) == 2]
    (one,) = answered
    assert one["status"] == "completed"
    assert one["payload"][1] == {"contentString": "About two weeks before normal activity."}
    assert "sender" in one and "sent" in one
    assert {c["status"] for c in found if c not in answered} == {"preparation"}
    about = [c for c in found if "about" in c]
    assert len(about) == 4


def test_without_data_the_hash_and_size_stay(trip: RoundTrip) -> None:
    def attachments(bundle: Resource) -> list[Resource]:
        return [
            item["attachment"]
            for d in resources(bundle, "DocumentReference")
            for item in d["content"]
        ]

    full, bare = attachments(trip.bundle), attachments(trip.bare)
    assert not any("data" in a for a in bare)
    assert sum(1 for a in full if "data" in a) == 6
    assert [{k: v for k, v in a.items() if k != "data"} for a in full] == bare


def test_ids_are_the_same_in_every_export(trip: RoundTrip) -> None:
    assert trip.again["entry"] == trip.bundle["entry"]
    assert trip.bare["entry"][0] == trip.bundle["entry"][0]


def test_ids_differ_between_binders(trip: RoundTrip) -> None:
    assert not set(by_url(trip.bundle)) & set(by_url(trip.back))


def test_a_file_missing_from_the_store_is_reported(
    engine: Engine, store: Store, tmp_path: Path
) -> None:
    pdf = tmp_path / "biopsy.pdf"
    pdf.write_bytes(text_pdf_bytes(["Biopsy"]))
    with session_scope(engine) as s:
        patient = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        record = records.add_record(
            s, store, patient.id, kind=RecordKind.PATHOLOGY, title="Biopsy", files=[pdf]
        )
        digest = record.files[0].sha256
    store.path_for(digest).unlink()
    with session_scope(engine, write=False) as s:
        bundle, left_out = export_bundle(s, store, _patient(s))
    assert [(f.name, f.record, f.file, f.kind) for f in left_out] == [
        ("biopsy.pdf", record.id, record.files[0].id, "blob_missing")
    ]
    (document,) = resources(bundle, "DocumentReference")
    assert document["content"] == [
        {
            "attachment": {
                "contentType": "application/pdf",
                "title": "biopsy.pdf",
                "size": pdf.stat().st_size,
            }
        }
    ]


# --- the round trip -------------------------------------------------------------------------


def normal(bundle: Resource) -> list[Resource]:
    """The entries with every id replaced by its resource type and position."""
    names = {}
    for number, entry in enumerate(bundle["entry"]):
        names[entry["fullUrl"]] = f"{entry['resource']['resourceType']}-{number}"
    text = json.dumps(bundle["entry"])
    for old, new in names.items():
        text = text.replace(old, new).replace(old.removeprefix("urn:uuid:"), new)
    entries: list[Resource] = json.loads(text)
    return entries


def test_the_round_trip_gives_the_same_bundle(trip: RoundTrip) -> None:
    before, after = normal(trip.bundle), normal(trip.back)
    assert len(before) == len(after) == len(trip.bundle["entry"])
    for one, other in zip(before, after, strict=True):
        assert one == other


def test_the_round_trip_summary(trip: RoundTrip) -> None:
    assert trip.summary.patients == [(1, "Ana Souza", "new")]
    assert {k: v for k, v in trip.summary.imported.items() if v} == {
        "patient": 1,
        "doctor": 6,
        "record": 7,
        "file": 6,
        "opinion": 2,
        "appointment": 2,
        "question": 6,
        "material": 3,
        "coverage": 1,
        "medication": 5,
        "allergy": 2,
        "condition": 2,
        "treatment": 2,
        "result": 8,
    }
    assert trip.summary.skipped == Counter()


def binder_json(s: Session) -> dict[str, Any]:
    """Every service's JSON of the patient's rows, with row ids replaced by what the row is
    (a doctor's name, a record's kind and title…), and lists put in a stable order."""
    patient = _patient(s)
    pid = patient.id
    found_doctors = doctors.list_doctors(s, pid)
    found_records = records.list_records(s, pid)
    visits = appointments.list_appointments(s, pid)
    doctor = {d.id: f"doctor {d.name}" for d in found_doctors}
    record = {r.id: f"record {r.kind.value} {r.title}" for r in found_records}
    visit = {v.id: f"visit {appointments.local_start(v).isoformat()}" for v in visits}
    for labels, rows in ((doctor, found_doctors), (record, found_records), (visit, visits)):
        assert len(set(labels.values())) == len(rows)  # labels tell every row apart

    def label(labels: dict[int, str], ident: int | None) -> str | None:
        return None if ident is None else labels[ident]

    def without_id(data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if k != "id"}

    def ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))

    result: dict[str, Any] = {"patient": without_id(patients.to_json(patient))}
    result["doctors"] = ordered(
        [
            {**without_id(doctors.to_json(d)), "referred_by": label(doctor, d.referred_by_id)}
            for d in found_doctors
        ]
    )
    result["records"] = ordered(
        [
            {
                **without_id(records.to_json(r)),
                "doctor": label(doctor, r.doctor_id),
                "files": ordered([without_id(f) for f in records.to_json(r)["files"]]),
            }
            for r in found_records
        ]
    )
    result["opinions"] = ordered(
        [
            {
                **without_id(opinions.to_json(o)),
                "doctor": label(doctor, o.doctor_id),
                "records": sorted(record[r.id] for r in o.records),
            }
            for o in opinions.list_opinions(s, pid)
        ]
    )
    result["appointments"] = ordered(
        [
            {
                **without_id(appointments.to_json(v)),
                "doctor": label(doctor, v.doctor_id),
                "records": sorted(record[r.id] for r in v.records),
            }
            for v in visits
        ]
    )
    result["questions"] = ordered(
        [
            {
                **without_id(questions.to_json(q)),
                "appointment": label(visit, q.appointment_id),
                "answered_by": label(doctor, q.answered_by_id),
            }
            for q in questions.list_questions(s, pid)
        ]
    )
    result["materials"] = ordered(
        [without_id(materials.to_json(m)) for m in materials.list_materials(s, pid)]
    )
    return result


def test_the_round_trip_gives_the_same_binder(trip: RoundTrip) -> None:
    with session_scope(trip.a.engine, write=False) as s:
        before = binder_json(s)
    with session_scope(trip.b.engine, write=False) as s:
        after = binder_json(s)
    for part in before:
        assert after[part] == before[part], part
    # A binder that is not empty: the comparison above compares something.
    assert len(before["records"]) == 7 and len(before["questions"]) == 6
    assert sum(1 for d in before["doctors"] if d["referred_by"]) == 4
    counts_a, counts_b = row_counts(trip.a.engine), row_counts(trip.b.engine)
    assert {k: counts_a[k] for k in ENTITIES} == {k: counts_b[k] for k in ENTITIES}


def test_the_round_tripped_files_are_the_same_bytes(trip: RoundTrip) -> None:
    def digests(binder: Binder) -> set[str]:
        with session_scope(binder.engine, write=False) as s:
            return {f.sha256 for r in records.list_records(s, _patient(s).id) for f in r.files}

    assert digests(trip.a) == digests(trip.b)
    for digest in digests(trip.b):
        content = trip.b.store.path_for(digest).read_bytes()
        assert hashlib.sha256(content).hexdigest() == digest


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[Binder]:
    """An empty binder to import into."""
    binder = new_binder(tmp_path / "copy")
    yield binder
    binder.engine.dispose()


def as_bundle(document: Resource, name: str) -> read.Bundle:
    """`document` as `carebinder import` reads it from a file."""
    return read.parse(json.dumps(document).encode(), name)


def export_of(engine: Engine, store: Store) -> Resource:
    with session_scope(engine, write=False) as s:
        bundle, _ = export_bundle(s, store, _patient(s))
    return bundle


def test_importing_the_export_again_adds_nothing(trip: RoundTrip, copy: Binder) -> None:
    bundle = as_bundle(trip.bundle, "ana.json")
    run_import(copy.engine, copy.store, bundle)
    before = row_counts(copy.engine)
    again = run_import(copy.engine, copy.store, bundle)
    assert row_counts(copy.engine) == before
    assert {k: v for k, v in again.imported.items() if v} == {}
    assert again.already["record"] == 7 and again.already["question"] == 6


def test_an_export_without_data_imports_records_without_files(
    trip: RoundTrip, copy: Binder
) -> None:
    summary = run_import(copy.engine, copy.store, as_bundle(trip.bare, "ana-no-data.json"))
    assert row_counts(copy.engine)["file"] == 0
    assert summary.skipped == Counter({("attachment", "given only as a link, not included"): 6})
    with session_scope(copy.engine, write=False) as s:
        ct = next(r for r in records.list_records(s, _patient(s).id) if r.title == "CT chest")
        assert ct.notes == (
            "Files not included (ask the sender for them):\n"
            "- ct-report.pdf: not included in the import\n"
            "- radiologist-notes.txt: not included in the import"
        )


def test_two_doctors_with_the_same_name_stay_two(
    engine: Engine, store: Store, copy: Binder
) -> None:
    with session_scope(engine) as s:
        patient = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        doctors.add_doctor(s, patient.id, name="Dr. Lee", specialty="Radiology")
        doctors.add_doctor(s, patient.id, name="Dr. Lee", specialty="Medical oncology")
    run_import(copy.engine, copy.store, as_bundle(export_of(engine, store), "lee.json"))
    assert row_counts(copy.engine)["doctor"] == 2


def test_a_cleared_institution_stays_cleared(engine: Engine, store: Store, copy: Binder) -> None:
    with session_scope(engine) as s:
        patient = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        doctor = doctors.add_doctor(s, patient.id, name="Dr. Park", institution="Riverside")
        record = records.add_record(
            s, store, patient.id, kind=RecordKind.LAB, title="CBC", doctor=doctor.id
        )
        records.edit_record(s, record, institution="")
    run_import(copy.engine, copy.store, as_bundle(export_of(engine, store), "cbc.json"))
    with session_scope(copy.engine, write=False) as s:
        (back,) = records.list_records(s, _patient(s).id)
        assert back.institution is None


def test_importing_an_export_into_its_own_binder_adds_nothing(
    engine: Engine, store: Store, settings: config.Settings
) -> None:
    with session_scope(engine) as s:
        demo.build(s, settings, today=TODAY)
    bundle = export_of(engine, store)
    before = row_counts(engine)
    run_import(engine, store, as_bundle(bundle, "own.json"))
    after = row_counts(engine)
    assert {k: after[k] for k in ENTITIES} == {k: before[k] for k in ENTITIES}
