"""`carebinder verify [--repair]`: check the whole binder and fix what is safe to fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from carebinder.cli.common import App, emit_json, note, out, state
from carebinder.errors import EXIT_REFUSED
from carebinder.words import plural

if TYPE_CHECKING:
    from carebinder.verify import Repaired, Report

Json = Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")]
Repair = Annotated[
    bool,
    typer.Option(
        "--repair",
        help="Also remove files no record uses and leftover temporary files (older than"
        " 10 minutes), and make loose permissions owner-only. Never removes a file a record"
        " uses.",
    ),
]


def register(app: App) -> None:
    app.command("verify")(verify)


def verify(ctx: typer.Context, repair: Repair = False, as_json: Json = False) -> None:
    """Check the binder: the database, the content of every attached file, and that only
    you can open them. Lists each problem with what to do; exits 1 if there is any.

    Example: carebinder verify --repair
    """
    from carebinder import verify as service

    settings = state(ctx).settings
    engine = service.open_for_check(settings)
    try:
        report = service.check(engine, settings)
        repaired = None
        if repair and report.fixable:
            repaired = service.repair(engine, settings, report)
            report = service.check(engine, settings)
        elif repair:
            repaired = service.Repaired()
    finally:
        engine.dispose()
    if as_json:
        emit_json(service.to_json(report, repaired))
    else:
        _print(report, repaired)
    if not report.ok:  # the problems were the command's output: no "Error:" line
        raise typer.Exit(EXIT_REFUSED)


def _print(report: Report, repaired: Repaired | None) -> None:
    if repaired is not None:
        _print_repairs(repaired)
    checked = report.checked
    counts = f"{plural(checked.records, 'record')}, {plural(checked.files, 'file')} checked"
    for problem in report.problems:
        out(problem.message)
    if report.skipped:
        note(
            "Skipped SQLite's integrity and foreign-key checks, which do not apply: the"
            " database server checks its own data and enforces foreign keys (checked: that"
            " every foreign key is there and in force)."
        )
    if checked.in_progress:
        note(
            f"Left alone {plural(checked.in_progress, 'new file')} that another carebinder command"
            " may still be writing."
        )
    if report.ok:
        note(f"Binder OK: {counts}.")
        return
    count = len(report.problems)
    fixable = len(report.fixable)
    summary = f"Found {plural(count, 'problem')} ({counts})."
    if fixable and repaired is None:
        summary += f" `carebinder verify --repair` can fix {fixable} of them."
    note(summary)


def _print_repairs(repaired: Repaired) -> None:
    removed, tightened = len(repaired.removed), len(repaired.tightened)
    if not removed and not tightened:
        note("Nothing to repair.")
        return
    note(
        f"Repaired: removed {plural(removed, 'leftover file')},"
        f" made {plural(tightened, 'item')} private."
    )
