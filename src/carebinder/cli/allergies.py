"""`carebinder allergy …`: what to avoid, or "no known allergies"."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.choices import AllergyKind, Severity
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
from carebinder.cli.options import Json, Notes, Yes

app = App(help="Allergies: what to avoid and how the patient reacts, or 'no known allergies'.")

AllergyId = Annotated[int, typer.Argument(help="The allergy's id (see `carebinder allergy list`).")]
Reaction = Annotated[str | None, typer.Option(help="What happens, e.g. 'hives'.")]
SeverityOpt = Annotated[
    Severity | None, typer.Option("--severity", help="How bad the reaction is.")
]
Kind = Annotated[AllergyKind | None, typer.Option("--kind", help="What kind of substance.")]

NOT_RECORDED = (
    "Not recorded yet: nobody has asked. Add one (carebinder allergy add SUBSTANCE)"
    " or say none (carebinder allergy none)."
)


def no_known(day: str) -> str:
    return f"No known allergies (stated {day})."


@app.command("add")
def add(
    ctx: typer.Context,
    substance: Annotated[str, typer.Argument(help="What the patient is allergic to.")],
    reaction: Reaction = None,
    severity: SeverityOpt = None,
    kind: Kind = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Add an allergy.

    Example: carebinder allergy add Penicillin --reaction hives --severity moderate
    --kind medication
    """
    from carebinder.services import allergies

    with patient_session(ctx, write=True) as (s, patient):
        added = allergies.add_allergy(
            s,
            patient.id,
            substance=substance,
            reaction=reaction,
            severity=severity,
            kind=kind,
            notes=notes,
        )
        data = allergies.to_json(added.allergy)
    if added.ended_note:
        note(added.ended_note)
    result(data, as_json, f"Added allergy #{data['id']}: {data['substance']}")


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """List the allergies, severe ones first.

    Example: carebinder allergy list
    """
    from carebinder.services import allergies

    with patient_session(ctx) as (s, patient):
        state = allergies.allergy_state(s, patient)
        data = [allergies.to_json(a) for a in state.allergies]
        none_on = state.none_on.isoformat() if state.none_on else None
    if as_json:
        emit_json(data)
        return
    table(
        ["ID", "SUBSTANCE", "REACTION", "SEVERITY", "KIND"],
        [[a["id"], a["substance"], a["reaction"], a["severity"], a["kind"]] for a in data],
        empty=no_known(none_on) if none_on else NOT_RECORDED,
    )


@app.command("show")
def show(ctx: typer.Context, allergy: AllergyId, as_json: Json = False) -> None:
    """Show one allergy in full.

    Example: carebinder allergy show 1
    """
    from carebinder.services import allergies

    with patient_session(ctx) as (s, patient):
        data = allergies.to_json(allergies.get_allergy(s, patient.id, allergy))
    if as_json:
        emit_json(data)
        return
    fields(
        [
            ("Allergy", f"#{data['id']} {data['substance']}"),
            ("Reaction", data["reaction"]),
            ("Severity", data["severity"]),
            ("Kind", data["kind"]),
            ("Notes", data["notes"]),
        ]
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    allergy: AllergyId,
    substance: Annotated[str | None, typer.Option(help="What the patient is allergic to.")] = None,
    reaction: Reaction = None,
    severity: SeverityOpt = None,
    kind: Kind = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Change an allergy. An empty value ("") clears a text field.

    Example: carebinder allergy edit 1 --severity severe --reaction "throat swelling"
    """
    from carebinder.services import allergies

    with patient_session(ctx, write=True) as (s, patient):
        row = allergies.edit_allergy(
            s,
            allergies.get_allergy(s, patient.id, allergy),
            substance=keep_text(substance),
            reaction=keep_text(reaction),
            severity=keep_value(severity),
            kind=keep_value(kind),
            notes=keep_text(notes),
        )
        data = allergies.to_json(row)
    result(data, as_json, f"Updated allergy #{data['id']}: {data['substance']}")


@app.command("remove")
def remove(ctx: typer.Context, allergy: AllergyId, yes: Yes = False) -> None:
    """Remove an allergy recorded by mistake.

    Example: carebinder allergy remove 1 --yes
    """
    from carebinder.services import allergies

    with patient_session(ctx, write=True) as (s, patient):
        row = allergies.get_allergy(s, patient.id, allergy)
        confirm_removal(f"allergy #{row.id} {row.substance}", yes)
        allergies.remove_allergy(s, row)
    note(f"Removed allergy #{allergy}.")


@app.command("none")
def none(ctx: typer.Context, as_json: Json = False) -> None:
    """Record that the patient has no known allergies, stated today.

    Example: carebinder allergy none
    """
    from carebinder.services import allergies, patients

    with patient_session(ctx, write=True) as (s, patient):
        data = patients.to_json(allergies.state_none(s, patient))
    result(data, as_json, f"Recorded “no known allergies” (stated {data['no_allergies_on']}).")
