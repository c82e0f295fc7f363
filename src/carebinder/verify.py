"""Check a whole binder (every patient): the database, every blob in the store, permissions.

`check` returns a frozen `Report`; it changes nothing. `repair` acts only on the problems
marked `fixable`: it removes blobs no row references, leftover temporary files, and makes
loose permissions owner-only. It never removes a blob a row references, nor one whose name
is not its hash (that may be the only copy of a file a row needs).

Temporary files and unreferenced blobs younger than `min_age` seconds are left alone and
not reported (only counted): a command still running (`record attach`) may be writing the
temporary file, or have stored the blob and not yet committed its row.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from carebinder import config
from carebinder.db import SCHEMA_HEAD, SCHEMA_REVISIONS, make_engine
from carebinder.errors import BinderMissing
from carebinder.models import File, Record
from carebinder.store import CHUNK, TEMP_PREFIX, Store

# Long enough for any attach to finish writing and commit; short enough to clean up today.
DEFAULT_MIN_AGE = 10 * 60.0

SHARD = re.compile(r"[0-9a-f]{2}")
BLOB_NAME = re.compile(r"[0-9a-f]{62}")
SHA256 = re.compile(r"[0-9a-f]{64}")
LOOSE = 0o077  # group and other bits
CHECK_PERMISSIONS = os.name == "posix"

# Problems that make the database's list of files untrustworthy: while any is present,
# a blob that no row references may still be needed, so it is not removed.
DATABASE_KINDS = frozenset(
    {
        "database_unreadable",
        "database_damaged",
        "foreign_key_violation",
        "schema_missing",
        "schema_outdated",
        "schema_unknown",
    }
)


@dataclass(frozen=True)
class Problem:
    kind: str
    # One line: what is wrong and what to do. Ids and paths only, never patient data.
    message: str
    fixable: bool = False
    path: str | None = None  # relative to the home (absolute when outside it)
    patient: int | None = None
    record: int | None = None
    file: int | None = None
    table: str | None = None
    row: int | None = None
    detail: str | None = None
    # The file itself, for `repair` (`path` is for people: odd characters are escaped).
    location: Path | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Checked:
    records: int = 0
    files: int = 0
    blobs: int = 0
    bytes: int = 0
    # Temporary files and unreferenced blobs younger than the threshold, left alone.
    in_progress: int = 0


@dataclass(frozen=True)
class Report:
    checked: Checked
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def fixable(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.fixable)


@dataclass(frozen=True)
class Repaired:
    removed: tuple[str, ...] = ()
    tightened: tuple[str, ...] = ()
    # Fixable problems left alone: a row now uses the blob, the file is new again, or the
    # change failed. The second check reports what remains.
    skipped: tuple[str, ...] = ()


def open_for_check(settings: config.Settings) -> Engine:
    """An engine on the binder as it is: no migration, no new files, no chmod."""
    path = settings.sqlite_path
    if path is not None and not path.is_file():
        raise BinderMissing(
            f"No binder at {settings.home}. Create one with `carebinder init`"
            " (or pick another with --home)."
        )
    return make_engine(settings.database_url)


# --- check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    file: int
    record: int
    patient: int | None
    sha256: str
    size: int


@dataclass
class _Database:
    problems: list[Problem] = field(default_factory=list)
    rows: list[_Row] | None = None  # None: the file list could not be read
    records: int = 0


def check(engine: Engine, settings: config.Settings, *, min_age: float | None = None) -> Report:
    """Check the database, the store and permissions; change nothing."""
    min_age = DEFAULT_MIN_AGE if min_age is None else min_age
    db = _check_database(engine, settings)
    healthy = not any(p.kind in DATABASE_KINDS for p in db.problems)
    store = _check_store(settings, db.rows, healthy, min_age, time.time())
    store.problems = _without_removed_rows(engine, store.problems)
    problems = [*db.problems, *store.problems, *_check_permissions(settings, store.blobs)]
    checked = Checked(
        records=db.records,
        files=len(db.rows or ()),
        blobs=len(store.blobs),
        bytes=store.bytes,
        in_progress=store.in_progress,
    )
    return Report(checked, tuple(problems))


def _without_removed_rows(engine: Engine, problems: list[Problem]) -> list[Problem]:
    """Drop "missing" files whose row a concurrent command removed (with its blob) after
    the rows were read."""
    kinds = ("blob_missing", "blob_not_a_file")
    missing = {p.file for p in problems if p.kind in kinds}
    if not missing:
        return problems
    try:
        with engine.connect() as conn:
            query = select(File.id).where(File.id.in_(sorted(i for i in missing if i)))
            present = set(conn.execute(query).scalars())
    except SQLAlchemyError:
        return problems
    gone = missing - present
    return [p for p in problems if not (p.kind in kinds and p.file in gone)]


def _db_name(settings: config.Settings) -> str:
    path = settings.sqlite_path
    return path.name if path is not None else "the database"


def _reason(error: SQLAlchemyError) -> str:
    orig = getattr(error, "orig", None)
    message = str(orig if orig is not None else error).strip() or type(error).__name__
    return message.splitlines()[0][:120]


def _check_database(engine: Engine, settings: config.Settings) -> _Database:
    db = _Database()
    name = _db_name(settings)
    restore = f"Restore {name} from a backup before changing anything in the binder."
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM sqlite_master" if sqlite else "SELECT 1"))
    except SQLAlchemyError as error:
        db.problems.append(
            Problem(
                "database_unreadable",
                f"The database cannot be read ({_reason(error)}). {restore}",
                path=_relative(settings, settings.sqlite_path),
                detail=_reason(error),
            )
        )
        return db
    if sqlite:
        db.problems.extend(_sqlite_checks(engine, settings, restore))
    try:
        with engine.connect() as conn:
            revision = (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if inspect(conn).has_table("alembic_version")
                else None
            )
    except SQLAlchemyError as error:
        db.problems.append(_unreadable(settings, error, restore))
        return db
    if revision is None:
        db.problems.append(
            Problem(
                "schema_missing",
                "The database has no binder in it."
                f" Run `carebinder init`, or restore {name} from a backup.",
            )
        )
        return db
    if revision != SCHEMA_HEAD:
        outdated = revision in SCHEMA_REVISIONS
        shown = _printable(str(revision)[:40])
        db.problems.append(
            Problem(
                "schema_outdated" if outdated else "schema_unknown",
                f"The database is at schema {shown}, older than {SCHEMA_HEAD}."
                " Run `carebinder db upgrade`."
                if outdated
                else f"The database is at schema {shown}, which this carebinder does not"
                " know (a newer carebinder wrote it). Update carebinder.",
                detail=shown,
            )
        )
        if not outdated:
            return db
    try:
        with engine.connect() as conn:
            db.records = conn.execute(select(func.count()).select_from(Record)).scalar_one()
            # An outer join: a file whose record is missing still references its blob.
            query = select(
                File.id, File.record_id, Record.patient_id, File.sha256, File.size
            ).outerjoin(Record, Record.id == File.record_id)
            db.rows = [
                _Row(ident, record, patient, sha256 or "", size)
                for ident, record, patient, sha256, size in conn.execute(query.order_by(File.id))
            ]
    except SQLAlchemyError as error:
        db.problems.append(_unreadable(settings, error, restore))
    return db


def _unreadable(settings: config.Settings, error: SQLAlchemyError, restore: str) -> Problem:
    return Problem(
        "database_unreadable",
        f"The list of files cannot be read from the database ({_reason(error)}). {restore}",
        path=_relative(settings, settings.sqlite_path),
        detail=_reason(error),
    )


def _sqlite_checks(engine: Engine, settings: config.Settings, restore: str) -> list[Problem]:
    problems = []
    path = _relative(settings, settings.sqlite_path)
    try:
        with engine.connect() as conn:
            # integrity_check, not quick_check: it also checks that indexes match tables.
            errors = [str(r) for r in conn.exec_driver_sql("PRAGMA integrity_check").scalars()]
        found = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        why, detail = f"SQLite's integrity check found {found}", errors[0][:200]
        damaged = errors != ["ok"]
    except SQLAlchemyError as error:  # damage bad enough to stop the check itself
        why = detail = _reason(error)
        damaged = True
    if damaged:
        problems.append(
            Problem(
                "database_damaged",
                f"The database is damaged ({why}). {restore}",
                path=path,
                detail=detail,
            )
        )
    try:
        with engine.connect() as conn:
            violations = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    except SQLAlchemyError:
        violations = []  # only a damaged database gets here, and that is reported above
    for table, rowid, parent, _fkid in violations:
        problems.append(
            Problem(
                "foreign_key_violation",
                f"Row #{rowid} of the {table} table refers to a {parent} that does not exist."
                f" {restore}",
                path=path,
                table=str(table),
                row=rowid,
                detail=f"refers to {parent}",
            )
        )
    return problems


@dataclass(frozen=True)
class _Hashed:
    sha256: str | None  # None when the blob cannot be read
    size: int = 0
    error: str | None = None


@dataclass
class _Store:
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


def _check_store(
    settings: config.Settings, rows: list[_Row] | None, healthy: bool, min_age: float, now: float
) -> _Store:
    store = Store(settings.store_dir)
    scan = _scan(store.root)
    result = _Store(blobs=list(scan.blobs.values()))
    hashes = {name: _hash(path) for name, path in scan.blobs.items()}
    result.bytes = sum(h.size for h in hashes.values())

    def rel(path: Path) -> str:
        return _relative(settings, path) or ""

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
    by_content: dict[str, list[_Row]] = {}
    for row in rows or ():
        by_content.setdefault(row.sha256.lower(), []).append(row)
        problems.extend(_check_row(row, store, hashes, rel))
    for name, path in scan.blobs.items():
        if name in by_content:
            continue  # checked with its rows
        hashed = hashes[name]
        if hashed.sha256 is None:
            problems.append(_unreadable_blob(rel(path), hashed.error))
        elif hashed.sha256 != name:
            needing = by_content.get(hashed.sha256, [])
            problems.append(_misnamed(rel(path), needing, rel, store, scan))
        elif rows is None:
            pass  # without the database's list of files, no blob can be called an orphan
        elif _age(path, now) < min_age:
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
        if _age(path, now) < min_age:
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
    row: _Row, store: Store, hashes: dict[str, _Hashed], rel: Callable[[Path], str]
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
    where: str, rows: list[_Row], rel: Callable[[Path], str], store: Store, scan: _Scan
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


def _hash(path: Path) -> _Hashed:
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
        return _Hashed(None, error=error.strerror or type(error).__name__)
    return _Hashed(digest.hexdigest(), size)


def _age(path: Path, now: float) -> float:
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


def _check_permissions(settings: config.Settings, blobs: Iterable[Path]) -> list[Problem]:
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
        where = _relative(settings, path) or ""
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


# --- repair ---------------------------------------------------------------------------------


def repair(
    engine: Engine, settings: config.Settings, report: Report, *, min_age: float | None = None
) -> Repaired:
    """Fix the report's fixable problems; run `check` again to see what remains."""
    min_age = DEFAULT_MIN_AGE if min_age is None else min_age
    done = _Done()
    now = time.time()
    for problem in report.fixable:
        path = problem.location
        if path is None:
            continue
        if problem.kind == "temp_file":
            # Old when checked, but a slow writer may have written to it since.
            if _age(path, now) < min_age:
                done.skipped.append(problem)
            else:
                done.attempt(problem, "removed", functools.partial(path.unlink, missing_ok=True))
        elif problem.kind == "loose_permissions":
            done.attempt(problem, "tightened", functools.partial(_make_private, path))
    orphans = [p for p in report.fixable if p.kind == "orphan_blob" and p.location]
    if orphans:
        _remove_orphans(engine, Store(settings.store_dir), orphans, min_age, done)
    return Repaired(
        tuple(p.path or "" for p in done.removed),
        tuple(p.path or "" for p in done.tightened),
        tuple(p.path or "" for p in done.skipped),
    )


def _make_private(path: Path) -> None:
    path.chmod(stat.S_IMODE(path.lstat().st_mode) & ~LOOSE)


@dataclass
class _Done:
    removed: list[Problem] = field(default_factory=list)
    tightened: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)

    def attempt(self, problem: Problem, outcome: str, action: Callable[[], None]) -> None:
        try:
            action()
        except OSError:
            self.skipped.append(problem)
        else:
            getattr(self, outcome).append(problem)


def _remove_orphans(
    engine: Engine, store: Store, orphans: list[Problem], min_age: float, done: _Done
) -> None:
    by_sha = {p.location.parent.name + p.location.name: p for p in orphans if p.location}
    # Under the write lock no attach can commit a row for one of these blobs between the
    # look-up and the unlink: an attach holds the lock from before it stores the bytes
    # until it commits.
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
        used = set(_referenced(conn, sorted(by_sha)))
        now = time.time()
        for sha, problem in sorted(by_sha.items()):
            path = store.path_for(sha)
            if sha in used or _age(path, now) < min_age or _hash(path).sha256 != sha:
                done.skipped.append(problem)
            else:
                done.attempt(problem, "removed", functools.partial(store.remove, sha))


def _referenced(conn: Connection, digests: list[str]) -> Iterator[str]:
    """Those of `digests` some file row references (compared in lower case, as checked)."""
    for start in range(0, len(digests), 500):
        chunk = digests[start : start + 500]
        column = func.lower(File.sha256)
        yield from conn.execute(select(column).where(column.in_(chunk))).scalars()


# --- paths ----------------------------------------------------------------------------------


def _relative(settings: config.Settings, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        relative = path.relative_to(settings.home)
    except ValueError:
        return _printable(os.fsdecode(path))
    return _printable(relative.as_posix() or ".")


def _printable(name: str) -> str:
    """A path safe to print and to put in JSON: odd bytes and control characters escaped."""
    name = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)


# --- JSON -----------------------------------------------------------------------------------


def to_json(report: Report, repaired: Repaired | None = None) -> dict[str, Any]:
    """The stable document `verify --json` prints."""
    return {
        "ok": report.ok,
        "checked": {
            "records": report.checked.records,
            "files": report.checked.files,
            "blobs": report.checked.blobs,
            "bytes": report.checked.bytes,
            "in_progress": report.checked.in_progress,
        },
        "problems": [
            {
                "kind": p.kind,
                "message": p.message,
                "fixable": p.fixable,
                "path": p.path,
                "patient": p.patient,
                "record": p.record,
                "file": p.file,
                "table": p.table,
                "row": p.row,
                "detail": p.detail,
            }
            for p in report.problems
        ],
        "repaired": None
        if repaired is None
        else {
            "removed": list(repaired.removed),
            "tightened": list(repaired.tightened),
            "skipped": list(repaired.skipped),
        },
    }
