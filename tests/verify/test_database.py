"""`verify.database`: SQLite's own checks, the schema, the rows; refusing no binder at all."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from carebinder import config, verify
from carebinder.db import SCHEMA_REVISIONS, session_scope
from carebinder.errors import BinderMissing, StoreUnavailable
from carebinder.services import records
from carebinder.verify import store as verify_store
from carebinder.verify.database import SQLITE_CHECKS
from tests.conftest import NO_POSTGRES, on_postgres
from tests.verify.verifykit import (
    Binder,
    MakeFile,
    damage_page,
    kinds,
    new_blob,
    only,
    page_of,
    raw_db,
    run,
)

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
    # A table's page in the middle of the file, not one every command reads to open the
    # binder (alembic_version's, which moves as revisions add tables: revision 0009 did).
    middle = path.stat().st_size // 4096 // 2 + 1
    pages = sorted(page_of(binder.settings, table) for table in ("opinion", "question", "material"))
    damage_page(binder.settings, engine, min(pages, key=lambda page: abs(page - middle)))
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


# --- no binder to check ---------------------------------------------------------------------


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
