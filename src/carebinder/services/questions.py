"""Questions to ask, and the answers recorded."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.models import Appointment, Question
from carebinder.services.common import LONG_TEXT, get_scoped, required_text
from carebinder.services.doctors import get_doctor

QUESTION_LIMIT = 2_000


def get_question(session: Session, patient_id: int, ident: int) -> Question:
    return get_scoped(session, Question, patient_id, ident, "question")


def add_question(
    session: Session, patient_id: int, *, text: str, appointment: int | None = None
) -> Question:
    from carebinder.services.appointments import get_appointment

    question = Question(
        patient_id=patient_id,
        text=required_text(text, "text", limit=QUESTION_LIMIT),
        appointment=None
        if appointment is None
        else get_appointment(session, patient_id, appointment),
    )
    session.add(question)
    session.flush()
    return question


def answer_question(
    session: Session,
    question: Question,
    *,
    answer: str,
    by: int | None = None,
    on: date | None = None,
) -> Question:
    text = required_text(answer, "answer", limit=LONG_TEXT)
    doctor = None if by is None else get_doctor(session, question.patient_id, by)
    question.answer = text
    question.answered_by = doctor
    question.answered_on = on or date.today()
    session.flush()
    return question


def list_questions(
    session: Session,
    patient_id: int,
    *,
    appointment: int | None = None,
    unanswered: bool = False,
) -> list[Question]:
    query = (
        select(Question)
        .where(Question.patient_id == patient_id)
        .options(
            selectinload(Question.answered_by),
            selectinload(Question.appointment).selectinload(Appointment.doctor),
        )
        .order_by(Question.id)
    )
    if appointment is not None:
        from carebinder.services.appointments import get_appointment

        get_appointment(session, patient_id, appointment)  # NotFound for a stranger's id
        query = query.where(Question.appointment_id == appointment)
    if unanswered:
        query = query.where(Question.answer.is_(None))
    return list(session.scalars(query))


def remove_question(session: Session, question: Question) -> None:
    session.delete(question)
    session.flush()


def to_json(question: Question) -> dict[str, Any]:
    return {
        "id": question.id,
        "text": question.text,
        "appointment": question.appointment_id,
        "answer": question.answer,
        "answered_by": question.answered_by_id,
        "answered_on": question.answered_on.isoformat() if question.answered_on else None,
    }
