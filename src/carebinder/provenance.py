"""Keeps `source_key` (where imported rows came from) true when rows are removed.

A removed row's keys go with it, in the same flush: otherwise a new row that reuses the
id (SQLite reuses the highest one) would be taken by the next import for the row that was
removed, and the removed row would never come back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, event, inspect, tuple_
from sqlalchemy.orm import Session

from carebinder.models import SourceKey

# The tables whose rows an import makes (a patient's keys go with the patient, by cascade).
IMPORTED = frozenset(
    {
        "doctor",
        "record",
        "opinion",
        "appointment",
        "question",
        "material",
        "medication",
        "allergy",
        "condition",
        "treatment",
        "result",
    }
)


@event.listens_for(Session, "after_flush")
def _forget_removed(session: Session, _context: Any) -> None:
    removed = [
        (obj.__tablename__, inspect(obj).identity[0])
        for obj in session.deleted
        if getattr(obj, "__tablename__", None) in IMPORTED and inspect(obj).identity
    ]
    if removed:
        session.connection().execute(
            delete(SourceKey).where(tuple_(SourceKey.entity, SourceKey.entity_id).in_(removed))
        )
