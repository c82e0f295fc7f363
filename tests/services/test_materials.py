"""Service tests: materials (slides, blocks, discs, records requests) and their status dates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import InvalidInput, NotFound
from carebinder.models import Material, MaterialKind, MaterialStatus, Patient
from carebinder.services import materials


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Material))


def test_add_material_defaults_to_needed(session: Session, patient: Patient) -> None:
    m = materials.add_material(
        session,
        patient.id,
        kind=MaterialKind.GLASS_SLIDES,
        description=" H&E slides, block A1 ",
        institution=" MGH Pathology ",
    )
    session.expire_all()
    row = materials.get_material(session, patient.id, m.id)
    assert materials.to_json(row) == {
        "id": m.id,
        "kind": "glass-slides",
        "description": "H&E slides, block A1",
        "institution": "MGH Pathology",
        "status": "needed",
        "requested_on": None,
        "received_on": None,
        "sent_on": None,
        "returned_on": None,
    }


def test_add_material_needed_refuses_a_date(session: Session, patient: Patient) -> None:
    with pytest.raises(InvalidInput, match="date: a material that is needed has no date"):
        materials.add_material(
            session, patient.id, kind=MaterialKind.OTHER, description="x", on=date(2026, 1, 1)
        )
    assert materials.list_materials(session, patient.id) == []


@pytest.mark.parametrize(
    ("status", "column"),
    [
        (MaterialStatus.REQUESTED, "requested_on"),
        (MaterialStatus.RECEIVED, "received_on"),
        (MaterialStatus.SENT, "sent_on"),
        (MaterialStatus.RETURNED, "returned_on"),
    ],
)
def test_add_material_with_status_sets_its_date(
    session: Session, patient: Patient, status: MaterialStatus, column: str
) -> None:
    m = materials.add_material(
        session,
        patient.id,
        kind=MaterialKind.IMAGING_DISC,
        description="CT disc",
        status=status,
        on=date(2026, 10, 5),
    )
    session.expire_all()
    row = materials.get_material(session, patient.id, m.id)
    assert row.status is status
    dates = {
        name: getattr(row, name)
        for name in ("requested_on", "received_on", "sent_on", "returned_on")
    }
    assert dates == {name: (date(2026, 10, 5) if name == column else None) for name in dates}


def test_update_material_through_its_life(session: Session, patient: Patient) -> None:
    m = materials.add_material(
        session, patient.id, kind=MaterialKind.TISSUE_BLOCKS, description="Block A1"
    )
    materials.update_material(session, m, status=MaterialStatus.REQUESTED, on=date(2026, 10, 1))
    materials.update_material(session, m, status=MaterialStatus.RECEIVED)
    materials.update_material(session, m, status=MaterialStatus.SENT, on=date(2026, 10, 9))
    session.expire_all()
    row = materials.get_material(session, patient.id, m.id)
    assert (row.status, row.requested_on, row.received_on, row.sent_on, row.returned_on) == (
        MaterialStatus.SENT,
        date(2026, 10, 1),
        date.today(),
        date(2026, 10, 9),
        None,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"description": ""}, "description cannot be empty."),
        (
            {"description": "d" * 2_001},
            "description is too long (2,001 characters; at most 2,000).",
        ),
        ({"description": "ok", "institution": "M\nGH"}, "institution contains a control character"),
        ({"description": "ok", "institution": "i" * 201}, "institution is too long"),
    ],
)
def test_add_material_refusals(
    session: Session, patient: Patient, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        materials.add_material(session, patient.id, kind=MaterialKind.OTHER, **kwargs)
    assert message in str(caught.value)
    assert _count(session) == 0


def test_list_and_remove_materials(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    a = materials.add_material(session, patient.id, kind=MaterialKind.OTHER, description="A")
    b = materials.add_material(session, patient.id, kind=MaterialKind.OTHER, description="B")
    theirs = materials.add_material(
        session, other_patient.id, kind=MaterialKind.OTHER, description="C"
    )
    assert [m.id for m in materials.list_materials(session, patient.id)] == [a.id, b.id]
    materials.remove_material(session, a)
    assert [m.id for m in materials.list_materials(session, patient.id)] == [b.id]
    assert [m.id for m in materials.list_materials(session, other_patient.id)] == [theirs.id]
    with pytest.raises(NotFound, match=f"^No material #{a.id} in this binder"):
        materials.get_material(session, patient.id, a.id)


def test_ready_statuses() -> None:
    assert (
        frozenset({MaterialStatus.RECEIVED, MaterialStatus.SENT, MaterialStatus.RETURNED})
        == materials.READY_STATUSES
    )
