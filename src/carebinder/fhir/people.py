"""Importing people: Practitioners (and their roles) become the patient's doctors.

A doctor already in the binder, typed in by hand, is recognised by NPI or by name.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, or_, select

from carebinder.fhir import vocab
from carebinder.fhir.context import ImportContext
from carebinder.fhir.read import Resource, as_list, identifiers
from carebinder.fhir.values import (
    address_text,
    choice,
    code_in,
    concept_text,
    extension_value,
    human_name,
    telecom,
    tidy,
)
from carebinder.models import Doctor
from carebinder.services import (
    doctors,
)
from carebinder.services.common import LONG_TEXT


def doctor(ctx: ImportContext, patient_id: int, resource: Resource) -> int | None:
    """The doctor made from a Practitioner (or the practitioner of a role)."""
    if resource.get("resourceType") == "PractitionerRole":
        practitioner = ctx.bundle.resolve(resource.get("practitioner"), "Practitioner")
        if practitioner is None:
            return None
        resource = practitioner
    known = ctx.existing(patient_id, "doctor", resource)
    if known is not None:
        return known
    if ctx.invalid(resource) is not None:
        ctx.summary.skip(resource, str(ctx.invalid(resource)))
        return None
    name = human_name(resource.get("name"), with_prefix=True)
    if name is None:
        ctx.summary.skip(resource, "the practitioner has no name")
        return None
    role = _role_of(ctx, resource)
    npi = next((v for s, v in identifiers(resource) if s == vocab.NPI), None)
    if npi is not None and not (
        npi.isascii() and npi.isdigit() and len(npi) == 10 and doctors.npi_check_digit_ok(npi)
    ):
        npi = None  # not a real NPI (test data often has short ones): kept as a key only
    same = _same_doctor(ctx, patient_id, name, npi)
    if same is not None:
        ctx.remember(patient_id, "doctor", same, resource)
        ctx.summary.already["doctor"] += 1
        return same
    where = role or {}
    doctor = doctors.add_doctor(
        ctx.session,
        patient_id,
        name=name,
        specialty=concept_text(next(iter(as_list(where.get("specialty"))), None)),
        institution=_institution_of(ctx, resource, where),
        role=choice(vocab.DoctorRole, code_in(where.get("code"), vocab.DOCTOR_ROLE)),
        phone=telecom(resource, "phone") or telecom(where, "phone"),
        email=telecom(resource, "email") or telecom(where, "email"),
        address=address_text(resource.get("address")),
        npi=npi,
        notes=tidy(extension_value(resource, vocab.EXT_NOTES), LONG_TEXT, multiline=True),
    )
    ctx.made_here("doctor").add(doctor.id)
    ctx.summary.imported["doctor"] += 1
    ctx.remember(patient_id, "doctor", doctor.id, resource)
    return doctor.id


def _same_doctor(ctx: ImportContext, patient_id: int, name: str, npi: str | None) -> int | None:
    """A doctor already in the binder (typed in by hand, not made by this import) with the
    same NPI, or else the same name and no other NPI."""
    mine = select(Doctor.id).where(
        Doctor.patient_id == patient_id, Doctor.id.not_in(ctx.made_here("doctor"))
    )
    if npi:
        found = ctx.session.scalar(mine.where(Doctor.npi == npi).limit(1))
        if found is not None:
            return found
    return ctx.session.scalar(
        mine.where(
            func.lower(Doctor.name) == name.lower(),
            or_(Doctor.npi.is_(None), Doctor.npi == (npi or Doctor.npi)),
        ).limit(1)
    )


def _role_of(ctx: ImportContext, practitioner: Resource) -> Resource | None:
    for role in ctx.bundle.of_type("PractitionerRole"):
        if ctx.bundle.resolve(role.get("practitioner"), "Practitioner") is practitioner:
            return role
    return None


def _institution_of(ctx: ImportContext, practitioner: Resource, role: Resource) -> str | None:
    organization = ctx.bundle.resolve(role.get("organization"), "Organization")
    if organization is not None:
        return tidy(organization.get("name"))
    if isinstance(role.get("organization"), dict):
        return tidy(role["organization"].get("display"))
    # Else where they saw the patient most often.
    places: Counter[str] = Counter()
    for encounter in ctx.bundle.of_type("Encounter"):
        if practitioner in participants(ctx, encounter):
            place = ctx.bundle.resolve(encounter.get("serviceProvider"), "Organization")
            if place is not None and tidy(place.get("name")):
                places[str(tidy(place.get("name")))] += 1
    return places.most_common(1)[0][0] if places else None


def participants(ctx: ImportContext, encounter: Resource) -> list[Resource]:
    found = []
    for participant in as_list(encounter.get("participant")):
        if isinstance(participant, dict):
            for key in ("individual", "actor"):
                target = ctx.bundle.resolve(
                    participant.get(key), "Practitioner", "PractitionerRole"
                )
                if target is not None:
                    if target["resourceType"] == "PractitionerRole":
                        target = ctx.bundle.resolve(target.get("practitioner"), "Practitioner")
                    if target is not None:
                        found.append(target)
    return found


def doctor_ref(ctx: ImportContext, patient_id: int, *references: Any) -> int | None:
    """The first reference that leads to a practitioner, as a doctor of the patient."""
    for reference in references:
        for item in as_list(reference):
            if isinstance(item, dict) and "actor" in item:
                item = item["actor"]
            target = ctx.bundle.resolve(item, "Practitioner", "PractitionerRole")
            if target is not None:
                found = doctor(ctx, patient_id, target)
                if found is not None:
                    return found
    return None


def organization_name(ctx: ImportContext, *references: Any) -> str | None:
    for reference in references:
        for item in as_list(reference):
            if isinstance(item, dict) and "actor" in item:
                item = item["actor"]
            target = ctx.bundle.resolve(item, "Organization")
            if target is not None and tidy(target.get("name")):
                return tidy(target.get("name"))
            if isinstance(item, dict) and not item.get("reference") and tidy(item.get("display")):
                return tidy(item.get("display"))
    return None


def link_referrals(ctx: ImportContext) -> None:
    """carebinder's own export says who referred whom; set it once all doctors exist."""
    for resource in ctx.bundle.of_type("Practitioner"):
        target = ctx.bundle.resolve(
            extension_value(resource, vocab.EXT_REFERRED_BY), "Practitioner"
        )
        if target is None:
            continue
        for patient_id in set(ctx.patient_of.values()):
            doctor_id = ctx.made.get((patient_id, id(resource)))
            referrer = ctx.made.get((patient_id, id(target)))
            row = None if doctor_id is None else ctx.session.get(Doctor, doctor_id)
            if row is not None and referrer not in (None, doctor_id) and not row.referred_by_id:
                doctors.edit_doctor(ctx.session, row, referred_by=referrer)
