"""Bad input, everywhere (issue 4, point 5).

Every command of the real command tree, every parameter, fed malformed values by type:
ids (negative, zero, 2**70, not a number, missing, another patient's), dates, free text
(empty, 100 KB, control characters, bytes that are not UTF-8), choices, and paths (missing,
a folder, a symlink loop, a FIFO, /dev/zero, an empty file, names that are not UTF-8). Each
must be refused with exit 1 or 2 and one `Error:` line, without a traceback or an
"Unexpected error", and leave the binder exactly as it was: the database dump (audit trail
included), the store's files and the remembered patient.

The cases come from `tests/cli/badinput.py`. Bugs found are listed in `KNOWN_BUGS`, each with
the named strict-xfail test that shows it; the sweep fails on anything else.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from carebinder import config
from carebinder.cli import app
from carebinder.db import open_binder
from carebinder.models import Base
from carebinder.search import INDEX_TABLE
from tests.cli import badinput as bi
from tests.cli.badinput import REFUSED, TOLERATED, Case, Outcome
from tests.conftest import (
    FILE_BACKUP,
    SCHEMA_PREFIX,
    postgres_schema,
    write_pdf,
)

# On PostgreSQL the whole sweep runs too, each test on a schema of its own filled from a
# template schema (a copy of its rows, a few milliseconds); the cases that run in child
# processes run one at a time there, on the test's schema, instead of each on a copy.
# `backup` and `restore` work on SQLite only (FILE_BACKUP).
SQLITE_ONLY_COMMANDS = {("backup",): FILE_BACKUP, ("restore",): FILE_BACKUP}

# The cases that might block (FIFOs, /dev/zero) or need real argv bytes run in child
# processes, this many at a time. They are the slowest part of the sweep: with
# FULL_CHILD_SWEEP = False only the first child case of each parameter runs.
CHILD_WORKERS = 3
FULL_CHILD_SWEEP = True

LEAVES = dict(bi.commands())
TALLY: Counter[str] = Counter()
BUG_HITS: Counter[str] = Counter()


# --- the bugs the sweep found ----------------------------------------------------------------


@dataclass(frozen=True)
class KnownBug:
    """Cases `matches` selects may show `problems`; `test` is the xfail test that shows it."""

    test: str
    problems: frozenset[str]
    matches: Callable[[Case], bool]


def _bug(test: str, problems: set[str], matches: Callable[[Case], bool]) -> KnownBug:
    return KnownBug(test, frozenset(problems), matches)


KNOWN_BUGS: tuple[KnownBug, ...] = ()  # every bug the sweep found is fixed


# --- the binder every case starts from ---------------------------------------------------------


def _invoke(runner: CliRunner, home: Path, url: str | None, *args: str) -> str:
    env = {config.HOME_ENV: str(home), config.DATABASE_ENV: url, config.PATIENT_ENV: None}
    result = runner.invoke(app, list(args), env={**env, "TZ": "UTC"}, catch_exceptions=False)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


# Each step runs for patient 1, then patient 2 ("{p}" is the patient's id): so every noun's
# #1 is patient 1's and #2 patient 2's.
PER_PATIENT_STEPS = (
    ("doctor", "add", "Dr. Wei Chen {p}", "--institution", "Mercy Hospital"),
    ("doctor", "add", "Dr. Spare {p}"),  # doctors #3 and #4: no opinion names them
    ("record", "add", "pathology", "Report {p}", "--date", "2026-10-02", "--doctor", "{p}",
     "--file", "{pdf}"),
    ("opinion", "add", "--doctor", "{p}", "--diagnosis", "IDC", "--stage", "IIA",
     "--record", "{p}"),
    ("appointment", "add", "--doctor", "{p}", "--at", "2026-12-03 09:30",
     "--tz", "America/New_York"),
    ("question", "add", "Is surgery first?", "--appointment", "{p}"),
    ("material", "add", "glass-slides", "H&E slides", "--from", "Mercy"),
    # Medication #p is current (so `medication stop` has one to stop), by doctor #p.
    ("medication", "add", "Tamoxifen", "--dose", "20 mg", "--prescriber", "{p}"),
    ("allergy", "add", "Penicillin", "--reaction", "hives", "--severity", "moderate"),
    ("condition", "add", "Type 2 diabetes", "--since", "2015-03-01"),
    ("treatment", "add", "chemotherapy", "AC-T", "--started", "2026-01-10", "--doctor", "{p}"),
    ("result", "add", "CA 19-9", "37", "--unit", "U/mL", "--date", "2026-06-01",
     "--record", "{p}"),
)  # fmt: skip
# The tables of the things above: #1 of each is patient 1's, #2 patient 2's.
OWNED_TABLES = (
    "doctor", "record", "opinion", "appointment", "question", "material",
    "medication", "allergy", "condition", "treatment", "result",
)  # fmt: skip


def build_binder(home: Path, inbox: Path, url: str | None) -> None:
    """Two patients with one of everything each (a doctor, a record with its file, an
    opinion, an appointment, a question, a material, a medication, an allergy, a condition,
    a treatment, a result), and a spare doctor each; and patient 3 with nothing recorded
    (bi.FOR_EMPTY_PATIENT). `url`: the database (None: binder.db in the home)."""
    runner = CliRunner()
    inbox.mkdir(parents=True, exist_ok=True)
    pdfs = {1: write_pdf(inbox / "biopsy.pdf", pages=2), 2: write_pdf(inbox / "ct.pdf", pages=3)}
    _invoke(runner, home, url, "init", "--name", "Ana Souza", "--born", "1964-04-12")
    _invoke(runner, home, url, "patient", "add", "Bob Lee", "--born", "1950-01-02")
    for step in PER_PATIENT_STEPS:
        for p in (1, 2):
            argv = [a.replace("{p}", str(p)).replace("{pdf}", str(pdfs[p])) for a in step]
            _invoke(runner, home, url, "--patient", str(p), *argv)
    _invoke(runner, home, url, "patient", "add", "Cara Empty", "--born", "1970-01-01")
    engine = create_engine(url or f"sqlite:///{home / config.DATABASE_FILE}", poolclass=NullPool)
    try:
        with engine.begin() as database:
            for table in OWNED_TABLES:
                owners = dict(database.execute(text(f"SELECT id, patient_id FROM {table}")).all())
                assert owners[1] == 1 and owners[2] == 2, (table, owners)
            files = dict(database.execute(text("SELECT id, record_id FROM file")).all())
            assert files == {1: 1, 2: 2}, files
            if engine.dialect.name == "sqlite":
                database.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Template:
    home: Path  # the binder's folder: its store, and on SQLite its database
    schema: str | None = None  # on PostgreSQL: the schema holding its rows


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory, _postgres_admin: Engine | None
) -> Iterator[Template]:
    """The binder (in `home/`, and on PostgreSQL a schema of its own), and a backup of it
    (`binder.backup`) for `restore`."""
    root = tmp_path_factory.mktemp("bad-input")
    if _postgres_admin is None:
        build_binder(root / "home", root / "inbox", None)
        if ("backup",) in LEAVES:
            _invoke(CliRunner(), root / "home", None, "backup", "-o", str(root / "binder.backup"))
        yield Template(root / "home")
        return
    with postgres_schema(_postgres_admin, "bad_input_template") as url:
        build_binder(root / "home", root / "inbox", url)
        yield Template(root / "home", f"{SCHEMA_PREFIX}{os.getpid()}_bad_input_template")


def copy_rows(url: str, schema: str) -> None:
    """Make the (migrated) PostgreSQL database at `url` hold exactly the rows of `schema`,
    its ids counting on from the same place. The search index is emptied too: the rows'
    triggers index them again as they are copied."""
    engine = create_engine(url, poolclass=NullPool)
    tables = Base.metadata.sorted_tables
    try:
        with engine.begin() as conn:
            names = ", ".join([*(f'"{t.name}"' for t in tables), INDEX_TABLE])
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            for table in tables:
                conn.exec_driver_sql(
                    f'INSERT INTO "{table.name}" SELECT * FROM "{schema}"."{table.name}"'
                )
                if "id" in table.c:
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id))"
                        f' FROM "{table.name}"'
                    )
    finally:
        engine.dispose()


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module: the counts the issue's closing note asks for, on the terminal."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not TALLY["tried"]:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(summary())


def summary() -> str:
    bugs = ", ".join(f"{name.removeprefix('test_bug_')}: {n}" for name, n in BUG_HITS.items())
    return (
        f"bad inputs tried {TALLY['tried']} (and {TALLY['probed']} legitimate edge values),"
        f" tracebacks seen {TALLY['tracebacks']}, 'Unexpected error' seen"
        f" {TALLY['unexpected']}, cases failing on known bugs {TALLY['known']}"
        + (f" ({bugs})" if bugs else "")
    )


# --- running cases -----------------------------------------------------------------------------


@dataclass
class Sweep:
    template: Template
    root: Path
    home: Path
    ws: bi.Workspace
    runner: CliRunner = field(default_factory=CliRunner)

    def reset(self) -> None:
        shutil.rmtree(self.home)
        shutil.copytree(self.template.home, self.home, symlinks=True)
        shutil.rmtree(self.ws.restore_home, ignore_errors=True)
        if self.template.schema is not None:
            copy_rows(os.environ[config.DATABASE_ENV], self.template.schema)

    def state(self) -> bi.State:
        return bi.binder_state(self.home, self.ws)

    def run(self, cases: Sequence[Case]) -> list[str]:
        """Run `cases`; the failures not explained by a known bug, one description each."""
        failures: list[str] = []
        before = self.state()
        for case in cases:
            if case.child:
                continue
            outcome = bi.run_in_process(self.runner, case.argv)
            changed = bi.differences(before, self.state())
            failures += judge(case, outcome, changed)
            if changed:
                self.reset()
        children = [c for c in cases if c.child]
        if not FULL_CHILD_SWEEP:
            firsts: dict[tuple[tuple[str, ...], str], Case] = {}
            for case in children:
                firsts.setdefault((case.command, case.param), case)
            children = list(firsts.values())
        if self.template.schema is not None:  # one database: one child at a time
            for case in children:
                outcome = bi.run_child(case.argv, self.home, self.root)
                changed = bi.differences(before, self.state())
                failures += judge(case, outcome, changed)
                if changed:
                    self.reset()
            return failures
        with ThreadPoolExecutor(CHILD_WORKERS) as pool:
            for case, outcome, changed in pool.map(self.run_child, enumerate(children)):
                failures += judge(case, outcome, changed)
        return failures

    def run_child(self, numbered: tuple[int, Case]) -> tuple[Case, Outcome, list[str]]:
        """A case in a child process, on its own copy of the binder."""
        number, case = numbered
        folder = self.root / f"child-{number}"
        home = folder / "home"
        shutil.copytree(self.template.home, home, symlinks=True)
        before = bi.binder_state(home, self.ws)
        outcome = bi.run_child(case.argv, home, folder)
        return case, outcome, bi.differences(before, bi.binder_state(home, self.ws))

    def check_baseline(self, command: tuple[str, ...], cmd: Any) -> None:
        """The valid invocation each case spoils succeeds, for both patients: so in every case
        the bad value was the only problem."""
        scoped = any(bi.kind_of(p) == "id" for p in cmd.params)
        for patient in (1, 2) if scoped else (1,):
            self.reset()
            argv = bi.invocation(command, cmd, self.ws, patient=patient)
            outcome = bi.run_in_process(self.runner, argv)
            assert outcome.exit_code == 0, (argv, outcome)
        self.reset()


def judge(case: Case, outcome: Outcome, changed: Sequence[str]) -> list[str]:
    found = bi.problems(case, outcome, changed)
    TALLY["tried" if case.expect == REFUSED else "probed"] += 1
    TALLY["tracebacks"] += "traceback" in found
    TALLY["unexpected"] += "unexpected" in found
    explained: set[str] = set()
    for bug in KNOWN_BUGS:
        if bug.matches(case):
            hit = bug.problems.intersection(found)
            explained |= hit
            BUG_HITS[bug.test] += bool(hit)
    TALLY["known"] += bool(explained)
    rest = [p for p in found if p not in explained]
    return [bi.describe(case, outcome, rest, changed)] if rest else []


@pytest.fixture
def sweep(
    template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: config.Settings
) -> Sweep:
    """A copy of the binder at the home (and database) the test's environment names, and a
    workspace of files; the current folder and the temporary folder are the test's own."""
    home = tmp_path / "home"  # CAREBINDER_HOME (tests/conftest.py)
    shutil.copytree(template.home, home, symlinks=True)
    if template.schema is not None:
        open_binder(settings, create=True).dispose()  # the schema, migrated
        copy_rows(settings.database_url, template.schema)
    monkeypatch.chdir(tmp_path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))  # `demo` makes its binder there
    archive = template.home.parent / "binder.backup"
    ws = bi.Workspace(tmp_path / "inputs", home, archive if archive.exists() else None)
    return Sweep(template, tmp_path, home, ws)


def failed(failures: Sequence[str]) -> str:
    return f"{len(failures)} bad input(s) mishandled:\n" + "\n".join(failures)


# --- the sweep ---------------------------------------------------------------------------------


def _marked(command: tuple[str, ...]) -> Any:
    marks = []
    if command in SQLITE_ONLY_COMMANDS:
        marks.append(pytest.mark.sqlite_only(SQLITE_ONLY_COMMANDS[command]))
    return pytest.param(command, marks=marks, id=" ".join(command))


@pytest.mark.parametrize("command", [_marked(command) for command in LEAVES])
def test_every_parameter_refuses_bad_values(command: tuple[str, ...], sweep: Sweep) -> None:
    cmd = LEAVES[command]
    failures = sweep.run(bi.cases_for(command, cmd, sweep.ws))
    assert not failures, failed(failures)
    if command not in bi.SERVERS:
        sweep.check_baseline(command, cmd)


def test_global_options_refuse_bad_values(sweep: Sweep) -> None:
    failures = sweep.run(bi.global_cases(sweep.ws))
    assert not failures, failed(failures)


def test_the_sweep_covers_every_command_and_parameter(tmp_path: Path) -> None:
    """Nothing escapes the sweep: each parameter of each command has cases, and a parameter
    of a type the sweep does not know fails here until `badinput.bad_values` learns it."""
    ws = bi.Workspace(tmp_path / "inputs", tmp_path / "home")
    assert len(LEAVES) >= 45, sorted(LEAVES)
    for command, cmd in LEAVES.items():
        cases = bi.cases_for(command, cmd, ws)
        swept = {case.param for case in cases}
        for param in cmd.params:
            assert not bi.kind_of(param).startswith("unknown"), (command, param.name)
            assert param.name in swept, (command, param.name)
        assert {"unknown option", "unexpected extra argument"} <= {c.label for c in cases}
    swept = {case.param for case in bi.global_cases(ws)}
    assert {p.name for p in bi.ROOT.params} <= swept


def test_commands_that_ask_never_wait_without_a_terminal(
    sweep: Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removals without --yes, and `packet --password` without its variable, refuse when
    stdin is not a terminal instead of waiting for an answer (child processes, timeout 20 s)."""
    cases = []
    for command, cmd in LEAVES.items():
        names = {p.name for p in cmd.params}
        if "yes" in names:
            argv = [a for a in bi.invocation(command, cmd, sweep.ws) if a != "--yes"]
            label = "no --yes, no terminal"
            cases.append(Case(command, "yes", "flag", label, tuple(argv), child=True))
        if "password" in names:
            argv = [*bi.invocation(command, cmd, sweep.ws), "--password"]
            cases.append(Case(command, "password", "flag", "no terminal", tuple(argv), child=True))
    assert len(cases) >= 8, cases
    monkeypatch.delenv("CAREBINDER_PACKET_PASSWORD", raising=False)
    failures = sweep.run(cases)
    assert not failures, failed(failures)


def test_file_unlinked_while_record_add_reads_it_is_stored_whole(
    sweep: Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file deleted while it is being read is still read whole (POSIX keeps it open)."""
    source = big_pdf(sweep.root / "vanishing.pdf")
    size = source.stat().st_size
    pause_first_write(monkeypatch, lambda: source.unlink())
    data = add_record_json(sweep, source)
    assert data["files"][0]["size"] == size


def test_summary() -> None:
    """After the sweep above: the counts the issue's closing note asks for (also printed at
    the end of the module's run)."""
    print(summary())  # noqa: T201 - shown with -s and in the report
    assert TALLY["tracebacks"] == 0


# --- the bugs, one named test each ---------------------------------------------------------------


def refused_cleanly(
    sweep: Sweep, argv: Sequence[str], expect: str = REFUSED, *, child: bool = False
) -> None:
    """The case keeps the contract: a clean refusal (or, when TOLERATED, a clean success)."""
    case = Case(("bug",), "", "bug", "bug", tuple(argv), expect, child)
    before = sweep.state()
    if child:
        outcome = bi.run_child(argv, sweep.home, sweep.root)
    else:
        outcome = bi.run_in_process(sweep.runner, argv)
    changed = bi.differences(before, sweep.state())
    found = bi.problems(case, outcome, changed)
    assert not found, bi.describe(case, outcome, found, changed)


def test_bug_non_utf8_text_is_an_unexpected_error(sweep: Sweep) -> None:
    # In a child process, so argv holds the real bytes b"caf\xe9" as a shell would pass them.
    refused_cleanly(sweep, ["--patient", "1", "doctor", "add", bi.NON_UTF8], child=True)


def test_bug_huge_audit_limit_is_an_unexpected_error(sweep: Sweep) -> None:
    refused_cleanly(sweep, ["audit", "--limit", bi.HUGE_ID], TOLERATED)


@pytest.mark.parametrize("patient", ["-1", "0"])
def test_bug_audit_accepts_impossible_patient_ids(sweep: Sweep, patient: str) -> None:
    refused_cleanly(sweep, ["--patient", patient, "audit"])


def test_bug_audit_huge_patient_id_is_an_unexpected_error(sweep: Sweep) -> None:
    refused_cleanly(sweep, ["--patient", bi.HUGE_ID, "audit"])


@pytest.mark.parametrize("url", ["nope", "nope://", bi.NON_UTF8])
def test_bug_malformed_database_url_is_an_unexpected_error(sweep: Sweep, url: str) -> None:
    refused_cleanly(sweep, ["--patient", "1", "--db", url, "doctor", "list"])


def test_bug_appointment_in_year_9999_is_accepted(sweep: Sweep) -> None:
    # (Editing appointment #1 to that time is refused, but only because in its zone,
    # America/New_York, the moment overflows UTC.)
    argv = ["--patient", "1", "appointment", "add", "--doctor", "1", "--at", "9999-12-31 23:59"]
    refused_cleanly(sweep, argv)


@pytest.mark.parametrize(
    "args",
    [
        ["record", "add", "lab", "Labs", "--date"],
        ["appointment", "add", "--doctor", "1", "--at"],
        ["appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30", "--tz"],
        ["packet", "1", "--paper"],
    ],
    ids=lambda args: args[-1],
)
def test_bug_errors_echo_a_100_kb_value_back(sweep: Sweep, args: list[str]) -> None:
    refused_cleanly(sweep, ["--patient", "1", *args, bi.BIG_TEXT])


def test_bug_packet_to_a_non_utf8_file_name(sweep: Sweep) -> None:
    target = sweep.ws.new_output(b"caf\xe9")
    refused_cleanly(sweep, ["--patient", "1", "packet", "1", "-o", str(target)], TOLERATED)
    assert target.is_file()


def test_bug_packet_force_replaces_a_fifo(sweep: Sweep) -> None:
    fifo = sweep.ws.fifo
    refused_cleanly(sweep, ["--patient", "1", "packet", "1", "-o", str(fifo), "--force"])
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the FIFO was replaced by a file"


def test_bug_file_truncated_while_record_add_reads_it(
    sweep: Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = big_pdf(sweep.root / "growing-smaller.pdf")
    pause_first_write(monkeypatch, lambda: os.truncate(source, 1 << 19))
    argv = ["--patient", "1", "record", "add", "lab", "Labs", "--file", str(source)]
    refused_cleanly(sweep, argv)


# --- helpers for the files that change while they are read ---------------------------------------


def big_pdf(path: Path) -> Path:
    """A 12 MB file that starts like a PDF: twelve of the store's 1 MB chunks."""
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        out.write(os.urandom(12 << 20))
    return path


def pause_first_write(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """When the store has read the first chunk of a file, a thread does `change` to that file
    while the reader waits; then the reading goes on. (The store's fault-injection checkpoint
    is the meeting point, so the race is won every time.)"""
    from carebinder import store

    real = store.checkpoint
    reached, done = threading.Event(), threading.Event()

    def meeting_point(point: str) -> None:
        if point == "store.write" and not reached.is_set():
            reached.set()
            assert done.wait(20), "the thread did not change the file"
        real(point)

    def changer() -> None:
        if reached.wait(20):
            change()
        done.set()

    monkeypatch.setattr(store, "checkpoint", meeting_point)
    threading.Thread(target=changer, daemon=True).start()


def add_record_json(sweep: Sweep, source: Path) -> dict[str, Any]:
    import json

    argv = ["--patient", "1", "record", "add", "lab", "Labs", "--file", str(source), "--json"]
    outcome = bi.run_in_process(sweep.runner, argv)
    assert outcome.exit_code == 0, outcome
    data: dict[str, Any] = json.loads(outcome.stdout)
    return data
