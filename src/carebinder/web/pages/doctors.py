"""Doctors: everyone on the care team, with who referred whom."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.models import Patient
from carebinder.web.core import Page, Pages

pages = Pages()


def team(s: Session, patient: Patient) -> dict[str, Any]:
    from carebinder.services import doctors

    return {"patient": patient, "doctors": doctors.list_doctors(s, patient.id)}


@pages.get("/doctors")
def list_(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render("doctors/list.html", title="Doctors", **team(s, patient))


@pages.get("/doctors/new")
def new(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render(
            "doctors/form.html", title="Add a doctor", action="/doctors/new", **team(s, patient)
        )


@pages.post("/doctors/new")
def add(page: Page) -> Response:
    from carebinder.services import doctors

    def add_doctor(s: Session, patient: Patient) -> tuple[str, str]:
        row = doctors.add_doctor(
            s,
            patient.id,
            name=page.text("name"),
            referred_by=page.number("referred_by"),
            npi=page.optional("npi"),
            address=page.optional("address"),
            notes=page.optional("notes"),
            specialty=page.optional("specialty"),
            institution=page.optional("institution"),
            phone=page.optional("phone"),
            email=page.optional("email"),
        )
        return f"/doctors/{row.id}", f"Added {row.name}."

    return page.change(
        add_doctor,
        form="doctors/form.html",
        context=team,
        title="Add a doctor",
        action="/doctors/new",
    )


@pages.get("/doctors/{ident:int}")
def show(page: Page) -> Response:
    from carebinder.services import doctors

    with page.binder() as (s, patient):
        row = doctors.get_doctor(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "doctors/show.html",
            title=row.name,
            patient=patient,
            doctor=row,
            referred=[d for d in doctors.list_doctors(s, patient.id) if d.referred_by_id == row.id],
        )


@pages.get("/doctors/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    from carebinder.services import doctors

    with page.binder() as (s, patient):
        row = doctors.get_doctor(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "doctors/form.html",
            title=f"Edit {row.name}",
            row=row,
            action=f"/doctors/{row.id}/edit",
            **team(s, patient),
        )


@pages.post("/doctors/{ident:int}/edit")
def edit(page: Page) -> Response:
    from carebinder.services import doctors

    ident = page.request.path_params["ident"]

    def edit_doctor(s: Session, patient: Patient) -> tuple[str, str]:
        row = doctors.get_doctor(s, patient.id, ident)
        doctors.edit_doctor(
            s,
            row,
            name=page.text("name"),
            referred_by=page.number("referred_by"),
            npi=page.text("npi"),
            address=page.text("address"),
            notes=page.text("notes"),
            specialty=page.text("specialty"),
            institution=page.text("institution"),
            phone=page.text("phone"),
            email=page.text("email"),
        )
        return f"/doctors/{row.id}", f"Saved {row.name}."

    return page.change(
        edit_doctor,
        form="doctors/form.html",
        context=team,
        title="Edit the doctor",
        action=f"/doctors/{ident}/edit",
    )


@pages.get("/doctors/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    from carebinder.services import doctors

    with page.binder() as (s, patient):
        row = doctors.get_doctor(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "confirm.html",
            title=f"Remove {row.name}?",
            patient=patient,
            message=f"{row.name} will be removed from the binder. This cannot be undone.",
            action=f"/doctors/{row.id}/remove",
            button=f"Remove {row.name}",
            back=f"/doctors/{row.id}",
        )


@pages.post("/doctors/{ident:int}/remove")
def remove(page: Page) -> Response:
    from carebinder.services import doctors

    ident = page.request.path_params["ident"]

    def remove_doctor(s: Session, patient: Patient) -> tuple[str, str]:
        row = doctors.get_doctor(s, patient.id, ident)
        doctors.check_removable(s, row)
        doctors.remove_doctor(s, row)
        return "/doctors", f"Removed {row.name}."

    if not page.flag("confirmed"):
        return page.redirect(f"/doctors/{ident}/remove")
    return page.change(remove_doctor, form="message.html", title="Not removed", message="")
