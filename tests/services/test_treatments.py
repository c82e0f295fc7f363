"""Service tests: treatments so far (surgery, chemotherapy, radiation…)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import InvalidInput, NotFound
from carebinder.models import Doctor, Patient, Treatment, TreatmentKind
from carebinder.services import doctors, treatments


@pytest.fixture
def doctor(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. Ada Park")


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Treatment))


def _add(session: Session, patient: Patient, name: str, **kwargs: object) -> Treatment:
    kind = kwargs.pop("kind", TreatmentKind.CHEMOTHERAPY)
    return treatments.add_treatment(session, patient.id, kind=kind, name=name, **kwargs)


def test_add_treatment_stores_every_field(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    t = treatments.add_treatment(
        session,
        patient.id,
        kind=TreatmentKind.CHEMOTHERAPY,
        name=" AC-T, 4 cycles ",
        started=date(2026, 1, 10),
        ended=date(2026, 4, 2),
        doctor=doctor.id,
        response="partial response",
        notes="Neuropathy after cycle 3.",
    )
    session.expire_all()
    row = treatments.get_treatment(session, patient.id, t.id)
    assert treatments.to_json(row) == {
        "id": t.id,
        "kind": "chemotherapy",
        "name": "AC-T, 4 cycles",
        "started": "2026-01-10",
        "ended": "2026-04-02",
        "doctor": doctor.id,
        "doctor_name": "Dr. Ada Park",
        "response": "partial response",
        "notes": "Neuropathy after cycle 3.",
    }


def test_ended_before_started_is_refused_and_nothing_is_added(
    session: Session, patient: Patient
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _add(session, patient, "AC-T", started=date(2026, 4, 2), ended=date(2026, 1, 10))
    assert refused.value.field == "ended"
    assert refused.value.naming("--ended") == (
        "--ended (2026-01-10) is before started (2026-04-02). Check the dates."
    )
    assert _count(session) == 0


def test_edit_refuses_dates_out_of_order_and_changes_nothing(
    session: Session, patient: Patient
) -> None:
    t = _add(session, patient, "AC-T", started=date(2026, 1, 10), ended=date(2026, 4, 2))
    with pytest.raises(InvalidInput, match="before started"):
        treatments.edit_treatment(session, t, started=date(2026, 5, 1), response="complete")
    with pytest.raises(InvalidInput, match="before started"):
        treatments.edit_treatment(session, t, ended=date(2025, 12, 1))
    session.expire_all()
    assert (t.started, t.ended, t.response) == (date(2026, 1, 10), date(2026, 4, 2), None)
    # Clearing the end (under way again) is fine.
    treatments.edit_treatment(session, t, ended=None, kind=TreatmentKind.TARGETED_THERAPY)
    assert (t.ended, t.kind) == (None, TreatmentKind.TARGETED_THERAPY)


def test_a_doctor_not_in_the_binder_is_refused(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    with pytest.raises(NotFound, match="No doctor #99 in this binder"):
        _add(session, patient, "Lumpectomy", doctor=99)
    theirs = doctors.add_doctor(session, other_patient.id, name="Dr. Theirs")
    with pytest.raises(NotFound, match=f"No doctor #{theirs.id}"):
        _add(session, patient, "Lumpectomy", doctor=theirs.id)
    assert _count(session) == 0


def test_edit_changes_and_clears_the_doctor(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    t = _add(session, patient, "Lumpectomy", kind=TreatmentKind.SURGERY)
    treatments.edit_treatment(session, t, doctor=doctor.id, name="Lumpectomy and SLNB")
    assert (t.doctor, t.name) == (doctor, "Lumpectomy and SLNB")
    treatments.edit_treatment(session, t, doctor=None)
    assert t.doctor is None


def test_listed_in_the_order_given_undated_last(session: Session, patient: Patient) -> None:
    _add(session, patient, "Radiation", kind=TreatmentKind.RADIATION, started=date(2026, 6, 1))
    _add(session, patient, "Planned trial")
    _add(session, patient, "AC-T", started=date(2026, 1, 10))
    _add(session, patient, "Lumpectomy", kind=TreatmentKind.SURGERY, started=date(2026, 5, 1))
    names = [t.name for t in treatments.list_treatments(session, patient.id)]
    assert names == ["AC-T", "Lumpectomy", "Radiation", "Planned trial"]


def test_an_empty_name_is_refused(session: Session, patient: Patient) -> None:
    with pytest.raises(InvalidInput, match="name cannot be empty"):
        _add(session, patient, " ")
    assert _count(session) == 0


def test_one_patients_treatments_never_reach_another(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    t = _add(session, patient, "AC-T")
    with pytest.raises(NotFound, match=f"No treatment #{t.id}"):
        treatments.get_treatment(session, other_patient.id, t.id)
    assert treatments.list_treatments(session, other_patient.id) == []


def test_remove_treatment(session: Session, patient: Patient) -> None:
    treatments.remove_treatment(session, _add(session, patient, "AC-T"))
    assert _count(session) == 0
