"""The home page: the chosen patient's binder at a glance."""

from __future__ import annotations

from starlette.responses import Response

from carebinder.choices import AppointmentStatus
from carebinder.web.core import Page, Pages
from carebinder.web.pages.checklist import fixes

pages = Pages()

RECENT_RECORDS = 5


@pages.get("/")
def home(page: Page) -> Response:
    from carebinder.services import (
        allergies,
        appointments,
        checklist,
        doctors,
        medications,
        opinions,
        questions,
        records,
    )

    with page.binder() as (s, patient):
        upcoming = appointments.list_appointments(s, patient.id, upcoming=True)
        planned = [a for a in upcoming if a.status is AppointmentStatus.PLANNED]
        following = planned[0] if planned else None  # a cancelled visit is not the next
        ready = checklist.build(s, following) if following else None
        return page.render(
            "home.html",
            title="Home",
            patient=patient,
            doctors=doctors.list_doctors(s, patient.id),
            questions=questions.list_questions(s, patient.id, unanswered=True),
            following=following,
            start=appointments.local_start(following) if following else None,
            checklist=ready,
            fixes=fixes(following, ready) if following and ready else {},
            # the latest first, an undated record by the day it was added
            records=sorted(
                records.list_records(s, patient.id),
                key=lambda r: r.date or r.created_at.date(),
                reverse=True,
            )[:RECENT_RECORDS],
            opinions=opinions.list_opinions(s, patient.id),
            medication_state=medications.medication_state(s, patient),
            allergy_state=allergies.allergy_state(s, patient),
        )


@pages.get("/more")
def more(page: Page) -> Response:
    """What is done now and then: bringing files in and out, and checking the binder."""
    return page.render("more.html", title="More")
