"""Service tests: other conditions (comorbidities)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import InvalidInput, NotFound
from carebinder.models import Condition, Patient
from carebinder.services import conditions


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Condition))


def test_add_condition_stores_every_field(session: Session, patient: Patient) -> None:
    c = conditions.add_condition(
        session,
        patient.id,
        name=" Type 2 diabetes ",
        since=date(2015, 3, 1),
        notes="On metformin.\nA1c 7.1%.",
    )
    session.expire_all()
    row = conditions.get_condition(session, patient.id, c.id)
    assert conditions.to_json(row) == {
        "id": c.id,
        "name": "Type 2 diabetes",
        "since": "2015-03-01",
        "notes": "On metformin.\nA1c 7.1%.",
    }


def test_edit_changes_and_clears_fields(session: Session, patient: Patient) -> None:
    c = conditions.add_condition(session, patient.id, name="Hypertension", since=date(2010, 1, 1))
    conditions.edit_condition(session, c, name="High blood pressure", since=None, notes="Mild")
    assert conditions.to_json(c) == {
        "id": c.id,
        "name": "High blood pressure",
        "since": None,
        "notes": "Mild",
    }
    conditions.edit_condition(session, c, notes="")
    assert c.notes is None


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "name cannot be empty."), ("x" * 201, "name is too long"), ("a\x1bb", "name contains")],
)
def test_a_bad_name_is_refused_and_nothing_is_added(
    session: Session, patient: Patient, name: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        conditions.add_condition(session, patient.id, name=name)
    assert refused.value.field == "name"
    assert refused.value.message.startswith(message)
    assert _count(session) == 0


def test_edit_to_an_empty_name_is_refused(session: Session, patient: Patient) -> None:
    c = conditions.add_condition(session, patient.id, name="Asthma")
    with pytest.raises(InvalidInput, match="name cannot be empty"):
        conditions.edit_condition(session, c, name="")
    session.expire_all()
    assert c.name == "Asthma"


def test_listed_by_name(session: Session, patient: Patient) -> None:
    for name in ("hypertension", "Asthma", "Type 2 diabetes", "COPD"):
        conditions.add_condition(session, patient.id, name=name)
    names = [c.name for c in conditions.list_conditions(session, patient.id)]
    assert names == ["Asthma", "COPD", "hypertension", "Type 2 diabetes"]


def test_one_patients_conditions_never_reach_another(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    c = conditions.add_condition(session, patient.id, name="Asthma")
    with pytest.raises(NotFound, match=f"No condition #{c.id} in this binder"):
        conditions.get_condition(session, other_patient.id, c.id)
    assert conditions.list_conditions(session, other_patient.id) == []


def test_remove_condition(session: Session, patient: Patient) -> None:
    conditions.remove_condition(session, conditions.add_condition(session, patient.id, name="X"))
    assert _count(session) == 0
