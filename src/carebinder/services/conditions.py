"""Other conditions: the patient's health problems besides the cancer (comorbidities)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.models import Condition
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    get_scoped,
    iso,
    long_text,
    required_text,
    text_or_keep,
)


def get_condition(session: Session, patient_id: int, ident: int) -> Condition:
    return get_scoped(session, Condition, patient_id, ident, "condition")


def add_condition(
    session: Session,
    patient_id: int,
    *,
    name: str,
    since: date | None = None,
    notes: str | None = None,
) -> Condition:
    condition = Condition(
        patient_id=patient_id,
        name=required_text(name, "name"),
        since=since,
        notes=long_text(notes, "notes"),
    )
    session.add(condition)
    session.flush()
    return condition


def edit_condition(
    session: Session,
    condition: Condition,
    *,
    name: str | Keep = KEEP,
    since: date | Keep | None = KEEP,
    notes: str | Keep = KEEP,
) -> Condition:
    apply(
        condition,
        name=name if name is KEEP else required_text(name, "name"),
        since=since,
        notes=text_or_keep(notes, "notes", limit=20_000),
    )
    session.flush()
    return condition


def list_conditions(session: Session, patient_id: int) -> list[Condition]:
    """By name."""
    rows = session.scalars(select(Condition).where(Condition.patient_id == patient_id))
    return sorted(rows, key=lambda c: (c.name.casefold(), c.id))


def remove_condition(session: Session, condition: Condition) -> None:
    session.delete(condition)
    session.flush()


def to_json(condition: Condition) -> dict[str, Any]:
    return {
        "id": condition.id,
        "name": condition.name,
        "since": iso(condition.since),
        "notes": condition.notes,
    }
