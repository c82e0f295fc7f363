"""Backup and restore: the whole binder in one file, checked in full before anything is restored.

A backup file is a short header followed by a sealed stream. The header (magic line, length,
canonical JSON) says how the stream is sealed: the format version, the chunk size, and for an
encrypted backup the cipher (AES-256-GCM), the scrypt parameters and salt, and a random nonce
prefix. The stream is cut into chunks; every chunk carries a tag over the SHA-256 of the
header, its counter and a "last chunk" flag (STREAM construction), so a changed byte anywhere,
a reordered chunk, a truncation or appended bytes are all caught. Encrypted chunks are sealed
with AES-256-GCM under the scrypt key; plain chunks carry a SHA-256 instead (corruption, not
forgery, is what a plain backup can detect). Inside the stream is an uncompressed tar:
`manifest.json` first (format, schema revision, every other member's path, size and SHA-256,
and its own checksum), then `binder.db` (a snapshot taken in one read transaction with SQLite's
backup API), then every blob `files/ab/cdef…`.

Restore reads the stream once, validating every member against strict rules and the manifest,
into a temporary folder beside the home; only when everything matched (every chunk, every
checksum, the database's integrity check) is that folder moved into place.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import struct
import tarfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from carebinder import config
from carebinder.db import SCHEMA_HEAD, SCHEMA_REVISIONS, SQLITE_BUSY_TIMEOUT_MS, open_binder
from carebinder.errors import (
    BinderMissing,
    BlobUnusable,
    CarebinderError,
    Conflict,
    InvalidInput,
    SchemaTooNew,
)
from carebinder.faults import checkpoint
from carebinder.leftout import LeftOut
from carebinder.store import Store
from carebinder.store import damaged as damaged_blob
from carebinder.store import missing as missing_blob
from carebinder.store import unreadable as unreadable_blob

FORMAT = 1
# A manifest that also lists the blobs left out (`omitted`); 1 otherwise, so that every
# backup without an omission restores with an older carebinder too.
OMITTED_FORMAT = 2
MAGIC = b"CAREBINDER-BACKUP\n"
MANIFEST_NAME = "manifest.json"
DATABASE_NAME = config.DATABASE_FILE
CIPHER_NONE = "none"
CIPHER_AES = "aes-256-gcm"

# Read at call time, so tests can make backups with small chunks and a fast key derivation.
CHUNK_SIZE = 1 << 20
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 17, 8, 1  # 128 MiB, about 0.3 s

# What a backup may ask of the computer restoring it.
MAX_HEADER = 4096
MIN_CHUNK, MAX_CHUNK = 1 << 10, 1 << 24
MAX_SCRYPT_MEMORY = 1 << 28  # 128·n·r bytes
MAX_MANIFEST = 64 << 20
MAX_MEMBERS = 500_000
MAX_MEMBER_SIZE = 64 << 30
FREE_SPACE_MARGIN = 64 << 20

COPY_CHUNK = 1 << 20
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NONCE_PREFIX_SIZE = 8
SALT_SIZE = 16
TAG_SIZE_AES = 16
TAG_SIZE_PLAIN = 32
MAX_COUNTER = (1 << 32) - 1

MEMBER_NAME = re.compile(r"(?:binder\.db|manifest\.json|files/[0-9a-f]{2}/[0-9a-f]{62})", re.ASCII)
BLOB_PATH = re.compile(r"files/[0-9a-f]{2}/[0-9a-f]{62}", re.ASCII)
SHARD_NAME = re.compile(r"[0-9a-f]{2}", re.ASCII)
BLOB_NAME = re.compile(r"[0-9a-f]{62}", re.ASCII)
SHA256_HEX = re.compile(r"[0-9a-f]{64}", re.ASCII)
OCTAL = re.compile(rb"[0-7]+")
BLOCK = tarfile.BLOCKSIZE

NOTHING_RESTORED = "Nothing was restored."


class ArchiveRejected(CarebinderError):
    """A backup file that cannot be restored: damaged, forged, or not a backup at all."""


def _damaged(reason: str) -> ArchiveRejected:
    return ArchiveRejected(f"This backup is damaged or was altered ({reason}). {NOTHING_RESTORED}")


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _strict_json(raw: bytes, what: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(pairs)

    try:
        return json.loads(raw.decode("ascii"), object_pairs_hook=no_duplicates)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _damaged(f"its {what} cannot be read") from None


def _int(value: object, low: int, high: int) -> int | None:
    """`value` if it is an integer (not a bool) within [low, high], else None."""
    return value if type(value) is int and low <= value <= high else None


def _blob_digest(path: str) -> str:
    """The SHA-256 a blob's path names: `files/ab/cdef…` → `abcdef…`."""
    _, shard, rest = path.split("/")
    return shard + rest


# --- the sealed stream ------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """How the stream after the header is sealed."""

    chunk_size: int
    # Random for every backup, in plain ones too: it goes into every chunk's tag (through the
    # header's digest), so chunks cannot be moved from one backup file to another.
    nonce_prefix: bytes
    cipher: str = CIPHER_NONE
    salt: bytes = b""
    scrypt: tuple[int, int, int] = (0, 0, 0)

    @property
    def encrypted(self) -> bool:
        return self.cipher != CIPHER_NONE

    def encode(self) -> bytes:
        data: dict[str, Any] = {"format": FORMAT, "chunk_size": self.chunk_size}
        data["cipher"] = self.cipher
        data["nonce_prefix"] = self.nonce_prefix.hex()
        if self.encrypted:
            n, r, p = self.scrypt
            data["kdf"] = {"name": "scrypt", "salt": self.salt.hex(), "n": n, "r": r, "p": p}
        body = _canonical(data)
        return MAGIC + struct.pack(">I", len(body)) + body

    @classmethod
    def read(cls, raw: IO[bytes]) -> tuple[Header, bytes]:
        """The header at the start of `raw`, and its exact bytes."""
        start = raw.read(len(MAGIC) + 4)
        if len(start) < len(MAGIC) + 4 or not start.startswith(MAGIC):
            raise ArchiveRejected("This file is not a carebinder backup. Check the file name.")
        (length,) = struct.unpack(">I", start[len(MAGIC) :])
        if length > MAX_HEADER:
            raise _damaged("its header is too long")
        body = raw.read(length)
        if len(body) != length:
            raise _damaged("it is cut short")
        data = _strict_json(body, "header")
        if not isinstance(data, dict):
            raise _damaged("its header cannot be read")
        _check_format(data.get("format"))
        header = cls._from_dict(data)
        if header.encode() != start + body:
            raise _damaged("its header is not in the expected form")
        return header, start + body

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Header:
        chunk_size = _int(data.get("chunk_size"), MIN_CHUNK, MAX_CHUNK)
        if chunk_size is None:
            raise _damaged("its header has an impossible chunk size")
        try:
            prefix = bytes.fromhex(str(data.get("nonce_prefix")))
        except ValueError:
            raise _damaged("its header cannot be read") from None
        if len(prefix) != NONCE_PREFIX_SIZE:
            raise _damaged("its header cannot be read")
        cipher = data.get("cipher")
        if cipher == CIPHER_NONE:
            return cls(chunk_size, prefix)
        kdf = data.get("kdf")
        if cipher != CIPHER_AES or not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
            raise _damaged("it uses an unknown kind of encryption")
        n, r, p = (
            _int(kdf.get("n"), 2, 1 << 30),
            _int(kdf.get("r"), 1, 64),
            _int(kdf.get("p"), 1, 16),
        )
        if n is None or r is None or p is None or n & (n - 1) or 128 * n * r > MAX_SCRYPT_MEMORY:
            raise _damaged("its password settings are out of range")
        try:
            salt = bytes.fromhex(str(kdf.get("salt")))
        except ValueError:
            raise _damaged("its header cannot be read") from None
        if not SALT_SIZE <= len(salt) <= 64:
            raise _damaged("its header cannot be read")
        return cls(chunk_size, prefix, cipher, salt, (n, r, p))


def _check_format(value: object) -> None:
    if type(value) is int and value > FORMAT:
        raise SchemaTooNew(
            "This backup was made by a newer carebinder. Update carebinder to restore it."
        )
    if value != FORMAT:
        raise _damaged("its format version is unknown")


class _Seal:
    """Seals and opens the chunks of one stream; the tag binds header, counter and last flag."""

    def __init__(self, header: Header, header_bytes: bytes, password: str | None) -> None:
        self.header = header
        self.context = hashlib.sha256(header_bytes).digest()
        self.aead: Any = None
        if header.encrypted:
            if password is None:
                raise ArchiveRejected(
                    f"This backup is encrypted: its password is needed. {NOTHING_RESTORED}"
                )
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self.aead = AESGCM(_derive_key(password, header))
        self.overhead = TAG_SIZE_AES if header.encrypted else TAG_SIZE_PLAIN

    def _associated(self, counter: int, last: bool) -> bytes:
        return self.context + struct.pack(">QB", counter, int(last))

    def _nonce(self, counter: int) -> bytes:
        return self.header.nonce_prefix + struct.pack(">I", counter)

    def seal(self, counter: int, last: bool, chunk: bytes) -> bytes:
        associated = self._associated(counter, last)
        if self.aead is not None:
            return bytes(self.aead.encrypt(self._nonce(counter), chunk, associated))
        return chunk + hashlib.sha256(associated + chunk).digest()

    def open(self, counter: int, last: bool, frame: bytes) -> bytes | None:
        """The chunk in `frame`, or None if the frame fails its check."""
        associated = self._associated(counter, last)
        if self.aead is not None:
            from cryptography.exceptions import InvalidTag

            try:
                return bytes(self.aead.decrypt(self._nonce(counter), frame, associated))
            except InvalidTag:
                return None
        chunk, tag = frame[: -self.overhead], frame[-self.overhead :]
        if hashlib.sha256(associated + chunk).digest() != tag:
            return None
        return chunk


def _derive_key(password: str, header: Header) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    n, r, p = header.scrypt
    secret = unicodedata.normalize("NFC", password).encode("utf-8")
    try:
        return Scrypt(salt=header.salt, length=32, n=n, r=r, p=p).derive(secret)
    except (ValueError, MemoryError):
        raise _damaged("its password settings cannot be used") from None


class SealedWriter:
    """A write-only stream that seals what is written to it; `finish()` seals the last chunk."""

    def __init__(self, raw: IO[bytes], password: str | None = None) -> None:
        prefix = os.urandom(NONCE_PREFIX_SIZE)
        if password is None:
            header = Header(CHUNK_SIZE, prefix)
        else:
            scrypt = (SCRYPT_N, SCRYPT_R, SCRYPT_P)
            header = Header(CHUNK_SIZE, prefix, CIPHER_AES, os.urandom(SALT_SIZE), scrypt)
        header_bytes = header.encode()
        self._seal = _Seal(header, header_bytes, password)
        self._raw = raw
        self._buffer = bytearray()
        self._counter = 0
        self._written = 0
        self._finished = False
        raw.write(header_bytes)

    def write(self, data: bytes, /) -> int:
        size = self._seal.header.chunk_size
        self._buffer += data
        self._written += len(data)
        # Keep at least one byte back: the last chunk is only known when the writer finishes.
        while len(self._buffer) > size:
            self._emit(bytes(self._buffer[:size]), last=False)
            del self._buffer[:size]
        return len(data)

    def finish(self) -> None:
        if not self._finished:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._finished = True

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        if self._counter > MAX_COUNTER:
            raise InvalidInput("The binder is too large for one backup file.")
        self._raw.write(self._seal.seal(self._counter, last, chunk))
        self._counter += 1

    # The rest of the file protocol tarfile expects.
    def read(self, size: int = -1, /) -> bytes:
        raise _unsupported("read")

    def tell(self) -> int:
        return self._written

    def seek(self, pos: int, /) -> int:
        raise _unsupported("seek")

    def close(self) -> None:
        self.finish()


class SealedReader:
    """A read-only stream of what a sealed file holds; every chunk is checked before use."""

    def __init__(self, raw: IO[bytes], password: str | None = None) -> None:
        header, header_bytes = Header.read(raw)
        self.header = header
        self._seal = _Seal(header, header_bytes, password)
        self._raw = raw
        self._frame_size = header.chunk_size + self._seal.overhead
        self._lookahead = b""
        self._counter = 0
        self._done = False
        self._chunk = b""
        self._offset = 0  # in `_chunk`: slicing from an offset copies only what is returned

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes (everything left if negative); b"" at the end."""
        if size < 0:
            parts = [self._chunk[self._offset :]]
            self._chunk, self._offset = b"", 0
            while (chunk := self._next_chunk()) is not None:
                parts.append(chunk)
            return b"".join(parts)
        while self._offset >= len(self._chunk):
            chunk = self._next_chunk()
            if chunk is None:
                return b""
            self._chunk, self._offset = chunk, 0
        data = self._chunk[self._offset : self._offset + size]
        self._offset += len(data)
        return data

    def drain(self) -> bool:
        """Check every chunk that is left; True if they hold nothing but zeros."""
        clean = not self._chunk[self._offset :].strip(b"\0")
        self._chunk, self._offset = b"", 0
        while (chunk := self._next_chunk()) is not None:
            clean = clean and not chunk.strip(b"\0")
        return clean

    def _next_chunk(self) -> bytes | None:
        if self._done:
            return None
        frame = self._lookahead + self._raw.read(self._frame_size - len(self._lookahead))
        self._lookahead = self._raw.read(1) if len(frame) == self._frame_size else b""
        last = not self._lookahead
        if len(frame) < self._seal.overhead:
            raise _damaged("it is cut short")
        chunk = self._seal.open(self._counter, last, frame)
        if chunk is None:
            raise self._failure(frame, last)
        self._counter += 1
        if last:
            self._done = True
        return chunk

    def _failure(self, frame: bytes, last: bool) -> ArchiveRejected:
        if last and self._seal.open(self._counter, False, frame) is not None:
            return _damaged("it is cut short")
        if self._counter == 0 and self.header.encrypted:
            return ArchiveRejected(f"Wrong password or damaged archive. {NOTHING_RESTORED}")
        return _damaged("part of it fails its check")


def _unsupported(operation: str) -> OSError:
    return OSError(errno.EOPNOTSUPP, f"a sealed stream does not support {operation}")


# --- the manifest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One member of the backup as the manifest lists it."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    schema: str
    created: str
    entries: tuple[Entry, ...]
    # Blobs the binder had that this backup does not hold: (path, why, as verify says it).
    omitted: tuple[tuple[str, str], ...] = ()

    def encode(self) -> bytes:
        """Canonical JSON whose `sha256` is the checksum of the rest."""
        body: dict[str, Any] = {
            "format": OMITTED_FORMAT if self.omitted else FORMAT,
            "schema": self.schema,
            "created": self.created,
            "members": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in self.entries],
        }
        if self.omitted:
            body["omitted"] = [{"path": path, "reason": why} for path, why in self.omitted]
        body["sha256"] = hashlib.sha256(_canonical(body)).hexdigest()
        return _canonical(body)

    @classmethod
    def decode(cls, raw: bytes) -> Manifest:
        """Parse and check a manifest; refuse anything not exactly as `encode` writes it."""
        data = _strict_json(raw, "list of contents")
        if not isinstance(data, dict):
            raise _damaged("its list of contents cannot be read")
        if data.get("format") != OMITTED_FORMAT:
            _check_format(data.get("format"))
        keys = {"format", "schema", "created", "members", "sha256"}
        if set(data) != keys | ({"omitted"} if data["format"] == OMITTED_FORMAT else set()):
            raise _damaged("its list of contents is not in the expected form")
        body = {key: value for key, value in data.items() if key != "sha256"}
        if data["sha256"] != hashlib.sha256(_canonical(body)).hexdigest():
            raise _damaged("its list of contents fails its checksum")
        if _canonical(data) != raw:
            raise _damaged("its list of contents is not in the expected form")
        schema, created, members = data["schema"], data["created"], data["members"]
        if not isinstance(schema, str) or not isinstance(created, str):
            raise _damaged("its list of contents is not in the expected form")
        if schema not in SCHEMA_REVISIONS:
            raise SchemaTooNew(
                "This backup was made by a newer carebinder. Update carebinder to restore it."
            )
        if not isinstance(members, list) or len(members) > MAX_MEMBERS:
            raise _damaged("its list of contents is not in the expected form")
        entries = tuple(_entry(member) for member in members)
        paths = [entry.path for entry in entries]
        if len(set(paths)) != len(paths):
            raise _damaged("its list of contents names a file twice")
        if paths.count(DATABASE_NAME) != 1:
            raise _damaged("its list of contents has no database")
        omitted = _omitted(data.get("omitted", []), set(paths))
        if data["format"] == OMITTED_FORMAT and not omitted:
            raise _damaged("its list of contents is not in the expected form")
        return cls(schema, created, entries, omitted)

    @property
    def total_size(self) -> int:
        return sum(entry.size for entry in self.entries)


def _entry(member: object) -> Entry:
    if not isinstance(member, dict) or set(member) != {"path", "size", "sha256"}:
        raise _damaged("its list of contents is not in the expected form")
    path, size, sha256 = member["path"], member["size"], member["sha256"]
    if (
        not isinstance(path, str)
        or not MEMBER_NAME.fullmatch(path)
        or path == MANIFEST_NAME
        or not isinstance(sha256, str)
        or not SHA256_HEX.fullmatch(sha256)
    ):
        raise _damaged("its list of contents names an unexpected file")
    checked_size = _int(size, 0, MAX_MEMBER_SIZE)
    if checked_size is None:
        raise _damaged("its list of contents gives an impossible size")
    if path != DATABASE_NAME and _blob_digest(path) != sha256:
        raise _damaged("its list of contents does not match a file's name")
    return Entry(path, checked_size, sha256)


OMISSIONS = frozenset({"blob_missing", "blob_not_a_file", "blob_unreadable", "blob_damaged"})


def _omitted(items: object, members: set[str]) -> tuple[tuple[str, str], ...]:
    """The manifest's blobs left out: blob paths, not members, each once, with a known why."""
    if not isinstance(items, list) or len(items) > MAX_MEMBERS:
        raise _damaged("its list of contents is not in the expected form")
    found = tuple(
        (item["path"], item["reason"])
        for item in items
        if isinstance(item, dict) and set(item) == {"path", "reason"}
    )
    if len(found) != len(items) or not all(isinstance(why, str) for _, why in found):
        raise _damaged("its list of contents is not in the expected form")
    for path, why in found:
        if not isinstance(path, str) or not BLOB_PATH.fullmatch(path) or path in members:
            raise _damaged("its list of contents names an unexpected file")
        if why not in OMISSIONS:
            raise _damaged("its list of contents is not in the expected form")
    if len({path for path, _ in found}) != len(found):
        raise _damaged("its list of contents names a file twice")
    return found


# --- backup -----------------------------------------------------------------------------------


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
        blobs = _list_blobs(settings.store_dir)
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
                (_blob_path(sha), error.kind)
                for sha, error in sorted(lost.items())
                if SHA256_HEX.fullmatch(sha)  # an invalid fingerprint names no blob
            )
            manifest = Manifest(schema, created, (database_entry, *kept), omitted)
            try:
                with _create_private(partial) as raw:
                    _write_archive(raw, manifest, snapshot, settings.store_dir, password)
                    raw.flush()
                    os.fsync(raw.fileno())
                break
            except BlobUnusable as error:
                partial.unlink()
                lost = {**lost, **store.unusable(e.sha256 for e in kept), error.sha256: error}
        _publish(partial, target, force)
    finally:
        for leftover in (snapshot, partial, Path(f"{snapshot}-journal")):
            leftover.unlink(missing_ok=True)
    left_out = (
        LeftOut.stored(error, name, record=record, file=file)
        for sha, error in lost.items()
        # A blob no record uses is named by its place in the store.
        for file, record, name in referenced.get(sha) or [(None, None, _blob_path(sha))]
    )
    size = target.stat().st_size
    ordered = tuple(sorted(left_out, key=lambda item: (item.file or 0, item.name)))
    return BackupResult(target, len(kept), size, password is not None, ordered)


def _blob_path(sha256: str) -> str:
    return f"{config.STORE_DIR}/{sha256[:2]}/{sha256[2:]}"


def check_backup_source(settings: config.Settings) -> Path:
    """The database file to back up; refuses a binder that is not SQLite, or no binder."""
    database = settings.sqlite_path
    if database is None:
        raise InvalidInput(
            "Backup works only with a SQLite binder for now. For a shared database"
            " (PostgreSQL), use that database's own backup tools."
        )
    if not database.is_file():
        if settings.uses_default_database:
            raise BinderMissing(
                f"No binder at {settings.home}. Create one with `carebinder init`"
                " (or pick another with --home)."
            )
        raise BinderMissing(
            f"No binder in {database}. Create one with `carebinder init`, or check --db."
        )
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
            raise BinderMissing(
                "The database has no binder in it yet. Create one with `carebinder init`."
            )
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


def _list_blobs(store_dir: Path) -> list[Entry]:
    """Every blob in the store (not temporary or stray files), in name order."""
    entries: list[Entry] = []
    if not store_dir.is_dir():
        return entries
    for shard in sorted(os.scandir(store_dir), key=lambda e: e.name):
        if not SHARD_NAME.fullmatch(shard.name) or not shard.is_dir(follow_symlinks=False):
            continue
        for blob in sorted(os.scandir(shard.path), key=lambda e: e.name):
            if BLOB_NAME.fullmatch(blob.name) and blob.is_file(follow_symlinks=False):
                path = f"{config.STORE_DIR}/{shard.name}/{blob.name}"
                size = blob.stat(follow_symlinks=False).st_size
                entries.append(Entry(path, size, shard.name + blob.name))
    return entries


def _in_store(store_dir: Path, entry: Entry) -> Path:
    """Where the blob a backup names `files/ab/cdef…` is in the store (which may be any
    folder, given with --store)."""
    return store_dir.joinpath(*entry.path.split("/")[1:])


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
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
    raw: BinaryIO, manifest: Manifest, snapshot: Path, store_dir: Path, password: str | None
) -> None:
    import io

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
            source = snapshot if blob is None else _in_store(store_dir, entry)
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


def _publish(partial: Path, target: Path, force: bool) -> None:
    if force:
        partial.replace(target)
        _fsync_dir(target.parent)
        return
    try:
        os.link(partial, target)  # never replaces a file that appeared meanwhile
    except FileExistsError:
        raise Conflict(
            f"{target} appeared while the backup was being written; nothing was replaced."
        ) from None
    except OSError:  # filesystems without hard links (FAT, exFAT on USB drives)
        if target.exists():
            raise Conflict(
                f"{target} appeared while the backup was being written; nothing was replaced."
            ) from None
        partial.rename(target)
    _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- restore ----------------------------------------------------------------------------------


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
            _fsync_dir(Path(folder))
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


class _TarReader:
    """A strict reader of the tar inside a backup.

    It accepts exactly what `_write_archive` writes: regular files in plain ustar/GNU headers,
    named as a backup names them, zero padding, and zeros after the end. No links, folders,
    devices, long-name or pax entries; nothing is interpreted that could rename a member.
    """

    def __init__(self, stream: SealedReader) -> None:
        self.stream = stream
        self.left = 0  # data bytes of the current member not read yet
        self.padding = 0

    def next(self) -> tuple[str, int] | None:
        """The next member's name and size, or None at the end of the archive."""
        while self.read(COPY_CHUNK):
            pass
        if self.padding and self._exact(self.padding).strip(b"\0"):
            raise _damaged("its contents are not in the expected form")
        block = self._exact(BLOCK)
        if not block.strip(b"\0"):
            if not self.stream.drain():
                raise _damaged("it holds unexpected data after its contents")
            return None
        name, size = _parse_header(block)
        self.left, self.padding = size, -size % BLOCK
        return name, size

    def read(self, size: int) -> bytes:
        """Up to `size` bytes of the current member's data."""
        data = self._exact(min(size, self.left))
        self.left -= len(data)
        return data

    def _exact(self, size: int) -> bytes:
        parts = []
        while size:
            data = self.stream.read(size)
            if not data:
                raise _damaged("it is cut short")
            parts.append(data)
            size -= len(data)
        return b"".join(parts)


def _parse_header(block: bytes) -> tuple[str, int]:
    """Name and size from one tar header block, or a refusal."""
    checksum = _tar_number(block[148:156])
    if checksum != sum(block[:148]) + 8 * ord(" ") + sum(block[156:]):
        raise _damaged("its contents are not in the expected form")
    if block[257:263] not in (b"ustar\0", b"ustar "):
        raise _damaged("its contents are not in the expected form")
    if block[156:157] != tarfile.REGTYPE:
        raise _damaged("it holds a link, a folder or a device, which a backup never holds")
    name, _, rest = block[:100].partition(b"\0")
    if rest.strip(b"\0") or block[157:257].strip(b"\0") or block[345:].strip(b"\0"):
        raise _damaged("it holds a file with an unexpected name")
    text = name.decode("latin-1")
    if not MEMBER_NAME.fullmatch(text):
        raise _damaged("it holds a file with an unexpected name")
    return text, _tar_number(block[124:136])


def _tar_number(field: bytes) -> int:
    """An octal tar number, or GNU's base-256 form for large sizes."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    digits = field.split(b"\0", 1)[0].strip(b" ")
    if not OCTAL.fullmatch(digits):
        raise _damaged("its contents are not in the expected form")
    return int(digits, 8)


def _extract(reader: SealedReader, staging: _Staging, archive_size: int) -> Manifest:
    tar = _TarReader(reader)
    manifest = _read_manifest(tar, archive_size, staging.home)
    staging.create()
    expected = {entry.path: entry for entry in manifest.entries}
    seen: set[str] = set()
    while (member := tar.next()) is not None:
        name, size = member
        if name in seen or name == MANIFEST_NAME:
            raise _damaged("it holds the same file twice")
        entry = expected.get(name)
        if entry is None:
            raise _damaged("it holds a file its list of contents does not mention")
        if size != entry.size:
            raise _damaged("a file's size does not match its list of contents")
        seen.add(name)
        _write_member(tar, staging.path_for(name), entry)
    if seen != set(expected):
        raise _damaged("files in its list of contents are missing")
    return manifest


def _read_manifest(tar: _TarReader, archive_size: int, home: Path) -> Manifest:
    first = tar.next()
    if first is None or first[0] != MANIFEST_NAME:
        raise _damaged("it does not start with its list of contents")
    if first[1] > MAX_MANIFEST:
        raise _damaged("its list of contents is too large")
    manifest = Manifest.decode(tar.read(first[1]))
    # Nothing is compressed, so the contents cannot be larger than the file that holds them.
    if manifest.total_size > archive_size:
        raise _damaged("it is smaller than its list of contents says")
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


def _write_member(tar: _TarReader, target: Path, entry: Entry) -> None:
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
        raise _damaged("a file does not match its checksum")


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
        raise _damaged("its database cannot be read") from None
    if check != ("ok",):
        raise _damaged("its database fails its integrity check")
    if revision != [(manifest.schema,)]:
        raise _damaged("its database does not match its list of contents")
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
        _fsync_dir(home.parent)
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
    _fsync_dir(home)
