"""The checklist of a visit: what is ready, what is missing, and the page that fixes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from carebinder.web.core import Page, Pages

if TYPE_CHECKING:
    from carebinder.models import Appointment
    from carebinder.services.checklist import Checklist

pages = Pages()

# The checklist says what to do in the command line's words (`fix`); a page says it as a
# link to the page that does it: (address, words), by the item's key.
FIXES = {
    "staff_told": ("/appointments/{a}/edit#f-staff_told", "Tell the staff, then tick it"),
    "records_sent": (
        "/appointments/{a}/edit#f-records_sent_on",
        "Send the records, then write the date",
    ),
    "coverage": (
        "/appointments/{a}/edit#f-coverage",
        "Confirm the coverage with the insurer",
    ),
    "companion": ("/appointments/{a}/edit#f-companion", "Name who is coming with you"),
    "pathology_report": ("/records/new", "Add the pathology report"),
    "surgery_report": ("/records/new", "Add the surgery report"),
    "treatment_plan": ("/records/new", "Add the treatment plan"),
    "medications": ("/health#medications", "List the medicines and supplements taken, or say none"),
    "allergies": ("/health#allergies", "List the allergies, or say there are none known"),
    "materials": ("/materials", "Get the slides and imaging discs, and mark them received"),
    "questions": (
        "/questions?appointment={a}#f-text",
        "Write the questions to ask at this visit",
    ),
}


def fixes(appointment: Appointment, checklist: Checklist) -> dict[str, tuple[str, str]]:
    """The link that fixes each missing item of `checklist`, by its key."""
    links = {}
    for item in checklist.missing:
        href, words = FIXES.get(item.key, ("/appointments/{a}/edit", "Change the appointment"))
        links[item.key] = (href.format(a=appointment.id), words)
    return links


@pages.get("/appointments/{ident:int}/checklist")
def checklist(page: Page) -> Response:
    from carebinder.services import appointments
    from carebinder.services import checklist as service

    with page.binder() as (s, patient):
        row = appointments.get_appointment(s, patient.id, page.request.path_params["ident"])
        result = service.build(s, row)
        return page.render(
            "appointments/checklist.html",
            title=f"Checklist for the appointment with {row.doctor.name}",
            patient=patient,
            appointment=row,
            start=appointments.local_start(row),
            checklist=result,
            fixes=fixes(row, result),
        )
