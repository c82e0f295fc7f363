"""The home page: the chosen patient's binder at a glance."""

from __future__ import annotations

from starlette.responses import Response

from carebinder.web.core import Page, Pages

pages = Pages()


@pages.get("/")
def home(page: Page) -> Response:
    from carebinder.services import doctors, questions

    with page.binder() as (s, patient):
        team = doctors.list_doctors(s, patient.id)
        open_questions = questions.list_questions(s, patient.id, unanswered=True)
        return page.render(
            "home.html", title="Home", patient=patient, doctors=team, questions=open_questions
        )
