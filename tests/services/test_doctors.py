"""Service tests: doctors (care team, referrals, and the rules for removing one)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from carebinder.db import session_scope
from carebinder.errors import Conflict, InvalidInput, NotFound
from carebinder.models import Doctor, DoctorRole, Patient, Question, Record, RecordKind
from carebinder.services import appointments, doctors, opinions, patients, questions, records
from carebinder.services.common import KEEP
from carebinder.store import Store


def _doctor_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Doctor))


def test_add_doctor_stores_every_field(session: Session, patient: Patient) -> None:
    ref = doctors.add_doctor(session, patient.id, name="Dr. Primary")
    d = doctors.add_doctor(
        session,
        patient.id,
        name=" Dr. Wei Chen ",
        role=DoctorRole.SECOND_OPINION,
        referred_by=ref.id,
        npi="1234567893",
        address="1 Main St\nBoston",
        notes="Very kind.\nCall before noon.",
        specialty="Oncology",
        institution="Dana-Farber",
        phone="617-555-0100",
        email="chen@example.org",
    )
    session.expire_all()
    row = doctors.get_doctor(session, patient.id, d.id)
    assert doctors.to_json(row) == {
        "id": d.id,
        "name": "Dr. Wei Chen",
        "specialty": "Oncology",
        "institution": "Dana-Farber",
        "role": "second-opinion",
        "phone": "617-555-0100",
        "email": "chen@example.org",
        "address": "1 Main St\nBoston",
        "npi": "1234567893",
        "referred_by": ref.id,
        "notes": "Very kind.\nCall before noon.",
    }
    assert row.referred_by is not None
    assert row.referred_by.name == "Dr. Primary"
    assert row.patient_id == patient.id


def test_add_doctor_minimal(session: Session, patient: Patient) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. X")
    assert (d.role, d.npi, d.referred_by, d.specialty, d.notes) == (None, None, None, None, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name cannot be empty."),
        ({"name": "Dr.\x00X"}, "name contains a control character"),
        ({"name": "D" * 201}, "name is too long (201 characters; at most 200)."),
        ({"name": "Dr. X", "specialty": "Onc\nology"}, "specialty contains a control character"),
        ({"name": "Dr. X", "institution": "I" * 201}, "institution is too long"),
        ({"name": "Dr. X", "notes": "n" * 20_001}, "notes is too long (20,001 characters"),
        ({"name": "Dr. X", "address": "a\x1bb"}, "address contains a control character"),
        ({"name": "Dr. X", "npi": "123456789"}, "npi: an NPI is 10 digits"),
        ({"name": "Dr. X", "npi": "12345678901"}, "npi: an NPI is 10 digits"),
        ({"name": "Dr. X", "npi": "12345678ab"}, "npi: an NPI is 10 digits"),
        # Full-width digits pass str.isdigit() but are not an NPI.
        ({"name": "Dr. X", "npi": "１２３４５６７８９３"}, "npi: an NPI is 10 digits"),
    ],
)
def test_add_doctor_refusals_name_the_option(
    session: Session, patient: Patient, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        doctors.add_doctor(session, patient.id, **kwargs)
    assert message in str(caught.value)
    assert _doctor_count(session) == 0


def test_add_doctor_npi_is_stripped(session: Session, patient: Patient) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. X", npi=" 1234567893 ")
    assert d.npi == "1234567893"


def test_add_doctor_unknown_referrer(session: Session, patient: Patient) -> None:
    with pytest.raises(NotFound, match="No doctor #42"):
        doctors.add_doctor(session, patient.id, name="Dr. X", referred_by=42)
    assert _doctor_count(session) == 0


def test_get_doctor_unknown(session: Session, patient: Patient) -> None:
    with pytest.raises(NotFound) as caught:
        doctors.get_doctor(session, patient.id, 5)
    assert str(caught.value) == "No doctor #5 in this binder. See `carebinder doctor list`."


def test_list_doctors_sorted_by_name(session: Session, patient: Patient) -> None:
    c = doctors.add_doctor(session, patient.id, name="Dr. C")
    a = doctors.add_doctor(session, patient.id, name="Dr. A")
    b = doctors.add_doctor(session, patient.id, name="Dr. B")
    assert [d.id for d in doctors.list_doctors(session, patient.id)] == [a.id, b.id, c.id]


def test_edit_doctor_keep_semantics(session: Session, patient: Patient) -> None:
    ref = doctors.add_doctor(session, patient.id, name="Dr. Ref")
    d = doctors.add_doctor(
        session,
        patient.id,
        name="Dr. X",
        role=DoctorRole.TREATING,
        referred_by=ref.id,
        npi="1234567893",
        specialty="Oncology",
        phone="111",
        notes="note",
    )
    doctors.edit_doctor(session, d, institution="MGH")
    session.expire_all()
    d = doctors.get_doctor(session, patient.id, d.id)
    assert (d.name, d.role, d.referred_by_id, d.npi, d.specialty, d.phone, d.notes) == (
        "Dr. X",
        DoctorRole.TREATING,
        ref.id,
        "1234567893",
        "Oncology",
        "111",
        "note",
    )
    assert d.institution == "MGH"


def test_edit_doctor_clears_optional_fields(session: Session, patient: Patient) -> None:
    ref = doctors.add_doctor(session, patient.id, name="Dr. Ref")
    d = doctors.add_doctor(
        session,
        patient.id,
        name="Dr. X",
        role=DoctorRole.TREATING,
        referred_by=ref.id,
        npi="1234567893",
        specialty="Oncology",
        notes="note",
        address="addr",
    )
    doctors.edit_doctor(
        session, d, role=None, referred_by=None, npi="", specialty="", notes="", address=""
    )
    session.expire_all()
    d = doctors.get_doctor(session, patient.id, d.id)
    assert (d.role, d.referred_by_id, d.npi, d.specialty, d.notes, d.address) == (
        None,
        None,
        None,
        None,
        None,
        None,
    )
    assert d.name == "Dr. X"


def test_edit_doctor_changes_values(session: Session, patient: Patient) -> None:
    ref = doctors.add_doctor(session, patient.id, name="Dr. Ref")
    d = doctors.add_doctor(session, patient.id, name="Dr. X")
    doctors.edit_doctor(
        session, d, name="Dr. Y", role=DoctorRole.OTHER, referred_by=ref.id, email="y@e.org"
    )
    session.expire_all()
    d = doctors.get_doctor(session, patient.id, d.id)
    assert (d.name, d.role, d.referred_by_id, d.email) == (
        "Dr. Y",
        DoctorRole.OTHER,
        ref.id,
        "y@e.org",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name cannot be empty."),
        ({"npi": "abc"}, "npi: an NPI is 10 digits"),
        ({"phone": "1\n2"}, "phone contains a control character"),
        ({"notes": "x" * 20_001}, "notes is too long"),
    ],
)
def test_edit_doctor_refusals_change_nothing(
    session: Session, patient: Patient, kwargs: dict[str, str], message: str
) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. X", npi="1234567893", phone="1")
    with pytest.raises(InvalidInput) as caught:
        doctors.edit_doctor(session, d, specialty="Surgery", **kwargs)
    assert message in str(caught.value)
    assert (d.name, d.npi, d.phone, d.specialty, d.notes) == (
        "Dr. X",
        "1234567893",
        "1",
        None,
        None,
    )


def test_edit_doctor_refuses_self_referral(session: Session, patient: Patient) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. X")
    with pytest.raises(InvalidInput, match=r"^referred by:"):
        doctors.edit_doctor(session, d, referred_by=d.id)
    assert d.referred_by is None


def test_edit_doctor_refuses_referral_loop(session: Session, patient: Patient) -> None:
    b = doctors.add_doctor(session, patient.id, name="Dr. B")
    a = doctors.add_doctor(session, patient.id, name="Dr. A", referred_by=b.id)
    c = doctors.add_doctor(session, patient.id, name="Dr. C", referred_by=a.id)
    with pytest.raises(InvalidInput, match=r"^referred by:"):
        doctors.edit_doctor(session, b, referred_by=c.id)
    assert b.referred_by is None
    # A chain without a loop is fine.
    doctors.edit_doctor(session, c, referred_by=b.id)
    assert c.referred_by_id == b.id


def test_edit_doctor_keep_is_the_default_for_every_argument(
    session: Session, patient: Patient
) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. X", specialty="Onc")
    doctors.edit_doctor(
        session, d, name=KEEP, role=KEEP, referred_by=KEEP, npi=KEEP, notes=KEEP, specialty=KEEP
    )
    assert (d.name, d.specialty) == ("Dr. X", "Onc")


# --- removal --------------------------------------------------------------------------------


def _visit(session: Session, pid: int, doctor_id: int) -> None:
    appointments.add_appointment(
        session,
        pid,
        doctor=doctor_id,
        starts_at=datetime(2030, 5, 1, 14, 0, tzinfo=UTC),
        time_zone="UTC",
    )


def test_remove_doctor_without_dependants(session: Session, patient: Patient) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. X")
    keep = doctors.add_doctor(session, patient.id, name="Dr. Y")
    doctors.remove_doctor(session, d)
    assert [x.id for x in doctors.list_doctors(session, patient.id)] == [keep.id]
    with pytest.raises(NotFound):
        doctors.get_doctor(session, patient.id, d.id)


@pytest.mark.parametrize(
    ("n_opinions", "n_visits", "held"),
    [
        (2, 1, "2 opinions and 1 appointment"),
        (1, 0, "1 opinion"),
        (0, 3, "3 appointments"),
    ],
)
def test_remove_doctor_with_opinions_or_appointments_is_refused(
    session: Session, patient: Patient, n_opinions: int, n_visits: int, held: str
) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. X")
    for i in range(n_opinions):
        opinions.add_opinion(session, patient.id, doctor=d.id, diagnosis=f"Dx {i}")
    for _ in range(n_visits):
        _visit(session, patient.id, d.id)
    with pytest.raises(Conflict) as caught:
        doctors.remove_doctor(session, d)
    message = str(caught.value)
    verb = "names" if held.startswith("1 ") and " and " not in held else "name"
    assert message.startswith(f"Cannot remove doctor #{d.id}: {held} {verb} them.")
    if not n_opinions:
        assert "opinion " not in message.split(".")[0]
    if not n_visits:
        assert "appointment" not in message.split(".")[0]
    session.expire_all()
    assert doctors.get_doctor(session, patient.id, d.id).name == "Dr. X"
    assert len(opinions.list_opinions(session, patient.id)) == n_opinions
    assert len(appointments.list_appointments(session, patient.id)) == n_visits


def test_check_removable_ignores_other_doctors(session: Session, patient: Patient) -> None:
    busy = doctors.add_doctor(session, patient.id, name="Dr. Busy")
    free = doctors.add_doctor(session, patient.id, name="Dr. Free")
    opinions.add_opinion(session, patient.id, doctor=busy.id, diagnosis="Dx")
    doctors.check_removable(session, free)  # does not raise
    with pytest.raises(Conflict):
        doctors.check_removable(session, busy)


def test_refused_removal_in_a_transaction_deletes_nothing(engine: Engine) -> None:
    with session_scope(engine) as s:
        pid = patients.add_patient(s, name="Ana", born=date(1964, 4, 12)).id
        did = doctors.add_doctor(s, pid, name="Dr. X").id
        opinions.add_opinion(s, pid, doctor=did, diagnosis="Dx")
    with pytest.raises(Conflict), session_scope(engine) as s:
        doctors.remove_doctor(s, doctors.get_doctor(s, pid, did))
    with Session(engine) as s:
        assert doctors.get_doctor(s, pid, did).name == "Dr. X"
        assert len(opinions.list_opinions(s, pid)) == 1


def test_remove_doctor_with_only_records_keeps_the_records(engine: Engine, store: Store) -> None:
    with session_scope(engine) as s:
        pid = patients.add_patient(s, name="Ana", born=date(1964, 4, 12)).id
        d = doctors.add_doctor(s, pid, name="Dr. X", institution="MGH")
        referred = doctors.add_doctor(s, pid, name="Dr. Referred", referred_by=d.id)
        rec = records.add_record(s, store, pid, kind=RecordKind.PATHOLOGY, title="Bx", doctor=d.id)
        q = questions.add_question(s, pid, text="Why?")
        questions.answer_question(s, q, answer="Because", by=d.id)
        did, rid, ref_id, qid = d.id, rec.id, referred.id, q.id
    with session_scope(engine) as s:
        doctors.remove_doctor(s, doctors.get_doctor(s, pid, did))
    with Session(engine) as s:
        assert s.get(Doctor, did) is None
        record = s.get(Record, rid)
        assert record is not None
        assert record.doctor_id is None
        assert record.title == "Bx"
        assert record.institution == "MGH"  # copied from the doctor when added
        referred_row = s.get(Doctor, ref_id)
        assert referred_row is not None
        assert referred_row.referred_by_id is None
        question = s.get(Question, qid)
        assert question is not None
        assert question.answered_by_id is None
        assert question.answer == "Because"


def test_doctors_are_scoped_to_the_patient(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    mine = doctors.add_doctor(session, patient.id, name="Dr. Mine")
    theirs = doctors.add_doctor(session, other_patient.id, name="Dr. Theirs")
    assert [d.id for d in doctors.list_doctors(session, patient.id)] == [mine.id]
    assert [d.id for d in doctors.list_doctors(session, other_patient.id)] == [theirs.id]
