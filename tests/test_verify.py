"""`carebinder.verify`: a real binder, corrupted the ways disks, crashes and people do, in
the manner of git fsck's corrupted-object tests. Each corruption must be found, with the
right kind and ids, and `repair` must touch nothing a row may need."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from carebinder import config, verify
from carebinder.db import SCHEMA_REVISIONS, session_scope
from carebinder.errors import BinderMissing, StoreUnavailable
from carebinder.models import File, RecordKind
from carebinder.services import patients, records
from carebinder.store import Store
from carebinder.verify import Report
from carebinder.verify import store as verify_store
from carebinder.verify.database import SQLITE_CHECKS
from tests.conftest import NO_POSTGRES, blob_files, mode, on_postgres

MakeFile = Callable[[str, bytes], Path]


@dataclass(frozen=True)
class Attached:
    file: int
    record: int
    patient: int
    sha256: str
    path: Path


@dataclass(frozen=True)
class Binder:
    """Two patients, three records, four files, committed."""

    files: list[Attached]
    settings: config.Settings
    store: Store

    @property
    def home(self) -> Path:
        return self.settings.home

    def rel(self, path: Path) -> str:
        return path.relative_to(self.home).as_posix()


@pytest.fixture
def binder(engine: Engine, settings: config.Settings, store: Store, make_file: MakeFile) -> Binder:
    inbox = [
        make_file("Ana-Souza-biopsy.txt", b"Pathology: invasive ductal carcinoma\n" * 40),
        make_file("Ana-Souza-scan.txt", b"CT chest: no lesions\n" * 30),
        make_file("Ana-Souza-labs.txt", b"CBC within normal limits\n" * 20),
        make_file("Bob-Lee-notes.txt", b"Consultation notes\n" * 50),
    ]
    with session_scope(engine) as s:
        ana = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        bob = patients.add_patient(s, name="Bob Lee", born=date(1950, 1, 2))
        plan = [(ana, RecordKind.PATHOLOGY, inbox[:2]), (ana, RecordKind.LAB, inbox[2:3])]
        plan.append((bob, RecordKind.CONSULTATION, inbox[3:]))
        made = [
            records.add_record(s, store, who.id, kind=kind, title="Report", files=paths)
            for who, kind, paths in plan
        ]
        files = [
            Attached(f.id, r.id, r.patient_id, f.sha256, store.path_for(f.sha256))
            for r in made
            for f in r.files
        ]
    return Binder(files, settings, store)


def run(engine: Engine, binder: Binder, min_age: float = 0) -> Report:
    return verify.check(engine, binder.settings, min_age=min_age)


def kinds(report: Report) -> list[str]:
    return [p.kind for p in report.problems]


def only(report: Report, kind: str) -> verify.Problem:
    found = [p for p in report.problems if p.kind == kind]
    assert len(found) == 1, report.problems
    return found[0]


def rewrite(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Change a blob's bytes in place, keeping its (read-only) mode."""
    before = mode(path)
    path.chmod(0o600)
    path.write_bytes(change(path.read_bytes()))
    path.chmod(before)


def flip_bit(content: bytes) -> bytes:
    middle = len(content) // 2
    return content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1 :]


def new_blob(binder: Binder, make_file: MakeFile, content: bytes = b"left over\n") -> Path:
    """A blob in the store that no row references (as an interrupted attach leaves)."""
    return binder.store.put(make_file("orphan.bin", content)).path


def raw_db(settings: config.Settings) -> sqlite3.Connection:
    """A connection that bypasses carebinder (foreign keys off, as a careless tool would)."""
    path = settings.sqlite_path
    assert path is not None
    return sqlite3.connect(path, isolation_level=None)


def damage_page(settings: config.Settings, engine: Engine, page: int) -> None:
    """Overwrite one page of binder.db with random bytes (after the WAL is checkpointed)."""
    engine.dispose()
    path = settings.sqlite_path
    assert path is not None
    with raw_db(settings) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    junk = random.Random(page).randbytes(size)
    with path.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(junk)


def page_of(settings: config.Settings, name: str) -> int:
    conn = raw_db(settings)
    try:
        return int(
            conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        )
    finally:
        conn.close()


# --- a healthy binder -----------------------------------------------------------------------


def test_a_healthy_binder_is_ok_and_counted(engine: Engine, binder: Binder) -> None:
    report = run(engine, binder)
    assert report.ok, report.problems
    assert report.problems == ()
    total = sum(a.path.stat().st_size for a in binder.files)
    assert report.checked == verify.Checked(records=3, files=4, blobs=4, bytes=total, in_progress=0)


def test_check_changes_nothing(engine: Engine, binder: Binder, make_file: MakeFile) -> None:
    new_blob(binder, make_file)
    binder.home.chmod(0o755)
    before = {p: (p.read_bytes(), mode(p)) for p in blob_files(binder.home)}
    assert not run(engine, binder).ok
    assert {p: (p.read_bytes(), mode(p)) for p in blob_files(binder.home)} == before
    assert mode(binder.home) == 0o755


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
    hash_file = verify_store._hash

    def failing_disk(path: Path) -> verify_store._Hashed:
        if path in (target.path, orphan):
            return verify_store._Hashed(None, error="Input/output error")
        return hash_file(path)

    monkeypatch.setattr(verify_store, "_hash", failing_disk)
    report = run(engine, binder)
    assert sorted(kinds(report)) == ["blob_unreadable", "blob_unreadable"]
    row, unknown = sorted(report.problems, key=lambda p: p.file is None)
    assert (row.file, row.record) == (target.file, target.record)
    assert row.message.startswith(f"File #{target.file} (record #{target.record}) cannot be read")
    assert (unknown.path, unknown.fixable) == (binder.rel(orphan), False)  # never an orphan
    verify.repair(engine, binder.settings, report, min_age=0)
    assert orphan.exists()


def test_a_file_removed_while_checking_is_not_missing(
    engine: Engine, binder: Binder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`record remove` commits, then deletes the blob: between verify reading the rows and
    scanning the store, the blob can vanish with its row. That is not a missing file."""
    target = binder.files[3]
    scan = verify_store._scan

    def remove_then_scan(root: Path) -> verify_store._Scan:
        with session_scope(engine) as s:
            record = records.get_record(s, target.patient, target.record)
            records.remove_record(s, binder.store, record)
        return scan(root)

    monkeypatch.setattr(verify_store, "_scan", remove_then_scan)
    report = run(engine, binder)
    assert not target.path.exists()
    assert report.ok, report.problems


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


# --- the database ---------------------------------------------------------------------------


@pytest.mark.sqlite_only("the test damages binder.db through sqlite3")
def test_a_damaged_index_page_is_found_by_integrity_check(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    orphan = new_blob(binder, make_file)
    damage_page(binder.settings, engine, page_of(binder.settings, "ix_file_sha256"))
    fresh = verify.open_for_check(binder.settings)
    try:
        report = verify.check(fresh, binder.settings, min_age=0)
        repaired = verify.repair(fresh, binder.settings, report, min_age=0)
    finally:
        fresh.dispose()
    damaged = only(report, "database_damaged")
    assert damaged.path == "binder.db"
    assert "Restore binder.db from a backup" in damaged.message
    # The file list is still readable, so the blobs were checked, but the orphan is kept:
    # a damaged database may have lost the row that needs it.
    assert report.checked.files == 4
    assert not only(report, "orphan_blob").fixable
    assert repaired.removed == ()
    assert orphan.exists()


@pytest.mark.sqlite_only("the test damages binder.db through sqlite3")
def test_bytes_overwritten_in_the_middle_of_the_database(engine: Engine, binder: Binder) -> None:
    path = binder.settings.sqlite_path
    assert path is not None
    engine.dispose()
    # A whole page: bytes in a page's unused space are not damage SQLite can (or need) see.
    damage_page(binder.settings, engine, path.stat().st_size // 4096 // 2 + 1)
    fresh = verify.open_for_check(binder.settings)
    try:
        report = verify.check(fresh, binder.settings, min_age=0)
    finally:
        fresh.dispose()
    damaged = only(report, "database_damaged")
    assert damaged.message.startswith("The database is damaged (")
    assert not report.fixable


@pytest.mark.sqlite_only("the test damages binder.db through sqlite3")
def test_an_index_that_no_longer_matches_its_table(engine: Engine, binder: Binder) -> None:
    """The damage `PRAGMA quick_check` misses: an index whose entries do not match rows."""
    engine.dispose()
    conn = raw_db(binder.settings)
    try:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX ix_file_sha256 ON file (original_name)'"
            " WHERE name = 'ix_file_sha256'"
        )
    finally:
        conn.close()
    conn = raw_db(binder.settings)
    try:
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    fresh = verify.open_for_check(binder.settings)
    try:
        report = verify.check(fresh, binder.settings, min_age=0)
    finally:
        fresh.dispose()
    damaged = only(report, "database_damaged")
    assert "SQLite's integrity check found 4 errors" in damaged.message
    assert damaged.detail is not None and "ix_file_sha256" in damaged.detail
    assert kinds(report) == ["database_damaged"]


@pytest.mark.sqlite_only("the test damages binder.db through sqlite3")
def test_a_database_sqlite_refuses_to_open(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    orphan = new_blob(binder, make_file)
    temp = binder.store.root / ".tmp-1-abc"
    temp.write_bytes(b"partial")
    damage_page(binder.settings, engine, 1)  # the header: "file is not a database"
    fresh = verify.open_for_check(binder.settings)
    try:
        report = verify.check(fresh, binder.settings, min_age=0)
        repaired = verify.repair(fresh, binder.settings, report, min_age=0)
    finally:
        fresh.dispose()
    problem = report.problems[0]
    assert problem.kind == "database_unreadable"
    assert "cannot be read" in problem.message
    assert "Restore binder.db from a backup" in problem.message
    assert report.checked.blobs == 5
    # Without the list of files no blob is an orphan; a stale temporary file still is.
    assert "orphan_blob" not in kinds(report)
    assert repaired.removed == (binder.rel(temp),)
    assert orphan.exists()
    assert all(a.path.exists() for a in binder.files)


@pytest.mark.sqlite_only("the test damages binder.db through sqlite3")
def test_foreign_key_violation(engine: Engine, binder: Binder, make_file: MakeFile) -> None:
    blob = binder.store.put(make_file("lost.bin", b"a file of a record that is gone\n"))
    orphan = new_blob(binder, make_file)
    conn = raw_db(binder.settings)
    try:
        cursor = conn.execute(
            "INSERT INTO file (record_id, original_name, media_type, size, sha256)"
            " VALUES (999, 'lost.bin', 'text/plain', ?, ?)",
            (blob.size, blob.sha256),
        )
        row = cursor.lastrowid
    finally:
        conn.close()
    report = run(engine, binder)
    violation = only(report, "foreign_key_violation")
    assert (violation.table, violation.row) == ("file", row)
    assert "refers to a record that does not exist" in violation.message
    # The row's blob is still referenced: not an orphan. The real orphan is kept while the
    # database has problems.
    assert sorted(kinds(report)) == ["foreign_key_violation", "orphan_blob"]
    assert only(report, "orphan_blob").path == binder.rel(orphan)
    assert not only(report, "orphan_blob").fixable


@pytest.mark.sqlite_only("the test damages binder.db through sqlite3")
def test_invalid_fingerprint_in_a_row(engine: Engine, binder: Binder) -> None:
    conn = raw_db(binder.settings)
    try:
        conn.execute("UPDATE file SET sha256 = 'not-a-hash' WHERE id = ?", (binder.files[0].file,))
    finally:
        conn.close()
    report = run(engine, binder)
    assert "file_row_invalid" in kinds(report)
    assert only(report, "file_row_invalid").file == binder.files[0].file
    # Its blob is no longer referenced, but with a broken row it must not be called removable.
    assert not only(report, "orphan_blob").fixable


@pytest.mark.parametrize(
    ("revision", "kind", "needle"),
    [
        ("9999", "schema_unknown", "Update carebinder"),
        (SCHEMA_REVISIONS[0], "schema_outdated", "carebinder db upgrade"),
        (None, "schema_missing", "carebinder init"),
    ],
)
@pytest.mark.sqlite_only("the test damages binder.db through sqlite3")
def test_schema_revision(
    engine: Engine, binder: Binder, revision: str | None, kind: str, needle: str
) -> None:
    if revision == SCHEMA_REVISIONS[-1]:
        pytest.skip("only one schema revision so far")
    conn = raw_db(binder.settings)
    try:
        if revision is None:
            conn.execute("DELETE FROM alembic_version")
        else:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    finally:
        conn.close()
    problem = only(run(engine, binder), kind)
    assert needle in problem.message


# --- repair ---------------------------------------------------------------------------------


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


# --- what a report may say ------------------------------------------------------------------


def test_no_patient_data_in_any_problem(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    rewrite(binder.files[0].path, flip_bit)
    rewrite(binder.files[1].path, lambda c: c[:10])
    binder.files[2].path.unlink()
    new_blob(binder, make_file)
    (binder.store.root / ".tmp-1-abc").write_bytes(b"x")
    binder.home.chmod(0o755)
    report = run(engine, binder)
    assert len(report.problems) == 6
    document = json.dumps(verify.to_json(report), ensure_ascii=False)
    for secret in ("Ana", "Souza", "Bob", "Lee", "biopsy", "1964", "carcinoma", str(binder.home)):
        assert secret not in document, secret


def test_odd_names_are_escaped(engine: Engine, binder: Binder) -> None:
    odd = os.fsencode(binder.store.root) + b"/bad\x1b[31m\xff"
    Path(os.fsdecode(odd)).write_bytes(b"x")
    problem = only(run(engine, binder), "stray_file")
    assert problem.path == "files/bad\\x1b[31m\\xff"
    json.dumps(verify.to_json(run(engine, binder)))  # no lone surrogates


def test_json_document_is_stable(engine: Engine, binder: Binder, make_file: MakeFile) -> None:
    new_blob(binder, make_file)
    document = verify.to_json(run(engine, binder))
    assert set(document) == {"ok", "checked", "skipped", "problems", "repaired"}
    assert document["skipped"] == ([] if engine.dialect.name == "sqlite" else list(SQLITE_CHECKS))
    assert document["ok"] is False
    assert set(document["checked"]) == {"records", "files", "blobs", "bytes", "in_progress"}
    [problem] = document["problems"]
    assert set(problem) == {
        "kind",
        "message",
        "fixable",
        "path",
        "patient",
        "record",
        "file",
        "table",
        "row",
        "detail",
    }
    assert problem["kind"] == "orphan_blob"
    assert problem["path"].startswith("files/")


def test_a_missing_binder_is_refused(settings: config.Settings) -> None:
    """No binder.db on SQLite; an empty schema on PostgreSQL."""
    with pytest.raises(BinderMissing, match="carebinder init"):
        verify.open_for_check(settings)
    assert not settings.home.exists()


def test_a_missing_chosen_store_is_refused(engine: Engine, settings: config.Settings) -> None:
    chosen = replace(settings, store=settings.home.parent / "share" / "files")
    with pytest.raises(StoreUnavailable, match="does not exist"):
        verify.open_for_check(chosen)
    assert not chosen.store_dir.exists()


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


# --- PostgreSQL: the server's own checks replace SQLite's -----------------------------------

needs_postgres = pytest.mark.skipif(not on_postgres(), reason=NO_POSTGRES)


def test_sqlite_checks_are_skipped_only_on_a_server(engine: Engine, binder: Binder) -> None:
    report = run(engine, binder)
    assert report.ok, report.problems
    assert report.skipped == (() if engine.dialect.name == "sqlite" else SQLITE_CHECKS)


@needs_postgres
@pytest.mark.parametrize("how", ["dropped", "not valid"])
def test_a_foreign_key_not_in_force_is_found(engine: Engine, binder: Binder, how: str) -> None:
    name = "fk_file_record_id_record"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE file DROP CONSTRAINT {name}")
        if how == "not valid":
            conn.exec_driver_sql(
                f"ALTER TABLE file ADD CONSTRAINT {name} FOREIGN KEY (record_id)"
                " REFERENCES record (id) NOT VALID"
            )
    orphan_source = binder.home.parent / "orphan.bin"
    orphan_source.write_bytes(b"no row uses it")
    orphan = binder.store.put(orphan_source).path
    report = run(engine, binder)
    problem = only(report, "foreign_key_unenforced")
    assert (problem.table, problem.detail) == ("file", name)
    assert ("is missing" if how == "dropped" else "NOT VALID") in problem.message
    # The database's list of files is not trusted: the orphan is kept.
    assert not only(report, "orphan_blob").fixable
    verify.repair(engine, binder.settings, report, min_age=0)
    assert orphan.exists()
