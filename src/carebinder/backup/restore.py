"""Restoring a backup: checked in full before anything is restored.

Restore reads the stream once, validating every member against strict rules and the manifest,
into a temporary folder beside the home; only when everything matched (every chunk, every
checksum, the database's integrity check) is that folder moved into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from carebinder import config
from carebinder.backup.manifest import DATABASE_NAME, MANIFEST_NAME, Entry, Manifest
from carebinder.backup.seal import NOTHING_RESTORED, Header, SealedReader, damaged_archive
from carebinder.backup.tarstream import COPY_CHUNK, TarReader
from carebinder.db import SCHEMA_HEAD, open_binder
from carebinder.errors import ArchiveRejected, Conflict, InvalidInput
from carebinder.faults import checkpoint
from carebinder.store import NOFOLLOW, NONBLOCK, fsync_dir

# What a backup may ask of the computer restoring it (its header's and manifest's own limits
# are checked where those are read).
MAX_MANIFEST = 64 << 20
FREE_SPACE_MARGIN = 64 << 20


@dataclass(frozen=True)
class RestoreResult:
    home: Path
    files: int
    size: int
    # True when the backup came from an older carebinder and the binder was upgraded.
    upgraded: bool
    # Blobs the backup was made without (path, why): see BackupResult.left_out.
    omitted: tuple[tuple[str, str], ...] = ()


def is_encrypted(archive: Path) -> bool:
    """Whether `archive` needs a password (read from its header; nothing else is checked)."""
    with _open_archive(archive) as (raw, _):
        header, _ = Header.read(raw)
    return header.encrypted


def check_restore_target(settings: config.Settings) -> Path:
    """The home to restore into; refuses a binder that is not SQLite or a home not empty."""
    if settings.sqlite_path is None:
        raise InvalidInput(
            "Restore works only with a SQLite binder for now: leave out --db"
            " (and CAREBINDER_DATABASE_URL) and choose the folder with --home."
        )
    home = settings.home
    if settings.store is not None:
        raise InvalidInput(
            "Restore rebuilds the whole binder in an empty home, its files in files/ there:"
            " leave out --store (and CAREBINDER_STORE). Afterwards, move that files/ folder"
            " where you want it and give it with --store."
        )
    if not settings.uses_default_database:
        raise InvalidInput(
            "Restore puts the database in the home folder as binder.db: leave out --db"
            " (and CAREBINDER_DATABASE_URL) and choose the folder with --home."
        )
    if home.is_symlink() and not home.exists():
        raise Conflict(f"{home} is a broken link. Choose an empty folder with --home.")
    if home.exists():
        if not home.is_dir():
            raise Conflict(f"{home} is a file, not a folder. Choose an empty folder with --home.")
        if not _only_folders(home):
            raise Conflict(
                f"{home} is not empty, and restore never writes over a binder."
                " Choose a new folder with --home."
            )
    return home


def _only_folders(root: Path) -> bool:
    """True if `root` holds nothing but (nested) empty folders."""
    for folder, folders, files in os.walk(root):
        if files or any((Path(folder) / name).is_symlink() for name in folders):
            return False
    return True


def restore_backup(
    settings: config.Settings, archive: Path, *, password: str | None = None
) -> RestoreResult:
    """Restore `archive` into the (empty) home of `settings`, checking everything first.

    Everything is read, checked and written into a temporary folder beside the home; the home
    is only touched once every check passed, by moving that folder into place.
    """
    home = check_restore_target(settings)
    staging = _Staging(home)
    try:
        with _open_archive(archive) as (raw, archive_size):
            reader = SealedReader(raw, password)
            manifest = _extract(reader, staging, archive_size)
        upgraded = _finish_database(staging.root, manifest)
        _make_private(staging.root)
        for folder, _, _ in os.walk(staging.root):  # the new names are durable before the move
            fsync_dir(Path(folder))
        checkpoint("restore.rename")
        _move_into_place(staging.root, home)
        checkpoint("restore.moved")
    finally:
        staging.discard()
    open_binder(settings).dispose()
    blobs = [entry for entry in manifest.entries if entry.path != DATABASE_NAME]
    return RestoreResult(home, len(blobs), manifest.total_size, upgraded, manifest.omitted)


@contextlib.contextmanager
def _open_archive(archive: Path) -> Iterator[tuple[BinaryIO, int]]:
    # Non-blocking, so a named pipe with no writer is refused instead of waiting forever.
    try:
        fd = os.open(archive, os.O_RDONLY | NONBLOCK)
    except FileNotFoundError:
        raise InvalidInput(f"No such file: {archive}. Check the path.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{archive} is a folder, not a backup file.") from None
    except PermissionError:
        raise InvalidInput(f"You do not have permission to read {archive}.") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InvalidInput(f"{archive} is a folder, not a backup file.")
        raise InvalidInput(f"{archive} is not a backup file.")
    with os.fdopen(fd, "rb") as handle:
        if NONBLOCK:
            os.set_blocking(fd, True)
        yield handle, info.st_size


class _Staging:
    """The temporary folder beside the home; created only when the first member is written."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.root = home.parent / f".{home.name}.restore-{os.urandom(6).hex()}"
        self.created = False

    def create(self) -> None:
        self.home.parent.mkdir(parents=True, exist_ok=True)
        self.root.mkdir(mode=config.PRIVATE_DIR)
        (self.root / config.STORE_DIR).mkdir(mode=config.PRIVATE_DIR)
        self.created = True

    def path_for(self, name: str) -> Path:
        path = self.root.joinpath(*name.split("/"))
        if not path.parent.is_dir():
            path.parent.mkdir(mode=config.PRIVATE_DIR)
        return path

    def discard(self) -> None:
        if self.created and self.root.exists():
            shutil.rmtree(self.root)


def _extract(reader: SealedReader, staging: _Staging, archive_size: int) -> Manifest:
    tar = TarReader(reader)
    manifest = _read_manifest(tar, archive_size, staging.home)
    staging.create()
    expected = {entry.path: entry for entry in manifest.entries}
    seen: set[str] = set()
    while (member := tar.next()) is not None:
        name, size = member
        if name in seen or name == MANIFEST_NAME:
            raise damaged_archive("it holds the same file twice")
        entry = expected.get(name)
        if entry is None:
            raise damaged_archive("it holds a file its list of contents does not mention")
        if size != entry.size:
            raise damaged_archive("a file's size does not match its list of contents")
        seen.add(name)
        _write_member(tar, staging.path_for(name), entry)
    if seen != set(expected):
        raise damaged_archive("files in its list of contents are missing")
    return manifest


def _read_manifest(tar: TarReader, archive_size: int, home: Path) -> Manifest:
    first = tar.next()
    if first is None or first[0] != MANIFEST_NAME:
        raise damaged_archive("it does not start with its list of contents")
    if first[1] > MAX_MANIFEST:
        raise damaged_archive("its list of contents is too large")
    manifest = Manifest.decode(tar.read(first[1]))
    # Nothing is compressed, so the contents cannot be larger than the file that holds them.
    if manifest.total_size > archive_size:
        raise damaged_archive("it is smaller than its list of contents says")
    needed = manifest.total_size + FREE_SPACE_MARGIN
    free = shutil.disk_usage(_existing_parent(home)).free
    if free < needed:
        raise ArchiveRejected(
            f"Not enough free disk space to restore: it needs {_megabytes(needed)},"
            f" and {_megabytes(free)} is free. {NOTHING_RESTORED}"
        )
    return manifest


def _existing_parent(path: Path) -> Path:
    for candidate in path.parents:
        if candidate.is_dir():
            return candidate
    return Path(path.anchor)


def _megabytes(size: int) -> str:
    return f"{max(1, round(size / 1e6)):,} MB"


def _write_member(tar: TarReader, target: Path, entry: Entry) -> None:
    digest = hashlib.sha256()
    size = 0
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | NOFOLLOW
    with os.fdopen(os.open(target, flags, config.PRIVATE_FILE), "wb") as out:
        while chunk := tar.read(COPY_CHUNK):
            digest.update(chunk)
            checkpoint("restore.write")
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != entry.size or digest.hexdigest() != entry.sha256:
        raise damaged_archive("a file does not match its checksum")


def _finish_database(root: Path, manifest: Manifest) -> bool:
    """Check the restored database, and upgrade it if it is older; True if it was upgraded."""
    database = root / DATABASE_NAME
    try:
        connection = sqlite3.connect(database.as_uri() + "?mode=rw", uri=True, isolation_level=None)
        try:
            check = connection.execute("PRAGMA integrity_check").fetchone()
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        raise damaged_archive("its database cannot be read") from None
    if check != ("ok",):
        raise damaged_archive("its database fails its integrity check")
    if revision != [(manifest.schema,)]:
        raise damaged_archive("its database does not match its list of contents")
    staged = config.Settings(home=root, database_url=f"sqlite:///{database}")
    open_binder(staged).dispose()
    return manifest.schema != SCHEMA_HEAD


def _make_private(root: Path) -> None:
    """Owner-only everywhere: folders 0700, the database 0600, blobs read-only as the store
    writes them (0400)."""
    for folder, folders, files in os.walk(root):
        Path(folder).chmod(config.PRIVATE_DIR)
        for name in folders:
            (Path(folder) / name).chmod(config.PRIVATE_DIR)
        for name in files:
            path = Path(folder) / name
            in_store = Path(folder) != root
            path.chmod(0o400 if in_store else config.PRIVATE_FILE)


def _move_into_place(staging: Path, home: Path) -> None:
    if not home.exists():
        staging.rename(home)
        fsync_dir(home.parent)
        return
    # The home exists and holds only empty folders: clear them, then move the binder in,
    # the database last (it is what makes the folder a binder).
    for folder, _, _ in sorted(os.walk(home), key=lambda item: -len(item[0])):
        if Path(folder) != home:
            try:
                Path(folder).rmdir()
            except OSError:
                raise Conflict(
                    f"{home} changed while the backup was being restored. {NOTHING_RESTORED}"
                ) from None
    config.make_private_dir(home)
    for path in sorted(staging.iterdir(), key=lambda path: path.name == DATABASE_NAME):
        path.rename(home / path.name)
    fsync_dir(home)
