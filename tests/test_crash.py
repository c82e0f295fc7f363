"""Crash safety: a write command killed at any step, or failing for lack of disk, leaves
the binder consistent and what was there before intact.

Each case runs `carebinder record add … --file` (or `record attach`) in a child process
with a fault injected at one of the points the code marks (carebinder.faults), or kills
it at a random moment. benchmarks/crash_stress.py runs hundreds of such kills.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from carebinder.faults import POINTS, RESTORE_POINTS
from tests import crashkit
from tests.conftest import FILE_BACKUP, Cli

SIZE = 3 * (1 << 20) + 12345  # several chunks: store.write is reached four times


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "inbox" / "scan.pdf"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n" + random.Random(7).randbytes(SIZE))
    return path


@pytest.fixture
def before(binder: Cli, make_pdf, home: Path) -> crashkit.State:
    """A binder holding data already: two records with files."""
    binder.ok("record", "add", "pathology", "Biopsy", "--file", str(make_pdf("a.pdf")))
    binder.ok("record", "add", "imaging", "MRI", "--file", str(make_pdf("b.pdf", pages=2)))
    state = crashkit.check(home)
    assert state.problems == []
    return state


def assert_consistent(home: Path, before: crashkit.State) -> crashkit.State:
    after = crashkit.check(home)
    assert after.problems == []
    # What was there before is intact.
    assert after.rows["record"][: len(before.rows["record"])] == before.rows["record"]
    assert after.rows["file"][: len(before.rows["file"])] == before.rows["file"]
    return after


KILL_POINTS = [(point, 1) for point in POINTS] + [("store.write", 3)]


@pytest.mark.parametrize(("point", "nth"), KILL_POINTS)
def test_a_kill_at_each_step_leaves_the_binder_consistent(
    home: Path, before: crashkit.State, source: Path, point: str, nth: int
) -> None:
    code = crashkit.run(
        home,
        "record",
        "add",
        "lab",
        "crash-1",
        "--file",
        str(source),
        fault=f"{point}:kill:{nth}",
    )
    assert code == -9  # it really died there
    after = assert_consistent(home, before)
    added = len(after.rows["record"]) - len(before.rows["record"])
    # Killed before the commit: nothing; after it: the whole record with its file.
    assert added == (1 if point == "db.committed" else 0)
    assert after.orphans + after.temporary <= 1
    # The binder goes on working: the same command succeeds now.
    assert crashkit.run(home, "record", "add", "lab", "crash-2", "--file", str(source)) == 0
    assert_consistent(home, before)


@pytest.mark.parametrize("seed", range(6))
def test_a_kill_at_a_random_moment_leaves_the_binder_consistent(
    home: Path, before: crashkit.State, source: Path, seed: int
) -> None:
    delay = random.Random(seed).uniform(0.05, 0.6)
    crashkit.run(home, "record", "attach", "1", str(source), kill_after=delay)
    assert_consistent(home, before)


@pytest.mark.parametrize(("point", "error"), [("store.write", "enospc"), ("store.fsync", "eio")])
def test_a_failing_disk_gives_a_clear_error_and_leaves_nothing(
    home: Path, before: crashkit.State, source: Path, point: str, error: str
) -> None:
    original = hashlib.sha256(source.read_bytes()).hexdigest()
    code = crashkit.run(
        home, "record", "add", "lab", "crash-1", "--file", str(source), fault=f"{point}:{error}"
    )
    message = crashkit.run.last_stderr  # type: ignore[attr-defined]
    assert code == 1
    assert message.count("\n") == 1 and "Traceback" not in message
    assert ("The disk is full" if error == "enospc" else "Input/output error") in message
    after = assert_consistent(home, before)
    assert after.rows == before.rows  # no partial record
    assert (after.orphans, after.temporary) == (0, 0)
    assert hashlib.sha256(source.read_bytes()).hexdigest() == original  # source untouched


def test_a_failing_commit_gives_a_clear_error_and_leaves_nothing(
    home: Path, before: crashkit.State, source: Path
) -> None:
    code = crashkit.run(
        home, "record", "add", "lab", "crash-1", "--file", str(source), fault="db.commit:eio"
    )
    message = crashkit.run.last_stderr  # type: ignore[attr-defined]
    assert code == 1
    assert message.startswith("Error: ") and message.count("\n") == 1
    assert "Nothing was saved" in message
    after = assert_consistent(home, before)
    assert after.rows == before.rows
    assert (after.orphans, after.temporary) == (0, 0)  # the new blob was taken back


@pytest.mark.sqlite_only(FILE_BACKUP)
@pytest.mark.parametrize("point", RESTORE_POINTS)
def test_a_restore_killed_at_any_step_leaves_no_half_binder(
    binder: Cli, home: Path, tmp_path: Path, make_pdf, point: str
) -> None:
    binder.ok("record", "add", "pathology", "Biopsy", "--file", str(make_pdf("a.pdf", pages=3)))
    archive = tmp_path / "binder.cbk"
    binder.ok("backup", "-o", str(archive))
    target = tmp_path / "restored"
    code = crashkit.run(target, "restore", str(archive), fault=f"{point}:kill")
    assert code == -9
    if point == "restore.moved":  # killed after the move: the binder is whole
        assert crashkit.check(target).problems == []
        return
    # Before the move: no binder at all in the home, so nothing half-restored is used.
    assert not (target / "binder.db").exists()
    # The same restore then succeeds; the dead one's hidden folder does not block it.
    assert crashkit.run(target, "restore", str(archive)) == 0
    restored = crashkit.check(target)
    assert restored.problems == []
    assert restored.rows == crashkit.check(home).rows
