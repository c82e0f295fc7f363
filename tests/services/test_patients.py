"""Service tests: patients (identity, insurance, choosing, removing with cascade)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from carebinder.db import session_scope
from carebinder.errors import InvalidInput, NoPatient, NotFound
from carebinder.models import (
    Appointment,
    Doctor,
    File,
    Material,
    MaterialKind,
    Opinion,
    Patient,
    Question,
    Record,
    RecordKind,
    appointment_record,
    opinion_record,
)
from carebinder.services import (
    appointments,
    doctors,
    materials,
    opinions,
    patients,
    questions,
    records,
)
from carebinder.services.common import KEEP
from carebinder.services.files import release_blobs
from carebinder.store import Store
from tests.conftest import blob_files


def test_add_patient_stores_every_field(session: Session) -> None:
    p = patients.add_patient(
        session,
        name="  Ana Souza  ",
        born=date(1964, 4, 12),
        address="12 Rua Augusta\nLisboa",
        mrn="MRN-1",
        phone="+1 555 0100",
        email="ana@example.org",
        insurer="Acme Health",
        plan="Gold",
        member_id="M-42",
        insurer_phone="+1 555 0199",
    )
    session.expire_all()
    row = session.get(Patient, p.id)
    assert row is not None
    assert patients.to_json(row) == {
        "id": p.id,
        "name": "Ana Souza",
        "born": "1964-04-12",
        "mrn": "MRN-1",
        "phone": "+1 555 0100",
        "email": "ana@example.org",
        "address": "12 Rua Augusta\nLisboa",
        "insurance": {
            "payer": "Acme Health",
            "plan": "Gold",
            "member_id": "M-42",
            "phone": "+1 555 0199",
        },
        # Neither "takes no medications" nor "no known allergies" has been stated.
        "no_medications_on": None,
        "no_allergies_on": None,
    }


def test_add_patient_blank_optional_fields_are_none(session: Session) -> None:
    p = patients.add_patient(session, name="Ana", born=date(1964, 4, 12), phone="   ", mrn="")
    assert p.phone is None
    assert p.mrn is None


def test_add_patient_unknown_field_is_a_programming_error(session: Session) -> None:
    with pytest.raises(TypeError, match="nickname"):
        patients.add_patient(session, name="Ana", born=date(1964, 4, 12), nickname="A")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "name cannot be empty."),
        ("   ", "name cannot be empty."),
        ("Ana\x1b[31m", "name contains a control character"),
        ("Ana\nSouza", "name contains a control character"),
        ("x" * 201, "name is too long (201 characters; at most 200)."),
    ],
)
def test_add_patient_refuses_bad_names(session: Session, name: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        patients.add_patient(session, name=name, born=date(1964, 4, 12))
    assert message in str(caught.value)
    assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_add_patient_name_of_exactly_200_characters_is_accepted(session: Session) -> None:
    p = patients.add_patient(session, name="x" * 200, born=date(1964, 4, 12))
    assert len(p.name) == 200


def test_add_patient_refuses_future_birth_date(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        patients.add_patient(session, name="Ana", born=date.today() + timedelta(days=1))
    assert str(caught.value).startswith("born:")
    assert "future" in str(caught.value)
    assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_add_patient_born_today_is_accepted(session: Session) -> None:
    p = patients.add_patient(session, name="Baby", born=date.today())
    assert p.born == date.today()


@pytest.mark.parametrize(
    ("field", "option"),
    [
        ("phone", "phone"),
        ("member_id", "member id"),
        ("insurer_phone", "insurer phone"),
    ],
)
def test_add_patient_contact_validation_names_the_option(
    session: Session, field: str, option: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        patients.add_patient(session, name="Ana", born=date(1964, 4, 12), **{field: "a\tb"})
    assert str(caught.value) == f"{option} contains a control character; type plain text."


def test_add_patient_address_too_long(session: Session) -> None:
    with pytest.raises(InvalidInput, match=r"address is too long \(20,001 characters"):
        patients.add_patient(session, name="Ana", born=date(1964, 4, 12), address="a" * 20_001)


def test_get_patient(session: Session, patient: Patient) -> None:
    assert patients.get_patient(session, patient.id) is patient


@pytest.mark.parametrize("ident", [0, -1, 2**70, 999])
def test_get_patient_unknown_ids(session: Session, patient: Patient, ident: int) -> None:
    with pytest.raises(NotFound) as caught:
        patients.get_patient(session, ident)
    assert f"No patient #{ident}" in str(caught.value)


def test_list_patients_sorted_by_name(session: Session) -> None:
    z = patients.add_patient(session, name="Zoe", born=date(1970, 1, 1))
    a = patients.add_patient(session, name="Abel", born=date(1971, 1, 1))
    a2 = patients.add_patient(session, name="Abel", born=date(1972, 1, 1))
    assert [p.id for p in patients.list_patients(session)] == [a.id, a2.id, z.id]


def test_find_patient(session: Session, patient: Patient) -> None:
    assert patients.find_patient(session, name=" Ana Souza ", born=date(1964, 4, 12)) is patient
    assert patients.find_patient(session, name="Ana Souza", born=date(1964, 4, 13)) is None


def test_edit_patient_keep_leaves_fields_alone(session: Session) -> None:
    p = patients.add_patient(
        session, name="Ana", born=date(1964, 4, 12), phone="111", mrn="M1", address="Here"
    )
    patients.edit_patient(session, p, email="ana@example.org")
    session.expire_all()
    p = patients.get_patient(session, p.id)
    assert (p.name, p.born, p.phone, p.mrn, p.address, p.email) == (
        "Ana",
        date(1964, 4, 12),
        "111",
        "M1",
        "Here",
        "ana@example.org",
    )


def test_edit_patient_empty_string_clears_optional_fields(session: Session) -> None:
    p = patients.add_patient(
        session, name="Ana", born=date(1964, 4, 12), phone="111", mrn="M1", address="Here"
    )
    patients.edit_patient(session, p, phone="", address="", mrn=KEEP)
    session.expire_all()
    p = patients.get_patient(session, p.id)
    assert p.phone is None
    assert p.address is None
    assert p.mrn == "M1"


def test_edit_patient_changes_name_and_birth(session: Session, patient: Patient) -> None:
    patients.edit_patient(session, patient, name=" Ana S. ", born=date(1964, 4, 13))
    session.expire_all()
    row = patients.get_patient(session, patient.id)
    assert (row.name, row.born) == ("Ana S.", date(1964, 4, 13))


def test_edit_patient_refuses_empty_name(session: Session, patient: Patient) -> None:
    with pytest.raises(InvalidInput, match=r"^name cannot be empty\.$"):
        patients.edit_patient(session, patient, name="")
    assert patient.name == "Ana Souza"


def test_edit_patient_refuses_future_birth(session: Session, patient: Patient) -> None:
    with pytest.raises(InvalidInput, match=r"^born:"):
        patients.edit_patient(session, patient, born=date.today() + timedelta(days=30))
    assert patient.born == date(1964, 4, 12)


def test_edit_patient_refuses_bad_contact_without_changing_anything(
    session: Session, patient: Patient
) -> None:
    with pytest.raises(InvalidInput, match=r"^email contains a control character"):
        patients.edit_patient(session, patient, name="New Name", email="a\x07b")
    assert patient.name == "Ana Souza"
    assert patient.email is None


def test_choose_patient_requested(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    assert patients.choose_patient(session, other_patient.id, patient.id) is other_patient


def test_choose_patient_requested_unknown(session: Session, patient: Patient) -> None:
    with pytest.raises(NotFound):
        patients.choose_patient(session, 77, None)


def test_choose_patient_remembered(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    assert patients.choose_patient(session, None, other_patient.id) is other_patient


def test_choose_patient_the_only_one(session: Session, patient: Patient) -> None:
    assert patients.choose_patient(session, None, None) is patient
    # A remembered patient that was removed falls back to the only one.
    assert patients.choose_patient(session, None, 99) is patient


def test_choose_patient_remembered_huge_id_falls_back(session: Session, patient: Patient) -> None:
    assert patients.choose_patient(session, None, 2**70) is patient


def test_choose_patient_none_in_binder(session: Session) -> None:
    with pytest.raises(NoPatient, match="no patient yet"):
        patients.choose_patient(session, None, None)


def test_choose_patient_several_needs_a_choice(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    with pytest.raises(NoPatient, match="several patients"):
        patients.choose_patient(session, None, None)


# --- removal --------------------------------------------------------------------------------


def _populate(s: Session, store: Store, pid: int, pdf: Path, shared: Path) -> None:
    """A doctor, a referral, records with files, an opinion, a visit, a question, a material."""
    ref = doctors.add_doctor(s, pid, name="Dr. Referrer")
    doc = doctors.add_doctor(s, pid, name="Dr. Main", referred_by=ref.id)
    rec = records.add_record(
        s, store, pid, kind=RecordKind.PATHOLOGY, title="Biopsy", doctor=doc.id, files=[pdf]
    )
    records.add_record(s, store, pid, kind=RecordKind.LAB, title="Bloods", files=[shared])
    opinions.add_opinion(s, pid, doctor=doc.id, diagnosis="Adenocarcinoma", records=[rec.id])
    appt = appointments.add_appointment(
        s,
        pid,
        doctor=doc.id,
        starts_at=datetime(2030, 1, 2, 15, 0, tzinfo=UTC),
        time_zone="UTC",
    )
    appointments.bring_records(s, appt, [rec.id])
    q = questions.add_question(s, pid, text="What stage?", appointment=appt.id)
    questions.answer_question(s, q, answer="IIA", by=doc.id)
    materials.add_material(s, pid, kind=MaterialKind.GLASS_SLIDES, description="Slides")


def _counts(s: Session, pid: int) -> dict[str, int]:
    def count(model: type) -> int:
        return s.scalar(select(func.count()).select_from(model).where(model.patient_id == pid))

    return {
        "doctor": count(Doctor),
        "record": count(Record),
        "opinion": count(Opinion),
        "appointment": count(Appointment),
        "question": count(Question),
        "material": count(Material),
        "file": s.scalar(
            select(func.count()).select_from(File).join(Record).where(Record.patient_id == pid)
        ),
        "opinion_record": s.scalar(
            select(func.count())
            .select_from(opinion_record)
            .join(Opinion)
            .where(Opinion.patient_id == pid)
        ),
        "appointment_record": s.scalar(
            select(func.count())
            .select_from(appointment_record)
            .join(Appointment)
            .where(Appointment.patient_id == pid)
        ),
    }


def test_patient_contents_counts(
    session: Session, store: Store, patient: Patient, make_pdf: Callable[..., Path]
) -> None:
    _populate(session, store, patient.id, make_pdf("a.pdf"), make_pdf("b.pdf", pages=2))
    assert patients.patient_contents(session, patient) == {
        "doctor": 2,
        "record": 2,
        "opinion": 1,
        "appointment": 1,
    }


def test_remove_patient_cascades_to_theirs_only(
    engine: Engine,
    store: Store,
    home: Path,
    make_pdf: Callable[..., Path],
    make_file: Callable[[str, bytes], Path],
) -> None:
    own_a = make_pdf("a.pdf", pages=1)
    own_b = make_pdf("b.pdf", pages=2)
    shared = make_file("shared.txt", b"the same lab results for both\n")
    with session_scope(engine) as s:
        a = patients.add_patient(s, name="Ana", born=date(1964, 4, 12))
        b = patients.add_patient(s, name="Bea", born=date(1970, 5, 6))
        _populate(s, store, a.id, own_a, shared)
        _populate(s, store, b.id, own_b, shared)
        a_id, b_id = a.id, b.id
    assert len(blob_files(home)) == 3
    with Session(engine) as s:
        before_b = _counts(s, b_id)
        assert _counts(s, a_id) == before_b
        own_a_sha = s.scalar(
            select(File.sha256)
            .join(Record)
            .where(Record.patient_id == a_id, Record.title == "Biopsy")
        )
        shared_sha = s.scalar(
            select(File.sha256)
            .join(Record)
            .where(Record.patient_id == a_id, Record.title == "Bloods")
        )
    assert before_b == {
        "doctor": 2,
        "record": 2,
        "opinion": 1,
        "appointment": 1,
        "question": 1,
        "material": 1,
        "file": 2,
        "opinion_record": 1,
        "appointment_record": 1,
    }

    with session_scope(engine) as s:
        row = patients.get_patient(s, a_id)
        blobs = patients.remove_patient(s, row)
        assert blobs == {own_a_sha, shared_sha}
        release_blobs(s, store, blobs)

    with Session(engine) as s:
        assert s.get(Patient, a_id) is None
        assert set(_counts(s, a_id).values()) == {0}
        assert _counts(s, b_id) == before_b
        assert s.get(Patient, b_id) is not None
    assert not store.exists(own_a_sha)
    assert store.exists(shared_sha)
    assert len(blob_files(home)) == 2
