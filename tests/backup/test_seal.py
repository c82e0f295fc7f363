"""The sealed stream: its header, its encryption and password, and every chunk's check.

A changed byte anywhere, a cut, appended, reordered or spliced chunk, and a forged header
are all refused before the home is touched.
"""

from __future__ import annotations

import io
import json
import os
import struct
import unicodedata
from pathlib import Path

import pytest

from carebinder import config
from carebinder.backup.create import create_backup
from carebinder.backup.restore import is_encrypted, restore_backup
from carebinder.backup.seal import MAGIC, Header, SealedReader, SealedWriter
from tests.backup.forging import tar_members
from tests.backup.kit import (
    CHUNK,
    MARKER,
    MODES,
    PASSWORD,
    blobs,
    elsewhere,
    plaintext,
    refused,
)
from tests.conftest import FILE_BACKUP

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)


def test_an_encrypted_backup_shows_nothing_of_the_binder(
    filled: config.Settings, tmp_path: Path
) -> None:
    plain, locked, again = (tmp_path / f"{n}.backup" for n in ("plain", "locked", "again"))
    create_backup(filled, plain)
    create_backup(filled, locked, password=PASSWORD)
    create_backup(filled, again, password=PASSWORD)

    assert MARKER in plain.read_bytes() and b"Wei Chen" in plain.read_bytes()
    data = locked.read_bytes()
    for secret in (MARKER[:24], b"Wei Chen", b"Ana Souza", b"manifest.json", b"SQLite format 3"):
        assert secret not in data
    assert PASSWORD.encode() not in data
    header, _ = Header.read(io.BytesIO(data))
    assert header.cipher == "aes-256-gcm"
    assert header.scrypt == (1 << 10, 8, 1)
    assert len(header.salt) == 16
    other, _ = Header.read(io.BytesIO(again.read_bytes()))
    assert (other.salt, other.nonce_prefix) != (header.salt, header.nonce_prefix)
    assert is_encrypted(locked) and not is_encrypted(plain)


def test_the_password_matches_however_the_keyboard_composed_it(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive, password=unicodedata.normalize("NFC", "Zoë café"))
    target = elsewhere(tmp_path)
    restore_backup(target, archive, password=unicodedata.normalize("NFD", "Zoë café"))
    assert blobs(target.home) == blobs(filled.home)


@MODES
@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5])
def test_the_sealed_stream_round_trips_any_length(size: int, password: str | None) -> None:
    data = os.urandom(size)
    raw = io.BytesIO()
    writer = SealedWriter(raw, password)
    for start in range(0, size, 1000):
        writer.write(data[start : start + 1000])
    writer.finish()
    overhead = 16 if password else 32
    header, header_bytes = Header.read(io.BytesIO(raw.getvalue()))
    assert header.chunk_size == CHUNK
    frames = max(1, -(-size // CHUNK))
    assert len(raw.getvalue()) == len(header_bytes) + size + frames * overhead

    reader = SealedReader(io.BytesIO(raw.getvalue()), password)
    pieces = []
    while piece := reader.read(777):
        pieces.append(piece)
    assert b"".join(pieces) == data


def test_wrong_or_missing_password_is_refused_and_nothing_is_written(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive, password=PASSWORD)
    target = elsewhere(tmp_path)
    for wrong in ("", "Correct horse battery staple", PASSWORD + " ", "s3cret"):
        error = refused(target, archive, wrong)
        assert error.message == "Wrong password or damaged archive. Nothing was restored."
    error = refused(target, archive, None)
    assert "encrypted" in error.message


@MODES
def test_a_byte_flipped_anywhere_is_detected_before_the_home_is_touched(
    filled: config.Settings, tmp_path: Path, password: str | None
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive, password=password)
    original = archive.read_bytes()
    places = labelled_offsets(archive, password)
    for label in ("header", "manifest", "database", "blob", "end of archive", "last tag"):
        assert any(name.startswith(label) for name in places), label

    target = elsewhere(tmp_path)
    damaged = tmp_path / "damaged.backup"
    for label, offset in places.items():
        data = bytearray(original)
        data[offset] ^= 0x01
        damaged.write_bytes(data)
        try:
            refused(target, damaged, password)
        except pytest.fail.Exception:
            pytest.fail(f"a flipped byte in {label} (offset {offset}) was not detected")
    assert len(places) > 100
    damaged.write_bytes(original)  # the undamaged file still restores
    restore_backup(target, damaged, password=password)
    assert blobs(target.home) == blobs(filled.home)


def labelled_offsets(archive: Path, password: str | None) -> dict[str, int]:
    """File offsets of every header byte, of the start, middle and end of each member's tar
    header and data, of the start and tag of every chunk, and of the archive's last byte."""
    data = archive.read_bytes()
    header, header_bytes = Header.read(io.BytesIO(data))
    start, frame = len(header_bytes), header.chunk_size + (16 if header.encrypted else 32)
    payload = plaintext(archive, password)

    def at(position: int) -> int:
        chunk, within = divmod(position, header.chunk_size)
        return start + chunk * frame + within

    places = {f"header byte {i}": i for i in range(start)}
    for info in tar_members(payload):
        kind = {"manifest.json": "manifest", "binder.db": "database"}.get(info.name, "blob")
        label = f"{kind} {info.name[-6:]}"
        places[f"{label} tar header"] = at(info.offset + 130)
        for where, position in (
            ("first", 0),
            ("middle", info.size // 2),
            ("last", info.size - 1),
        ):
            places[f"{label} {where}"] = at(info.offset_data + position)
    places["end of archive"] = at(len(payload) - 1)
    for number, offset in enumerate(range(start, len(data), frame)):
        places[f"chunk {number} first"] = offset
        places[f"chunk {number} tag"] = min(offset + frame, len(data)) - 1
    places["last tag"] = len(data) - 1
    return places


@MODES
def test_a_truncated_backup_is_refused(
    filled: config.Settings, tmp_path: Path, password: str | None
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive, password=password)
    original = archive.read_bytes()
    header, header_bytes = Header.read(io.BytesIO(original))
    start, frame = len(header_bytes), header.chunk_size + (16 if password else 32)
    boundaries = list(range(start + frame, len(original), frame))
    assert len(boundaries) > 10
    cut = tmp_path / "cut.backup"
    for length in (0, 5, len(MAGIC) + 2, start - 1, start, start + 1, *boundaries):
        cut.write_bytes(original[:length])
        message = refused(elsewhere(tmp_path), cut, password).message
        if length in boundaries or length == start:
            assert "cut short" in message or "smaller than its list" in message, length
    for length in (start + frame - 1, len(original) - 1, len(original) - 16):
        cut.write_bytes(original[:length])
        refused(elsewhere(tmp_path), cut, password)


@MODES
def test_appended_reordered_or_spliced_chunks_are_refused(
    filled: config.Settings, tmp_path: Path, password: str | None
) -> None:
    archive, other = tmp_path / "binder.backup", tmp_path / "other.backup"
    create_backup(filled, archive, password=password)
    create_backup(filled, other, password=password)
    data = archive.read_bytes()
    header, header_bytes = Header.read(io.BytesIO(data))
    start, frame = len(header_bytes), header.chunk_size + (16 if password else 32)
    first, second = data[start : start + frame], data[start + frame : start + 2 * frame]
    _, other_header = Header.read(io.BytesIO(other.read_bytes()))
    forged = tmp_path / "forged.backup"
    for variant in (
        data + b"\0",
        data + data[-frame:],
        data[:start] + second + first + data[start + 2 * frame :],
        data[:start] + data[start + frame :],  # a chunk left out
        other_header + data[start:],  # another backup's header
    ):
        forged.write_bytes(variant)
        refused(elsewhere(tmp_path), forged, password)


def raw_header(text: bytes) -> bytes:
    return MAGIC + struct.pack(">I", len(text)) + text


def header_fields(**fields: object) -> dict[str, object]:
    data = {"format": 1, "chunk_size": CHUNK, "cipher": "none", "nonce_prefix": "00" * 8}
    return {**data, **fields}


def header_of(**fields: object) -> bytes:
    return raw_header(
        json.dumps(header_fields(**fields), sort_keys=True, separators=(",", ":")).encode()
    )


KDF = {"name": "scrypt", "salt": "00" * 16, "n": 1024, "r": 8, "p": 1}
FORGED_FILES = {
    "empty file": (b"", "not a carebinder backup"),
    "not a backup": (b"%PDF-1.7\n" + bytes(100), "not a carebinder backup"),
    "newer format": (header_of(format=2), "newer carebinder"),
    "older format": (header_of(format=0), "format version is unknown"),
    "huge chunk size": (header_of(chunk_size=1 << 40), "impossible chunk size"),
    "tiny chunk size": (header_of(chunk_size=1), "impossible chunk size"),
    "unknown cipher": (header_of(cipher="rot13"), "unknown kind of encryption"),
    "huge scrypt": (
        header_of(cipher="aes-256-gcm", kdf={**KDF, "n": 1 << 30}),
        "out of range",
    ),
    "scrypt n not a power of two": (
        header_of(cipher="aes-256-gcm", kdf={**KDF, "n": 1000}),
        "out of range",
    ),
    "short nonce": (header_of(nonce_prefix="00"), "cannot be read"),
    "no salt": (header_of(cipher="aes-256-gcm", kdf={**KDF, "salt": "zz"}), "cannot be read"),
    "huge header": (MAGIC + struct.pack(">I", 1 << 31), "too long"),
    "header not an object": (raw_header(b"[1]"), "cannot be read"),
    "header cut short": (MAGIC + struct.pack(">I", 100) + b"{", "cut short"),
    "header not canonical": (
        raw_header(json.dumps(header_fields(), indent=1).encode()),
        "expected form",
    ),
    "header not json": (raw_header(b"\xff\xfe{}"), "cannot be read"),
}


@pytest.mark.parametrize("name", list(FORGED_FILES))
def test_a_forged_header_is_refused(tmp_path: Path, name: str) -> None:
    content, says = FORGED_FILES[name]
    archive = tmp_path / "forged.backup"
    archive.write_bytes(content + bytes(64))
    assert says in refused(elsewhere(tmp_path), archive, PASSWORD).message
