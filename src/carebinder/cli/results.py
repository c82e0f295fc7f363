"""`carebinder result …`: marker and biomarker values (ER, HER2, Ki-67, CA-125, PSA…), and
each marker's trend."""

from __future__ import annotations

import shlex
from typing import Annotated, Any

import typer

from carebinder.choices import Interpretation
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
    out,
    patient_session,
    table,
)
from carebinder.cli.common import result as print_result
from carebinder.cli.options import Json, Notes, Yes

app = App(help="Results: marker and biomarker values, and each marker's trend over time.")

ResultId = Annotated[int, typer.Argument(help="The result's id (see `carebinder result list`).")]
Unit = Annotated[str | None, typer.Option(help="The unit, e.g. 'U/mL' or '%'.")]
Taken = Annotated[
    str | None,
    typer.Option("--date", help="When the sample was taken, YYYY-MM-DD.", show_default=False),
]
Record = Annotated[int | None, typer.Option(help="Id of the record it comes from.")]
InterpretationOpt = Annotated[
    Interpretation | None, typer.Option("--interpretation", help="What the lab says it means.")
]


def _value(data: dict[str, Any]) -> str:
    return " ".join(part for part in (data["value"], data["unit"]) if part)


def _point(data: dict[str, Any]) -> str:
    return f"{_value(data)} ({data['date'] or 'no date'})"


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The marker, e.g. 'CA 19-9', 'HER2', 'Ki-67'.")],
    value: Annotated[str, typer.Argument(help="A number ('37') or words ('3+', 'positive').")],
    unit: Unit = None,
    date: Taken = None,
    record: Record = None,
    interpretation: InterpretationOpt = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Add a result.

    Example: carebinder result add "CA 19-9" 120 --unit U/mL --date 2026-11-02
    --interpretation high --record 3
    """
    from carebinder.services import results

    on = date_or_none(date, "--date")
    with patient_session(ctx, write=True) as (s, patient):
        row = results.add_result(
            s,
            patient.id,
            name=name,
            value=value,
            unit=unit,
            on=on,
            record=record,
            interpretation=interpretation,
            notes=notes,
        )
        data = results.to_json(row)
    print_result(data, as_json, f"Added result #{data['id']}: {data['name']} {_value(data)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="Only this marker, in date order (its trend).", show_default=False),
    ] = None,
    as_json: Json = False,
) -> None:
    """List the results by marker; with a marker's name, its values in date order.

    Example: carebinder result list "CA 19-9"
    """
    from carebinder.services import results

    with patient_session(ctx) as (s, patient):
        rows = results.list_results(s, patient.id, name)
        data = [results.to_json(r) for r in rows]
        trend = results.trends(rows)
    if as_json:
        emit_json(data)
        return
    if name is None:
        table(
            ["ID", "NAME", "VALUE", "DATE", "INTERPRETATION", "RECORD"],
            [
                [r["id"], r["name"], _value(r), r["date"], r["interpretation"], _record(r)]
                for r in data
            ],
            empty="No results yet. Add one: carebinder result add NAME VALUE --date DATE",
        )
        return
    table(
        ["ID", "DATE", "VALUE", "INTERPRETATION", "RECORD"],
        [[r["id"], r["date"], _value(r), r["interpretation"], _record(r)] for r in data],
        empty=f"No results for {name.strip()} yet. Add one: carebinder result add"
        f" {shlex.quote(name.strip())} VALUE --date DATE",
    )
    if trend and trend[0].repeated:
        first, latest = (results.to_json(r) for r in (trend[0].first, trend[0].latest))
        count = len(trend[0].values)
        out()
        out(f"{trend[0].name}: {_point(first)} → {_point(latest)}, {count} values")


def _record(data: dict[str, Any]) -> str | None:
    return f"#{data['record']}" if data["record"] else None


@app.command("show")
def show(ctx: typer.Context, result: ResultId, as_json: Json = False) -> None:
    """Show one result in full.

    Example: carebinder result show 1
    """
    from carebinder.services import results

    with patient_session(ctx) as (s, patient):
        data = results.to_json(results.get_result(s, patient.id, result))
    if as_json:
        emit_json(data)
        return
    fields(
        [
            ("Result", f"#{data['id']} {data['name']}"),
            ("Value", _value(data)),
            ("Date", data["date"]),
            ("Interpretation", data["interpretation"]),
            ("From", f"record {_record(data)}" if data["record"] else None),
            ("Notes", data["notes"]),
        ]
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    result: ResultId,
    name: Annotated[str | None, typer.Option(help="The marker's name.")] = None,
    value: Annotated[str | None, typer.Option(help="The value.")] = None,
    unit: Unit = None,
    date: Taken = None,
    record: Record = None,
    interpretation: InterpretationOpt = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Change a result. An empty value ("") clears an optional field.

    Example: carebinder result edit 2 --value 118 --date 2026-11-03
    """
    from carebinder.services import results

    with patient_session(ctx, write=True) as (s, patient):
        row = results.edit_result(
            s,
            results.get_result(s, patient.id, result),
            name=keep_text(name),
            value=keep_text(value),
            unit=keep_text(unit),
            on=keep_date(date, "--date"),
            record=keep_value(record),
            interpretation=keep_value(interpretation),
            notes=keep_text(notes),
        )
        data = results.to_json(row)
    print_result(data, as_json, f"Updated result #{data['id']}: {data['name']} {_value(data)}")


@app.command("remove")
def remove(ctx: typer.Context, result: ResultId, yes: Yes = False) -> None:
    """Remove a result.

    Example: carebinder result remove 2 --yes
    """
    from carebinder.services import results

    with patient_session(ctx, write=True) as (s, patient):
        row = results.get_result(s, patient.id, result)
        confirm_removal(f"result #{row.id} {row.name}", yes)
        results.remove_result(s, row)
    note(f"Removed result #{result}.")
