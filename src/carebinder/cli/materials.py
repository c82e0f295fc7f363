"""`carebinder material …`: slides, blocks, imaging discs and records requests."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.choices import MaterialKind, MaterialStatus
from carebinder.cli.common import (
    App,
    confirm_removal,
    date_or_none,
    emit_json,
    note,
    patient_session,
    result,
    table,
)
from carebinder.cli.options import DateOpt, Json, Yes

app = App(help="Physical materials (slides, imaging discs) and records requests.")

MaterialId = Annotated[
    int, typer.Argument(help="The material's id (see `carebinder material list`).")
]


@app.command("add")
def add(
    ctx: typer.Context,
    kind: Annotated[MaterialKind, typer.Argument(help="What it is.")],
    description: Annotated[str, typer.Argument(help="e.g. '12 H&E slides, case S26-4411'.")],
    from_: Annotated[
        str | None, typer.Option("--from", help="Institution that holds or sends it.")
    ] = None,
    status: Annotated[MaterialStatus, typer.Option(help="Where it stands.")] = (
        MaterialStatus.NEEDED
    ),
    date: DateOpt = None,
    as_json: Json = False,
) -> None:
    """Add a material to track.

    Example: carebinder material add glass-slides "H&E slides, case S26-4411"
    --from "Mercy Hospital pathology" --status requested
    """
    from carebinder.services import materials

    on = date_or_none(date, "--date")
    with patient_session(ctx, write=True) as (s, patient):
        data = materials.to_json(
            materials.add_material(
                s,
                patient.id,
                kind=kind,
                description=description,
                institution=from_,
                status=status,
                on=on,
            )
        )
    result(data, as_json, f"Added material #{data['id']}: {data['description']} ({data['status']})")


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """List the materials and where each stands.

    Example: carebinder material list
    """
    from carebinder.services import materials

    with patient_session(ctx) as (s, patient):
        data = [materials.to_json(m) for m in materials.list_materials(s, patient.id)]
    if as_json:
        emit_json(data)
        return
    table(
        ["ID", "KIND", "DESCRIPTION", "FROM", "STATUS", "SINCE"],
        [
            [
                m["id"],
                m["kind"],
                m["description"],
                m["institution"],
                m["status"],
                m.get(f"{m['status']}_on"),
            ]
            for m in data
        ],
        empty="No materials yet. Add one: carebinder material add glass-slides DESCRIPTION",
    )


@app.command("update")
def update(
    ctx: typer.Context,
    material: MaterialId,
    status: Annotated[MaterialStatus, typer.Option(help="Where it stands now.")],
    date: DateOpt = None,
    as_json: Json = False,
) -> None:
    """Record a material's progress (requested, received, sent, returned).

    Example: carebinder material update 1 --status received --date 2026-11-20
    """
    from carebinder.services import materials

    on = date_or_none(date, "--date")
    with patient_session(ctx, write=True) as (s, patient):
        row = materials.get_material(s, patient.id, material)
        data = materials.to_json(materials.update_material(s, row, status=status, on=on))
    result(data, as_json, f"Material #{data['id']} is now {data['status']}")


@app.command("remove")
def remove(ctx: typer.Context, material: MaterialId, yes: Yes = False) -> None:
    """Stop tracking a material.

    Example: carebinder material remove 1 --yes
    """
    from carebinder.services import materials

    with patient_session(ctx, write=True) as (s, patient):
        row = materials.get_material(s, patient.id, material)
        confirm_removal(f"material #{row.id} {row.description}", yes)
        materials.remove_material(s, row)
    note(f"Removed material #{material}.")
