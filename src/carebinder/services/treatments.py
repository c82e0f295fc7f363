"""Treatments so far: surgery, chemotherapy, radiation and the other cancer treatments
received, or under way while they have no end date."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.models import Treatment, TreatmentKind
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    check_order,
    clean_text,
    date_or_keep,
    get_scoped,
    iso,
    long_text,
    required_text,
    text_or_keep,
)
from carebinder.services.doctors import get_doctor


def get_treatment(session: Session, patient_id: int, ident: int) -> Treatment:
    return get_scoped(session, Treatment, patient_id, ident, "treatment")


def add_treatment(
    session: Session,
    patient_id: int,
    *,
    kind: TreatmentKind,
    name: str,
    started: date | None = None,
    ended: date | None = None,
    doctor: int | None = None,
    response: str | None = None,
    notes: str | None = None,
) -> Treatment:
    check_order(started, ended, first_field="started", last_field="ended")
    treatment = Treatment(
        patient_id=patient_id,
        kind=kind,
        name=required_text(name, "name"),
        started=started,
        ended=ended,
        doctor=None if doctor is None else get_doctor(session, patient_id, doctor),
        response=clean_text(response, "response"),
        notes=long_text(notes, "notes"),
    )
    session.add(treatment)
    session.flush()
    return treatment


def edit_treatment(
    session: Session,
    treatment: Treatment,
    *,
    kind: TreatmentKind | Keep = KEEP,
    name: str | Keep = KEEP,
    started: date | Keep | None = KEEP,
    ended: date | Keep | None = KEEP,
    doctor: int | Keep | None = KEEP,
    response: str | Keep = KEEP,
    notes: str | Keep = KEEP,
) -> Treatment:
    check_order(
        date_or_keep(started, treatment.started),
        date_or_keep(ended, treatment.ended),
        first_field="started",
        last_field="ended",
    )
    apply(
        treatment,
        kind=kind,
        name=name if name is KEEP else required_text(name, "name"),
        started=started,
        ended=ended,
        doctor=doctor
        if doctor is KEEP
        else None
        if doctor is None
        else get_doctor(session, treatment.patient_id, doctor),
        response=text_or_keep(response, "response"),
        notes=text_or_keep(notes, "notes", limit=20_000),
    )
    session.flush()
    return treatment


def list_treatments(session: Session, patient_id: int) -> list[Treatment]:
    """In the order they were given: by start date, undated last."""
    return list(
        session.scalars(
            select(Treatment)
            .where(Treatment.patient_id == patient_id)
            .options(selectinload(Treatment.doctor))
            .order_by(Treatment.started.is_(None), Treatment.started, Treatment.id)
        )
    )


def remove_treatment(session: Session, treatment: Treatment) -> None:
    session.delete(treatment)
    session.flush()


def to_json(treatment: Treatment) -> dict[str, Any]:
    return {
        "id": treatment.id,
        "kind": treatment.kind.value,
        "name": treatment.name,
        "started": iso(treatment.started),
        "ended": iso(treatment.ended),
        "doctor": treatment.doctor_id,
        "doctor_name": treatment.doctor.name if treatment.doctor else None,
        "response": treatment.response,
        "notes": treatment.notes,
    }
