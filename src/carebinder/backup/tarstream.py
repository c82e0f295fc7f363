"""The tar inside a backup, read strictly: one member at a time, straight from the sealed
stream, with nothing written to disk and nothing interpreted that could rename a member."""

from __future__ import annotations

import re
import tarfile

from carebinder.backup.manifest import MEMBER_NAME
from carebinder.backup.seal import SealedReader, damaged_archive

COPY_CHUNK = 1 << 20
OCTAL = re.compile(rb"[0-7]+")
BLOCK = tarfile.BLOCKSIZE


class TarReader:
    """A strict reader of the tar inside a backup.

    It accepts exactly what `create` writes: regular files in plain ustar/GNU headers,
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
            raise damaged_archive("its contents are not in the expected form")
        block = self._exact(BLOCK)
        if not block.strip(b"\0"):
            if not self.stream.drain():
                raise damaged_archive("it holds unexpected data after its contents")
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
                raise damaged_archive("it is cut short")
            parts.append(data)
            size -= len(data)
        return b"".join(parts)


def _parse_header(block: bytes) -> tuple[str, int]:
    """Name and size from one tar header block, or a refusal."""
    checksum = _tar_number(block[148:156])
    if checksum != sum(block[:148]) + 8 * ord(" ") + sum(block[156:]):
        raise damaged_archive("its contents are not in the expected form")
    if block[257:263] not in (b"ustar\0", b"ustar "):
        raise damaged_archive("its contents are not in the expected form")
    if block[156:157] != tarfile.REGTYPE:
        raise damaged_archive("it holds a link, a folder or a device, which a backup never holds")
    name, _, rest = block[:100].partition(b"\0")
    if rest.strip(b"\0") or block[157:257].strip(b"\0") or block[345:].strip(b"\0"):
        raise damaged_archive("it holds a file with an unexpected name")
    text = name.decode("latin-1")
    if not MEMBER_NAME.fullmatch(text):
        raise damaged_archive("it holds a file with an unexpected name")
    return text, _tar_number(block[124:136])


def _tar_number(field: bytes) -> int:
    """An octal tar number, or GNU's base-256 form for large sizes."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    digits = field.split(b"\0", 1)[0].strip(b" ")
    if not OCTAL.fullmatch(digits):
        raise damaged_archive("its contents are not in the expected form")
    return int(digits, 8)
