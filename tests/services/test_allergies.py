"""Service tests: allergies and the three states (a list, "no known allergies" stated on a
day, not recorded)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import Conflict, InvalidInput, NotFound
from carebinder.models import Allergy, AllergyKind, Patient, Severity
from carebinder.services import allergies


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Allergy))


def _add(session: Session, patient: Patient, substance: str, **kwargs: object) -> Allergy:
    return allergies.add_allergy(session, patient.id, substance=substance, **kwargs).allergy


def test_add_allergy_stores_every_field(session: Session, patient: Patient) -> None:
    added = allergies.add_allergy(
        session,
        patient.id,
        substance=" Penicillin ",
        reaction="hives",
        severity=Severity.MODERATE,
        kind=AllergyKind.MEDICATION,
        notes="As a child.",
    )
    assert added.ended_none is None
    session.expire_all()
    row = allergies.get_allergy(session, patient.id, added.allergy.id)
    assert allergies.to_json(row) == {
        "id": row.id,
        "substance": "Penicillin",
        "reaction": "hives",
        "severity": "moderate",
        "kind": "medication",
        "notes": "As a child.",
    }


def test_add_allergy_minimal(session: Session, patient: Patient) -> None:
    a = _add(session, patient, "Latex")
    assert allergies.to_json(a) == {
        "id": a.id,
        "substance": "Latex",
        "reaction": None,
        "severity": None,
        "kind": None,
        "notes": None,
    }


# --- the three states ----------------------------------------------------------------------


def test_nothing_recorded_is_its_own_state(session: Session, patient: Patient) -> None:
    state = allergies.allergy_state(session, patient)
    assert (state.allergies, state.none_on, state.recorded) == ([], None, False)


def test_no_known_allergies_is_stated_with_its_day(session: Session, patient: Patient) -> None:
    allergies.state_none(session, patient)
    assert patient.no_allergies_on == date.today()
    allergies.state_none(session, patient, on=date(2026, 11, 2))
    state = allergies.allergy_state(session, patient)
    assert (state.allergies, state.none_on, state.recorded) == ([], date(2026, 11, 2), True)


def test_an_allergy_ends_no_known_allergies_and_says_so(session: Session, patient: Patient) -> None:
    allergies.state_none(session, patient, on=date(2026, 11, 2))
    added = allergies.add_allergy(session, patient.id, substance="Penicillin")
    assert added.ended_none == date(2026, 11, 2)
    assert patient.no_allergies_on is None
    state = allergies.allergy_state(session, patient)
    assert ([a.substance for a in state.allergies], state.none_on, state.recorded) == (
        ["Penicillin"],
        None,
        True,
    )
    # A second one ends nothing: there is nothing left to end.
    assert allergies.add_allergy(session, patient.id, substance="Latex").ended_none is None


def test_no_known_allergies_is_refused_while_allergies_are_listed(
    session: Session, patient: Patient
) -> None:
    _add(session, patient, "Penicillin")
    with pytest.raises(Conflict) as refused:
        allergies.state_none(session, patient)
    assert refused.value.message == (
        "1 allergy is recorded (Penicillin). Remove it first if it was recorded by mistake."
    )
    for substance in ("Latex", "Peanuts", "Sulfa"):
        _add(session, patient, substance)
    with pytest.raises(Conflict, match=r"^4 allergies are recorded \(.*, …\)\. Remove them"):
        allergies.state_none(session, patient)
    assert patient.no_allergies_on is None


def test_no_known_allergies_once_the_mistaken_ones_are_removed(
    session: Session, patient: Patient
) -> None:
    allergies.remove_allergy(session, _add(session, patient, "Penicillin"))
    allergies.state_none(session, patient, on=date(2026, 11, 2))
    assert allergies.allergy_state(session, patient).none_on == date(2026, 11, 2)


# --- order, edits, refusals ----------------------------------------------------------------


def test_severe_ones_first_then_by_substance(session: Session, patient: Patient) -> None:
    _add(session, patient, "peanuts")
    _add(session, patient, "Latex", severity=Severity.MILD)
    _add(session, patient, "Sulfa", severity=Severity.SEVERE)
    _add(session, patient, "Codeine", severity=Severity.MODERATE)
    _add(session, patient, "Aspirin", severity=Severity.SEVERE)
    _add(session, patient, "Dust")
    names = [a.substance for a in allergies.list_allergies(session, patient.id)]
    assert names == ["Aspirin", "Sulfa", "Codeine", "Latex", "Dust", "peanuts"]


def test_edit_changes_and_clears_fields(session: Session, patient: Patient) -> None:
    a = _add(session, patient, "Penicillin", reaction="hives", severity=Severity.MILD)
    allergies.edit_allergy(
        session, a, reaction="", severity=Severity.SEVERE, kind=AllergyKind.MEDICATION
    )
    data = allergies.to_json(a)
    assert (data["reaction"], data["severity"], data["kind"]) == (None, "severe", "medication")
    allergies.edit_allergy(session, a, severity=None)
    assert a.severity is None


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"substance": ""}, "substance", "substance cannot be empty."),
        ({"substance": "  "}, "substance", "substance cannot be empty."),
        ({"substance": "x" * 201}, "substance", "substance is too long"),
        ({"substance": "Latex", "reaction": "a\x00b"}, "reaction", "reaction contains a control"),
    ],
)
def test_bad_text_is_refused_and_nothing_is_added(
    session: Session, patient: Patient, kwargs: dict[str, str], field: str, message: str
) -> None:
    allergies.state_none(session, patient, on=date(2026, 11, 2))
    with pytest.raises(InvalidInput) as refused:
        allergies.add_allergy(session, patient.id, **kwargs)
    assert refused.value.field == field
    assert refused.value.message.startswith(message)
    assert _count(session) == 0
    assert patient.no_allergies_on == date(2026, 11, 2)  # the statement stands


def test_edit_to_an_empty_substance_is_refused(session: Session, patient: Patient) -> None:
    a = _add(session, patient, "Penicillin")
    with pytest.raises(InvalidInput, match="substance cannot be empty"):
        allergies.edit_allergy(session, a, substance=" ")
    session.expire_all()
    assert a.substance == "Penicillin"


def test_one_patients_allergies_never_reach_another(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    a = _add(session, patient, "Penicillin")
    with pytest.raises(NotFound, match=f"No allergy #{a.id}"):
        allergies.get_allergy(session, other_patient.id, a.id)
    allergies.state_none(session, other_patient)  # their list is empty
    assert patient.no_allergies_on is None
