"""The audit trail: every change a command makes is logged as (when, command, action,
table, id, patient id). Never the content: the trail itself holds no patient data.

Changes are seen by the ORM at flush time, so services need not remember to log; rows
removed by the database itself (a patient's records when the patient is removed) are
covered by the event of the row the command removed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from carebinder.columns import utcnow
from carebinder.models import AuditEvent, Patient, SourceKey

COMMAND = "carebinder.command"


def set_command(session: Session, command: str | None) -> None:
    """Name the command whose changes this session makes (e.g. "record add")."""
    session.info[COMMAND] = command


@event.listens_for(Session, "after_flush")
def _record(session: Session, _context: Any) -> None:
    rows = []
    for action, objects in (
        ("add", session.new),
        ("change", (o for o in session.dirty if session.is_modified(o))),
        ("remove", session.deleted),
    ):
        for obj in objects:
            if isinstance(obj, AuditEvent | SourceKey):  # the trail itself, and import bookkeeping
                continue
            key = inspect(obj).mapper.primary_key_from_instance(obj)
            entity_id = key[0] if key else None
            patient_id = entity_id if isinstance(obj, Patient) else getattr(obj, "patient_id", None)
            if patient_id is None and hasattr(obj, "record"):  # a file: its record's patient
                record = obj.record
                patient_id = record.patient_id if record is not None else None
            rows.append(
                {
                    "at": utcnow(),
                    "command": session.info.get(COMMAND),
                    "action": action,
                    "entity": obj.__tablename__,
                    "entity_id": entity_id,
                    "patient_id": patient_id,
                }
            )
    if rows:
        session.connection().execute(insert(AuditEvent), rows)


def events(session: Session, *, patient_id: int | None = None, limit: int = 50) -> list[AuditEvent]:
    """The newest events first; with `patient_id`, only that patient's."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    return list(session.scalars(query))


def to_json(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "command": row.command,
        "action": row.action,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "patient_id": row.patient_id,
    }
