"""The ways one blob in the store goes bad, done for real on the filesystem.

Commands that read the store (export, backup, reading words, verify) must leave that one
file out and do the rest; the tests damage one blob each of these ways and check.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# How, and what the store then says of it (`carebinder verify`'s name for the problem).
DAMAGE = {
    "missing": "blob_missing",
    "flipped bit": "blob_damaged",
    "cut short": "blob_damaged",
    "folder": "blob_not_a_file",
    "fifo": "blob_not_a_file",
    "link": "blob_not_a_file",
    "unreadable": "blob_unreadable",
}
WAYS = pytest.mark.parametrize("how", list(DAMAGE))


def damage(blob: Path, how: str) -> None:
    """Damage `blob` in place: `how` is one of DAMAGE."""
    if how == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode: unreadable is checked as a user")
    content = blob.read_bytes()
    blob.chmod(0o600)
    if how in ("flipped bit", "cut short"):
        middle = len(content) // 2
        changed = content[:middle] + bytes([content[middle] ^ 1]) + content[middle + 1 :]
        blob.write_bytes(changed if how == "flipped bit" else content[:middle])
        return
    if how == "unreadable":
        blob.chmod(0o000)
        return
    blob.unlink()
    if how == "folder":
        blob.mkdir()
    elif how == "fifo":
        os.mkfifo(blob)  # a reader that opened it without care would wait forever
    elif how == "link":
        # To a good copy: a reader that followed links would not notice.
        copy = blob.parents[3] / f"copy-of-{blob.name}"  # beside the home
        copy.write_bytes(content)
        blob.symlink_to(copy)
