"""How fast the everyday commands start, on a binder with 1,000 records.

Run: make bench   (or .venv/bin/python benchmarks/startup.py [--runs N] [--records N])

Prints the median wall time of `carebinder --help`, `--version`, `doctor list` and
`record list`, with `python -c pass` and two floors measured in the same run (`import
typer`, `import sqlalchemy.orm`), and checks issue 6's goals against those floors:
`--help` at most 1.3 x (typer floor + 90 ms), `doctor list` at most 1.25 x the ORM floor.
"""

from __future__ import annotations

import argparse
import os
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


def median_ms(command: list[str], env: dict[str, str], runs: int) -> float:
    timings = []
    subprocess.run(command, env=env, check=True, capture_output=True)  # warm the page cache
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


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
        rows = [
            ("python -c pass (yardstick)", [sys.executable, "-c", "pass"]),
            ("floor: import typer", [sys.executable, "-c", "import typer"]),
            ("floor: import sqlalchemy.orm", [sys.executable, "-c", "import sqlalchemy.orm"]),
            ("carebinder --help", [program, "--help"]),
            ("carebinder --version", [program, "--version"]),
            ("carebinder doctor list", [program, "doctor", "list"]),
            ("carebinder record list", [program, "record", "list"]),
        ]
        print(f"{args.records} records, median of {args.runs} runs")
        found = {}
        for label, command in rows:
            found[label] = median_ms(command, env, args.runs)
            print(f"  {label:<30} {found[label]:7.0f} ms")
        # Issue 6's goals, against the floors measured in this same run.
        help_goal = 1.3 * (found["floor: import typer"] + 90)
        list_goal = 1.25 * found["floor: import sqlalchemy.orm"]
        for label, goal, rule in (
            ("carebinder --help", help_goal, "1.3 x (typer floor + 90 ms)"),
            ("carebinder --version", help_goal, "1.3 x (typer floor + 90 ms)"),
            ("carebinder doctor list", list_goal, "1.25 x the ORM floor"),
        ):
            verdict = "met" if found[label] <= goal else "MISSED"
            print(f"  {label:<30} goal {goal:5.0f} ms ({rule}): {verdict}")


if __name__ == "__main__":
    main()
