"""Service tests: opinions, and how they compare."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import InvalidInput, NotFound
from carebinder.models import Doctor, Opinion, Patient, RecordKind
from carebinder.services import doctors, opinions, records
from carebinder.services.common import KEEP
from carebinder.store import Store


@pytest.fixture
def doctor(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. First")


@pytest.fixture
def second(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. Second")


def _opinion_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Opinion))


def test_add_opinion_stores_every_field(
    session: Session, store: Store, patient: Patient, doctor: Doctor
) -> None:
    r1 = records.add_record(session, store, patient.id, kind=RecordKind.PATHOLOGY, title="Bx")
    r2 = records.add_record(session, store, patient.id, kind=RecordKind.IMAGING, title="CT")
    op = opinions.add_opinion(
        session,
        patient.id,
        doctor=doctor.id,
        diagnosis=" Invasive ductal carcinoma ",
        date=date(2026, 2, 1),
        stage="IIA",
        plan="Surgery, then\nradiation",
        notes="Discussed at tumour board.",
        records=[r2.id, r1.id, r2.id],
    )
    session.expire_all()
    row = opinions.get_opinion(session, patient.id, op.id)
    assert opinions.to_json(row) == {
        "id": op.id,
        "doctor": doctor.id,
        "doctor_name": "Dr. First",
        "date": "2026-02-01",
        "diagnosis": "Invasive ductal carcinoma",
        "stage": "IIA",
        "plan": "Surgery, then\nradiation",
        "notes": "Discussed at tumour board.",
        "records": [r1.id, r2.id],
        # The structured cancer facts, none given.
        "site": None,
        "laterality": None,
        "histology": None,
        "grade": None,
        "t": None,
        "n": None,
        "m": None,
        "staging": None,
        "tnm": None,
        "ajcc_edition": None,
        "ecog": None,
    }


def test_add_opinion_minimal(session: Session, patient: Patient, doctor: Doctor) -> None:
    op = opinions.add_opinion(session, patient.id, doctor=doctor.id, diagnosis="DCIS")
    assert (op.date, op.stage, op.plan, op.notes, op.records) == (None, None, None, None, [])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"diagnosis": ""}, "diagnosis cannot be empty."),
        ({"diagnosis": "  "}, "diagnosis cannot be empty."),
        ({"diagnosis": "x" * 20_001}, "diagnosis is too long"),
        ({"diagnosis": "a\x1bb"}, "diagnosis contains a control character"),
        ({"diagnosis": "Dx", "stage": "II\nA"}, "stage contains a control character"),
        ({"diagnosis": "Dx", "stage": "s" * 201}, "stage is too long"),
        ({"diagnosis": "Dx", "plan": "p" * 20_001}, "plan is too long"),
        ({"diagnosis": "Dx", "notes": "a\x00"}, "notes contains a control character"),
    ],
)
def test_add_opinion_refusals(
    session: Session, patient: Patient, doctor: Doctor, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        opinions.add_opinion(session, patient.id, doctor=doctor.id, **kwargs)
    assert message in str(caught.value)
    assert _opinion_count(session) == 0


def test_add_opinion_multiline_diagnosis_is_accepted(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    op = opinions.add_opinion(session, patient.id, doctor=doctor.id, diagnosis="A\nB\tC")
    assert op.diagnosis == "A\nB\tC"


def test_add_opinion_unknown_doctor_or_record(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    with pytest.raises(NotFound, match="No doctor #99"):
        opinions.add_opinion(session, patient.id, doctor=99, diagnosis="Dx")
    with pytest.raises(NotFound, match="No record #5"):
        opinions.add_opinion(session, patient.id, doctor=doctor.id, diagnosis="Dx", records=[5])
    assert _opinion_count(session) == 0


def test_edit_opinion_keep_semantics(
    session: Session, store: Store, patient: Patient, doctor: Doctor
) -> None:
    rec = records.add_record(session, store, patient.id, kind=RecordKind.PATHOLOGY, title="Bx")
    op = opinions.add_opinion(
        session,
        patient.id,
        doctor=doctor.id,
        diagnosis="IDC",
        date=date(2026, 2, 1),
        stage="IIA",
        plan="Surgery",
        notes="n",
        records=[rec.id],
    )
    opinions.edit_opinion(session, op, notes="updated")
    session.expire_all()
    op = opinions.get_opinion(session, patient.id, op.id)
    assert (op.doctor_id, op.diagnosis, op.date, op.stage, op.plan, op.notes) == (
        doctor.id,
        "IDC",
        date(2026, 2, 1),
        "IIA",
        "Surgery",
        "updated",
    )
    assert [r.id for r in op.records] == [rec.id]


def test_edit_opinion_clears_and_changes(
    session: Session, store: Store, patient: Patient, doctor: Doctor, second: Doctor
) -> None:
    r1 = records.add_record(session, store, patient.id, kind=RecordKind.PATHOLOGY, title="Bx")
    r2 = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="CBC")
    op = opinions.add_opinion(
        session,
        patient.id,
        doctor=doctor.id,
        diagnosis="IDC",
        date=date(2026, 2, 1),
        stage="IIA",
        plan="Surgery",
        notes="n",
        records=[r1.id],
    )
    opinions.edit_opinion(session, op, date=None, stage="", plan="", notes="", records=[])
    session.expire_all()
    op = opinions.get_opinion(session, patient.id, op.id)
    assert (op.date, op.stage, op.plan, op.notes, op.records) == (None, None, None, None, [])
    opinions.edit_opinion(session, op, doctor=second.id, diagnosis="ILC", records=[r2.id])
    session.expire_all()
    op = opinions.get_opinion(session, patient.id, op.id)
    assert (op.doctor_id, op.diagnosis, [r.id for r in op.records]) == (
        second.id,
        "ILC",
        [r2.id],
    )


def test_edit_opinion_refusals_change_nothing(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    op = opinions.add_opinion(session, patient.id, doctor=doctor.id, diagnosis="IDC", stage="I")
    with pytest.raises(InvalidInput, match=r"^diagnosis cannot be empty\.$"):
        opinions.edit_opinion(session, op, diagnosis="", stage="II")
    with pytest.raises(NotFound, match="No record #7"):
        opinions.edit_opinion(session, op, records=[7], stage="II")
    with pytest.raises(NotFound, match="No doctor #7"):
        opinions.edit_opinion(session, op, doctor=7, stage="II")
    assert (op.diagnosis, op.stage, op.doctor_id) == ("IDC", "I", doctor.id)
    opinions.edit_opinion(session, op, diagnosis=KEEP, stage=KEEP)
    assert (op.diagnosis, op.stage) == ("IDC", "I")


def test_list_opinions_in_date_order_undated_last(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    def add(when: date | None) -> int:
        return opinions.add_opinion(
            session, patient.id, doctor=doctor.id, diagnosis="Dx", date=when
        ).id

    undated = add(None)
    later = add(date(2026, 5, 1))
    earlier = add(date(2026, 1, 1))
    assert [o.id for o in opinions.list_opinions(session, patient.id)] == [
        earlier,
        later,
        undated,
    ]
    latest = opinions.latest(session, patient.id)
    assert latest is not None
    assert latest.id == undated


def test_latest_without_opinions(session: Session, patient: Patient) -> None:
    assert opinions.latest(session, patient.id) is None


def test_remove_opinion_keeps_its_records(
    session: Session, store: Store, patient: Patient, doctor: Doctor
) -> None:
    rec = records.add_record(session, store, patient.id, kind=RecordKind.PATHOLOGY, title="Bx")
    op = opinions.add_opinion(
        session, patient.id, doctor=doctor.id, diagnosis="Dx", records=[rec.id]
    )
    opinions.remove_opinion(session, op)
    session.expire_all()
    assert opinions.list_opinions(session, patient.id) == []
    assert [r.id for r in records.list_records(session, patient.id)] == [rec.id]
    with pytest.raises(NotFound):
        opinions.get_opinion(session, patient.id, op.id)


# --- compare --------------------------------------------------------------------------------


def _two(
    session: Session,
    patient: Patient,
    first: Doctor,
    second: Doctor,
    a: dict[str, str | None],
    b: dict[str, str | None],
) -> opinions.Comparison:
    opinions.add_opinion(session, patient.id, doctor=first.id, date=date(2026, 1, 1), **a)
    opinions.add_opinion(session, patient.id, doctor=second.id, date=date(2026, 2, 1), **b)
    return opinions.compare(session, patient.id)


def test_compare_no_opinions(session: Session, patient: Patient) -> None:
    result = opinions.compare(session, patient.id)
    assert (result.opinions, result.differing, result.differs, result.notes) == (
        [],
        frozenset(),
        False,
        [],
    )


def test_compare_single_opinion_never_differs(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    opinions.add_opinion(session, patient.id, doctor=doctor.id, diagnosis="IDC", stage="II")
    result = opinions.compare(session, patient.id)
    assert len(result.opinions) == 1
    assert result.differing == frozenset()
    assert result.notes == []


@pytest.mark.parametrize(
    ("a", "b", "differing"),
    [
        (
            {"diagnosis": "IDC", "stage": "IIA", "plan": "Surgery"},
            {"diagnosis": "IDC", "stage": "IIB", "plan": "Surgery"},
            {"stage"},
        ),
        (
            {"diagnosis": "IDC", "stage": "IIA", "plan": "Surgery"},
            {"diagnosis": "ILC", "stage": "IIA", "plan": "Chemotherapy first"},
            {"diagnosis", "plan"},
        ),
        (
            {"diagnosis": "IDC", "stage": "I", "plan": "Lumpectomy"},
            {"diagnosis": "DCIS", "stage": "0", "plan": "Watch"},
            {"diagnosis", "stage", "plan"},
        ),
    ],
)
def test_compare_finds_the_differing_fields(
    session: Session,
    patient: Patient,
    doctor: Doctor,
    second: Doctor,
    a: dict[str, str],
    b: dict[str, str],
    differing: set[str],
) -> None:
    result = _two(session, patient, doctor, second, a, b)
    assert result.differing == frozenset(differing)
    assert result.differs is True
    assert len(result.notes) == 2
    assert "third opinion" in result.notes[0]
    assert "differ" in result.notes[0]
    assert "discuss their conclusions" in result.notes[1]
    assert result.notes == [opinions.THIRD_OPINION_NOTE, opinions.DISCUSS_NOTE]
    assert [o.doctor_id for o in result.opinions] == [doctor.id, second.id]


def test_the_comparison_marks_the_rows_that_differ_and_says_what_it_found(
    session: Session, patient: Patient, doctor: Doctor, second: Doctor
) -> None:
    """Both faces show these rows and these lines: the marks and words are the service's."""
    assert opinions.compare(session, patient.id).verdict == []
    opinions.add_opinion(session, patient.id, doctor=doctor.id, diagnosis="IDC", stage="IIA")
    alone = opinions.compare(session, patient.id)
    # Structured facts no opinion gives have no row.
    assert alone.rows == [
        ("Date", "date"),
        ("Diagnosis", "diagnosis"),
        ("Stage group", "stage"),
        ("Plan", "plan"),
    ]
    assert alone.verdict == ["Only one opinion so far: nothing to compare yet."]
    opinions.add_opinion(session, patient.id, doctor=second.id, diagnosis="idc.", stage="IIA")
    assert opinions.compare(session, patient.id).verdict == [
        "The opinions agree on diagnosis, stage and plan, and on every fact both give."
    ]
    opinions.add_opinion(session, patient.id, doctor=second.id, diagnosis="IDC", stage="IIB")
    differing = opinions.compare(session, patient.id)
    assert differing.rows == [
        ("Date", "date"),
        ("Diagnosis", "diagnosis"),
        ("Stage group ≠", "stage"),
        ("Plan", "plan"),
    ]
    assert differing.verdict == [
        "≠ marks where the opinions differ.",
        opinions.THIRD_OPINION_NOTE,
        opinions.DISCUSS_NOTE,
    ]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Invasive ductal carcinoma", "INVASIVE DUCTAL CARCINOMA"),
        ("Invasive ductal carcinoma", "Invasive   ductal\ncarcinoma"),
        ("Invasive ductal carcinoma.", "Invasive ductal carcinoma"),
        ("  invasive Ductal carcinoma. ", "Invasive ductal  CARCINOMA"),
    ],
)
def test_compare_ignores_case_spacing_and_final_full_stop(
    session: Session, patient: Patient, doctor: Doctor, second: Doctor, left: str, right: str
) -> None:
    result = _two(
        session,
        patient,
        doctor,
        second,
        {"diagnosis": left, "stage": "Stage IIA.", "plan": "Surgery then radiation."},
        {"diagnosis": right, "stage": "stage iia", "plan": "surgery  then radiation"},
    )
    assert result.differing == frozenset()
    assert result.differs is False
    assert result.notes == []


def test_compare_ignores_spacing_before_the_final_full_stop(
    session: Session, patient: Patient, doctor: Doctor, second: Doctor
) -> None:
    result = _two(
        session,
        patient,
        doctor,
        second,
        {"diagnosis": "IDC", "stage": "Stage IIA ."},
        {"diagnosis": "IDC", "stage": "stage iia"},
    )
    assert result.differing == frozenset()


def test_compare_with_three_opinions_one_outlier(
    session: Session, patient: Patient, doctor: Doctor, second: Doctor
) -> None:
    third = doctors.add_doctor(session, patient.id, name="Dr. Third")
    for d, plan in ((doctor, "Surgery"), (second, "surgery."), (third, "Chemotherapy")):
        opinions.add_opinion(session, patient.id, doctor=d.id, diagnosis="IDC", plan=plan)
    result = opinions.compare(session, patient.id)
    assert result.differing == frozenset({"plan"})
    assert len(result.opinions) == 3


def test_compare_only_looks_at_this_patients_opinions(
    session: Session, patient: Patient, other_patient: Patient, doctor: Doctor
) -> None:
    theirs = doctors.add_doctor(session, other_patient.id, name="Dr. Theirs")
    opinions.add_opinion(session, patient.id, doctor=doctor.id, diagnosis="IDC", stage="I")
    opinions.add_opinion(session, other_patient.id, doctor=theirs.id, diagnosis="SCLC", stage="IV")
    result = opinions.compare(session, patient.id)
    assert result.differing == frozenset()
    assert [o.diagnosis for o in result.opinions] == ["IDC"]


def test_comparison_to_json(
    session: Session, patient: Patient, doctor: Doctor, second: Doctor
) -> None:
    result = _two(
        session,
        patient,
        doctor,
        second,
        {"diagnosis": "IDC", "stage": "I"},
        {"diagnosis": "ILC", "stage": "II"},
    )
    data = opinions.comparison_to_json(result)
    assert data["differing_fields"] == ["diagnosis", "stage"]
    assert data["notes"] == [opinions.THIRD_OPINION_NOTE, opinions.DISCUSS_NOTE]
    assert [o["diagnosis"] for o in data["opinions"]] == ["IDC", "ILC"]
