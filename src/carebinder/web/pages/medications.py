"""Medications: added in one short form on the health summary, stopped in one click (dated
today, as `medication stop`), edited, removed; and "takes no medications" in one click."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import MedicationKind
from carebinder.models import Medication, Patient
from carebinder.services import medications
from carebinder.web.core import Page, Pages
from carebinder.web.pages import health

pages = Pages()
MEDICATION = health.Kind(
    "medication",
    "/medications",
    "medications",
    medications.get_medication,
    medications.remove_medication,
    lambda row: row.name,
)


def said(row: Medication, verb: str, changed: medications.Changed) -> str:
    """The message of a medication added or saved, and the statement it ended."""
    return " ".join(filter(None, (f"{verb} {row.name}.", changed.ended_note)))


@pages.post("/medications/new")
def add(page: Page) -> Response:
    def add_medication(s: Session, patient: Patient) -> tuple[str, str]:
        with health.chosen(prescriber="doctor"):
            changed = medications.add_medication(
                s,
                patient.id,
                name=page.text("name"),
                dose=page.optional("dose"),
                how=page.optional("how"),
                kind=page.option("kind", MedicationKind) or MedicationKind.PRESCRIPTION,
                started=page.day("started"),
                stopped=page.day("stopped"),
                reason=page.optional("reason"),
                prescriber=page.number("prescriber"),
                notes=page.optional("notes"),
            )
        row = changed.medication
        return MEDICATION.back(row), said(row, "Added", changed)

    return health.add(page, add_medication, "medication")


@pages.get("/medications/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    return health.edit_form(page, MEDICATION)


@pages.post("/medications/{ident:int}/edit")
def edit(page: Page) -> Response:
    def edit_medication(s: Session, row: Medication) -> str:
        with health.chosen(prescriber="doctor"):
            changed = medications.edit_medication(
                s,
                row,
                name=page.text("name"),
                dose=page.text("dose"),
                how=page.text("how"),
                kind=page.choice("kind", MedicationKind),
                started=page.day("started"),
                stopped=page.day("stopped"),
                reason=page.text("reason"),
                prescriber=page.number("prescriber"),
                notes=page.text("notes"),
            )
        return said(row, "Saved", changed)

    return health.edit(page, MEDICATION, edit_medication)


@pages.post("/medications/{ident:int}/stop")
def stop(page: Page) -> Response:
    """One click: no longer taken from today; it stays in the history."""
    ident = page.request.path_params["ident"]

    def stop_medication(s: Session, patient: Patient) -> tuple[str, str]:
        row = medications.stop_medication(s, medications.get_medication(s, patient.id, ident))
        assert row.stopped is not None
        return (
            f"{health.SECTION}#medication-{row.id}",
            f"Stopped {row.name} on {row.stopped.isoformat()}; it stays in the history.",
        )

    return health.click(page, stop_medication)


@pages.post("/medications/none")
def none(page: Page) -> Response:
    """One click: "takes no medications", stated today; refused while one is current."""

    def state_none(s: Session, patient: Patient) -> tuple[str, str]:
        medications.state_none(s, patient)
        assert patient.no_medications_on is not None
        day = patient.no_medications_on.isoformat()
        return f"{health.SECTION}#medications", f"Recorded: takes no medications (stated {day})."

    return health.click(page, state_none)


@pages.get("/medications/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    return health.remove_form(page, MEDICATION)


@pages.post("/medications/{ident:int}/remove")
def remove(page: Page) -> Response:
    return health.remove(page, MEDICATION)
