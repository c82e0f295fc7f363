"""What `carebinder verify` found: problems, counts, and their JSON."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carebinder import config

# Long enough for any attach to finish writing and commit; short enough to clean up today.
# Read at call time (tests set it to 0).
DEFAULT_MIN_AGE = 10 * 60.0

LOOSE = 0o077  # group and other bits
CHECK_PERMISSIONS = os.name == "posix"

# Problems that make the database's list of files untrustworthy: while any is present,
# a blob that no row references may still be needed, so it is not removed.
DATABASE_KINDS = frozenset(
    {
        "database_unreadable",
        "database_damaged",
        "foreign_key_violation",
        "foreign_key_unenforced",
        "schema_missing",
        "schema_outdated",
        "schema_unknown",
    }
)


@dataclass(frozen=True)
class Problem:
    kind: str
    # One line: what is wrong and what to do. Ids and paths only, never patient data.
    message: str
    fixable: bool = False
    path: str | None = None  # relative to the home (absolute when outside it)
    patient: int | None = None
    record: int | None = None
    file: int | None = None
    table: str | None = None
    row: int | None = None
    detail: str | None = None
    # The file itself, for `repair` (`path` is for people: odd characters are escaped).
    location: Path | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Checked:
    records: int = 0
    files: int = 0
    blobs: int = 0
    bytes: int = 0
    # Temporary files and unreferenced blobs younger than the threshold, left alone.
    in_progress: int = 0


@dataclass(frozen=True)
class Report:
    checked: Checked
    problems: tuple[Problem, ...]
    # Checks that do not apply to this binder's database (SQLite's own, on PostgreSQL).
    skipped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def fixable(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.fixable)


@dataclass(frozen=True)
class Repaired:
    removed: tuple[str, ...] = ()
    tightened: tuple[str, ...] = ()
    # Fixable problems left alone: a row now uses the blob, the file is new again, or the
    # change failed. The second check reports what remains.
    skipped: tuple[str, ...] = ()


# --- paths ----------------------------------------------------------------------------------


def relative_path(settings: config.Settings, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        relative = path.relative_to(settings.home)
    except ValueError:
        return printable(os.fsdecode(path))
    return printable(relative.as_posix() or ".")


def printable(name: str) -> str:
    """A path safe to print and to put in JSON: odd bytes and control characters escaped."""
    name = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)


# --- JSON -----------------------------------------------------------------------------------


def to_json(report: Report, repaired: Repaired | None = None) -> dict[str, Any]:
    """The stable document `verify --json` prints."""
    return {
        "ok": report.ok,
        "checked": {
            "records": report.checked.records,
            "files": report.checked.files,
            "blobs": report.checked.blobs,
            "bytes": report.checked.bytes,
            "in_progress": report.checked.in_progress,
        },
        "skipped": list(report.skipped),
        "problems": [
            {
                "kind": p.kind,
                "message": p.message,
                "fixable": p.fixable,
                "path": p.path,
                "patient": p.patient,
                "record": p.record,
                "file": p.file,
                "table": p.table,
                "row": p.row,
                "detail": p.detail,
            }
            for p in report.problems
        ],
        "repaired": None
        if repaired is None
        else {
            "removed": list(repaired.removed),
            "tightened": list(repaired.tightened),
            "skipped": list(repaired.skipped),
        },
    }


# --- the report in words, as both faces say it ------------------------------------------------


def repair_lines(repaired: Repaired) -> list[str]:
    """What `--repair` did, one line."""
    from carebinder.words import plural

    removed, tightened = len(repaired.removed), len(repaired.tightened)
    if not removed and not tightened:
        return ["Nothing to repair."]
    return [
        f"Repaired: removed {plural(removed, 'leftover file')},"
        f" made {plural(tightened, 'item')} private."
    ]


def closing_lines(report: Report, repaired: Repaired | None) -> list[str]:
    """What is said after the problems: checks skipped, files left alone, the verdict."""
    from carebinder.words import plural

    checked = report.checked
    counts = f"{plural(checked.records, 'record')}, {plural(checked.files, 'file')} checked"
    lines = []
    if report.skipped:
        lines.append(
            "Skipped SQLite's integrity and foreign-key checks, which do not apply: the"
            " database server checks its own data and enforces foreign keys (checked: that"
            " every foreign key is there and in force)."
        )
    if checked.in_progress:
        lines.append(
            f"Left alone {plural(checked.in_progress, 'new file')} that another carebinder"
            " command may still be writing."
        )
    if report.ok:
        lines.append(f"Binder OK: {counts}.")
        return lines
    fixable = len(report.fixable)
    summary = f"Found {plural(len(report.problems), 'problem')} ({counts})."
    if fixable and repaired is None:
        summary += f" `carebinder verify --repair` can fix {fixable} of them."
    lines.append(summary)
    return lines
