"""What every command shares: the app class that turns errors into messages, the binder
session, output helpers and confirmation.

Services are imported inside the commands, so `carebinder --help` does not pay for
SQLAlchemy.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from carebinder import config
from carebinder.cli.options import STDOUT
from carebinder.errors import EXIT_REFUSED, CarebinderError, InvalidInput, Refused

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from carebinder.leftout import LeftOut
    from carebinder.models import Patient
    from carebinder.services.files import Prepared
    from carebinder.store import Store

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    """The global options, resolved once per run."""

    home: Path | None = None
    database_url: str | None = None
    store: Path | None = None
    patient: int | None = None
    patient_named: bool = False
    _settings: config.Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> config.Settings:
        if self._settings is None:
            self._settings = config.resolve(self.home, self.database_url, store=self.store)
        return self._settings


class App(typer.Typer):
    """A Typer app whose commands report carebinder errors as one line on stderr."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("rich_markup_mode", None)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorator(function: F) -> F:
            register(guarded(function))
            return function

        return decorator


def guarded(function: F) -> F:
    """Run a command so that no traceback and no patient data reach the user's screen."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except InvalidInput as error:
            fail(
                error.naming(flag(error.field, _command(args, kwargs)))
                if error.field
                else error.message
            )
        except CarebinderError as error:
            fail(error.message)
        except KeyboardInterrupt:
            fail("Interrupted. Nothing was saved.", 130)
        except Exception as error:  # noqa: BLE001 - the last line of defence
            fail(describe_unexpected(error), EXIT_REFUSED)

    return wrapper  # type: ignore[return-value]


# The parameter that gives a field, where its name is not the field's own.
PARAMETERS = {
    "time_zone": "tz",
    "starts_at": "at",
    "records_sent_on": "records_sent",
    "staff_told": "told_staff",
    "institution": ("institution", "from_"),  # a material's is --from
    "out": "out_file",
    "reason": "for_",  # a medication's --for
    "stopped": ("stopped", "date"),  # `medication stop` gives it as --date
    "ocr_languages": ("ocr_lang", "langs"),  # `record ocr-lang LANGS`
}


def flag(field: str, command: Any = None) -> str:
    """The command line's word for a value the services name `field`: the running
    command's option for it (--institution; a material's is --from) or its argument
    (NAME). A flag or an argument's name stays as it is."""
    if field.startswith("-") or field.isupper():
        return field
    wanted = PARAMETERS.get(field, field)
    names = (wanted,) if isinstance(wanted, str) else wanted
    for param in getattr(command, "params", ()):
        if param.name in names:
            longs = [str(opt) for opt in param.opts if opt.startswith("--")]
            return longs[0] if longs else str(param.name).upper()
    return "--" + field.replace("_", "-")


def _command(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The running command (Click's), from the context Typer handed the function."""
    for value in (*args, *kwargs.values()):
        command = getattr(value, "command", None)
        if getattr(value, "command_path", None) is not None and command is not None:
            return command
    return None


def describe_unexpected(error: Exception) -> str:
    """A one-line account of an error we did not foresee, without any of its data."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError):
        reason = str(error.orig).splitlines()[0] if error.orig is not None else "unknown"
        return f"The binder's database refused the operation ({reason[:120]}). Nothing was saved."
    if isinstance(error, OSError):
        return f"The operation failed: {error.strerror or type(error).__name__}. Nothing was saved."
    return (
        f"Unexpected error ({type(error).__name__}). Nothing was saved."
        " Please report this to the carebinder team."
    )


def _echo(text: str, *, err: bool = False) -> None:
    """Print `text`; a path whose bytes are not UTF-8 is printed as those same bytes."""
    try:
        typer.echo(text, err=err)
    except UnicodeEncodeError:
        typer.echo(text.encode("utf-8", "surrogateescape"), err=err)


def fail(message: str, code: int = EXIT_REFUSED) -> None:
    _echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    """A message for the person at the terminal (stderr, never mixed with output)."""
    _echo(message, err=True)


def report_left_out(left_out: Sequence[LeftOut], rest: str) -> None:
    """The end of a command that left files out: one line for each (what and why, what to
    do), then how many and `rest` (what was done all the same). On stderr; nothing when
    nothing was left out."""
    from carebinder.leftout import report_lines

    for line in report_lines(left_out, rest):
        note(line)


def out(text: str = "") -> None:
    _echo(text)


def emit_json(data: Any) -> None:
    _echo(json.dumps(data, ensure_ascii=False, indent=2))


def result(data: Any, as_json: bool, message: str) -> None:
    """What an add or edit command prints: the object as JSON, or one line saying what it did."""
    if as_json:
        emit_json(data)
    else:
        out(message)


def state(ctx: typer.Context) -> State:
    """The global options. Commands ask for them once their imports are done (imports come
    first in a command's body), which is when start-up ends."""
    start_up_done()
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


# --- start-up and the garbage collector ----------------------------------------------------
#
# Importing SQLAlchemy, Typer and the models makes about 90,000 objects that live until the
# process ends. The cyclic garbage collector would scan them again and again while they are
# made, and find nothing to free: for `doctor list`, 137 young, 13 middle and 1 full
# collection, 67 ms on a quiet machine and up to 200 ms on a busy one (benchmarks/startup.py).
# So the console script starts with the collector off; when the command's imports are done,
# what they made is frozen (moved where the collector never looks again) and collection
# resumes for the command's own work.


def start_up_done() -> None:
    """End start-up: freeze what the imports made, then collect garbage as usual again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


# --- the binder -----------------------------------------------------------------------------


def open_engine(ctx: typer.Context, *, create: bool = False) -> Engine:
    from carebinder.db import open_binder

    st = state(ctx)
    return open_binder(st.settings, create=create)


@contextmanager
def session(ctx: typer.Context, *, write: bool = False) -> Iterator[Session]:
    from carebinder.db import session_scope

    engine = open_engine(ctx)
    command = ctx.command_path.removeprefix(ctx.find_root().info_name or "").strip()
    try:
        with session_scope(engine, write=write, command=command or None) as s:
            yield s
    finally:
        engine.dispose()


@contextmanager
def patient_session(
    ctx: typer.Context, *, write: bool = False
) -> Iterator[tuple[Session, Patient]]:
    """A session and the patient this command works on."""
    from carebinder.services.patients import choose_patient, several_patients

    st = state(ctx)
    with session(ctx, write=write) as s:
        patient = choose_patient(s, st.patient, config.remembered_patient(st.settings))
        yield s, patient
        whose = f"{patient.name} (#{patient.id})"
        name_it = not (st.patient_named or _prints_a_document(ctx)) and several_patients(s)
    # Done and saved: say once whose binder the command worked in, where there is a choice.
    # A refusal stays one line, and a JSON document on stdout comes with nothing else.
    if name_it:
        st.patient_named = True
        note(f"Patient: {whose}")


def _prints_a_document(ctx: typer.Context) -> bool:
    """Whether the command prints a document (--json, or -o - ) rather than messages."""
    return bool(ctx.params.get("as_json")) or str(ctx.params.get("out_file")) == str(STDOUT)


@contextmanager
def preparing(ctx: typer.Context, paths: Sequence[Path]) -> Iterator[list[Prepared]]:
    """Files stored and read before the write transaction starts (it then only writes
    their rows); the blobs this put in the store are taken back if the command fails."""
    from carebinder.services.files import discard, prepare

    engine = open_engine(ctx)  # refuses before anything is stored when there is no binder
    created: list[str] = []
    try:
        target = store(ctx, check=bool(paths))
        yield prepare(target, paths, created.append)
    except BaseException:
        if created:
            discard(engine, target, created)
        raise
    finally:
        engine.dispose()


def store(ctx: typer.Context, *, write: bool = True, check: bool = True) -> Store:
    """The binder's file store, refused (one line, nothing changed) when its folder is
    missing or this user may not use it: reading (`write=False`) or adding and removing.
    `check=False` when the command will not touch it (no files given)."""
    from carebinder.store import Store

    found = Store(state(ctx).settings.store_dir)
    return found.check(write=write) if check else found


# --- interaction ----------------------------------------------------------------------------


def password(env: str, what: str, *, new: bool, why: str = "--password") -> str:
    """The password of `what` ("backup", "packet"): from `env` (scripts), else asked at the
    terminal without echo; twice for a file about to be encrypted (`new`), once for one
    to open. `why` starts the refusal when nobody can be asked.

    Never taken as a command-line value, which would sit in the shell's history and show
    in the process list to anyone on the computer.
    """
    from_env = os.environ.get(env)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise Refused(f"{why}: there is no terminal to ask for the password. Set {env} instead.")
    if not new:
        return str(typer.prompt(f"Password of the {what}", hide_input=True, err=True))
    first = str(typer.prompt(f"Password for the {what}", hide_input=True, err=True))
    second = str(typer.prompt("Repeat the password", hide_input=True, err=True))
    if first != second:
        raise Refused("The two passwords differ. Nothing was written.")
    if not first:
        raise Refused("The password is empty. Nothing was written.")
    return first


def confirm_removal(what: str, yes: bool) -> None:
    """Ask before removing; refuse rather than wait when nobody can answer."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise Refused(f"Not removed: add --yes to remove {what} (there is no terminal to ask).")
    if not typer.confirm(f"Remove {what}?", default=False, err=True):
        raise Refused("Nothing was removed.")


# --- option values ------------------------------------------------------------------------


def date_or_none(value: str | None, option: str) -> date | None:
    from carebinder.dates import parse_date

    return None if value is None else parse_date(value, option)


def keep_text(value: str | None) -> Any:
    """An `edit` option: KEEP when not given; the text otherwise ("" clears the field)."""
    from carebinder.services.common import KEEP

    return KEEP if value is None else value


def keep_date(value: str | None, option: str) -> Any:
    """An `edit` date option: KEEP when not given, None for "" (clear), else the date."""
    from carebinder.services.common import KEEP

    if value is None:
        return KEEP
    return None if not value.strip() else date_or_none(value, option)


def keep_value(value: Any) -> Any:
    from carebinder.services.common import KEEP

    return KEEP if value is None else value


# --- human output ---------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str) -> None:
    """A plain table on stdout, or a one-line note on stderr when there are no rows."""
    if not rows:
        note(empty)
        return
    import shutil

    from carebinder.cli.tables import render

    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    out(render(headers, rows, width))


def fields(pairs: Sequence[tuple[str, object]]) -> None:
    """`label: value` lines for a show command, skipping empty values."""
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        if value is None or value == "" or value == []:
            continue
        text = str(value)
        indent = " " * (width + 2)
        text = text.replace("\n", "\n" + indent)
        out(f"{label + ':':<{width + 1}} {text}")
