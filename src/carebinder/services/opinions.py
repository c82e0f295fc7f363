"""Opinions: what each doctor concluded, and how the opinions compare."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.models import Laterality, Opinion, StagingBasis
from carebinder.services import staging as checks
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

# The rows of the side-by-side comparison: (name shown, field of `to_json`). Rows no
# opinion fills are left out, except the first four of the free-text era.
COMPARED_ROWS = (
    ("Date", "date"),
    ("Diagnosis", "diagnosis"),
    ("Primary site", "site"),
    ("Laterality", "laterality"),
    ("Histology", "histology"),
    ("Grade", "grade"),
    ("T", "t"),
    ("N", "n"),
    ("M", "m"),
    ("TNM basis", "staging"),
    ("Stage group", "stage"),
    ("AJCC edition", "ajcc_edition"),
    ("ECOG", "ecog"),
    ("Plan", "plan"),
)
ALWAYS_SHOWN = frozenset({"date", "diagnosis", "stage", "plan"})
COMPARED_FIELDS = tuple(field for _, field in COMPARED_ROWS if field != "date")
# Facts that decide the stage and the treatment: a difference is worth a closer look.
DECISIVE = ("t", "n", "m", "grade", "histology")

THIRD_OPINION_NOTE = (
    "The opinions differ. Insurers usually cover a third opinion when the first two differ."
)
DISCUSS_NOTE = "You can ask the doctors to discuss their conclusions with each other."
# How `opinion compare` (and the web page) marks a field where the opinions differ.
DIFFERS = "≠"
NO_OPINIONS = "No opinions yet. Add one: carebinder opinion add --doctor ID --diagnosis TEXT"
ONLY_ONE = "Only one opinion so far: nothing to compare yet."
MARKED = f"{DIFFERS} marks where the opinions differ."
AGREE = "The opinions agree on diagnosis, stage and plan, and on every fact both give."
DECISIVE_NOTE = (
    "They differ on {facts}, which decide the stage and the treatment: ask whether each"
    " doctor saw the same pathology, and whether the slides can be reviewed again."
)


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
    site: str | None = None,
    laterality: Laterality | None = None,
    histology: str | None = None,
    grade: str | None = None,
    t: str | None = None,
    n: str | None = None,
    m: str | None = None,
    staging: StagingBasis | None = None,
    ajcc_edition: int | None = None,
    ecog: int | None = None,
) -> Opinion:
    categories = [checks.category(t, "T", "t"), checks.category(n, "N", "n")]
    categories.append(checks.category(m, "M", "m"))
    opinion = Opinion(
        patient_id=patient_id,
        doctor=get_doctor(session, patient_id, doctor),
        diagnosis=required_text(diagnosis, "diagnosis", limit=20_000),
        date=date,
        stage=clean_text(stage, "stage"),
        plan=long_text(plan, "plan"),
        notes=long_text(notes, "notes"),
        records=get_records(session, patient_id, records),
        site=clean_text(site, "site"),
        laterality=laterality,
        histology=clean_text(histology, "histology"),
        grade=clean_text(grade, "grade"),
        t_category=_value(categories[0]),
        n_category=_value(categories[1]),
        m_category=_value(categories[2]),
        staging=checks.basis_of(staging, categories),
        ajcc_edition=checks.ajcc_edition(ajcc_edition),
        ecog=checks.ecog(ecog),
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
    site: str | Keep = KEEP,
    laterality: Laterality | Keep | None = KEEP,
    histology: str | Keep = KEEP,
    grade: str | Keep = KEEP,
    t: str | Keep = KEEP,
    n: str | Keep = KEEP,
    m: str | Keep = KEEP,
    staging: StagingBasis | Keep | None = KEEP,
    ajcc_edition: int | Keep | None = KEEP,
    ecog: int | Keep | None = KEEP,
) -> Opinion:
    typed = {
        column: checks.category(value, letter, field)
        for column, value, letter, field in (
            ("t_category", t, "T", "t"),
            ("n_category", n, "N", "n"),
            ("m_category", m, "M", "m"),
        )
        if value is not KEEP
    }
    # A c/p typed against the opinion's own basis is refused as against one given: taking
    # it silently would change the basis of the categories not typed (cN0 would read pN0).
    kept = staging is KEEP
    given = opinion.staging if staging is KEEP else staging
    basis = checks.basis_of(given, list(typed.values()), kept=kept)
    apply(
        opinion,
        site=text_or_keep(site, "site"),
        laterality=laterality,
        histology=text_or_keep(histology, "histology"),
        grade=text_or_keep(grade, "grade"),
        staging=basis,
        ajcc_edition=ajcc_edition if ajcc_edition is KEEP else checks.ajcc_edition(ajcc_edition),
        ecog=ecog if ecog is KEEP else checks.ecog(ecog),
        **{column: _value(found) for column, found in typed.items()},
    )
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


def _value(category: checks.Category | None) -> str | None:
    return category.value if category else None


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
        if not self.differs:
            return []
        decisive = [
            NAMES[field] if len(NAMES[field]) == 1 else NAMES[field].lower()
            for field in DECISIVE
            if field in self.differing
        ]
        lines = [THIRD_OPINION_NOTE, DISCUSS_NOTE]
        if decisive:
            facts = ", ".join(decisive[:-1]) + (" and " if len(decisive) > 1 else "")
            lines.insert(1, DECISIVE_NOTE.format(facts=facts + decisive[-1]))
        return lines

    def label(self, name: str, field: str) -> str:
        """A row's name, marked with DIFFERS when the opinions differ on its field."""
        return f"{name} {DIFFERS}" if field in self.differing else name

    @property
    def rows(self) -> list[tuple[str, str]]:
        """The comparison's rows: (name, marked when they differ; field). A structured
        fact no opinion gives has no row."""
        return [
            (self.label(name, field), field)
            for name, field in COMPARED_ROWS
            if field in ALWAYS_SHOWN or any(shown(o, field) for o in self.opinions)
        ]

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


NAMES = {field: name for name, field in COMPARED_ROWS}


def shown(opinion: Opinion, field: str) -> str:
    """A compared field of `opinion` as the comparison shows it ("" when not given)."""
    value = to_json(opinion)[field]
    return "" if value is None else str(value)


def _normal(value: str) -> str | None:
    """Case, spacing and a final full stop do not make two opinions differ."""
    return " ".join(value.casefold().split()).rstrip(". ") or None


def compare(session: Session, patient_id: int) -> Comparison:
    opinions = list_opinions(session, patient_id)
    differing = frozenset(
        field
        for field in COMPARED_FIELDS
        # A field one doctor left blank is not a disagreement.
        if len({_normal(shown(o, field)) for o in opinions} - {None}) > 1
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
        "site": opinion.site,
        "laterality": opinion.laterality.value if opinion.laterality else None,
        "histology": opinion.histology,
        "grade": opinion.grade,
        "t": opinion.t_category,
        "n": opinion.n_category,
        "m": opinion.m_category,
        "staging": opinion.staging.value if opinion.staging else None,
        "tnm": checks.tnm(opinion),
        "ajcc_edition": opinion.ajcc_edition,
        "ecog": opinion.ecog,
    }


def comparison_to_json(comparison: Comparison) -> dict[str, Any]:
    return {
        "opinions": [to_json(o) for o in comparison.opinions],
        "differing_fields": sorted(comparison.differing),
        "notes": comparison.notes,
    }
