"""`carebinder condition …`: the patient's other health problems (diabetes, heart disease…)."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.cli.common import (
    App,
    confirm_removal,
    date_or_none,
    emit_json,
    fields,
    keep_date,
    keep_text,
    note,
    patient_session,
    result,
    table,
)
from carebinder.cli.options import Json, Notes, Yes

app = App(help="Other health problems besides the cancer (diabetes, heart disease…).")

ConditionId = Annotated[
    int, typer.Argument(help="The condition's id (see `carebinder condition list`).")
]
Since = Annotated[str | None, typer.Option(help="Since when, YYYY-MM-DD.")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="e.g. 'Type 2 diabetes'.")],
    since: Since = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Add another health problem.

    Example: carebinder condition add "Type 2 diabetes" --since 2015-03-01 --notes "On metformin"
    """
    from carebinder.services import conditions

    began = date_or_none(since, "--since")
    with patient_session(ctx, write=True) as (s, patient):
        row = conditions.add_condition(s, patient.id, name=name, since=began, notes=notes)
        data = conditions.to_json(row)
    result(data, as_json, f"Added condition #{data['id']}: {data['name']}")


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """List the other health problems.

    Example: carebinder condition list
    """
    from carebinder.services import conditions

    with patient_session(ctx) as (s, patient):
        data = [conditions.to_json(c) for c in conditions.list_conditions(s, patient.id)]
    if as_json:
        emit_json(data)
        return
    table(
        ["ID", "NAME", "SINCE", "NOTES"],
        [[c["id"], c["name"], c["since"], c["notes"]] for c in data],
        empty="No other conditions recorded. Add one: carebinder condition add NAME",
    )


@app.command("show")
def show(ctx: typer.Context, condition: ConditionId, as_json: Json = False) -> None:
    """Show one condition.

    Example: carebinder condition show 1
    """
    from carebinder.services import conditions

    with patient_session(ctx) as (s, patient):
        data = conditions.to_json(conditions.get_condition(s, patient.id, condition))
    if as_json:
        emit_json(data)
        return
    fields(
        [
            ("Condition", f"#{data['id']} {data['name']}"),
            ("Since", data["since"]),
            ("Notes", data["notes"]),
        ]
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    condition: ConditionId,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    since: Since = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Change a condition. An empty value ("") clears a field.

    Example: carebinder condition edit 1 --since 2014-09-01
    """
    from carebinder.services import conditions

    with patient_session(ctx, write=True) as (s, patient):
        row = conditions.edit_condition(
            s,
            conditions.get_condition(s, patient.id, condition),
            name=keep_text(name),
            since=keep_date(since, "--since"),
            notes=keep_text(notes),
        )
        data = conditions.to_json(row)
    result(data, as_json, f"Updated condition #{data['id']}: {data['name']}")


@app.command("remove")
def remove(ctx: typer.Context, condition: ConditionId, yes: Yes = False) -> None:
    """Remove a condition.

    Example: carebinder condition remove 1 --yes
    """
    from carebinder.services import conditions

    with patient_session(ctx, write=True) as (s, patient):
        row = conditions.get_condition(s, patient.id, condition)
        confirm_removal(f"condition #{row.id} {row.name}", yes)
        conditions.remove_condition(s, row)
    note(f"Removed condition #{condition}.")
