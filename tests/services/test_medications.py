"""Service tests: medications, current and stopped, and the three states (a list, "takes
no medications" stated on a day, not recorded)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import Conflict, InvalidInput, NotFound
from carebinder.models import Doctor, Medication, MedicationKind, Patient
from carebinder.services import doctors, medications

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture
def doctor(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. Wei Chen")


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Medication))


def _add(session: Session, patient: Patient, name: str, **kwargs: object) -> Medication:
    return medications.add_medication(session, patient.id, name=name, **kwargs).medication


def test_add_medication_stores_every_field(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    changed = medications.add_medication(
        session,
        patient.id,
        name=" Tamoxifen ",
        dose="20 mg",
        how="by mouth, once a day",
        kind=MedicationKind.PRESCRIPTION,
        started=date(2026, 11, 2),
        reason="breast cancer",
        prescriber=doctor.id,
        notes="Take with food.\nMorning.",
    )
    assert changed.ended_none is None  # nothing was stated
    session.expire_all()
    row = medications.get_medication(session, patient.id, changed.medication.id)
    assert medications.to_json(row) == {
        "id": row.id,
        "name": "Tamoxifen",
        "dose": "20 mg",
        "how": "by mouth, once a day",
        "kind": "prescription",
        "started": "2026-11-02",
        "stopped": None,
        "current": True,
        "reason": "breast cancer",
        "prescriber": doctor.id,
        "prescriber_name": "Dr. Wei Chen",
        "notes": "Take with food.\nMorning.",
    }


def test_add_medication_minimal_is_a_current_prescription(
    session: Session, patient: Patient
) -> None:
    m = _add(session, patient, "Letrozole")
    assert (m.kind, m.dose, m.started, m.stopped, m.prescriber) == (
        MedicationKind.PRESCRIPTION,
        None,
        None,
        None,
        None,
    )
    assert medications.is_current(m)


@pytest.mark.parametrize(
    ("stopped", "current"),
    [(None, True), (TOMORROW, True), (TODAY, False), (YESTERDAY, False)],
)
def test_a_medication_is_current_until_the_day_it_is_stopped(
    session: Session, patient: Patient, stopped: date | None, current: bool
) -> None:
    m = _add(session, patient, "Ondansetron", stopped=stopped)
    assert medications.is_current(m) is current
    assert medications.to_json(m)["current"] is current


# --- the three states ----------------------------------------------------------------------


def test_nothing_recorded_is_its_own_state(session: Session, patient: Patient) -> None:
    state = medications.medication_state(session, patient)
    assert (state.current, state.stopped, state.none_on, state.recorded) == ([], [], None, False)


def test_takes_none_is_stated_with_its_day(session: Session, patient: Patient) -> None:
    medications.state_none(session, patient)
    assert patient.no_medications_on == TODAY
    medications.state_none(session, patient, on=date(2026, 11, 2))
    state = medications.medication_state(session, patient)
    assert (state.current, state.none_on, state.recorded) == ([], date(2026, 11, 2), True)


def test_a_current_medication_ends_takes_none_and_says_so(
    session: Session, patient: Patient
) -> None:
    medications.state_none(session, patient, on=date(2026, 11, 2))
    changed = medications.add_medication(session, patient.id, name="Tamoxifen")
    assert changed.ended_none == date(2026, 11, 2)
    assert patient.no_medications_on is None
    state = medications.medication_state(session, patient)
    assert ([m.name for m in state.current], state.none_on, state.recorded) == (
        ["Tamoxifen"],
        None,
        True,
    )


def test_a_stopped_medication_leaves_takes_none_as_it_was(
    session: Session, patient: Patient
) -> None:
    """Something taken last year is history: today the patient still takes none."""
    medications.state_none(session, patient, on=date(2026, 11, 2))
    changed = medications.add_medication(
        session, patient.id, name="Ibuprofen", started=date(2025, 1, 1), stopped=date(2025, 2, 1)
    )
    assert changed.ended_none is None
    state = medications.medication_state(session, patient)
    assert (state.current, [m.name for m in state.stopped], state.none_on) == (
        [],
        ["Ibuprofen"],
        date(2026, 11, 2),
    )


def test_taken_again_ends_takes_none(session: Session, patient: Patient) -> None:
    m = _add(session, patient, "Ibuprofen", stopped=date(2025, 2, 1))
    medications.state_none(session, patient, on=date(2026, 11, 2))
    changed = medications.edit_medication(session, m, stopped=None)
    assert changed.ended_none == date(2026, 11, 2)
    assert patient.no_medications_on is None


def test_only_stopped_medications_are_not_a_statement(session: Session, patient: Patient) -> None:
    _add(session, patient, "Ibuprofen", stopped=date(2025, 2, 1))
    state = medications.medication_state(session, patient)
    assert state.recorded is False  # nobody said what the patient takes now
    medications.state_none(session, patient)  # allowed: none of them is current
    assert medications.medication_state(session, patient).recorded is True


def test_takes_none_is_refused_while_one_is_current(session: Session, patient: Patient) -> None:
    _add(session, patient, "Tamoxifen")
    with pytest.raises(Conflict) as refused:
        medications.state_none(session, patient)
    assert refused.value.message == (
        "1 medication is still current (Tamoxifen). Stop it first, with the day it was stopped."
    )
    assert patient.no_medications_on is None


def test_takes_none_refusal_names_a_few_when_many_are_current(
    session: Session, patient: Patient
) -> None:
    for name in ("Anastrozole", "Calcium", "Denosumab", "Bisoprolol"):
        _add(session, patient, name)
    with pytest.raises(Conflict, match=r"^4 medications are still current \(Anastrozole, "):
        medications.state_none(session, patient)
    assert patient.no_medications_on is None


# --- dates ----------------------------------------------------------------------------------


def test_stopped_before_started_is_refused_and_nothing_is_added(
    session: Session, patient: Patient
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _add(session, patient, "Tamoxifen", started=date(2026, 2, 1), stopped=date(2026, 1, 1))
    assert refused.value.field == "stopped"
    assert refused.value.naming("--stopped") == (
        "--stopped (2026-01-01) is before started (2026-02-01). Check the dates."
    )
    assert _count(session) == 0


def test_edit_refuses_a_start_after_the_stop_and_changes_nothing(
    session: Session, patient: Patient
) -> None:
    m = _add(session, patient, "Tamoxifen", started=date(2026, 1, 1), stopped=date(2026, 3, 1))
    with pytest.raises(InvalidInput, match="before started"):
        medications.edit_medication(session, m, started=date(2026, 4, 1), dose="10 mg")
    session.expire_all()
    assert (m.started, m.dose) == (date(2026, 1, 1), None)


def test_stop_keeps_the_medication_in_the_history(session: Session, patient: Patient) -> None:
    m = _add(session, patient, "Tamoxifen", started=date(2026, 1, 1))
    medications.stop_medication(session, m, on=date(2026, 6, 1))
    assert m.stopped == date(2026, 6, 1)
    assert medications.list_medications(session, patient.id, all=False) == []
    assert medications.list_medications(session, patient.id) == [m]


def test_stop_is_today_by_default(session: Session, patient: Patient) -> None:
    m = _add(session, patient, "Tamoxifen")
    medications.stop_medication(session, m)
    assert m.stopped == TODAY
    assert not medications.is_current(m)


def test_stop_of_a_stopped_one_is_refused(session: Session, patient: Patient) -> None:
    m = _add(session, patient, "Tamoxifen", stopped=date(2026, 6, 1))
    with pytest.raises(Conflict) as refused:
        medications.stop_medication(session, m, on=date(2026, 7, 1))
    assert refused.value.message == "Tamoxifen was already stopped on 2026-06-01."
    assert m.stopped == date(2026, 6, 1)


def test_a_stop_planned_for_later_can_be_brought_forward(
    session: Session, patient: Patient
) -> None:
    m = _add(session, patient, "Dexamethasone", stopped=TOMORROW)
    medications.stop_medication(session, m)
    assert m.stopped == TODAY


def test_stop_before_started_is_refused(session: Session, patient: Patient) -> None:
    m = _add(session, patient, "Tamoxifen", started=date(2026, 6, 1))
    with pytest.raises(InvalidInput) as refused:
        medications.stop_medication(session, m, on=date(2026, 5, 1))
    assert refused.value.field == "stopped"
    assert m.stopped is None


# --- the prescriber ------------------------------------------------------------------------


def test_a_prescriber_not_in_the_binder_is_refused(session: Session, patient: Patient) -> None:
    with pytest.raises(NotFound, match="No doctor #99 in this binder"):
        _add(session, patient, "Tamoxifen", prescriber=99)
    assert _count(session) == 0


def test_another_patients_doctor_is_not_a_prescriber(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    theirs = doctors.add_doctor(session, other_patient.id, name="Dr. Theirs")
    with pytest.raises(NotFound, match=f"No doctor #{theirs.id}"):
        _add(session, patient, "Tamoxifen", prescriber=theirs.id)
    m = _add(session, patient, "Tamoxifen")
    with pytest.raises(NotFound):
        medications.edit_medication(session, m, prescriber=theirs.id)
    assert m.prescriber is None


def test_edit_changes_and_clears_fields(session: Session, patient: Patient, doctor: Doctor) -> None:
    m = _add(session, patient, "Tamoxifen", dose="20 mg", reason="cancer", prescriber=doctor.id)
    medications.edit_medication(
        session, m, dose="10 mg", reason="", prescriber=None, kind=MedicationKind.SUPPLEMENT
    )
    data = medications.to_json(m)
    assert (data["dose"], data["reason"], data["prescriber"], data["kind"]) == (
        "10 mg",
        None,
        None,
        "supplement",
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": ""}, "name", "name cannot be empty."),
        ({"name": "Tamoxifen", "reason": "x" * 201}, "reason", "reason is too long"),
        ({"name": "Tamoxifen", "dose": "20\x1b[2J"}, "dose", "dose contains a control character"),
    ],
)
def test_bad_text_is_refused_by_its_field(
    session: Session, patient: Patient, kwargs: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        medications.add_medication(session, patient.id, **kwargs)
    assert refused.value.field == field
    assert refused.value.message.startswith(message)
    assert _count(session) == 0


# --- order, scope, removal -----------------------------------------------------------------


def test_current_ones_by_name_then_stopped_ones_latest_first(
    session: Session, patient: Patient
) -> None:
    _add(session, patient, "tamoxifen")
    _add(session, patient, "Ibuprofen", stopped=date(2025, 2, 1))
    _add(session, patient, "Calcium")
    _add(session, patient, "Ondansetron", stopped=date(2026, 3, 1))
    _add(session, patient, "Dexamethasone", stopped=TOMORROW)  # still current today
    names = [m.name for m in medications.list_medications(session, patient.id)]
    assert names == ["Calcium", "Dexamethasone", "tamoxifen", "Ondansetron", "Ibuprofen"]
    current = [m.name for m in medications.list_medications(session, patient.id, all=False)]
    assert current == ["Calcium", "Dexamethasone", "tamoxifen"]


def test_one_patients_medications_never_reach_another(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    m = _add(session, patient, "Tamoxifen")
    with pytest.raises(NotFound, match=f"No medication #{m.id}"):
        medications.get_medication(session, other_patient.id, m.id)
    assert medications.list_medications(session, other_patient.id) == []
    # Their "takes no medications" is their own.
    medications.state_none(session, other_patient)
    assert patient.no_medications_on is None


def test_remove_medication(session: Session, patient: Patient) -> None:
    m = _add(session, patient, "Tamoxifen")
    medications.remove_medication(session, m)
    assert _count(session) == 0
