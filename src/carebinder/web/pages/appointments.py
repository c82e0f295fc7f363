"""Appointments: when, where, with whom, shown in their own time zone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import AppointmentStatus, Coverage, Purpose
from carebinder.models import Patient
from carebinder.web.core import Page, Pages

pages = Pages()


def choices(s: Session, patient: Patient) -> dict[str, Any]:
    """What an appointment's form offers: the doctors, the vocabularies, this computer's zone."""
    from carebinder.dates import local_zone_name
    from carebinder.services import doctors

    return {
        "patient": patient,
        "doctors": doctors.list_doctors(s, patient.id),
        "purposes": [p.value for p in Purpose],
        "statuses": [p.value for p in AppointmentStatus],
        "coverages": [c.value for c in Coverage],
        "zone": local_zone_name(),
    }


def starts_at(page: Page) -> str:
    """The date and time fields as the command line's --at: 'YYYY-MM-DD HH:MM'."""
    return f"{page.text('date').strip()} {page.text('time').strip()}".strip()


def listing(s: Session, patient: Patient) -> dict[str, Any]:
    """The visits still to come, the next first; then those past, the latest first."""
    from carebinder.services import appointments

    upcoming = appointments.list_appointments(s, patient.id, upcoming=True)
    every = appointments.list_appointments(s, patient.id)
    return {
        "patient": patient,
        "upcoming": upcoming,
        "past": [a for a in reversed(every) if a not in upcoming],
        "start": appointments.local_start,
        "statuses": [p.value for p in AppointmentStatus],
    }


@pages.get("/appointments")
def list_(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render("appointments/list.html", title="Appointments", **listing(s, patient))


@pages.get("/appointments/new")
def new(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render(
            "appointments/form.html",
            title="Add an appointment",
            action="/appointments/new",
            **choices(s, patient),
        )


@pages.post("/appointments/new")
def add(page: Page) -> Response:
    from carebinder.services import appointments

    def add_appointment(s: Session, patient: Patient) -> tuple[str, str]:
        row = appointments.add_appointment(
            s,
            patient.id,
            doctor=page.required("doctor"),
            starts_at=starts_at(page),
            time_zone=page.optional("time_zone"),
            location=page.optional("location"),
            purpose=page.choice("purpose", Purpose),
            companion=page.optional("companion"),
            notes=page.optional("notes"),
        )
        return f"/appointments/{row.id}/checklist", f"Added the appointment with {row.doctor.name}."

    return page.change(
        add_appointment,
        form="appointments/form.html",
        context=choices,
        title="Add an appointment",
        action="/appointments/new",
    )


@pages.get("/appointments/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    from carebinder.services import appointments

    with page.binder() as (s, patient):
        row = appointments.get_appointment(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "appointments/form.html",
            title=f"Edit the appointment with {row.doctor.name}",
            row=row,
            start=appointments.local_start(row),
            action=f"/appointments/{row.id}/edit",
            **choices(s, patient),
        )


@pages.post("/appointments/{ident:int}/edit")
def edit(page: Page) -> Response:
    from carebinder.services import appointments

    ident = page.request.path_params["ident"]

    def edit_appointment(s: Session, patient: Patient) -> tuple[str, str]:
        row = appointments.edit_appointment(
            s,
            appointments.get_appointment(s, patient.id, ident),
            doctor=page.required("doctor"),
            at=starts_at(page),
            time_zone=page.text("time_zone").strip(),
            location=page.text("location"),
            purpose=page.choice("purpose", Purpose),
            status=page.choice("status", AppointmentStatus),
            companion=page.text("companion"),
            notes=page.text("notes"),
            staff_told=page.text("staff_told") == "yes",
            records_sent_on=page.day("records_sent_on"),
            coverage=page.choice("coverage", Coverage),
            coverage_ref=page.text("coverage_ref"),
        )
        return f"/appointments/{row.id}/checklist", f"Saved the appointment with {row.doctor.name}."

    return page.change(
        edit_appointment,
        form="appointments/form.html",
        context=choices,
        title="Edit the appointment",
        action=f"/appointments/{ident}/edit",
        editing=True,
    )


@pages.post("/appointments/{ident:int}/status")
def status(page: Page) -> Response:
    """One click: planned, done or cancelled."""
    from carebinder.services import appointments

    ident = page.request.path_params["ident"]

    def set_status(s: Session, patient: Patient) -> tuple[str, str]:
        row = appointments.edit_appointment(
            s,
            appointments.get_appointment(s, patient.id, ident),
            status=page.choice("status", AppointmentStatus),
        )
        return (
            f"/appointments#a{row.id}",
            f"The appointment with {row.doctor.name} is now {row.status.value}.",
        )

    return page.change(
        set_status, form="appointments/list.html", context=listing, title="Appointments"
    )


@pages.get("/appointments/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    from carebinder.services import appointments

    with page.binder() as (s, patient):
        row = appointments.get_appointment(s, patient.id, page.request.path_params["ident"])
        when = f"{appointments.local_start(row):%a %d %b %Y %H:%M} {row.time_zone}"
        return page.render(
            "confirm.html",
            title=f"Remove the appointment with {row.doctor.name}?",
            patient=patient,
            message=f"The appointment with {row.doctor.name} on {when} will be removed."
            " Its questions stay in the binder. This cannot be undone.",
            action=f"/appointments/{row.id}/remove",
            button="Remove the appointment",
            back="/appointments",
        )


@pages.post("/appointments/{ident:int}/remove")
def remove(page: Page) -> Response:
    from carebinder.services import appointments

    ident = page.request.path_params["ident"]

    def remove_appointment(s: Session, patient: Patient) -> tuple[str, str]:
        row = appointments.get_appointment(s, patient.id, ident)
        appointments.remove_appointment(s, row)
        return "/appointments", f"Removed the appointment with {row.doctor.name}."

    if not page.flag("confirmed"):
        return page.redirect(f"/appointments/{ident}/remove")
    return page.change(remove_appointment, form="message.html", title="Not removed", message="")
