"""A navigator's binder: 500 patients x 50 records, against a binder of one patient.

Run: make bench-patients   (or .venv/bin/python benchmarks/many_patients.py [--patients N])
On PostgreSQL: .ci/postgres.sh make bench-patients-postgres   (or --server URL: each binder
gets a schema of its own in that database, dropped at the end)

Every patient has the same binder (5 doctors, 50 records each with a PDF, 2 opinions, a
planned visit bringing 10 records, 5 questions, 2 materials). The commands a navigator
runs are timed as whole commands (median of --runs) on the last patient of the big binder
and on the only patient of the small one; the goal is at most 1.2x. The two binders' runs
alternate (small, big, then big, small, ...), so a load that comes and goes on the machine
weighs on both sides of a ratio alike; their CPU time (the command and its sandbox child,
not a database server's) is shown as a ratio too, as a busy machine sways it less than
the wall time. Each command is also run in-process with every SQL
statement counted and timed, so an N+1 pattern cannot hide (the counts must be the same in
both binders) and the database's share of a command shows apart from the rest ("db": the
statements' time, median of --sql-runs).

On PostgreSQL the binders are vacuumed and analyzed once built, as autovacuum does to any
database within about a minute of a bulk write: without it the planner has no statistics
for the freshly filled tables, and autovacuum would catch up at some moment in the middle
of the timings.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert

from carebinder import config
from carebinder.choices import (
    AppointmentStatus,
    Coverage,
    MaterialKind,
    MaterialStatus,
    Purpose,
    RecordKind,
)
from carebinder.db import open_binder, session_scope
from carebinder.models import (
    Appointment,
    Doctor,
    File,
    Material,
    Opinion,
    Patient,
    Question,
    Record,
    appointment_record,
    opinion_record,
)
from carebinder.store import Store

DOCTORS, RECORDS, OPINIONS, BROUGHT, QUESTIONS, MATERIALS = 5, 50, 2, 10, 5, 2
GOAL = 1.2


def make_pdfs(folder: Path) -> list[Path]:
    from reportlab.pdfgen import canvas

    paths = []
    for number in range(RECORDS):
        path = folder / f"report-{number}.pdf"
        pdf = canvas.Canvas(str(path))
        pdf.drawString(72, 720, f"Report {number}: findings, impression, recommendations.")
        pdf.showPage()
        pdf.save()
        paths.append(path)
    return paths


def build(home: Path, url: str | None, patients: int, pdfs: list[Path]) -> None:
    """`patients` identical binders, written in bulk (the timing is of reading, not adding)."""
    settings = config.resolve(home=home, database_url=url, environ={})
    engine = open_binder(settings, create=True)
    store = Store(settings.store_dir)
    blobs = [store.put(path) for path in pdfs]
    now = datetime.now(UTC)
    visit = now + timedelta(days=10)
    kinds = list(RecordKind)
    rows: dict[Any, list[dict[str, Any]]] = {}

    def add(table: Any, **values: Any) -> None:
        rows.setdefault(table, []).append(values)

    for p in range(1, patients + 1):
        add(Patient, id=p, name=f"Patient {p:04}", born=date(1950 + p % 40, 1 + p % 12, 1))
        first_doctor = (p - 1) * DOCTORS + 1
        for d in range(DOCTORS):
            add(Doctor, id=first_doctor + d, patient_id=p, name=f"Dr. Doctor {d}",
                specialty="Oncology", institution=f"Hospital {d}")  # fmt: skip
        first_record = (p - 1) * RECORDS + 1
        for r in range(RECORDS):
            ident = first_record + r
            add(Record, id=ident, patient_id=p, kind=kinds[r % len(kinds)],
                title=f"Report {r}", date=date(2026, 1, 1) + timedelta(days=r),
                doctor_id=first_doctor + r % DOCTORS)  # fmt: skip
            blob = blobs[r]
            add(File, id=ident, record_id=ident, original_name=f"report-{r}.pdf",
                media_type="application/pdf", size=blob.size, page_count=1,
                sha256=blob.sha256, has_text=True, text=f"Report {r} findings")  # fmt: skip
        for o in range(OPINIONS):
            ident = (p - 1) * OPINIONS + o + 1
            add(Opinion, id=ident, patient_id=p, doctor_id=first_doctor + o,
                diagnosis="Invasive ductal carcinoma", stage=f"II{'AB'[o]}",
                date=date(2026, 3, 1 + o))  # fmt: skip
            add(opinion_record, opinion_id=ident, record_id=first_record + o)
        add(Appointment, id=p, patient_id=p, doctor_id=first_doctor + 2, starts_at=visit,
            time_zone="America/New_York", purpose=Purpose.SECOND_OPINION, staff_told=True,
            status=AppointmentStatus.PLANNED, coverage=Coverage.CONFIRMED)  # fmt: skip
        for r in range(BROUGHT):
            add(appointment_record, appointment_id=p, record_id=first_record + r)
        for q in range(QUESTIONS):
            add(Question, patient_id=p, appointment_id=p, text=f"Question {q}?")
        for m in range(MATERIALS):
            add(Material, patient_id=p, kind=list(MaterialKind)[m], description=f"Item {m}",
                status=MaterialStatus.REQUESTED, requested_on=date(2026, 3, 1))  # fmt: skip
    with session_scope(engine, write=True) as s:
        for table, values in rows.items():
            s.execute(insert(table), values)
    engine.dispose()


@contextmanager
def schemas(server: str | None) -> Iterator[list[str | None]]:
    """The two binders' database URLs: None (a SQLite file in each home), or a schema each
    in the `server` database, dropped afterwards."""
    if server is None:
        yield [None, None]
        return
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    names = ["bench_one_patient", "bench_many_patients"]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    try:
        yield [
            admin.url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
                hide_password=False
            )
            for name in names
        ]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.dispose()


def settle(server: str) -> None:
    """VACUUM ANALYZE the database, as autovacuum would soon after the bulk build."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    engine.dispose()


def run_ms(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one run (CPU: the command and its sandbox child; not
    a database server's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu * 1000


def median_ms(
    commands: list[tuple[list[str], dict[str, str]]], runs: int
) -> list[tuple[float, float]]:
    """The median wall and CPU time of each command, their runs alternating (in turn, and
    in the reverse order every other round, so neither always runs first)."""
    for command, env in commands:
        run_ms(command, env)  # warm the caches
    timings: list[list[tuple[float, float]]] = [[] for _ in commands]
    for round_ in range(runs):
        order = list(enumerate(commands))
        for i, (command, env) in order if round_ % 2 == 0 else reversed(order):
            timings[i].append(run_ms(command, env))
    return [
        (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for t in timings
    ]


def statements(env: dict[str, str], args: list[str], runs: int) -> tuple[int, float]:
    """How many SQL statements the command runs, and their time in ms (median of `runs`),
    in this process, through the real CLI."""
    from typer.testing import CliRunner

    from carebinder.cli import app

    counts: list[int] = []
    times: list[float] = []
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(*_: Any) -> None:
        counts[-1] += 1
        times[-1] += time.perf_counter() - started.pop()

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        for _ in range(runs):
            counts.append(0)
            times.append(0.0)
            result = CliRunner().invoke(app, args, env=env)
            if result.exit_code != 0:
                raise SystemExit(f"{args} failed: {result.output}")
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
    if len(set(counts)) != 1:
        raise SystemExit(f"{args} ran {counts} statements in turn")
    return counts[0], statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sql-runs", type=int, default=3)
    parser.add_argument(
        "--server",
        metavar="URL",
        default=os.environ.get("CAREBINDER_TEST_DATABASE_URL"),
        help="a PostgreSQL database to build the binders in (default: SQLite files;"
        " .ci/postgres.sh sets CAREBINDER_TEST_DATABASE_URL)",
    )
    options = parser.parse_args()
    program = str(Path(sys.executable).with_name("carebinder"))
    with tempfile.TemporaryDirectory() as folder, schemas(options.server) as urls:
        work = Path(folder)
        pdfs = make_pdfs(work)
        homes = {"one patient": (work / "small", 1), "many": (work / "big", options.patients)}
        started = time.perf_counter()
        for (home, patients), url in zip(homes.values(), urls, strict=True):
            build(home, url, patients, pdfs)
        where = "PostgreSQL" if options.server else "SQLite"
        if options.server:
            settle(options.server)
            where += ", vacuumed and analyzed"
        print(
            f"Built binders of 1 and {options.patients} patients x {RECORDS} records"
            f" on {where} in {time.perf_counter() - started:.1f} s"
        )
        binders = []
        for (home, patients), url in zip(homes.values(), urls, strict=True):
            env = {**os.environ, config.HOME_ENV: str(home)}
            env.pop(config.DATABASE_ENV, None)
            if url is not None:
                env[config.DATABASE_ENV] = url
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            chosen = str(patients)  # the newest patient: the end of every index
            out = work / f"packet-{patients}.pdf"
            commands = {
                "patient use (switch)": ["patient", "use", chosen],
                "doctor list": ["--patient", chosen, "doctor", "list"],
                "record list": ["--patient", chosen, "record", "list"],
                "appointment list": ["--patient", chosen, "appointment", "list"],
                "checklist": ["--patient", chosen, "checklist", chosen],
                "search": ["--patient", chosen, "search", "findings"],
                "packet": ["--patient", chosen, "packet", chosen, "-o", str(out), "--force"],
                "patient list": ["patient", "list"],
            }
            binders.append((env, commands))
        print(
            f"{'command':<22} {'1 patient':>24} {f'{options.patients} patients':>25}  ratio (cpu)"
            f"  (median of {options.runs} alternating runs; db: median of {options.sql_runs})"
        )
        for name in binders[0][1]:
            (small, small_cpu), (big, big_cpu) = median_ms(
                [([program, *c[name]], env) for env, c in binders], options.runs
            )
            (small_q, small_db), (big_q, big_db) = (
                statements(env, c[name], options.sql_runs) for env, c in binders
            )
            ratio = big / small
            verdict = "ok" if ratio <= GOAL else f"over {GOAL}x"
            if name == "patient list":
                verdict = "lists every patient: grows with them by design"
            print(
                f"{name:<22} {small:7.0f} ms {small_q:2} q {small_db:5.1f} db"
                f" {big:8.0f} ms {big_q:2} q {big_db:5.1f} db  {ratio:4.2f}x"
                f" (cpu {big_cpu / small_cpu:4.2f}x) {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()
