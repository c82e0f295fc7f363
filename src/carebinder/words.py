"""Small pieces of the sentences carebinder says, written once."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and `noun`, in the plural unless the count is 1: "1 file", "3 files".
    `many` is the plural when it is not `noun` + "s" ("1 entry", "2 entries")."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def human_size(size: int) -> str:
    """A file size as people read it: `1.4 KB`, `12.0 MB`, `512 bytes`."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
