"""A patient's appointments as an iCalendar file (RFC 5545) that calendar programs import.

Two halves, as for the packet: `gather` reads the binder into plain frozen data (no
iCalendar), `render` writes the calendar with the `icalendar` library (no database).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from carebinder import __version__
from carebinder.choices import AppointmentStatus, MaterialStatus
from carebinder.models import Appointment, Doctor, Material, Patient, Question, Record
from carebinder.packet.data import PURPOSE_TITLES
from carebinder.services.appointments import list_appointments
from carebinder.services.materials import list_materials
from carebinder.services.questions import list_questions
from carebinder.services.records import list_records

# The binder has no end time for a visit; an hour is what a consultation is usually booked
# for, and what calendar programs show well. The start is what matters.
DURATION = timedelta(hours=1)
# A reminder the day before, for visits still planned: time to gather the slides and discs.
REMINDER = timedelta(days=1)

# The namespace of carebinder's calendar UIDs (made once, never to change). A UID is the
# uuid5 of the appointment's id and creation time and its patient's id and creation time:
# - stable: none of these ever changes, so every export gives the visit the same UID, and a
#   calendar program updates the event (a rescheduled visit too) instead of adding a copy;
# - distinct across binders: two binders' appointment #1 were created at different moments
#   (stored to the microsecond), so they get different UIDs; a restored backup is the same
#   binder and keeps them, as it should;
# - private: a hash, so the UID tells nothing of the patient.
UID_NAMESPACE = uuid.UUID("abe45da6-fb3c-41a9-a37b-097f86c8834b")

PRODID = f"-//carebinder//carebinder {__version__}//EN"


@dataclass(frozen=True)
class Visit:
    """One appointment, ready to become an event."""

    uid: str
    summary: str
    start: datetime  # aware, in the visit's own time zone
    status: AppointmentStatus
    location: str | None
    description: str
    created: datetime
    modified: datetime


@dataclass(frozen=True)
class CalendarData:
    name: str
    uid: str
    visits: tuple[Visit, ...]


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def appointment_uid(appointment: Appointment, patient: Patient) -> str:
    key = (
        f"appointment/{appointment.id}/{_moment(appointment.created_at)}"
        f"/patient/{patient.id}/{_moment(patient.created_at)}"
    )
    return str(uuid.uuid5(UID_NAMESPACE, key))


def gather(session: Session, patient: Patient, *, upcoming: bool = False) -> CalendarData:
    """The patient's appointments (those not yet started, with `upcoming`), oldest first."""
    pid = patient.id
    rows = list_appointments(session, pid, upcoming=upcoming)
    asked: dict[int, list[Question]] = defaultdict(list)
    for question in list_questions(session, pid):
        if question.appointment_id is not None:
            asked[question.appointment_id].append(question)
    kept = [
        _material_line(m)
        for m in list_materials(session, pid)
        if m.status is not MaterialStatus.RETURNED  # back at its lab: nothing to bring
    ]
    # Each record's place in date order, as in the packet.
    rank = {r.id: i for i, r in enumerate(list_records(session, pid))} if rows else {}
    visits = tuple(
        Visit(
            uid=appointment_uid(a, patient),
            summary=f"{PURPOSE_TITLES[a.purpose]} with {a.doctor.name}",
            start=a.starts_at.astimezone(ZoneInfo(a.time_zone)),
            status=a.status,
            location=a.location,
            description=describe(patient, a, asked[a.id], kept, rank),
            created=a.created_at,
            modified=a.updated_at,
        )
        for a in rows
    )
    calendar_uid = str(uuid.uuid5(UID_NAMESPACE, f"patient/{pid}/{_moment(patient.created_at)}"))
    return CalendarData(f"{patient.name}: appointments", calendar_uid, visits)


def describe(
    patient: Patient,
    appointment: Appointment,
    asked: Sequence[Question],
    materials: Sequence[str],
    rank: Mapping[int, int],
) -> str:
    """The event's description: the visit, what to bring, and the questions to ask.

    `materials` are the lines of the materials to bring; `rank` is each record's place in
    date order."""
    a = appointment
    lines = []
    if a.status is AppointmentStatus.CANCELLED:
        lines.append("This visit was cancelled.")
    lines.append(f"{patient.name}: {PURPOSE_TITLES[a.purpose].lower()} with {a.doctor.name}")
    lines += _doctor_lines(a.doctor)
    if a.companion:
        lines.append(f"Companion: {a.companion}")
    lines += ["", f"Bring the packet (carebinder packet {a.id}), with these records:"]
    if a.records:  # chosen with `appointment bring`
        lines += [_record_line(r) for r in sorted(a.records, key=lambda r: rank[r.id])]
    else:
        lines.append(f"- all {len(rank)} records of the binder")
    if materials:
        lines += ["", "Slides, discs and other materials:"]
        lines += materials
    if asked:
        lines += ["", "Questions to ask:"]
        for number, question in enumerate(asked, 1):
            lines.append(f"{number}. {question.text}")
            if question.answer:
                lines.append(f"   Answer: {question.answer}")
    if a.notes:
        lines += ["", f"Notes: {a.notes}"]
    return "\n".join(lines)


def _doctor_lines(doctor: Doctor) -> list[str]:
    where = ", ".join(p for p in (doctor.specialty, doctor.institution) if p)
    return [
        line
        for line in (
            where,
            f"Phone: {doctor.phone}" if doctor.phone else "",
            f"Address: {doctor.address}" if doctor.address else "",
        )
        if line
    ]


def _record_line(record: Record) -> str:
    day = f", {record.date.isoformat()}" if record.date else ""
    return f"- {record.title} ({record.kind.value}{day})"


def _material_line(material: Material) -> str:
    source = f", from {material.institution}" if material.institution else ""
    kind = material.kind.value.replace("-", " ").capitalize()
    return f"- {kind}: {material.description}{source} ({material.status.value})"


# --- rendering ---------------------------------------------------------------------------------


def render(data: CalendarData, *, reminder: bool = True, now: datetime | None = None) -> bytes:
    """The calendar as iCalendar bytes: one event per visit, and a VTIMEZONE for each zone."""
    from icalendar import Alarm, Calendar, Event
    from icalendar.enums import CLASS, STATUS

    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    events = []
    for visit in data.visits:
        event = Event.new(
            uid=visit.uid,
            stamp=stamp,
            start=visit.start,
            end=visit.start + DURATION,
            summary=visit.summary,
            location=visit.location,
            description=visit.description,
            # Done visits stay in the calendar as the record of what happened.
            status=STATUS.CANCELLED
            if visit.status is AppointmentStatus.CANCELLED
            else STATUS.CONFIRMED,
            # Medical visits: a calendar shared with others shows them as "busy" only.
            classification=CLASS.PRIVATE,
            created=visit.created,
            last_modified=visit.modified,
        )
        if reminder and visit.status is AppointmentStatus.PLANNED:
            alarm = Alarm.new(description=f"Tomorrow: {visit.summary}")
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", -REMINDER)
            event.add_component(alarm)
        events.append(event)
    calendar = Calendar.new(
        name=data.name, prodid=PRODID, uid=data.uid, calscale="GREGORIAN", subcomponents=events
    )
    if data.visits:
        # Each zone's rules only for the years the visits span, to keep the file small.
        days = [visit.start.date() for visit in data.visits]
        year = timedelta(days=366)
        calendar.add_missing_timezones(first_date=min(days) - year, last_date=max(days) + year)
    return bytes(calendar.to_ical())
