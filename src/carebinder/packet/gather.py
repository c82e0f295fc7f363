"""Everything the packet shows, copied out of the database as frozen plain data (the
classes of packet/data.py).

Nothing here imports ReportLab, and nothing after this touches the database.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.choices import AppointmentStatus as Status
from carebinder.choices import MaterialKind
from carebinder.models import (
    Appointment,
    Doctor,
    File,
    Material,
    Opinion,
    Patient,
    Question,
    Result,
    SourceKey,
)
from carebinder.packet.data import (
    DECISIVE_NOTE,
    DOCTORS_NOTE,
    PURPOSE_TITLES,
    AllergyInfo,
    CheckInfo,
    ComparedRow,
    ConditionInfo,
    Event,
    FileInfo,
    HealthInfo,
    MarkerInfo,
    MedicationInfo,
    OpinionInfo,
    PacketData,
    PatientInfo,
    PersonInfo,
    QuestionInfo,
    RecordInfo,
    ResultInfo,
    TreatmentInfo,
    VisitInfo,
)
from carebinder.services import allergies as allergy_service
from carebinder.services import appointments as appointment_service
from carebinder.services import checklist as checklist_service
from carebinder.services import conditions as condition_service
from carebinder.services import doctors as doctor_service
from carebinder.services import markers, staging
from carebinder.services import medications as medication_service
from carebinder.services import opinions as opinion_service
from carebinder.services import records as record_service
from carebinder.services import results as result_service
from carebinder.services import treatments as treatment_service
from carebinder.services.materials import READY_STATUSES, list_materials
from carebinder.store import Store


def person(doctor: Doctor) -> PersonInfo:
    return PersonInfo(
        name=doctor.name,
        specialty=doctor.specialty,
        institution=doctor.institution,
        role=doctor.role.value if doctor.role else None,
        phone=doctor.phone,
        email=doctor.email,
        address=doctor.address,
        npi=doctor.npi,
        referred_by=doctor.referred_by.name if doctor.referred_by else None,
    )


def _patient(patient: Patient) -> PatientInfo:
    return PatientInfo(
        name=patient.name,
        born=patient.born,
        mrn=patient.mrn,
        phone=patient.phone,
        email=patient.email,
        address=patient.address,
        insurer=patient.insurer,
        plan=patient.plan,
        member_id=patient.member_id,
        insurer_phone=patient.insurer_phone,
    )


def gather(session: Session, store: Store, appointment: Appointment) -> PacketData:
    """Copy out everything the packet for `appointment` shows."""
    pid = appointment.patient_id
    patient = session.get_one(Patient, pid)
    comparison = opinion_service.compare(session, pid)
    opinions = tuple(_opinion(o) for o in comparison.opinions)
    records = _records(session, store, appointment)
    visit = _visit(appointment)
    checklist = checklist_service.build(session, appointment)
    return PacketData(
        visit=visit,
        patient=_patient(patient),
        consulted=_consulted(session, appointment),
        current=_latest(comparison.opinions, opinions),
        opinions=opinions,
        differing=comparison.differing,
        opinion_notes=_notes(comparison),
        questions=_questions(session, pid, appointment.id, this_visit=True),
        earlier_questions=_questions(session, pid, appointment.id, this_visit=False),
        bring=_bring(session, appointment, checklist),
        preparation=_preparation(checklist),
        materials=tuple(
            CheckInfo(
                f"{m.kind.value.replace('-', ' ').capitalize()}: {m.description}"
                + (f" (from {m.institution})" if m.institution else ""),
                m.status in READY_STATUSES,
                _material_status(m),
            )
            for m in list_materials(session, pid)
        ),
        care_team=tuple(person(d) for d in doctor_service.list_doctors(session, pid)),
        records=records,
        timeline=_timeline(session, pid, records),
        generated_on=date.today(),
        health=_health(session, patient),
        compared=tuple(
            ComparedRow(
                label,
                field,
                tuple(opinion_service.shown(o, field) for o in comparison.opinions),
                field in comparison.differing,
            )
            for label, field in comparison.rows
            if field != "date"  # each opinion's date heads its column
        ),
    )


def _notes(comparison: opinion_service.Comparison) -> tuple[str, ...]:
    """What the opinions page says to the doctor when the opinions differ."""
    if not comparison.differs:
        return ()
    names = opinion_service.NAMES
    decisive = [
        names[f] if len(names[f]) == 1 else names[f].lower()
        for f in opinion_service.DECISIVE
        if f in comparison.differing
    ]
    if not decisive:
        return (DOCTORS_NOTE,)
    facts = ", ".join(decisive[:-1]) + (" and " if len(decisive) > 1 else "") + decisive[-1]
    return (DOCTORS_NOTE, DECISIVE_NOTE.format(facts=facts))


def _opinion(o: Opinion) -> OpinionInfo:
    return OpinionInfo(
        doctor=o.doctor.name,
        institution=o.doctor.institution,
        date=o.date,
        diagnosis=o.diagnosis,
        stage=o.stage,
        plan=o.plan,
        site=o.site,
        laterality=o.laterality.value if o.laterality else None,
        histology=o.histology,
        grade=o.grade,
        tnm=staging.tnm(o),
        staging=o.staging.value if o.staging else None,
        ajcc_edition=o.ajcc_edition,
        ecog=o.ecog,
        ecog_meaning=None if o.ecog is None else staging.ECOG_MEANING.get(o.ecog),
    )


def _latest(rows: list[Opinion], opinions: tuple[OpinionInfo, ...]) -> OpinionInfo | None:
    """The most recent opinion, by its date: an undated one only when none has a date.
    (`rows` come dated first, by date, then undated ones as they were added.)"""
    dated = [info for row, info in zip(rows, opinions, strict=True) if row.date is not None]
    found = dated or list(opinions)
    return found[-1] if found else None


def _health(session: Session, patient: Patient) -> HealthInfo:
    medications = medication_service.medication_state(session, patient)
    allergies = allergy_service.allergy_state(session, patient)
    shown, left_out = _summary_results(session, patient.id)
    return HealthInfo(
        markers=tuple(
            MarkerInfo(
                name=trend.name,
                latest=_result(trend.latest),
                first=_result(trend.first) if trend.repeated else None,
                count=len(trend.values),
            )
            for trend in shown
        ),
        other_results=left_out,
        treatments=tuple(
            TreatmentInfo(
                kind=t.kind.value,
                name=t.name,
                started=t.started,
                ended=t.ended,
                doctor=t.doctor.name if t.doctor else None,
                response=t.response,
            )
            for t in treatment_service.list_treatments(session, patient.id)
        ),
        medications=tuple(
            MedicationInfo(name=m.name, dose=m.dose, how=m.how, kind=m.kind.value, reason=m.reason)
            for m in medications.current
        ),
        no_medications_on=medications.none_on,
        allergies=tuple(
            AllergyInfo(
                substance=a.substance,
                reaction=a.reaction,
                severity=a.severity.value if a.severity else None,
                kind=a.kind.value if a.kind else None,
            )
            for a in allergies.allergies
        ),
        no_allergies_on=allergies.none_on,
        conditions=tuple(
            ConditionInfo(c.name, c.since)
            for c in condition_service.list_conditions(session, patient.id)
        ),
    )


def _summary_results(session: Session, patient_id: int) -> tuple[list[result_service.Trend], int]:
    """The markers the summary shows, and how many results it leaves out.

    A marker is shown with all its values when it is a cancer marker, or when any of its
    values was typed by hand (a result without a source key). Other imported results (a
    cholesterol from a portal) are left out."""
    imported = set(
        session.scalars(
            select(SourceKey.entity_id).where(
                SourceKey.patient_id == patient_id, SourceKey.entity == Result.__tablename__
            )
        )
    )
    shown, left_out = [], 0
    for trend in result_service.trends(result_service.list_results(session, patient_id)):
        by_hand = any(r.id not in imported for r in trend.values)
        if by_hand or markers.is_cancer_marker(trend.name):
            shown.append(trend)
        else:
            left_out += len(trend.values)
    shown.sort(key=lambda t: (markers.rank(t.name), result_service.marker_key(t.name)))
    return shown, left_out


def _result(result: Result) -> ResultInfo:
    return ResultInfo(
        value=result.value,
        unit=result.unit,
        on=result.taken_on,
        interpretation=result.interpretation.value if result.interpretation else None,
    )


def _visit(appointment: Appointment) -> VisitInfo:
    return VisitInfo(
        appointment_id=appointment.id,
        purpose=appointment.purpose,
        title=PURPOSE_TITLES[appointment.purpose],
        doctor=person(appointment.doctor),
        start=appointment_service.local_start(appointment),
        time_zone=appointment.time_zone,
        location=appointment.location,
        companion=appointment.companion,
        coverage=appointment.coverage.value,
        coverage_ref=appointment.coverage_ref,
    )


def _consulted(session: Session, appointment: Appointment) -> tuple[PersonInfo, ...]:
    """The other doctors who gave an opinion or whom the patient saw, first seen first."""
    seen: dict[int, Doctor] = {}
    for opinion in opinion_service.list_opinions(session, appointment.patient_id):
        seen.setdefault(opinion.doctor_id, opinion.doctor)
    for visit in appointment_service.list_appointments(session, appointment.patient_id):
        if visit.starts_at < appointment.starts_at and visit.status is not Status.CANCELLED:
            seen.setdefault(visit.doctor_id, visit.doctor)
    seen.pop(appointment.doctor_id, None)
    return tuple(person(d) for d in seen.values())


def _questions(
    session: Session, patient_id: int, appointment_id: int, *, this_visit: bool
) -> tuple[QuestionInfo, ...]:
    query = (
        select(Question)
        .where(Question.patient_id == patient_id)
        .options(selectinload(Question.answered_by))
        .order_by(Question.id)
    )
    if this_visit:
        query = query.where(Question.appointment_id == appointment_id)
    else:
        query = query.where(
            (Question.appointment_id.is_(None)) | (Question.appointment_id != appointment_id),
            Question.answer.is_not(None),
        )
    return tuple(
        QuestionInfo(
            text=q.text,
            answer=q.answer,
            answered_by=q.answered_by.name if q.answered_by else None,
            answered_on=q.answered_on,
        )
        for q in session.scalars(query)
    )


def _records(session: Session, store: Store, appointment: Appointment) -> tuple[RecordInfo, ...]:
    return tuple(
        RecordInfo(
            id=r.id,
            date=r.date,
            kind=r.kind.value,
            title=r.title,
            source=record_service.source_label(r),
            notes=r.notes,
            files=tuple(_file(store, f) for f in r.files),
        )
        for r in appointment_service.packet_records(session, appointment)
    )


def _file(store: Store, file: File) -> FileInfo:
    """A file as the packet merges it: the text-layer version of a scan or a photo whose
    words were recognised (when it is in the store; else the original), so the doctor can
    search and copy them; the original otherwise."""
    layer = file.text_layer
    if layer is not None and layer.sha256 and store.exists(layer.sha256):
        return FileInfo(
            name=file.original_name,
            media_type="application/pdf",
            path=store.path_for(layer.sha256),
            page_count=file.page_count,
            unreadable=None,
            sha256=layer.sha256,
            recognised=True,
        )
    return FileInfo(
        name=file.original_name,
        media_type=file.media_type,
        path=store.path_for(file.sha256),
        page_count=file.page_count,
        unreadable=file.unreadable,
        sha256=file.sha256,
    )


def _material_status(material: Material) -> str:
    on = {
        "requested": material.requested_on,
        "received": material.received_on,
        "sent": material.sent_on,
        "returned": material.returned_on,
    }.get(material.status.value)
    return material.status.value + (f" {on.isoformat()}" if on else "")


def _bring(
    session: Session, appointment: Appointment, checklist: checklist_service.Checklist
) -> tuple[CheckInfo, ...]:
    """What to carry on the day. Ticked only when the binder shows it is in hand."""
    materials = list_materials(session, appointment.patient_id)

    def in_hand(kind: MaterialKind) -> CheckInfo | None:
        of_kind = [m for m in materials if m.kind is kind]
        if not of_kind:
            return None
        label = {
            MaterialKind.IMAGING_DISC: "Imaging discs",
            MaterialKind.GLASS_SLIDES: "Pathology slides",
            MaterialKind.TISSUE_BLOCKS: "Tissue blocks",
        }[kind]
        ready = all(m.status in READY_STATUSES for m in of_kind)
        return CheckInfo(label, ready, "received" if ready else "not yet received")

    medication_list = checklist.item("medications")
    items = [
        CheckInfo("Photo ID", False, "tick when packed"),
        CheckInfo("Insurance card", False, "tick when packed"),
        CheckInfo(medication_list.label, medication_list.ready, medication_list.detail),
        in_hand(MaterialKind.IMAGING_DISC),
        in_hand(MaterialKind.GLASS_SLIDES),
        in_hand(MaterialKind.TISSUE_BLOCKS),
        CheckInfo("This packet and the list of questions", True, ""),
    ]
    return tuple(item for item in items if item is not None)


def _preparation(checklist: checklist_service.Checklist) -> tuple[CheckInfo, ...]:
    keep = {"staff_told", "records_sent", "coverage", "companion", "allergies"}
    return tuple(
        CheckInfo(item.label, item.ready, item.detail)
        for item in checklist.items
        if item.key in keep
    )


def _timeline(
    session: Session, patient_id: int, records: tuple[RecordInfo, ...]
) -> tuple[Event, ...]:
    events: list[Event] = []
    for record in records:
        if record.date is not None:
            events.append(Event(record.date, record.title, "record"))
    for opinion in opinion_service.list_opinions(session, patient_id):
        if opinion.date is not None:
            events.append(Event(opinion.date, f"Opinion: {opinion.doctor.name}", "opinion"))
    for visit in appointment_service.list_appointments(session, patient_id):
        if visit.status is not Status.CANCELLED:
            start = appointment_service.local_start(visit)
            events.append(Event(start.date(), f"Visit: {visit.doctor.name}", "appointment"))
    return tuple(sorted(events, key=lambda e: (e.date, e.kind)))
