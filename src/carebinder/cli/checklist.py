"""`carebinder checklist APPOINTMENT`: what is ready and what is missing for a visit."""

from __future__ import annotations

import typer

from carebinder.cli.common import App, emit_json, out, patient_session
from carebinder.cli.options import AppointmentId, Json

MARKS = {True: "[x]", False: "[ ]", None: "[-]"}


def register(app: App) -> None:
    app.command("checklist")(checklist)


def checklist(ctx: typer.Context, appointment: AppointmentId, as_json: Json = False) -> None:
    """What is ready and what is missing for a visit.

    Example: carebinder checklist 1
    """
    from carebinder.services import appointments
    from carebinder.services import checklist as service

    with patient_session(ctx) as (s, patient):
        row = appointments.get_appointment(s, patient.id, appointment)
        result = service.build(s, row)
        title = f"Checklist for appointment #{row.id} with {row.doctor.name}"
    if as_json:
        emit_json(service.to_json(result))
        return
    out(title)
    for item in result.items:
        out(f"  {MARKS[item.ready]} {item.label}: {item.detail}")
    out()
    out(f"{result.ready_count} of {result.applicable_count} ready.")
    if result.missing:
        out("To do next:")
        for item in result.missing:
            out(f"  {item.fix}")
