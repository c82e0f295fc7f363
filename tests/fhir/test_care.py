"""`fhir.care`, one step at a time: opinions, visits, questions and insurance. Each test
runs a step on a small context over a real binder, with no importer around it."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.choices import AppointmentStatus, RecordKind
from carebinder.fhir import care, vocab
from carebinder.models import Appointment, Opinion, Patient, Question
from carebinder.services import records
from carebinder.store import Store
from tests.fhir.fhirkit import (
    encounter,
    in_bundle,
    new_id,
    organization,
    patient_resource,
    practitioner,
    ref,
    step_context,
)


def test_a_proposed_care_plan_is_an_opinion_based_on_the_records_it_names(
    session: Session, store: Store, patient: Patient
) -> None:
    ana = patient_resource()
    carol = practitioner()
    biopsy = {"resourceType": "DocumentReference", "id": new_id(), "status": "current"}
    cancer = {
        "resourceType": "Condition",
        "id": new_id(),
        "subject": ref(ana),
        "code": {"text": "Invasive ductal carcinoma of the left breast"},
        "stage": [{"summary": {"text": "Stage IIA"}}],
    }
    plan = {
        "resourceType": "CarePlan",
        "id": new_id(),
        "status": "active",
        "intent": "proposal",
        "subject": ref(ana),
        "author": ref(carol),
        "created": "2025-03-04",
        "description": "Lumpectomy, then radiation.",
        "addresses": [ref(cancer)],
        "supportingInfo": [ref(biopsy)],
    }
    ctx = step_context(session, store, patient, ana, carol, biopsy, cancer, plan)
    record = records.add_record(
        session, store, patient.id, kind=RecordKind.PATHOLOGY, title="Core biopsy"
    )
    ctx.remember(patient.id, "record", record.id, in_bundle(ctx, biopsy))  # an earlier step

    assert care.is_opinion(in_bundle(ctx, plan))
    care.opinion(ctx, patient.id, in_bundle(ctx, plan))

    opinion = session.scalars(select(Opinion)).one()
    assert opinion.diagnosis == "Invasive ductal carcinoma of the left breast"
    assert (opinion.stage, opinion.plan) == ("Stage IIA", "Lumpectomy, then radiation.")
    assert (opinion.date, opinion.doctor.name) == (date(2025, 3, 4), "Dr. Carol Weimann")
    assert [r.id for r in opinion.records] == [record.id]
    assert ctx.summary.imported == Counter(opinion=1, doctor=1)


def test_an_encounter_is_a_visit_at_its_place(
    session: Session, store: Store, patient: Patient
) -> None:
    ana = patient_resource()
    carol = practitioner()
    clinic = organization("Mercy Hospital")
    visit = encounter(ana, carol, serviceProvider=ref(clinic))
    ctx = step_context(session, store, patient, ana, carol, clinic, visit)

    care.appointment(ctx, patient.id, in_bundle(ctx, visit))

    appointment = session.scalars(select(Appointment)).one()
    assert appointment.status == AppointmentStatus.DONE
    assert appointment.location == "Mercy Hospital"
    assert appointment.doctor.name == "Dr. Carol Weimann"
    assert appointment.starts_at.isoformat() == "2025-03-04T15:00:00+00:00"
    assert ctx.summary.imported == Counter(appointment=1, doctor=1)
    # The same resource again: already there, nothing added.
    care.appointment(ctx, patient.id, in_bundle(ctx, visit))
    assert session.scalars(select(Appointment.id)).all() == [appointment.id]


def test_only_messages_marked_as_questions_are_kept(
    session: Session, store: Store, patient: Patient
) -> None:
    ana = patient_resource()
    category = {"coding": [{"system": vocab.CATEGORY, "code": vocab.QUESTION}]}
    asked, chatter = (
        {
            "resourceType": "Communication",
            "id": new_id(),
            "status": "completed",
            "subject": ref(ana),
            "payload": [{"contentString": text}],
            **extra,
        }
        for text, extra in (
            ("Is a lumpectomy enough?", {"category": [category]}),
            ("Your results are ready.", {}),
        )
    )
    ctx = step_context(session, store, patient, ana, asked, chatter)

    care.question(ctx, patient.id, in_bundle(ctx, asked))
    care.question(ctx, patient.id, in_bundle(ctx, chatter))

    question = session.scalars(select(Question)).one()
    assert (question.text, question.appointment_id) == ("Is a lumpectomy enough?", None)
    assert ctx.summary.imported == Counter(question=1)
    assert ctx.summary.skipped == Counter({("Communication", "messages are not kept"): 1})


def test_coverage_fills_in_the_insurance_the_patient_has_not_given(
    session: Session, store: Store, patient: Patient
) -> None:
    ana = patient_resource()
    insurer = organization("Blue Cross")
    coverage = {
        "resourceType": "Coverage",
        "id": new_id(),
        "status": "active",
        "beneficiary": ref(ana),
        "payor": [ref(insurer)],
        "subscriberId": "XJH123456",
    }
    ctx = step_context(session, store, patient, ana, insurer, coverage)

    care.coverage(ctx, patient.id, in_bundle(ctx, coverage))

    assert (patient.insurer, patient.member_id) == ("Blue Cross", "XJH123456")
    assert ctx.summary.imported == Counter(coverage=1)
    care.coverage(ctx, patient.id, in_bundle(ctx, coverage))
    assert ctx.summary.already == Counter(coverage=1)
