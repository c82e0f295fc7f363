"""Other conditions (diabetes, heart disease…): added on the health summary, edited, removed."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.models import Condition, Patient
from carebinder.services import conditions
from carebinder.web.core import Page, Pages
from carebinder.web.pages import health

pages = Pages()
CONDITION = health.Kind(
    "condition",
    "/conditions",
    "conditions",
    conditions.get_condition,
    conditions.remove_condition,
    lambda row: row.name,
)


@pages.post("/conditions/new")
def add(page: Page) -> Response:
    def add_condition(s: Session, patient: Patient) -> tuple[str, str]:
        row = conditions.add_condition(
            s,
            patient.id,
            name=page.text("name"),
            since=page.day("since"),
            notes=page.optional("notes"),
        )
        return CONDITION.back(row), f"Added {row.name}."

    return health.add(page, add_condition, "condition")


@pages.get("/conditions/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    return health.edit_form(page, CONDITION)


@pages.post("/conditions/{ident:int}/edit")
def edit(page: Page) -> Response:
    def edit_condition(s: Session, row: Condition) -> str:
        conditions.edit_condition(
            s, row, name=page.text("name"), since=page.day("since"), notes=page.text("notes")
        )
        return f"Saved {row.name}."

    return health.edit(page, CONDITION, edit_condition)


@pages.get("/conditions/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    return health.remove_form(page, CONDITION)


@pages.post("/conditions/{ident:int}/remove")
def remove(page: Page) -> Response:
    return health.remove(page, CONDITION)
