"""The `carebinder` command line: one sub-command per noun of the binder."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

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

CONTEXT = {"help_option_names": ["-h", "--help"]}
app = App(
    help=(
        "Keep everything for a cancer second opinion in one binder on your computer:"
        " doctors, opinions, records, appointments, questions and materials.\n\n"
        "Start with:  carebinder init --name 'Your Name' --born 1961-04-12"
    ),
    context_settings=CONTEXT,
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
    # Text, not a Path: an empty value means "not given" (as for --db), where a Path would
    # turn it into the current folder.
    store: Annotated[
        str | None,
        typer.Option(
            envvar="CAREBINDER_STORE",
            metavar="DIR",
            help="Folder that holds the attached files, e.g. a shared folder the whole team"
            " reaches when the database is on a server (default: files/ in the home).",
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
    chosen_store = Path(store) if store else None
    ctx.obj = State(home=home, database_url=db_url, store=chosen_store, patient=patient)


def _sub_app(module: Any, name: str) -> Callable[[App], None]:
    return lambda target: target.add_typer(module.app, name=name)


# Every command, as a function that registers it (some register two, e.g. backup/restore),
# in the order `--help` lists them.
REGISTRATIONS: tuple[Callable[[App], None], ...] = (
    setup.register,
    _sub_app(patients, "patient"),
    _sub_app(doctors, "doctor"),
    _sub_app(records, "record"),
    _sub_app(opinions, "opinion"),
    _sub_app(appointments, "appointment"),
    _sub_app(questions, "question"),
    _sub_app(materials, "material"),
    search.register,
    checklist.register,
    packet.register,
    export.register,
    calendar.register,
    verify.register,
    backup.register,
    audit.register,
    imports.register,
    _sub_app(db, "db"),
)
for register in REGISTRATIONS:
    register(app)

# Global options that take a value, so the command name is found after them.
VALUED_OPTIONS = frozenset({"--home", "--db", "--store", "--patient"})


def requested_command(argv: list[str]) -> str | None:
    """The command named on the command line, or None (no command, --help, --version)."""
    words = iter(argv)
    for word in words:
        if word in VALUED_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
        elif word.split("=")[0] not in VALUED_OPTIONS:
            return None  # --help, --version, or a mistake: the whole program answers
    return None


def app_for(command: str | None) -> App:
    """The program with only `command` registered, when it is one: Typer builds every
    command's parameters before running one (about 70 ms for the whole tree), so running
    `doctor list` should not build `packet`'s. The whole program otherwise, so `--help`,
    `--version` and a mistyped command get the full answer."""
    for register in REGISTRATIONS:
        probe = typer.Typer()
        register(probe)  # type: ignore[arg-type]
        names = [c.name for c in probe.registered_commands]
        names += [g.name for g in probe.registered_groups]
        if command in names:
            slim = App(help=app.info.help, context_settings=CONTEXT)
            slim.callback()(main_options)
            register(slim)
            return slim
    return app


def main() -> None:
    """Console-script entry point."""
    app_for(requested_command(sys.argv[1:]))(prog_name="carebinder")
