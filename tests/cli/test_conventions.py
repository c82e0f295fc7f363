"""Conventions every command keeps: stdout for data and stderr for messages, pure `--json`,
choosing the patient, global options, usage errors, and confirmation before removing."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.cliutil import as_json, assert_refused, forget_chosen_patient, snapshot
from tests.conftest import Cli


@pytest.fixture
def full(binder: Cli, make_pdf: Callable[..., Path]) -> Cli:
    """One of everything for patient #1."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("record", "add", "pathology", "Core biopsy", "--file", str(make_pdf()))
    binder.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--record", "1")
    binder.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    binder.ok("question", "add", "Is surgery first?", "--appointment", "1")
    binder.ok("material", "add", "glass-slides", "H&E slides")
    binder.ok("medication", "add", "Tamoxifen", "--prescriber", "1")
    binder.ok("allergy", "add", "Penicillin")
    binder.ok("condition", "add", "Asthma")
    binder.ok("treatment", "add", "surgery", "Lumpectomy", "--doctor", "1")
    binder.ok("result", "add", "CA 19-9", "37", "--record", "1")
    return binder


@pytest.fixture
def two_patients(binder: Cli) -> Cli:
    """Ana Souza (#1) has Dr. Wei Chen (#1); Bob Lee (#2) has Dr. Ada Park (#2)."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    binder.ok("--patient", "2", "doctor", "add", "Dr. Ada Park")
    return binder


def doctor_names(cli: Cli, *global_args: str) -> list[str]:
    return [d["name"] for d in as_json(cli.ok(*global_args, "doctor", "list", "--json"))]


# --- stdout is data, stderr is messages ---------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("patient", "list"),
        ("patient", "show", "1"),
        ("doctor", "list"),
        ("doctor", "show", "1"),
        ("record", "list"),
        ("record", "show", "1"),
        ("opinion", "list"),
        ("opinion", "show", "1"),
        ("opinion", "compare"),
        ("appointment", "list"),
        ("appointment", "show", "1"),
        ("question", "list"),
        ("material", "list"),
        ("medication", "list"),
        ("medication", "list", "--all"),
        ("medication", "show", "1"),
        ("allergy", "list"),
        ("allergy", "show", "1"),
        ("condition", "list"),
        ("condition", "show", "1"),
        ("treatment", "list"),
        ("treatment", "show", "1"),
        ("result", "list"),
        ("result", "list", "ca19-9"),
        ("result", "show", "1"),
        ("checklist", "1"),
        ("db", "status"),
    ],
)
def test_json_output_is_one_json_document_and_nothing_else(
    full: Cli, args: tuple[str, ...]
) -> None:
    result = full.ok(*args, "--json")
    assert result.stderr == ""
    json.loads(result.stdout)  # the whole of stdout, not a line of it
    assert result.stdout.endswith("}\n") or result.stdout.endswith("]\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("patient", "use", "1"), "Now working on patient #1: Ana Souza"),
        (("material", "remove", "1", "--yes"), "Removed material #1."),
        (("question", "remove", "1", "--yes"), "Removed question #1."),
        (("medication", "remove", "1", "--yes"), "Removed medication #1."),
        (("result", "remove", "1", "--yes"), "Removed result #1."),
        (("db", "upgrade"), "The binder is at schema"),
        (("init",), "Binder ready at"),
    ],
)
def test_notes_go_to_stderr_only(full: Cli, args: tuple[str, ...], message: str) -> None:
    result = full.ok(*args)
    assert result.stdout == ""
    assert result.stderr.startswith(message)


def test_empty_lists_print_nothing_on_stdout(binder: Cli) -> None:
    for noun in ("doctor", "record", "opinion", "appointment", "question", "material"):
        result = binder.ok(noun, "list")
        assert result.stdout == "", noun
        assert result.stderr.startswith("No "), noun
        assert f"carebinder {noun} add" in result.stderr, noun
        assert as_json(binder.ok(noun, "list", "--json")) == []


@pytest.mark.parametrize(
    "noun", ["medication", "allergy", "condition", "treatment", "result", "opinion"]
)
def test_every_command_of_the_health_facts_has_an_example(cli: Cli, noun: str) -> None:
    """Each `--help` ends with a line to copy, as every other command's does."""
    import typer.main

    from carebinder.cli import app

    group = typer.main.get_command(app).commands[noun]
    for name, command in group.commands.items():
        assert f"Example: carebinder {noun} {name}" in " ".join(command.help.split()), name
        help_text = cli.ok(noun, name, "--help").stdout
        assert "Example: carebinder" in help_text, name


def test_errors_with_json_leave_stdout_empty(full: Cli) -> None:
    assert_refused(full("doctor", "show", "99", "--json"), 1, "doctor #99")


# --- choosing the patient -----------------------------------------------------------------


def test_several_patients_and_none_chosen_is_refused(two_patients: Cli) -> None:
    forget_chosen_patient()
    for args in (
        ("doctor", "list"),
        ("doctor", "add", "Dr. Nobody"),
        ("record", "add", "lab", "CBC"),
        ("opinion", "compare"),
        ("appointment", "list", "--json"),
        ("question", "add", "Why?"),
        ("material", "list"),
        ("checklist", "1"),
    ):
        assert_refused(two_patients(*args), 1, "several patients", "--patient", "patient use")
    assert doctor_names(two_patients, "--patient", "1") == ["Dr. Wei Chen"]
    assert doctor_names(two_patients, "--patient", "2") == ["Dr. Ada Park"]
    assert as_json(two_patients.ok("--patient", "1", "record", "list", "--json")) == []
    assert as_json(two_patients.ok("--patient", "1", "question", "list", "--json")) == []


def test_patient_option_picks_the_patient(two_patients: Cli) -> None:
    assert doctor_names(two_patients, "--patient", "1") == ["Dr. Wei Chen"]
    assert doctor_names(two_patients, "--patient", "2") == ["Dr. Ada Park"]


def test_patient_environment_variable_picks_the_patient(
    two_patients: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREBINDER_PATIENT", "2")
    assert doctor_names(two_patients) == ["Dr. Ada Park"]
    assert doctor_names(two_patients, "--patient", "1") == ["Dr. Wei Chen"]  # option wins


def test_patient_use_is_remembered_and_can_be_overridden(
    two_patients: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_patients.ok("patient", "use", "2")
    assert doctor_names(two_patients) == ["Dr. Ada Park"]
    assert doctor_names(two_patients) == ["Dr. Ada Park"]  # still, on the next run
    assert doctor_names(two_patients, "--patient", "1") == ["Dr. Wei Chen"]
    monkeypatch.setenv("CAREBINDER_PATIENT", "1")
    assert doctor_names(two_patients) == ["Dr. Wei Chen"]
    monkeypatch.delenv("CAREBINDER_PATIENT")
    two_patients.ok("patient", "use", "1")
    assert doctor_names(two_patients) == ["Dr. Wei Chen"]


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("--patient", "99", "doctor", "list"), 1, ("patient #99",)),
        (("--patient", "Bob", "doctor", "list"), 2, ("--patient", "Bob")),
        (("--patient", "2", "doctor", "show", "1"), 1, ("doctor #1",)),
        (("--patient", "2", "doctor", "edit", "1", "--phone", "1"), 1, ("doctor #1",)),
        (("--patient", "2", "doctor", "remove", "1", "--yes"), 1, ("doctor #1",)),
        (("--patient", "2", "record", "add", "lab", "CBC", "--doctor", "1"), 1, ("doctor #1",)),
        (("--patient", "2", "doctor", "add", "X", "--referred-by", "1"), 1, ("doctor #1",)),
    ],
)
def test_one_patients_ids_never_reach_another(
    two_patients: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(two_patients, "doctor", global_args=("--patient", "1"))
    other = snapshot(two_patients, "doctor", "record", global_args=("--patient", "2"))
    assert_refused(two_patients(*args), code, *needles)
    assert snapshot(two_patients, "doctor", global_args=("--patient", "1")) == before
    assert snapshot(two_patients, "doctor", "record", global_args=("--patient", "2")) == other


def test_patient_environment_variable_must_be_a_known_id(
    two_patients: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREBINDER_PATIENT", "99")
    assert_refused(two_patients("doctor", "list"), 1, "patient #99")
    monkeypatch.setenv("CAREBINDER_PATIENT", "two")
    assert_refused(two_patients("doctor", "list"), 2, "two")


# --- global options -----------------------------------------------------------------------


@pytest.mark.sqlite_only(
    "--home picks a binder.db; when CAREBINDER_DATABASE_URL names a server, it picks only the store"
)
def test_home_option_overrides_the_environment(binder: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other-home"
    binder.ok("--home", str(other), "init", "--name", "Bob Lee", "--born", "1950-01-02")
    binder.ok("--home", str(other), "doctor", "add", "Dr. Ada Park")
    assert (other / "binder.db").is_file()
    assert doctor_names(binder, "--home", str(other)) == ["Dr. Ada Park"]
    assert doctor_names(binder) == []


def test_db_option_picks_the_database(binder: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    binder.ok("--db", url, "init", "--name", "Bob Lee", "--born", "1950-01-02")
    binder.ok("--db", url, "doctor", "add", "Dr. Ada Park")
    assert doctor_names(binder, "--db", url) == ["Dr. Ada Park"]
    assert doctor_names(binder) == []


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("doctors", "list"), ("doctors",)),
        (("doctor", "delete", "1"), ("delete",)),
        (("doctor", "list", "--all"), ("--all",)),
        (("--verbose", "doctor", "list"), ("--verbose",)),
        (("doctor", "show", "one"), ("one",)),
        (("doctor", "show", "1", "2"), ("2",)),
    ],
)
def test_usage_errors_exit_2(binder: Cli, args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    before = snapshot(binder, "doctor")
    assert_refused(binder(*args), 2, *needles)
    assert snapshot(binder, "doctor") == before


def test_help_and_version(cli: Cli, home: Path) -> None:
    result = cli.ok("doctor", "add", "--help")
    assert "Example: carebinder doctor add" in result.stdout
    assert cli.ok("--version").stdout.startswith("carebinder ")
    assert not home.exists()


# --- confirmation before removing -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("patient", "remove", "1"),
        ("doctor", "remove", "2"),
        ("record", "remove", "1"),
        ("record", "detach", "1", "1"),
        ("opinion", "remove", "1"),
        ("appointment", "remove", "1"),
        ("question", "remove", "1"),
        ("material", "remove", "1"),
    ],
)
def test_remove_without_a_terminal_refuses_instead_of_waiting(
    full: Cli, args: tuple[str, ...]
) -> None:
    full.ok("doctor", "add", "Dr. Unused")
    before = snapshot(full)
    files = as_json(full.ok("record", "show", "1", "--json"))["files"]
    # Even an answer waiting on stdin is not taken as consent: stdin is not a terminal.
    assert_refused(full(*args, input="y\n"), 1, "Not removed", "--yes", "no terminal")
    assert snapshot(full) == before
    assert as_json(full.ok("record", "show", "1", "--json"))["files"] == files


def run_on_terminal(args: list[str], answer: str, home: Path) -> tuple[int, str]:
    """Run `python -m carebinder ARGS` attached to a pseudo-terminal; answer its question."""
    env = {**os.environ, "CAREBINDER_HOME": str(home), "TZ": "UTC"}
    main, child = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "carebinder", *args],
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        close_fds=True,
    )
    os.close(child)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # Linux: EIO once the child has closed the terminal
                    chunk = b""
                if not chunk:
                    break
                output += chunk
            if not answered and b"[y/N]" in output:
                os.write(main, answer.encode() + b"\n")
                answered = True
            if not ready and process.poll() is not None:
                break
        else:
            process.kill()
            pytest.fail(f"carebinder did not finish; it printed {output!r}")
        code = process.wait(timeout=30)
    finally:
        os.close(main)
    assert answered, output
    return code, output.decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize(("answer", "removed"), [("y", True), ("n", False)])
def test_remove_on_a_terminal_asks_first(
    binder: Cli, make_pdf: Callable[..., Path], home: Path, answer: str, removed: bool
) -> None:
    binder.ok("record", "add", "pathology", "Core biopsy", "--file", str(make_pdf()))
    code, output = run_on_terminal(["record", "remove", "1"], answer, home)
    assert "Remove record #1 Core biopsy and its 1 file? [y/N]" in output
    assert "Traceback" not in output
    remaining = as_json(binder.ok("record", "list", "--json"))
    if removed:
        assert code == 0, output
        assert "Removed record #1." in output
        assert remaining == []
    else:
        assert code == 1, output
        assert "Error: Nothing was removed." in output
        assert [r["id"] for r in remaining] == [1]
