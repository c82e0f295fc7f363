"""`carebinder import FILE`: records downloaded as FHIR (from a patient portal or a clinic)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carebinder.cli.common import App, emit_json, note, out, report_left_out, state
from carebinder.cli.options import Json


def register(app: App) -> None:
    app.command("import")(import_file)


def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A FHIR R4 Bundle in JSON, as downloaded from a patient portal or sent by"
            " a clinic.",
            show_default=False,
        ),
    ],
    as_json: Json = False,
) -> None:
    """Import records from a FHIR R4 file: the patient, doctors, reports, visits, diagnoses.

    Importing the same file again adds nothing new. Files inside the bundle are stored in
    the binder; files it only links to are listed in the record's notes as not included.
    A file inside that cannot be decoded is left out and named; the rest is imported.

    Example: carebinder import ~/Downloads/my-health-records.json
    """
    from carebinder.fhir import intake
    from carebinder.fhir.words import REST, summary_lines

    def storing(count: int, bundle: str) -> None:
        files = "1 file" if count == 1 else f"{count:,} files"
        note(f"Storing {files} from {bundle}…")

    summary = intake.import_file(state(ctx).settings, file, command="import", storing=storing)
    if as_json:
        emit_json(summary.to_json())
        report_left_out(summary.left_out, REST)
        return
    for line in summary_lines(summary):
        out(line)
    report_left_out(summary.left_out, REST)
