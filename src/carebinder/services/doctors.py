"""Doctors: everyone on the care team, with role and who referred them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.errors import FIELD, Conflict, InvalidInput
from carebinder.models import Appointment, Doctor, DoctorRole, Opinion
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    clean_text,
    get_scoped,
    long_text,
    required_text,
    text_or_keep,
)
from carebinder.words import plural

CONTACT_FIELDS = ("specialty", "institution", "phone", "email")


def get_doctor(session: Session, patient_id: int, ident: int) -> Doctor:
    return get_scoped(session, Doctor, patient_id, ident, "doctor")


def _check_npi(npi: str | None) -> str | None:
    npi = clean_text(npi, "npi")
    if npi is None:
        return None
    if not (npi.isascii() and npi.isdigit() and len(npi) == 10):
        raise InvalidInput(f"{FIELD}: an NPI is 10 digits, e.g. 1234567893.", field="npi")
    if not npi_check_digit_ok(npi):
        raise InvalidInput(
            f"{FIELD}: {npi} is not a valid NPI (its last digit does not match).", field="npi"
        )
    return npi


def npi_check_digit_ok(npi: str) -> bool:
    """The NPI's Luhn check digit, computed over the digits prefixed with 80840."""
    total = 0
    for position, char in enumerate(reversed("80840" + npi[:9])):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10 == int(npi[9])


def _check_fields(contact: Mapping[str, object]) -> None:
    unknown = set(contact) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown doctor fields: {sorted(unknown)}")


def add_doctor(
    session: Session,
    patient_id: int,
    *,
    name: str,
    role: DoctorRole | None = None,
    referred_by: int | None = None,
    npi: str | None = None,
    address: str | None = None,
    notes: str | None = None,
    **contact: str | None,
) -> Doctor:
    _check_fields(contact)
    doctor = Doctor(
        patient_id=patient_id,
        name=required_text(name, "name"),
        role=role,
        npi=_check_npi(npi),
        address=long_text(address, "address"),
        notes=long_text(notes, "notes"),
        referred_by=None if referred_by is None else get_doctor(session, patient_id, referred_by),
        **{f: clean_text(v, f) for f, v in contact.items()},
    )
    session.add(doctor)
    session.flush()
    return doctor


def edit_doctor(
    session: Session,
    doctor: Doctor,
    *,
    name: str | Keep = KEEP,
    role: DoctorRole | Keep | None = KEEP,
    referred_by: int | Keep | None = KEEP,
    npi: str | Keep = KEEP,
    address: str | Keep = KEEP,
    notes: str | Keep = KEEP,
    **contact: str | Keep,
) -> Doctor:
    _check_fields(contact)
    referrer: Doctor | Keep | None = KEEP
    if referred_by is not KEEP:
        referrer = (
            None if referred_by is None else get_doctor(session, doctor.patient_id, referred_by)
        )
        if referrer is not None and referrer.id == doctor.id:
            raise InvalidInput(
                f"{FIELD}: a doctor cannot be referred by themselves.", field="referred_by"
            )
        if referrer is not None and _refers_back_to(referrer, doctor):
            raise InvalidInput(
                f"{FIELD}: doctor #{referrer.id} was referred (directly or through"
                f" others) by doctor #{doctor.id}; that would make a loop.",
                field="referred_by",
            )
    apply(
        doctor,
        name=name if name is KEEP else required_text(name, "name"),
        role=role,
        npi=npi if npi is KEEP else _check_npi(npi),
        address=text_or_keep(address, "address", limit=20_000),
        notes=text_or_keep(notes, "notes", limit=20_000),
        referred_by=referrer,
        **{f: text_or_keep(v, f) for f, v in contact.items()},
    )
    session.flush()
    return doctor


def _refers_back_to(referrer: Doctor, doctor: Doctor) -> bool:
    """True when making `referrer` refer `doctor` would close a loop."""
    seen: set[int] = set()
    current: Doctor | None = referrer
    while current is not None and current.id not in seen:
        if current.id == doctor.id:
            return True
        seen.add(current.id)
        current = current.referred_by
    return False


def list_doctors(session: Session, patient_id: int) -> list[Doctor]:
    return list(
        session.scalars(
            select(Doctor).where(Doctor.patient_id == patient_id).order_by(Doctor.name, Doctor.id)
        )
    )


def check_removable(session: Session, doctor: Doctor) -> None:
    """Refuse, saying why, when opinions or appointments name `doctor`."""
    opinions = _count(session, Opinion, doctor.id)
    appointments = _count(session, Appointment, doctor.id)
    if opinions or appointments:
        held = " and ".join(
            plural(n, noun)
            for n, noun in ((opinions, "opinion"), (appointments, "appointment"))
            if n
        )
        verb = "names" if opinions + appointments == 1 else "name"
        raise Conflict(
            f"Cannot remove doctor #{doctor.id}: {held} {verb} them."
            " Remove or reassign those first (see `carebinder opinion list`"
            " and `carebinder appointment list`)."
        )


def remove_doctor(session: Session, doctor: Doctor) -> None:
    """Delete a doctor, unless opinions or appointments depend on them."""
    check_removable(session, doctor)
    session.delete(doctor)
    session.flush()


def _count(session: Session, model: type[Opinion] | type[Appointment], doctor_id: int) -> int:
    return (
        session.scalar(select(func.count()).select_from(model).where(model.doctor_id == doctor_id))
        or 0
    )


def to_json(doctor: Doctor) -> dict[str, Any]:
    return {
        "id": doctor.id,
        "name": doctor.name,
        "specialty": doctor.specialty,
        "institution": doctor.institution,
        "role": doctor.role.value if doctor.role else None,
        "phone": doctor.phone,
        "email": doctor.email,
        "address": doctor.address,
        "npi": doctor.npi,
        "referred_by": doctor.referred_by_id,
        "notes": doctor.notes,
    }
