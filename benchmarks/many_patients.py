"""A navigator's binder: 500 patients x 50 records, against a binder of one patient.

Run: make bench-patients   (or .venv/bin/python benchmarks/many_patients.py [--patients N])
On PostgreSQL: .ci/postgres.sh make bench-patients-postgres   (or --server URL: each binder
gets a schema of its own in that database, dropped at the end)

Every patient has the same binder (5 doctors, 50 records each with a PDF, 2 opinions, a
planned visit bringing 10 records, 5 questions, 2 materials). The commands a navigator
runs are timed as whole commands (median of --runs) on the last patient of the big binder
and on the only patient of the small one; the goal is at most 1.2x. Each command is also
run once in-process with every SQL statement counted, so an N+1 pattern cannot hide: the
counts must be the same in both binders.
"""

from __future__ import annotations

import argparse
import os
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


def median_ms(command: list[str], env: dict[str, str], runs: int) -> float:
    subprocess.run(command, env=env, check=True, capture_output=True)  # warm the caches
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def statements(env: dict[str, str], args: list[str]) -> int:
    """How many SQL statements the command runs (in this process, through the real CLI)."""
    from typer.testing import CliRunner

    from carebinder.cli import app

    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    event.listen(Engine, "before_cursor_execute", counted)
    try:
        result = CliRunner().invoke(app, args, env=env)
    finally:
        event.remove(Engine, "before_cursor_execute", counted)
    if result.exit_code != 0:
        raise SystemExit(f"{args} failed: {result.output}")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
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
        print(
            f"Built binders of 1 and {options.patients} patients x {RECORDS} records"
            f" on {where} in {time.perf_counter() - started:.1f} s"
        )
        rows = []
        for (label, (home, patients)), url in zip(homes.items(), urls, strict=True):
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
            for name, args in commands.items():
                wall = median_ms([program, *args], env, options.runs)
                rows.append((name, label, wall, statements(env, args)))
        print(f"{'command':<22} {'1 patient':>12} {f'{options.patients} patients':>14}  ratio")
        for name in dict.fromkeys(r[0] for r in rows):
            small, big = (r for r in rows if r[0] == name)
            ratio = big[2] / small[2]
            verdict = "ok" if ratio <= GOAL else f"over {GOAL}x"
            if name == "patient list":
                verdict = "lists every patient: grows with them by design"
            print(
                f"{name:<22} {small[2]:7.0f} ms {small[3]:2} q {big[2]:8.0f} ms {big[3]:2} q"
                f"  {ratio:4.2f}x {verdict}"
            )


if __name__ == "__main__":
    main()
