"""Results: values of markers and biomarkers (ER, HER2, Ki-67, CA-125, PSA, a BRCA1
variant…). Values of one marker over time are its trend.

A marker is known by its name however it is written: "CA 19-9", "CA19-9" and "ca 19 9"
are one marker (`marker_key`), so values typed by hand and values imported line up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.models import Interpretation, Result
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    clean_text,
    get_scoped,
    iso,
    long_text,
    required_text,
    text_or_keep,
)
from carebinder.services.records import get_record


def marker_key(name: str) -> str:
    """What makes two names one marker: letters and digits, case ignored."""
    return "".join(char for char in name.casefold() if char.isalnum())


def number(value: str) -> float | None:
    """The value as a number ("12.5", "1,200"), or None for words ("3+", "positive")."""
    try:
        return float(value.replace(",", ""))
    except ValueError:
        return None


@dataclass(frozen=True)
class Trend:
    """One marker's values, oldest first (undated values before dated ones)."""

    name: str
    values: list[Result]

    @property
    def latest(self) -> Result:
        return self.values[-1]

    @property
    def first(self) -> Result:
        return self.values[0]

    @property
    def repeated(self) -> bool:
        return len(self.values) > 1


def get_result(session: Session, patient_id: int, ident: int) -> Result:
    return get_scoped(session, Result, patient_id, ident, "result")


def add_result(
    session: Session,
    patient_id: int,
    *,
    name: str,
    value: str,
    unit: str | None = None,
    on: date | None = None,
    record: int | None = None,
    interpretation: Interpretation | None = None,
    notes: str | None = None,
) -> Result:
    result = Result(
        patient_id=patient_id,
        name=required_text(name, "name"),
        value=required_text(value, "value"),
        unit=clean_text(unit, "unit"),
        taken_on=on,
        record=None if record is None else get_record(session, patient_id, record),
        interpretation=interpretation,
        notes=long_text(notes, "notes"),
    )
    session.add(result)
    session.flush()
    return result


def edit_result(
    session: Session,
    result: Result,
    *,
    name: str | Keep = KEEP,
    value: str | Keep = KEEP,
    unit: str | Keep = KEEP,
    on: date | Keep | None = KEEP,
    record: int | Keep | None = KEEP,
    interpretation: Interpretation | Keep | None = KEEP,
    notes: str | Keep = KEEP,
) -> Result:
    apply(
        result,
        name=name if name is KEEP else required_text(name, "name"),
        value=value if value is KEEP else required_text(value, "value"),
        unit=text_or_keep(unit, "unit"),
        taken_on=on,
        record=record
        if record is KEEP
        else None
        if record is None
        else get_record(session, result.patient_id, record),
        interpretation=interpretation,
        notes=text_or_keep(notes, "notes", limit=20_000),
    )
    session.flush()
    return result


def _in_time(result: Result) -> tuple[date, int]:
    return (result.taken_on or date.min, result.id)


def list_results(session: Session, patient_id: int, name: str | None = None) -> list[Result]:
    """All results by marker name, each marker's values in date order; with `name`, that
    marker's values only (its trend)."""
    query = (
        select(Result).where(Result.patient_id == patient_id).options(selectinload(Result.record))
    )
    if name is not None:
        # The names alone first: a binder imported from a hospital's records holds hundreds
        # of results, and only one marker's rows are wanted whole.
        wanted = marker_key(required_text(name, "name"))
        names = session.execute(
            select(Result.id, Result.name).where(Result.patient_id == patient_id)
        )
        query = query.where(Result.id.in_([i for i, n in names if marker_key(n) == wanted]))
    rows = session.scalars(query)
    return sorted(rows, key=lambda r: (marker_key(r.name), *_in_time(r)))


def trends(results: Iterable[Result]) -> list[Trend]:
    """`results` grouped by marker, each in date order; markers in the order first seen,
    named as their latest value names them."""
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(marker_key(result.name), []).append(result)
    found = [sorted(values, key=_in_time) for values in groups.values()]
    return [Trend(values[-1].name, values) for values in found]


def remove_result(session: Session, result: Result) -> None:
    session.delete(result)
    session.flush()


def to_json(result: Result) -> dict[str, Any]:
    return {
        "id": result.id,
        "name": result.name,
        "value": result.value,
        "unit": result.unit,
        "date": iso(result.taken_on),
        "interpretation": result.interpretation.value if result.interpretation else None,
        "record": result.record_id,
        "notes": result.notes,
    }
