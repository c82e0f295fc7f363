"""`carebinder verify [--repair]`: check the whole binder and fix what is safe to fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from carebinder.cli.common import App, emit_json, note, out, state
from carebinder.errors import EXIT_REFUSED

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
    from carebinder.verify.report import closing_lines, repair_lines

    if repaired is not None:
        for line in repair_lines(repaired):
            note(line)
    for problem in report.problems:
        out(problem.message)
    for line in closing_lines(report, repaired):
        note(line)
