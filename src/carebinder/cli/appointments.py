"""`carebinder appointment …`: visits, their preparation, and what goes in their packet."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from carebinder.choices import AppointmentStatus, Coverage, Purpose
from carebinder.cli.common import (
    App,
    confirm_removal,
    emit_json,
    fields,
    keep_date,
    keep_text,
    keep_value,
    note,
    out,
    patient_session,
    result,
    table,
)
from carebinder.cli.options import AppointmentId, Json, Notes, Yes
from carebinder.words import plural

app = App(help="Appointments: when, where, with whom, and how ready you are.")

At = Annotated[str, typer.Option(help="Date and time, 'YYYY-MM-DD HH:MM'.")]
Tz = Annotated[
    str | None,
    typer.Option(help="Time zone of the visit, e.g. America/New_York (default: this computer's)."),
]
Location = Annotated[str | None, typer.Option(help="Address, building, floor, room.")]
Companion = Annotated[str | None, typer.Option(help="Who is coming with you.")]


@app.command("add")
def add(
    ctx: typer.Context,
    doctor: Annotated[int, typer.Option(help="Id of the doctor you will see.")],
    at: At,
    tz: Tz = None,
    location: Location = None,
    purpose: Annotated[Purpose, typer.Option(help="Why you are going.")] = Purpose.SECOND_OPINION,
    companion: Companion = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Add an appointment.

    Example: carebinder appointment add --doctor 2 --at "2026-12-03 09:30"
    --tz America/New_York --location "450 Brookline Ave, Boston" --companion "Marco"
    """
    from carebinder.services import appointments

    with patient_session(ctx, write=True) as (s, patient):
        row = appointments.add_appointment(
            s,
            patient.id,
            doctor=doctor,
            starts_at=at,
            time_zone=tz,
            location=location,
            purpose=purpose,
            companion=companion,
            notes=notes,
        )
        data = appointments.to_json(row)
    result(
        data, as_json, f"Added appointment #{data['id']}: {data['doctor_name']}, {_pretty(data)}"
    )


def _pretty(data: dict[str, Any]) -> str:
    from datetime import datetime

    start = datetime.fromisoformat(data["start"])
    return f"{start:%a %d %b %Y %H:%M} {data['time_zone']}"


@app.command("list")
def list_(
    ctx: typer.Context,
    upcoming: Annotated[bool, typer.Option(help="Only visits still to come.")] = False,
    as_json: Json = False,
) -> None:
    """List the appointments in date order.

    Example: carebinder appointment list --upcoming
    """
    from carebinder.services import appointments

    with patient_session(ctx) as (s, patient):
        rows = appointments.list_appointments(s, patient.id, upcoming=upcoming)
        data = [appointments.to_json(a) for a in rows]
    if as_json:
        emit_json(data)
        return
    table(
        ["ID", "WHEN", "DOCTOR", "PURPOSE", "STATUS", "LOCATION"],
        [
            [a["id"], _pretty(a), a["doctor_name"], a["purpose"], a["status"], a["location"]]
            for a in data
        ],
        empty="No appointments yet. Add one: carebinder appointment add --doctor ID --at DATETIME",
    )


@app.command("show")
def show(ctx: typer.Context, appointment: AppointmentId, as_json: Json = False) -> None:
    """Show an appointment with its preparation and chosen records.

    Example: carebinder appointment show 1
    """
    from carebinder.services import appointments

    with patient_session(ctx) as (s, patient):
        row = appointments.get_appointment(s, patient.id, appointment)
        data = appointments.to_json(row)
        chosen = [f"#{r.id} {r.title}" for r in row.records]
    if as_json:
        emit_json(data)
        return
    coverage = data["coverage"] + (
        f" (ref. {data['coverage_ref']})" if data["coverage_ref"] else ""
    )
    fields(
        [
            ("Appointment", f"#{data['id']} with #{data['doctor']} {data['doctor_name']}"),
            ("When", _pretty(data)),
            ("Where", data["location"]),
            ("Purpose", data["purpose"]),
            ("Status", data["status"]),
            ("Companion", data["companion"]),
            ("Staff told", "yes" if data["staff_told"] else "no"),
            ("Records sent", data["records_sent_on"] or "not yet"),
            ("Coverage", coverage),
            ("Packet records", "\n".join(chosen) or "all records (none chosen)"),
            ("Notes", data["notes"]),
        ]
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    appointment: AppointmentId,
    doctor: Annotated[int | None, typer.Option(help="Id of the doctor.")] = None,
    at: Annotated[str | None, typer.Option(help="Date and time, 'YYYY-MM-DD HH:MM'.")] = None,
    tz: Tz = None,
    location: Location = None,
    purpose: Annotated[Purpose | None, typer.Option(help="Why you are going.")] = None,
    status: Annotated[AppointmentStatus | None, typer.Option(help="planned, done…")] = None,
    companion: Companion = None,
    notes: Notes = None,
    told_staff: Annotated[
        bool | None,
        typer.Option(
            "--told-staff/--not-told-staff",
            help="Whether the clinic's staff know it is a second opinion.",
            show_default=False,
        ),
    ] = None,
    records_sent: Annotated[
        str | None, typer.Option(help="Date the records were sent ahead ('' clears).")
    ] = None,
    coverage: Annotated[Coverage | None, typer.Option(help="Insurance coverage status.")] = None,
    coverage_ref: Annotated[
        str | None, typer.Option(help="Authorization or reference number.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Change an appointment and record its preparation. An empty value ("") clears a field.

    Example: carebinder appointment edit 1 --told-staff --records-sent today
    --coverage confirmed --coverage-ref PA-88231
    """
    from carebinder.services import appointments

    with patient_session(ctx, write=True) as (s, patient):
        row = appointments.get_appointment(s, patient.id, appointment)
        row = appointments.edit_appointment(
            s,
            row,
            doctor=keep_value(doctor),
            at=keep_value(at),
            time_zone=keep_value(tz),
            location=keep_text(location),
            purpose=keep_value(purpose),
            status=keep_value(status),
            companion=keep_text(companion),
            notes=keep_text(notes),
            staff_told=keep_value(told_staff),
            records_sent_on=keep_date(records_sent, "--records-sent"),
            coverage=keep_value(coverage),
            coverage_ref=keep_text(coverage_ref),
        )
        data = appointments.to_json(row)
    result(data, as_json, f"Updated appointment #{data['id']}")


@app.command("remove")
def remove(ctx: typer.Context, appointment: AppointmentId, yes: Yes = False) -> None:
    """Remove an appointment. Its questions stay in the binder.

    Example: carebinder appointment remove 1 --yes
    """
    from carebinder.services import appointments

    with patient_session(ctx, write=True) as (s, patient):
        row = appointments.get_appointment(s, patient.id, appointment)
        confirm_removal(f"appointment #{row.id} with {row.doctor.name}", yes)
        appointments.remove_appointment(s, row)
    note(f"Removed appointment #{appointment}.")


@app.command("bring")
def bring(
    ctx: typer.Context,
    appointment: AppointmentId,
    records: Annotated[
        list[int] | None, typer.Argument(help="Ids of the records to bring.", show_default=False)
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Bring exactly these records instead of adding them.")
    ] = False,
    clear: Annotated[
        bool, typer.Option(help="Choose none: the packet then holds every record.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Choose the records that go in this visit's packet (by default: all of them).

    Example: carebinder appointment bring 1 3 4 7
    """
    from carebinder.errors import InvalidInput
    from carebinder.services import appointments

    if not records and not clear:
        raise InvalidInput("Give the ids of the records to bring, or --clear to bring all.")
    with patient_session(ctx, write=True) as (s, patient):
        row = appointments.get_appointment(s, patient.id, appointment)
        chosen = appointments.bring_records(s, row, records or [], replace=replace or clear)
        data = [{"id": r.id, "title": r.title, "kind": r.kind.value} for r in chosen]
        explicit = bool(row.records)
    if as_json:
        emit_json({"appointment": appointment, "all_records": not explicit, "records": data})
        return
    head = "The packet" if explicit else "No records chosen: the packet"
    out(f"{head} for appointment #{appointment} holds {plural(len(data), 'record')}:")
    for r in data:
        out(f"  #{r['id']} {r['title']} ({r['kind']})")
