"""The manifest: a backup's list of contents, the first member of its tar.

Canonical JSON: the format, the schema revision of the database, every other member's path,
size and SHA-256, the blobs the binder had that the backup lacks (`omitted`), and a checksum
of all of it. Restore trusts nothing in it that `Manifest.decode` has not checked.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from carebinder import config
from carebinder.backup.seal import (
    FORMAT,
    bounded_int,
    canonical,
    check_format,
    damaged_archive,
    made_by_newer,
    strict_json,
)
from carebinder.db import SCHEMA_REVISIONS
from carebinder.store import BLOB_NAME, SHA256, SHARD

# A manifest that also lists the blobs left out (`omitted`); 1 otherwise, so that every
# backup without an omission restores with an older carebinder too.
OMITTED_FORMAT = 2
MANIFEST_NAME = "manifest.json"
DATABASE_NAME = config.DATABASE_FILE

# What a manifest may ask of the computer restoring it.
MAX_MEMBERS = 500_000
MAX_MEMBER_SIZE = 64 << 30

# A blob is named in a backup as it is in a binder's home: `files/ab/cdef…`.
BLOB_PATH = re.compile(rf"{config.STORE_DIR}/{SHARD.pattern}/{BLOB_NAME.pattern}", re.ASCII)
MEMBER_NAME = re.compile(
    rf"(?:{re.escape(DATABASE_NAME)}|{re.escape(MANIFEST_NAME)}|{BLOB_PATH.pattern})", re.ASCII
)


def blob_member(sha256: str) -> str:
    """The name a backup gives a blob: `abcdef…` → `files/ab/cdef…`."""
    return f"{config.STORE_DIR}/{sha256[:2]}/{sha256[2:]}"


def _blob_digest(path: str) -> str:
    """The SHA-256 a blob's path names: `files/ab/cdef…` → `abcdef…`."""
    _, shard, rest = path.split("/")
    return shard + rest


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
        body["sha256"] = hashlib.sha256(canonical(body)).hexdigest()
        return canonical(body)

    @classmethod
    def decode(cls, raw: bytes) -> Manifest:
        """Parse and check a manifest; refuse anything not exactly as `encode` writes it."""
        data = strict_json(raw, "list of contents")
        if not isinstance(data, dict):
            raise damaged_archive("its list of contents cannot be read")
        if data.get("format") != OMITTED_FORMAT:
            check_format(data.get("format"))
        keys = {"format", "schema", "created", "members", "sha256"}
        if set(data) != keys | ({"omitted"} if data["format"] == OMITTED_FORMAT else set()):
            raise damaged_archive("its list of contents is not in the expected form")
        body = {key: value for key, value in data.items() if key != "sha256"}
        if data["sha256"] != hashlib.sha256(canonical(body)).hexdigest():
            raise damaged_archive("its list of contents fails its checksum")
        if canonical(data) != raw:
            raise damaged_archive("its list of contents is not in the expected form")
        schema, created, members = data["schema"], data["created"], data["members"]
        if not isinstance(schema, str) or not isinstance(created, str):
            raise damaged_archive("its list of contents is not in the expected form")
        if schema not in SCHEMA_REVISIONS:
            raise made_by_newer()
        if not isinstance(members, list) or len(members) > MAX_MEMBERS:
            raise damaged_archive("its list of contents is not in the expected form")
        entries = tuple(_entry(member) for member in members)
        paths = [entry.path for entry in entries]
        if len(set(paths)) != len(paths):
            raise damaged_archive("its list of contents names a file twice")
        if paths.count(DATABASE_NAME) != 1:
            raise damaged_archive("its list of contents has no database")
        omitted = _omitted(data.get("omitted", []), set(paths))
        if data["format"] == OMITTED_FORMAT and not omitted:
            raise damaged_archive("its list of contents is not in the expected form")
        return cls(schema, created, entries, omitted)

    @property
    def total_size(self) -> int:
        return sum(entry.size for entry in self.entries)


def _entry(member: object) -> Entry:
    if not isinstance(member, dict) or set(member) != {"path", "size", "sha256"}:
        raise damaged_archive("its list of contents is not in the expected form")
    path, size, sha256 = member["path"], member["size"], member["sha256"]
    if (
        not isinstance(path, str)
        or not MEMBER_NAME.fullmatch(path)
        or path == MANIFEST_NAME
        or not isinstance(sha256, str)
        or not SHA256.fullmatch(sha256)
    ):
        raise damaged_archive("its list of contents names an unexpected file")
    checked_size = bounded_int(size, 0, MAX_MEMBER_SIZE)
    if checked_size is None:
        raise damaged_archive("its list of contents gives an impossible size")
    if path != DATABASE_NAME and _blob_digest(path) != sha256:
        raise damaged_archive("its list of contents does not match a file's name")
    return Entry(path, checked_size, sha256)


OMISSIONS = frozenset({"blob_missing", "blob_not_a_file", "blob_unreadable", "blob_damaged"})


def _omitted(items: object, members: set[str]) -> tuple[tuple[str, str], ...]:
    """The manifest's blobs left out: blob paths, not members, each once, with a known why."""
    if not isinstance(items, list) or len(items) > MAX_MEMBERS:
        raise damaged_archive("its list of contents is not in the expected form")
    found = tuple(
        (item["path"], item["reason"])
        for item in items
        if isinstance(item, dict) and set(item) == {"path", "reason"}
    )
    if len(found) != len(items) or not all(isinstance(why, str) for _, why in found):
        raise damaged_archive("its list of contents is not in the expected form")
    for path, why in found:
        if not isinstance(path, str) or not BLOB_PATH.fullmatch(path) or path in members:
            raise damaged_archive("its list of contents names an unexpected file")
        if why not in OMISSIONS:
            raise damaged_archive("its list of contents is not in the expected form")
    if len({path for path, _ in found}) != len(found):
        raise damaged_archive("its list of contents names a file twice")
    return found
