"""The tar inside a backup: only regular files under a backup's own names, in plain
headers; links, devices, long names, pax headers and a damaged structure are refused."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.backup.forging import (
    DB,
    EVIL,
    MANIFEST,
    OTHER,
    F,
    Forgery,
    Parts,
    assert_refused,
    blob,
    blob_entry,
    db,
    db_entry,
    fix_checksum,
    forged,
    listed,
    listing,
    patched,
    plus,
    regular,
    special,
    standard,
    tar,
)
from tests.conftest import FILE_BACKUP

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)

LINK, NAME = "a link, a folder or a device", "unexpected name"


def nonzero_padding(p: Parts) -> bytes:
    def change(data: bytearray, info: tarfile.TarInfo) -> None:
        data[info.offset_data + info.size] = ord("x")

    return patched(tar(*standard(p)), p.blob_name, change)


def bad_tar_checksum(p: Parts) -> bytes:
    def change(data: bytearray, info: tarfile.TarInfo) -> None:
        data[info.offset + 20] ^= 0x01

    return patched(tar(*standard(p)), p.blob_name, change)


def not_ustar(p: Parts) -> bytes:
    def change(data: bytearray, info: tarfile.TarInfo) -> None:
        data[info.offset + 257 : info.offset + 263] = b"posix\0"
        fix_checksum(data, info.offset)

    return patched(tar(*standard(p)), p.blob_name, change)


def data_after_the_end(p: Parts) -> bytes:
    return tar(*standard(p))[:-1] + b"x"


FORGERIES = [
    # path traversal, and names that are not a backup's
    F("dotdot", plus(regular("../x", EVIL)), NAME),
    F("absolute", plus(regular("/etc/x", EVIL)), NAME),
    F("backslashes", plus(regular("files\\..\\x", EVIL)), NAME),
    F("dotdot in store", plus(regular("files/ab/../../x", EVIL)), NAME),
    F("dot slash", lambda p: tar(regular("./" + MANIFEST, listed(p)), db(p), blob(p)), NAME),
    F("uppercase blob", lambda p: tar(*standard(p), regular(p.blob_name.upper(), p.blob)), NAME),
    F("short blob name", plus(regular("files/ab/cd", EVIL)), NAME),
    F("unexpected name", plus(regular("notes.txt", EVIL)), NAME),
    F("empty name", plus(regular("", EVIL)), NAME),
    F("nul in name", plus(regular("binder.db\0/../x", EVIL)), NAME),
    F(
        "link name on a file",
        lambda p: tar(
            listing(db_entry(p), blob_entry(p)),
            db(p),
            regular(p.blob_name, p.blob, linkname="/etc/passwd"),
        ),
        NAME,
    ),
    # links, devices and other special entries
    F("symlink", plus(special(OTHER, tarfile.SYMTYPE, "/etc/passwd")), LINK),
    F(
        "symlink first",
        lambda p: tar(special(MANIFEST, tarfile.SYMTYPE, "/etc/x"), *standard(p)),
        LINK,
    ),
    F(
        "symlink as blob",
        lambda p: tar(
            listing(db_entry(p), blob_entry(p)),
            db(p),
            special(p.blob_name, tarfile.SYMTYPE, "../../binder.db"),
        ),
        LINK,
    ),
    F("hardlink", plus(special(OTHER, tarfile.LNKTYPE, DB)), LINK),
    F("character device", plus(special(OTHER, tarfile.CHRTYPE)), LINK),
    F("block device", plus(special(OTHER, tarfile.BLKTYPE)), LINK),
    F("fifo", plus(special(OTHER, tarfile.FIFOTYPE)), LINK),
    F("directory", plus(special("files/ab", tarfile.DIRTYPE)), LINK),
    F("contiguous file", plus(special(OTHER, tarfile.CONTTYPE)), LINK),
    F("gnu sparse", plus(special(OTHER, tarfile.GNUTYPE_SPARSE)), LINK),
    F("gnu long name", plus(regular("files/ab/" + "c" * 200, EVIL)), LINK),
    F(
        "pax path override",
        plus(regular(OTHER, EVIL, pax_headers={"path": "../x"}), format=tarfile.PAX_FORMAT),
        LINK,
    ),
    F("pax global header", plus(format=tarfile.PAX_FORMAT, pax_headers={"comment": "x"}), LINK),
    # the tar structure around the members
    F("nonzero padding", nonzero_padding, "expected form"),
    F("data after the end", data_after_the_end, "unexpected data after"),
    F("bad tar checksum", bad_tar_checksum, "expected form"),
    F("not ustar", not_ustar, "expected form"),
    F("not a tar at all", lambda p: b"hello" * 1000, "expected form"),
]


@forged(FORGERIES)
def test_a_forged_tar_is_refused_before_any_write(
    parts: Parts, tmp_path: Path, forgery: Forgery, password: str | None
) -> None:
    assert_refused(parts, tmp_path, forgery, password)
