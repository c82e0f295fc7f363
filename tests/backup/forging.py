"""The forging kit: a backup's true parts, and tar archives built from them by hand, so
that each forged archive differs from a true one in the one way its test names."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from carebinder.backup.manifest import Entry, Manifest
from carebinder.backup.seal import SealedWriter
from carebinder.db import SCHEMA_HEAD
from tests.backup.kit import MODES, elsewhere, refused, sha256, tar_members

MANIFEST = "manifest.json"
CREATED = "2026-11-02T10:00:00+00:00"


@dataclass(frozen=True)
class Parts:
    """The true contents of a small binder's backup, to forge archives from."""

    database: bytes
    blob_name: str
    blob: bytes

    @property
    def other_name(self) -> str:
        """A well-formed blob name that is not this binder's."""
        return "files/00/" + "0" * 62


Member = tuple[tarfile.TarInfo, bytes]


def entry(path: str, data: bytes) -> Entry:
    return Entry(path, len(data), sha256(data))


def manifest(*entries: Entry, schema: str = SCHEMA_HEAD) -> bytes:
    return Manifest(schema, CREATED, entries).encode()


def signed(body: dict[str, object], **dumps: object) -> bytes:
    """A manifest from any JSON body, with a correct checksum."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    options = {"sort_keys": True, "separators": (",", ":"), **dumps}
    return json.dumps({**body, "sha256": sha256(canonical)}, **options).encode()  # type: ignore[arg-type]


def body(p: Parts, **changes: object) -> dict[str, object]:
    members = [
        {"path": "binder.db", "size": len(p.database), "sha256": sha256(p.database)},
        {"path": p.blob_name, "size": len(p.blob), "sha256": sha256(p.blob)},
    ]
    return {"format": 1, "schema": SCHEMA_HEAD, "created": CREATED, "members": members, **changes}


def listed(p: Parts) -> bytes:
    return manifest(entry("binder.db", p.database), entry(p.blob_name, p.blob))


def regular(name: str, data: bytes, **attributes: object) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    for key, value in attributes.items():
        setattr(info, key, value)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.devmajor, info.devminor = kind, linkname, 1, 3
    return info, b""


def standard(p: Parts, manifest_bytes: bytes | None = None) -> list[Member]:
    return [
        regular(MANIFEST, listed(p) if manifest_bytes is None else manifest_bytes),
        regular("binder.db", p.database),
        regular(p.blob_name, p.blob),
    ]


def tar(*members: Member, format: int = tarfile.GNU_FORMAT, **options: object) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format, **options) as archive:  # type: ignore[call-overload]
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def raw_member(info: tarfile.TarInfo, data: bytes) -> bytes:
    """A member written by hand, so its header may declare any size."""
    header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    return header + data + bytes(-len(data) % 512)


def patched(
    payload: bytes, name: str, change: Callable[[bytearray, tarfile.TarInfo], None]
) -> bytes:
    data = bytearray(payload)
    (info,) = (m for m in tar_members(payload) if m.name == name)
    change(data, info)
    return bytes(data)


def fix_checksum(data: bytearray, offset: int) -> None:
    block = data[offset : offset + 512]
    block[148:156] = b" " * 8
    data[offset + 148 : offset + 156] = b"%06o\0 " % sum(block)


@dataclass(frozen=True)
class Forgery:
    name: str
    build: Callable[[Parts], bytes]
    says: str


def db(p: Parts) -> Member:
    return regular(DB, p.database)


def blob(p: Parts) -> Member:
    return regular(p.blob_name, p.blob)


def listing(*entries: Entry, schema: str = SCHEMA_HEAD) -> Member:
    return regular(MANIFEST, manifest(*entries, schema=schema))


def db_entry(p: Parts) -> Entry:
    return entry(DB, p.database)


def blob_entry(p: Parts, size: int | None = None, path: str | None = None) -> Entry:
    return Entry(path or p.blob_name, len(p.blob) if size is None else size, sha256(p.blob))


def plus(*extra: Member, **options: object) -> Callable[[Parts], bytes]:
    """The true members, then `extra`."""
    return lambda p: tar(*standard(p), *extra, **options)


def with_manifest(make: Callable[[Parts], bytes]) -> Callable[[Parts], bytes]:
    """The true members under another manifest."""
    return lambda p: tar(*standard(p, make(p)))


F = Forgery
DB, OTHER = "binder.db", "files/00/" + "0" * 62
EVIL = b"evil"


def seal(path: Path, payload: bytes, password: str | None) -> Path:
    with path.open("wb") as raw:
        writer = SealedWriter(raw, password)
        writer.write(payload)
        writer.finish()
    return path


def forged(cases: list[Forgery]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A test run with each of `cases` as `forgery`, in a plain and in an encrypted backup."""
    each = pytest.mark.parametrize("forgery", cases, ids=[case.name for case in cases])
    return lambda test: MODES(each(test))


def assert_refused(parts: Parts, tmp_path: Path, forgery: Forgery, password: str | None) -> None:
    """The forged archive, sealed as a backup, is refused for the reason its case names."""
    archive = seal(tmp_path / "forged.backup", forgery.build(parts), password)
    error = refused(elsewhere(tmp_path), archive, password)
    assert forgery.says in error.message
