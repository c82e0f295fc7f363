"""`carebinder export`: the binder as JSON, as CSV tables, or as a FHIR R4 Bundle."""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carebinder.cli.common import (
    App,
    emit_json,
    note,
    out,
    patient_session,
    report_left_out,
    session,
    store,
)
from carebinder.cli.options import STDOUT, output
from carebinder.errors import InvalidInput
from carebinder.outfile import check_file, check_folder, write_file, write_folder
from carebinder.words import plural

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from carebinder.models import Patient


class Format(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    FHIR = "fhir"


def register(app: App) -> None:
    app.command("export")(export)


def export(
    ctx: typer.Context,
    out_file: Annotated[
        Path,
        output(
            "Where to write: a file for json and fhir ('-' for standard output),"
            " a new or empty folder for csv."
        ),
    ],
    format_: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="json: one document with everything (documented schema); csv: one table"
            " per kind of thing, for a spreadsheet; fhir: a FHIR R4 Bundle, for another"
            " program or clinic (see the README).",
        ),
    ] = Format.JSON,
    force: Annotated[
        bool, typer.Option(help="Replace an existing file, or the tables in a folder.")
    ] = False,
    all_patients: Annotated[
        bool,
        typer.Option(
            "--all-patients",
            help="Every patient of the binder in one export (for a caregiver or a nurse"
            " navigator), instead of the chosen patient only.",
        ),
    ] = False,
    no_data: Annotated[
        bool,
        typer.Option(
            "--no-data",
            help="fhir only: leave the files' bytes out of the Bundle (json and csv never"
            " hold them).",
        ),
    ] = False,
) -> None:
    """Export the binder: the patient, doctors, records (the facts of their files, not the
    files), opinions, appointments, questions, materials, medications, allergies, other
    conditions, treatments and results.

    In a FHIR Bundle, a file whose copy in the binder is missing or damaged is described
    without its bytes and named on stderr; everything else is exported.

    Example: carebinder export -o ana-binder.json

    Example: carebinder export --format csv -o ana-tables

    Example: carebinder export --format fhir -o ana-fhir.json
    """
    if no_data and format_ is not Format.FHIR:
        raise InvalidInput(
            f"--no-data is for --format fhir only: {format_.value} never holds the files'"
            " bytes. Leave --no-data out."
        )
    to_stdout = out_file == STDOUT
    if format_ is Format.CSV:
        from carebinder.interop.tabular import TABLES

        if to_stdout:
            raise InvalidInput(
                "--out: CSV is one file per table, so it needs a folder, e.g. -o binder-tables"
            )
        folder = check_folder(out_file, force=force, names=[name for name, *_ in TABLES])
        export_csv(ctx, folder, force=force, all_patients=all_patients)
        return
    target = None if to_stdout else check_file(out_file, force=force, example="binder.json")
    if format_ is Format.FHIR:
        export_fhir(ctx, target, force=force, all_patients=all_patients, data=not no_data)
        return
    export_json(ctx, target, force=force, all_patients=all_patients)


@contextmanager
def chosen(ctx: typer.Context, all_patients: bool) -> Iterator[tuple[Session, list[Patient]]]:
    """A session, and the patients to export: the chosen one, or all with --all-patients."""
    if not all_patients:
        with patient_session(ctx) as (s, patient):
            yield s, [patient]
        return
    from carebinder.services.patients import list_patients

    with session(ctx) as s:
        yield s, list_patients(s)


def export_json(
    ctx: typer.Context, target: Path | None, *, force: bool, all_patients: bool
) -> None:
    from carebinder.interop.tabular import export_document, json_bytes

    with chosen(ctx, all_patients) as (s, patients):
        document = export_document(s, patients)
    if target is None:
        emit_json(document)
        return
    write_file(target, json_bytes(document), force=force)
    note(f"Exported {_contents(document['binders'])}.")
    out(str(target))


def export_csv(ctx: typer.Context, folder: Path, *, force: bool, all_patients: bool) -> None:
    from carebinder.interop.tabular import csv_files, export_document

    with chosen(ctx, all_patients) as (s, patients):
        document = export_document(s, patients)
    files = csv_files(document)
    write_folder(folder, files, force=force)
    note(f"Exported {_contents(document['binders'])}, in {len(files)} CSV tables.")
    out(str(folder))


def _contents(binders: list[dict[str, Any]]) -> str:
    """e.g. `1 patient's binder: 5 doctors, 5 records (4 files), 2 opinions, …, 4 results`."""

    def total(key: str) -> int:
        return sum(len(b[key]) for b in binders)

    whose = "1 patient's binder" if len(binders) == 1 else f"{len(binders)} patients' binders"
    files = sum(len(r["files"]) for b in binders for r in b["records"])
    return (
        f"{whose}: {plural(total('doctors'), 'doctor')},"
        f" {plural(total('records'), 'record')} ({plural(files, 'file')}),"
        f" {plural(total('opinions'), 'opinion')}, {plural(total('appointments'), 'appointment')},"
        f" {plural(total('questions'), 'question')}, {plural(total('materials'), 'material')},"
        f" {plural(total('medications'), 'medication')},"
        f" {plural(total('allergies'), 'allergy', 'allergies')},"
        f" {plural(total('conditions'), 'condition')}, {plural(total('treatments'), 'treatment')},"
        f" {plural(total('results'), 'result')}"
    )


# --- FHIR -------------------------------------------------------------------------------------


def export_fhir(
    ctx: typer.Context, target: Path | None, *, force: bool, all_patients: bool, data: bool
) -> None:
    """Write the binder as a FHIR R4 collection Bundle (`data`: with the files' bytes)."""
    from carebinder.fhir.exporter import export_patients

    with chosen(ctx, all_patients) as (s, patients):
        bundle, left_out = export_patients(s, store(ctx, write=False), patients, data=data)
    entries = bundle["entry"]
    rest = "the Bundle describes each without its bytes, and holds everything else."
    if target is None:
        emit_json(bundle)
        report_left_out(left_out, rest)
        return
    write_file(target, json.dumps(bundle, ensure_ascii=False, indent=1).encode(), force=force)
    kinds = Counter(entry["resource"]["resourceType"] for entry in entries)
    note(
        f"Exported a FHIR R4 Bundle of {len(entries):,} resources: "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        + ("" if data else " (without the files' bytes)")
        + "."
    )
    report_left_out(left_out, rest)
    out(str(target))
