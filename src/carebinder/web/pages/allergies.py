"""Allergies: added in one short form on the health summary, edited, removed; and "no known
allergies" in one click."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import AllergyKind, Severity
from carebinder.models import Allergy, Patient
from carebinder.services import allergies
from carebinder.web.core import Page, Pages
from carebinder.web.pages import health

pages = Pages()
ALLERGY = health.Kind(
    "allergy",
    "/allergies",
    "allergies",
    allergies.get_allergy,
    allergies.remove_allergy,
    lambda row: row.substance,
)


@pages.post("/allergies/new")
def add(page: Page) -> Response:
    def add_allergy(s: Session, patient: Patient) -> tuple[str, str]:
        added = allergies.add_allergy(
            s,
            patient.id,
            substance=page.text("substance"),
            reaction=page.optional("reaction"),
            severity=page.option("severity", Severity),
            kind=page.option("kind", AllergyKind),
            notes=page.optional("notes"),
        )
        row = added.allergy
        done = " ".join(filter(None, (f"Added {row.substance}.", added.ended_note)))
        return ALLERGY.back(row), done

    return health.add(page, add_allergy, "allergy")


@pages.get("/allergies/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    return health.edit_form(page, ALLERGY)


@pages.post("/allergies/{ident:int}/edit")
def edit(page: Page) -> Response:
    def edit_allergy(s: Session, row: Allergy) -> str:
        allergies.edit_allergy(
            s,
            row,
            substance=page.text("substance"),
            reaction=page.text("reaction"),
            severity=page.option("severity", Severity),
            kind=page.option("kind", AllergyKind),
            notes=page.text("notes"),
        )
        return f"Saved {row.substance}."

    return health.edit(page, ALLERGY, edit_allergy)


@pages.post("/allergies/none")
def none(page: Page) -> Response:
    """One click: "no known allergies", stated today; refused while allergies are listed."""

    def state_none(s: Session, patient: Patient) -> tuple[str, str]:
        allergies.state_none(s, patient)
        assert patient.no_allergies_on is not None
        day = patient.no_allergies_on.isoformat()
        return f"{health.SECTION}#allergies", f"Recorded: no known allergies (stated {day})."

    return health.click(page, state_none)


@pages.get("/allergies/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    return health.remove_form(page, ALLERGY)


@pages.post("/allergies/{ident:int}/remove")
def remove(page: Page) -> Response:
    return health.remove(page, ALLERGY)
