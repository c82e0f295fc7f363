"""The file store's part of `carebinder verify`: every blob hashed, strays, permissions."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carebinder import config
from carebinder.store import BLOB_NAME, CHUNK, SHA256, SHARD, TEMP_PREFIX, Store
from carebinder.verify.database import DerivedRow, FileRow
from carebinder.verify.report import CHECK_PERMISSIONS, LOOSE, Problem, relative_path


@dataclass(frozen=True)
class Hashed:
    """A blob's SHA-256 and size as read from disk."""

    sha256: str | None  # None when the blob cannot be read
    size: int = 0
    error: str | None = None


@dataclass
class StoreCheck:
    """What the store check found, and the blobs it saw (for the permission check)."""

    problems: list[Problem] = field(default_factory=list)
    blobs: list[Path] = field(default_factory=list)
    bytes: int = 0
    in_progress: int = 0


@dataclass
class _Scan:
    blobs: dict[str, Path] = field(default_factory=dict)  # the hash its name says -> path
    temps: list[Path] = field(default_factory=list)
    strays: list[Path] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)


def _scan(root: Path) -> _Scan:
    """Sort every entry of the store by what it is, without following links."""
    scan = _Scan()
    for entry in _entries(root, scan):
        path = Path(entry.path)
        if entry.is_symlink():
            scan.strays.append(path)
        elif entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
            scan.temps.append(path)
        elif SHARD.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            for inner in _entries(path, scan):
                if BLOB_NAME.fullmatch(inner.name) and inner.is_file(follow_symlinks=False):
                    scan.blobs[entry.name + inner.name] = Path(inner.path)
                else:
                    scan.strays.append(Path(inner.path))
        else:
            scan.strays.append(path)
    return scan


def _entries(folder: Path, scan: _Scan) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as error:
        scan.unreadable.append((folder, error.strerror or type(error).__name__))
        return []


def check_store(
    settings: config.Settings,
    rows: list[FileRow] | None,
    healthy: bool,
    min_age: float,
    now: float,
    derived: Sequence[DerivedRow] = (),
) -> StoreCheck:
    """Every blob hashed and compared with the `rows` that need it (and the text-layer
    versions, `derived`); strays and leftovers found. Unless the database is `healthy`,
    no orphan is marked for removal."""
    store = Store(settings.store_dir)
    scan = _scan(store.root)
    result = StoreCheck(blobs=list(scan.blobs.values()))
    hashes = {name: hash_file(path) for name, path in scan.blobs.items()}
    result.bytes = sum(h.size for h in hashes.values())

    def rel(path: Path) -> str:
        return relative_path(settings, path) or ""

    problems = result.problems
    for folder, reason in scan.unreadable:
        problems.append(
            Problem(
                "store_unreadable",
                f"{rel(folder)} cannot be read ({reason}), so the files in it were not checked."
                " Check that you own it and can open it.",
                path=rel(folder),
                detail=reason,
            )
        )
    # A row with a broken fingerprint may be the one that needs an "orphan".
    healthy = healthy and all(SHA256.fullmatch(row.sha256) for row in rows or ())
    by_content: dict[str, list[FileRow]] = {}
    for row in rows or ():
        by_content.setdefault(row.sha256.lower(), []).append(row)
        problems.extend(_check_row(row, store, hashes, rel))
    problems.extend(_check_derived(derived, store, hashes, rel))
    problems.extend(_derived_without_original(derived, list(problems), hashes))
    layers = {row.sha256 for row in derived}
    for name, path in scan.blobs.items():
        if name in by_content or name in layers:
            continue  # checked with its rows
        hashed = hashes[name]
        if hashed.sha256 is None:
            problems.append(_unreadable_blob(rel(path), hashed.error))
        elif hashed.sha256 != name:
            needing = by_content.get(hashed.sha256, [])
            problems.append(_misnamed(rel(path), needing, rel, store, scan))
        elif rows is None:
            pass  # without the database's list of files, no blob can be called an orphan
        elif file_age(path, now) < min_age:
            result.in_progress += 1
        else:
            problems.append(_orphan(rel(path), path, healthy))
    needed = {store.path_for(sha) for sha in by_content}
    for path in scan.strays:
        if path in needed:
            continue  # reported as that file's problem (a link or folder in its place)
        problems.append(
            Problem(
                "stray_file",
                f"{rel(path)} does not belong in the file store. Move it out of the binder"
                " folder (keep it until every other problem is solved).",
                path=rel(path),
            )
        )
    for path in scan.temps:
        if file_age(path, now) < min_age:
            result.in_progress += 1
            continue
        problems.append(
            Problem(
                "temp_file",
                f"{rel(path)} is a temporary file left by an interrupted command."
                " Remove it with `carebinder verify --repair`.",
                fixable=True,
                path=rel(path),
                location=path,
            )
        )
    return result


def _check_row(
    row: FileRow, store: Store, hashes: dict[str, Hashed], rel: Callable[[Path], str]
) -> Iterator[Problem]:
    who = f"File #{row.file} (record #{row.record})"
    ids: dict[str, Any] = {"patient": row.patient, "record": row.record, "file": row.file}
    if not SHA256.fullmatch(row.sha256):
        yield Problem(
            "file_row_invalid",
            f"{who} has an invalid fingerprint in the database, so its content cannot be"
            " found. Restore the database from a backup.",
            **ids,
        )
        return
    path = store.path_for(row.sha256)
    where = rel(path)
    hashed = hashes.get(row.sha256)
    if hashed is None and os.path.lexists(path):
        yield Problem(
            "blob_not_a_file",
            f"{who} is not a regular file in the store ({where} is a link or a folder)."
            " Move it out of the binder, then restore the file from a backup.",
            path=where,
            **ids,
        )
    elif hashed is None:
        yield Problem(
            "blob_missing",
            f"{who} is missing from the file store. Restore it from a backup, or attach"
            f" the original again with `carebinder record attach {row.record} FILE`.",
            path=where,
            **ids,
        )
    elif hashed.sha256 is None:
        yield Problem(
            "blob_unreadable",
            f"{who} cannot be read ({hashed.error}). Check that you own {where} and can read it.",
            path=where,
            detail=hashed.error,
            **ids,
        )
    elif hashed.sha256 != row.sha256 and hashed.size != row.size:
        change = "cut short" if hashed.size < row.size else "grown"
        yield Problem(
            "blob_wrong_size",
            f"{who} is damaged: it has {hashed.size} bytes instead of {row.size} ({change})."
            " Restore it from a backup.",
            path=where,
            detail=f"{hashed.size} bytes, expected {row.size}",
            **ids,
        )
    elif hashed.sha256 != row.sha256:
        yield Problem(
            "blob_damaged",
            f"{who} is damaged: its content no longer matches what was attached."
            " Restore it from a backup.",
            path=where,
            **ids,
        )
    elif hashed.size != row.size:
        yield Problem(
            "file_size_mismatch",
            f"{who} is intact, but the database says it has {row.size} bytes, not"
            f" {hashed.size}. The database may be damaged: compare it with a backup.",
            path=where,
            detail=f"{hashed.size} bytes, database says {row.size}",
            **ids,
        )


def _check_derived(
    derived: Sequence[DerivedRow],
    store: Store,
    hashes: dict[str, Hashed],
    rel: Callable[[Path], str],
) -> Iterator[Problem]:
    """A text-layer version that is missing or damaged (made again from the original), and
    one whose original is gone (it cannot stand in for it)."""
    for row in derived:
        who = f"file #{row.file} (record #{row.record})"
        ids: dict[str, Any] = {"patient": row.patient, "record": row.record, "file": row.file}
        where = rel(store.path_for(row.sha256))
        hashed = hashes.get(row.sha256)
        again = (
            "Make it again from the original with"
            f" `carebinder record read-text {row.record} --again`."
        )
        if hashed is None:
            yield Problem(
                "text_layer_missing",
                f"The text-layer version (recognised words) of {who} is missing from the"
                f" file store. {again}",
                path=where,
                **ids,
            )
        elif hashed.sha256 != row.sha256:
            yield Problem(
                "text_layer_damaged",
                f"The text-layer version (recognised words) of {who} is damaged. {again}",
                path=where,
                **ids,
            )


# What `_check_row` says of an original whose bytes cannot be used.
ORIGINAL_GONE = frozenset(
    {"blob_missing", "blob_damaged", "blob_wrong_size", "blob_not_a_file", "blob_unreadable"}
)


def _derived_without_original(
    derived: Sequence[DerivedRow], problems: Sequence[Problem], hashes: dict[str, Hashed]
) -> Iterator[Problem]:
    gone = {p.file for p in problems if p.kind in ORIGINAL_GONE and p.file is not None}
    for row in derived:
        kept = hashes.get(row.sha256)
        if row.file in gone and kept is not None and kept.sha256 == row.sha256:
            yield Problem(
                "derived_without_original",
                f"File #{row.file} (record #{row.record}) has its text-layer version"
                " (recognised words) but not its original, which it cannot replace: restore"
                " the original from a backup.",
                patient=row.patient,
                record=row.record,
                file=row.file,
            )


def _orphan(where: str, location: Path, healthy: bool) -> Problem:
    if healthy:
        message = (
            f"{where} is not used by any record (left over from an interrupted command)."
            " Remove it with `carebinder verify --repair`."
        )
    else:
        message = (
            f"{where} is not used by any record the database lists, but the database has"
            " problems: keep it until they are solved."
        )
    return Problem("orphan_blob", message, fixable=healthy, path=where, location=location)


def _misnamed(
    where: str, rows: list[FileRow], rel: Callable[[Path], str], store: Store, scan: _Scan
) -> Problem:
    """A blob whose content is not what its name says. Never removed: a row may need it."""
    if not rows:
        message = (
            f"{where} does not match its name and no file in the binder has its content."
            " Keep it until every other problem is solved, then move it out of the binder."
        )
        return Problem("misnamed_blob", message, path=where)
    first = rows[0]
    right = rel(store.path_for(first.sha256))
    who = f"file #{first.file} (record #{first.record})"
    if first.sha256 in scan.blobs:
        message = f"{where} is a wrongly named copy of {who}, which is intact. You may delete it."
    else:
        message = (
            f"{where} holds the content of {who} under a wrong name."
            f" Rename it to {right} to restore that file."
        )
    return Problem(
        "misnamed_blob",
        message,
        path=where,
        patient=first.patient,
        record=first.record,
        file=first.file,
        detail=right,
    )


def _unreadable_blob(where: str, reason: str | None) -> Problem:
    return Problem(
        "blob_unreadable",
        f"{where} cannot be read ({reason}). Check that you own it and can read it.",
        path=where,
        detail=reason,
    )


def hash_file(path: Path) -> Hashed:
    """SHA-256 and size of a file, streamed in 1 MiB chunks; or why it cannot be read."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    size = 0
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb", buffering=0) as handle:
            while count := handle.readinto(buffer):
                digest.update(view[:count])
                size += count
    except OSError as error:
        return Hashed(None, error=error.strerror or type(error).__name__)
    return Hashed(digest.hexdigest(), size)


def file_age(path: Path, now: float) -> float:
    """Seconds since the file was last written or renamed (ctime moves on rename)."""
    try:
        info = path.lstat()
    except OSError:
        return 0.0
    return now - max(info.st_mtime, info.st_ctime)


# --- permissions ----------------------------------------------------------------------------


def _private_paths(settings: config.Settings, blobs: Iterable[Path]) -> Iterator[Path]:
    yield settings.home
    yield settings.store_dir
    if settings.store_dir.is_dir():
        yield from sorted(
            p for p in settings.store_dir.iterdir() if SHARD.fullmatch(p.name) and p.is_dir()
        )
    yield from blobs
    database = settings.sqlite_path
    if database is not None:
        yield from (database, Path(f"{database}-wal"), Path(f"{database}-shm"))
    yield settings.state_file


def check_permissions(settings: config.Settings, blobs: Iterable[Path]) -> list[Problem]:
    """The binder's folders and files that other people on this computer could open."""
    if not CHECK_PERMISSIONS:
        return []
    problems = []
    for path in _private_paths(settings, blobs):
        try:
            info = path.stat() if path == settings.home else path.lstat()
        except OSError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if not mode & LOOSE or stat.S_ISLNK(info.st_mode):
            continue
        where = relative_path(settings, path) or ""
        what = {
            settings.home: "The binder folder",
            settings.store_dir: "The file store folder",
            settings.sqlite_path: "The database",
        }.get(path, (where))
        private = "700" if stat.S_ISDIR(info.st_mode) else "600"
        problems.append(
            Problem(
                "loose_permissions",
                f"{what} can be opened by other people on this computer (mode {mode:04o})."
                f" Make it private with `carebinder verify --repair` (or chmod {private}).",
                fixable=True,
                path=where,
                detail=f"{mode:04o}",
                location=path,
            )
        )
    return problems
