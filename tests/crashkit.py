"""Shared by the crash tests and the crash stress script: run a write command in a child
process, kill it at a chosen point or time, and check the binder afterwards."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from carebinder.faults import ENV


def run(home: Path, *args: str, fault: str | None = None, kill_after: float | None = None) -> int:
    """Run `carebinder ARGS` in a child; returns its exit code (-9 when killed)."""
    env = {**os.environ, "CAREBINDER_HOME": str(home)}
    env.pop(ENV, None)
    if fault:
        env[ENV] = fault
    child = subprocess.Popen(
        [sys.executable, "-m", "carebinder", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if kill_after is not None:
        time.sleep(kill_after)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=120)
    run.last_stderr = err.decode()  # type: ignore[attr-defined]
    return child.returncode


@dataclass
class State:
    """What a check of the binder found."""

    rows: dict[str, list[tuple[object, ...]]]
    problems: list[str] = field(default_factory=list)
    orphans: int = 0
    temporary: int = 0


def check(home: Path) -> State:
    """Integrity of the database, and of every blob a row names. Orphans and temporary
    files are counted, not problems: `verify --repair` removes them.

    The binder is the one the environment names with `home` (on PostgreSQL, the test's
    schema); it is read through SQLAlchemy. SQLite's own checks run on SQLite; on a server,
    `verify` below checks that its foreign keys are in force."""
    from carebinder import config, verify

    settings = config.resolve(home=home)
    engine = verify.open_for_check(settings)
    try:
        with engine.connect() as db:
            problems = []
            if engine.dialect.name == "sqlite":
                (result,) = db.exec_driver_sql("PRAGMA integrity_check").one()
                if result != "ok":
                    problems.append(f"integrity: {result}")
                if db.exec_driver_sql("PRAGMA foreign_key_check").all():
                    problems.append("foreign keys")
            rows = {
                table: [
                    tuple(row) for row in db.execute(text(f"SELECT * FROM {table} ORDER BY id"))
                ]
                for table in ("record", "file")
            }
            named = set(db.execute(text("SELECT DISTINCT sha256 FROM file")).scalars())
            records_with_files = set(db.execute(text("SELECT record_id FROM file")).scalars())
            titles = {i: t for i, t in db.execute(text("SELECT id, title FROM record"))}
        report = verify.check(engine, settings, min_age=0)
    finally:
        engine.dispose()
    store = settings.store_dir
    for sha in named:
        blob = store / sha[:2] / sha[2:]
        if not blob.is_file():
            problems.append(f"missing blob {sha[:12]}")
        elif hashlib.sha256(blob.read_bytes()).hexdigest() != sha:
            problems.append(f"damaged blob {sha[:12]}")
    for record, title in titles.items():
        # Every record these tests add carries a file: a record without its file row is
        # a half-written command.
        if str(title).startswith("crash-") and record not in records_with_files:
            problems.append(f"record #{record} without its file")
    # And what `carebinder verify` says: anything but leftovers --repair removes is a problem.
    problems += [
        f"verify: {p.kind}" for p in report.problems if p.kind not in ("orphan_blob", "temp_file")
    ]
    state = State(rows=rows, problems=problems)
    for path in store.rglob("*") if store.exists() else []:
        if path.is_file():
            if path.name.startswith(".tmp-"):
                state.temporary += 1
            elif path.parent.name + path.name not in named:
                state.orphans += 1
    return state
