"""The calendar file: every event parsed back with the icalendar library."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from carebinder import config
from carebinder.choices import AppointmentStatus, Purpose
from carebinder.db import open_binder
from carebinder.interop.ical import DURATION, gather, render
from carebinder.models import Appointment, Patient
from carebinder.services import appointments, doctors, patients, questions

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
PATIENT = "Nguyễn Thị Ánh"
DOCTOR = "Dr. Øyvind Ødegård"


def parse(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return calendar


def ics(session: Session, patient: Patient, **options: bool) -> Calendar:
    upcoming = options.pop("upcoming", False)
    return parse(render(gather(session, patient, upcoming=upcoming), now=NOW, **options))


def by_summary(calendar: Calendar) -> dict[str, Event]:
    return {str(event.summary): event for event in calendar.events}


# --- the rich binder ---------------------------------------------------------------------------


def test_every_field_of_every_event(session: Session, rich: Patient) -> None:
    calendar = ics(session, rich)
    assert calendar.prodid.startswith("-//carebinder//")
    assert calendar.calendar_name == "Ana Souza: appointments"
    events = calendar.events
    assert [e.summary for e in events] == [
        "Follow-up visit with Dr. Marcus Bell",  # done, 2026-10-20
        "Second-opinion visit with Dr. Wei Chen",  # planned, 2026-12-03
        "Treatment visit with Dr. Marcus Bell",  # cancelled, 2026-12-10
    ]
    done, planned, cancelled = events
    rows = session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
    for event, row in zip(events, rows, strict=True):
        assert event.stamp == NOW
        assert event.get("DTSTART").params["TZID"] == "America/New_York"
        assert event.start == row.starts_at  # the same instant
        assert event.start.tzinfo is not None
        assert event.end - event.start == DURATION == timedelta(hours=1)
        assert event.classification == "PRIVATE"
        assert event.created == row.created_at.replace(microsecond=0)
        uuid.UUID(event.uid)
    assert [e.status for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert planned.start == datetime(2026, 12, 3, 9, 30, tzinfo=NEW_YORK)
    assert planned.location == (
        "Northeastern Cancer Institute, 450 Longwood Ave, 3rd floor, Boston"
    )
    assert done.location == "Mercy General Hospital, Breast Center"
    assert cancelled.location is None
    assert [tz.tz_name for tz in calendar.timezones] == ["America/New_York"]
    assert calendar.get_missing_tzids() == set()


def test_the_description_says_what_to_bring_and_what_to_ask(
    session: Session, rich: Patient
) -> None:
    planned = by_summary(ics(session, rich))["Second-opinion visit with Dr. Wei Chen"]
    text = str(planned.description)
    lines = text.splitlines()
    assert lines[0] == "Ana Souza: second-opinion visit with Dr. Wei Chen"
    assert "Breast medical oncology, Northeastern Cancer Institute" in lines
    assert "Phone: (617) 555-0188" in lines
    assert "Companion: Marco Souza (husband)" in lines
    start = lines.index("Bring the packet (carebinder packet 1), with these records:")
    assert lines[start + 1 : start + 5] == [  # the four chosen with `bring`, in date order
        "- Diagnostic mammogram and ultrasound (imaging, 2026-10-15)",
        "- Core biopsy pathology report (pathology, 2026-10-21)",
        "- Sentinel lymph node biopsy operative report (surgery, 2026-11-04)",
        "- Proposed treatment plan (treatment-plan, 2026-11-11)",
    ]
    assert "Complete blood count" not in text  # not chosen for this visit
    # The slides went back to their lab (returned): only the disc is left to bring.
    assert "- Imaging disc: Mammogram and ultrasound images (CD), from Mercy General" in text
    assert "H&E" not in text
    asked = lines[lines.index("Questions to ask:") + 1 :]
    assert asked[:4] == [
        "1. Do you agree with the stage, given the micrometastasis in the sentinel node?",
        "2. Is an axillary dissection necessary, or is radiation to the axilla enough?",
        "3. Would you order Oncotype DX before deciding on chemotherapy?",
        "4. Could I join a clinical trial here?",
    ]
    assert "recovery from surgery" not in text  # a question for no visit in particular
    assert text.endswith("Notes: Parking: garage B.\n-2 floor.")


def test_a_visit_with_no_records_chosen_brings_them_all(session: Session, rich: Patient) -> None:
    done = by_summary(ics(session, rich))["Follow-up visit with Dr. Marcus Bell"]
    assert "- all 5 records of the binder" in str(done.description)


def test_a_cancelled_visit_says_so_and_has_no_reminder(session: Session, rich: Patient) -> None:
    events = by_summary(ics(session, rich))
    cancelled = events["Treatment visit with Dr. Marcus Bell"]
    assert str(cancelled.description).startswith("This visit was cancelled.\n")
    assert cancelled.walk("VALARM") == []
    assert events["Follow-up visit with Dr. Marcus Bell"].walk("VALARM") == []  # done
    (alarm,) = events["Second-opinion visit with Dr. Wei Chen"].walk("VALARM")
    assert alarm["TRIGGER"].dt == timedelta(days=-1)
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm.get("DESCRIPTION") == "Tomorrow: Second-opinion visit with Dr. Wei Chen"


def test_reminders_can_be_left_out(session: Session, rich: Patient) -> None:
    calendar = ics(session, rich, reminder=False)
    assert all(e.walk("VALARM") == [] for e in calendar.events)
    assert b"VALARM" not in calendar.to_ical()


# --- time zones --------------------------------------------------------------------------------


@pytest.fixture
def travels(session: Session) -> Patient:
    return add_travels(session)


def add_travels(session: Session) -> Patient:
    """Visits in New York in summer (EDT) and winter (EST), and in Kolkata (no DST)."""
    patient = patients.add_patient(session, name=PATIENT, born=date(1970, 5, 6))
    doctor = doctors.add_doctor(session, patient.id, name=DOCTOR, institution="Tata Memorial")
    for moment, zone, where in (
        (datetime(2027, 7, 14, 9, 30), "America/New_York", "Sloan, Nueva York"),
        (datetime(2027, 1, 13, 9, 30), "America/New_York", "Sloan, Nueva York"),
        (datetime(2027, 3, 15, 10, 0), "Asia/Kolkata", "टाटा मेमोरियल, मुंबई"),
    ):
        appointments.add_appointment(
            session,
            patient.id,
            doctor=doctor.id,
            starts_at=moment.replace(tzinfo=ZoneInfo(zone)),
            time_zone=zone,
            location=where,
            purpose=Purpose.THIRD_OPINION,
        )
    questions.add_question(session, patient.id, text="Ça change quoi ? 治療は？", appointment=3)
    session.commit()
    return patient


def test_time_zones_across_daylight_saving(session: Session, travels: Patient) -> None:
    calendar = ics(session, travels)
    january, march, july = calendar.events
    expected = [
        (january, datetime(2027, 1, 13, 9, 30), "America/New_York", timedelta(hours=-5)),
        (march, datetime(2027, 3, 15, 10, 0), "Asia/Kolkata", timedelta(hours=5, minutes=30)),
        (july, datetime(2027, 7, 14, 9, 30), "America/New_York", timedelta(hours=-4)),
    ]
    zones = {tz.tz_name: tz.to_tz(lookup_tzid=False) for tz in calendar.timezones}
    assert set(zones) == {"America/New_York", "Asia/Kolkata"}
    for event, wall, zone, offset in expected:
        assert event.get("DTSTART").params["TZID"] == zone
        assert event.get("DTEND").params["TZID"] == zone
        assert event.start.replace(tzinfo=None) == wall
        assert event.start.utcoffset() == offset
        # The VTIMEZONE written in the file (not this computer's zoneinfo) gives the
        # same offset, so a calendar program without the zone still shows the right hour.
        assert wall.replace(tzinfo=zones[zone]).utcoffset() == offset
    assert b"DTSTART;TZID=America/New_York:20270714T093000" in calendar.to_ical()
    assert b"DTSTART;TZID=Asia/Kolkata:20270315T100000" in calendar.to_ical()


def test_unicode_names_and_places_survive(session: Session, travels: Patient) -> None:
    data = render(gather(session, travels), now=NOW)
    data.decode("utf-8")  # strict: valid UTF-8 even where long lines are folded
    calendar = parse(data)
    assert calendar.calendar_name == f"{PATIENT}: appointments"
    march = calendar.events[1]
    assert march.summary == f"Third-opinion visit with {DOCTOR}"
    assert march.location == "टाटा मेमोरियल, मुंबई"
    text = str(march.description)
    assert text.startswith(f"{PATIENT}: third-opinion visit with {DOCTOR}\nTata Memorial\n")
    assert "1. Ça change quoi ? 治療は？" in text
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded as RFC 5545 says


def test_upcoming_leaves_out_visits_that_have_started(session: Session, rich: Patient) -> None:
    everything = gather(session, rich)
    now = datetime.now(UTC)
    later = [v.summary for v in everything.visits if v.start > now]
    assert [v.summary for v in gather(session, rich, upcoming=True).visits] == later
    assert len(later) < len(everything.visits)


def test_no_appointments_make_an_empty_calendar(session: Session, patient: Patient) -> None:
    session.commit()
    calendar = ics(session, patient)
    assert calendar.events == []
    assert calendar.timezones == []
    assert calendar.calendar_name == "Ana Souza: appointments"


# --- identity ----------------------------------------------------------------------------------


def uids(session: Session, patient: Patient) -> list[str]:
    return [str(e.uid) for e in ics(session, patient).events]


def test_uids_are_stable_across_exports_and_edits(session: Session, travels: Patient) -> None:
    first = uids(session, travels)
    assert len(set(first)) == 3
    again = parse(render(gather(session, travels), now=NOW + timedelta(days=3)))
    assert [str(e.uid) for e in again.events] == first
    assert again.events[0].stamp == NOW + timedelta(days=3)
    # Rescheduled and cancelled: the same event, so a calendar program updates it.
    january = session.get(Appointment, 2)
    assert january is not None
    appointments.edit_appointment(
        session,
        january,
        starts_at=datetime(2027, 8, 2, 8, 0, tzinfo=NEW_YORK),
        status=AppointmentStatus.CANCELLED,
    )
    session.commit()
    moved = ics(session, travels).events
    assert moved[-1].start == datetime(2027, 8, 2, 8, 0, tzinfo=NEW_YORK)
    assert moved[-1].status == "CANCELLED"
    assert moved[-1].uid == first[0]
    assert sorted(str(e.uid) for e in moved) == sorted(first)


@pytest.fixture
def second_binder(tmp_path: Path) -> Iterator[Engine]:
    engine = open_binder(config.resolve(home=tmp_path / "home-2", environ={}), create=True)
    yield engine
    engine.dispose()


def test_uids_differ_between_two_binders_with_the_same_content(
    session: Session, travels: Patient, second_binder: Engine
) -> None:
    with Session(second_binder, expire_on_commit=False) as other:
        twin = add_travels(other)
        assert [a.id for a in other.scalars(select(Appointment))] == [1, 2, 3]
        theirs = uids(other, twin)
    ours = uids(session, travels)
    assert set(ours).isdisjoint(theirs)
