"""Writing a backup: the binder as of one moment, in one sealed file.

Inside the sealed stream is an uncompressed tar: `manifest.json` first, then `binder.db` (a
snapshot taken in one read transaction with SQLite's backup API), then every blob
`files/ab/cdef…`. The file appears only when it is complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sqlite3
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, BinaryIO

from carebinder import config
from carebinder.backup.manifest import DATABASE_NAME, MANIFEST_NAME, Entry, Manifest, blob_member
from carebinder.backup.seal import SealedWriter
from carebinder.db import NO_BINDER_YET, SCHEMA_REVISIONS, SQLITE_BUSY_TIMEOUT_MS, binder_missing
from carebinder.errors import BinderMissing, BlobUnusable, Conflict, InvalidInput, SchemaTooNew
from carebinder.leftout import LeftOut
from carebinder.outfile import publish
from carebinder.store import CHUNK, NOFOLLOW, NONBLOCK, SHA256, Store, fsync_dir
from carebinder.store import damaged as damaged_blob
from carebinder.store import missing as missing_blob
from carebinder.store import unreadable as unreadable_blob


def default_name(day: date) -> str:
    """e.g. `carebinder-backup-2026-12-01.cbk`: no patient name in a file name."""
    return f"carebinder-backup-{day.isoformat()}.cbk"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int
    size: int
    encrypted: bool
    # Files the backup does not hold because their bytes could not be used (missing from
    # the store, damaged, unreadable); its manifest lists them, so restore says so too.
    left_out: tuple[LeftOut, ...] = ()


def create_backup(
    settings: config.Settings, target: Path, *, password: str | None = None, force: bool = False
) -> BackupResult:
    """Write the binder (database snapshot, every blob, manifest) to one file at `target`.

    The file appears only when it is complete: it is written under a temporary name beside
    `target`, flushed to disk, then renamed.
    """
    database = check_backup_source(settings)
    store = Store(settings.store_dir)
    if not settings.store_is_own:
        store.check(write=False)  # a missing share is not "no files"
    target = target.absolute()
    _check_target(settings, database, target, force)
    stem = f".{target.name}.{os.urandom(6).hex()}"
    snapshot = target.parent / f"{stem}.db"
    partial = target.parent / f"{stem}.tmp"
    try:
        schema, referenced = _snapshot(database, snapshot)
        database_entry = Entry(DATABASE_NAME, snapshot.stat().st_size, _hash_file(snapshot))
        blobs = [Entry(blob_member(b.sha256), b.size, b.sha256) for b in store.blobs()]
        present = {entry.sha256 for entry in blobs}
        absent = [sha for sha in referenced if sha not in present]
        lost = {sha: missing_blob(sha) for sha in absent} | store.unusable(absent)
        created = datetime.now(UTC).replace(microsecond=0).isoformat()
        # A blob that cannot be used is left out and named, and the backup holds everything
        # else: refusing would leave no backup at all, and the bad bytes could not be
        # restored anyway. Its name is in the manifest before any blob, so a blob found bad
        # while copying means writing the backup again, once, after checking them all.
        while True:
            kept = [entry for entry in blobs if entry.sha256 not in lost]
            omitted = tuple(
                (blob_member(sha), error.kind)
                for sha, error in sorted(lost.items())
                if SHA256.fullmatch(sha)  # an invalid fingerprint names no blob
            )
            manifest = Manifest(schema, created, (database_entry, *kept), omitted)
            try:
                with _create_private(partial) as raw:
                    _write_archive(raw, manifest, snapshot, store, password)
                    raw.flush()
                    os.fsync(raw.fileno())
                break
            except BlobUnusable as error:
                partial.unlink()
                lost = {**lost, **store.unusable(e.sha256 for e in kept), error.sha256: error}
        try:
            publish(partial, target, force=force)  # never replaces a file that appeared since
        except FileExistsError:
            raise Conflict(
                f"{target} appeared while the backup was being written; nothing was replaced."
            ) from None
        fsync_dir(target.parent)
    finally:
        for leftover in (snapshot, partial, Path(f"{snapshot}-journal")):
            leftover.unlink(missing_ok=True)
    left_out = (
        LeftOut.stored(error, name, record=record, file=file)
        for sha, error in lost.items()
        # A blob no record uses is named by its place in the store.
        for file, record, name in referenced.get(sha) or [(None, None, blob_member(sha))]
    )
    size = target.stat().st_size
    ordered = tuple(sorted(left_out, key=lambda item: (item.file or 0, item.name)))
    return BackupResult(target, len(kept), size, password is not None, ordered)


def check_backup_source(settings: config.Settings) -> Path:
    """The database file to back up; refuses a binder that is not SQLite, or no binder."""
    database = settings.sqlite_path
    if database is None:
        raise InvalidInput(
            "Backup works only with a SQLite binder for now. For a shared database"
            " (PostgreSQL), use that database's own backup tools."
        )
    if not database.is_file():
        raise binder_missing(settings)
    return database


def _check_target(settings: config.Settings, database: Path, target: Path, force: bool) -> None:
    if target.is_symlink() and not target.exists():
        raise InvalidInput(f"{target} is a link that leads nowhere. Choose another file name.")
    if target.exists() and not target.is_dir() and not target.is_file():
        raise InvalidInput(f"{target} is not a regular file. Choose another file name.")
    try:
        resolved, db = target.resolve(), database.resolve()
    except (OSError, RuntimeError):  # a link loop further up the path
        raise InvalidInput(f"{target} cannot be reached. Choose another file name.") from None
    binder_files = {db, *(Path(f"{db}{suffix}") for suffix in ("-wal", "-shm", "-journal"))}
    inside = (settings.home.resolve(), settings.store_dir.resolve())
    if any(resolved.is_relative_to(folder) for folder in inside) or resolved in binder_files:
        raise InvalidInput(
            "Write the backup outside the binder's folder, best on another disk"
            f" (e.g. -o ~/Backups/{target.name})."
        )
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder. Give a file name, e.g. {target}/binder.cbk")
    if not target.parent.is_dir():
        raise InvalidInput(f"The folder {target.parent} does not exist.")
    if target.exists() and not force:
        raise Conflict(f"{target} already exists. Add --force to replace it, or choose -o FILE.")


Rows = dict[str, list[tuple[int | None, int | None, str]]]


def _snapshot(database: Path, target: Path) -> tuple[str, Rows]:
    """Copy the database as of one moment into `target`; its schema revision, and the file
    rows (id, record, name) of each blob it names."""
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, config.PRIVATE_FILE))
    source = sqlite3.connect(
        database.absolute().as_uri() + "?mode=rw",
        uri=True,
        isolation_level=None,
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
    )
    try:
        # One read transaction: writers carry on (WAL), and the copy is this moment's binder.
        source.execute("BEGIN")
        try:
            row = source.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row is None:
            raise BinderMissing(NO_BINDER_YET)
        schema = str(row[0])
        if schema not in SCHEMA_REVISIONS:
            raise SchemaTooNew(
                "This binder was written by a newer carebinder. Update carebinder to back it up."
            )
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            source.backup(copy)  # all pages in one step, inside the read transaction
            # A single self-contained file: restore turns WAL back on when it opens it.
            copy.execute("PRAGMA journal_mode = DELETE")
            check = copy.execute("PRAGMA quick_check").fetchone()
            referenced: Rows = {}
            for sha, *row in copy.execute(
                "SELECT sha256, id, record_id, original_name FROM file ORDER BY id"
            ):
                referenced.setdefault(str(sha), []).append((row[0], row[1], str(row[2])))
            referenced.update(_text_layers(copy, referenced))
        finally:
            copy.close()
        source.execute("COMMIT")
    except sqlite3.DatabaseError as error:
        raise InvalidInput(
            f"The binder's database cannot be read ({str(error)[:80]}). No backup was written."
        ) from None
    finally:
        source.close()
    if check != ("ok",):
        raise InvalidInput(
            "The binder's database fails its integrity check. No backup was written;"
            " copy the binder's folder as it is and ask for help."
        )
    return schema, referenced


def _text_layers(copy: sqlite3.Connection, referenced: Rows) -> Rows:
    """The text-layer versions (OCR) of files, named after their file, as `_snapshot`
    names blobs: a backup holds them like every blob, and says so when one is left out."""
    found: Rows = {}
    try:
        rows = copy.execute(
            "SELECT t.sha256, f.id, f.record_id, f.original_name FROM text_layer t"
            " JOIN file f ON f.id = t.file_id WHERE t.sha256 IS NOT NULL ORDER BY f.id"
        ).fetchall()
    except sqlite3.OperationalError:  # a binder older than revision 0009
        return found
    for sha, ident, record, name in rows:
        if str(sha) not in referenced:
            found.setdefault(str(sha), []).append((ident, record, f"{name} (text layer)"))
    return found


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _create_private(path: Path) -> Iterator[BinaryIO]:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, config.PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        yield handle


class _HashingReader:
    def __init__(self, handle: IO[bytes], blob: str | None) -> None:
        self.handle = handle
        self.blob = blob  # the blob's SHA-256; None for the database
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        try:
            data = self.handle.read(size)
        except OSError as error:  # a disk error reading a blob leaves that blob out
            if self.blob is None:
                raise
            raise unreadable_blob(error, self.blob) from None
        self.digest.update(data)
        self.size += len(data)
        return data


def _write_archive(
    raw: BinaryIO, manifest: Manifest, snapshot: Path, store: Store, password: str | None
) -> None:
    sealed = SealedWriter(raw, password)
    mtime = int(datetime.now(UTC).timestamp())

    def info(name: str, size: int) -> tarfile.TarInfo:
        member = tarfile.TarInfo(name)
        member.size, member.mode, member.mtime = size, 0o600, mtime
        return member

    with tarfile.open(fileobj=sealed, mode="w|", format=tarfile.GNU_FORMAT) as tar:
        body = manifest.encode()
        tar.addfile(info(MANIFEST_NAME, len(body)), io.BytesIO(body))
        for entry in manifest.entries:
            blob = None if entry.path == DATABASE_NAME else entry.sha256
            source = snapshot if blob is None else store.path_for(blob)
            try:
                fd = os.open(source, os.O_RDONLY | NOFOLLOW | NONBLOCK)  # a pipe: no wait
            except FileNotFoundError:
                raise Conflict(
                    "A file was removed from the binder while the backup ran."
                    " No backup was written; run the backup again."
                ) from None
            except OSError as error:
                if blob is None:
                    raise
                raise unreadable_blob(error, blob) from None
            with os.fdopen(fd, "rb") as handle:
                reader = _HashingReader(handle, blob)
                try:
                    tar.addfile(info(entry.path, entry.size), reader)
                except OSError as error:
                    if error.errno is not None:
                        raise
                    reader.size = -1  # tarfile: "unexpected end of data"
                if reader.size != entry.size or reader.digest.hexdigest() != entry.sha256:
                    if blob is not None:
                        raise damaged_blob(blob)
                    raise InvalidInput(
                        "The copy of the binder's database changed while the backup was"
                        " written. No backup was written; run the backup again."
                    )
    sealed.finish()
