"""The `carebinder` command line: one sub-command per noun of the binder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from carebinder import __version__
from carebinder.cli import (
    appointments,
    audit,
    backup,
    calendar,
    checklist,
    db,
    doctors,
    export,
    imports,
    materials,
    opinions,
    packet,
    patients,
    questions,
    records,
    search,
    setup,
    verify,
)
from carebinder.cli.app import App, State

app = App(
    help=(
        "Keep everything for a cancer second opinion in one binder on your computer:"
        " doctors, opinions, records, appointments, questions and materials.\n\n"
        "Start with:  carebinder init --name 'Your Name' --born 1961-04-12"
    ),
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carebinder {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            envvar="CAREBINDER_HOME",
            help="Folder that holds the binder (default: your user data folder).",
            show_default=False,
        ),
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="CAREBINDER_DATABASE_URL",
            help="Database URL, e.g. postgresql://… (default: binder.db in the home).",
            show_default=False,
        ),
    ] = None,
    patient: Annotated[
        int | None,
        typer.Option(
            envvar="CAREBINDER_PATIENT",
            help="Which patient to work on (default: the one chosen with `patient use`).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    # Everything this process writes (database, store, packets) is for its owner only.
    os.umask(0o077)
    ctx.obj = State(home=home, database_url=db_url, patient=patient)


setup.register(app)
app.add_typer(patients.app, name="patient")
app.add_typer(doctors.app, name="doctor")
app.add_typer(records.app, name="record")
app.add_typer(opinions.app, name="opinion")
app.add_typer(appointments.app, name="appointment")
app.add_typer(questions.app, name="question")
app.add_typer(materials.app, name="material")
search.register(app)
checklist.register(app)
packet.register(app)
export.register(app)
calendar.register(app)
verify.register(app)
backup.register(app)
audit.register(app)
imports.register(app)
app.add_typer(db.app, name="db")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="carebinder")
