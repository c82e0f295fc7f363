"""Materials: glass slides, tissue blocks, imaging discs and records requests."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.errors import FIELD, InvalidInput
from carebinder.models import Material, MaterialKind, MaterialStatus
from carebinder.services.common import clean_text, get_scoped, iso, required_text

# The date column each status sets when the material reaches it.
STATUS_DATE = {
    MaterialStatus.REQUESTED: "requested_on",
    MaterialStatus.RECEIVED: "received_on",
    MaterialStatus.SENT: "sent_on",
    MaterialStatus.RETURNED: "returned_on",
}
# In hand, already with the new doctor, or done with and returned.
READY_STATUSES = frozenset({MaterialStatus.RECEIVED, MaterialStatus.SENT, MaterialStatus.RETURNED})


def get_material(session: Session, patient_id: int, ident: int) -> Material:
    return get_scoped(session, Material, patient_id, ident, "material")


def add_material(
    session: Session,
    patient_id: int,
    *,
    kind: MaterialKind,
    description: str,
    institution: str | None = None,
    status: MaterialStatus = MaterialStatus.NEEDED,
    on: date | None = None,
) -> Material:
    material = Material(
        patient_id=patient_id,
        kind=kind,
        description=required_text(description, "description", limit=2_000),
        institution=clean_text(institution, "institution"),
    )
    _set_status(material, status, on)
    session.add(material)
    session.flush()
    return material


def update_material(
    session: Session, material: Material, *, status: MaterialStatus, on: date | None = None
) -> Material:
    _set_status(material, status, on)
    session.flush()
    return material


def _set_status(material: Material, status: MaterialStatus, on: date | None) -> None:
    column = STATUS_DATE.get(status)
    if column is None and on is not None:
        raise InvalidInput(
            f"{FIELD}: a material that is {status.value} has no date. Give {FIELD} with"
            " requested, received, sent or returned.",
            field="date",
        )
    material.status = status
    if column is not None:
        setattr(material, column, on or date.today())


def list_materials(session: Session, patient_id: int) -> list[Material]:
    return list(
        session.scalars(
            select(Material).where(Material.patient_id == patient_id).order_by(Material.id)
        )
    )


def remove_material(session: Session, material: Material) -> None:
    session.delete(material)
    session.flush()


def to_json(material: Material) -> dict[str, Any]:
    return {
        "id": material.id,
        "kind": material.kind.value,
        "description": material.description,
        "institution": material.institution,
        "status": material.status.value,
        "requested_on": iso(material.requested_on),
        "received_on": iso(material.received_on),
        "sent_on": iso(material.sent_on),
        "returned_on": iso(material.returned_on),
    }
