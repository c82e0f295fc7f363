"""`verify.repair`: leftovers removed and permissions tightened, nothing a row may need."""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import Engine

from carebinder import verify
from carebinder.db import session_scope
from carebinder.models import File
from tests.conftest import blob_files, mode
from tests.verify.verifykit import (
    Binder,
    MakeFile,
    flip_bit,
    kinds,
    new_blob,
    rewrite,
    run,
)


def test_repair_removes_only_orphans_and_temporary_files(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    orphan = new_blob(binder, make_file)
    temp = binder.store.root / ".tmp-99-0123456789ab"
    temp.write_bytes(b"partial")
    stray = binder.store.root / "keep-me.txt"
    stray.write_text("someone's file")
    misnamed = binder.store.path_for("e" * 64)
    misnamed.parent.mkdir(mode=0o700, exist_ok=True)
    misnamed.write_bytes(b"not what the name says")
    damaged = binder.files[0]
    rewrite(damaged.path, flip_bit)
    before = {a.path: a.path.read_bytes() for a in binder.files}

    report = run(engine, binder)
    repaired = verify.repair(engine, binder.settings, report, min_age=0)

    assert sorted(repaired.removed) == sorted([binder.rel(orphan), binder.rel(temp)])
    assert not orphan.exists()
    assert not orphan.parent.exists()  # its shard held nothing else
    assert not temp.exists()
    assert stray.exists()
    assert misnamed.exists()
    assert {a.path: a.path.read_bytes() for a in binder.files} == before
    after = run(engine, binder)
    assert sorted(kinds(after)) == ["blob_damaged", "misnamed_blob", "stray_file"]
    assert not after.fixable


def test_repair_leaves_young_files_alone(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    orphan = new_blob(binder, make_file)
    temp = binder.store.root / ".tmp-99-young"
    temp.write_bytes(b"being written")
    report = run(engine, binder)  # old enough when checked…
    repaired = verify.repair(engine, binder.settings, report, min_age=3600)  # …not when removed
    assert repaired.removed == ()
    assert sorted(repaired.skipped) == sorted([binder.rel(orphan), binder.rel(temp)])
    assert orphan.exists()
    assert temp.exists()
    assert run(engine, binder, min_age=3600).ok


def test_repair_keeps_a_blob_a_row_started_using_after_the_check(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    orphan = new_blob(binder, make_file, b"attached concurrently\n")
    report = run(engine, binder)
    assert kinds(report) == ["orphan_blob"]
    sha = hashlib.sha256(orphan.read_bytes()).hexdigest()
    with session_scope(engine) as s:  # a concurrent attach of the same bytes commits
        s.add(
            File(
                record_id=binder.files[0].record,
                original_name="x.txt",
                media_type="text/plain",
                size=orphan.stat().st_size,
                sha256=sha,
            )
        )
    repaired = verify.repair(engine, binder.settings, report, min_age=0)
    assert repaired.removed == ()
    assert repaired.skipped == (binder.rel(orphan),)
    assert orphan.exists()
    assert run(engine, binder).ok


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_repair_tightens_loose_permissions(engine: Engine, binder: Binder) -> None:
    blob = binder.files[0].path
    blob.chmod(0o644)
    blob.parent.chmod(0o755)
    binder.home.chmod(0o755)
    repaired = verify.repair(engine, binder.settings, run(engine, binder), min_age=0)
    assert len(repaired.tightened) == 3
    assert (mode(blob), mode(blob.parent), mode(binder.home)) == (0o600, 0o700, 0o700)
    assert run(engine, binder).ok


def test_after_repair_a_second_check_is_clean(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    for n in range(3):
        new_blob(binder, make_file, f"orphan {n}\n".encode())
    (binder.store.root / ".tmp-1-aaaa").write_bytes(b"x")
    (binder.store.root / ".tmp-2-bbbb").write_bytes(b"y")
    if os.name == "posix":
        binder.files[1].path.chmod(0o604)
    report = run(engine, binder)
    assert len(report.fixable) == len(report.problems) >= 5
    verify.repair(engine, binder.settings, report, min_age=0)
    assert run(engine, binder).ok
    assert len(blob_files(binder.home)) == 4
