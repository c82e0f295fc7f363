"""`carebinder calendar -o FILE.ics`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.cli.cliutil import assert_refused, forget_chosen_patient
from tests.conftest import Cli, mode


@pytest.fixture
def visits(binder: Cli) -> Cli:
    """A visit long past (#1) and one far ahead (#2) with Dr. Wei Chen, and a question."""
    binder.ok("doctor", "add", "Dr. Wei Chen", "--institution", "Dana-Farber")
    for at in ("2021-03-02 14:00", "2030-12-03 09:30"):
        binder.ok(
            "appointment", "add", "--doctor", "1", "--at", at, "--tz", "America/New_York",
            "--location", "450 Brookline Ave",
        )  # fmt: skip
    binder.ok("question", "add", "Do you agree with the stage?", "--appointment", "2")
    return binder


def parse(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return calendar


def test_writes_a_private_calendar_file(visits: Cli, tmp_path: Path) -> None:
    target = tmp_path / "visits.ics"
    result = visits.ok("calendar", "-o", str(target))
    assert result.stdout == f"{target}\n"
    assert result.stderr == "Wrote 2 appointments to the calendar file.\n"
    assert mode(target) == 0o600
    calendar = parse(target.read_bytes())
    past, ahead = calendar.events
    assert ahead.summary == "Second-opinion visit with Dr. Wei Chen"
    assert ahead.location == "450 Brookline Ave"
    assert ahead.get("DTSTART").params["TZID"] == "America/New_York"
    assert "1. Do you agree with the stage?" in str(ahead.description)
    assert "Do you agree" not in str(past.description)
    assert [tz.tz_name for tz in calendar.timezones] == ["America/New_York"]
    assert len(ahead.walk("VALARM")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "visits.ics"]


def test_standard_output_gets_the_calendar_alone(visits: Cli) -> None:
    result = visits.ok("calendar", "-o", "-")
    assert result.stderr == ""
    assert result.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")
    assert result.stdout_bytes.endswith(b"END:VCALENDAR\r\n")
    assert len(parse(result.stdout_bytes).events) == 2


def test_upcoming_and_no_reminder(visits: Cli) -> None:
    calendar = parse(visits.ok("calendar", "-o", "-", "--upcoming", "--no-reminder").stdout_bytes)
    (ahead,) = calendar.events
    assert ahead.start.year == 2030
    assert ahead.walk("VALARM") == []


def test_the_same_visit_keeps_its_uid(visits: Cli) -> None:
    first = [e.uid for e in parse(visits.ok("calendar", "-o", "-").stdout_bytes).events]
    visits.ok("appointment", "edit", "2", "--at", "2030-12-04 10:00", "--status", "cancelled")
    again = parse(visits.ok("calendar", "-o", "-").stdout_bytes).events
    assert [e.uid for e in again] == first
    assert again[1].status == "CANCELLED"


def test_an_existing_file_is_replaced_only_with_force(visits: Cli, tmp_path: Path) -> None:
    target = tmp_path / "visits.ics"
    target.write_text("mine")
    assert_refused(visits("calendar", "-o", str(target)), 1, "already exists", "--force")
    assert target.read_text() == "mine"
    visits.ok("calendar", "-o", str(target), "--force")
    assert len(parse(target.read_bytes()).events) == 2
    assert mode(target) == 0o600


def test_bad_places_are_refused(visits: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.ics"
    os.mkfifo(fifo)
    assert_refused(visits("calendar", "-o", str(fifo), "--force"), 1, "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert_refused(visits("calendar", "-o", str(tmp_path)), 1, "is a folder", "appointments.ics")
    assert_refused(visits("calendar", "-o", str(tmp_path / "no" / "a.ics")), 1, "does not exist")
    assert not (tmp_path / "no").exists()


def test_the_output_is_required(visits: Cli) -> None:
    result = visits("calendar")
    assert result.exit_code == 2
    assert "--out" in result.stderr


def test_several_patients_need_a_choice(visits: Cli, tmp_path: Path) -> None:
    visits.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    forget_chosen_patient()
    target = tmp_path / "visits.ics"
    assert_refused(visits("calendar", "-o", str(target)), 1, "several patients", "--patient")
    assert not target.exists()
    assert parse(visits.ok("--patient", "2", "calendar", "-o", "-").stdout_bytes).events == []


def test_help_has_an_example(cli: Cli) -> None:
    for command in ("calendar", "export"):
        text = cli.ok(command, "--help").stdout
        assert f"Example: carebinder {command} " in text


def test_help_imports_neither_icalendar_nor_the_exporters() -> None:
    code = (
        "import sys\n"
        "from carebinder.cli import app\n"
        "heavy = [m for m in ('icalendar', 'carebinder.interop.tabular', 'sqlalchemy')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
