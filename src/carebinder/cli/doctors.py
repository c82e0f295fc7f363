"""`carebinder doctor …`: the care team."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.choices import DoctorRole
from carebinder.cli.common import (
    App,
    confirm_removal,
    emit_json,
    fields,
    keep_text,
    keep_value,
    note,
    patient_session,
    result,
    table,
)
from carebinder.cli.options import Address, DoctorId, Email, Json, Notes, Phone, Yes

app = App(help="Doctors and everyone else on the care team.")

Specialty = Annotated[str | None, typer.Option(help="e.g. 'Medical oncology'.")]
Institution = Annotated[str | None, typer.Option(help="Hospital or practice.")]
Role = Annotated[DoctorRole | None, typer.Option(help="Their part in your care.")]
Npi = Annotated[str | None, typer.Option(help="US National Provider Identifier (10 digits).")]
ReferredBy = Annotated[
    int | None, typer.Option(help="Id of the doctor who referred you to them.", show_default=False)
]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="e.g. 'Dr. Wei Chen'.")],
    specialty: Specialty = None,
    institution: Institution = None,
    role: Role = None,
    phone: Phone = None,
    email: Email = None,
    address: Address = None,
    npi: Npi = None,
    referred_by: ReferredBy = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Add a doctor.

    Example: carebinder doctor add "Dr. Wei Chen" --specialty "Medical oncology"
    --institution "Dana-Farber" --role second-opinion --referred-by 1
    """
    from carebinder.services import doctors

    with patient_session(ctx, write=True) as (s, patient):
        doctor = doctors.add_doctor(
            s,
            patient.id,
            name=name,
            role=role,
            referred_by=referred_by,
            npi=npi,
            address=address,
            notes=notes,
            specialty=specialty,
            institution=institution,
            phone=phone,
            email=email,
        )
        data = doctors.to_json(doctor)
    result(data, as_json, f"Added doctor #{data['id']}: {data['name']}")


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """List the care team.

    Example: carebinder doctor list --json
    """
    from carebinder.services import doctors

    with patient_session(ctx) as (s, patient):
        rows = [doctors.to_json(d) for d in doctors.list_doctors(s, patient.id)]
    if as_json:
        emit_json(rows)
        return
    table(
        ["ID", "NAME", "SPECIALTY", "INSTITUTION", "ROLE", "PHONE"],
        [
            [d["id"], d["name"], d["specialty"], d["institution"], d["role"], d["phone"]]
            for d in rows
        ],
        empty="No doctors yet. Add one: carebinder doctor add NAME --specialty TEXT",
    )


@app.command("show")
def show(ctx: typer.Context, doctor: DoctorId, as_json: Json = False) -> None:
    """Show a doctor's contacts, role and who referred them.

    Example: carebinder doctor show 2
    """
    from carebinder.services import doctors

    with patient_session(ctx) as (s, patient):
        row = doctors.get_doctor(s, patient.id, doctor)
        data = doctors.to_json(row)
        referrer = row.referred_by.name if row.referred_by else None
    if as_json:
        emit_json(data)
        return
    fields(
        [
            ("Doctor", f"#{data['id']} {data['name']}"),
            ("Specialty", data["specialty"]),
            ("Institution", data["institution"]),
            ("Role", data["role"]),
            ("Phone", data["phone"]),
            ("Email", data["email"]),
            ("Address", data["address"]),
            ("NPI", data["npi"]),
            ("Referred by", f"#{data['referred_by']} {referrer}" if referrer else None),
            ("Notes", data["notes"]),
        ]
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    doctor: DoctorId,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    specialty: Specialty = None,
    institution: Institution = None,
    role: Role = None,
    phone: Phone = None,
    email: Email = None,
    address: Address = None,
    npi: Npi = None,
    referred_by: ReferredBy = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Change a doctor's details. An empty value ("") clears a field.

    Example: carebinder doctor edit 2 --phone "617-555-0100"
    """
    from carebinder.services import doctors

    with patient_session(ctx, write=True) as (s, patient):
        row = doctors.edit_doctor(
            s,
            doctors.get_doctor(s, patient.id, doctor),
            name=keep_text(name),
            role=keep_value(role),
            referred_by=keep_value(referred_by),
            npi=keep_text(npi),
            address=keep_text(address),
            notes=keep_text(notes),
            specialty=keep_text(specialty),
            institution=keep_text(institution),
            phone=keep_text(phone),
            email=keep_text(email),
        )
        data = doctors.to_json(row)
    result(data, as_json, f"Updated doctor #{data['id']}: {data['name']}")


@app.command("remove")
def remove(ctx: typer.Context, doctor: DoctorId, yes: Yes = False) -> None:
    """Remove a doctor. Refused while opinions or appointments name them.

    Example: carebinder doctor remove 3 --yes
    """
    from carebinder.services import doctors

    with patient_session(ctx, write=True) as (s, patient):
        row = doctors.get_doctor(s, patient.id, doctor)
        doctors.check_removable(s, row)
        confirm_removal(f"doctor #{row.id} {row.name}", yes)
        doctors.remove_doctor(s, row)
    note(f"Removed doctor #{doctor}.")
