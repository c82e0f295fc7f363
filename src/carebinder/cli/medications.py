"""`carebinder medication …`: what the patient takes, what they took, and "takes none"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from carebinder.choices import MedicationKind
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

if TYPE_CHECKING:
    pass

app = App(help="Medications: what the patient takes now and took before, or 'takes none'.")

MedicationId = Annotated[
    int, typer.Argument(help="The medication's id (see `carebinder medication list --all`).")
]
Dose = Annotated[str | None, typer.Option(help="How much, e.g. '20 mg'.")]
How = Annotated[str | None, typer.Option(help="How it is taken, e.g. 'by mouth, once a day'.")]
Started = Annotated[str | None, typer.Option(help="When it was started, YYYY-MM-DD.")]
Stopped = Annotated[
    str | None, typer.Option(help="When it was stopped, YYYY-MM-DD (it stays in the history).")
]
For = Annotated[str | None, typer.Option("--for", help="What it is for, e.g. 'hot flashes'.")]
Prescriber = Annotated[
    int | None, typer.Option(help="Id of the doctor who prescribed it (see `doctor list`).")
]

NOT_RECORDED = (
    "Not recorded yet: nobody has asked. Add one (carebinder medication add NAME)"
    " or say none (carebinder medication none)."
)


def takes_none(day: str) -> str:
    return f"Takes no medications (stated {day})."


def _label(data: dict[str, Any]) -> str:
    return " ".join(part for part in (data["name"], data["dose"]) if part)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="e.g. 'Tamoxifen'.")],
    dose: Dose = None,
    how: How = None,
    kind: Annotated[MedicationKind, typer.Option(help="What kind of medication.")] = (
        MedicationKind.PRESCRIPTION
    ),
    started: Started = None,
    stopped: Stopped = None,
    for_: For = None,
    prescriber: Prescriber = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Add a medication the patient takes (or took: give --stopped).

    Example: carebinder medication add Tamoxifen --dose "20 mg" --how "by mouth, daily"
    --started 2026-11-02 --for "breast cancer" --prescriber 2
    """
    from carebinder.services import medications

    began = date_or_none(started, "--started")
    ended = date_or_none(stopped, "--stopped")
    with patient_session(ctx, write=True) as (s, patient):
        changed = medications.add_medication(
            s,
            patient.id,
            name=name,
            dose=dose,
            how=how,
            kind=kind,
            started=began,
            stopped=ended,
            reason=for_,
            prescriber=prescriber,
            notes=notes,
        )
        data = medications.to_json(changed.medication)
    if changed.ended_note:
        note(changed.ended_note)
    result(data, as_json, f"Added medication #{data['id']}: {_label(data)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Stopped medications too, latest stopped first.")
    ] = False,
    as_json: Json = False,
) -> None:
    """List the medications the patient takes now (--all: and those they stopped).

    Example: carebinder medication list --all
    """
    from carebinder.services import medications

    with patient_session(ctx) as (s, patient):
        state = medications.medication_state(s, patient)
        rows = state.current + (state.stopped if all_ else [])
        data = [medications.to_json(m) for m in rows]
        none_on = state.none_on.isoformat() if state.none_on else None
        stopped = len(state.stopped)
    if as_json:
        emit_json(data)
        return
    headers = ["ID", "NAME", "DOSE", "HOW", "KIND", "FOR", "STARTED"]
    table(
        [*headers, "STOPPED"] if all_ else headers,
        [
            [
                m["id"],
                m["name"],
                m["dose"],
                m["how"],
                m["kind"],
                m["reason"],
                m["started"],
                *([m["stopped"]] if all_ else []),
            ]
            for m in data
        ],
        empty=_empty(none_on, stopped, all_),
    )
    if data and none_on:
        note(takes_none(none_on))


def _empty(none_on: str | None, stopped: int, all_: bool) -> str:
    """What `list` says when it has no rows: which of the three states holds."""
    if none_on:
        return takes_none(none_on)
    if stopped and not all_:
        return (
            f"No current medication recorded ({stopped} stopped: carebinder medication list"
            " --all). Add one (carebinder medication add NAME) or say none"
            " (carebinder medication none)."
        )
    return NOT_RECORDED


@app.command("show")
def show(ctx: typer.Context, medication: MedicationId, as_json: Json = False) -> None:
    """Show one medication in full.

    Example: carebinder medication show 1
    """
    from carebinder.services import medications

    with patient_session(ctx) as (s, patient):
        data = medications.to_json(medications.get_medication(s, patient.id, medication))
    if as_json:
        emit_json(data)
        return
    prescriber = data["prescriber"]
    fields(
        [
            ("Medication", f"#{data['id']} {data['name']}"),
            ("Dose", data["dose"]),
            ("How", data["how"]),
            ("Kind", data["kind"]),
            ("For", data["reason"]),
            ("Started", data["started"]),
            ("Stopped", data["stopped"]),
            ("Now", "takes it" if data["current"] else "stopped"),
            ("Prescriber", f"#{prescriber} {data['prescriber_name']}" if prescriber else None),
            ("Notes", data["notes"]),
        ]
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    medication: MedicationId,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    dose: Dose = None,
    how: How = None,
    kind: Annotated[MedicationKind | None, typer.Option(help="What kind of medication.")] = None,
    started: Started = None,
    stopped: Stopped = None,
    for_: For = None,
    prescriber: Prescriber = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Change a medication. An empty value ("") clears a field (--stopped "": taken again).

    Example: carebinder medication edit 1 --dose "10 mg" --how "by mouth, twice a day"
    """
    from carebinder.services import medications

    with patient_session(ctx, write=True) as (s, patient):
        changed = medications.edit_medication(
            s,
            medications.get_medication(s, patient.id, medication),
            name=keep_text(name),
            dose=keep_text(dose),
            how=keep_text(how),
            kind=keep_value(kind),
            started=keep_date(started, "--started"),
            stopped=keep_date(stopped, "--stopped"),
            reason=keep_text(for_),
            prescriber=keep_value(prescriber),
            notes=keep_text(notes),
        )
        data = medications.to_json(changed.medication)
    if changed.ended_note:
        note(changed.ended_note)
    result(data, as_json, f"Updated medication #{data['id']}: {_label(data)}")


@app.command("stop")
def stop(
    ctx: typer.Context,
    medication: MedicationId,
    date: Annotated[
        str | None,
        typer.Option("--date", help="The day it was stopped (default: today).", show_default=False),
    ] = None,
    as_json: Json = False,
) -> None:
    """Record that the patient no longer takes a medication; it stays in the history.

    Example: carebinder medication stop 1 --date 2026-11-30
    """
    from carebinder.services import medications

    on = date_or_none(date, "--date")
    with patient_session(ctx, write=True) as (s, patient):
        row = medications.stop_medication(
            s, medications.get_medication(s, patient.id, medication), on=on
        )
        data = medications.to_json(row)
    result(
        data,
        as_json,
        f"Stopped medication #{data['id']} {data['name']} on {data['stopped']}"
        " (it stays in `carebinder medication list --all`)",
    )


@app.command("remove")
def remove(ctx: typer.Context, medication: MedicationId, yes: Yes = False) -> None:
    """Remove a medication recorded by mistake (one that was stopped: `medication stop`).

    Example: carebinder medication remove 1 --yes
    """
    from carebinder.services import medications

    with patient_session(ctx, write=True) as (s, patient):
        row = medications.get_medication(s, patient.id, medication)
        confirm_removal(f"medication #{row.id} {row.name}", yes)
        medications.remove_medication(s, row)
    note(f"Removed medication #{medication}.")


@app.command("none")
def none(ctx: typer.Context, as_json: Json = False) -> None:
    """Record that the patient takes no medications, stated today.

    Example: carebinder medication none
    """
    from carebinder.services import medications, patients

    with patient_session(ctx, write=True) as (s, patient):
        data = patients.to_json(medications.state_none(s, patient))
    result(data, as_json, f"Recorded “takes no medications” (stated {data['no_medications_on']}).")
