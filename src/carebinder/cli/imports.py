"""`carebinder import FILE`: records downloaded as FHIR (from a patient portal or a clinic)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carebinder.cli.common import App, emit_json, note, out, report_left_out, state
from carebinder.cli.options import Json

# The nouns of the summary, in the order a person reads them.
NOUNS = (
    ("patient", "patient", "patients"),
    ("doctor", "doctor", "doctors"),
    ("record", "record", "records"),
    ("file", "file", "files"),
    ("opinion", "opinion", "opinions"),
    ("appointment", "appointment", "appointments"),
    ("medication", "medication in the list", "medications in the list"),
    ("question", "question", "questions"),
    ("material", "material", "materials"),
    ("coverage", "insurance", "insurances"),
)


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

    def storing(count: int, bundle: str) -> None:
        files = "1 file" if count == 1 else f"{count:,} files"
        note(f"Storing {files} from {bundle}…")

    summary = intake.import_file(state(ctx).settings, file, command="import", storing=storing)
    rest = "everything else was imported."
    if as_json:
        emit_json(summary.to_json())
        report_left_out(summary.left_out, rest)
        return
    for ident, name, how in summary.patients:
        plain = how in ("new", "already in the binder")
        shown = how if plain else f"already in the binder: {how}"
        out(f"Patient #{ident} {name} ({shown}).")
    out(f"Imported: {_counts(summary.imported) or 'nothing new'}.")
    if +summary.already:
        out(f"Already in the binder: {_counts(summary.already)}.")
    if summary.skipped:
        out(f"Skipped {sum(summary.skipped.values()):,}:")
        for (kind, reason), count in sorted(summary.skipped.items(), key=lambda i: -i[1]):
            out(f"  {count:>5,} {kind}: {reason}")
    report_left_out(summary.left_out, rest)


def _counts(counts: dict[str, int]) -> str:
    parts = []
    for key, one, many in NOUNS:
        if counts.get(key):
            parts.append(f"{counts[key]:,} {one if counts[key] == 1 else many}")
    return ", ".join(parts)
