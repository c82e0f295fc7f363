"""`carebinder verify [--repair] [--json]`: exit codes, one line per problem, the JSON shape."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from carebinder.store import Store
from carebinder.verify import report as verify_report
from tests.blobdamage import DAMAGE, damage
from tests.cli.cliutil import as_json, assert_refused, no_traceback
from tests.conftest import Cli, blob_files, mode, on_postgres

PROBLEM_KEYS = {
    *("kind", "message", "fixable", "path"),
    *("patient", "record", "file", "table", "row", "detail"),
}
CHECKED_KEYS = {"records", "files", "blobs", "bytes", "in_progress"}
# What verify says on PostgreSQL about SQLite's own checks, before its summary.
SKIPPED = (
    "Skipped SQLite's integrity and foreign-key checks, which do not apply: the database"
    " server checks its own data and enforces foreign keys (checked: that every foreign key"
    " is there and in force).\n"
    if on_postgres()
    else ""
)


@pytest.fixture
def filled(binder: Cli, make_file: Callable[[str, bytes], Path]) -> Cli:
    """Patient #1 with two records and three files."""
    first = make_file("Ana-Souza-biopsy.txt", b"Pathology report\n" * 20)
    second = make_file("Ana-Souza-scan.txt", b"CT chest\n" * 20)
    third = make_file("Ana-Souza-labs.txt", b"CBC\n" * 20)
    binder.ok(
        "record", "add", "pathology", "Core biopsy", "--file", str(first), "--file", str(second)
    )
    binder.ok("record", "add", "lab", "CBC", "--file", str(third))
    return binder


@pytest.fixture
def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat every leftover file as old enough to report and remove."""
    monkeypatch.setattr(verify_report, "DEFAULT_MIN_AGE", 0.0)


def corrupt(home: Path) -> dict[str, Path]:
    """A bit flip, a deletion, a stray file and a stale temporary file."""
    blobs = blob_files(home)
    flipped, deleted = blobs[0], blobs[1]
    flipped.chmod(0o600)
    content = bytearray(flipped.read_bytes())
    content[5] ^= 0x20
    flipped.write_bytes(bytes(content))
    flipped.chmod(0o400)
    deleted.unlink()
    stray = home / "files" / "stray.txt"
    stray.write_text("not the store's")
    temp = home / "files" / ".tmp-7-0123456789ab"
    temp.write_bytes(b"partial")
    return {"flipped": flipped, "deleted": deleted, "stray": stray, "temp": temp}


def test_a_healthy_binder(filled: Cli) -> None:
    result = filled.ok("verify")
    assert result.stdout == ""
    assert result.stderr == SKIPPED + "Binder OK: 2 records, 3 files checked.\n"


def test_problems_exit_1_one_line_each_on_stdout(filled: Cli, home: Path, no_grace: None) -> None:
    corrupt(home)
    result = filled("verify")
    assert result.exit_code == 1, (result.stdout, result.stderr)
    no_traceback(result)
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert any(
        line.endswith(
            "is damaged: its content no longer matches what was attached. Restore it from a backup."
        )
        for line in lines
    )
    assert any("is missing from the file store" in line for line in lines)
    assert any(line.startswith("files/stray.txt does not belong") for line in lines)
    assert any(line.startswith("files/.tmp-7-0123456789ab is a temporary file") for line in lines)
    assert result.stderr == SKIPPED + (
        "Found 4 problems (2 records, 3 files checked)."
        " `carebinder verify --repair` can fix 1 of them.\n"
    )
    for secret in ("Ana", "Souza", "biopsy", "1964"):
        assert secret not in result.stdout + result.stderr


def test_json_document(filled: Cli, home: Path, no_grace: None) -> None:
    clean = as_json(filled.ok("verify", "--json"))
    assert clean == {
        "ok": True,
        "checked": {
            "records": 2,
            "files": 3,
            "blobs": 3,
            "bytes": clean["checked"]["bytes"],
            "in_progress": 0,
        },
        "skipped": ["integrity_check", "foreign_key_check"] if on_postgres() else [],
        "problems": [],
        "repaired": None,
    }
    corrupt(home)
    result = filled("verify", "--json")
    assert result.exit_code == 1
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert set(document) == {"ok", "checked", "skipped", "problems", "repaired"}
    assert document["ok"] is False
    assert set(document["checked"]) == CHECKED_KEYS
    assert all(set(p) == PROBLEM_KEYS for p in document["problems"])
    found = {(p["kind"], p["path"]) for p in document["problems"]}
    assert ("stray_file", "files/stray.txt") in found
    assert ("temp_file", "files/.tmp-7-0123456789ab") in found
    assert {p["kind"] for p in document["problems"]} == {
        "blob_damaged",
        "blob_missing",
        "stray_file",
        "temp_file",
    }
    damaged = next(p for p in document["problems"] if p["kind"] == "blob_damaged")
    assert (damaged["patient"], damaged["fixable"]) == (1, False)
    assert isinstance(damaged["file"], int) and isinstance(damaged["record"], int)


def test_repair_removes_leftovers_and_reports_what_remains(
    filled: Cli, home: Path, no_grace: None
) -> None:
    paths = corrupt(home)
    orphan_source = home.parent / "inbox" / "orphan.bin"
    orphan_source.write_bytes(b"stored, then the command was killed\n")
    orphan = Store(home / "files").put(orphan_source).path
    result = filled("verify", "--repair")
    assert result.exit_code == 1
    no_traceback(result)
    assert not orphan.exists()
    assert not paths["temp"].exists()
    assert paths["stray"].exists()
    assert paths["flipped"].exists()
    assert sorted(line.split(" ")[0] for line in result.stdout.splitlines()) == [
        "File",
        "File",
        "files/stray.txt",
    ]
    assert (
        result.stderr.splitlines()[0] == "Repaired: removed 2 leftover files, made 0 items private."
    )
    assert result.stderr.splitlines()[-1] == "Found 3 problems (2 records, 3 files checked)."


def test_repair_to_a_clean_binder_exits_0(filled: Cli, home: Path, no_grace: None) -> None:
    (home / "files" / ".tmp-1-abc").write_bytes(b"x")
    home.chmod(0o755)
    result = filled.ok("verify", "--repair")
    assert result.stdout == ""
    assert result.stderr == (
        "Repaired: removed 1 leftover file, made 1 item private.\n"
        f"{SKIPPED}Binder OK: 2 records, 3 files checked.\n"
    )
    if os.name == "posix":
        assert mode(home) == 0o700
    data = as_json(filled.ok("verify", "--repair", "--json"))
    assert data["repaired"] == {"removed": [], "tightened": [], "skipped": []}


def test_repair_leaves_files_a_running_command_may_be_writing(filled: Cli, home: Path) -> None:
    temp = home / "files" / ".tmp-1-abc"
    temp.write_bytes(b"being written right now")
    result = filled.ok("verify", "--repair")
    assert temp.exists()
    assert "Left alone 1 new file that" in result.stderr
    assert result.stderr.endswith("Binder OK: 2 records, 3 files checked.\n")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_verify_reports_loose_permissions_and_does_not_change_them(filled: Cli, home: Path) -> None:
    home.chmod(0o755)
    blob = blob_files(home)[0]
    blob.chmod(0o644)
    result = filled("verify")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "The binder folder can be opened by other people on this computer (mode 0755)."
        " Make it private with `carebinder verify --repair` (or chmod 700).",
        f"{blob.relative_to(home).as_posix()} can be opened by other people on this computer"
        " (mode 0644). Make it private with `carebinder verify --repair` (or chmod 600).",
    ]
    assert (mode(home), mode(blob)) == (0o755, 0o644)  # checking changes nothing


@pytest.mark.sqlite_only("the test damages binder.db")
def test_a_damaged_database_is_a_problem_not_a_crash(filled: Cli, home: Path) -> None:
    database = home / "binder.db"
    with database.open("r+b") as handle:
        handle.write(b"\x00" * 100)  # the header: SQLite no longer opens it
    result = filled("verify")
    assert result.exit_code == 1
    no_traceback(result)
    assert result.stdout.startswith("The database cannot be read (")
    assert "Restore binder.db from a backup" in result.stdout
    document = json.loads(filled("verify", "--json").stdout)
    assert document["problems"][0]["kind"] == "database_unreadable"


def test_no_binder_is_refused(cli: Cli, home: Path) -> None:
    """No binder.db on SQLite, an empty schema on PostgreSQL: the same refusal as other
    commands give, and nothing is created."""
    result = cli("verify")
    assert_refused(result, 1, "carebinder init")
    assert "No binder at" in result.stderr or "no binder in it yet" in result.stderr
    assert not home.exists()


def test_the_skipped_checks_are_said(filled: Cli) -> None:
    """On PostgreSQL, verify says it skipped SQLite's own checks, and why; on SQLite, the
    report is as before."""
    result = filled.ok("verify")
    document = as_json(filled.ok("verify", "--json"))
    assert result.stderr == SKIPPED + "Binder OK: 2 records, 3 files checked.\n"
    assert ("Skipped" in result.stderr) == on_postgres()
    expected = ["integrity_check", "foreign_key_check"] if on_postgres() else []
    assert document["skipped"] == expected


def test_a_chosen_store_that_is_missing_is_refused(filled: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "share" / "files"
    result = filled("--store", str(missing), "verify")
    assert_refused(result, 1, f"The file store folder {missing} does not exist")
    assert not missing.exists()


def test_help_has_an_example(cli: Cli) -> None:
    result = cli.ok("verify", "--help")
    assert "Example: carebinder verify" in result.stdout
    assert "--repair" in result.stdout
    assert "--json" in result.stdout


def test_every_bad_blob_is_reported_in_one_run(
    binder: Cli, make_file: Callable[[str, bytes], Path], home: Path
) -> None:
    """One blob damaged each way, and one intact: verify names each, never stopping at the
    first, and never waits on the named pipe."""
    ways = [how for how in DAMAGE if how != "unreadable" or os.geteuid() != 0]
    for number, how in enumerate([*ways, "intact"]):
        attached = make_file(f"file-{number}.txt", f"{how} report\n".encode() * 30)
        binder.ok("record", "add", "lab", f"Record {number}", "--file", str(attached))
    store = Store(home / "files")
    for number, how in enumerate(ways, start=1):
        record = as_json(binder.ok("record", "show", str(number), "--json"))
        damage(store.path_for(record["files"][0]["sha256"]), how)
    result = binder("verify", "--json")
    assert result.exit_code == 1
    found = {p["file"]: p["kind"] for p in json.loads(result.stdout)["problems"]}
    expected = {n: DAMAGE[how] for n, how in enumerate(ways, start=1)}
    expected[ways.index("cut short") + 1] = "blob_wrong_size"  # verify tells the size apart
    assert found == expected
    text = binder("verify")
    assert text.exit_code == 1
    assert len(text.stdout.splitlines()) == len(ways)
    assert f"Found {len(ways)} problems ({len(ways) + 1} records" in text.stderr
