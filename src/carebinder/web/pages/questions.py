"""Questions to ask, and the answers given."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.models import Patient
from carebinder.web.core import Page, Pages

pages = Pages()


def listing(s: Session, patient: Patient) -> dict[str, Any]:
    from carebinder.services import appointments, doctors, questions

    return {
        "patient": patient,
        "questions": questions.list_questions(s, patient.id),
        "doctors": doctors.list_doctors(s, patient.id),
        "appointments": appointments.list_appointments(s, patient.id),
        "start": appointments.local_start,
    }


@pages.get("/questions")
def list_(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render(
            "questions/list.html",
            title="Questions",
            visit=page.request.query_params.get("appointment"),  # the checklist's link
            **listing(s, patient),
        )


@pages.post("/questions/new")
def add(page: Page) -> Response:
    from carebinder.services import questions

    def add_question(s: Session, patient: Patient) -> tuple[str, str]:
        questions.add_question(
            s, patient.id, text=page.text("text"), appointment=page.number("appointment")
        )
        visit = page.number("appointment")  # the next question is likely for it too
        return (f"/questions?appointment={visit}" if visit else "/questions"), "Question added."

    return page.change(add_question, form="questions/list.html", context=listing, title="Questions")


@pages.post("/questions/{ident:int}/answer")
def answer(page: Page) -> Response:
    from carebinder.services import questions

    ident = page.request.path_params["ident"]

    def answer_question(s: Session, patient: Patient) -> tuple[str, str]:
        row = questions.get_question(s, patient.id, ident)
        questions.answer_question(s, row, answer=page.text("answer"), by=page.number("by"))
        return f"/questions#q{row.id}", "Answer saved."

    return page.change(
        answer_question,
        form="questions/list.html",
        context=listing,
        title="Questions",
        answering=ident,
    )
