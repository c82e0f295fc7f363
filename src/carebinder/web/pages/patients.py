"""Patients: a caregiver may keep several binders, one per person."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder import config
from carebinder.dates import parse_date
from carebinder.web.core import Page, Pages

pages = Pages()
FIELDS = ("mrn", "phone", "email", "insurer", "plan", "member_id", "insurer_phone")


@pages.get("/patients")
def list_(page: Page) -> Response:
    from carebinder.services import patients

    with page.session() as s:
        everyone = patients.list_patients(s)
    chosen = page.web.chosen()
    if chosen not in {p.id for p in everyone}:
        chosen = everyone[0].id if len(everyone) == 1 else None
    return page.render("patients/list.html", title="Patients", patients=everyone, chosen=chosen)


@pages.get("/patients/new")
def new(page: Page) -> Response:
    return page.render("patients/form.html", title="Add a patient", action="/patients/new")


@pages.post("/patients/new")
def add(page: Page) -> Response:
    from carebinder.services import patients

    def add_patient(s: Session, _: Any) -> tuple[str, str]:
        row = patients.add_patient(
            s,
            name=page.text("name"),
            born=parse_date(page.text("born"), "born"),
            address=page.optional("address"),
            **{f: page.optional(f) for f in FIELDS},
        )
        current = patients.chosen_or_new(s, page.web.chosen(), row)
        if current is row:
            config.remember_patient(page.web.settings, row.id)
            return "/", f"Added {row.name}. The binder now shows {row.name}."
        return "/patients", (
            f"Added {row.name}. The binder still shows {current.name if current else 'no one yet'}:"
            f" choose {row.name} below to work on them."
        )

    return page.change(
        add_patient,
        form="patients/form.html",
        title="Add a patient",
        action="/patients/new",
        patient=False,
    )


@pages.get("/patients/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    from carebinder.services import patients

    with page.session() as s:
        row = patients.get_patient(s, page.request.path_params["ident"])
        return page.render(
            "patients/form.html",
            title=f"Edit {row.name}",
            row=row,
            action=f"/patients/{row.id}/edit",
        )


@pages.post("/patients/{ident:int}/edit")
def edit(page: Page) -> Response:
    from carebinder.services import patients

    ident = page.request.path_params["ident"]

    def edit_patient(s: Session, _: Any) -> tuple[str, str]:
        row = patients.get_patient(s, ident)
        patients.edit_patient(
            s,
            row,
            name=page.text("name"),
            born=parse_date(page.text("born"), "born"),
            address=page.text("address"),
            **{f: page.text(f) for f in FIELDS},
        )
        return "/patients", f"Saved {row.name}."

    return page.change(
        edit_patient,
        form="patients/form.html",
        title="Edit the patient",
        action=f"/patients/{ident}/edit",
        patient=False,
    )


@pages.post("/patients/use")
def use(page: Page) -> Response:
    from carebinder.services import patients

    with page.session() as s:
        row = patients.get_patient(s, page.number("patient") or 0)
        name = row.name
    config.remember_patient(page.web.settings, row.id)
    page.web.patient = None  # a choice made here outranks --patient from now on
    return page.redirect("/", f"Now working on {name}.")
