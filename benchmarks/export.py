"""How long `export` (JSON and CSV) and `calendar` take on a large binder.

Run: make bench-export   (or .venv/bin/python benchmarks/export.py [--runs N] [--records N])

The binder: 1,000 records (one file row each), 40 doctors, 50 opinions citing 5 records
each, 200 appointments in three time zones with 5 records brought each, 1,000 questions
and 30 materials. Prints the median wall time of each command, with `doctor list` on the
same binder as the yardstick (a command that opens the binder and prints a little).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from startup import median_ms  # benchmarks/ is on the path when this script runs

from carebinder import config
from carebinder.choices import MaterialKind, Purpose, RecordKind
from carebinder.db import open_binder, session_scope
from carebinder.models import (
    Appointment,
    File,
    Material,
    Opinion,
    Question,
    Record,
    appointment_record,
    opinion_record,
)
from carebinder.services import doctors, patients

ZONES = ("America/New_York", "Europe/Paris", "Asia/Kolkata")


def build_binder(home: Path, records: int) -> dict[str, int]:
    settings = config.resolve(home=home, environ={})
    engine = open_binder(settings, create=True)
    appointments, opinions, questions = 200, 50, 1000
    with session_scope(engine) as s:
        patient = patients.add_patient(s, name="Bench Patient", born=date(1960, 1, 1))
        pid = patient.id
        team = [
            doctors.add_doctor(s, pid, name=f"Dr. Bench {i}", specialty="Oncology").id
            for i in range(40)
        ]
        kinds = list(RecordKind)
        s.execute(
            insert(Record),
            [
                {
                    "patient_id": pid,
                    "kind": kinds[i % len(kinds)],
                    "title": f"Record {i}",
                    "date": date(2024, 1, 1) + timedelta(days=i % 700),
                    "doctor_id": team[i % len(team)],
                    "notes": f"Notes of record {i},\nover two lines.",
                }
                for i in range(records)
            ],
        )
        s.execute(
            insert(File),
            [
                {
                    "record_id": i + 1,
                    "original_name": f"report-{i}.pdf",
                    "media_type": "application/pdf",
                    "size": 100_000 + i,
                    "page_count": 1 + i % 9,
                    "sha256": f"{i:064x}",
                }
                for i in range(records)
            ],
        )
        s.execute(
            insert(Opinion),
            [
                {"patient_id": pid, "doctor_id": team[i % len(team)], "diagnosis": f"IDC {i}"}
                for i in range(opinions)
            ],
        )
        s.execute(
            insert(opinion_record),
            [
                {"opinion_id": o + 1, "record_id": (o * 5 + k) % records + 1}
                for o in range(opinions)
                for k in range(5)
            ],
        )
        start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
        s.execute(
            insert(Appointment),
            [
                {
                    "patient_id": pid,
                    "doctor_id": team[i % len(team)],
                    "starts_at": start + timedelta(days=3 * i),
                    "time_zone": ZONES[i % len(ZONES)],
                    "location": f"Clinic {i}, floor {i % 9}",
                    "purpose": Purpose.SECOND_OPINION,
                    "notes": "Bring the discs.",
                }
                for i in range(appointments)
            ],
        )
        s.execute(
            insert(appointment_record),
            [
                {"appointment_id": a + 1, "record_id": (a * 5 + k) % records + 1}
                for a in range(appointments)
                for k in range(5)
            ],
        )
        s.execute(
            insert(Question),
            [
                {"patient_id": pid, "text": f"Question {i}?", "appointment_id": i % 200 + 1}
                for i in range(questions)
            ],
        )
        s.execute(
            insert(Material),
            [
                {"patient_id": pid, "kind": MaterialKind.GLASS_SLIDES, "description": f"Slide {i}"}
                for i in range(30)
            ],
        )
    engine.dispose()
    return {"records": records, "appointments": appointments, "questions": questions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()

    program = str(Path(sys.executable).with_name("carebinder"))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        sizes = build_binder(home, args.records)
        env = {**os.environ, config.HOME_ENV: str(home)}
        env.pop(config.DATABASE_ENV, None)
        env.pop(config.PATIENT_ENV, None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a normal machine caches compiled modules
        json_file, tables, ics = (
            Path(tmp) / "binder.json",
            Path(tmp) / "tables",
            Path(tmp) / "a.ics",
        )
        rows = [
            ("carebinder doctor list (yardstick)", ["doctor", "list"]),
            ("carebinder export (json)", ["export", "-o", str(json_file), "--force"]),
            (
                "carebinder export --format csv",
                ["export", "-f", "csv", "-o", str(tables), "--force"],
            ),
            ("carebinder calendar", ["calendar", "-o", str(ics), "--force"]),
        ]
        print(
            f"{sizes['records']} records, {sizes['appointments']} appointments,"
            f" {sizes['questions']} questions; median of {args.runs} runs"
        )
        for label, command in rows:
            print(f"  {label:<36} {median_ms([program, *command], env, args.runs):7.0f} ms")
        csv_bytes = sum(p.stat().st_size for p in tables.iterdir())
        print(
            f"  sizes: JSON {json_file.stat().st_size / 1e6:.2f} MB,"
            f" CSV {csv_bytes / 1e6:.2f} MB, calendar {ics.stat().st_size / 1e6:.2f} MB"
        )


if __name__ == "__main__":
    main()
