"""Check a whole binder (every patient): the database, every blob in the store, permissions.

`check` returns a frozen `Report`; it changes nothing. `repair` acts only on the problems
marked `fixable`: it removes blobs no row references, leftover temporary files, and makes
loose permissions owner-only. It never removes a blob a row references, nor one whose name
is not its hash (that may be the only copy of a file a row needs).

Temporary files and unreferenced blobs younger than `min_age` seconds are left alone and
not reported (only counted): a command still running (`record attach`) may be writing the
temporary file, or have stored the blob and not yet committed its row.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine

from carebinder import config
from carebinder.verify import report as report_module
from carebinder.verify.database import check_database, open_for_check, without_removed_rows
from carebinder.verify.repair import repair
from carebinder.verify.report import DATABASE_KINDS, Checked, Problem, Repaired, Report, to_json
from carebinder.verify.store import check_permissions, check_store

__all__ = [
    "Checked",
    "Problem",
    "Repaired",
    "Report",
    "check",
    "open_for_check",
    "repair",
    "to_json",
]


def check(engine: Engine, settings: config.Settings, *, min_age: float | None = None) -> Report:
    """Check the database, the store and permissions; change nothing."""
    min_age = report_module.DEFAULT_MIN_AGE if min_age is None else min_age
    db = check_database(engine, settings)
    healthy = not any(p.kind in DATABASE_KINDS for p in db.problems)
    store = check_store(settings, db.rows, healthy, min_age, time.time(), db.derived)
    store.problems = without_removed_rows(engine, store.problems)
    problems = [*db.problems, *store.problems, *check_permissions(settings, store.blobs)]
    checked = Checked(
        records=db.records,
        files=len(db.rows or ()),
        blobs=len(store.blobs),
        bytes=store.bytes,
        in_progress=store.in_progress,
    )
    return Report(checked, tuple(problems), db.skipped)
