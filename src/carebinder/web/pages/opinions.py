"""Opinions: what each doctor concluded, and how the opinions compare."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import Laterality, StagingBasis
from carebinder.models import Patient
from carebinder.services.staging import ECOG_MEANING, tnm
from carebinder.web.core import Page, Pages

pages = Pages()
LATERALITIES = [(k.value, k.value.capitalize()) for k in Laterality]
BASES = [("clinical", "Clinical (c)"), ("pathologic", "Pathologic (p)")]  # the hint says more
ECOG = [(value, f"{value}: {meaning}") for value, meaning in ECOG_MEANING.items()]


def choices(s: Session, patient: Patient) -> dict[str, Any]:
    """What an opinion's form offers: the doctors, the records it may be based on, and
    the words of the cancer facts."""
    from carebinder.services import doctors, records

    return {
        "patient": patient,
        "doctors": doctors.list_doctors(s, patient.id),
        "records": records.list_records(s, patient.id),
        "lateralities": LATERALITIES,
        "bases": BASES,
        "ecog": ECOG,
    }


def facts(page: Page, text: Callable[[str], str | None]) -> dict[str, Any]:
    """The structured cancer facts as typed; `text` reads a text field (page.optional to
    add, page.text to edit, where an emptied field is cleared)."""
    return {
        "site": text("site"),
        "laterality": page.option("laterality", Laterality),
        "histology": text("histology"),
        "grade": text("grade"),
        "t": text("t"),
        "n": text("n"),
        "m": text("m"),
        "staging": page.option("staging", StagingBasis),
        "ajcc_edition": page.whole("ajcc_edition"),
        "ecog": page.whole("ecog"),
    }


@pages.get("/opinions")
def list_(page: Page) -> Response:
    from carebinder.services import opinions

    with page.binder() as (s, patient):
        return page.render(
            "opinions/list.html",
            title="Opinions",
            patient=patient,
            opinions=opinions.list_opinions(s, patient.id),
            tnm=tnm,
        )


@pages.get("/opinions/compare")
def compare(page: Page) -> Response:
    from carebinder.services import opinions

    with page.binder() as (s, patient):
        return page.render(
            "opinions/compare.html",
            title="The opinions side by side",
            patient=patient,
            comparison=opinions.compare(s, patient.id),
            shown=opinions.shown,  # a row's field is to_json's, not an attribute
        )


@pages.get("/opinions/{ident:int}")
def show(page: Page) -> Response:
    from carebinder.services import opinions

    with page.binder() as (s, patient):
        row = opinions.get_opinion(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "opinions/show.html",
            title=f"The opinion from {row.doctor.name}",
            patient=patient,
            opinion=row,
            facts=opinions.to_json(row),
            ecog=ECOG_MEANING,
        )


@pages.get("/opinions/new")
def new(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render(
            "opinions/form.html",
            title="Add an opinion",
            action="/opinions/new",
            chosen=[],
            **choices(s, patient),
        )


@pages.post("/opinions/new")
def add(page: Page) -> Response:
    from carebinder.services import opinions

    def add_opinion(s: Session, patient: Patient) -> tuple[str, str]:
        row = opinions.add_opinion(
            s,
            patient.id,
            doctor=page.required("doctor"),
            diagnosis=page.text("diagnosis"),
            date=page.day("date"),
            stage=page.optional("stage"),
            plan=page.optional("plan"),
            notes=page.optional("notes"),
            records=page.numbers("records"),
            **facts(page, page.optional),
        )
        return "/opinions", f"Added the opinion from {row.doctor.name}."

    return page.change(
        add_opinion,
        form="opinions/form.html",
        context=choices,
        title="Add an opinion",
        action="/opinions/new",
        chosen=page.ticked("records"),
    )


@pages.get("/opinions/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    from carebinder.services import opinions

    with page.binder() as (s, patient):
        row = opinions.get_opinion(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "opinions/form.html",
            title=f"Edit the opinion from {row.doctor.name}",
            row=row,
            action=f"/opinions/{row.id}/edit",
            chosen=[str(r.id) for r in row.records],
            **choices(s, patient),
        )


@pages.post("/opinions/{ident:int}/edit")
def edit(page: Page) -> Response:
    from carebinder.services import opinions

    ident = page.request.path_params["ident"]

    def edit_opinion(s: Session, patient: Patient) -> tuple[str, str]:
        row = opinions.edit_opinion(
            s,
            opinions.get_opinion(s, patient.id, ident),
            doctor=page.required("doctor"),
            diagnosis=page.text("diagnosis"),
            date=page.day("date"),
            stage=page.text("stage"),
            plan=page.text("plan"),
            notes=page.text("notes"),
            records=page.numbers("records"),
            **facts(page, page.text),
        )
        return f"/opinions#o{row.id}", f"Saved the opinion from {row.doctor.name}."

    return page.change(
        edit_opinion,
        form="opinions/form.html",
        context=choices,
        title="Edit the opinion",
        action=f"/opinions/{ident}/edit",
        chosen=page.ticked("records"),
    )


@pages.get("/opinions/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    from carebinder.services import opinions

    with page.binder() as (s, patient):
        row = opinions.get_opinion(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "confirm.html",
            title=f"Remove the opinion from {row.doctor.name}?",
            patient=patient,
            message=f"The opinion from {row.doctor.name} will be removed from the binder;"
            " the records it was based on stay. This cannot be undone.",
            action=f"/opinions/{row.id}/remove",
            button="Remove the opinion",
            back="/opinions",
        )


@pages.post("/opinions/{ident:int}/remove")
def remove(page: Page) -> Response:
    from carebinder.services import opinions

    ident = page.request.path_params["ident"]

    def remove_opinion(s: Session, patient: Patient) -> tuple[str, str]:
        row = opinions.get_opinion(s, patient.id, ident)
        opinions.remove_opinion(s, row)
        return "/opinions", f"Removed the opinion from {row.doctor.name}."

    if not page.flag("confirmed"):
        return page.redirect(f"/opinions/{ident}/remove")
    return page.change(remove_opinion, form="message.html", title="Not removed", message="")
