"""Service tests: results (markers and biomarkers) and their trends."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import InvalidInput, NotFound
from carebinder.models import Interpretation, Patient, Record, RecordKind
from carebinder.models import Result as ResultRow
from carebinder.services import records, results
from carebinder.store import Store


@pytest.fixture
def record(session: Session, store: Store, patient: Patient) -> Record:
    return records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="Markers")


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ResultRow))


def _add(
    session: Session, patient: Patient, name: str, value: str, on: date | None = None
) -> ResultRow:
    return results.add_result(session, patient.id, name=name, value=value, on=on)


def test_add_result_stores_every_field(session: Session, patient: Patient, record: Record) -> None:
    r = results.add_result(
        session,
        patient.id,
        name=" CA 19-9 ",
        value=" 120 ",
        unit="U/mL",
        on=date(2026, 11, 2),
        record=record.id,
        interpretation=Interpretation.HIGH,
        notes="Rising since June.",
    )
    session.expire_all()
    row = results.get_result(session, patient.id, r.id)
    assert results.to_json(row) == {
        "id": r.id,
        "name": "CA 19-9",
        "value": "120",
        "unit": "U/mL",
        "date": "2026-11-02",
        "interpretation": "high",
        "record": record.id,
        "notes": "Rising since June.",
    }


@pytest.mark.parametrize(
    ("a", "b"),
    [("CA 19-9", "CA19-9"), ("CA 19-9", "ca 19 9"), ("Ki-67", "KI67"), ("HER2", "her-2")],
)
def test_one_marker_however_it_is_written(a: str, b: str) -> None:
    assert results.marker_key(a) == results.marker_key(b)


def test_different_markers_stay_apart() -> None:
    assert results.marker_key("CA 19-9") != results.marker_key("CA-125")
    assert results.marker_key("PR") != results.marker_key("PSA")


@pytest.mark.parametrize(
    ("value", "number"),
    [("37", 37.0), ("12.5", 12.5), ("1,200", 1200.0), ("3+", None), ("positive", None)],
)
def test_a_value_is_a_number_or_words(value: str, number: float | None) -> None:
    assert results.number(value) == number


def test_a_record_not_in_the_binder_is_refused(
    session: Session, store: Store, patient: Patient, other_patient: Patient
) -> None:
    with pytest.raises(NotFound, match="No record #99 in this binder"):
        results.add_result(session, patient.id, name="PSA", value="4.1", record=99)
    theirs = records.add_record(session, store, other_patient.id, kind=RecordKind.LAB, title="X")
    with pytest.raises(NotFound, match=f"No record #{theirs.id}"):
        results.add_result(session, patient.id, name="PSA", value="4.1", record=theirs.id)
    assert _count(session) == 0


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [("", "37", "name"), ("CA-125", "", "value"), ("CA-125", "  ", "value")],
)
def test_a_result_needs_a_name_and_a_value(
    session: Session, patient: Patient, name: str, value: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _add(session, patient, name, value)
    assert refused.value.field == field
    assert refused.value.message == f"{field} cannot be empty."
    assert _count(session) == 0


def test_edit_changes_and_clears_fields(session: Session, patient: Patient, record: Record) -> None:
    r = results.add_result(session, patient.id, name="ER", value="90", unit="%", record=record.id)
    results.edit_result(
        session, r, value="95", on=date(2026, 10, 2), record=None, unit="", interpretation=None
    )
    data = results.to_json(r)
    assert (data["value"], data["date"], data["record"], data["unit"]) == (
        "95",
        "2026-10-02",
        None,
        None,
    )
    with pytest.raises(InvalidInput, match="value cannot be empty"):
        results.edit_result(session, r, value="")
    session.expire_all()
    assert r.value == "95"


# --- lists and trends ----------------------------------------------------------------------


@pytest.fixture
def history(session: Session, patient: Patient) -> list[ResultRow]:
    """CA 19-9 three times, written three ways, added out of order; HER2 and ER once."""
    return [
        _add(session, patient, "CA19-9", "120", date(2026, 11, 2)),
        _add(session, patient, "HER2", "1+"),
        _add(session, patient, "CA 19-9", "37", date(2026, 6, 1)),
        _add(session, patient, "ER", "95", date(2026, 5, 1)),
        _add(session, patient, "ca 19 9", "80", date(2026, 9, 1)),
    ]


def test_list_results_by_marker_then_date(
    session: Session, patient: Patient, history: list[ResultRow]
) -> None:
    rows = results.list_results(session, patient.id)
    assert [(r.name, r.value) for r in rows] == [
        ("CA 19-9", "37"),
        ("ca 19 9", "80"),
        ("CA19-9", "120"),
        ("ER", "95"),
        ("HER2", "1+"),
    ]


@pytest.mark.parametrize("asked", ["CA 19-9", "CA19-9", "ca19 9"])
def test_one_markers_values_in_date_order(
    session: Session, patient: Patient, history: list[ResultRow], asked: str
) -> None:
    rows = results.list_results(session, patient.id, name=asked)
    assert [r.value for r in rows] == ["37", "80", "120"]
    assert results.list_results(session, patient.id, name="PSA") == []


def test_a_blank_marker_name_is_refused(session: Session, patient: Patient) -> None:
    with pytest.raises(InvalidInput, match="name cannot be empty"):
        results.list_results(session, patient.id, name=" ")


def test_trends_group_each_marker_first_to_latest(
    session: Session, patient: Patient, history: list[ResultRow]
) -> None:
    found = results.trends(results.list_results(session, patient.id))
    assert [(t.name, len(t.values), t.repeated) for t in found] == [
        ("CA19-9", 3, True),  # named as its latest value names it
        ("ER", 1, False),
        ("HER2", 1, False),
    ]
    ca = found[0]
    assert (ca.first.value, ca.first.taken_on) == ("37", date(2026, 6, 1))
    assert (ca.latest.value, ca.latest.taken_on) == ("120", date(2026, 11, 2))
    assert found[1].first is found[1].latest


def test_an_undated_value_comes_before_the_dated_ones(session: Session, patient: Patient) -> None:
    _add(session, patient, "PSA", "6.2", date(2026, 3, 1))
    _add(session, patient, "PSA", "4.0")
    (trend,) = results.trends(results.list_results(session, patient.id))
    assert [r.value for r in trend.values] == ["4.0", "6.2"]
    assert trend.latest.value == "6.2"


def test_trends_of_results_in_any_order(session: Session, patient: Patient) -> None:
    late = _add(session, patient, "CEA", "9", date(2026, 9, 1))
    early = _add(session, patient, "CEA", "3", date(2026, 1, 1))
    (trend,) = results.trends([late, early])
    assert trend.values == [early, late]


def test_one_patients_results_never_reach_another(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    r = _add(session, patient, "PSA", "4.1")
    with pytest.raises(NotFound, match=f"No result #{r.id}"):
        results.get_result(session, other_patient.id, r.id)
    assert results.list_results(session, other_patient.id, name="PSA") == []


def test_remove_result(session: Session, patient: Patient) -> None:
    results.remove_result(session, _add(session, patient, "PSA", "4.1"))
    assert _count(session) == 0
