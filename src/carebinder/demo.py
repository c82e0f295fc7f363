"""The sample binder `carebinder demo` builds: a made-up breast-cancer case at the point of
a second opinion, with real PDF files attached. Every name and number in it is invented."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from carebinder import config
from carebinder.choices import (
    AllergyKind,
    Coverage,
    DoctorRole,
    Interpretation,
    Laterality,
    MaterialKind,
    MaterialStatus,
    MedicationKind,
    Purpose,
    RecordKind,
    Severity,
    StagingBasis,
    TreatmentKind,
)
from carebinder.errors import FIELD
from carebinder.services import (
    allergies,
    appointments,
    conditions,
    doctors,
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


@dataclass(frozen=True)
class DemoSummary:
    patient_name: str
    appointment_id: int


REPORTS: dict[str, tuple[str, list[str]]] = {
    "pathology": (
        "Surgical Pathology Report",
        [
            "Specimen: Left breast, 2 o'clock, ultrasound-guided core needle biopsy.",
            "Diagnosis: Invasive ductal carcinoma, Nottingham grade 2 (3+2+2 = 7/9).",
            "Tumor size in cores: 1.4 cm. Lymphovascular invasion: not identified.",
            "Estrogen receptor: positive (95%, strong). Progesterone receptor: positive (60%).",
            "HER2 (IHC): 1+, negative. Ki-67: 18%.",
            "Comment: The slides were reviewed at the daily consensus conference.",
        ],
    ),
    "imaging": (
        "Diagnostic Mammogram and Ultrasound",
        [
            "Findings: Irregular hypoechoic mass, left breast 2 o'clock, 1.6 x 1.2 cm.",
            "One morphologically abnormal left axillary lymph node, cortex 4 mm.",
            "Impression: BI-RADS 5, highly suggestive of malignancy.",
        ],
    ),
    "surgery": (
        "Operative Report: Sentinel Lymph Node Biopsy",
        [
            "Procedure: Left axillary sentinel lymph node biopsy, 2 nodes removed.",
            "Findings: Node 1 with a 3 mm metastatic deposit; node 2 negative.",
            "Estimated blood loss: minimal. No complications.",
        ],
    ),
    "treatment-plan": (
        "Proposed Treatment Plan",
        [
            "Recommendation: Left lumpectomy with axillary dissection,",
            "followed by whole-breast radiation and endocrine therapy for 5 years.",
            "Chemotherapy to be decided after Oncotype DX recurrence score.",
        ],
    ),
}


def write_report(folder: Path, kind: str, patient: str, institution: str, on: date) -> Path:
    """A one-page PDF that looks like the report a hospital would send."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.units import inch
    from reportlab.pdfgen import canvas

    title, lines = REPORTS[kind]
    path = folder / f"{kind}-report.pdf"
    pdf = canvas.Canvas(str(path), pagesize=letter)
    pdf.setTitle(title)
    width, height = letter
    pdf.setFont("Helvetica-Bold", 15)
    pdf.drawString(inch, height - inch, institution)
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(inch, height - 1.35 * inch, title)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(inch, height - 1.7 * inch, f"Patient: {patient}    Date: {on.isoformat()}")
    pdf.line(inch, height - 1.8 * inch, width - inch, height - 1.8 * inch)
    y = height - 2.2 * inch
    for line in lines:
        pdf.drawString(inch, y, line)
        y -= 0.3 * inch
    pdf.setFont("Helvetica-Oblique", 8)
    pdf.drawString(inch, 0.75 * inch, "Sample document made by carebinder demo. Not a real record.")
    pdf.showPage()
    pdf.save()
    return path


def build(session: Session, settings: config.Settings, *, today: date | None = None) -> DemoSummary:
    today = today or date.today()
    store = Store(settings.store_dir)
    patient = patients.add_patient(
        session,
        name="Ana Souza",
        born=date(1964, 4, 12),
        mrn="MRN 004417-2",
        phone="(617) 555-0143",
        email="ana.souza@example.org",
        insurer="Blue Harbor Health",
        plan="PPO Select",
        member_id="BHH-22871934",
        insurer_phone="(800) 555-0199",
    )
    pid = patient.id
    gp = doctors.add_doctor(
        session,
        pid,
        name="Dr. Helen Park",
        specialty="Family medicine",
        institution="Riverside Primary Care",
        role=DoctorRole.PRIMARY_CARE,
        phone="(617) 555-0110",
    )
    surgeon = doctors.add_doctor(
        session,
        pid,
        name="Dr. Marcus Bell",
        specialty="Breast surgery",
        institution="Mercy General Hospital",
        role=DoctorRole.DIAGNOSING,
        phone="(617) 555-0120",
        referred_by=gp.id,
    )
    oncologist = doctors.add_doctor(
        session,
        pid,
        name="Dr. Priya Raman",
        specialty="Medical oncology",
        institution="Mercy General Hospital",
        role=DoctorRole.TREATING,
        phone="(617) 555-0121",
        referred_by=surgeon.id,
    )
    second = doctors.add_doctor(
        session,
        pid,
        name="Dr. Wei Chen",
        specialty="Breast medical oncology",
        institution="Northeastern Cancer Institute",
        role=DoctorRole.SECOND_OPINION,
        phone="(617) 555-0188",
        email="breastclinic@nci.example.org",
        address="450 Longwood Ave, Boston, MA 02215",
        referred_by=gp.id,
    )
    navigator = doctors.add_doctor(
        session,
        pid,
        name="Rosa Jimenez, RN",
        specialty="Oncology nurse navigation",
        institution="Mercy General Hospital",
        role=DoctorRole.NURSE_NAVIGATOR,
        phone="(617) 555-0125",
    )
    del navigator

    started = today - timedelta(days=40)
    made: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for offset, kind, title, source in (
            (0, "imaging", "Diagnostic mammogram and ultrasound", surgeon),
            (6, "pathology", "Core biopsy pathology report", surgeon),
            (20, "surgery", "Sentinel lymph node biopsy operative report", surgeon),
            (27, "treatment-plan", "Proposed treatment plan", oncologist),
        ):
            on = started + timedelta(days=offset)
            pdf = write_report(Path(tmp), kind, patient.name, "Mercy General Hospital", on)
            record = records.add_record(
                session,
                store,
                pid,
                kind=RecordKind(kind),
                title=title,
                date=on,
                doctor=source.id,
                files=[pdf],
            )
            made[kind] = record.id
    records.add_record(
        session,
        store,
        pid,
        kind=RecordKind.LAB,
        title="Complete blood count",
        date=started + timedelta(days=8),
        institution="Mercy General Hospital",
        notes="All values within normal limits.",
    )

    # The two opinions differ where it matters: the sentinel node biopsy found a
    # micrometastasis (N0 before it, N1mi after), which moves the stage group and the plan.
    for doctor, day, stage, n, staging, ecog, plan, based_on in (
        (
            surgeon,
            9,
            "IA",
            "N0",
            StagingBasis.CLINICAL,
            0,
            "Lumpectomy with sentinel node biopsy, then radiation",
            [made["imaging"], made["pathology"]],
        ),
        (
            oncologist,
            28,
            "IB",
            "N1mi",
            StagingBasis.PATHOLOGIC,
            1,
            "Lumpectomy with axillary dissection, radiation, endocrine therapy;"
            " chemotherapy depending on Oncotype DX",
            [made["pathology"], made["surgery"]],
        ),
    ):
        opinions.add_opinion(
            session,
            pid,
            doctor=doctor.id,
            date=started + timedelta(days=day),
            diagnosis="Invasive ductal carcinoma, left breast, ER+/PR+/HER2-",
            site="Breast, upper outer quadrant",
            laterality=Laterality.LEFT,
            histology="Invasive ductal carcinoma",
            grade="2",
            t="T1c",
            n=n,
            m="M0",
            staging=staging,
            stage=stage,
            ajcc_edition=8,
            ecog=ecog,
            plan=plan,
            records=based_on,
        )
    _health_facts(session, pid, started, made["pathology"], gp=gp.id, oncologist=oncologist.id)
    treatments.add_treatment(
        session,
        pid,
        kind=TreatmentKind.SURGERY,
        name="Sentinel lymph node biopsy, left axilla",
        started=started + timedelta(days=20),
        ended=started + timedelta(days=20),
        doctor=surgeon.id,
        response="1 of 2 nodes with a 3 mm micrometastasis",
    )

    visit = appointments.add_appointment(
        session,
        pid,
        doctor=second.id,
        starts_at=datetime.combine(today + timedelta(days=9), datetime.min.time()).replace(
            hour=9, minute=30, tzinfo=ZoneInfo("America/New_York")
        ),
        time_zone="America/New_York",
        location="Northeastern Cancer Institute, 450 Longwood Ave, 3rd floor, Boston",
        purpose=Purpose.SECOND_OPINION,
        companion="Marco Souza (husband)",
    )
    appointments.edit_appointment(
        session,
        visit,
        staff_told=True,
        records_sent_on=today - timedelta(days=2),
        coverage=Coverage.CONFIRMED,
        coverage_ref="PA-88231",
    )
    appointments.bring_records(
        session,
        visit,
        [made["pathology"], made["surgery"], made["treatment-plan"], made["imaging"]],
    )
    for text in (
        "Do you agree with the stage, given the micrometastasis in the sentinel node?",
        "Is an axillary dissection necessary, or is radiation to the axilla enough?",
        "Would you order Oncotype DX before deciding on chemotherapy?",
        "Could I join a clinical trial here?",
    ):
        questions.add_question(session, pid, text=text, appointment=visit.id)
    earlier = questions.add_question(session, pid, text="How long will recovery from surgery take?")
    questions.answer_question(
        session,
        earlier,
        answer="About two weeks before normal activity.",
        by=surgeon.id,
        on=started + timedelta(days=18),
    )

    materials.add_material(
        session,
        pid,
        kind=MaterialKind.GLASS_SLIDES,
        description="H&E and receptor slides, case S26-4411",
        institution="Mercy General pathology",
        status=MaterialStatus.REQUESTED,
        on=today - timedelta(days=5),
    )
    materials.add_material(
        session,
        pid,
        kind=MaterialKind.IMAGING_DISC,
        description="Mammogram and ultrasound images (CD)",
        institution="Mercy General radiology",
        status=MaterialStatus.RECEIVED,
        on=today - timedelta(days=3),
    )
    return DemoSummary(patient_name=patient.name, appointment_id=visit.id)


def _health_facts(
    session: Session, pid: int, started: date, pathology: int, *, gp: int, oncologist: int
) -> None:
    """What a new oncologist asks first: medications, allergies, other conditions, the
    letrozole started before surgery, and the marker results."""
    for name, dose, how, kind, reason, prescriber in (
        ("Lisinopril", "10 mg", "by mouth, once a day", None, "blood pressure", gp),
        ("Levothyroxine", "75 mcg", "by mouth, every morning", None, "thyroid", gp),
        ("Letrozole", "2.5 mg", "by mouth, once a day", None, "breast cancer", oncologist),
        ("Vitamin D3", "2000 IU", "by mouth, once a day", MedicationKind.SUPPLEMENT, None, None),
    ):
        medications.add_medication(
            session,
            pid,
            name=name,
            dose=dose,
            how=how,
            kind=kind or MedicationKind.PRESCRIPTION,
            reason=reason,
            prescriber=prescriber,
            started=started + timedelta(days=24) if name == "Letrozole" else None,
        )
    medications.add_medication(
        session,
        pid,
        name="Ibuprofen",
        dose="400 mg",
        how="by mouth, as needed",
        kind=MedicationKind.OVER_THE_COUNTER,
        reason="joint pain",
        stopped=started + timedelta(days=13),
        notes="Stopped a week before the sentinel node biopsy.",
    )
    allergies.add_allergy(
        session,
        pid,
        substance="Penicillin",
        reaction="hives and swelling of the face",
        severity=Severity.SEVERE,
        kind=AllergyKind.MEDICATION,
    )
    allergies.add_allergy(
        session,
        pid,
        substance="Adhesive tape",
        reaction="skin rash",
        severity=Severity.MILD,
        kind=AllergyKind.OTHER,
    )
    conditions.add_condition(session, pid, name="High blood pressure", since=date(2015, 3, 1))
    conditions.add_condition(session, pid, name="Hypothyroidism", since=date(2019, 9, 1))
    treatments.add_treatment(
        session,
        pid,
        kind=TreatmentKind.HORMONE_THERAPY,
        name="Letrozole, before surgery",
        started=started + timedelta(days=24),
        doctor=oncologist,
    )
    biopsy = started + timedelta(days=6)
    for name, value, unit, interpretation in (
        ("ER", "95", "%", Interpretation.POSITIVE),
        ("PR", "60", "%", Interpretation.POSITIVE),
        ("HER2", "1+", None, Interpretation.NEGATIVE),
        ("Ki-67", "18", "%", None),
    ):
        results.add_result(
            session,
            pid,
            name=name,
            value=value,
            unit=unit,
            on=biopsy,
            record=pathology,
            interpretation=interpretation,
        )
    for days, value in ((8, "21"), (18, "24"), (29, "28"), (38, "34")):
        results.add_result(
            session,
            pid,
            name="CA 15-3",
            value=value,
            unit="U/mL",
            on=started + timedelta(days=days),
            interpretation=Interpretation.HIGH if float(value) > 30 else Interpretation.NORMAL,
        )


@dataclass(frozen=True)
class Demo:
    """A sample binder made by `make`, and its packet."""

    home: Path
    patient_name: str
    appointment_id: int
    packet: Path
    pages: int


def make(out: Path | None = None) -> Demo:
    """The sample binder in a new temporary folder, and its packet: at `out`, or inside
    the sample binder's folder. Refused before anything is made when `out` exists or its
    folder does not."""
    from carebinder.db import open_binder, session_scope
    from carebinder.errors import Conflict, InvalidInput
    from carebinder.models import Appointment
    from carebinder.packet.build import Options, build_packet
    from carebinder.packet.gather import gather

    if out is not None and (out.exists() or out.is_symlink()):
        raise Conflict(f"{out} already exists. Choose another file for the sample packet.")
    if out is not None and not out.absolute().parent.is_dir():
        folder = out.absolute().parent
        raise InvalidInput(f"{FIELD}: the folder {folder} does not exist.", field="out")
    home = Path(tempfile.mkdtemp(prefix="carebinder-demo-"))
    settings = config.resolve(home=home, database_url=None, environ={})
    engine = open_binder(settings, create=True)
    try:
        with session_scope(engine, command="demo") as s:
            summary = build(s, settings)
        with session_scope(engine, write=False) as s:
            visit = s.get_one(Appointment, summary.appointment_id)
            data = gather(s, Store(settings.store_dir), visit)
    finally:
        engine.dispose()
    packet = (out or home / "sample-packet.pdf").absolute()
    result = build_packet(data, packet, Options())
    return Demo(home, summary.patient_name, summary.appointment_id, packet, result.pages)
