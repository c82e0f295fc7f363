"""`gather`: a real binder copied out as frozen plain data, ready to render."""

from __future__ import annotations

import dataclasses
import enum
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from carebinder.choices import (
    AppointmentStatus,
    Coverage,
    DoctorRole,
    MaterialKind,
    MaterialStatus,
    Purpose,
    RecordKind,
)
from carebinder.models import Appointment, Patient
from carebinder.packet.data import DOCTORS_NOTE, PacketData
from carebinder.packet.gather import gather
from carebinder.services import appointments, doctors, materials, opinions, patients, questions
from carebinder.services import records as record_service
from carebinder.store import Store
from tests.packet.pdfutil import encrypted_pdf, text_pdf

NEW_YORK = ZoneInfo("America/New_York")


def doctor(session: Session, patient: Patient, name: str, **fields: Any) -> int:
    return doctors.add_doctor(session, patient.id, name=name, **fields).id


def visit(
    session: Session, patient: Patient, doctor_id: int, day: date, **fields: Any
) -> Appointment:
    return appointments.add_appointment(
        session,
        patient.id,
        doctor=doctor_id,
        starts_at=datetime(day.year, day.month, day.day, 9, 30, tzinfo=NEW_YORK),
        time_zone="America/New_York",
        **fields,
    )


def record(
    session: Session,
    store: Store,
    patient: Patient,
    title: str,
    on: date | None,
    kind: RecordKind = RecordKind.PATHOLOGY,
    files: tuple[Path, ...] = (),
) -> int:
    return record_service.add_record(
        session, store, patient.id, kind=kind, title=title, date=on, files=files
    ).id


def opinion(
    session: Session, patient: Patient, doctor_id: int, on: date | None, **fields: Any
) -> None:
    fields.setdefault("diagnosis", "Invasive ductal carcinoma")
    opinions.add_opinion(session, patient.id, doctor=doctor_id, date=on, **fields)


@pytest.fixture
def chen(session: Session, patient: Patient) -> int:
    return doctor(
        session,
        patient,
        "Dr. Wei Chen",
        specialty="Breast medical oncology",
        institution="Northeastern Cancer Institute",
        role=DoctorRole.SECOND_OPINION,
    )


@pytest.fixture
def appointment(session: Session, patient: Patient, chen: int) -> Appointment:
    return visit(
        session,
        patient,
        chen,
        date(2026, 12, 3),
        location="450 Longwood Ave",
        companion="Marco",
    )


# --- plain data ---------------------------------------------------------------------------------

PLAIN = (str, int, float, bool, date, datetime, Path, enum.Enum, type(None))


def assert_plain(value: Any, where: str = "data") -> None:
    """Only frozen dataclasses, tuples, frozensets and plain values, all the way down."""
    if dataclasses.is_dataclass(value):
        params = type(value).__dataclass_params__  # type: ignore[attr-defined]
        assert params.frozen, where
        for field in dataclasses.fields(value):
            assert_plain(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, tuple | frozenset):
        for i, item in enumerate(value):
            assert_plain(item, f"{where}[{i}]")
    else:
        assert isinstance(value, PLAIN), (where, type(value))


def test_gathered_data_is_frozen_plain_data(
    session: Session,
    store: Store,
    patient: Patient,
    chen: int,
    appointment: Appointment,
    tmp_path: Path,
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell", role=DoctorRole.DIAGNOSING)
    doctor(session, patient, "Rosa Jimenez, RN", referred_by=bell)
    report = text_pdf(tmp_path / "report.pdf", ["page 1", "page 2"])
    record(session, store, patient, "Core biopsy", date(2026, 10, 21), files=(report,))
    opinion(session, patient, bell, date(2026, 10, 24), stage="IA", plan="Lumpectomy")
    questions.add_question(session, patient.id, text="Stage?", appointment=appointment.id)
    materials.add_material(session, patient.id, kind=MaterialKind.GLASS_SLIDES, description="H&E")

    data = gather(session, store, appointment)
    session.close()  # nothing is loaded later from the database

    assert isinstance(data, PacketData)
    assert_plain(data)
    assert repr(data)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.generated_on = date(2000, 1, 1)  # type: ignore[misc]
    assert data.records[0].files[0].path.read_bytes() == report.read_bytes()
    assert data.records[0].files[0].page_count == 2


def test_gathering_imports_no_reportlab() -> None:
    code = "import sys, carebinder.packet.gather; print('reportlab' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- the visit and the patient -----------------------------------------------------------------


def test_visit_is_given_in_its_own_zone_with_its_preparation(
    session: Session, store: Store, appointment: Appointment
) -> None:
    appointments.edit_appointment(
        session, appointment, coverage=Coverage.CONFIRMED, coverage_ref="PA-88231"
    )
    v = gather(session, store, appointment).visit
    assert v.appointment_id == appointment.id
    assert v.purpose is Purpose.SECOND_OPINION
    assert v.title == "Second-opinion visit"
    assert (v.start.year, v.start.month, v.start.day, v.start.hour, v.start.minute) == (
        2026,
        12,
        3,
        9,
        30,
    )
    assert v.start.tzname() == "EST"
    assert v.time_zone == "America/New_York"
    assert (v.doctor.name, v.doctor.specialty, v.doctor.institution, v.doctor.role) == (
        "Dr. Wei Chen",
        "Breast medical oncology",
        "Northeastern Cancer Institute",
        "second-opinion",
    )
    assert (v.location, v.companion) == ("450 Longwood Ave", "Marco")
    assert (v.coverage, v.coverage_ref) == ("confirmed", "PA-88231")


@pytest.mark.parametrize(
    ("purpose", "title"),
    [(Purpose.THIRD_OPINION, "Third-opinion visit"), (Purpose.FOLLOW_UP, "Follow-up visit")],
)
def test_visit_title_follows_its_purpose(
    session: Session, store: Store, patient: Patient, chen: int, purpose: Purpose, title: str
) -> None:
    row = visit(session, patient, chen, date(2026, 12, 3), purpose=purpose)
    assert gather(session, store, row).visit.title == title


def test_patient_identity_and_insurance(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    patients.edit_patient(
        session,
        patient,
        mrn="MRN 004417-2",
        phone="(617) 555-0143",
        insurer="Blue Harbor Health",
        plan="PPO Select",
        member_id="BHH-22871934",
    )
    p = gather(session, store, appointment).patient
    assert (p.name, p.born, p.mrn, p.phone) == (
        "Ana Souza",
        date(1964, 4, 12),
        "MRN 004417-2",
        "(617) 555-0143",
    )
    assert (p.insurer, p.plan, p.member_id) == ("Blue Harbor Health", "PPO Select", "BHH-22871934")


# --- opinions -----------------------------------------------------------------------------------


def test_current_opinion_is_the_latest_one(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    raman = doctor(session, patient, "Dr. Priya Raman", institution="Mercy General")
    bell = doctor(session, patient, "Dr. Marcus Bell")
    # Entered out of order: the later opinion first.
    opinion(session, patient, raman, date(2026, 11, 12), stage="IB", plan="Dissection")
    opinion(session, patient, bell, date(2026, 10, 24), stage="IA", plan="Lumpectomy")

    data = gather(session, store, appointment)
    assert [(o.doctor, o.date) for o in data.opinions] == [
        ("Dr. Marcus Bell", date(2026, 10, 24)),
        ("Dr. Priya Raman", date(2026, 11, 12)),
    ]
    assert data.current == data.opinions[-1]
    assert data.current is not None
    assert (data.current.doctor, data.current.institution) == ("Dr. Priya Raman", "Mercy General")
    assert (data.current.stage, data.current.plan) == ("IB", "Dissection")


def test_differing_fields_are_named_with_the_note_for_the_doctors(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell")
    raman = doctor(session, patient, "Dr. Priya Raman")
    opinion(session, patient, bell, date(2026, 10, 24), diagnosis="IDC, left breast", stage="IA")
    # Case, spacing and a full stop do not differ; a blank plan is no disagreement.
    opinion(
        session,
        patient,
        raman,
        date(2026, 11, 12),
        diagnosis="idc,  LEFT breast.",
        stage="IB",
        plan="Dissection",
    )
    data = gather(session, store, appointment)
    assert data.differing == frozenset({"stage"})
    assert data.opinion_notes == (DOCTORS_NOTE,)
    assert "discuss their conclusions together" in DOCTORS_NOTE


def test_agreeing_opinions_carry_no_note(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell")
    raman = doctor(session, patient, "Dr. Priya Raman")
    opinion(session, patient, bell, date(2026, 10, 24), stage="IA")
    opinion(session, patient, raman, date(2026, 11, 12), stage="IA")
    data = gather(session, store, appointment)
    assert data.differing == frozenset()
    assert data.opinion_notes == ()


def test_without_opinions_there_is_no_current_one(
    session: Session, store: Store, appointment: Appointment
) -> None:
    data = gather(session, store, appointment)
    assert (data.current, data.opinions, data.opinion_notes) == (None, (), ())


# --- questions ----------------------------------------------------------------------------------


def test_questions_of_this_visit_and_earlier_answers(
    session: Session, store: Store, patient: Patient, chen: int, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell")
    earlier = visit(session, patient, bell, date(2026, 10, 20))
    ask = questions.add_question
    answer = questions.answer_question
    q1 = ask(session, patient.id, text="Do you agree with the stage?", appointment=appointment.id)
    q2 = ask(session, patient.id, text="Radiation first?", appointment=appointment.id)
    answer(session, q2, answer="No.", by=chen, on=date(2026, 12, 3))
    q3 = ask(session, patient.id, text="How long is recovery?", appointment=earlier.id)
    answer(session, q3, answer="Two weeks.", by=bell, on=date(2026, 10, 20))
    ask(session, patient.id, text="Unanswered, for the earlier visit", appointment=earlier.id)
    q5 = ask(session, patient.id, text="Any trials?")
    answer(session, q5, answer="Ask Dr. Chen.", on=date(2026, 11, 1))
    ask(session, patient.id, text="Unanswered, for no visit")

    data = gather(session, store, appointment)
    assert [(q.text, q.answer) for q in data.questions] == [
        (q1.text, None),
        ("Radiation first?", "No."),
    ]
    assert data.questions[1].answered_by == "Dr. Wei Chen"
    assert [(q.text, q.answer, q.answered_by, q.answered_on) for q in data.earlier_questions] == [
        ("How long is recovery?", "Two weeks.", "Dr. Marcus Bell", date(2026, 10, 20)),
        ("Any trials?", "Ask Dr. Chen.", None, date(2026, 11, 1)),
    ]


# --- records ------------------------------------------------------------------------------------


def test_packet_records_are_all_of_them_in_date_order_when_none_are_chosen(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    record(session, store, patient, "Surgery", date(2026, 11, 4), RecordKind.SURGERY)
    record(session, store, patient, "Phone notes", None, RecordKind.OTHER)
    record(session, store, patient, "Mammogram", date(2026, 10, 15), RecordKind.IMAGING)
    record(session, store, patient, "Biopsy", date(2026, 10, 21))
    data = gather(session, store, appointment)
    assert [(r.title, r.date) for r in data.records] == [
        ("Mammogram", date(2026, 10, 15)),
        ("Biopsy", date(2026, 10, 21)),
        ("Surgery", date(2026, 11, 4)),
        ("Phone notes", None),
    ]
    assert [r.kind for r in data.records] == ["imaging", "pathology", "surgery", "other"]


def test_packet_records_are_the_chosen_ones_in_date_order(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    surgery = record(session, store, patient, "Surgery", date(2026, 11, 4))
    record(session, store, patient, "Mammogram", date(2026, 10, 15))
    biopsy = record(session, store, patient, "Biopsy", date(2026, 10, 21))
    appointments.bring_records(session, appointment, [surgery, biopsy])
    data = gather(session, store, appointment)
    assert [r.title for r in data.records] == ["Biopsy", "Surgery"]
    assert [e.label for e in data.timeline if e.kind == "record"] == ["Biopsy", "Surgery"]


def test_record_files_point_into_the_store_and_say_what_cannot_be_read(
    session: Session, store: Store, patient: Patient, appointment: Appointment, tmp_path: Path
) -> None:
    report = text_pdf(tmp_path / "report.pdf", ["one", "two", "three"])
    locked = encrypted_pdf(tmp_path / "locked.pdf")
    bell = doctor(session, patient, "Dr. Marcus Bell", institution="Mercy General")
    record_service.add_record(
        session,
        store,
        patient.id,
        kind=RecordKind.PATHOLOGY,
        title="Biopsy",
        date=date(2026, 10, 21),
        doctor=bell,
        notes="Slides at Mercy",
        files=[report, locked],
    )
    (info,) = gather(session, store, appointment).records
    assert (info.source, info.notes) == ("Dr. Marcus Bell, Mercy General", "Slides at Mercy")
    first, second = info.files
    assert (first.name, first.media_type, first.page_count, first.unreadable) == (
        "report.pdf",
        "application/pdf",
        3,
        None,
    )
    assert first.path.read_bytes() == report.read_bytes()
    assert first.path.is_relative_to(store.root)
    assert (second.name, second.unreadable) == ("locked.pdf", "the PDF is password-protected")


# --- doctors ------------------------------------------------------------------------------------


def test_consulted_doctors_are_the_others_seen_or_heard_from(
    session: Session, store: Store, patient: Patient, chen: int, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell", specialty="Breast surgery")
    park = doctor(session, patient, "Dr. Helen Park", institution="Riverside")
    later = doctor(session, patient, "Dr. Later Visit")
    doctor(session, patient, "Dr. Care Team Only")
    opinion(session, patient, bell, date(2026, 10, 24))
    opinion(session, patient, chen, date(2026, 12, 3))  # the visit's own doctor
    visit(session, patient, park, date(2026, 9, 1))
    visit(session, patient, chen, date(2026, 9, 15))
    visit(session, patient, later, date(2027, 1, 10))

    consulted = gather(session, store, appointment).consulted
    assert [(d.name, d.specialty, d.institution) for d in consulted] == [
        ("Dr. Marcus Bell", "Breast surgery", None),
        ("Dr. Helen Park", None, "Riverside"),
    ]


def test_a_cancelled_visit_is_not_a_consultation(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    never = doctor(session, patient, "Dr. Never Seen")
    cancelled = visit(session, patient, never, date(2026, 10, 1))
    appointments.edit_appointment(session, cancelled, status=AppointmentStatus.CANCELLED)
    assert [d.name for d in gather(session, store, appointment).consulted] == []


def test_care_team_lists_every_doctor_with_role_and_referrer(
    session: Session, store: Store, patient: Patient, chen: int, appointment: Appointment
) -> None:
    park = doctor(session, patient, "Dr. Helen Park", role=DoctorRole.PRIMARY_CARE, phone="555")
    doctor(session, patient, "Dr. Marcus Bell", role=DoctorRole.DIAGNOSING, referred_by=park)
    team = gather(session, store, appointment).care_team
    assert [(d.name, d.role, d.referred_by) for d in team] == [
        ("Dr. Helen Park", "primary-care", None),
        ("Dr. Marcus Bell", "diagnosing", "Dr. Helen Park"),
        ("Dr. Wei Chen", "second-opinion", None),
    ]
    assert team[0].phone == "555"


# --- checklist and timeline ---------------------------------------------------------------------


def test_checklist_is_ticked_from_the_binder(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    record(session, store, patient, "Medications", date(2026, 11, 1), RecordKind.MEDICATION_LIST)
    materials.add_material(
        session,
        patient.id,
        kind=MaterialKind.IMAGING_DISC,
        description="Mammogram CD",
        status=MaterialStatus.RECEIVED,
        on=date(2026, 11, 21),
    )
    materials.add_material(
        session,
        patient.id,
        kind=MaterialKind.GLASS_SLIDES,
        description="H&E slides",
        institution="Mercy pathology",
        status=MaterialStatus.REQUESTED,
        on=date(2026, 11, 19),
    )
    appointments.edit_appointment(
        session, appointment, staff_told=True, records_sent_on=date(2026, 11, 22)
    )
    data = gather(session, store, appointment)
    bring = {c.label: (c.ready, c.detail) for c in data.bring}
    assert bring["Photo ID"] == (False, "tick when packed")
    assert bring["Insurance card"] == (False, "tick when packed")
    assert bring["Medication list"] == (True, "a medication-list record is in the packet")
    assert bring["Imaging discs"] == (True, "received")
    assert bring["Pathology slides"] == (False, "not yet received")
    assert "Tissue blocks" not in bring
    preparation = {c.label: (c.ready, c.detail) for c in data.preparation}
    assert preparation == {
        "Staff told this is a second-opinion visit": (True, "yes"),
        "Records sent ahead": (True, "sent 2026-11-22"),
        "Insurance coverage confirmed": (False, "unknown"),
        "A companion named": (True, "Marco"),
        "Allergies recorded": (
            False,
            "not recorded yet: list each allergy, or say there are none known",
        ),
    }
    assert [(c.label, c.ready, c.detail) for c in data.materials] == [
        ("Imaging disc: Mammogram CD", True, "received 2026-11-21"),
        ("Glass slides: H&E slides (from Mercy pathology)", False, "requested 2026-11-19"),
    ]


def test_timeline_has_dated_records_opinions_and_visits_in_order(
    session: Session, store: Store, patient: Patient, chen: int, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell")
    record(session, store, patient, "Biopsy", date(2026, 10, 21))
    record(session, store, patient, "Undated note", None)
    opinion(session, patient, bell, date(2026, 10, 24))
    opinion(session, patient, bell, None, diagnosis="Undated opinion")
    cancelled = visit(session, patient, bell, date(2026, 10, 1))
    appointments.edit_appointment(session, cancelled, status=AppointmentStatus.CANCELLED)
    visit(session, patient, bell, date(2026, 10, 20))

    timeline = gather(session, store, appointment).timeline
    assert [(e.date, e.label, e.kind) for e in timeline] == [
        (date(2026, 10, 20), "Visit: Dr. Marcus Bell", "appointment"),
        (date(2026, 10, 21), "Biopsy", "record"),
        (date(2026, 10, 24), "Opinion: Dr. Marcus Bell", "opinion"),
        (date(2026, 12, 3), "Visit: Dr. Wei Chen", "appointment"),
    ]
