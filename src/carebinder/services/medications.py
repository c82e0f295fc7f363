"""Medications: what the patient takes now, what they took before, and "takes none".

Three states are kept apart, as a doctor needs them: a list (with current and stopped
medications), "takes no medications" stated on a day (`patient.no_medications_on`), and
nothing recorded (nobody has asked yet). A current medication added or restarted ends a
"takes no medications" statement; a stopped one only adds to the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.errors import Conflict
from carebinder.models import Medication, MedicationKind, Patient
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    check_order,
    clean_text,
    date_or_keep,
    ended_note,
    get_scoped,
    iso,
    long_text,
    required_text,
    text_or_keep,
)
from carebinder.services.doctors import get_doctor


@dataclass(frozen=True)
class Changed:
    """A medication added or changed, and the "takes no medications" statement it ended."""

    medication: Medication
    ended_none: date | None = None

    @property
    def ended_note(self) -> str | None:
        return ended_note("takes no medications", self.ended_none)


@dataclass(frozen=True)
class MedicationState:
    current: list[Medication] = field(default_factory=list)
    stopped: list[Medication] = field(default_factory=list)
    # The day "takes no medications" was stated, or None.
    none_on: date | None = None

    @property
    def recorded(self) -> bool:
        """Whether anyone has said what the patient takes now (a list, or "none")."""
        return bool(self.current) or self.none_on is not None


def is_current(medication: Medication, today: date | None = None) -> bool:
    return medication.stopped is None or medication.stopped > (today or date.today())


def get_medication(session: Session, patient_id: int, ident: int) -> Medication:
    return get_scoped(session, Medication, patient_id, ident, "medication")


def add_medication(
    session: Session,
    patient_id: int,
    *,
    name: str,
    dose: str | None = None,
    how: str | None = None,
    kind: MedicationKind = MedicationKind.PRESCRIPTION,
    started: date | None = None,
    stopped: date | None = None,
    reason: str | None = None,
    prescriber: int | None = None,
    notes: str | None = None,
) -> Changed:
    check_order(started, stopped, first_field="started", last_field="stopped")
    medication = Medication(
        patient_id=patient_id,
        name=required_text(name, "name"),
        dose=clean_text(dose, "dose"),
        how=clean_text(how, "how"),
        kind=kind,
        started=started,
        stopped=stopped,
        reason=clean_text(reason, "reason"),
        prescriber=None if prescriber is None else get_doctor(session, patient_id, prescriber),
        notes=long_text(notes, "notes"),
    )
    session.add(medication)
    session.flush()
    return Changed(medication, _end_none(session, medication))


def edit_medication(
    session: Session,
    medication: Medication,
    *,
    name: str | Keep = KEEP,
    dose: str | Keep = KEEP,
    how: str | Keep = KEEP,
    kind: MedicationKind | Keep = KEEP,
    started: date | Keep | None = KEEP,
    stopped: date | Keep | None = KEEP,
    reason: str | Keep = KEEP,
    prescriber: int | Keep | None = KEEP,
    notes: str | Keep = KEEP,
) -> Changed:
    check_order(
        date_or_keep(started, medication.started),
        date_or_keep(stopped, medication.stopped),
        first_field="started",
        last_field="stopped",
    )
    apply(
        medication,
        name=name if name is KEEP else required_text(name, "name"),
        dose=text_or_keep(dose, "dose"),
        how=text_or_keep(how, "how"),
        kind=kind,
        started=started,
        stopped=stopped,
        reason=text_or_keep(reason, "reason"),
        prescriber=prescriber
        if prescriber is KEEP
        else None
        if prescriber is None
        else get_doctor(session, medication.patient_id, prescriber),
        notes=text_or_keep(notes, "notes", limit=20_000),
    )
    session.flush()
    return Changed(medication, _end_none(session, medication))


def stop_medication(
    session: Session, medication: Medication, *, on: date | None = None
) -> Medication:
    """The medication is no longer taken from `on` (today by default); it stays in the history."""
    day = on or date.today()
    if medication.stopped is not None and medication.stopped <= date.today():
        raise Conflict(
            f"{medication.name} was already stopped on {medication.stopped.isoformat()}."
        )
    check_order(medication.started, day, first_field="started", last_field="stopped")
    medication.stopped = day
    session.flush()
    return medication


def _end_none(session: Session, medication: Medication) -> date | None:
    """A current medication ends "takes no medications": the day it had been stated."""
    if not is_current(medication):
        return None
    patient = session.get(Patient, medication.patient_id)
    if patient is None or patient.no_medications_on is None:
        return None
    ended, patient.no_medications_on = patient.no_medications_on, None
    session.flush()
    return ended


def state_none(session: Session, patient: Patient, *, on: date | None = None) -> Patient:
    """Record "takes no medications", stated `on` (today). Refused while any is current."""
    current = [m for m in list_medications(session, patient.id) if is_current(m)]
    if current:
        names = ", ".join(m.name for m in current[:3]) + (", …" if len(current) > 3 else "")
        raise Conflict(
            f"{len(current)} medication{'s are' if len(current) > 1 else ' is'} still current"
            f" ({names}). Stop {'them' if len(current) > 1 else 'it'} first, with the day"
            " it was stopped."
        )
    patient.no_medications_on = on or date.today()
    session.flush()
    return patient


def list_medications(session: Session, patient_id: int, *, all: bool = True) -> list[Medication]:
    """The patient's medications, current first (by name), then stopped ones (latest
    stopped first). Without `all`, the current ones only."""
    rows = list(
        session.scalars(
            select(Medication)
            .where(Medication.patient_id == patient_id)
            .options(selectinload(Medication.prescriber))
            .order_by(Medication.id)
        )
    )
    today = date.today()
    current = sorted((m for m in rows if is_current(m, today)), key=lambda m: m.name.casefold())
    if not all:
        return current
    stopped = sorted(
        (m for m in rows if not is_current(m, today)),
        key=lambda m: (m.stopped or date.min, m.id),
        reverse=True,
    )
    return current + stopped


def medication_state(session: Session, patient: Patient) -> MedicationState:
    rows = list_medications(session, patient.id)
    today = date.today()
    return MedicationState(
        current=[m for m in rows if is_current(m, today)],
        stopped=[m for m in rows if not is_current(m, today)],
        none_on=patient.no_medications_on,
    )


def remove_medication(session: Session, medication: Medication) -> None:
    session.delete(medication)
    session.flush()


def to_json(medication: Medication) -> dict[str, Any]:
    return {
        "id": medication.id,
        "name": medication.name,
        "dose": medication.dose,
        "how": medication.how,
        "kind": medication.kind.value,
        "started": iso(medication.started),
        "stopped": iso(medication.stopped),
        "current": is_current(medication),
        "reason": medication.reason,
        "prescriber": medication.prescriber_id,
        "prescriber_name": medication.prescriber.name if medication.prescriber else None,
        "notes": medication.notes,
    }
