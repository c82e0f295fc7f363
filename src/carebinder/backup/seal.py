"""The sealed stream: a short header, then the bytes cut into chunks, each one checked.

The header (magic line, length, canonical JSON) says how the stream is sealed: the format
version, the chunk size, and for an encrypted backup the cipher (AES-256-GCM), the scrypt
parameters and salt, and a random nonce prefix. Every chunk carries a tag over the SHA-256 of
the header, its counter and a "last chunk" flag (STREAM construction), so a changed byte
anywhere, a reordered chunk, a truncation or appended bytes are all caught. Encrypted chunks
are sealed with AES-256-GCM under the scrypt key; plain chunks carry a SHA-256 instead
(corruption, not forgery, is what a plain backup can detect).

The helpers every part of a backup's checking uses (canonical JSON, the "damaged" refusal)
live here too, since the header is the first thing read.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import struct
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

from carebinder.errors import ArchiveRejected, InvalidInput, SchemaTooNew

FORMAT = 1
MAGIC = b"CAREBINDER-BACKUP\n"
CIPHER_NONE = "none"
CIPHER_AES = "aes-256-gcm"

# Read at call time, so tests can make backups with small chunks and a fast key derivation.
CHUNK_SIZE = 1 << 20
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 17, 8, 1  # 128 MiB, about 0.3 s

# What a backup's header may ask of the computer restoring it.
MAX_HEADER = 4096
MIN_CHUNK, MAX_CHUNK = 1 << 10, 1 << 24
MAX_SCRYPT_MEMORY = 1 << 28  # 128·n·r bytes

NONCE_PREFIX_SIZE = 8
SALT_SIZE = 16
TAG_SIZE_AES = 16
TAG_SIZE_PLAIN = 32
MAX_COUNTER = (1 << 32) - 1

NOTHING_RESTORED = "Nothing was restored."


def damaged_archive(reason: str) -> ArchiveRejected:
    """The refusal of a backup that fails a check; `reason` says which, in plain words."""
    return ArchiveRejected(f"This backup is damaged or was altered ({reason}). {NOTHING_RESTORED}")


def canonical(data: Any) -> bytes:
    """The one JSON form a backup writes (and so the only one it accepts)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def strict_json(raw: bytes, what: str) -> Any:
    """`raw` parsed as ASCII JSON without duplicate keys; `what` names it in the refusal."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(pairs)

    try:
        return json.loads(raw.decode("ascii"), object_pairs_hook=no_duplicates)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise damaged_archive(f"its {what} cannot be read") from None


def bounded_int(value: object, low: int, high: int) -> int | None:
    """`value` if it is an integer (not a bool) within [low, high], else None."""
    return value if type(value) is int and low <= value <= high else None


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
        body = canonical(data)
        return MAGIC + struct.pack(">I", len(body)) + body

    @classmethod
    def read(cls, raw: IO[bytes]) -> tuple[Header, bytes]:
        """The header at the start of `raw`, and its exact bytes."""
        start = raw.read(len(MAGIC) + 4)
        if len(start) < len(MAGIC) + 4 or not start.startswith(MAGIC):
            raise ArchiveRejected("This file is not a carebinder backup. Check the file name.")
        (length,) = struct.unpack(">I", start[len(MAGIC) :])
        if length > MAX_HEADER:
            raise damaged_archive("its header is too long")
        body = raw.read(length)
        if len(body) != length:
            raise damaged_archive("it is cut short")
        data = strict_json(body, "header")
        if not isinstance(data, dict):
            raise damaged_archive("its header cannot be read")
        check_format(data.get("format"))
        header = cls._from_dict(data)
        if header.encode() != start + body:
            raise damaged_archive("its header is not in the expected form")
        return header, start + body

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Header:
        chunk_size = bounded_int(data.get("chunk_size"), MIN_CHUNK, MAX_CHUNK)
        if chunk_size is None:
            raise damaged_archive("its header has an impossible chunk size")
        try:
            prefix = bytes.fromhex(str(data.get("nonce_prefix")))
        except ValueError:
            raise damaged_archive("its header cannot be read") from None
        if len(prefix) != NONCE_PREFIX_SIZE:
            raise damaged_archive("its header cannot be read")
        cipher = data.get("cipher")
        if cipher == CIPHER_NONE:
            return cls(chunk_size, prefix)
        kdf = data.get("kdf")
        if cipher != CIPHER_AES or not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
            raise damaged_archive("it uses an unknown kind of encryption")
        n, r, p = (
            bounded_int(kdf.get("n"), 2, 1 << 30),
            bounded_int(kdf.get("r"), 1, 64),
            bounded_int(kdf.get("p"), 1, 16),
        )
        if n is None or r is None or p is None or n & (n - 1) or 128 * n * r > MAX_SCRYPT_MEMORY:
            raise damaged_archive("its password settings are out of range")
        try:
            salt = bytes.fromhex(str(kdf.get("salt")))
        except ValueError:
            raise damaged_archive("its header cannot be read") from None
        if not SALT_SIZE <= len(salt) <= 64:
            raise damaged_archive("its header cannot be read")
        return cls(chunk_size, prefix, cipher, salt, (n, r, p))


def made_by_newer() -> SchemaTooNew:
    """The refusal of a backup whose format or schema this carebinder does not know yet."""
    return SchemaTooNew(
        "This backup was made by a newer carebinder. Update carebinder to restore it."
    )


def check_format(value: object) -> None:
    """Refuse any format but FORMAT: a newer one is not damage, so it says to update."""
    if type(value) is int and value > FORMAT:
        raise made_by_newer()
    if value != FORMAT:
        raise damaged_archive("its format version is unknown")


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
        raise damaged_archive("its password settings cannot be used") from None


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
            raise damaged_archive("it is cut short")
        chunk = self._seal.open(self._counter, last, frame)
        if chunk is None:
            raise self._failure(frame, last)
        self._counter += 1
        if last:
            self._done = True
        return chunk

    def _failure(self, frame: bytes, last: bool) -> ArchiveRejected:
        if last and self._seal.open(self._counter, False, frame) is not None:
            return damaged_archive("it is cut short")
        if self._counter == 0 and self.header.encrypted:
            return ArchiveRejected(f"Wrong password or damaged archive. {NOTHING_RESTORED}")
        return damaged_archive("part of it fails its check")


def _unsupported(operation: str) -> OSError:
    return OSError(errno.EOPNOTSUPP, f"a sealed stream does not support {operation}")
