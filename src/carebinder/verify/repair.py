"""`carebinder verify --repair`: removes leftovers and tightens permissions, nothing else."""

from __future__ import annotations

import functools
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select

from carebinder import config
from carebinder.models import File
from carebinder.store import Store
from carebinder.verify import report as report_module
from carebinder.verify.report import LOOSE, Problem, Repaired, Report
from carebinder.verify.store import file_age, hash_file


def repair(
    engine: Engine, settings: config.Settings, report: Report, *, min_age: float | None = None
) -> Repaired:
    """Fix the report's fixable problems; run `check` again to see what remains."""
    min_age = report_module.DEFAULT_MIN_AGE if min_age is None else min_age
    done = _Done()
    now = time.time()
    for problem in report.fixable:
        path = problem.location
        if path is None:
            continue
        if problem.kind == "temp_file":
            # Old when checked, but a slow writer may have written to it since.
            if file_age(path, now) < min_age:
                done.skipped.append(problem)
            else:
                done.attempt(problem, "removed", functools.partial(path.unlink, missing_ok=True))
        elif problem.kind == "loose_permissions":
            done.attempt(problem, "tightened", functools.partial(_make_private, path))
    orphans = [p for p in report.fixable if p.kind == "orphan_blob" and p.location]
    if orphans:
        _remove_orphans(engine, Store(settings.store_dir), orphans, min_age, done)
    return Repaired(
        tuple(p.path or "" for p in done.removed),
        tuple(p.path or "" for p in done.tightened),
        tuple(p.path or "" for p in done.skipped),
    )


def _make_private(path: Path) -> None:
    path.chmod(stat.S_IMODE(path.lstat().st_mode) & ~LOOSE)


@dataclass
class _Done:
    removed: list[Problem] = field(default_factory=list)
    tightened: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)

    def attempt(self, problem: Problem, outcome: str, action: Callable[[], None]) -> None:
        try:
            action()
        except OSError:
            self.skipped.append(problem)
        else:
            getattr(self, outcome).append(problem)


def _remove_orphans(
    engine: Engine, store: Store, orphans: list[Problem], min_age: float, done: _Done
) -> None:
    by_sha = {p.location.parent.name + p.location.name: p for p in orphans if p.location}
    # Under the write lock no attach can commit a row for one of these blobs between the
    # look-up and the unlink: an attach holds the lock from before it stores the bytes
    # until it commits.
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
        used = set(_referenced(conn, sorted(by_sha)))
        now = time.time()
        for sha, problem in sorted(by_sha.items()):
            path = store.path_for(sha)
            if sha in used or file_age(path, now) < min_age or hash_file(path).sha256 != sha:
                done.skipped.append(problem)
            else:
                done.attempt(problem, "removed", functools.partial(store.remove, sha))


def _referenced(conn: Connection, digests: list[str]) -> Iterator[str]:
    """Those of `digests` some file row references (compared in lower case, as checked)."""
    for start in range(0, len(digests), 500):
        chunk = digests[start : start + 500]
        column = func.lower(File.sha256)
        yield from conn.execute(select(column).where(column.in_(chunk))).scalars()
