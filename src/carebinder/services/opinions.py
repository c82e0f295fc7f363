"""Opinions: what each doctor concluded, and how the opinions compare."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.models import Opinion
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    clean_text,
    get_scoped,
    long_text,
    required_text,
    text_or_keep,
)
from carebinder.services.doctors import get_doctor
from carebinder.services.records import get_records

COMPARED_FIELDS = ("diagnosis", "stage", "plan")

THIRD_OPINION_NOTE = (
    "The opinions differ. Insurers usually cover a third opinion when the first two differ."
)
DISCUSS_NOTE = "You can ask the doctors to discuss their conclusions with each other."
# How `opinion compare` (and the web page) marks a field where the opinions differ.
DIFFERS = "≠"
# The rows of the side-by-side comparison: (name shown, field).
COMPARED_ROWS = (("Date", "date"), ("Diagnosis", "diagnosis"), ("Stage", "stage"), ("Plan", "plan"))
NO_OPINIONS = "No opinions yet. Add one: carebinder opinion add --doctor ID --diagnosis TEXT"
ONLY_ONE = "Only one opinion so far: nothing to compare yet."
MARKED = f"{DIFFERS} marks where the opinions differ."
AGREE = "The opinions agree on diagnosis, stage and plan."


def get_opinion(session: Session, patient_id: int, ident: int) -> Opinion:
    return get_scoped(session, Opinion, patient_id, ident, "opinion")


def add_opinion(
    session: Session,
    patient_id: int,
    *,
    doctor: int,
    diagnosis: str,
    date: date | None = None,
    stage: str | None = None,
    plan: str | None = None,
    notes: str | None = None,
    records: Sequence[int] = (),
) -> Opinion:
    opinion = Opinion(
        patient_id=patient_id,
        doctor=get_doctor(session, patient_id, doctor),
        diagnosis=required_text(diagnosis, "diagnosis", limit=20_000),
        date=date,
        stage=clean_text(stage, "stage"),
        plan=long_text(plan, "plan"),
        notes=long_text(notes, "notes"),
        records=get_records(session, patient_id, records),
    )
    session.add(opinion)
    session.flush()
    return opinion


def edit_opinion(
    session: Session,
    opinion: Opinion,
    *,
    doctor: int | Keep = KEEP,
    diagnosis: str | Keep = KEEP,
    date: date | Keep | None = KEEP,
    stage: str | Keep = KEEP,
    plan: str | Keep = KEEP,
    notes: str | Keep = KEEP,
    records: Sequence[int] | Keep = KEEP,
) -> Opinion:
    apply(
        opinion,
        doctor=doctor if doctor is KEEP else get_doctor(session, opinion.patient_id, doctor),
        diagnosis=diagnosis
        if diagnosis is KEEP
        else required_text(diagnosis, "diagnosis", limit=20_000),
        date=date,
        stage=text_or_keep(stage, "stage"),
        plan=text_or_keep(plan, "plan", limit=20_000),
        notes=text_or_keep(notes, "notes", limit=20_000),
        records=records if records is KEEP else get_records(session, opinion.patient_id, records),
    )
    session.flush()
    return opinion


def list_opinions(session: Session, patient_id: int) -> list[Opinion]:
    return list(
        session.scalars(
            select(Opinion)
            .where(Opinion.patient_id == patient_id)
            .options(selectinload(Opinion.doctor), selectinload(Opinion.records))
            .order_by(Opinion.date.is_(None), Opinion.date, Opinion.id)
        )
    )


def remove_opinion(session: Session, opinion: Opinion) -> None:
    session.delete(opinion)
    session.flush()


@dataclass(frozen=True)
class Comparison:
    opinions: list[Opinion]
    # The fields (of COMPARED_FIELDS) on which at least two opinions disagree.
    differing: frozenset[str]

    @property
    def differs(self) -> bool:
        return bool(self.differing)

    @property
    def notes(self) -> list[str]:
        return [THIRD_OPINION_NOTE, DISCUSS_NOTE] if self.differs else []

    def label(self, name: str, field: str) -> str:
        """A row's name, marked with DIFFERS when the opinions differ on its field."""
        return f"{name} {DIFFERS}" if field in self.differing else name

    @property
    def rows(self) -> list[tuple[str, str]]:
        """The comparison's rows: (name, marked when they differ; field)."""
        return [(self.label(name, field), field) for name, field in COMPARED_ROWS]

    @property
    def verdict(self) -> list[str]:
        """What the comparison says under the table (nothing when there are no opinions)."""
        if not self.opinions:
            return []
        if len(self.opinions) == 1:
            return [ONLY_ONE]
        if self.differs:
            return [MARKED, *self.notes]
        return [AGREE]


def _normal(value: str | None) -> str | None:
    """Case, spacing and a final full stop do not make two opinions differ."""
    if value is None:
        return None
    return " ".join(value.casefold().split()).rstrip(". ") or None


def compare(session: Session, patient_id: int) -> Comparison:
    opinions = list_opinions(session, patient_id)
    differing = frozenset(
        field
        for field in COMPARED_FIELDS
        # A field one doctor left blank is not a disagreement.
        if len({_normal(getattr(o, field)) for o in opinions} - {None}) > 1
    )
    return Comparison(opinions, differing)


def latest(session: Session, patient_id: int) -> Opinion | None:
    opinions = list_opinions(session, patient_id)
    return opinions[-1] if opinions else None


def to_json(opinion: Opinion) -> dict[str, Any]:
    return {
        "id": opinion.id,
        "doctor": opinion.doctor_id,
        "doctor_name": opinion.doctor.name,
        "date": opinion.date.isoformat() if opinion.date else None,
        "diagnosis": opinion.diagnosis,
        "stage": opinion.stage,
        "plan": opinion.plan,
        "notes": opinion.notes,
        "records": [record.id for record in opinion.records],
    }


def comparison_to_json(comparison: Comparison) -> dict[str, Any]:
    return {
        "opinions": [to_json(o) for o in comparison.opinions],
        "differing_fields": sorted(comparison.differing),
        "notes": comparison.notes,
    }
