"""Results: marker and biomarker values (ER, HER2, Ki-67, PSA, CA-125…), added on the health
summary; all the values of one marker, its trend, on a page of their own."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import Interpretation
from carebinder.models import Patient, Result
from carebinder.services import results
from carebinder.web.core import Page, Pages
from carebinder.web.pages import health

pages = Pages()


def trend_of(row: Result) -> str:
    """The page of a value: its marker's trend, at its row."""
    return f"/results?name={quote(row.name)}#result-{row.id}"


RESULT = health.Kind(
    "result",
    "/results",
    "results",
    results.get_result,
    results.remove_result,
    lambda row: f"{row.name} {row.value}",
    where=trend_of,
)


@pages.get("/results")
def trend(page: Page) -> Response:
    """All the values of the marker `?name=`, oldest first (its trend)."""
    name = page.request.query_params.get("name", "")
    if not name.strip():
        return page.redirect(f"{health.SECTION}#results")
    with page.binder() as (s, patient):
        values = results.list_results(s, patient.id, name)
        found = results.trends(values)
        if not found:
            return page.render(
                "message.html",
                status=404,
                title="Not found",
                patient=patient,
                section=health.SECTION,
                message=f"No values of {name.strip()[:60]!r} in this binder yet.",
            )
        return page.render(
            "health/trend.html",
            title=found[0].name,
            patient=patient,
            section=health.SECTION,
            trend=found[0],
        )


@pages.get("/results/{ident:int}")
def show(page: Page) -> Response:
    """A value (as search finds it): shown among its marker's values."""
    with page.binder() as (s, patient):
        row = results.get_result(s, patient.id, page.request.path_params["ident"])
        return page.redirect(trend_of(row))


@pages.post("/results/new")
def add(page: Page) -> Response:
    def add_result(s: Session, patient: Patient) -> tuple[str, str]:
        with health.chosen(record="record"):
            row = results.add_result(
                s,
                patient.id,
                name=page.text("name"),
                value=page.text("value"),
                unit=page.optional("unit"),
                on=page.day("date"),
                record=page.number("record"),
                interpretation=page.option("interpretation", Interpretation),
                notes=page.optional("notes"),
            )
        shown = f"{row.value} {row.unit}" if row.unit else row.value
        return f"{health.SECTION}#results", f"Added {row.name}: {shown}."

    return health.add(page, add_result, "result")


@pages.get("/results/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    return health.edit_form(page, RESULT)


@pages.post("/results/{ident:int}/edit")
def edit(page: Page) -> Response:
    def edit_result(s: Session, row: Result) -> str:
        with health.chosen(record="record"):
            results.edit_result(
                s,
                row,
                name=page.text("name"),
                value=page.text("value"),
                unit=page.text("unit"),
                on=page.day("date"),
                record=page.number("record"),
                interpretation=page.option("interpretation", Interpretation),
                notes=page.text("notes"),
            )
        return f"Saved {row.name}: {row.value}."

    return health.edit(page, RESULT, edit_result)


@pages.get("/results/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    return health.remove_form(page, RESULT)


@pages.post("/results/{ident:int}/remove")
def remove(page: Page) -> Response:
    return health.remove(page, RESULT)
