"""Appointments: the visits, their preparation, and the records chosen for the packet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.dates import local_zone_name, parse_datetime, parse_zone
from carebinder.models import Appointment, AppointmentStatus, Coverage, Purpose, Record
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    clean_text,
    get_scoped,
    long_text,
    text_or_keep,
)
from carebinder.services.doctors import get_doctor
from carebinder.services.records import get_records, list_records


def get_appointment(session: Session, patient_id: int, ident: int) -> Appointment:
    return get_scoped(session, Appointment, patient_id, ident, "appointment")


def add_appointment(
    session: Session,
    patient_id: int,
    *,
    doctor: int,
    starts_at: datetime | str,
    time_zone: str | None = None,
    location: str | None = None,
    purpose: Purpose = Purpose.SECOND_OPINION,
    companion: str | None = None,
    notes: str | None = None,
) -> Appointment:
    """`starts_at`: an aware datetime, or the local time as a person types it ("2026-12-03
    09:30", "tomorrow 14:00"), read in `time_zone` (default: this computer's zone)."""
    if time_zone is None:
        time_zone = local_zone_name()
    zone = parse_zone(time_zone)
    if isinstance(starts_at, str):
        starts_at = parse_datetime(starts_at, "starts_at", zone)
    appointment = Appointment(
        patient_id=patient_id,
        doctor=get_doctor(session, patient_id, doctor),
        starts_at=starts_at,
        time_zone=time_zone,
        location=long_text(location, "location"),
        purpose=purpose,
        status=AppointmentStatus.PLANNED,
        companion=clean_text(companion, "companion"),
        notes=long_text(notes, "notes"),
        staff_told=False,
        coverage=Coverage.UNKNOWN,
    )
    session.add(appointment)
    session.flush()
    return appointment


def edit_appointment(
    session: Session,
    appointment: Appointment,
    *,
    doctor: int | Keep = KEEP,
    starts_at: datetime | Keep = KEEP,
    time_zone: str | Keep = KEEP,
    location: str | Keep = KEEP,
    purpose: Purpose | Keep = KEEP,
    status: AppointmentStatus | Keep = KEEP,
    companion: str | Keep = KEEP,
    notes: str | Keep = KEEP,
    staff_told: bool | Keep = KEEP,
    records_sent_on: date | Keep | None = KEEP,
    coverage: Coverage | Keep = KEEP,
    coverage_ref: str | Keep = KEEP,
    at: str | Keep = KEEP,
) -> Appointment:
    """`at`: a new local time as a person types it, read in the appointment's zone (the
    new one when `time_zone` changes too). A new zone alone keeps the wall-clock time: the
    zone was wrong, not the hour the clinic gave."""
    if time_zone is not KEEP or at is not KEEP:
        zone = parse_zone(appointment.time_zone if time_zone is KEEP else time_zone)
        if at is not KEEP:
            starts_at = parse_datetime(at, "starts_at", zone)
        elif starts_at is KEEP:
            starts_at = local_start(appointment).replace(tzinfo=zone)
    apply(
        appointment,
        doctor=doctor if doctor is KEEP else get_doctor(session, appointment.patient_id, doctor),
        starts_at=starts_at,
        time_zone=time_zone,
        location=text_or_keep(location, "location", limit=20_000),
        purpose=purpose,
        status=status,
        companion=text_or_keep(companion, "companion"),
        notes=text_or_keep(notes, "notes", limit=20_000),
        staff_told=staff_told,
        records_sent_on=records_sent_on,
        coverage=coverage,
        coverage_ref=text_or_keep(coverage_ref, "coverage_ref"),
    )
    session.flush()
    return appointment


def list_appointments(
    session: Session, patient_id: int, *, upcoming: bool = False
) -> list[Appointment]:
    query = (
        select(Appointment)
        .where(Appointment.patient_id == patient_id)
        .options(selectinload(Appointment.doctor), selectinload(Appointment.records))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if upcoming:
        from carebinder.columns import utcnow

        query = query.where(Appointment.starts_at >= utcnow())
    return list(session.scalars(query))


def remove_appointment(session: Session, appointment: Appointment) -> None:
    """Delete the visit; its questions stay in the binder, no longer tied to it."""
    session.delete(appointment)
    session.flush()


def bring_records(
    session: Session, appointment: Appointment, records: Sequence[int], *, replace: bool = False
) -> list[Record]:
    """Choose records for the visit's packet: add them, or with `replace` set the list."""
    chosen = get_records(session, appointment.patient_id, records)
    if replace:
        appointment.records = chosen
    else:
        appointment.records.extend(r for r in chosen if r not in appointment.records)
    session.flush()
    return packet_records(session, appointment)


def packet_records(session: Session, appointment: Appointment) -> list[Record]:
    """The records that go in the visit's packet: those chosen, else all, in date order."""
    if appointment.records:
        # Only the chosen ones from the database: their file rows, not every record's.
        chosen = [r.id for r in appointment.records]
        return list_records(session, appointment.patient_id, only=chosen)
    return list_records(session, appointment.patient_id)


def local_start(appointment: Appointment) -> datetime:
    return appointment.starts_at.astimezone(ZoneInfo(appointment.time_zone))


def to_json(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "doctor": appointment.doctor_id,
        "doctor_name": appointment.doctor.name,
        "start": local_start(appointment).isoformat(),
        "time_zone": appointment.time_zone,
        "location": appointment.location,
        "purpose": appointment.purpose.value,
        "status": appointment.status.value,
        "companion": appointment.companion,
        "notes": appointment.notes,
        "staff_told": appointment.staff_told,
        "records_sent_on": appointment.records_sent_on.isoformat()
        if appointment.records_sent_on
        else None,
        "coverage": appointment.coverage.value,
        "coverage_ref": appointment.coverage_ref,
        "records": [record.id for record in appointment.records],
    }
