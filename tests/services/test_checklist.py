"""Service tests: the checklist of what is ready and what is missing for a visit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from carebinder.models import (
    Appointment,
    Coverage,
    Doctor,
    MaterialKind,
    MaterialStatus,
    Patient,
    Purpose,
    RecordKind,
)
from carebinder.services import allergies as allergy_service
from carebinder.services import appointments, checklist, doctors, materials, questions, records
from carebinder.services import medications as medication_service
from carebinder.store import Store

KEYS = [
    "staff_told",
    "records_sent",
    "coverage",
    "companion",
    "pathology_report",
    "surgery_report",
    "treatment_plan",
    "medications",
    "allergies",
    "materials",
    "questions",
]


@pytest.fixture
def doctor(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. Wei Chen")


def _visit(
    session: Session, patient: Patient, doctor: Doctor, purpose: Purpose = Purpose.SECOND_OPINION
) -> Appointment:
    return appointments.add_appointment(
        session,
        patient.id,
        doctor=doctor.id,
        starts_at=datetime(2026, 12, 3, 14, 30, tzinfo=UTC),
        time_zone="UTC",
        purpose=purpose,
    )


def _items(result: checklist.Checklist) -> dict[str, checklist.Item]:
    return {item.key: item for item in result.items}


def _ready(result: checklist.Checklist) -> dict[str, bool | None]:
    return {item.key: item.ready for item in result.items}


def _record(session: Session, store: Store, patient: Patient, kind: RecordKind) -> int:
    return records.add_record(session, store, patient.id, kind=kind, title=kind.value).id


def test_fresh_second_opinion_visit_is_all_missing(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor)
    result = checklist.build(session, a)
    assert result.appointment_id == a.id
    assert [item.key for item in result.items] == KEYS
    assert _ready(result) == {
        "staff_told": False,
        "records_sent": False,
        "coverage": False,
        "companion": False,
        "pathology_report": False,
        "surgery_report": None,
        "treatment_plan": False,
        "medications": False,
        "allergies": False,
        "materials": False,
        "questions": False,
    }
    assert result.ready_count == 0
    assert result.applicable_count == 10
    assert [item.key for item in result.missing] == [k for k in KEYS if k != "surgery_report"]
    items = _items(result)
    assert items["surgery_report"].detail == "no surgery recorded"
    assert items["staff_told"].detail == "not yet"
    assert items["staff_told"].fix == f"carebinder appointment edit {a.id} --told-staff"
    assert items["records_sent"].detail == "not yet"
    assert items["coverage"].detail == "unknown"
    assert items["companion"].detail == "nobody named yet"
    assert items["pathology_report"].detail == "not in the packet"
    assert "record add pathology" in (items["pathology_report"].fix or "")
    # No records chosen yet: every record goes in the packet, so nothing to `bring`.
    assert "appointment bring" not in (items["pathology_report"].fix or "")
    assert "slides" in items["materials"].detail
    assert items["questions"].detail == "none yet"
    assert f"appointment {a.id}" in (items["questions"].fix or "")


def test_everything_ready(session: Session, store: Store, patient: Patient, doctor: Doctor) -> None:
    a = _visit(session, patient, doctor)
    appointments.edit_appointment(
        session,
        a,
        staff_told=True,
        records_sent_on=date(2026, 11, 20),
        coverage=Coverage.CONFIRMED,
        coverage_ref="PA-88231",
        companion="Marco",
    )
    for kind in (RecordKind.PATHOLOGY, RecordKind.SURGERY, RecordKind.TREATMENT_PLAN):
        _record(session, store, patient, kind)
    materials.add_material(
        session,
        patient.id,
        kind=MaterialKind.GLASS_SLIDES,
        description="Slides",
        status=MaterialStatus.RECEIVED,
    )
    materials.add_material(
        session,
        patient.id,
        kind=MaterialKind.IMAGING_DISC,
        description="Disc",
        status=MaterialStatus.SENT,
    )
    questions.add_question(session, patient.id, text="What stage?", appointment=a.id)
    questions.add_question(session, patient.id, text="Which trial?", appointment=a.id)
    medication_service.add_medication(session, patient.id, name="Letrozole", dose="2.5 mg")
    allergy_service.state_none(session, patient, on=date(2026, 11, 2))
    result = checklist.build(session, a)
    assert _ready(result) == dict.fromkeys(KEYS, True)
    assert result.missing == []
    assert result.ready_count == result.applicable_count == 11
    items = _items(result)
    assert items["staff_told"].detail == "yes"
    assert items["records_sent"].detail == "sent 2026-11-20"
    assert items["coverage"].detail == "confirmed (ref. PA-88231)"
    assert items["companion"].detail == "Marco"
    assert items["pathology_report"].detail == "included"
    assert items["materials"].detail == "all received"
    assert items["questions"].detail == "2 questions"
    assert items["medications"].detail == "1 current medication recorded"
    assert items["allergies"].detail == "no known allergies (stated 2026-11-02)"
    data = checklist.to_json(result)
    assert data["appointment"] == a.id
    assert (data["ready"], data["applicable"]) == (11, 11)
    assert all(item["fix"] is None for item in data["items"])


@pytest.mark.parametrize(
    ("coverage", "ref", "detail"),
    [
        (Coverage.UNKNOWN, None, "unknown"),
        (Coverage.PRE_AUTH_NEEDED, "R-1", "pre-auth-needed (ref. R-1)"),
        (Coverage.DENIED, None, "denied"),
    ],
)
def test_coverage_not_confirmed_is_missing(
    session: Session,
    patient: Patient,
    doctor: Doctor,
    coverage: Coverage,
    ref: str | None,
    detail: str,
) -> None:
    a = _visit(session, patient, doctor)
    appointments.edit_appointment(session, a, coverage=coverage, coverage_ref=ref or "")
    item = _items(checklist.build(session, a))["coverage"]
    assert (item.ready, item.detail) == (False, detail)


def test_records_in_the_packet_follow_the_chosen_records(
    session: Session, store: Store, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor)
    _record(session, store, patient, RecordKind.PATHOLOGY)
    surgery = _record(session, store, patient, RecordKind.SURGERY)
    plan = _record(session, store, patient, RecordKind.TREATMENT_PLAN)
    # No records chosen: all records go in the packet.
    ready = _ready(checklist.build(session, a))
    assert (ready["pathology_report"], ready["surgery_report"], ready["treatment_plan"]) == (
        True,
        True,
        True,
    )
    # Chosen records leave out the pathology report.
    appointments.bring_records(session, a, [surgery, plan])
    result = checklist.build(session, a)
    ready = _ready(result)
    assert (ready["pathology_report"], ready["surgery_report"], ready["treatment_plan"]) == (
        False,
        True,
        True,
    )
    assert _items(result)["pathology_report"].detail == "not in the packet"


def test_surgery_item_applies_once_a_surgery_record_exists(
    session: Session, store: Store, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor)
    pathology = _record(session, store, patient, RecordKind.PATHOLOGY)
    appointments.bring_records(session, a, [pathology])
    assert _ready(checklist.build(session, a))["surgery_report"] is None
    _record(session, store, patient, RecordKind.SURGERY)  # exists, but not chosen
    result = checklist.build(session, a)
    item = _items(result)["surgery_report"]
    assert (item.ready, item.detail) == (False, "not in the packet")
    assert "record add surgery" in (item.fix or "")
    assert result.applicable_count == 11


def test_another_patients_surgery_does_not_count(
    session: Session, store: Store, patient: Patient, other_patient: Patient, doctor: Doctor
) -> None:
    _record(session, store, other_patient, RecordKind.SURGERY)
    a = _visit(session, patient, doctor)
    assert _ready(checklist.build(session, a))["surgery_report"] is None


def test_materials_waiting(session: Session, patient: Patient, doctor: Doctor) -> None:
    a = _visit(session, patient, doctor)
    materials.add_material(
        session,
        patient.id,
        kind=MaterialKind.GLASS_SLIDES,
        description="Slides",
        status=MaterialStatus.RECEIVED,
    )
    disc = materials.add_material(
        session,
        patient.id,
        kind=MaterialKind.IMAGING_DISC,
        description="CT disc",
        status=MaterialStatus.REQUESTED,
    )
    blocks = materials.add_material(
        session, patient.id, kind=MaterialKind.TISSUE_BLOCKS, description="Block A1"
    )
    item = _items(checklist.build(session, a))["materials"]
    assert item.ready is False
    assert item.detail == (
        f"waiting for #{disc.id} CT disc (requested); #{blocks.id} Block A1 (needed)"
    )
    materials.update_material(session, disc, status=MaterialStatus.RECEIVED)
    materials.update_material(session, blocks, status=MaterialStatus.RETURNED)
    item = _items(checklist.build(session, a))["materials"]
    assert (item.ready, item.detail) == (True, "all received")


def test_follow_up_visit_does_not_need_staff_told_or_materials(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor, purpose=Purpose.FOLLOW_UP)
    result = checklist.build(session, a)
    items = _items(result)
    assert (items["staff_told"].ready, items["staff_told"].detail) == (None, "not needed")
    assert items["materials"].ready is None
    assert items["staff_told"].label == "Staff told this is a follow-up visit"
    assert result.applicable_count == 8
    # Once materials are recorded they count, whatever the visit.
    materials.add_material(session, patient.id, kind=MaterialKind.RECORDS_COPY, description="Copy")
    assert _ready(checklist.build(session, a))["materials"] is False


def test_third_opinion_visit_needs_staff_told(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor, purpose=Purpose.THIRD_OPINION)
    item = _items(checklist.build(session, a))["staff_told"]
    assert (item.ready, item.label) == (False, "Staff told this is a third-opinion visit")
    appointments.edit_appointment(session, a, staff_told=True)
    assert _ready(checklist.build(session, a))["staff_told"] is True


def test_questions_count_only_for_this_visit(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor)
    b = _visit(session, patient, doctor)
    questions.add_question(session, patient.id, text="For b", appointment=b.id)
    questions.add_question(session, patient.id, text="For no visit")
    assert _ready(checklist.build(session, a))["questions"] is False
    questions.add_question(session, patient.id, text="For a", appointment=a.id)
    item = _items(checklist.build(session, a))["questions"]
    assert (item.ready, item.detail) == (True, "1 question")


def test_records_sent_and_companion(session: Session, patient: Patient, doctor: Doctor) -> None:
    a = _visit(session, patient, doctor)
    appointments.edit_appointment(session, a, records_sent_on=date(2026, 11, 1), companion="Jo")
    items = _items(checklist.build(session, a))
    assert (items["records_sent"].ready, items["records_sent"].detail) == (True, "sent 2026-11-01")
    assert (items["companion"].ready, items["companion"].detail) == (True, "Jo")
    appointments.edit_appointment(session, a, records_sent_on=None, companion="")
    ready = _ready(checklist.build(session, a))
    assert (ready["records_sent"], ready["companion"]) == (False, False)


def test_to_json_shows_fixes_only_for_missing_items(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor, purpose=Purpose.FOLLOW_UP)
    appointments.edit_appointment(session, a, companion="Jo")
    data = checklist.to_json(checklist.build(session, a))
    by_key = {item["key"]: item for item in data["items"]}
    assert by_key["companion"]["fix"] is None
    assert by_key["staff_told"]["fix"] is None  # not applicable
    assert by_key["surgery_report"]["fix"] is None
    assert by_key["records_sent"]["fix"] == (
        f"carebinder appointment edit {a.id} --records-sent DATE"
    )
    assert data["ready"] == 1


def test_missing_report_fix_mentions_bring_when_records_were_chosen(
    session: Session, store: Store, patient: Patient
) -> None:
    doctor = doctors.add_doctor(session, patient.id, name="Dr. A")
    a = appointments.add_appointment(
        session,
        patient.id,
        doctor=doctor.id,
        starts_at=datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        time_zone="UTC",
    )
    lab = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="CBC")
    appointments.bring_records(session, a, [lab.id])
    fix = _items(checklist.build(session, a))["pathology_report"].fix or ""
    assert fix.endswith(f"then carebinder appointment bring {a.id} RECORD")


def test_one_waiting_material_is_named_in_the_fix(session: Session, patient: Patient) -> None:
    doctor = doctors.add_doctor(session, patient.id, name="Dr. A")
    a = appointments.add_appointment(
        session,
        patient.id,
        doctor=doctor.id,
        starts_at=datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        time_zone="UTC",
    )
    slides = materials.add_material(
        session, patient.id, kind=MaterialKind.GLASS_SLIDES, description="H&E slides"
    )
    fix = _items(checklist.build(session, a))["materials"].fix
    assert fix == f"carebinder material update {slides.id} --status received"


# --- medications and allergies: a list, or "none" stated, is ready --------------------------


def test_medications_and_allergies_not_recorded_say_what_to_do(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    items = _items(checklist.build(session, _visit(session, patient, doctor)))
    medications, allergies = items["medications"], items["allergies"]
    assert (medications.label, medications.ready) == ("Medication list", False)
    assert medications.detail == (
        "not recorded yet: list each medicine and supplement taken, or say there are none"
    )
    assert medications.fix == (
        "carebinder medication add NAME --dose TEXT, or carebinder medication none"
    )
    assert (allergies.label, allergies.ready) == ("Allergies recorded", False)
    assert allergies.detail == "not recorded yet: list each allergy, or say there are none known"
    assert allergies.fix == (
        "carebinder allergy add SUBSTANCE --reaction TEXT, or carebinder allergy none"
    )


def test_medications_are_ready_with_a_list_or_none_stated(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor)
    medication_service.state_none(session, patient, on=date(2026, 11, 2))
    item = _items(checklist.build(session, a))["medications"]
    assert (item.ready, item.detail) == (True, "takes no medications (stated 2026-11-02)")
    for name in ("Letrozole", "Vitamin D3"):
        medication_service.add_medication(session, patient.id, name=name)
    item = _items(checklist.build(session, a))["medications"]
    assert (item.ready, item.detail) == (True, "2 current medications recorded")


def test_only_stopped_medications_are_not_a_list_of_what_is_taken(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor)
    medication_service.add_medication(
        session, patient.id, name="Ibuprofen", stopped=date(2026, 1, 1)
    )
    assert _ready(checklist.build(session, a))["medications"] is False


def test_a_medication_list_record_in_the_packet_still_counts(
    session: Session, store: Store, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor)
    listed = _record(session, store, patient, RecordKind.MEDICATION_LIST)
    item = _items(checklist.build(session, a))["medications"]
    assert (item.ready, item.detail) == (True, "a medication-list record is in the packet")
    lab = _record(session, store, patient, RecordKind.LAB)
    appointments.bring_records(session, a, [lab])  # chosen records leave it out
    assert _ready(checklist.build(session, a))["medications"] is False
    appointments.bring_records(session, a, [lab, listed])
    assert _ready(checklist.build(session, a))["medications"] is True


def test_allergies_are_ready_with_a_list_or_none_known(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _visit(session, patient, doctor)
    allergy_service.state_none(session, patient, on=date(2026, 11, 2))
    item = _items(checklist.build(session, a))["allergies"]
    assert (item.ready, item.detail) == (True, "no known allergies (stated 2026-11-02)")
    allergy_service.add_allergy(session, patient.id, substance="Penicillin")
    item = _items(checklist.build(session, a))["allergies"]
    assert (item.ready, item.detail) == (True, "1 allergy recorded")


def test_another_patients_medications_and_allergies_do_not_count(
    session: Session, patient: Patient, other_patient: Patient, doctor: Doctor
) -> None:
    medication_service.add_medication(session, other_patient.id, name="Letrozole")
    allergy_service.state_none(session, other_patient)
    ready = _ready(checklist.build(session, _visit(session, patient, doctor)))
    assert (ready["medications"], ready["allergies"]) == (False, False)
