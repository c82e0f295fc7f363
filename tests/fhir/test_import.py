"""`import_bundle`: FHIR R4 bundles mapped into a real binder.

The Synthea samples are imported once per module into their own binders (read-only
afterwards); tests that change a binder build their own. Expected counts are worked out
here from the JSON itself, not taken from the importer.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from carebinder.choices import AllergyKind, AppointmentStatus, RecordKind, TreatmentKind
from carebinder.db import session_scope
from carebinder.errors import InvalidInput
from carebinder.fhir import read
from carebinder.fhir.importer import Summary, import_bundle, source_keys
from carebinder.models import (
    Appointment,
    AuditEvent,
    Doctor,
    File,
    Patient,
    Record,
    SourceKey,
)
from carebinder.services import (
    allergies,
    appointments,
    conditions,
    doctors,
    medications,
    opinions,
    patients,
    records,
    results,
    treatments,
)
from carebinder.services.markers import is_cancer_marker
from carebinder.store import Store
from tests.conftest import blob_files
from tests.fhir.fhirkit import (
    NPI,
    R4_SAMPLES,
    SMALLEST_R4,
    V2_0203,
    VALID_NPI,
    Binder,
    bundle_doc,
    database_bytes,
    document_reference,
    encounter,
    fhir_hash,
    lab_report,
    new_binder,
    new_id,
    observation,
    parsed,
    patient_resource,
    pdf_attachment,
    practitioner,
    ref,
    resources_of,
    row_counts,
    run_import,
    sample,
    sample_json,
)
from tests.packet.pdfutil import text_pdf_bytes

# --- the Synthea samples, imported once ----------------------------------------------------


@dataclass
class Imported:
    binder: Binder
    summary: Summary
    document: dict[str, Any]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Imported]]:
    """Each sample imported into a fresh binder of its own, on first use."""
    done: dict[str, Imported] = {}

    def get(name: str) -> Imported:
        if name not in done:
            binder = new_binder(tmp_path_factory.mktemp(name.removesuffix(".json")))
            summary = run_import(binder.engine, binder.store, read.load(sample(name)))
            done[name] = Imported(binder, summary, sample_json(name))
        return done[name]

    yield get
    for item in done.values():
        item.binder.engine.dispose()


def _resolver(document: dict[str, Any]) -> Callable[[Any], dict[str, Any] | None]:
    by_url = {entry["fullUrl"]: entry["resource"] for entry in document["entry"]}
    for entry in document["entry"]:
        resource = entry["resource"]
        by_url[f"{resource['resourceType']}/{resource['id']}"] = resource

    def resolve(reference: Any) -> dict[str, Any] | None:
        if not isinstance(reference, dict):
            return None
        return by_url.get(reference.get("reference", ""))

    return resolve


# What each sample's health facts come to (worked out by reading the bundles: see the
# README's "From and to FHIR" for the rules). Opinions: the cancer conditions.
HEALTH_FACTS = {
    "R4-Adan_Pulido.json": Counter(
        opinion=2, condition=4, medication=12, allergy=0, treatment=0, result=301
    ),
    "R4-Ali_Herman.json": Counter(
        opinion=2, condition=5, medication=3, allergy=3, treatment=3, result=220
    ),
    "R4-Cary_OHara.json": Counter(
        opinion=0, condition=5, medication=4, allergy=0, treatment=0, result=34
    ),
}
SOCIAL_OR_PAST = "a past problem that has resolved (the binder keeps current ones)"


def expected_summary(
    document: dict[str, Any], name: str
) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """(what should be imported, what should be skipped and why) for a Synthea bundle with
    one patient, worked out from the JSON (the health facts from HEALTH_FACTS)."""
    resolve = _resolver(document)

    def seen_by_a_doctor(visit: dict[str, Any] | None) -> bool:
        return visit is not None and any(
            (resolve(p.get("individual")) or {}).get("resourceType") == "Practitioner"
            for p in visit.get("participant", [])
        )

    def count(kind: str) -> int:
        return len(resources_of(document, kind))

    def category(observation: dict[str, Any]) -> str:
        return str(observation["category"][0]["coding"][0]["code"])

    plans = [
        plan
        for plan in resources_of(document, "CarePlan")
        if not (plan.get("intent") == "proposal" and plan.get("author"))
    ]
    visits = resources_of(document, "Encounter")
    imported = (
        Counter(
            patient=1,
            doctor=count("Practitioner"),
            record=count("Procedure") + count("DiagnosticReport") + len(plans),
            appointment=sum(1 for visit in visits if seen_by_a_doctor(visit)),
        )
        + HEALTH_FACTS[name]
    )
    observations = resources_of(document, "Observation")
    assert imported["result"] == sum(1 for o in observations if category(o) == "laboratory")
    assert imported["medication"] + imported["allergy"] > 0 or name == "R4-Cary_OHara.json"
    results = {
        id(resolve(reference))
        for report in resources_of(document, "DiagnosticReport")
        for reference in report.get("result", [])
    }
    lone = [o for o in observations if id(o) not in results and category(o) != "laboratory"]
    resolved = [
        c
        for c in resources_of(document, "Condition")
        if c["clinicalStatus"]["coding"][0]["code"] == "resolved"
    ]
    skipped: Counter[tuple[str, str]] = Counter()
    for kind, reason, number in (
        (
            "Observation",
            "vital signs are not kept",
            [category(o) for o in lone].count("vital-signs"),
        ),
        (
            "Observation",
            "questionnaire answers are not kept",
            [category(o) for o in lone].count("survey"),
        ),
        (
            "Observation",
            "single results outside a report are not kept",
            sum(1 for o in lone if category(o) not in ("vital-signs", "survey")),
        ),
        ("Claim", "billing is not kept", count("Claim")),
        ("ExplanationOfBenefit", "billing is not kept", count("ExplanationOfBenefit")),
        ("Immunization", "immunizations are not kept", count("Immunization")),
        ("Goal", "care goals are not kept", count("Goal")),
        ("Encounter", "it names no doctor", sum(1 for v in visits if not seen_by_a_doctor(v))),
        ("Condition", SOCIAL_OR_PAST, len(resolved)),
    ):
        if number:
            skipped[(kind, reason)] = number
    return +imported, skipped


def _nonzero(counts: Counter[str]) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}


@pytest.mark.parametrize("name", R4_SAMPLES)
def test_sample_summary_has_the_expected_counts(
    imported: Callable[[str], Imported], name: str
) -> None:
    result = imported(name)
    wanted, skipped = expected_summary(result.document, name)
    assert wanted["record"] > 10 and wanted["appointment"] > 10  # a real test of a real file
    assert _nonzero(result.summary.imported) == dict(wanted)
    assert dict(result.summary.skipped) == dict(skipped)
    assert result.summary.already == Counter()
    (patient,) = resources_of(result.document, "Patient")
    name_part = patient["name"][0]
    assert [(how, shown) for _, shown, how in result.summary.patients] == [
        ("new", f"{name_part['given'][0]} {name_part['family']}")
    ]


@pytest.mark.parametrize("name", R4_SAMPLES)
def test_sample_rows_in_the_binder(imported: Callable[[str], Imported], name: str) -> None:
    result = imported(name)
    wanted, _ = expected_summary(result.document, name)
    counts = row_counts(result.binder.engine)
    assert counts["patient"] == 1
    assert counts["doctor"] == wanted["doctor"]
    assert counts["record"] == wanted["record"]
    assert counts["opinion"] == wanted["opinion"]
    assert counts["appointment"] == wanted["appointment"]
    for table in ("medication", "allergy", "condition", "treatment", "result"):
        assert counts[table] == wanted[table], table
    assert counts["file"] == 0
    assert counts["question"] == counts["material"] == 0


@pytest.mark.parametrize("name", R4_SAMPLES)
def test_sample_patient_and_private_identifiers(
    imported: Callable[[str], Imported], name: str
) -> None:
    result = imported(name)
    (resource,) = resources_of(result.document, "Patient")
    identifiers = {
        coding["code"]: identifier["value"]
        for identifier in resource["identifier"]
        for coding in identifier.get("type", {}).get("coding", [])
        if coding.get("system") == V2_0203
    }
    with session_scope(result.binder.engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        assert patient.born == date.fromisoformat(resource["birthDate"])
        assert patient.mrn == identifiers["MR"]
    stored = database_bytes(result.binder.engine)
    assert identifiers["MR"].encode() in stored  # the search below can find what is there
    private = [identifiers[code] for code in ("SS", "DL", "PPN") if code in identifiers]
    assert len(private) == 3, identifiers
    for value in private:
        assert value.encode() not in stored, value
        assert value.replace("-", "").encode() not in stored, value


def test_sample_doctor_has_name_institution_and_address(
    imported: Callable[[str], Imported],
) -> None:
    result = imported("R4-Adan_Pulido.json")
    (resource,) = resources_of(result.document, "Practitioner")
    (hospital,) = resources_of(result.document, "Organization")
    with session_scope(result.binder.engine, write=False) as s:
        (doctor,) = s.scalars(select(Doctor)).all()
        assert doctor.name == "Dr. Carol Weimann"
        assert doctor.name == " ".join(
            [
                *resource["name"][0]["prefix"],
                *resource["name"][0]["given"],
                resource["name"][0]["family"],
            ]
        )
        assert doctor.institution == hospital["name"] == "MASSACHUSETTS GENERAL HOSPITAL"
        assert doctor.address == "55 FRUIT STREET\nBOSTON, MA 02114\nUS"
        # Synthea's NPIs ("280") are not real ones: kept as a source key, not as the NPI.
        assert resource["identifier"][0]["value"] == "280"
        assert doctor.npi is None


def test_sample_lab_report_lists_its_observations(imported: Callable[[str], Imported]) -> None:
    result = imported("R4-Adan_Pulido.json")
    resolve = _resolver(result.document)
    report = next(
        r
        for r in resources_of(result.document, "DiagnosticReport")
        if r["code"]["text"] == "Basic Metabolic Panel"
    )
    visit = resolve(report["encounter"])
    assert visit is not None
    hospital = resolve(visit["serviceProvider"])
    assert hospital is not None
    with session_scope(result.binder.engine, write=False) as s:
        record = s.scalars(
            select(Record).where(
                Record.title == "Basic Metabolic Panel",
                Record.date == date.fromisoformat(report["effectiveDateTime"][:10]),
            )
        ).one()
        assert record.kind is RecordKind.LAB
        assert record.doctor is not None and record.doctor.name == "Dr. Carol Weimann"
        assert record.institution == hospital["name"]
        notes = record.notes or ""
    assert notes.startswith("Results:\n")
    lines = notes.splitlines()[1:]
    assert len(lines) == len(report["result"]) == 8
    for line, reference in zip(lines, report["result"], strict=True):
        observation = resolve(reference)
        assert observation is not None
        quantity = observation["valueQuantity"]
        match = re.fullmatch(r"- (.+): ([0-9.]+) (.+)", line)
        assert match is not None, line
        assert match[1] == observation["code"]["text"]
        assert float(match[2]) == pytest.approx(quantity["value"], rel=1e-3)
        assert match[3] == quantity["unit"]


def test_sample_medications_are_medications(imported: Callable[[str], Imported]) -> None:
    """Adan Pulido's yearly simvastatin: each renewal stops the one before, on the day it
    was renewed; the last one is current."""
    result = imported("R4-Adan_Pulido.json")
    requests = resources_of(result.document, "MedicationRequest")
    statins = sorted(
        date.fromisoformat(r["authoredOn"][:10])
        for r in requests
        if r["medicationCodeableConcept"]["text"] == "Simvistatin 10 MG"
    )
    with session_scope(result.binder.engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        state = medications.medication_state(s, patient)
        current = {m.name for m in state.current}
        found = [m for m in state.current + state.stopped if m.name == "Simvistatin 10 MG"]
        assert (
            s.scalars(select(Record).where(Record.kind == RecordKind.MEDICATION_LIST)).all() == []
        )
        assert sorted((m.started, m.stopped) for m in found) == [
            *pairwise(statins),
            (statins[-1], None),
        ]
        assert {m.how for m in found} == {"once a day"}
        assert {m.reason for m in found} == {"Hyperlipidemia"}
        assert {m.prescriber.name for m in found if m.prescriber} == {"Dr. Carol Weimann"}
        amoxicillin = next(m for m in state.stopped if m.name.startswith("Amoxicillin"))
        assert amoxicillin.stopped == amoxicillin.started  # the file gives no day
        assert (amoxicillin.notes or "").startswith("Stopped; the file gives no day")
    assert current == {
        "24hr nicotine transdermal patch",
        "ferrous sulfate 325 MG Oral Tablet",
        "Simvistatin 10 MG",
    }


def test_sample_allergies_conditions_and_treatments(imported: Callable[[str], Imported]) -> None:
    result = imported("R4-Ali_Herman.json")
    with session_scope(result.binder.engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        found = allergies.allergy_state(s, patient)
        assert sorted(a.substance for a in found.allergies) == [
            "Fish",
            "House dust mite",
            "Tree pollen",
        ]
        assert {a.kind for a in found.allergies} == {AllergyKind.FOOD}  # as Synthea says
        assert sorted(c.name for c in conditions.list_conditions(s, patient.id)) == [
            "Anemia",
            "Body mass index 30+ - obesity",
            "Brain damage - traumatic",
            "Perennial allergic rhinitis",
            "Prediabetes",
        ]
        found_opinions = opinions.list_opinions(s, patient.id)
        assert [o.diagnosis for o in found_opinions] == [
            "Neoplasm of prostate",
            "Carcinoma in situ of prostate (disorder)",
        ]
        for opinion in found_opinions:  # the cancer stays an opinion of the visit's doctor
            assert opinion.doctor.name.startswith("Dr. ")
            assert opinion.date == date(2020, 6, 8)
            assert (opinion.notes or "").startswith("Imported diagnosis; clinical status: ")
        shown = [(t.kind, t.name) for t in treatments.list_treatments(s, patient.id)]
        assert sorted(shown) == [
            (TreatmentKind.CHEMOTHERAPY, "1 ML DOCEtaxel 20 MG/ML Injection"),
            (
                TreatmentKind.HORMONE_THERAPY,
                "0.25 ML Leuprolide Acetate 30 MG/ML Prefilled Syringe",
            ),
            (TreatmentKind.SURGERY, "Prostatectomy"),
        ]
        # the prostatectomy is a record too, as every procedure is
        assert s.scalars(select(Record).where(Record.title == "Prostatectomy")).one()


def test_sample_results_link_their_report(imported: Callable[[str], Imported]) -> None:
    result = imported("R4-Adan_Pulido.json")
    with session_scope(result.binder.engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        # Named as the marker it is (LOINC 2857-1), so hand-typed PSA values join its trend.
        psa = results.list_results(s, patient.id, "PSA")
        assert len(psa) == 6
        assert {r.notes for r in psa} == {
            "Test: Prostate specific Ag [Mass/volume] in Serum or Plasma."
        }
        assert all(r.unit == "ng/mL" for r in psa)
        assert {r.record for r in psa} == {None}  # Synthea's PSA values stand alone
        assert [r.taken_on for r in psa] == sorted(r.taken_on for r in psa)
        assert all(is_cancer_marker(r.name, "2857-1") for r in psa)
        glucose = results.list_results(s, patient.id, "Glucose")
        assert glucose and not is_cancer_marker(glucose[0].name)
        # each listed by its metabolic panel, whose record it names
        assert {r.record.title for r in glucose if r.record} == {
            "Basic Metabolic Panel",
            "Comprehensive metabolic 2000 panel - Serum or Plasma",
        }
        assert all(r.record is not None for r in glucose)


def test_sample_visits_and_diagnoses(imported: Callable[[str], Imported]) -> None:
    result = imported("R4-Cary_OHara.json")
    resolve = _resolver(result.document)
    visit = resources_of(result.document, "Encounter")[0]
    doctor = resolve(visit["participant"][0]["individual"])
    place = resolve(visit["serviceProvider"])
    assert doctor is not None and place is not None
    condition = next(
        c
        for c in resources_of(result.document, "Condition")
        if c["encounter"] == {"reference": f"urn:uuid:{visit['id']}"}
    )
    start = datetime.fromisoformat(visit["period"]["start"])
    with session_scope(result.binder.engine, write=False) as s:
        found = s.scalars(select(Appointment).where(Appointment.starts_at == start)).one()
        assert found.status is AppointmentStatus.DONE
        assert found.doctor.name.endswith(doctor["name"][0]["family"])
        assert (found.location or "").startswith(place["name"] + "\n")
        assert found.notes is not None and visit["type"][0]["text"] in found.notes
        # Not a cancer: another health problem, since its onset.
        assert opinions.list_opinions(s, found.patient_id) == []
        (problem,) = [
            c
            for c in conditions.list_conditions(s, found.patient_id)
            if c.name == condition["code"]["text"]
        ]
        assert problem.since == date.fromisoformat(condition["onsetDateTime"][:10])


# --- importing again ------------------------------------------------------------------------


def test_the_audit_trail_logs_the_rows_made_not_the_import_bookkeeping(
    engine: Engine, store: Store
) -> None:
    run_import(engine, store, read.load(sample(SMALLEST_R4)))
    with Session(engine) as s:
        logged = set(s.scalars(select(AuditEvent.entity)))
        keys = s.scalar(select(func.count()).select_from(SourceKey))
    assert keys  # the import did keep its source keys...
    assert "source_key" not in logged  # ...without one audit event each
    assert {"patient", "doctor", "record", "condition", "medication", "result"} <= logged


def test_importing_the_same_bundle_twice_adds_nothing(engine: Engine, store: Store) -> None:
    first = run_import(engine, store, read.load(sample(SMALLEST_R4)))
    before = row_counts(engine)
    second = run_import(engine, store, read.load(sample(SMALLEST_R4)))
    assert row_counts(engine) == before  # not even an audit event or a source key
    assert _nonzero(second.imported) == {}
    assert [how for _, _, how in second.patients] == ["already in the binder"]
    assert second.patients[0][0] == first.patients[0][0]
    made = _nonzero(first.imported)
    del made["patient"]
    assert dict(second.already) == made
    assert second.skipped == first.skipped


def test_a_record_removed_by_the_user_comes_back_on_the_next_import(
    engine: Engine, store: Store
) -> None:
    run_import(engine, store, read.load(sample(SMALLEST_R4)))
    before = row_counts(engine)
    with session_scope(engine) as s:
        (patient,) = patients.list_patients(s)
        first = min(records.list_records(s, patient.id), key=lambda r: r.id)
        title, kind, when = first.title, first.kind, first.date
        records.remove_record(s, store, first)
    assert row_counts(engine)["record"] == before["record"] - 1
    again = run_import(engine, store, read.load(sample(SMALLEST_R4)))
    assert _nonzero(again.imported) == {"record": 1}
    assert row_counts(engine)["record"] == before["record"]
    with session_scope(engine, write=False) as s:
        back = s.scalars(select(Record).where(Record.title == title, Record.date == when)).one()
        assert back.kind is kind
    third = run_import(engine, store, read.load(sample(SMALLEST_R4)))
    assert _nonzero(third.imported) == {}


def test_a_removed_record_comes_back_even_when_its_id_was_reused(
    engine: Engine, store: Store
) -> None:
    run_import(engine, store, read.load(sample(SMALLEST_R4)))
    with session_scope(engine) as s:
        (patient,) = patients.list_patients(s)
        last = max(records.list_records(s, patient.id), key=lambda r: r.id)
        title = last.title
        same_title = sum(1 for r in records.list_records(s, patient.id) if r.title == title)
        records.remove_record(s, store, last)
        newest = max(medications.list_medications(s, patient.id), key=lambda m: m.id)
        name, newest_id = newest.name, newest.id
        medications.remove_medication(s, newest)
    with session_scope(engine) as s:
        typed = records.add_record(s, store, patient.id, kind=RecordKind.OTHER, title="By hand")
        pill = medications.add_medication(s, patient.id, name="By hand").medication
        if engine.dialect.name == "sqlite":  # PostgreSQL's sequences never give one again
            assert pill.id == newest_id  # SQLite gave the removed row's id again
    again = run_import(engine, store, read.load(sample(SMALLEST_R4)))
    with session_scope(engine, write=False) as s:
        assert records.get_record(s, patient.id, typed.id).title == "By hand"
        assert medications.get_medication(s, patient.id, pill.id).name == "By hand"
        titled = s.scalars(select(Record).where(Record.title == title)).all()
        assert len(titled) == same_title
        names = [m.name for m in medications.list_medications(s, patient.id)]
        assert names.count(name) == 1 and "By hand" in names
    assert _nonzero(again.imported) == {"record": 1, "medication": 1}


# --- attachments ----------------------------------------------------------------------------


@dataclass
class WithFiles:
    binder: Binder
    summary: Summary
    content: dict[str, bytes]

    def record(self, title: str) -> dict[str, Any]:
        return _record(self.binder.engine, title)


@pytest.fixture(scope="module")
def with_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WithFiles]:
    """A bundle with a PDF in a DocumentReference, one in a DiagnosticReport, and three
    attachments that cannot be stored: a link, a damaged one and one that is not base64."""
    biopsy = text_pdf_bytes(["Biopsy page 1", "Biopsy page 2", "Biopsy page 3"])
    scan = text_pdf_bytes(["CT chest"])
    damaged = text_pdf_bytes(["Damaged in transit"])
    patient = patient_resource()
    doctor = practitioner()
    resources = [
        patient,
        doctor,
        document_reference(
            patient,
            pdf_attachment(biopsy),
            description="Core biopsy",
            author=[ref(doctor)],
            date="2025-02-01T09:00:00Z",
        ),
        document_reference(
            patient,
            {"contentType": "application/pdf", "title": "Scan", "url": "https://portal.example/s"},
            description="Outside scan",
        ),
        document_reference(
            patient,
            pdf_attachment(damaged, title="damaged.pdf", hash=fhir_hash(b"other bytes")),
            description="Damaged report",
        ),
        document_reference(
            patient,
            {"contentType": "application/pdf", "title": "bad.pdf", "data": "%%% not base64"},
            description="Garbled report",
        ),
        lab_report(
            patient,
            "CT chest",
            category=[{"coding": [{"code": "RAD"}]}],
            presentedForm=[
                {"contentType": "application/pdf", "data": pdf_attachment(scan)["data"]}
            ],
        ),
    ]
    binder = new_binder(tmp_path_factory.mktemp("with-files"))
    summary = run_import(binder.engine, binder.store, parsed(bundle_doc(*resources), "portal.json"))
    yield WithFiles(binder, summary, {"biopsy": biopsy, "scan": scan, "damaged": damaged})
    binder.engine.dispose()


def _record(engine: Engine, title: str) -> dict[str, Any]:
    with session_scope(engine, write=False) as s:
        return records.to_json(s.scalars(select(Record).where(Record.title == title)).one())


def test_a_base64_pdf_is_stored_and_read(with_files: WithFiles) -> None:
    record = with_files.record("Core biopsy")
    assert record["kind"] == "pathology"
    assert record["date"] == "2025-02-01"
    assert record["doctor"] is not None
    (file,) = record["files"]
    content = with_files.content["biopsy"]
    sha256 = hashlib.sha256(content).hexdigest()
    assert file["sha256"] == sha256
    assert file["name"] == "biopsy.pdf"
    assert file["media_type"] == "application/pdf"
    assert file["size"] == len(content)
    assert file["page_count"] == 3
    assert file["unreadable"] is None
    assert with_files.binder.store.path_for(sha256).read_bytes() == content
    assert with_files.summary.imported["file"] == 2


def test_a_report_presented_form_is_stored_under_the_report_name(with_files: WithFiles) -> None:
    record = with_files.record("CT chest")
    assert record["kind"] == "imaging"
    (file,) = record["files"]
    assert file["name"] == "CT chest.pdf"
    assert file["page_count"] == 1
    assert file["sha256"] == hashlib.sha256(with_files.content["scan"]).hexdigest()


def test_an_attachment_given_as_a_link_is_listed_as_not_included(with_files: WithFiles) -> None:
    record = with_files.record("Outside scan")
    assert record["files"] == []
    assert record["notes"] == (
        "Files not included (ask the sender for them):\n"
        "- Scan (https://portal.example/s): not included in the import"
    )
    assert with_files.summary.skipped[("attachment", "given only as a link, not included")] == 1


def test_a_damaged_attachment_is_refused(with_files: WithFiles) -> None:
    record = with_files.record("Damaged report")
    assert record["files"] == []
    reason = "it is damaged (its hash does not match its data)"
    assert record["notes"] == (
        f"Files not included (ask the sender for them):\n- damaged.pdf: {reason}"
    )
    assert with_files.summary.skipped[("attachment", reason)] == 1
    damaged = hashlib.sha256(with_files.content["damaged"]).hexdigest()
    assert not with_files.binder.store.exists(damaged)


def test_data_that_is_not_base64_leaves_out_the_file_not_the_document(
    with_files: WithFiles,
) -> None:
    """Before, the whole DocumentReference was skipped as invalid FHIR, and with it the
    record and every other file it held."""
    record = with_files.record("Garbled report")
    assert record["files"] == []
    reason = "its data is not valid base64"
    assert record["notes"] == f"Files not included (ask the sender for them):\n- bad.pdf: {reason}"
    assert with_files.summary.skipped[("attachment", reason)] == 1
    assert not any(kind == "DocumentReference" for kind, _ in with_files.summary.skipped)
    assert row_counts(with_files.binder.engine)["record"] == 5


def test_only_the_good_files_reach_the_store(with_files: WithFiles) -> None:
    stored = {path.read_bytes() for path in blob_files(with_files.binder.settings.home)}
    assert stored == {with_files.content["biopsy"], with_files.content["scan"]}
    assert row_counts(with_files.binder.engine)["file"] == 2


def test_an_attachment_whose_size_is_wrong_is_refused(engine: Engine, store: Store) -> None:
    patient = patient_resource()
    pdf = text_pdf_bytes(["Short"])
    document = document_reference(
        patient, pdf_attachment(pdf, size=len(pdf) + 1), description="Wrong size"
    )
    summary = run_import(engine, store, parsed(bundle_doc(patient, document)))
    assert _record(engine, "Wrong size")["files"] == []
    assert summary.skipped[("attachment", "it is damaged (its size does not match its data)")] == 1


def test_base64_data_in_lines_is_decoded(engine: Engine, store: Store) -> None:
    patient = patient_resource()
    pdf = text_pdf_bytes(["Wrapped"])
    attachment = pdf_attachment(pdf, data=base64.encodebytes(pdf).decode())
    document = document_reference(patient, attachment, description="Wrapped")
    summary = run_import(engine, store, parsed(bundle_doc(patient, document)))
    assert summary.skipped == Counter()
    (file,) = _record(engine, "Wrapped")["files"]
    assert file["sha256"] == hashlib.sha256(pdf).hexdigest()


def test_a_document_with_an_empty_attachment_is_a_record_without_files(
    engine: Engine, store: Store
) -> None:
    patient = patient_resource()
    document = document_reference(patient, {"title": "Visit note"}, description="Visit note")
    summary = run_import(engine, store, parsed(bundle_doc(patient, document)))
    record = _record(engine, "Visit note")
    assert record["files"] == [] and record["notes"] is None
    assert ("attachment", "given only as a link, not included") not in summary.skipped


# --- whose records ------------------------------------------------------------------------


def test_a_bundle_with_two_patients(engine: Engine, store: Store) -> None:
    ana = patient_resource("Ana", "Souza", "1964-04-12")
    ben = patient_resource("Ben", "Okafor", "1958-09-30", id="ben")
    doctor = practitioner("Wei", "Chen")
    ben_ref = {"reference": "Patient/ben"}  # B is referred to by Type/id, A by urn:uuid
    resources = [
        ana,
        ben,
        doctor,
        encounter(ana, doctor, "2025-01-10T09:00:00Z"),
        encounter(ben, doctor, "2025-01-11T09:00:00Z", subject=ben_ref),
        lab_report(ana, "CBC for Ana"),
        {
            "resourceType": "Condition",
            "id": new_id(),
            "subject": ben_ref,
            "code": {"text": "Prostate cancer"},
            "asserter": ref(doctor),
            "recordedDate": "2025-01-11",
        },
        {"resourceType": "Procedure", "id": new_id(), "status": "completed", "code": {"text": "X"}},
    ]
    document = bundle_doc(*resources)
    document["entry"][1]["fullUrl"] = "https://fhir.example.org/Patient/ben"
    summary = run_import(engine, store, parsed(document))
    assert [(name, how) for _, name, how in summary.patients] == [
        ("Ana Souza", "new"),
        ("Ben Okafor", "new"),
    ]
    assert summary.skipped == Counter({("Procedure", "it belongs to no patient in the file"): 1})
    with session_scope(engine, write=False) as s:
        by_name = {p.name: p.id for p in patients.list_patients(s)}
        a, b = by_name["Ana Souza"], by_name["Ben Okafor"]
        assert [d.name for d in doctors.list_doctors(s, a)] == ["Dr. Wei Chen"]
        assert [d.name for d in doctors.list_doctors(s, b)] == ["Dr. Wei Chen"]
        assert [r.title for r in records.list_records(s, a)] == ["CBC for Ana"]
        assert records.list_records(s, b) == []
        assert opinions.list_opinions(s, a) == []
        assert [o.diagnosis for o in opinions.list_opinions(s, b)] == ["Prostate cancer"]
        assert [v.starts_at.day for v in appointments.list_appointments(s, a)] == [10]
        assert [v.starts_at.day for v in appointments.list_appointments(s, b)] == [11]


def test_a_patient_with_the_same_name_and_birth_date_is_the_same_patient(
    engine: Engine, store: Store
) -> None:
    with session_scope(engine) as s:
        mine = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12), phone="555-0100")
    resource = patient_resource(
        identifier=[
            {"type": {"coding": [{"system": V2_0203, "code": "MR"}]}, "value": "MRN-77"},
        ],
        telecom=[{"system": "phone", "value": "555-9999"}, {"system": "email", "value": "a@x.org"}],
    )
    summary = run_import(engine, store, parsed(bundle_doc(resource, lab_report(resource))))
    assert summary.patients == [(mine.id, "Ana Souza", "same name and date of birth")]
    assert _nonzero(summary.imported) == {"record": 1}
    with session_scope(engine, write=False) as s:
        (patient,) = patients.list_patients(s)
        assert patient.mrn == "MRN-77"  # filled in where the binder had nothing
        assert patient.phone == "555-0100"  # what the user typed is kept
        assert patient.email == "a@x.org"
        assert len(records.list_records(s, patient.id)) == 1


def test_the_same_name_with_another_birth_date_is_another_patient(
    engine: Engine, store: Store
) -> None:
    with session_scope(engine) as s:
        patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
    summary = run_import(engine, store, parsed(bundle_doc(patient_resource(born="1964-04-13"))))
    assert [how for _, _, how in summary.patients] == ["new"]
    assert row_counts(engine)["patient"] == 2


def _patient_with_doctor(engine: Engine, **doctor: Any) -> tuple[int, int]:
    with session_scope(engine) as s:
        patient = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        typed = doctors.add_doctor(s, patient.id, **doctor)
        return patient.id, typed.id


def test_a_doctor_typed_in_with_the_same_npi_is_reused(engine: Engine, store: Store) -> None:
    assert doctors.npi_check_digit_ok(VALID_NPI)
    patient_id, typed = _patient_with_doctor(engine, name="Dr. Jane Roe", npi=VALID_NPI)
    patient = patient_resource()
    doctor = practitioner("Janet", "Roe-Smith", identifier=[{"system": NPI, "value": VALID_NPI}])
    bundle = bundle_doc(patient, doctor, encounter(patient, doctor))
    summary = run_import(engine, store, parsed(bundle))
    assert _nonzero(summary.imported) == {"appointment": 1}
    assert summary.already["doctor"] == 1
    with session_scope(engine, write=False) as s:
        assert [d.id for d in doctors.list_doctors(s, patient_id)] == [typed]
        (visit,) = appointments.list_appointments(s, patient_id)
        assert visit.doctor_id == typed
        assert doctors.get_doctor(s, patient_id, typed).name == "Dr. Jane Roe"
    again = run_import(engine, store, parsed(bundle))
    assert _nonzero(again.imported) == {}
    assert row_counts(engine)["doctor"] == 1


def test_a_doctor_typed_in_with_the_same_name_is_reused(engine: Engine, store: Store) -> None:
    patient_id, typed = _patient_with_doctor(engine, name="dr. carol weimann")
    patient = patient_resource()
    doctor = practitioner(identifier=[{"system": NPI, "value": "280"}])  # not a real NPI
    summary = run_import(engine, store, parsed(bundle_doc(patient, doctor)))
    assert summary.already["doctor"] == 1
    with session_scope(engine, write=False) as s:
        assert [d.id for d in doctors.list_doctors(s, patient_id)] == [typed]


def test_a_doctor_typed_in_without_npi_matches_by_name(engine: Engine, store: Store) -> None:
    patient_id, typed = _patient_with_doctor(engine, name="Dr. Carol Weimann")
    patient = patient_resource()
    doctor = practitioner(identifier=[{"system": NPI, "value": VALID_NPI}])
    run_import(engine, store, parsed(bundle_doc(patient, doctor)))
    with session_scope(engine, write=False) as s:
        assert [d.id for d in doctors.list_doctors(s, patient_id)] == [typed]


def test_a_real_npi_of_a_new_doctor_is_kept(engine: Engine, store: Store) -> None:
    patient = patient_resource()
    doctor = practitioner(identifier=[{"system": NPI, "value": VALID_NPI}])
    run_import(engine, store, parsed(bundle_doc(patient, doctor)))
    with session_scope(engine, write=False) as s:
        (row,) = s.scalars(select(Doctor)).all()
        assert row.npi == VALID_NPI
        assert row.name == "Dr. Carol Weimann"


# --- what is skipped, what is refused -------------------------------------------------------


def test_an_invalid_resource_is_skipped_and_the_rest_imported(engine: Engine, store: Store) -> None:
    patient = patient_resource()
    doctor = practitioner()
    broken = encounter(patient, doctor, "2025-01-02T09:00:00Z", status=" finished")
    gone = encounter(patient, doctor, "2025-01-03T09:00:00Z", status="entered-in-error")
    good = encounter(patient, doctor, "2025-01-04T09:00:00Z")
    bundle = bundle_doc(patient, doctor, broken, gone, good, lab_report(patient))
    summary = run_import(engine, store, parsed(bundle))
    assert _nonzero(summary.imported) == {
        "patient": 1,
        "doctor": 1,
        "appointment": 1,
        "record": 1,
    }
    assert summary.skipped == Counter(
        {
            ("Encounter", "not valid FHIR R4 (Encounter.status)"): 1,
            ("Encounter", "its status 'entered-in-error' is not a visit"): 1,
        }
    )
    with session_scope(engine, write=False) as s:
        (visit,) = s.scalars(select(Appointment)).all()
        assert visit.starts_at.day == 4


def test_a_resource_the_binder_refuses_is_skipped_in_the_words_of_the_import(
    engine: Engine, store: Store
) -> None:
    """The binder's refusal, without the command line's flags (nobody typed `--notes`)."""
    patient = patient_resource()
    result = observation(patient)
    report = lab_report(patient, conclusion="x" * 19_990, result=[ref(result)])
    summary = run_import(engine, store, parsed(bundle_doc(patient, result, report)))
    assert summary.skipped == Counter(
        {
            (
                "DiagnosticReport",
                "it could not be kept (the notes field is too long (20,024 characters;"
                " at most 20,000).)",
            ): 1
        }
    )
    assert row_counts(engine)["record"] == 0


def test_a_resource_that_is_not_r4_is_skipped_with_its_name(engine: Engine, store: Store) -> None:
    patient = patient_resource()
    odd = {"resourceType": "MadeUpThing", "id": new_id()}
    summary = run_import(engine, store, parsed(bundle_doc(patient, odd)))
    assert summary.skipped == Counter({("MadeUpThing", "carebinder has no place for it"): 1})


def test_a_bundle_without_a_patient_is_refused_and_nothing_changes(
    engine: Engine, store: Store
) -> None:
    run_import(engine, store, read.load(sample(SMALLEST_R4)))
    before = row_counts(engine)
    ghost = patient_resource()
    doctor = practitioner()
    bundle = parsed(bundle_doc(doctor, encounter(ghost, doctor), lab_report(ghost)), "orphans.json")
    with pytest.raises(InvalidInput) as caught:
        run_import(engine, store, bundle)
    assert caught.value.message == (
        "orphans.json holds no Patient, so carebinder cannot tell whose records these are."
        " Export the bundle with the patient included."
    )
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"birthDate": None}, "the patient has no name or date of birth"),
        ({"name": None}, "the patient has no name or date of birth"),
        ({"birthDate": "2999-01-01"}, "the patient has no name or date of birth"),
        ({"birthDate": "12/04/1964"}, "not valid FHIR R4 (Patient.birthDate)"),
    ],
    ids=["no-birth-date", "no-name", "born-in-the-future", "invalid"],
)
def test_a_patient_that_cannot_be_kept_imports_nothing(
    engine: Engine, store: Store, change: dict[str, Any], reason: str
) -> None:
    patient = patient_resource()
    for key, value in change.items():
        if value is None:
            del patient[key]
        else:
            patient[key] = value
    before = row_counts(engine)
    with pytest.raises(InvalidInput) as refused:
        run_import(engine, store, parsed(bundle_doc(patient, lab_report(patient))))
    assert f"the patient cannot be filed ({reason})" in refused.value.message
    assert row_counts(engine) == before


# --- source keys and the summary ------------------------------------------------------------


def test_source_keys_leave_out_private_identifiers() -> None:
    resource = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [
            {"system": "http://hospital.example/mrn", "value": "MRN-1"},
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-11-2222"},
            {
                "type": {"coding": [{"system": V2_0203, "code": "DL"}]},
                "system": "urn:dl",
                "value": "S1",
            },
            {
                "type": {"coding": [{"system": V2_0203, "code": "PPN"}]},
                "system": "urn:pp",
                "value": "X1",
            },
            {"system": "urn:no-value"},
        ],
    }
    assert source_keys(resource) == [
        "Patient/p1",
        "Patient identifier http://hospital.example/mrn|MRN-1",
    ]


def test_summary_json_shape(engine: Engine, store: Store) -> None:
    patient = patient_resource()
    bundle = bundle_doc(patient, lab_report(patient), {"resourceType": "Goal", "id": new_id()})
    summary = run_import(engine, store, parsed(bundle))
    data = summary.to_json()
    assert set(data) == {"patients", "imported", "already_in_binder", "skipped", "left_out"}
    assert data["left_out"] == []
    (entry,) = data["patients"]
    assert set(entry) == {"id", "name", "status"}
    assert entry["name"] == "Ana Souza" and entry["status"] == "new"
    assert isinstance(entry["id"], int)
    assert {k: v for k, v in data["imported"].items() if v} == {"patient": 1, "record": 1}
    assert data["already_in_binder"] == {}
    assert data["skipped"] == [
        {"resource": "Goal", "reason": "care goals are not kept", "count": 1}
    ]


def test_rows_are_written_only_by_the_session_given(engine: Engine, store: Store) -> None:
    """import_bundle never commits: rolled back, it leaves nothing."""
    before = row_counts(engine)
    patient = patient_resource()
    with Session(engine) as s:
        import_bundle(s, store, parsed(bundle_doc(patient, lab_report(patient))), {}, {})
        assert s.scalar(select(Patient.name)) == "Ana Souza"
        s.rollback()
    assert row_counts(engine) == before
    with Session(engine) as s:
        assert s.scalars(select(File)).all() == []
