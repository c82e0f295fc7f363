"""Opinions: what each doctor concluded, and how the opinions compare."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.models import Patient
from carebinder.web.core import Page, Pages

pages = Pages()


def choices(s: Session, patient: Patient) -> dict[str, Any]:
    """What an opinion's form offers: the doctors, and the records it may be based on."""
    from carebinder.services import doctors, records

    return {
        "patient": patient,
        "doctors": doctors.list_doctors(s, patient.id),
        "records": records.list_records(s, patient.id),
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
