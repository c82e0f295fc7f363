"""`carebinder patient …`: whose binder it is."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder import config
from carebinder.cli.common import (
    App,
    confirm_removal,
    emit_json,
    fields,
    keep_date,
    keep_text,
    note,
    result,
    session,
    state,
    table,
)
from carebinder.cli.options import Address, Email, Json, Phone, Yes
from carebinder.words import plural

app = App(help="The patients in this binder (a caregiver may keep several).")

PatientId = Annotated[int, typer.Argument(help="The patient's id (see `carebinder patient list`).")]
Mrn = Annotated[str | None, typer.Option(help="Medical record number(s).")]
Insurer = Annotated[str | None, typer.Option(help="Insurance company (payer).")]
Plan = Annotated[str | None, typer.Option(help="Insurance plan.")]
MemberId = Annotated[str | None, typer.Option(help="Insurance member id.")]
InsurerPhone = Annotated[str | None, typer.Option(help="Insurer's phone number.")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name, as on the insurance card.")],
    born: Annotated[str, typer.Option(help="Date of birth, YYYY-MM-DD.")],
    mrn: Mrn = None,
    phone: Phone = None,
    email: Email = None,
    address: Address = None,
    insurer: Insurer = None,
    plan: Plan = None,
    member_id: MemberId = None,
    insurer_phone: InsurerPhone = None,
    as_json: Json = False,
) -> None:
    """Add a patient. Commands go on working on the patient chosen before (the first one
    added, or `init`'s), until `carebinder patient use ID` switches.

    Example: carebinder patient add "Ana Souza" --born 1961-04-12 --insurer Aetna
    """
    from carebinder.dates import parse_date
    from carebinder.services import patients

    born_on = parse_date(born, "--born")
    with session(ctx, write=True) as s:
        patient = patients.add_patient(
            s,
            name=name,
            born=born_on,
            address=address,
            mrn=mrn,
            phone=phone,
            email=email,
            insurer=insurer,
            plan=plan,
            member_id=member_id,
            insurer_phone=insurer_phone,
        )
        data = patients.to_json(patient)
        settings = state(ctx).settings
        current = patients.chosen_or_new(s, config.remembered_patient(settings), patient)
        chosen = None if current is None else current.id
        still = (
            "" if current is None else f"Commands still work on patient #{chosen} {current.name}. "
        )
    new_id = data["id"]
    if chosen == new_id:
        config.remember_patient(settings, new_id)
    result(data, as_json, f"Added patient #{new_id}: {data['name']}")
    if chosen != new_id and not as_json:
        note(
            f"{still}To work on {data['name']}: carebinder patient use {new_id}"
            f" (or add --patient {new_id} to a command)."
        )


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """List the patients. The one commands work on is marked with *.

    Example: carebinder patient list
    """
    from carebinder.services import patients

    with session(ctx) as s:
        rows = [patients.to_json(p) for p in patients.list_patients(s)]
    if as_json:
        emit_json(rows)
        return
    current = state(ctx).patient or config.remembered_patient(state(ctx).settings)
    if current is None and len(rows) == 1:
        current = rows[0]["id"]
    table(
        ["", "ID", "NAME", "BORN", "MRN", "INSURER"],
        [
            [
                "*" if p["id"] == current else "",
                p["id"],
                p["name"],
                p["born"],
                p["mrn"],
                p["insurance"]["payer"],
            ]
            for p in rows
        ],
        empty="No patients yet. Add one: carebinder patient add NAME --born DATE",
    )


@app.command("show")
def show(
    ctx: typer.Context,
    patient: Annotated[
        int | None,
        typer.Argument(
            help="The patient's id (default: the one commands work on; see `patient list`).",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Show a patient's identity and insurance: the one commands work on, or another.

    Example: carebinder patient show 1
    """
    from carebinder.services import patients

    st = state(ctx)
    with session(ctx) as s:
        if patient is None:
            row = patients.choose_patient(s, st.patient, config.remembered_patient(st.settings))
        else:
            row = patients.get_patient(s, patient)
        data = patients.to_json(row)
    if as_json:
        emit_json(data)
        return
    ins = data["insurance"]
    fields(
        [
            ("Patient", f"#{data['id']} {data['name']}"),
            ("Born", data["born"]),
            ("MRN", data["mrn"]),
            ("Phone", data["phone"]),
            ("Email", data["email"]),
            ("Address", data["address"]),
            ("Insurer", ins["payer"]),
            ("Plan", ins["plan"]),
            ("Member id", ins["member_id"]),
            ("Insurer phone", ins["phone"]),
            # Only what was stated: the lists themselves are `medication list`, `allergy list`.
            ("Medications", _stated("takes none", data["no_medications_on"])),
            ("Allergies", _stated("none known", data["no_allergies_on"])),
        ]
    )


def _stated(what: str, day: str | None) -> str | None:
    return f"{what} (stated {day})" if day else None


@app.command("edit")
def edit(
    ctx: typer.Context,
    patient: PatientId,
    name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    born: Annotated[str | None, typer.Option(help="Date of birth, YYYY-MM-DD.")] = None,
    mrn: Mrn = None,
    phone: Phone = None,
    email: Email = None,
    address: Address = None,
    insurer: Insurer = None,
    plan: Plan = None,
    member_id: MemberId = None,
    insurer_phone: InsurerPhone = None,
    as_json: Json = False,
) -> None:
    """Change a patient's details. An empty value ("") clears a field.

    Example: carebinder patient edit 1 --member-id W123456789 --plan "PPO Gold"
    """
    from carebinder.errors import InvalidInput
    from carebinder.services import patients

    born_on = keep_date(born, "--born")
    if born_on is None:
        raise InvalidInput("--born: a date of birth cannot be cleared. Give it as YYYY-MM-DD.")
    with session(ctx, write=True) as s:
        row = patients.edit_patient(
            s,
            patients.get_patient(s, patient),
            name=keep_text(name),
            born=born_on,
            address=keep_text(address),
            mrn=keep_text(mrn),
            phone=keep_text(phone),
            email=keep_text(email),
            insurer=keep_text(insurer),
            plan=keep_text(plan),
            member_id=keep_text(member_id),
            insurer_phone=keep_text(insurer_phone),
        )
        data = patients.to_json(row)
    result(data, as_json, f"Updated patient #{data['id']}: {data['name']}")


@app.command("use")
def use(ctx: typer.Context, patient: PatientId) -> None:
    """Choose the patient that later commands work on.

    Example: carebinder patient use 2
    """
    from carebinder.services import patients

    with session(ctx) as s:
        chosen = patients.get_patient(s, patient)
        name = chosen.name
    config.remember_patient(state(ctx).settings, patient)
    note(f"Now working on patient #{patient}: {name}")


@app.command("remove")
def remove(ctx: typer.Context, patient: PatientId, yes: Yes = False) -> None:
    """Remove a patient and everything in their binder (records, files, opinions…).

    Example: carebinder patient remove 2 --yes
    """
    from carebinder.cli.common import store
    from carebinder.services import patients
    from carebinder.services.files import release_blobs

    with session(ctx, write=True) as s:
        row = patients.get_patient(s, patient)
        counts = patients.patient_contents(s, row)
        held = ", ".join(plural(n, noun) for noun, n in counts.items() if n)
        confirm_removal(
            f"patient #{row.id} {row.name}" + (f" and their {held}" if held else ""), yes
        )
        blobs = patients.remove_patient(s, row)
        release_blobs(s, store(ctx), blobs)
    if config.remembered_patient(state(ctx).settings) == patient:
        config.remember_patient(state(ctx).settings, None)
    note(f"Removed patient #{patient}.")
