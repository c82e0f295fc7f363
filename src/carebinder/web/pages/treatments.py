"""Treatments so far (surgery, chemotherapy, radiation…): added on the health summary,
edited, removed."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import TreatmentKind
from carebinder.models import Patient, Treatment
from carebinder.services import treatments
from carebinder.web.core import Page, Pages
from carebinder.web.pages import health

pages = Pages()
TREATMENT = health.Kind(
    "treatment",
    "/treatments",
    "treatments",
    treatments.get_treatment,
    treatments.remove_treatment,
    lambda row: row.name,
)


@pages.post("/treatments/new")
def add(page: Page) -> Response:
    def add_treatment(s: Session, patient: Patient) -> tuple[str, str]:
        with health.chosen(doctor="doctor"):
            row = treatments.add_treatment(
                s,
                patient.id,
                kind=page.choice("kind", TreatmentKind),
                name=page.text("name"),
                started=page.day("started"),
                ended=page.day("ended"),
                doctor=page.number("doctor"),
                response=page.optional("response"),
                notes=page.optional("notes"),
            )
        return TREATMENT.back(row), f"Added {row.name} ({row.kind.value})."

    return health.add(page, add_treatment, "treatment")


@pages.get("/treatments/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    return health.edit_form(page, TREATMENT)


@pages.post("/treatments/{ident:int}/edit")
def edit(page: Page) -> Response:
    def edit_treatment(s: Session, row: Treatment) -> str:
        with health.chosen(doctor="doctor"):
            treatments.edit_treatment(
                s,
                row,
                kind=page.choice("kind", TreatmentKind),
                name=page.text("name"),
                started=page.day("started"),
                ended=page.day("ended"),
                doctor=page.number("doctor"),
                response=page.text("response"),
                notes=page.text("notes"),
            )
        return f"Saved {row.name}."

    return health.edit(page, TREATMENT, edit_treatment)


@pages.get("/treatments/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    return health.remove_form(page, TREATMENT)


@pages.post("/treatments/{ident:int}/remove")
def remove(page: Page) -> Response:
    return health.remove(page, TREATMENT)
