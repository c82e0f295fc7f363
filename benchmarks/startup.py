"""How fast the everyday commands start, on a binder with 1,000 records.

Run: make bench   (or .venv/bin/python benchmarks/startup.py [--runs N] [--records N])

Prints the median wall time and CPU time (user + system of the child process) of
`carebinder --help`, `--version`, `doctor list` and `record list`, with `python -c pass`
and two floors measured in the same run (`import typer`, `import sqlalchemy.orm`), and
checks issue 6's goals against those floors: `--help` at most 1.3 x (typer floor + 90 ms),
`doctor list` at most 1.25 x the ORM floor. The runs are interleaved (one of each in turn),
so a machine that gets busier halfway slows every row alike.

One more yardstick, for information: the ORM floor without garbage collection (collector
off, objects frozen before exit), as the console script runs its start-up. Plain `import
sqlalchemy.orm` spends about 15 ms in collections while importing and 50 ms in the final
collection at exit, which carebinder's commands no longer do; the ratio to this yardstick
is what is left of carebinder's own start-up cost.
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
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert

from carebinder import config
from carebinder.choices import RecordKind
from carebinder.db import open_binder, session_scope
from carebinder.models import Record
from carebinder.services import doctors, patients


def build_binder(home: Path, records: int) -> None:
    settings = config.resolve(home=home, environ={})
    engine = open_binder(settings, create=True)
    with session_scope(engine) as s:
        patient = patients.add_patient(s, name="Bench Patient", born=date(1960, 1, 1))
        team = [
            doctors.add_doctor(s, patient.id, name=f"Dr. Bench {i}", specialty="Oncology")
            for i in range(12)
        ]
        kinds = list(RecordKind)
        s.execute(
            insert(Record),
            [
                {
                    "patient_id": patient.id,
                    "kind": kinds[i % len(kinds)],
                    "title": f"Record {i}",
                    "date": date(2024, 1, 1) + timedelta(days=i % 700),
                    "doctor_id": team[i % len(team)].id,
                }
                for i in range(records)
            ],
        )
    engine.dispose()


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def medians(
    rows: list[tuple[str, list[str]]], env: dict[str, str], runs: int
) -> dict[str, tuple[float, float]]:
    """Median wall and CPU milliseconds of each row, runs interleaved."""
    for _, command in rows:
        subprocess.run(command, env=env, check=True, capture_output=True)  # warm the caches
    walls: dict[str, list[float]] = {label: [] for label, _ in rows}
    cpus: dict[str, list[float]] = {label: [] for label, _ in rows}
    for _ in range(runs):
        for label, command in rows:
            wall, cpu = run_once(command, env)
            walls[label].append(wall)
            cpus[label].append(cpu)
    return {
        label: (statistics.median(walls[label]), statistics.median(cpus[label]))
        for label, _ in rows
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()

    program = str(Path(sys.executable).with_name("carebinder"))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_binder(home, args.records)
        env = {**os.environ, config.HOME_ENV: str(home)}
        env.pop(config.DATABASE_ENV, None)
        # Measure what a user sees: Python caches compiled modules on a normal machine.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        no_gc = "import gc; gc.disable(); import sqlalchemy.orm; gc.freeze()"
        rows = [
            ("python -c pass (yardstick)", [sys.executable, "-c", "pass"]),
            ("floor: import typer", [sys.executable, "-c", "import typer"]),
            ("floor: import sqlalchemy.orm", [sys.executable, "-c", "import sqlalchemy.orm"]),
            ("  the same, no collection", [sys.executable, "-c", no_gc]),
            ("carebinder --help", [program, "--help"]),
            ("carebinder --version", [program, "--version"]),
            ("carebinder doctor list", [program, "doctor", "list"]),
            ("carebinder record list", [program, "record", "list"]),
        ]
        print(f"{args.records} records, median of {args.runs} interleaved runs")
        print(f"  {'':<30} {'wall':>7}    {'CPU':>7}")
        found = medians(rows, env, args.runs)
        for label, _ in rows:
            wall, cpu = found[label]
            print(f"  {label:<30} {wall:7.0f} ms {cpu:7.0f} ms")
        # Issue 6's goals, against the floors measured in this same run (wall time).
        help_goal = 1.3 * (found["floor: import typer"][0] + 90)
        list_goal = 1.25 * found["floor: import sqlalchemy.orm"][0]
        for label, goal, rule in (
            ("carebinder --help", help_goal, "1.3 x (typer floor + 90 ms)"),
            ("carebinder --version", help_goal, "1.3 x (typer floor + 90 ms)"),
            ("carebinder doctor list", list_goal, "1.25 x the ORM floor"),
        ):
            verdict = "met" if found[label][0] <= goal else "MISSED"
            print(f"  {label:<30} goal {goal:5.0f} ms ({rule}): {verdict}")
        listing = found["carebinder doctor list"]
        for floor in ("floor: import sqlalchemy.orm", "  the same, no collection"):
            print(
                f"  doctor list / {floor.strip()}: wall {listing[0] / found[floor][0]:.2f} x,"
                f" CPU {listing[1] / found[floor][1]:.2f} x"
            )


if __name__ == "__main__":
    main()
