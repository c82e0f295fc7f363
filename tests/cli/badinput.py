"""The machinery of the bad-input sweep (`test_bad_input.py`, issue 4 point 5).

- the real command tree, walked from `carebinder.cli.common`, so a command added later is swept
  without anyone listing it;
- a valid value for every parameter (so the bad value is the only problem of a case);
- malformed values by the parameter's type;
- running a case in-process under a time limit, or in a child process with `timeout=`;
- judging the outcome against the contract: exit 1 or 2, one `Error:` line, no traceback,
  no "Unexpected error", the binder unchanged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer.main
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from carebinder import config
from carebinder.cli import app
from tests.conftest import on_postgres

ROOT = typer.main.get_command(app)

REFUSED = "refused"  # a bad value: exit 1 or 2, one clear line, nothing changed
TOLERATED = "tolerated"  # a legitimate edge value: may succeed, must not crash or hang

HUGE_ID = str(2**70)  # 1180591620717411303424: more than any 64-bit integer
BIG_TEXT = "x" * 100_000  # 100 KB
NON_UTF8 = os.fsdecode(b"caf\xe9")  # how Python hands over argv bytes that are not UTF-8
NON_UTF8_PDF = os.fsdecode(b"caf\xe9.pdf")
NON_UTF8_MISSING = os.fsdecode(b"nowhere-caf\xe9.pdf")

# An error line longer than this does not fit on a screen: it echoes the input back whole.
MAX_ERROR_LINE = 1_000
CALL_TIMEOUT = 20.0  # seconds a single command may take before it counts as a hang

# Which kind of value a text option takes, by its name.
DATE_OPTIONS = {"date", "born", "records_sent", "started", "stopped", "ended", "since"}
DATETIME_OPTIONS = {"at"}
ZONE_OPTIONS = {"tz"}
WORD_OPTIONS = {"paper": "letter"}  # free text that must be one of a few words
URL_OPTIONS = {"db_url"}
OUTPUT_PATHS = {"out_file"}
HOME_PATHS = {"home"}
STORE_OPTIONS = {"store"}  # a folder, given as text ("" means "not given")
# Ints that are not ids of the patient's things (so "another patient's id" does not apply).
COUNT_OPTIONS = {"limit"}
PORT_OPTIONS = {"port"}  # a TCP port: 0 (any free one) to 65535
# Ints on a scale of their own: (a valid value, the first value past the scale's top).
SCALE_OPTIONS = {"ecog": ("1", "5"), "ajcc_edition": ("8", "100")}
# Commands whose valid run serves until stopped: the sweep checks their refusals only
# (tests/cli/test_serve.py and the browser tests start the real thing).
SERVERS = {("serve",)}
UNSCOPED_IDS = {"patient"}  # patients are not owned by a patient
# Text fields that can never be empty, wherever they are given.
REQUIRED_TEXT = {"name", "title", "diagnosis", "text", "description", "substance", "value"}
# Commands refused while the binder lists what they deny ("takes no medications" while one
# is current): run for patient 3, who has nothing recorded.
FOR_EMPTY_PATIENT = {("medication", "none"), ("allergy", "none")}
EMPTY_PATIENT = 3

# Parameters a command needs besides its required ones for a valid baseline.
EXTRA_NEEDED: dict[tuple[str, ...], set[str]] = {
    ("appointment", "bring"): {"records"},  # RECORD... or --clear
}
# Options that only make sense together: sweeping one adds a valid other.
COMPANIONS: dict[tuple[str, ...], dict[str, str]] = {
    ("init",): {"name": "born", "born": "name"},
}
# Valid values that differ from the generic ones.
VALID_OVERRIDES: dict[tuple[tuple[str, ...], str], str] = {
    (("material", "update"), "status"): "received",
}
# Valid values that are files of the workspace (attribute names of `Workspace`).
WORKSPACE_VALUES: dict[tuple[tuple[str, ...], str], str] = {
    (("restore",), "archive"): "archive",  # a backup of the sweep's binder
    (("import",), "file"): "fhir_bundle",  # a small FHIR R4 bundle
}
# What `import` is given as a valid file: a patient, a doctor, a record.
SMALL_BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "fullUrl": "urn:uuid:0f7c2c4e-1111-4a8e-9d5e-000000000001",
            "resource": {
                "resourceType": "Patient",
                "id": "p1",
                "name": [{"family": "Sweep", "given": ["Importa"]}],
                "birthDate": "1970-05-06",
            },
        },
        {
            "fullUrl": "urn:uuid:0f7c2c4e-1111-4a8e-9d5e-000000000002",
            "resource": {
                "resourceType": "Practitioner",
                "id": "d1",
                "name": [{"text": "Dr. Ada Import"}],
            },
        },
        {
            "fullUrl": "urn:uuid:0f7c2c4e-1111-4a8e-9d5e-000000000003",
            "resource": {
                "resourceType": "DocumentReference",
                "id": "r1",
                "status": "current",
                "description": "Imported pathology report",
                "subject": {"reference": "urn:uuid:0f7c2c4e-1111-4a8e-9d5e-000000000001"},
                "content": [
                    {"attachment": {"title": "report.pdf", "url": "https://example.org/r"}}
                ],
            },
        },
    ],
}
# Global options a command needs: `restore` writes only into an empty home.
GLOBAL_ARGS: dict[tuple[str, ...], str] = {
    ("restore",): "restore_home",
}
# Global options tried with commands of their own instead of GLOBAL_HOSTS: only commands
# that touch files use the store.
GLOBAL_HOSTS_OF: dict[str, tuple[tuple[str, ...], ...]] = {
    "store": (("record", "attach"), ("packet",)),
}
# Commands whose last argument is any number of words (`search sentinel node`): one more
# word is part of it, not a mistake.
TAKES_WORDS = {("search",)}
# Commands whose last argument may be left out (`result list [NAME]`): the baseline leaves
# it out, so one more word is that argument, not a mistake.
OPTIONAL_LAST_ARGUMENT = {("result", "list")}
# `doctor remove` needs a doctor no opinion or appointment names: #3 (patient 1), #4 (2).
SPARE_DOCTOR = {("doctor", "remove")}


# --- the command tree ------------------------------------------------------------------------


def commands(
    group: Any = ROOT, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf command as (path, command), e.g. (("record", "add"), <Command>)."""
    for name in sorted(group.commands):
        command = group.commands[name]
        if getattr(command, "commands", None) is not None:
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


def kind_of(param: Any) -> str:
    """What kind of value `param` takes: the key to its malformed values."""
    type_name = param.type.name
    name = param.name
    if getattr(param, "is_flag", False):
        return "flag"
    if type_name in ("int", "int range"):
        if name in COUNT_OPTIONS:
            return "count"
        if name in PORT_OPTIONS:
            return "port"
        if name in SCALE_OPTIONS:
            return "scale"
        return "id" if name not in UNSCOPED_IDS else "patient-id"
    if type_name == "choice":
        return "choice"
    if type_name == "path":
        if name in OUTPUT_PATHS:
            return "output"
        return "home" if name in HOME_PATHS else "input"
    if type_name == "str":
        if name in STORE_OPTIONS:
            return "store"
        if name in DATE_OPTIONS:
            return "date"
        if name in DATETIME_OPTIONS:
            return "datetime"
        if name in ZONE_OPTIONS:
            return "zone"
        if name in WORD_OPTIONS:
            return "word"
        if name in URL_OPTIONS:
            return "url"
        return "text"
    return f"unknown type {type_name!r}"


def is_argument(param: Any) -> bool:
    return bool(param.param_type_name == "argument")


# --- files the cases point at ----------------------------------------------------------------


@dataclass
class Workspace:
    """Files for path cases, in a folder of the test's own."""

    root: Path
    home: Path
    archive: Path | None = None  # a backup of the binder, when there is a `backup` command
    outputs: int = 0

    def __post_init__(self) -> None:
        from tests.conftest import write_pdf

        self.root.mkdir(parents=True, exist_ok=True)
        self.pdf = write_pdf(self.root / "valid.pdf", pages=3)
        self.folder = self.root / "a-folder"
        self.folder.mkdir(exist_ok=True)
        self.empty = self.root / "empty.pdf"
        self.empty.write_bytes(b"")
        self.loop = self.root / "loop-a"
        if not self.loop.is_symlink():
            (self.root / "loop-b").symlink_to(self.loop)
            self.loop.symlink_to(self.root / "loop-b")
        self.fifo = self.root / "a-fifo"
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        # Outputs are never given /dev/zero itself: a bug that replaced the path (as `--force`
        # does) would turn the machine's /dev/zero into a file when the tests run as root. A
        # link to it is the same to every check the program makes, and only the link is at risk.
        self.zero_link = self.root / "zero"
        if not self.zero_link.is_symlink():
            self.zero_link.symlink_to("/dev/zero")
        self.non_utf8_pdf = write_pdf(self.root / NON_UTF8_PDF)
        self.missing = self.root / "no-such-file.pdf"
        self.in_missing_folder = self.root / "no-such-folder" / "x.pdf"
        self.too_long = self.root / ("n" * 100_000)
        self.restore_home = self.root / "restored-home"  # stays absent unless a restore works
        self.fhir_bundle = self.root / "records.json"
        self.fhir_bundle.write_text(json.dumps(SMALL_BUNDLE))
        (self.root / "out").mkdir(exist_ok=True)

    def new_output(self, prefix: bytes = b"packet") -> Path:
        """A path in an existing folder where nothing is yet."""
        self.outputs += 1
        return self.root / "out" / os.fsdecode(b"%s-%d.pdf" % (prefix, self.outputs))


# --- valid values ------------------------------------------------------------------------------


def valid_value(command: tuple[str, ...], param: Any, patient: int, ws: Workspace) -> str:
    """A value of `param` that `command` accepts for `patient` on the sweep's binder, where
    every noun's id #1 belongs to patient 1 and #2 to patient 2."""
    override = VALID_OVERRIDES.get((command, param.name))
    if override is not None:
        return override
    attribute = WORKSPACE_VALUES.get((command, param.name))
    if attribute is not None:
        return str(getattr(ws, attribute))
    kind = kind_of(param)
    if kind == "id":
        return str(patient + 2 if command in SPARE_DOCTOR else patient)
    if kind == "patient-id":
        return str(patient)
    if kind == "count":
        return "5"
    if kind == "scale":
        return SCALE_OPTIONS[param.name][0]
    if kind == "choice":
        return str(param.type.choices[0])
    if kind == "input":
        return str(ws.pdf)
    if kind == "output":
        return str(ws.new_output())
    if kind == "home":
        return str(ws.home)
    values = {
        "date": "2021-10-02",  # in the past: a date of birth cannot be in the future
        "datetime": "2026-12-03 09:30",
        "zone": "UTC",
        "word": WORD_OPTIONS.get(param.name, ""),
        "url": database_url(ws.home),
        "text": "Plain words",
    }
    return values[kind]


def needed(command: tuple[str, ...], cmd: Any) -> set[str]:
    return {p.name for p in cmd.params if p.required} | EXTRA_NEEDED.get(command, set())


def invocation(
    command: tuple[str, ...],
    cmd: Any,
    ws: Workspace,
    *,
    patient: int = 1,
    replace: dict[str, list[str]] | None = None,
    omit: str | None = None,
    extra: Sequence[str] = (),
    global_args: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """The argv of a valid `command` for `patient`, with `replace[name]` given as the tokens
    of parameter `name` (values for an argument, the whole `--opt value` for an option)."""
    replace = replace or {}
    wanted = needed(command, cmd) | set(replace)
    for name in list(replace):
        companion = COMPANIONS.get(command, {}).get(name)
        if companion:
            wanted.add(companion)
    arguments: list[str] = []
    options: list[str] = []
    for param in cmd.params:
        if param.name == omit:
            continue
        if param.name in replace:
            tokens = replace[param.name]
        elif param.name == "yes" and kind_of(param) == "flag":
            tokens = ["--yes"]  # removals: the confirmation is not what is being tested
        elif param.name in wanted:
            value = valid_value(command, param, patient, ws)
            tokens = [value] if is_argument(param) else [param.opts[0], value]
        else:
            continue
        (arguments if is_argument(param) else options).extend(tokens)
    if global_args is None:
        whose = EMPTY_PATIENT if command in FOR_EMPTY_PATIENT else patient
        global_args = ["--patient", str(whose)]
        if command in GLOBAL_ARGS:
            global_args += ["--home", str(getattr(ws, GLOBAL_ARGS[command]))]
    head = list(global_args)
    # Options first, then "--", so a value like "-1" reaches the command as a value.
    separator = ["--"] if any(a.startswith("-") for a in arguments) else []
    return (*head, *command, *options, *extra, *separator, *arguments)


# --- malformed values --------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    label: str
    value: str
    expect: str = REFUSED
    child: bool = False  # run in a child process (it might hang, or needs real argv bytes)
    patient: int = 1  # run as this patient (2: "an id of the other patient")


def empty_values(expect: str) -> list[Value]:
    return [Value("empty", "", expect), Value("blank", "   ", expect)]


def bad_values(command: tuple[str, ...], param: Any, ws: Workspace) -> list[Value]:
    kind = kind_of(param)
    name = param.name
    ids = [
        Value("negative", "-1"),
        Value("zero", "0"),
        Value("2**70", HUGE_ID),
        Value("not a number", "abc"),
        Value("empty", ""),
        Value("no such id", "999"),
    ]
    if kind == "id":
        # Run as patient 2 with patient 1's id (#1 of every noun is patient 1's).
        return [*ids, Value("id of the other patient", "1", patient=2)]
    if kind == "patient-id":
        return ids
    if kind == "count":
        return [
            Value("negative", "-1"),
            Value("zero", "0"),
            Value("not a number", "abc"),
            Value("empty", ""),
            # Not an id: "as many as there are" would be a fair reading, so it may succeed.
            Value("2**70", HUGE_ID, TOLERATED),
        ]
    if kind == "scale":
        return [
            Value("negative", "-1"),
            Value("past the top", SCALE_OPTIONS[name][1]),
            Value("2**70", HUGE_ID),
            Value("not a number", "abc"),
            Value("empty", ""),
        ]
    if kind == "port":
        return [
            Value("negative", "-1"),
            Value("past 65535", "65536"),
            Value("2**70", HUGE_ID),
            Value("not a number", "abc"),
            Value("empty", ""),
        ]
    if kind == "choice":
        return [
            Value("not a choice", "nope"),
            Value("empty", ""),
            Value("wrong case", str(param.type.choices[0]).upper()),
        ]
    if kind in ("date", "datetime"):
        # In `edit`, "" clears an optional date (documented: `--records-sent ''` clears).
        clearable = command[-1] == "edit" and name != "born" and not param.required
        if kind == "datetime":
            clearable = False
        values = [
            *empty_values(TOLERATED if clearable else REFUSED),
            Value("month 13, day 45", "2026-13-45"),
            Value("day first", "31/12/2026"),
            Value("words", "next week"),
            Value("year 9999 with a time", "9999-12-31 23:59"),
            Value("February 30", "2026-02-30"),
            Value("100 KB", BIG_TEXT),
            Value("control character", "2026-10-02\x1b[2J"),
        ]
        if kind == "datetime":
            values += [
                Value("no time of day", "2026-12-03"),
                Value("hour 25", "2026-12-03 25:61"),
                Value("month 13 with a time", "2026-13-45 09:30"),
            ]
        return values
    if kind == "zone":
        return [
            *empty_values(REFUSED),
            Value("unknown zone", "Mars/Olympus"),
            Value("path traversal", "../../../etc/passwd"),
            Value("100 KB", BIG_TEXT),
            Value("NUL", "a\x00b"),
            Value("non-UTF-8 bytes", NON_UTF8),
        ]
    if kind == "word":
        return [
            *empty_values(REFUSED),
            Value("not a choice", "nope"),
            Value("100 KB", BIG_TEXT),
            Value("non-UTF-8 bytes", NON_UTF8),
        ]
    if kind == "url":
        missing = ws.root / "no-such-folder" / "binder.db"
        return [
            Value("not a URL", "nope"),
            Value("SQLite file in a missing folder", f"sqlite:///{missing}"),
            Value("driver not installed", "postgresql://nobody@127.0.0.1:1/none"),
            Value("100 KB", BIG_TEXT),
            Value("non-UTF-8 bytes", NON_UTF8),
            # "" means "not given": the default database in the home. Legitimate.
            Value("empty", "", TOLERATED),
        ]
    if kind == "text":
        required = bool(param.required) or name in REQUIRED_TEXT
        return [
            *empty_values(REFUSED if required else TOLERATED),  # "" clears optional fields
            Value("only a zero-width space", "\u200b", REFUSED if required else TOLERATED),
            Value("100 KB", BIG_TEXT),
            Value("NUL", "a\x00b"),
            Value("ANSI escape", "\x1b[31mred"),
            Value("carriage return", "safe\rEVIL"),
            Value("non-UTF-8 bytes", NON_UTF8),
            # Legitimate in multi-line fields (notes, address…), refused in one-line ones.
            Value("tab", "tab\there", TOLERATED),
            Value("newline", "two\nlines", TOLERATED),
            Value("right-to-left override", "\u202eevil", TOLERATED),
        ]
    if kind in ("input", "output", "home"):
        # A NUL cannot reach a path: execve() refuses it in argv and in the environment, so
        # only an in-process call could pass one (and Click's Path raises ValueError then).
        common = [
            Value("symlink loop", str(ws.loop)),
            Value("empty string", ""),
            Value("in a missing folder", str(ws.in_missing_folder)),
            Value("100 KB name", str(ws.too_long)),
            Value("FIFO", str(ws.fifo), child=True),
        ]
        if kind == "input":
            return [
                *common,
                Value("missing file", str(ws.missing)),
                Value("folder", str(ws.folder)),
                Value("empty file", str(ws.empty)),
                Value("/dev/null", "/dev/null"),
                Value("/dev/zero", "/dev/zero", child=True),
                Value("non-UTF-8 name, missing", str(ws.root / NON_UTF8_MISSING), child=True),
                # A real PDF whose name is not UTF-8: stored under a readable name.
                Value("non-UTF-8 name, real file", str(ws.non_utf8_pdf), TOLERATED, child=True),
            ]
        if kind == "output":
            return [
                *common,
                Value("folder", str(ws.folder)),
                Value("existing file", str(ws.empty)),
                Value("/dev/zero (through a link)", str(ws.zero_link), child=True),
                # A new file whose name is not UTF-8: a legitimate place to write.
                Value(
                    "non-UTF-8 name, new file",
                    str(ws.new_output(b"caf\xe9")),
                    TOLERATED,
                    child=True,
                ),
            ]
        # On PostgreSQL the binder is in the database, not the home: another home is only
        # another user's folder (remembered patient), made when missing. Legitimate there.
        # (Their own missing paths: a home made there must not turn another case's missing
        # path into a folder.)
        elsewhere = TOLERATED if on_postgres() else REFUSED
        return [  # --home
            Value("symlink loop", str(ws.loop)),
            Value("empty string", "", elsewhere),
            Value("in a missing folder", str(ws.root / "no-such-parent" / "home"), elsewhere),
            Value("100 KB name", str(ws.too_long)),
            Value("FIFO", str(ws.fifo), child=True),
            Value("missing folder", str(ws.root / "no-such-home"), elsewhere),
            Value("empty folder", str(ws.folder), elsewhere),
            Value("a file", str(ws.empty)),
            Value("/dev/zero", "/dev/zero", child=True),
            Value(
                "non-UTF-8 name, missing", str(ws.root / f"home-{NON_UTF8}"), elsewhere, child=True
            ),
        ]
    if kind == "store":
        return [
            Value("symlink loop", str(ws.loop)),
            Value("in a missing folder", str(ws.in_missing_folder)),
            Value("100 KB name", str(ws.too_long)),
            Value("missing folder", str(ws.root / "no-such-store")),
            Value("a file", str(ws.empty)),
            Value("FIFO", str(ws.fifo)),
            Value("/dev/zero", "/dev/zero"),
            Value("non-UTF-8 name, missing", str(ws.root / NON_UTF8), child=True),
            # "" means "not given": the home's own files/. Legitimate.
            Value("empty", "", TOLERATED),
        ]
    if kind == "flag":
        return [Value("flag given a value", "nope")]
    return []


def tokens_for(param: Any, value: str) -> list[str]:
    if getattr(param, "is_flag", False):
        return [f"{param.opts[0]}={value}"]
    return [value] if is_argument(param) else [param.opts[0], value]


# --- cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    command: tuple[str, ...]
    param: str  # the parameter's name; "" for cases about the command line's shape
    kind: str
    label: str
    argv: tuple[str, ...]
    expect: str = REFUSED
    child: bool = False

    def __str__(self) -> str:
        what = f" {self.param}" if self.param else ""
        return f"{' '.join(self.command)}{what}: {self.label}"


def cases_for(command: tuple[str, ...], cmd: Any, ws: Workspace) -> list[Case]:
    """Every malformed value for every parameter of `command`, and a malformed shape."""
    cases = [
        Case(
            command, "", "shape", "unknown option", invocation(command, cmd, ws, extra=["--nope"])
        ),
        Case(
            command,
            "",
            "shape",
            "unexpected extra argument",
            (*invocation(command, cmd, ws), "unexpected-extra"),
            TOLERATED if command in TAKES_WORDS | OPTIONAL_LAST_ARGUMENT else REFUSED,
        ),
    ]
    for name in sorted(needed(command, cmd)):
        cases.append(
            Case(command, name, "shape", "missing", invocation(command, cmd, ws, omit=name))
        )
    for param in cmd.params:
        kind = kind_of(param)
        for value in bad_values(command, param, ws):
            argv = invocation(
                command,
                cmd,
                ws,
                patient=value.patient,
                replace={param.name: tokens_for(param, value.value)},
            )
            cases.append(
                Case(command, param.name, kind, value.label, argv, value.expect, value.child)
            )
    if command in SERVERS:  # a case it accepts would start serving and never return
        return [case for case in cases if case.expect == REFUSED]
    return cases


# Commands the global options are tried with: a read, a write, and the audit trail (which
# reads --patient as a filter rather than a choice).
GLOBAL_HOSTS: tuple[tuple[str, ...], ...] = (("doctor", "list"), ("doctor", "add"), ("audit",))


def global_cases(ws: Workspace) -> list[Case]:
    """The root's options (--home, --db, --patient, --version…) with each host command."""
    leaves = dict(commands())
    cases = []
    for param in ROOT.params:
        kind = kind_of(param)
        for host in GLOBAL_HOSTS_OF.get(param.name, GLOBAL_HOSTS):
            for value in bad_values((), param, ws):
                if value.patient != 1:
                    continue
                head = ["--patient", "1"] if param.name != "patient" else []
                head += tokens_for(param, value.value)
                expect = value.expect
                if param.name == "patient" and host == ("audit",) and value.label == "no such id":
                    expect = TOLERATED  # the trail outlives a removed patient: legitimate
                argv = invocation(host, leaves[host], ws, global_args=head)
                cases.append(Case(host, param.name, kind, value.label, argv, expect, value.child))
            if kind == "flag":
                break  # a root flag given a value fails the same way whatever follows
    return cases


# --- running -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    exception: BaseException | None = None  # escaped the command in-process: a traceback
    hung: bool = False


class _Hang(BaseException):
    """Raised by the alarm; a BaseException, so no `except Exception` can swallow it."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Hang


def run_in_process(
    runner: CliRunner, argv: Sequence[str], timeout: float = CALL_TIMEOUT
) -> Outcome:
    """Run `carebinder ARGV` in this process, stdin not a terminal, under a time limit."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = runner.invoke(app, list(argv), catch_exceptions=True)
    except _Hang:
        return Outcome(None, hung=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return Outcome(result.exit_code, result.stdout, result.stderr, exception)


def run_child(argv: Sequence[str], home: Path, cwd: Path, timeout: float = CALL_TIMEOUT) -> Outcome:
    """Run `python -m carebinder ARGV` with stdin from /dev/null, killed after `timeout`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREBINDER_")}
    env.update({config.HOME_ENV: str(home), "TZ": "UTC", "TMPDIR": str(cwd)})
    if on_postgres():  # the test's schema (tests/conftest.py)
        env[config.DATABASE_ENV] = os.environ[config.DATABASE_ENV]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "carebinder", *argv],  # str with surrogates: the same bytes
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=cwd,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(None, hung=True)
    return Outcome(
        done.returncode,
        done.stdout.decode("utf-8", "backslashreplace"),
        done.stderr.decode("utf-8", "backslashreplace"),
    )


# --- what the binder holds ---------------------------------------------------------------------


State = tuple[list[str], list[tuple[str, int]], bytes | None, list[str]]


def binder_state(home: Path, ws: Workspace | None = None) -> State:
    """The database dump (audit trail included), the store's files, the remembered patient,
    and what is in the folder a refused `restore` must leave alone."""
    dump = database_dump(database_url(home))
    store = home / config.STORE_DIR
    files = sorted(
        (str(p.relative_to(store)), p.lstat().st_size) for p in store.rglob("*") if not p.is_dir()
    )
    state_file = home / config.STATE_FILE
    state = state_file.read_bytes() if state_file.exists() else None
    restored = []
    if ws is not None and ws.restore_home.exists():
        restored = sorted(str(p) for p in ws.restore_home.rglob("*")) or ["(an empty folder)"]
    return dump, files, state, restored


def database_url(home: Path) -> str:
    """The binder's database: binder.db in `home`, or on PostgreSQL the test's schema."""
    if on_postgres():
        return os.environ[config.DATABASE_ENV]
    return f"sqlite:///{home / config.DATABASE_FILE}"


def database_dump(url: str) -> list[str]:
    """Every table's columns and rows (the audit trail, and on SQLite the search index,
    included), one line each, sorted: equal dumps mean nothing in the database changed.
    The same on SQLite and PostgreSQL, read through SQLAlchemy."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            lines = []
            for table in sorted(inspect(conn).get_table_names()):
                columns = [c["name"] for c in inspect(conn).get_columns(table)]
                lines.append(f"table {table} {columns}")
                rows = conn.execute(text(f'SELECT * FROM "{table}"'))
                lines += sorted(f"{table} {tuple(row)!r}" for row in rows)
    finally:
        engine.dispose()
    return lines


def differences(before: State, after: State) -> list[str]:
    changed = []
    if before[0] != after[0]:
        added = sorted(set(after[0]) - set(before[0]))[:3]
        changed.append(f"database changed (e.g. {added})")
    if before[1] != after[1]:
        changed.append(f"store changed: {sorted(set(after[1]) ^ set(before[1]))[:3]}")
    if before[2] != after[2]:
        changed.append("remembered patient changed")
    if before[3] != after[3]:
        changed.append(f"restore wrote into {after[3][:3]}")
    return changed


# --- judging -----------------------------------------------------------------------------------


def problems(case: Case, outcome: Outcome, changed: Sequence[str]) -> list[str]:
    """What is wrong with `outcome`, as short names: hang, traceback, unexpected, accepted,
    exit, message, long-message, stdout, changed."""
    if outcome.hung:
        return ["hang"]
    found = []
    text = outcome.stdout + outcome.stderr
    if outcome.exception is not None or "Traceback" in text:
        return ["traceback"]
    if "Unexpected error" in text:
        found.append("unexpected")
    code = outcome.exit_code
    if case.expect == REFUSED and code == 0:
        found.append("accepted")
    if code != 0:
        if code not in (1, 2):
            found.append("exit")
        lines = [line for line in outcome.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error:")]
        # A usage error (2) is Click's: its "Usage:" and "Try" lines, and the choices it lists
        # after the error, are allowed. Only the Error line counts.
        if len(errors) != 1 or (code != 2 and len(lines) > 2):
            found.append("message")
        if any(len(line) > MAX_ERROR_LINE for line in errors):
            found.append("long-message")
        if outcome.stdout.strip():
            found.append("stdout")
        if changed:
            found.append("changed")
    return found


def describe(case: Case, outcome: Outcome, found: Sequence[str], changed: Sequence[str]) -> str:
    stderr = outcome.stderr if len(outcome.stderr) < 300 else outcome.stderr[:300] + "…"
    argv = " ".join(repr(a) if len(a) < 80 else repr(a[:40] + "…") for a in case.argv)
    return (
        f"{case}\n    argv: {argv}\n    problems: {', '.join(found)}; exit {outcome.exit_code}"
        f"; stderr: {stderr!r}"
        + (f"; exception: {outcome.exception!r}" if outcome.exception else "")
        + (f"; {'; '.join(changed)}" if changed else "")
    )
