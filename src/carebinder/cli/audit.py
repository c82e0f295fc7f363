"""`carebinder audit`: what changed in the binder, when, and by which command."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.cli.common import App, emit_json, session, state, table
from carebinder.cli.options import Json


def register(app: App) -> None:
    app.command("audit")(audit)


def audit(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="How many events, newest first.")
    ] = 50,
    as_json: Json = False,
) -> None:
    """List the changes made to the binder: when, which command, which ids. The trail
    never holds the content itself. With --patient, only that patient's.

    Example: carebinder --patient 1 audit --limit 20
    """
    from carebinder import audit as trail
    from carebinder.errors import NotFound
    from carebinder.services.common import MAX_ID

    patient = state(ctx).patient
    if patient is not None and not 1 <= patient <= MAX_ID:
        raise NotFound("patient", patient)
    with session(ctx) as s:
        rows = [trail.to_json(e) for e in trail.events(s, patient_id=patient, limit=limit)]
    if as_json:
        emit_json(rows)
        return
    table(
        ["WHEN (UTC)", "COMMAND", "ACTION", "WHAT", "PATIENT"],
        [
            [
                r["at"][:19].replace("T", " "),
                r["command"] or "",
                r["action"],
                f"{r['entity']} #{r['entity_id']}",
                r["patient_id"],
            ]
            for r in rows
        ],
        empty="No changes recorded yet.",
    )
