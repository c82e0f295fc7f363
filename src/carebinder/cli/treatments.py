"""`carebinder treatment …`: the cancer treatments received so far."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.choices import TreatmentKind
from carebinder.cli.common import (
    App,
    confirm_removal,
    date_or_none,
    emit_json,
    fields,
    keep_date,
    keep_text,
    keep_value,
    note,
    patient_session,
    result,
    table,
)
from carebinder.cli.options import Json, Notes, Yes

app = App(help="Treatments so far: surgery, chemotherapy, radiation and the others.")

TreatmentId = Annotated[
    int, typer.Argument(help="The treatment's id (see `carebinder treatment list`).")
]
Started = Annotated[str | None, typer.Option(help="When it started, YYYY-MM-DD.")]
Ended = Annotated[str | None, typer.Option(help="When it ended, YYYY-MM-DD (none: under way).")]
Doctor = Annotated[int | None, typer.Option(help="Id of the doctor who gave it.")]
Response = Annotated[
    str | None, typer.Option(help="How the cancer responded, in the doctor's words.")
]


@app.command("add")
def add(
    ctx: typer.Context,
    kind: Annotated[TreatmentKind, typer.Argument(help="What kind of treatment.")],
    name: Annotated[str, typer.Argument(help="Its name or regimen, e.g. 'AC-T'.")],
    started: Started = None,
    ended: Ended = None,
    doctor: Doctor = None,
    response: Response = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Add a treatment received (or under way).

    Example: carebinder treatment add chemotherapy "AC-T, 4 cycles" --started 2026-01-10
    --ended 2026-04-02 --doctor 2 --response "partial response"
    """
    from carebinder.services import treatments

    began = date_or_none(started, "--started")
    finished = date_or_none(ended, "--ended")
    with patient_session(ctx, write=True) as (s, patient):
        row = treatments.add_treatment(
            s,
            patient.id,
            kind=kind,
            name=name,
            started=began,
            ended=finished,
            doctor=doctor,
            response=response,
            notes=notes,
        )
        data = treatments.to_json(row)
    result(data, as_json, f"Added treatment #{data['id']}: {data['name']} ({data['kind']})")


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """List the treatments, in the order they were given.

    Example: carebinder treatment list
    """
    from carebinder.services import treatments

    with patient_session(ctx) as (s, patient):
        data = [treatments.to_json(t) for t in treatments.list_treatments(s, patient.id)]
    if as_json:
        emit_json(data)
        return
    table(
        ["ID", "KIND", "NAME", "STARTED", "ENDED", "DOCTOR", "RESPONSE"],
        [
            [
                t["id"],
                t["kind"],
                t["name"],
                t["started"],
                t["ended"],
                t["doctor_name"],
                t["response"],
            ]
            for t in data
        ],
        empty="No treatments recorded yet. Add one: carebinder treatment add KIND NAME",
    )


@app.command("show")
def show(ctx: typer.Context, treatment: TreatmentId, as_json: Json = False) -> None:
    """Show one treatment in full.

    Example: carebinder treatment show 1
    """
    from carebinder.services import treatments

    with patient_session(ctx) as (s, patient):
        data = treatments.to_json(treatments.get_treatment(s, patient.id, treatment))
    if as_json:
        emit_json(data)
        return
    doctor = data["doctor"]
    fields(
        [
            ("Treatment", f"#{data['id']} {data['name']}"),
            ("Kind", data["kind"]),
            ("Started", data["started"]),
            ("Ended", data["ended"] or ("under way" if data["started"] else None)),
            ("Doctor", f"#{doctor} {data['doctor_name']}" if doctor else None),
            ("Response", data["response"]),
            ("Notes", data["notes"]),
        ]
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    treatment: TreatmentId,
    kind: Annotated[TreatmentKind | None, typer.Option(help="What kind of treatment.")] = None,
    name: Annotated[str | None, typer.Option(help="Its name or regimen.")] = None,
    started: Started = None,
    ended: Ended = None,
    doctor: Doctor = None,
    response: Response = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Change a treatment. An empty value ("") clears a field.

    Example: carebinder treatment edit 1 --ended 2026-04-02 --response "complete response"
    """
    from carebinder.services import treatments

    with patient_session(ctx, write=True) as (s, patient):
        row = treatments.edit_treatment(
            s,
            treatments.get_treatment(s, patient.id, treatment),
            kind=keep_value(kind),
            name=keep_text(name),
            started=keep_date(started, "--started"),
            ended=keep_date(ended, "--ended"),
            doctor=keep_value(doctor),
            response=keep_text(response),
            notes=keep_text(notes),
        )
        data = treatments.to_json(row)
    result(data, as_json, f"Updated treatment #{data['id']}: {data['name']}")


@app.command("remove")
def remove(ctx: typer.Context, treatment: TreatmentId, yes: Yes = False) -> None:
    """Remove a treatment.

    Example: carebinder treatment remove 1 --yes
    """
    from carebinder.services import treatments

    with patient_session(ctx, write=True) as (s, patient):
        row = treatments.get_treatment(s, patient.id, treatment)
        confirm_removal(f"treatment #{row.id} {row.name}", yes)
        treatments.remove_treatment(s, row)
    note(f"Removed treatment #{treatment}.")
