"""The `carebinder` command line: one sub-command per noun of the binder."""

from __future__ import annotations

import functools
import gc
import importlib
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from carebinder import __version__
from carebinder.cli.common import App, State

CONTEXT = {"help_option_names": ["-h", "--help"]}
HELP = (
    "Keep everything for a cancer second opinion in one binder on your computer:"
    " doctors, opinions, records, appointments, questions and materials, and what a new"
    " doctor reads first: medications, allergies, other conditions, treatments and results.\n\n"
    "Start with:  carebinder init --name 'Your Name' --born 1961-04-12"
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carebinder {__version__}")
        raise typer.Exit()


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


# Every command: the names it registers and its module in carebinder.cli, in the order
# `--help` lists them. A module with `register(app)` registers its own commands (some two,
# e.g. backup/restore); any other is a Typer sub-app named after its command. Modules are
# imported only when needed: `doctor list` imports cli.doctors, not the 17 others
# (tests/cli/test_startup_imports.py checks the names against what each module registers).
COMMANDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("init", "demo"), "setup"),
    (("patient",), "patients"),
    (("doctor",), "doctors"),
    (("record",), "records"),
    (("opinion",), "opinions"),
    (("appointment",), "appointments"),
    (("question",), "questions"),
    (("material",), "materials"),
    (("medication",), "medications"),
    (("allergy",), "allergies"),
    (("condition",), "conditions"),
    (("treatment",), "treatments"),
    (("result",), "results"),
    (("search",), "search"),
    (("checklist",), "checklist"),
    (("packet",), "packet"),
    (("export",), "export"),
    (("calendar",), "calendar"),
    (("verify",), "verify"),
    (("backup", "restore"), "backup"),
    (("audit",), "audit"),
    (("import",), "imports"),
    (("db",), "db"),
    (("serve",), "serve"),
)


def register(target: App, names: tuple[str, ...], module_name: str) -> None:
    """Add the commands of `carebinder.cli.<module_name>` to `target`."""
    module = importlib.import_module(f"carebinder.cli.{module_name}")
    if hasattr(module, "register"):
        module.register(target)
    else:
        target.add_typer(module.app, name=names[0])


def program(commands: tuple[tuple[tuple[str, ...], str], ...] = COMMANDS) -> App:
    """The program with the global options and `commands`."""
    built = App(help=HELP, context_settings=CONTEXT)
    built.callback()(main_options)
    for names, module_name in commands:
        register(built, names, module_name)
    return built


# `carebinder.cli.app` is the whole program (tests run it), built when first asked for.
app: App


@functools.cache
def whole_program() -> App:
    return program()


def __getattr__(name: str) -> Any:
    if name == "app":
        return whole_program()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    `doctor list` should not build `packet`'s, nor import its module. The whole program
    otherwise, so `--help`, `--version` and a mistyped command get the full answer."""
    for entry in COMMANDS:
        if command in entry[0]:
            return program((entry,))
    return whole_program()


def main() -> None:
    """Console-script entry point."""
    gc.disable()  # until the command's imports are done: see cli.common.start_up_done
    app_for(requested_command(sys.argv[1:]))(prog_name="carebinder")
