"""Restore: round trips, homes it refuses, and archives whose members do not pair up with
their manifest. Everything is checked before the home appears."""

from __future__ import annotations

import io
import os
import sqlite3
import tarfile
from pathlib import Path

import pytest

from carebinder import config
from carebinder.backup import restore as restore_module
from carebinder.backup.create import create_backup
from carebinder.backup.restore import restore_backup
from carebinder.db import SCHEMA_HEAD, current_revision, open_binder
from carebinder.errors import Conflict, InvalidInput
from tests.backup.forging import (
    DB,
    MANIFEST,
    F,
    Forgery,
    Parts,
    assert_refused,
    blob,
    blob_entry,
    db,
    db_entry,
    entry,
    forged,
    listed,
    listing,
    manifest,
    raw_member,
    regular,
    seal,
    standard,
    tar,
)
from tests.backup.kit import MARKER, MODES, blobs, dump, elsewhere, refused
from tests.conftest import FILE_BACKUP, mode

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)


# --- round trips ------------------------------------------------------------------------------


@MODES
def test_round_trip_gives_identical_data_and_blobs(
    filled: config.Settings, tmp_path: Path, password: str | None
) -> None:
    archive = tmp_path / "binder.backup"
    made = create_backup(filled, archive, password=password)
    assert (made.path, made.files, made.left_out) == (archive, 2, ())
    assert made.encrypted is (password is not None)
    assert made.size == archive.stat().st_size

    target = elsewhere(tmp_path)
    restored = restore_backup(target, archive, password=password)

    assert (restored.home, restored.files, restored.upgraded) == (target.home, 2, False)
    assert dump(target.home / "binder.db") == dump(filled.home / "binder.db")
    assert blobs(target.home) == blobs(filled.home)
    assert len(blobs(target.home)) == 2


def test_restored_binder_is_owner_only_and_opens_at_the_current_schema(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive)
    target = elsewhere(tmp_path)
    restore_backup(target, archive)

    home = target.home
    assert mode(home) == 0o700
    assert mode(home / "binder.db") == 0o600
    assert mode(archive) == 0o600
    for path in (home / "files").rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o400), path
    engine = open_binder(target)
    try:
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_restore_into_an_existing_folder_that_holds_only_empty_folders(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive)
    target = elsewhere(tmp_path)
    (target.home / "files" / "ab").mkdir(parents=True)

    restore_backup(target, archive)

    assert blobs(target.home) == blobs(filled.home)
    assert dump(target.home / "binder.db") == dump(filled.home / "binder.db")
    assert mode(target.home) == 0o700


def test_restore_creates_the_folders_above_a_new_home(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive)
    target = config.resolve(home=tmp_path / "new" / "place" / "binder", environ={})
    restore_backup(target, archive)
    assert blobs(target.home) == blobs(filled.home)
    assert sorted(os.listdir(target.home.parent)) == ["binder"]


# --- restore refuses --------------------------------------------------------------------------


def test_restore_refuses_a_home_that_holds_a_binder_and_changes_nothing(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive)
    before = (dump(filled.home / "binder.db"), blobs(filled.home), sorted(filled.home.rglob("*")))

    with pytest.raises(Conflict, match="is not empty") as error:
        restore_backup(filled, archive)

    assert "Choose a new folder with --home" in error.value.message
    after = (dump(filled.home / "binder.db"), blobs(filled.home), sorted(filled.home.rglob("*")))
    assert after == before


@pytest.mark.parametrize("stray", ["state.json", "files/ab/cdef", "notes/todo.txt"])
def test_restore_refuses_a_home_with_any_file_in_it(
    filled: config.Settings, tmp_path: Path, stray: str
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive)
    target = elsewhere(tmp_path)
    (target.home / stray).parent.mkdir(parents=True)
    (target.home / stray).write_text("mine")

    with pytest.raises(Conflict, match="is not empty"):
        restore_backup(target, archive)

    assert [p for p in target.home.rglob("*") if p.is_file()] == [target.home / stray]
    assert (target.home / stray).read_text() == "mine"


def test_restore_refuses_a_file_or_a_broken_link_as_home(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive)
    target = elsewhere(tmp_path)
    target.home.write_text("not a folder")
    with pytest.raises(Conflict, match="is a file"):
        restore_backup(target, archive)
    assert target.home.read_text() == "not a folder"
    target.home.unlink()
    target.home.symlink_to(tmp_path / "nowhere")
    with pytest.raises(Conflict, match="broken link"):
        restore_backup(target, archive)
    assert not (tmp_path / "nowhere").exists()


def test_restore_refuses_a_database_other_than_binder_db_in_the_home(tmp_path: Path) -> None:
    archive = tmp_path / "binder.backup"
    archive.write_bytes(b"never read")
    for url in ("postgresql://ana:s3cret@db.example/binder", f"sqlite:///{tmp_path}/other.db"):
        settings = config.resolve(home=tmp_path / "restored", database_url=url, environ={})
        with pytest.raises(InvalidInput, match="leave out --db") as error:
            restore_backup(settings, archive)
        assert "s3cret" not in error.value.message
    assert not (tmp_path / "restored").exists()


def other_revision(p: Parts, tmp: Path) -> bytes:
    path = tmp / "other-revision.db"
    path.write_bytes(p.database)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '0000'")
    connection.close()
    return path.read_bytes()


def members_only(archive: bytes) -> bytes:
    """A tar archive without its end-of-archive blocks and record padding.

    Cut at the end of the last member's data, not by stripping zero bytes: a database
    often ends in zeros, which are data."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as t:
        last = t.getmembers()[-1]
    return archive[: last.offset_data + -(-last.size // 512) * 512]


def huge_tar_size(p: Parts) -> bytes:
    info, data = regular(p.blob_name, p.blob)
    info.size = 1 << 40
    return b"".join([members_only(tar(*standard(p)[:2])), raw_member(info, data), bytes(1024)])


FORGERIES = [
    # members and manifest entries that do not pair up
    F("duplicate blob", lambda p: tar(*standard(p), blob(p)), "twice"),
    F("duplicate database", lambda p: tar(*standard(p), db(p)), "twice"),
    F("second manifest", lambda p: tar(*standard(p), regular(MANIFEST, listed(p))), "twice"),
    F(
        "member not in manifest",
        lambda p: tar(listing(db_entry(p)), db(p), blob(p)),
        "does not mention",
    ),
    F("manifest entry without member", lambda p: tar(*standard(p)[:2]), "missing"),
    F(
        "database member missing",
        lambda p: tar(regular(MANIFEST, listed(p)), blob(p)),
        "smaller than its list",
    ),
    F(
        "database missing, zeros instead",
        lambda p: tar(regular(MANIFEST, listed(p)), blob(p)) + bytes(len(p.database)),
        "missing",
    ),
    F(
        "size differs from manifest",
        lambda p: tar(listing(db_entry(p), blob_entry(p, len(p.blob) + 1)), db(p), blob(p)),
        "size does not match",
    ),
    F(
        "member longer than listed",
        lambda p: tar(*standard(p)[:2], regular(p.blob_name, p.blob + b"\0")),
        "size does not match",
    ),
    F("huge size in tar header", huge_tar_size, "size does not match"),
    F(
        "huge size in manifest",
        lambda p: tar(listing(db_entry(p), blob_entry(p, 10**10)), db(p), blob(p)),
        "smaller than its list",
    ),
    F(
        "content differs from checksum",
        lambda p: tar(*standard(p)[:2], regular(p.blob_name, bytes([p.blob[0] ^ 1]) + p.blob[1:])),
        "does not match its checksum",
    ),
    # the manifest itself
    F(
        "manifest not first",
        lambda p: tar(db(p), regular(MANIFEST, listed(p)), blob(p)),
        "does not start",
    ),
    F("no manifest", lambda p: tar(db(p), blob(p)), "does not start"),
    F("empty archive", lambda p: tar(), "does not start"),
    # the database member
    F(
        "database not sqlite",
        lambda p: tar(
            listing(entry(DB, MARKER * 100), blob_entry(p)), regular(DB, MARKER * 100), blob(p)
        ),
        "database cannot be read",
    ),
]


@MODES
def test_the_forging_kit_builds_archives_that_restore(
    parts: Parts, tmp_path: Path, password: str | None
) -> None:
    archive = seal(tmp_path / "kit.backup", tar(*standard(parts)), password)
    target = elsewhere(tmp_path)
    assert restore_backup(target, archive, password=password).files == 1
    assert blobs(target.home) == {parts.blob_name: parts.blob}


@forged(FORGERIES)
def test_members_that_do_not_pair_with_the_manifest_are_refused(
    parts: Parts, tmp_path: Path, forgery: Forgery, password: str | None
) -> None:
    assert_refused(parts, tmp_path, forgery, password)


@MODES
def test_a_database_that_does_not_match_its_manifest_is_refused(
    parts: Parts, tmp_path: Path, password: str | None
) -> None:
    database = other_revision(parts, tmp_path)
    payload = tar(
        regular(MANIFEST, manifest(entry(DB, database), entry(parts.blob_name, parts.blob))),
        regular(DB, database),
        regular(parts.blob_name, parts.blob),
    )
    archive = seal(tmp_path / "forged.backup", payload, password)
    (tmp_path / "other-revision.db").unlink()
    assert "database does not match" in refused(elsewhere(tmp_path), archive, password).message


def test_not_enough_free_disk_space_is_refused_before_any_write(
    parts: Parts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = seal(tmp_path / "big.backup", tar(*standard(parts)), None)
    real = restore_module.shutil.disk_usage

    def full_disk(path: str | Path) -> object:
        return real(path)._replace(free=10_000_000)

    monkeypatch.setattr(restore_module.shutil, "disk_usage", full_disk)
    message = refused(elsewhere(tmp_path), archive).message
    assert message.startswith("Not enough free disk space to restore: it needs 67 MB")


def test_a_folder_a_fifo_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    for name, says in (("folder", "is a folder"), ("fifo", "not a backup"), ("gone", "No such")):
        assert says in refused(elsewhere(tmp_path), tmp_path / name).message
