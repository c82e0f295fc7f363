"""`fhir.people`, one step at a time: Practitioners become the patient's doctors. Each test
runs a step on a small context over a real binder, with no importer around it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.fhir import people, vocab
from carebinder.models import Doctor, Patient, SourceKey
from carebinder.services import doctors
from carebinder.store import Store
from tests.fhir.fhirkit import (
    NPI,
    VALID_NPI,
    in_bundle,
    new_id,
    organization,
    patient_resource,
    practitioner,
    ref,
    step_context,
)


def test_a_practitioner_becomes_a_doctor_with_what_its_role_says(
    session: Session, store: Store, patient: Patient
) -> None:
    hospital = organization("Mercy Hospital")
    carol = practitioner(identifier=[{"system": NPI, "value": VALID_NPI}])
    role = {
        "resourceType": "PractitionerRole",
        "id": new_id(),
        "practitioner": ref(carol),
        "organization": ref(hospital),
        "specialty": [{"text": "Medical oncology"}],
    }
    ctx = step_context(session, store, patient, patient_resource(), hospital, carol, role)

    made = people.doctor(ctx, patient.id, in_bundle(ctx, carol))

    doctor = session.get(Doctor, made)
    assert doctor is not None
    assert (doctor.patient_id, doctor.name, doctor.npi) == (
        patient.id,
        "Dr. Carol Weimann",
        VALID_NPI,
    )
    assert (doctor.institution, doctor.specialty) == ("Mercy Hospital", "Medical oncology")
    assert ctx.summary.imported == Counter(doctor=1)
    keys = set(session.scalars(select(SourceKey.key).where(SourceKey.entity_id == made)))
    assert f"Practitioner/{carol['id']}" in keys
    # A report naming the same practitioner later finds the same doctor, counted once.
    assert people.doctor(ctx, patient.id, in_bundle(ctx, carol)) == made
    assert ctx.summary.imported == Counter(doctor=1)


def test_a_doctor_typed_in_by_hand_is_found_not_added_again(
    session: Session, store: Store, patient: Patient
) -> None:
    typed = doctors.add_doctor(session, patient.id, name="Dr. Carol Weimann")
    carol = practitioner()
    ctx = step_context(session, store, patient, patient_resource(), carol)

    assert people.doctor(ctx, patient.id, in_bundle(ctx, carol)) == typed.id

    assert ctx.summary.already == Counter(doctor=1)
    assert not ctx.summary.imported
    assert session.scalars(select(Doctor.id)).all() == [typed.id]


@pytest.mark.parametrize(
    "name",
    [{}, {"name": [{"text": "\u200b"}]}],
    ids=["no-name", "invisible-name"],
)
def test_a_practitioner_without_a_name_is_skipped(
    session: Session, store: Store, patient: Patient, name: dict[str, Any]
) -> None:
    """Skipped in the import's words; a name of invisible characters is none."""
    nameless = {"resourceType": "Practitioner", "id": new_id(), **name}
    ctx = step_context(session, store, patient, patient_resource(), nameless)

    assert people.doctor(ctx, patient.id, in_bundle(ctx, nameless)) is None

    assert ctx.summary.skipped == Counter({("Practitioner", "the practitioner has no name"): 1})
    assert session.scalars(select(Doctor.id)).all() == []


def test_who_referred_whom_is_linked_once_both_doctors_exist(
    session: Session, store: Store, patient: Patient
) -> None:
    wei = practitioner("Wei", "Chen")
    carol = practitioner(extension=[{"url": vocab.EXT_REFERRED_BY, "valueReference": ref(wei)}])
    ctx = step_context(session, store, patient, patient_resource(), carol, wei)
    referred = people.doctor(ctx, patient.id, in_bundle(ctx, carol))
    referrer = people.doctor(ctx, patient.id, in_bundle(ctx, wei))

    people.link_referrals(ctx)

    doctor = session.get(Doctor, referred)
    assert doctor is not None and doctor.referred_by_id == referrer
