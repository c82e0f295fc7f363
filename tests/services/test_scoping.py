"""Service tests: one patient's ids can never reach another patient's data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import NotFound
from carebinder.models import (
    Appointment,
    Doctor,
    Material,
    MaterialKind,
    Opinion,
    Patient,
    Question,
    Record,
    RecordKind,
)
from carebinder.services import (
    appointments,
    doctors,
    files,
    materials,
    opinions,
    patients,
    questions,
    records,
)
from carebinder.store import Store

START = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
BAD_IDS = [0, -1, 2**63, 2**70]


@dataclass
class World:
    patient: Patient
    doctor: Doctor
    record: Record
    opinion: Opinion
    appointment: Appointment
    question: Question
    material: Material

    @property
    def file_id(self) -> int:
        return self.record.files[0].id


def _world(session: Session, store: Store, patient: Patient, pdf: Path, tag: str) -> World:
    pid = patient.id
    doctor = doctors.add_doctor(session, pid, name=f"Dr. {tag}")
    record = records.add_record(
        session, store, pid, kind=RecordKind.PATHOLOGY, title=f"Biopsy {tag}", files=[pdf]
    )
    opinion = opinions.add_opinion(
        session, pid, doctor=doctor.id, diagnosis=f"Dx {tag}", records=[record.id]
    )
    appointment = appointments.add_appointment(
        session, pid, doctor=doctor.id, starts_at=START, time_zone="UTC"
    )
    question = questions.add_question(session, pid, text=f"Q {tag}", appointment=appointment.id)
    material = materials.add_material(
        session, pid, kind=MaterialKind.GLASS_SLIDES, description=f"Slides {tag}"
    )
    return World(patient, doctor, record, opinion, appointment, question, material)


@pytest.fixture
def a(session: Session, store: Store, patient: Patient, make_pdf: Callable[..., Path]) -> World:
    return _world(session, store, patient, make_pdf("a.pdf", pages=1), "A")


@pytest.fixture
def b(
    session: Session,
    store: Store,
    other_patient: Patient,
    make_pdf: Callable[..., Path],
    a: World,
) -> World:
    # Created after A, so B's ids are all different from A's.
    return _world(session, store, other_patient, make_pdf("b.pdf", pages=2), "B")


def _get_file(session: Session, pid: int, record_id: int, file_id: int) -> Any:
    return files.get_file(session, records.get_record(session, pid, record_id), file_id)


GETTERS: dict[str, Callable[[Session, int, int], Any]] = {
    "doctor": doctors.get_doctor,
    "record": records.get_record,
    "opinion": opinions.get_opinion,
    "appointment": appointments.get_appointment,
    "question": questions.get_question,
    "material": materials.get_material,
}


def _own_id(world: World, noun: str) -> int:
    return getattr(world, noun).id


@pytest.mark.parametrize("noun", sorted(GETTERS))
def test_get_with_another_patients_id_is_not_found(
    session: Session, a: World, b: World, noun: str
) -> None:
    get = GETTERS[noun]
    a_id, b_id = _own_id(a, noun), _own_id(b, noun)
    assert a_id != b_id
    # Each patient reaches their own row...
    assert get(session, a.patient.id, a_id) is getattr(a, noun)
    assert get(session, b.patient.id, b_id) is getattr(b, noun)
    # ...and never the other's.
    with pytest.raises(NotFound) as caught:
        get(session, b.patient.id, a_id)
    assert caught.value.noun == noun
    assert caught.value.ident == a_id
    assert f"No {noun} #{a_id} in this binder." in str(caught.value)
    with pytest.raises(NotFound):
        get(session, a.patient.id, b_id)


@pytest.mark.parametrize("ident", BAD_IDS)
def test_get_with_impossible_ids_is_not_found(session: Session, a: World, ident: int) -> None:
    for noun, get in GETTERS.items():
        with pytest.raises(NotFound) as caught:
            get(session, a.patient.id, ident)
        assert (caught.value.noun, caught.value.ident) == (noun, ident)


@pytest.mark.parametrize("ident", BAD_IDS)
def test_get_patient_with_impossible_ids_is_not_found(
    session: Session, a: World, ident: int
) -> None:
    with pytest.raises(NotFound):
        patients.get_patient(session, ident)


def test_a_records_file_is_not_reachable_from_another_patient(
    session: Session, a: World, b: World
) -> None:
    assert a.file_id != b.file_id
    assert _get_file(session, a.patient.id, a.record.id, a.file_id).original_name == "a.pdf"
    # B's patient id with A's record id: the record is not found.
    with pytest.raises(NotFound, match=f"No record #{a.record.id}"):
        _get_file(session, b.patient.id, a.record.id, a.file_id)
    # B's own record with A's file id: the file is not found.
    with pytest.raises(NotFound) as caught:
        _get_file(session, b.patient.id, b.record.id, a.file_id)
    assert caught.value.noun == "file"


def test_a_file_of_another_record_of_the_same_patient_is_not_found(
    session: Session, store: Store, a: World
) -> None:
    other = records.add_record(session, store, a.patient.id, kind=RecordKind.LAB, title="CBC")
    with pytest.raises(NotFound):
        files.get_file(session, other, a.file_id)


@pytest.mark.parametrize("ident", BAD_IDS)
def test_get_file_with_impossible_ids_is_not_found(session: Session, a: World, ident: int) -> None:
    with pytest.raises(NotFound):
        files.get_file(session, a.record, ident)


# --- cross-references -----------------------------------------------------------------------


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (Doctor, Record, Opinion, Appointment, Question, Material)
    }


def test_add_opinion_with_another_patients_doctor(session: Session, a: World, b: World) -> None:
    before = _counts(session)
    with pytest.raises(NotFound, match=f"No doctor #{a.doctor.id}"):
        opinions.add_opinion(session, b.patient.id, doctor=a.doctor.id, diagnosis="Dx")
    assert _counts(session) == before


def test_add_opinion_with_another_patients_record(session: Session, a: World, b: World) -> None:
    before = _counts(session)
    with pytest.raises(NotFound, match=f"No record #{a.record.id}"):
        opinions.add_opinion(
            session, b.patient.id, doctor=b.doctor.id, diagnosis="Dx", records=[a.record.id]
        )
    assert _counts(session) == before


def test_edit_opinion_with_another_patients_doctor_or_record(
    session: Session, a: World, b: World
) -> None:
    with pytest.raises(NotFound):
        opinions.edit_opinion(session, b.opinion, doctor=a.doctor.id)
    with pytest.raises(NotFound):
        opinions.edit_opinion(session, b.opinion, records=[b.record.id, a.record.id])
    assert b.opinion.doctor_id == b.doctor.id
    assert [r.id for r in b.opinion.records] == [b.record.id]


def test_bring_another_patients_record(session: Session, a: World, b: World) -> None:
    with pytest.raises(NotFound, match=f"No record #{a.record.id}"):
        appointments.bring_records(session, b.appointment, [a.record.id])
    with pytest.raises(NotFound):
        appointments.bring_records(session, b.appointment, [a.record.id], replace=True)
    assert b.appointment.records == []
    assert [r.id for r in appointments.packet_records(session, b.appointment)] == [b.record.id]


def test_add_or_edit_appointment_with_another_patients_doctor(
    session: Session, a: World, b: World
) -> None:
    before = _counts(session)
    with pytest.raises(NotFound):
        appointments.add_appointment(
            session, b.patient.id, doctor=a.doctor.id, starts_at=START, time_zone="UTC"
        )
    with pytest.raises(NotFound):
        appointments.edit_appointment(session, b.appointment, doctor=a.doctor.id)
    assert _counts(session) == before
    assert b.appointment.doctor_id == b.doctor.id


def test_add_question_for_another_patients_appointment(
    session: Session, a: World, b: World
) -> None:
    before = _counts(session)
    with pytest.raises(NotFound, match=f"No appointment #{a.appointment.id}"):
        questions.add_question(session, b.patient.id, text="Q", appointment=a.appointment.id)
    assert _counts(session) == before


def test_answer_with_another_patients_doctor(session: Session, a: World, b: World) -> None:
    with pytest.raises(NotFound, match=f"No doctor #{a.doctor.id}"):
        questions.answer_question(session, b.question, answer="Yes", by=a.doctor.id)
    assert b.question.answered_by is None


def test_referred_by_another_patients_doctor(session: Session, a: World, b: World) -> None:
    before = _counts(session)
    with pytest.raises(NotFound, match=f"No doctor #{a.doctor.id}"):
        doctors.add_doctor(session, b.patient.id, name="Dr. New", referred_by=a.doctor.id)
    assert _counts(session) == before
    with pytest.raises(NotFound):
        doctors.edit_doctor(session, b.doctor, referred_by=a.doctor.id)
    assert b.doctor.referred_by is None


def test_record_from_another_patients_doctor(
    session: Session, store: Store, a: World, b: World
) -> None:
    before = _counts(session)
    with pytest.raises(NotFound):
        records.add_record(
            session, store, b.patient.id, kind=RecordKind.LAB, title="T", doctor=a.doctor.id
        )
    assert _counts(session) == before
    with pytest.raises(NotFound):
        records.edit_record(session, b.record, doctor=a.doctor.id)
    assert b.record.doctor_id is None


@pytest.mark.parametrize("ident", BAD_IDS)
def test_cross_references_with_impossible_ids(session: Session, a: World, ident: int) -> None:
    pid = a.patient.id
    with pytest.raises(NotFound):
        opinions.add_opinion(session, pid, doctor=ident, diagnosis="Dx")
    with pytest.raises(NotFound):
        opinions.add_opinion(session, pid, doctor=a.doctor.id, diagnosis="Dx", records=[ident])
    with pytest.raises(NotFound):
        appointments.bring_records(session, a.appointment, [ident])
    with pytest.raises(NotFound):
        questions.add_question(session, pid, text="Q", appointment=ident)
    with pytest.raises(NotFound):
        questions.answer_question(session, a.question, answer="Yes", by=ident)
    with pytest.raises(NotFound):
        doctors.add_doctor(session, pid, name="Dr. New", referred_by=ident)


def test_lists_are_scoped(session: Session, a: World, b: World) -> None:
    def ids(rows: list[Any]) -> list[int]:
        return [row.id for row in rows]

    for world in (a, b):
        pid = world.patient.id
        assert ids(doctors.list_doctors(session, pid)) == [world.doctor.id]
        assert ids(records.list_records(session, pid)) == [world.record.id]
        both = [a.record.id, b.record.id]
        assert ids(records.list_records(session, pid, only=both)) == [world.record.id]
        assert ids(opinions.list_opinions(session, pid)) == [world.opinion.id]
        assert ids(appointments.list_appointments(session, pid)) == [world.appointment.id]
        assert ids(questions.list_questions(session, pid)) == [world.question.id]
        assert ids(materials.list_materials(session, pid)) == [world.material.id]
    # Filtering by the other patient's appointment is refused like any stranger's id.
    with pytest.raises(NotFound):
        questions.list_questions(session, b.patient.id, appointment=a.appointment.id)
