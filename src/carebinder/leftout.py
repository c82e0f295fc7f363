"""Files a command left out so that it could do the rest.

One bad file (missing from the store, damaged, unreadable, an attachment that cannot be
decoded) never stops a whole export, backup, import or reading of words: that file is left
out with a one-line reason, the command does everything else and exits 0, and says at the
end what it left out (on stderr, and as data in its JSON). `carebinder verify` is the
command that exits 1 for the same damage: its job is to find it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from carebinder.errors import BlobUnusable

# What to do about a stored file that cannot be used: verify says which problem it is and
# how to solve it (restore it from a backup, attach the original again, fix its owner).
SEE_VERIFY = "`carebinder verify` says what to do."


@dataclass(frozen=True)
class LeftOut:
    """One file left out, and why."""

    name: str  # as the person knows it: the file's name, or its place in the store
    reason: str  # e.g. "it is missing from the binder's file store"
    fix: str  # what to do, one sentence
    # What went wrong: for a stored file, as `carebinder verify` names it (`blob_damaged`,
    # `blob_missing`…); `attachment` for a file of an imported bundle.
    kind: str
    record: int | None = None
    file: int | None = None

    @classmethod
    def stored(
        cls, error: BlobUnusable, name: str, *, record: int | None, file: int | None
    ) -> LeftOut:
        """A file of the binder whose bytes in the store cannot be used."""
        return cls(name, f"it {error.reason}", SEE_VERIFY, error.kind, record, file)

    @property
    def message(self) -> str:
        """e.g. `Left out scan.pdf (file #2 of record #1): it is missing from …. Fix.`"""
        if self.file is not None and self.record is not None:
            where = f" (file #{self.file} of record #{self.record})"
        elif self.record is not None:
            where = f" (record #{self.record})"
        else:
            where = ""
        return f"Left out {self.name}{where}: {self.reason}. {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "record": self.record,
            "file": self.file,
            "kind": self.kind,
            "reason": self.reason,
            "message": self.message,
        }


def report_lines(left_out: Sequence[LeftOut], rest: str) -> list[str]:
    """The end of a command that left files out: one line for each (what and why, what to
    do), then how many and `rest` (what was done all the same). None when nothing was."""
    from carebinder.words import plural

    lines = [item.message for item in left_out]
    if left_out:
        lines.append(f"{plural(len(left_out), 'file')} left out (see above); {rest}")
    return lines
