"""Many processes writing to one binder at once: no 'database is locked', nothing lost.

Each worker process runs real `carebinder` write commands (the Click command built from
the Typer app, in-process, one after another), as several shell loops would.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import text

from carebinder import config
from carebinder.db import make_engine

WORKERS = 8
COMMANDS = 200


def _worker(home: str, worker: int, count: int, pdf: str, queue: multiprocessing.Queue) -> None:
    import typer.main

    from carebinder.cli import app

    command = typer.main.get_command(app)
    failures = []
    for i in range(count):
        name = f"w{worker}-{i}"
        kind = i % 4
        if kind == 0:
            args = ["record", "add", "lab", name, "--file", pdf]
        elif kind == 1:
            args = ["doctor", "add", name]
        elif kind == 2:
            args = ["question", "add", name]
        else:
            args = ["material", "add", "other", name, "--status", "received"]
        stderr = io.StringIO()
        code = 0
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                command.main(["--home", home, "--patient", "1", *args], prog_name="carebinder")
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
        if code != 0 or stderr.getvalue():
            failures.append((name, code, stderr.getvalue()))
    queue.put(failures)


@pytest.mark.parametrize("count", [COMMANDS])
def test_eight_processes_write_at_once_without_locks_or_losses(
    binder, home: Path, settings: config.Settings, make_pdf, count: int
) -> None:
    pdf = make_pdf("shared.pdf")  # the same bytes from every worker: one blob, many rows
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = context.Queue()
    workers = [
        context.Process(target=_worker, args=(str(home), w, count, str(pdf), queue))
        for w in range(WORKERS)
    ]
    for process in workers:
        process.start()
    failures = [item for _ in workers for item in queue.get(timeout=600)]
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert failures == []  # no refusals, no 'database is locked', nothing on stderr

    engine = make_engine(settings.database_url)  # the binder's database, whichever it is
    try:
        with engine.connect() as db:
            counts = {
                table: db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("record", "file", "doctor", "question", "material")
            }
            names = set(db.execute(text("SELECT title FROM record")).scalars())
            blobs = db.execute(text("SELECT count(DISTINCT sha256) FROM file")).scalar_one()
    finally:
        engine.dispose()
    per_kind = WORKERS * count // 4
    expected = {f"w{w}-{i}" for w in range(WORKERS) for i in range(0, count, 4)}
    assert sorted(expected - names) == []  # named, should a record ever go missing
    assert counts == {
        "record": per_kind,
        "file": per_kind,
        "doctor": per_kind,
        "question": per_kind,
        "material": per_kind,
    }
    assert names == {f"w{w}-{i}" for w in range(WORKERS) for i in range(0, count, 4)}
    assert blobs == 1
    stored = [p for p in (home / "files").rglob("*") if p.is_file()]
    assert len(stored) == 1
