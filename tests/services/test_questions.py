"""Service tests: questions to ask, and their answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import InvalidInput, NotFound
from carebinder.models import Appointment, Doctor, Patient, Question
from carebinder.services import appointments, doctors, questions


@pytest.fixture
def doctor(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. Wei Chen")


@pytest.fixture
def visit(session: Session, patient: Patient, doctor: Doctor) -> Appointment:
    return appointments.add_appointment(
        session,
        patient.id,
        doctor=doctor.id,
        starts_at=datetime(2026, 12, 3, 14, 30, tzinfo=UTC),
        time_zone="UTC",
    )


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Question))


def test_add_question(session: Session, patient: Patient, visit: Appointment) -> None:
    q = questions.add_question(
        session, patient.id, text="  What stage is it?  ", appointment=visit.id
    )
    loose = questions.add_question(session, patient.id, text="Can I keep working?")
    session.expire_all()
    row = questions.get_question(session, patient.id, q.id)
    assert questions.to_json(row) == {
        "id": q.id,
        "text": "What stage is it?",
        "appointment": visit.id,
        "answer": None,
        "answered_by": None,
        "answered_on": None,
    }
    assert questions.get_question(session, patient.id, loose.id).appointment_id is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "text cannot be empty."),
        ("   ", "text cannot be empty."),
        ("q" * 2_001, "text is too long (2,001 characters; at most 2,000)."),
        ("why\x1b?", "text contains a control character"),
    ],
)
def test_add_question_refusals(session: Session, patient: Patient, text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        questions.add_question(session, patient.id, text=text)
    assert message in str(caught.value)
    assert _count(session) == 0


def test_add_question_multiline_is_accepted(session: Session, patient: Patient) -> None:
    q = questions.add_question(session, patient.id, text="Two parts:\n1. why\n2. when")
    assert q.text == "Two parts:\n1. why\n2. when"


def test_add_question_unknown_appointment(session: Session, patient: Patient) -> None:
    with pytest.raises(NotFound, match="No appointment #4"):
        questions.add_question(session, patient.id, text="Why?", appointment=4)
    assert _count(session) == 0


def test_answer_question(session: Session, patient: Patient, doctor: Doctor) -> None:
    q = questions.add_question(session, patient.id, text="What stage?")
    questions.answer_question(
        session, q, answer=" IIA, node negative ", by=doctor.id, on=date(2026, 12, 3)
    )
    session.expire_all()
    row = questions.get_question(session, patient.id, q.id)
    assert (row.answer, row.answered_by_id, row.answered_on) == (
        "IIA, node negative",
        doctor.id,
        date(2026, 12, 3),
    )
    assert row.answered_by is not None
    assert row.answered_by.name == "Dr. Wei Chen"


def test_answer_question_defaults(session: Session, patient: Patient, doctor: Doctor) -> None:
    q = questions.add_question(session, patient.id, text="What stage?")
    questions.answer_question(session, q, answer="First", by=doctor.id, on=date(2026, 1, 1))
    questions.answer_question(session, q, answer="Multi\nline answer")
    assert (q.answer, q.answered_by, q.answered_on) == ("Multi\nline answer", None, date.today())


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("", "answer cannot be empty."),
        ("a" * 20_001, "answer is too long"),
        ("a\x00", "answer contains a control character"),
    ],
)
def test_answer_question_refusals(
    session: Session, patient: Patient, answer: str, message: str
) -> None:
    q = questions.add_question(session, patient.id, text="What stage?")
    with pytest.raises(InvalidInput) as caught:
        questions.answer_question(session, q, answer=answer)
    assert message in str(caught.value)
    assert (q.answer, q.answered_on) == (None, None)


def test_answer_with_unknown_doctor_changes_nothing(session: Session, patient: Patient) -> None:
    q = questions.add_question(session, patient.id, text="What stage?")
    with pytest.raises(NotFound, match="No doctor #42"):
        questions.answer_question(session, q, answer="IIA", by=42)
    assert q.answer is None


def test_list_questions_filters(
    session: Session, patient: Patient, doctor: Doctor, visit: Appointment
) -> None:
    other_visit = appointments.add_appointment(
        session,
        patient.id,
        doctor=doctor.id,
        starts_at=datetime(2027, 1, 3, 14, 30, tzinfo=UTC),
        time_zone="UTC",
    )
    q1 = questions.add_question(session, patient.id, text="One", appointment=visit.id)
    q2 = questions.add_question(session, patient.id, text="Two", appointment=other_visit.id)
    q3 = questions.add_question(session, patient.id, text="Three", appointment=visit.id)
    q4 = questions.add_question(session, patient.id, text="Four")
    questions.answer_question(session, q3, answer="Yes")

    def ids(**kwargs: object) -> list[int]:
        return [q.id for q in questions.list_questions(session, patient.id, **kwargs)]  # type: ignore[arg-type]

    assert ids() == [q1.id, q2.id, q3.id, q4.id]
    assert ids(appointment=visit.id) == [q1.id, q3.id]
    assert ids(appointment=other_visit.id) == [q2.id]
    assert ids(unanswered=True) == [q1.id, q2.id, q4.id]
    assert ids(appointment=visit.id, unanswered=True) == [q1.id]


def test_list_questions_with_a_huge_appointment_id(session: Session, patient: Patient) -> None:
    questions.add_question(session, patient.id, text="Why?")
    try:
        result = questions.list_questions(session, patient.id, appointment=2**70)
    except NotFound:
        return
    assert result == []


def test_remove_question(session: Session, patient: Patient) -> None:
    q = questions.add_question(session, patient.id, text="One")
    keep = questions.add_question(session, patient.id, text="Two")
    questions.remove_question(session, q)
    assert [x.id for x in questions.list_questions(session, patient.id)] == [keep.id]
    with pytest.raises(NotFound, match=f"No question #{q.id}"):
        questions.get_question(session, patient.id, q.id)
