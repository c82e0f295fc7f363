"""`carebinder init`, `carebinder demo`, `carebinder db status|upgrade`, and commands that
need a binder when there is none yet."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from typer.testing import Result

from tests.cli.cliutil import (
    DB_STATUS_KEYS,
    PATIENT_KEYS,
    RECORD_KEYS,
    as_json,
    assert_keys,
    assert_refused,
    snapshot,
)
from tests.conftest import NO_BINDER_FILE, Cli, blob_files
from tests.packet.pdfutil import flat, read

MakeFile = Callable[[str, bytes], Path]

# --- init ---------------------------------------------------------------------------------


@pytest.mark.sqlite_only(NO_BINDER_FILE)
def test_init_without_a_patient_creates_the_binder(cli: Cli, home: Path) -> None:
    result = cli.ok("init")
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Binder ready at {home}",
        "Next: carebinder doctor add NAME --specialty TEXT --institution TEXT",
    ]
    assert (home / "binder.db").is_file()
    assert (home / "files").is_dir()
    assert as_json(cli.ok("patient", "list", "--json")) == []


def test_init_with_a_patient(cli: Cli, home: Path) -> None:
    result = cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    assert result.stdout == "Added patient #1: Ana Souza\n"
    assert result.stderr.startswith(f"Binder ready at {home}\n")
    (patient,) = as_json(cli.ok("patient", "list", "--json"))
    assert_keys(patient, PATIENT_KEYS)
    assert (patient["name"], patient["born"]) == ("Ana Souza", "1964-04-12")


@pytest.mark.parametrize(
    "again",
    [
        ("init", "--name", "Ana Souza", "--born", "1964-04-12"),
        ("init", "--name", "  Ana Souza ", "--born", "1964-04-12"),
        ("init",),
    ],
)
def test_init_twice_keeps_everything_and_adds_no_duplicate(
    binder: Cli, make_pdf: Callable[..., Path], home: Path, again: tuple[str, ...]
) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("record", "add", "pathology", "Biopsy", "--file", str(make_pdf()))
    before = snapshot(binder)
    blobs = blob_files(home)
    result = binder.ok(*again)
    if len(again) > 1:
        assert result.stdout == "Patient #1 Ana Souza is already in the binder.\n"
    else:
        assert result.stdout == ""
    assert snapshot(binder) == before
    assert blob_files(home) == blobs
    assert len(before["patient"]) == 1


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("init", "--name", "Ana Souza"), ("--name", "--born")),
        (("init", "--born", "1964-04-12"), ("--name", "--born")),
        (("init", "--name", "Ana Souza", "--born", "2026-13-45"), ("--born", "2026-13-45")),
        (("init", "--name", "Ana Souza", "--born", "next week"), ("--born", "next week")),
    ],
)
def test_init_refusals_create_nothing(
    cli: Cli, home: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    assert_refused(cli(*args), 1, *needles)
    assert not home.exists()


def test_init_refuses_an_empty_name_before_creating_anything(cli: Cli, home: Path) -> None:
    assert_refused(cli("init", "--name", " ", "--born", "1964-04-12"), 1, "empty")
    assert not home.exists()


def test_init_refuses_an_empty_name_naming_the_option(cli: Cli) -> None:
    assert_refused(cli("init", "--name", " ", "--born", "1964-04-12"), 1, "--name")


def test_init_refusal_on_an_existing_binder_changes_nothing(binder: Cli) -> None:
    before = snapshot(binder, "patient")
    assert_refused(binder("init", "--name", "Bob Lee"), 1, "--born")
    assert_refused(binder("init", "--name", "Bob Lee", "--born", "2999-01-01"), 1, "--born")
    assert snapshot(binder, "patient") == before


def test_init_with_an_unknown_option_is_a_usage_error(cli: Cli, home: Path) -> None:
    assert_refused(cli("init", "--force"), 2, "--force")
    assert not home.exists()


# --- demo ---------------------------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`carebinder demo` makes its temporary folder in here, not in the system's /tmp."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@dataclass
class Demo:
    home: Path
    result: Result


@pytest.fixture
def demo(cli: Cli, scratch: Path, home: Path) -> Demo:
    result = cli.ok("demo")
    (binder_home,) = scratch.iterdir()
    assert binder_home.name.startswith("carebinder-demo-")
    assert f"export CAREBINDER_HOME={binder_home}\n" in result.stderr
    assert not home.exists()  # the user's own binder is left alone
    return Demo(binder_home, result)


def test_demo_prints_the_sample_packet_path_on_stdout(demo: Demo) -> None:
    assert demo.result.stdout == f"{demo.home / 'sample-packet.pdf'}\n"
    assert (demo.home / "sample-packet.pdf").read_bytes().startswith(b"%PDF-")


def test_demo_prints_one_path_on_stdout_and_notes_on_stderr(demo: Demo) -> None:
    assert demo.result.stdout.count("\n") == 1
    printed = Path(demo.result.stdout.strip())
    assert printed.exists()
    assert printed.is_relative_to(demo.home)
    assert f"Sample binder for Ana Souza: {demo.home}" in demo.result.stderr
    assert "Traceback" not in demo.result.stderr


@pytest.mark.sqlite_only(
    "demo makes a SQLite binder in a folder of its own, which the test reaches by --home"
)
def test_demo_binder_holds_records_with_files(cli: Cli, demo: Demo) -> None:
    rows = as_json(cli.ok("--home", str(demo.home), "record", "list", "--json"))
    assert rows
    for row in rows:
        assert_keys(row, RECORD_KEYS)
    with_files = [row for row in rows if row["files"]]
    assert with_files
    assert any(f["media_type"] == "application/pdf" for row in with_files for f in row["files"])
    assert blob_files(demo.home)


@pytest.mark.sqlite_only(
    "demo makes a SQLite binder in a folder of its own, which the test reaches by --home"
)
def test_demo_binder_is_usable_through_the_environment(
    cli: Cli, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREBINDER_HOME", str(demo.home))
    assert as_json(cli.ok("record", "list", "--json"))
    assert len(as_json(cli.ok("opinion", "compare", "--json"))["opinions"]) >= 1
    (appointment, *_) = as_json(cli.ok("appointment", "list", "--json"))
    assert "Checklist for appointment" in cli.ok("checklist", str(appointment["id"])).stdout


def test_demo_out_writes_the_packet_there(cli: Cli, scratch: Path, tmp_path: Path) -> None:
    target = tmp_path / "sample.pdf"
    result = cli.ok("demo", "--out", str(target))
    assert result.stdout == f"{target}\n"
    with pikepdf.open(target) as pdf:
        assert len(pdf.pages) > 1
    assert len(list(scratch.iterdir())) == 1


def test_demo_packet_summary_reads_as_a_new_oncologist_needs_it(
    cli: Cli, scratch: Path, tmp_path: Path
) -> None:
    """The sample case, gathered from its binder and rendered: read back from the PDF."""
    target = tmp_path / "sample.pdf"
    cli.ok("demo", "--out", str(target))
    packet = read(target)
    # cover, summary, opinions, questions, checklist and care team, index, 4 records
    assert packet.pages == 10
    (summary_page,) = [i for i, t in enumerate(packet.texts) if flat(t).startswith("Summary")]
    summary = flat(packet.texts[summary_page])  # a typical case: one page
    in_order = [
        "Invasive ductal carcinoma, left breast, ER+/PR+/HER2-",
        "Primary site Breast, upper outer quadrant Laterality left",
        "Histology Invasive ductal carcinoma Grade 2",
        "TNM pT1c pN1mi cM0 (pathologic) Stage group IB",
        "AJCC edition 8th ECOG 1 — restricted in strenuous activity, can do light work",
        "According to Dr. Priya Raman",
        "Key results Latest Date First → latest",
        "ER 95% (positive)",
        "HER2 1+ (negative)",
        "Ki-67 18%",
        "CA 15-3 34 U/mL (high)",
        "21 → 34 U/mL, 4 values since",
        "Treatments so far Kind When Response Sentinel lymph node biopsy, left axilla",
        "Letrozole, before surgery Dr. Priya Raman hormone therapy since",
        "Current medications Dose How taken For Letrozole 2.5 mg",
        "Vitamin D3 (supplement) 2000 IU",
        "Allergies Reaction Severity Penicillin (medication) hives and swelling of the face"
        " ⚠ severe",
        "Adhesive tape (other) skin rash mild",
        "Other conditions: High blood pressure (since 01 Mar 2015) · Hypothyroidism",
        "Proposed treatment Lumpectomy with axillary dissection",
        "Key dates",
    ]
    places = [summary.find(text) for text in in_order]
    assert -1 not in places, [t for t, at in zip(in_order, places, strict=True) if at < 0]
    assert places == sorted(places)
    assert "Ibuprofen" not in summary  # stopped: in the binder's history, not in the summary
    opinions = flat(packet.texts[summary_page + 1])
    assert opinions.startswith("Opinions so far")  # a typical case: one page
    for expected in ("N ≠ N0 N1mi", "Stage group ≠ IA IB", "ECOG ≠ 0 1"):
        assert expected in opinions, expected
    checklist = flat(packet.all_text())
    assert "☑ Medication list — 4 current medications recorded" in checklist
    assert "☑ Allergies recorded — 2 allergies recorded" in checklist


def test_demo_out_refuses_to_overwrite(cli: Cli, scratch: Path, make_file: MakeFile) -> None:
    existing = make_file("mine.pdf", b"my own file")
    assert_refused(cli("demo", "--out", str(existing)), 1, str(existing), "already exists")
    assert existing.read_bytes() == b"my own file"
    assert list(scratch.iterdir()) == []


# --- db -----------------------------------------------------------------------------------


def test_db_status_after_init(binder: Cli, home: Path) -> None:
    result = binder.ok("db", "status")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"Binder:  {home}"
    assert lines[1].startswith("Database: ")
    assert lines[2] == f"Store:   {home / 'files'}"
    assert lines[3].startswith("Current: ")
    assert lines[4].startswith("Head:    ")
    assert lines[3].split()[1] == lines[4].split()[1]
    assert lines[5] == "Up to date."
    data = as_json(binder.ok("db", "status", "--json"))
    assert_keys(data, DB_STATUS_KEYS)
    assert data["current"] == data["head"]
    assert data["up_to_date"] is True


def test_db_status_before_init_creates_nothing(cli: Cli, home: Path) -> None:
    data = as_json(cli.ok("db", "status", "--json"))
    assert data["current"] is None
    assert data["up_to_date"] is False
    assert "none (no binder yet)" in cli.ok("db", "status").stdout
    assert not home.exists()


def test_db_status_before_init_points_to_init(cli: Cli) -> None:
    result = cli.ok("db", "status")
    assert "carebinder init" in result.stdout
    assert "db upgrade" not in result.stdout


def test_db_upgrade_on_a_current_binder(binder: Cli) -> None:
    before = snapshot(binder, "patient")
    result = binder.ok("db", "upgrade")
    assert result.stdout == ""
    assert result.stderr.startswith("The binder is at schema ")
    assert result.stderr.endswith(", the newest.\n")
    assert snapshot(binder, "patient") == before


# --- before init --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("patient", "list"),
        ("patient", "add", "Ana Souza", "--born", "1964-04-12"),
        ("patient", "show", "1"),
        ("patient", "use", "1"),
        ("doctor", "list", "--json"),
        ("doctor", "add", "Dr. Wei Chen"),
        ("record", "list"),
        ("record", "add", "lab", "CBC"),
        ("opinion", "list"),
        ("opinion", "compare"),
        ("appointment", "list"),
        ("question", "list"),
        ("question", "add", "Why?"),
        ("material", "list"),
        ("material", "add", "glass-slides", "Slides"),
        ("checklist", "1"),
        ("db", "upgrade"),
    ],
)
@pytest.mark.sqlite_only(NO_BINDER_FILE)
def test_commands_before_init_say_to_run_init(cli: Cli, home: Path, args: tuple[str, ...]) -> None:
    line = assert_refused(cli(*args), 1, "No binder", "carebinder init")
    assert str(home) in line
    assert not home.exists()
