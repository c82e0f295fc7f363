"""`verify.store`: every blob hashed against its row; strays, leftovers and permissions."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from carebinder import config, verify
from carebinder.db import session_scope
from carebinder.models import File, RecordKind
from carebinder.services import patients, records
from carebinder.store import Store
from carebinder.verify import store as verify_store
from tests.conftest import blob_files
from tests.verify.verifykit import (
    Binder,
    MakeFile,
    flip_bit,
    kinds,
    new_blob,
    only,
    rewrite,
    run,
)

# --- six corruptions of the store -----------------------------------------------------------


def test_bit_flip_is_damage(engine: Engine, binder: Binder) -> None:
    target = binder.files[1]
    rewrite(target.path, flip_bit)
    problem = only(run(engine, binder), "blob_damaged")
    assert kinds(run(engine, binder)) == ["blob_damaged"]
    assert (problem.file, problem.record, problem.patient) == (
        target.file,
        target.record,
        target.patient,
    )
    assert problem.path == binder.rel(target.path)
    assert problem.message == (
        f"File #{target.file} (record #{target.record}) is damaged: its content no longer"
        " matches what was attached. Restore it from a backup."
    )
    assert not problem.fixable


def test_truncation_is_a_wrong_size(engine: Engine, binder: Binder) -> None:
    target = binder.files[0]
    size = target.path.stat().st_size
    rewrite(target.path, lambda content: content[:100])
    report = run(engine, binder)
    assert kinds(report) == ["blob_wrong_size"]
    problem = report.problems[0]
    assert (problem.file, problem.record) == (target.file, target.record)
    assert f"it has 100 bytes instead of {size} (cut short)" in problem.message
    assert "Restore it from a backup" in problem.message


def test_deleted_blob_is_missing(engine: Engine, binder: Binder) -> None:
    target = binder.files[3]
    target.path.unlink()
    report = run(engine, binder)
    assert kinds(report) == ["blob_missing"]
    problem = report.problems[0]
    assert (problem.file, problem.record, problem.patient) == (
        target.file,
        target.record,
        target.patient,
    )
    assert f"carebinder record attach {target.record} FILE" in problem.message


def test_blob_renamed_to_a_wrong_hash_is_missing_and_misnamed(
    engine: Engine, binder: Binder
) -> None:
    target = binder.files[2]
    wrong = binder.store.path_for("0" * 64)
    wrong.parent.mkdir(mode=0o700, exist_ok=True)
    target.path.rename(wrong)
    report = run(engine, binder)
    assert sorted(kinds(report)) == ["blob_missing", "misnamed_blob"]
    missing, misnamed = only(report, "blob_missing"), only(report, "misnamed_blob")
    assert missing.file == misnamed.file == target.file
    assert misnamed.path == binder.rel(wrong)
    assert misnamed.detail == binder.rel(target.path)
    assert f"Rename it to {binder.rel(target.path)}" in misnamed.message
    assert not misnamed.fixable


def test_stray_file_is_reported(engine: Engine, binder: Binder) -> None:
    stray = binder.store.root / "notes.txt"
    stray.write_text("not a blob")
    shard_stray = binder.files[0].path.parent / "short"
    shard_stray.write_text("not a blob either")
    upper = binder.files[0].path.parent / binder.files[0].path.name.upper()
    upper.write_text("a name in capitals is not one the store writes")
    report = run(engine, binder)
    assert kinds(report) == ["stray_file"] * 3
    assert {p.path for p in report.problems} == {
        binder.rel(stray),
        binder.rel(shard_stray),
        binder.rel(upper),
    }
    assert all(not p.fixable for p in report.problems)


def test_row_pointing_at_a_missing_blob(engine: Engine, binder: Binder) -> None:
    made_up = hashlib.sha256(b"never stored").hexdigest()
    with session_scope(engine) as s:
        row = File(
            record_id=binder.files[0].record,
            original_name="x.pdf",
            media_type="application/pdf",
            size=12,
            sha256=made_up,
        )
        s.add(row)
        s.flush()
        ident = row.id
    report = run(engine, binder)
    assert kinds(report) == ["blob_missing"]
    assert report.problems[0].file == ident
    assert report.problems[0].path == f"files/{made_up[:2]}/{made_up[2:]}"


# --- more of the store ----------------------------------------------------------------------


def test_orphans_are_reported_once_old_enough(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    orphan = new_blob(binder, make_file)
    young = run(engine, binder, min_age=3600)
    assert young.ok
    assert young.checked.in_progress == 1
    problem = only(run(engine, binder), "orphan_blob")
    assert problem.path == binder.rel(orphan)
    assert problem.fixable
    assert "carebinder verify --repair" in problem.message


def test_temporary_files_are_reported_once_old_enough(engine: Engine, binder: Binder) -> None:
    temp = binder.store.root / ".tmp-4242-abcdef"
    temp.write_bytes(b"half written")
    assert run(engine, binder, min_age=3600).checked.in_progress == 1
    problem = only(run(engine, binder), "temp_file")
    assert (problem.path, problem.fixable) == (binder.rel(temp), True)


def test_a_wrongly_named_copy_of_an_intact_blob(engine: Engine, binder: Binder) -> None:
    copy = binder.store.path_for("f" * 64)
    copy.parent.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(binder.files[0].path, copy)
    problem = only(run(engine, binder), "misnamed_blob")
    assert "wrongly named copy of file" in problem.message
    assert problem.file == binder.files[0].file


def test_a_damaged_blob_no_row_uses_is_misnamed_not_an_orphan(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    orphan = new_blob(binder, make_file)
    rewrite(orphan, flip_bit)
    problem = only(run(engine, binder), "misnamed_blob")
    assert not problem.fixable
    assert problem.file is None


def test_links_in_the_store(engine: Engine, binder: Binder, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (binder.store.root / "ab").symlink_to(outside)
    target = binder.files[0]
    shutil.copyfile(target.path, outside / "copy")
    target.path.unlink()
    target.path.symlink_to(outside / "copy")  # the right bytes, but not in the store
    report = run(engine, binder)
    assert sorted(kinds(report)) == ["blob_not_a_file", "stray_file"]
    assert only(report, "stray_file").path == "files/ab"
    assert only(report, "blob_not_a_file").file == target.file


def test_a_folder_named_like_a_temporary_file_is_stray(engine: Engine, binder: Binder) -> None:
    (binder.store.root / ".tmp-1-folder").mkdir()
    assert kinds(run(engine, binder)) == ["stray_file"]


def test_an_unreadable_blob(
    engine: Engine, binder: Binder, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = binder.files[0]
    orphan = new_blob(binder, make_file)
    hash_file = verify_store.hash_file

    def failing_disk(path: Path) -> verify_store.Hashed:
        if path in (target.path, orphan):
            return verify_store.Hashed(None, error="Input/output error")
        return hash_file(path)

    monkeypatch.setattr(verify_store, "hash_file", failing_disk)
    report = run(engine, binder)
    assert sorted(kinds(report)) == ["blob_unreadable", "blob_unreadable"]
    row, unknown = sorted(report.problems, key=lambda p: p.file is None)
    assert (row.file, row.record) == (target.file, target.record)
    assert row.message.startswith(f"File #{target.file} (record #{target.record}) cannot be read")
    assert (unknown.path, unknown.fixable) == (binder.rel(orphan), False)  # never an orphan
    verify.repair(engine, binder.settings, report, min_age=0)
    assert orphan.exists()


def test_a_store_beside_the_home_is_checked_like_the_own(
    engine: Engine, settings: config.Settings, make_file: MakeFile
) -> None:
    """The store given with --store holds the blobs; verify hashes them there, and names
    them by their full path (they are not in the home)."""
    shared = settings.home.parent / "share"
    shared.mkdir(mode=0o700)
    chosen = replace(settings, store=shared)
    store = Store(shared)
    with session_scope(engine) as s:
        ana = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        record = records.add_record(
            s, store, ana.id, kind=RecordKind.LAB, title="Labs", files=[make_file("a.txt", b"A")]
        )
        sha = record.files[0].sha256
    assert blob_files(settings.home) == []
    checker = verify.open_for_check(chosen)
    try:
        assert verify.check(checker, chosen, min_age=0).ok
        rewrite(store.path_for(sha), lambda data: b"B")
        damaged = only(verify.check(checker, chosen, min_age=0), "blob_damaged")
    finally:
        checker.dispose()
    assert damaged.path == f"{shared}/{sha[:2]}/{sha[2:]}"


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.sqlite_only("the test damages binder.db through sqlite3")
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_loose_permissions(engine: Engine, binder: Binder) -> None:
    blob = binder.files[0].path
    database = binder.settings.sqlite_path
    assert database is not None
    blob.chmod(0o644)
    blob.parent.chmod(0o755)
    binder.home.chmod(0o755)
    database.chmod(0o640)
    report = run(engine, binder)
    assert set(kinds(report)) == {"loose_permissions"}
    found = {p.path: p.detail for p in report.problems}
    assert found == {
        ".": "0755",
        binder.rel(blob.parent): "0755",
        binder.rel(blob): "0644",
        "binder.db": "0640",
    }
    assert all(p.fixable for p in report.problems)
    assert any(p.message.startswith("The binder folder can be opened") for p in report.problems)
