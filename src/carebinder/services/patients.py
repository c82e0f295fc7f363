"""Patients: whose binder it is, with identity and insurance."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import FIELD, InvalidInput, NoPatient, NotFound
from carebinder.models import Appointment, Doctor, File, Opinion, Patient, Record, TextLayer
from carebinder.services.common import (
    KEEP,
    MAX_ID,
    Keep,
    apply,
    clean_text,
    iso,
    long_text,
    required_text,
    text_or_keep,
)

CONTACT_FIELDS = ("mrn", "phone", "email", "insurer", "plan", "member_id", "insurer_phone")


def _check_fields(contact: Mapping[str, object]) -> None:
    unknown = set(contact) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {sorted(unknown)}")


def _check_born(born: date) -> date:
    if born > date.today():
        raise InvalidInput(
            f"{FIELD}: the date of birth is in the future. Use YYYY-MM-DD.", field="born"
        )
    return born


def add_patient(
    session: Session,
    *,
    name: str,
    born: date,
    address: str | None = None,
    **contact: str | None,
) -> Patient:
    _check_fields(contact)
    patient = Patient(
        name=required_text(name, "name"),
        born=_check_born(born),
        address=long_text(address, "address"),
        **{field: clean_text(value, field) for field, value in contact.items()},
    )
    session.add(patient)
    session.flush()
    return patient


def edit_patient(
    session: Session,
    patient: Patient,
    *,
    name: str | Keep = KEEP,
    born: date | Keep = KEEP,
    address: str | Keep = KEEP,
    **contact: str | Keep,
) -> Patient:
    _check_fields(contact)
    apply(
        patient,
        name=name if name is KEEP else required_text(name, "name"),
        born=born if born is KEEP else _check_born(born),
        address=text_or_keep(address, "address", limit=20_000),
        **{field: text_or_keep(value, field) for field, value in contact.items()},
    )
    session.flush()
    return patient


def get_patient(session: Session, ident: int) -> Patient:
    patient = session.get(Patient, ident) if 1 <= ident <= MAX_ID else None
    if patient is None:
        raise NotFound("patient", ident)
    return patient


def list_patients(session: Session) -> list[Patient]:
    return list(session.scalars(select(Patient).order_by(Patient.name, Patient.id)))


def find_patient(session: Session, *, name: str, born: date) -> Patient | None:
    return session.scalar(
        select(Patient).where(Patient.name == name.strip(), Patient.born == born).limit(1)
    )


def choose_patient(session: Session, requested: int | None, remembered: int | None) -> Patient:
    """The patient a command works on: `--patient`, else the one `patient use` chose,
    else the only one."""
    if requested is not None:
        return get_patient(session, requested)
    if remembered is not None and 1 <= remembered <= MAX_ID:
        patient = session.get(Patient, remembered)
        if patient is not None:
            return patient
    patients = session.scalars(select(Patient).order_by(Patient.id).limit(2)).all()
    if not patients:
        raise NoPatient(
            "This binder has no patient yet. Add one: carebinder patient add NAME --born DATE"
        )
    if len(patients) > 1:
        raise NoPatient(
            "This binder holds several patients. Choose one with --patient ID or"
            " `carebinder patient use ID` (see `carebinder patient list`)."
        )
    return patients[0]


def chosen_or_new(session: Session, remembered: int | None, new: Patient) -> Patient | None:
    """The patient commands work on once `new` is added: the one chosen before, while it
    is still in the binder, or the binder's only other patient; `new` when it is the first.
    The patient `init` makes, or the first one added, stays chosen until `patient use` says
    otherwise: a caregiver who adds a parent has not chosen to work on the parent. None when
    several others were there and none was chosen: commands still ask for a choice."""
    if remembered is not None and 1 <= remembered <= MAX_ID:
        chosen = session.get(Patient, remembered)
        if chosen is not None:
            return chosen
    others = session.scalars(select(Patient).where(Patient.id != new.id).limit(2)).all()
    if not others:
        return new
    return others[0] if len(others) == 1 else None


def several_patients(session: Session) -> bool:
    """Whether the binder holds more than one patient."""
    return len(session.scalars(select(Patient.id).limit(2)).all()) > 1


def patient_contents(session: Session, patient: Patient) -> dict[str, int]:
    """How much removing `patient` would remove, for the confirmation prompt."""
    counts: dict[str, int] = {}
    for noun, model in (
        ("doctor", Doctor),
        ("record", Record),
        ("opinion", Opinion),
        ("appointment", Appointment),
    ):
        counts[noun] = (
            session.scalar(
                select(func.count()).select_from(model).where(model.patient_id == patient.id)
            )
            or 0
        )
    return counts


def patient_blobs(session: Session, patient: Patient) -> set[str]:
    """The SHA-256s of every file in `patient`'s records, text-layer versions too."""
    mine = Record.patient_id == patient.id
    derived = select(TextLayer.sha256).join(File).join(Record).where(mine)
    return set(session.scalars(select(File.sha256).join(Record).where(mine))) | {
        sha for sha in session.scalars(derived) if sha
    }


def remove_patient(session: Session, patient: Patient) -> set[str]:
    """Delete the patient and everything in their binder; returns the blobs they used."""
    blobs = patient_blobs(session, patient)
    session.delete(patient)
    session.flush()
    return blobs


def to_json(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.id,
        "name": patient.name,
        "born": patient.born.isoformat(),
        "mrn": patient.mrn,
        "phone": patient.phone,
        "email": patient.email,
        "address": patient.address,
        "insurance": {
            "payer": patient.insurer,
            "plan": patient.plan,
            "member_id": patient.member_id,
            "phone": patient.insurer_phone,
        },
        # "Takes no medications" and "no known allergies", with the day each was stated.
        "no_medications_on": iso(patient.no_medications_on),
        "no_allergies_on": iso(patient.no_allergies_on),
    }
