"""Allergies: what to avoid, and "no known allergies" stated on a day.

As with medications, three states are kept apart: a list, "no known allergies" with the
day it was stated (`patient.no_allergies_on`), and not recorded. Adding an allergy ends a
"no known allergies" statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.errors import Conflict
from carebinder.models import Allergy, AllergyKind, Patient, Severity
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    clean_text,
    ended_note,
    get_scoped,
    long_text,
    required_text,
    text_or_keep,
)


@dataclass(frozen=True)
class Added:
    """An allergy added, and the "no known allergies" statement it ended (its day)."""

    allergy: Allergy
    ended_none: date | None = None

    @property
    def ended_note(self) -> str | None:
        return ended_note("no known allergies", self.ended_none)


@dataclass(frozen=True)
class AllergyState:
    allergies: list[Allergy] = field(default_factory=list)
    none_on: date | None = None  # the day "no known allergies" was stated

    @property
    def recorded(self) -> bool:
        return bool(self.allergies) or self.none_on is not None


def get_allergy(session: Session, patient_id: int, ident: int) -> Allergy:
    return get_scoped(session, Allergy, patient_id, ident, "allergy")


def add_allergy(
    session: Session,
    patient_id: int,
    *,
    substance: str,
    reaction: str | None = None,
    severity: Severity | None = None,
    kind: AllergyKind | None = None,
    notes: str | None = None,
) -> Added:
    allergy = Allergy(
        patient_id=patient_id,
        substance=required_text(substance, "substance"),
        reaction=clean_text(reaction, "reaction"),
        severity=severity,
        kind=kind,
        notes=long_text(notes, "notes"),
    )
    session.add(allergy)
    patient = session.get(Patient, patient_id)
    ended = None
    if patient is not None and patient.no_allergies_on is not None:
        ended, patient.no_allergies_on = patient.no_allergies_on, None
    session.flush()
    return Added(allergy, ended)


def edit_allergy(
    session: Session,
    allergy: Allergy,
    *,
    substance: str | Keep = KEEP,
    reaction: str | Keep = KEEP,
    severity: Severity | Keep | None = KEEP,
    kind: AllergyKind | Keep | None = KEEP,
    notes: str | Keep = KEEP,
) -> Allergy:
    apply(
        allergy,
        substance=substance if substance is KEEP else required_text(substance, "substance"),
        reaction=text_or_keep(reaction, "reaction"),
        severity=severity,
        kind=kind,
        notes=text_or_keep(notes, "notes", limit=20_000),
    )
    session.flush()
    return allergy


def state_none(session: Session, patient: Patient, *, on: date | None = None) -> Patient:
    """Record "no known allergies", stated `on` (today). Refused while allergies are listed."""
    listed = list_allergies(session, patient.id)
    if listed:
        names = ", ".join(a.substance for a in listed[:3]) + (", …" if len(listed) > 3 else "")
        raise Conflict(
            f"{len(listed)} allerg{'ies are' if len(listed) > 1 else 'y is'} recorded"
            f" ({names}). Remove {'them' if len(listed) > 1 else 'it'} first if"
            f" {'they were' if len(listed) > 1 else 'it was'} recorded by mistake."
        )
    patient.no_allergies_on = on or date.today()
    session.flush()
    return patient


def list_allergies(session: Session, patient_id: int) -> list[Allergy]:
    """Severe ones first, then by substance."""
    rank = {Severity.SEVERE: 0, Severity.MODERATE: 1, Severity.MILD: 2, None: 3}
    rows = session.scalars(select(Allergy).where(Allergy.patient_id == patient_id))
    return sorted(rows, key=lambda a: (rank[a.severity], a.substance.casefold(), a.id))


def allergy_state(session: Session, patient: Patient) -> AllergyState:
    return AllergyState(list_allergies(session, patient.id), patient.no_allergies_on)


def remove_allergy(session: Session, allergy: Allergy) -> None:
    session.delete(allergy)
    session.flush()


def to_json(allergy: Allergy) -> dict[str, Any]:
    return {
        "id": allergy.id,
        "substance": allergy.substance,
        "reaction": allergy.reaction,
        "severity": allergy.severity.value if allergy.severity else None,
        "kind": allergy.kind.value if allergy.kind else None,
        "notes": allergy.notes,
    }
