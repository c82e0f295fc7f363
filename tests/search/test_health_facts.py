"""Search finds the health facts (medications, allergies, conditions, treatments, results)
by name and by the words of their notes, on either database, titled so a result reads on
its own ("Medication: Letrozole 2.5 mg"), and only ever the patient's own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carebinder.choices import (
    AllergyKind,
    Interpretation,
    MedicationKind,
    RecordKind,
    Severity,
    TreatmentKind,
)
from carebinder.models import Patient
from carebinder.search import Kind, Match
from carebinder.services import (
    allergies,
    conditions,
    doctors,
    medications,
    records,
    results,
    search,
    treatments,
)
from carebinder.services.common import KEEP
from carebinder.store import Store


@dataclass(frozen=True)
class Fact:
    """How to add, rename and remove one kind of health fact, and how a result of it with
    the name `name` is titled."""

    kind: str
    name: str
    title: str
    marked: str  # the title with the words a search for `name` marks in [brackets]
    add: Callable[[Session, int, str, str | None], Any]
    rename: Callable[[Session, Any, str], Any]
    remove: Callable[[Session, Any], None]


FACTS = [
    Fact(
        "medication",
        "Letrozole",
        "Medication: Letrozole 2.5 mg",
        "Medication: [Letrozole] 2.5 mg",
        lambda s, p, name, notes: (
            medications.add_medication(
                s, p, name=name, dose="2.5 mg", how="by mouth, daily", notes=notes
            ).medication
        ),
        lambda s, row, name: medications.edit_medication(s, row, name=name),
        medications.remove_medication,
    ),
    Fact(
        "allergy",
        "Penicillin",
        "Allergy: Penicillin (severe)",
        "Allergy: [Penicillin] (severe)",
        lambda s, p, name, notes: (
            allergies.add_allergy(
                s, p, substance=name, reaction="hives", severity=Severity.SEVERE, notes=notes
            ).allergy
        ),
        lambda s, row, name: allergies.edit_allergy(s, row, substance=name),
        allergies.remove_allergy,
    ),
    Fact(
        "condition",
        "Type 2 diabetes",
        "Condition: Type 2 diabetes",
        "Condition: [Type] [2] [diabetes]",
        lambda s, p, name, notes: conditions.add_condition(
            s, p, name=name, since=date(2015, 3, 1), notes=notes
        ),
        lambda s, row, name: conditions.edit_condition(s, row, name=name),
        conditions.remove_condition,
    ),
    Fact(
        "treatment",
        "Lumpectomy",
        "Treatment: Lumpectomy (surgery)",
        "Treatment: [Lumpectomy] (surgery)",
        lambda s, p, name, notes: treatments.add_treatment(
            s, p, kind=TreatmentKind.SURGERY, name=name, started=date(2026, 2, 3), notes=notes
        ),
        lambda s, row, name: treatments.edit_treatment(s, row, name=name),
        treatments.remove_treatment,
    ),
    Fact(
        "result",
        "CA 15-3",
        "Result: CA 15-3 45 U/mL, 2026-03-01",
        "Result: [CA] [15-3] 45 U/mL, 2026-03-01",
        lambda s, p, name, notes: results.add_result(
            s, p, name=name, value="45", unit="U/mL", on=date(2026, 3, 1), notes=notes
        ),
        lambda s, row, name: results.edit_result(s, row, name=name),
        results.remove_result,
    ),
]
EACH = pytest.mark.parametrize("fact", FACTS, ids=[f.kind for f in FACTS])


def found(session: Session, patient: Patient, query: str) -> list[tuple[str, int]]:
    return [(str(hit.kind), hit.id) for hit in search.search(session, patient.id, query).hits]


def marked(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """`text` with its highlighted words in [brackets], as the command line shows them."""
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], "[", text[start:end], "]"]
        last = end
    return "".join([*parts, text[last:]])


@EACH
def test_found_by_its_name_titled_to_read_on_its_own(
    session: Session, patient: Patient, fact: Fact
) -> None:
    row = fact.add(session, patient.id, fact.name, None)
    (hit,) = search.search(session, patient.id, fact.name).hits
    assert (hit.kind, hit.id, hit.record) == (Kind(fact.kind), row.id, None)
    assert hit.title == fact.title
    # The match is in the name: marked there, inside the whole title.
    assert hit.snippet == hit.title
    # (PostgreSQL marks the words of "15-3" one by one, FTS5 the phrase: both read alike.)
    assert marked(hit.snippet, hit.highlights).replace("]-[", "-") == fact.marked


@EACH
def test_found_by_a_word_of_its_notes(session: Session, patient: Patient, fact: Fact) -> None:
    row = fact.add(session, patient.id, fact.name, "Ask about the Zoladex interaction.")
    (hit,) = search.search(session, patient.id, "zoladex").hits
    assert (str(hit.kind), hit.id, hit.title) == (fact.kind, row.id, fact.title)
    assert "[Zoladex] interaction" in marked(hit.snippet, hit.highlights)


@EACH
def test_only_the_patients_own_and_only_while_it_is_there(
    session: Session, patient: Patient, other_patient: Patient, fact: Fact
) -> None:
    theirs = fact.add(session, other_patient.id, fact.name, None)
    assert found(session, patient, fact.name) == []
    assert found(session, other_patient, fact.name) == [(fact.kind, theirs.id)]

    row = fact.add(session, patient.id, fact.name, None)
    assert found(session, patient, fact.name) == [(fact.kind, row.id)]
    fact.rename(session, row, "Zoledronic acid")
    assert found(session, patient, fact.name) == []
    (hit,) = search.search(session, patient.id, "zoledronic").hits
    assert (str(hit.kind), hit.id) == (fact.kind, row.id)
    assert hit.title == fact.title.replace(fact.name, "Zoledronic acid")
    fact.remove(session, row)
    assert found(session, patient, "zoledronic") == []
    assert found(session, other_patient, fact.name) == [(fact.kind, theirs.id)]


@EACH
def test_an_index_row_of_another_patient_or_a_removed_row_is_dropped(
    session: Session, patient: Patient, other_patient: Patient, fact: Fact
) -> None:
    """Titles are looked up within the patient's rows: an entry that names someone else's
    row, or a row gone since, never becomes a result."""
    theirs = fact.add(session, other_patient.id, fact.name, None)
    stale = Match(Kind(fact.kind), theirs.id, fact.name, fact.name, ((0, 3),), 1.0)
    gone = Match(Kind(fact.kind), theirs.id + 100, fact.name, fact.name, ((0, 3),), 1.0)
    assert search._hits(session, patient.id, [stale, gone]) == []
    (hit,) = search._hits(session, other_patient.id, [stale])
    assert hit.title == fact.title


# --- titles ---------------------------------------------------------------------------------


def titles(session: Session, patient: Patient, query: str) -> list[str]:
    return [hit.title for hit in search.search(session, patient.id, query, limit=50).hits]


def test_a_markers_values_each_read_with_their_value_and_day(
    session: Session, store: Store, patient: Patient
) -> None:
    report = records.add_record(
        session, store, patient.id, kind=RecordKind.PATHOLOGY, title="Core biopsy report"
    )
    for value, unit, on in (("45", "U/mL", date(2026, 3, 1)), ("31", "U/mL", None)):
        results.add_result(session, patient.id, name="CA 15-3", value=value, unit=unit, on=on)
    results.add_result(
        session,
        patient.id,
        name="Ki-67",
        value="20",
        unit="%",
        on=date(2026, 1, 20),
        record=report.id,
        interpretation=Interpretation.HIGH,
    )
    results.add_result(session, patient.id, name="HER2", value="negative (IHC 1+)")
    assert sorted(titles(session, patient, "15-3")) == [
        "Result: CA 15-3 31 U/mL",
        "Result: CA 15-3 45 U/mL, 2026-03-01",
    ]
    assert titles(session, patient, "Ki-67") == ["Result: Ki-67 20%, 2026-01-20"]
    assert titles(session, patient, "HER2") == ["Result: HER2 negative (IHC 1+)"]
    # The value is searched too, and a result's hit is its own, not its record's.
    (hit,) = search.search(session, patient.id, "IHC").hits
    assert (hit.kind, hit.record) == (Kind.RESULT, None)


def test_a_stopped_medication_says_so_and_a_current_one_does_not(
    session: Session, patient: Patient
) -> None:
    doctor = doctors.add_doctor(session, patient.id, name="Dr. Wei Chen")
    medications.add_medication(
        session,
        patient.id,
        name="Tamoxifen",
        dose="20 mg",
        started=date(2024, 1, 5),
        stopped=date(2025, 6, 1),
        prescriber=doctor.id,
    )
    medications.add_medication(
        session, patient.id, name="Tamoxifen", stopped=date(2999, 1, 1)
    )  # to be stopped later: still current
    medications.add_medication(
        session, patient.id, name="Vitamin D", kind=MedicationKind.SUPPLEMENT
    )
    assert sorted(titles(session, patient, "tamoxifen")) == [
        "Medication: Tamoxifen",
        "Medication: Tamoxifen 20 mg (stopped 2025-06-01)",
    ]
    assert titles(session, patient, "vitamin") == ["Medication: Vitamin D"]
    # The prescriber's name is the doctor's words, not the medication's.
    assert found(session, patient, "Chen") == [("doctor", doctor.id)]


def test_an_allergy_without_a_severity_and_treatments_of_every_kind(
    session: Session, patient: Patient
) -> None:
    allergies.add_allergy(session, patient.id, substance="Latex", kind=AllergyKind.ENVIRONMENT)
    assert titles(session, patient, "latex") == ["Allergy: Latex"]
    assert titles(session, patient, "hives") == []  # no reaction recorded
    treatments.add_treatment(
        session, patient.id, kind=TreatmentKind.HORMONE_THERAPY, name="Anastrozole"
    )
    treatments.add_treatment(session, patient.id, kind=TreatmentKind.CHEMOTHERAPY, name="AC-T")
    assert titles(session, patient, "anastrozole") == ["Treatment: Anastrozole (hormone therapy)"]
    assert titles(session, patient, "AC-T") == ["Treatment: AC-T (chemotherapy)"]
    # The kind is searched as the binder writes it.
    assert titles(session, patient, "chemotherapy") == ["Treatment: AC-T (chemotherapy)"]


def test_the_json_of_a_fact_hit(session: Session, patient: Patient) -> None:
    row = medications.add_medication(session, patient.id, name="Letrozole", dose="2.5 mg")
    document = search.to_json(search.search(session, patient.id, "letrozole"))
    (hit,) = document["results"]
    assert {k: hit[k] for k in ("rank", "kind", "id", "record", "title", "snippet")} == {
        "rank": 1,
        "kind": "medication",
        "id": row.medication.id,
        "record": None,
        "title": "Medication: Letrozole 2.5 mg",
        "snippet": "Medication: Letrozole 2.5 mg",
    }
    assert hit["highlights"] == [[12, 21]]


def test_keep_leaves_a_name_alone(session: Session, patient: Patient) -> None:
    """An edit that changes other facts keeps the entry findable by its name."""
    row = conditions.add_condition(session, patient.id, name="Hypertension")
    conditions.edit_condition(session, row, name=KEEP, notes="On amlodipine")
    assert titles(session, patient, "hypertension") == ["Condition: Hypertension"]
    assert titles(session, patient, "amlodipine") == ["Condition: Hypertension"]


def test_an_opinion_is_found_by_its_structured_facts(session: Session, patient: Patient) -> None:
    from carebinder.services import opinions

    doctor = doctors.add_doctor(session, patient.id, name="Dr. Wei Chen")
    opinion = opinions.add_opinion(
        session,
        patient.id,
        doctor=doctor.id,
        diagnosis="Breast cancer",
        site="Upper outer quadrant",
        histology="Invasive lobular carcinoma",
        grade="G3",
    )
    assert found(session, patient, "lobular") == [("opinion", opinion.id)]
    assert found(session, patient, "quadrant") == [("opinion", opinion.id)]
    opinions.edit_opinion(session, opinion, histology="Invasive ductal carcinoma")
    assert found(session, patient, "lobular") == []
    assert found(session, patient, "ductal") == [("opinion", opinion.id)]
