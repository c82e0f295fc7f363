"""What is ready and what is missing for a visit, from the binder's own data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebinder.models import Appointment, Coverage, Patient, Purpose, Record, RecordKind
from carebinder.services.allergies import allergy_state
from carebinder.services.appointments import packet_records
from carebinder.services.materials import READY_STATUSES, list_materials
from carebinder.services.medications import medication_state
from carebinder.services.questions import list_questions
from carebinder.words import plural


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    # True ready, False missing, None does not apply to this visit.
    ready: bool | None
    detail: str
    # What to do about it, when it is missing.
    fix: str | None = None


@dataclass(frozen=True)
class Checklist:
    appointment_id: int
    items: tuple[Item, ...]

    @property
    def missing(self) -> list[Item]:
        return [item for item in self.items if item.ready is False]

    @property
    def ready_count(self) -> int:
        return sum(1 for item in self.items if item.ready)

    @property
    def applicable_count(self) -> int:
        return sum(1 for item in self.items if item.ready is not None)

    def item(self, key: str) -> Item:
        return next(item for item in self.items if item.key == key)


def build(session: Session, appointment: Appointment) -> Checklist:
    a = appointment
    opinion_visit = a.purpose in (Purpose.SECOND_OPINION, Purpose.THIRD_OPINION)
    in_packet = {r.kind for r in packet_records(session, a)}
    items = [
        Item(
            "staff_told",
            f"Staff told this is a {a.purpose.value} visit",
            a.staff_told if opinion_visit else None,
            "yes" if a.staff_told else ("not yet" if opinion_visit else "not needed"),
            f"carebinder appointment edit {a.id} --told-staff",
        ),
        Item(
            "records_sent",
            "Records sent ahead",
            a.records_sent_on is not None,
            f"sent {a.records_sent_on.isoformat()}" if a.records_sent_on else "not yet",
            f"carebinder appointment edit {a.id} --records-sent DATE",
        ),
        Item(
            "coverage",
            "Insurance coverage confirmed",
            a.coverage is Coverage.CONFIRMED,
            a.coverage.value + (f" (ref. {a.coverage_ref})" if a.coverage_ref else ""),
            f"carebinder appointment edit {a.id} --coverage confirmed --coverage-ref REF",
        ),
        Item(
            "companion",
            "A companion named",
            a.companion is not None,
            a.companion or "nobody named yet",
            f"carebinder appointment edit {a.id} --companion NAME",
        ),
        *_record_items(session, a, in_packet),
        *_health_items(session, a, in_packet),
        _materials_item(session, a, opinion_visit),
        _questions_item(session, a),
    ]
    return Checklist(a.id, tuple(items))


def _record_items(session: Session, a: Appointment, in_packet: set[RecordKind]) -> list[Item]:
    had_surgery = bool(
        session.scalar(
            select(func.count())
            .select_from(Record)
            .where(Record.patient_id == a.patient_id, Record.kind == RecordKind.SURGERY)
        )
    )
    fix = "carebinder record add KIND TITLE --file PATH"
    if a.records:  # records were chosen for this packet: a new one must be brought too
        fix += f", then carebinder appointment bring {a.id} RECORD"
    items = []
    for kind, label in (
        (RecordKind.PATHOLOGY, "Pathology report in the packet"),
        (RecordKind.SURGERY, "Surgery report in the packet"),
        (RecordKind.TREATMENT_PLAN, "Treatment plan in the packet"),
    ):
        if kind is RecordKind.SURGERY and not had_surgery:
            items.append(Item("surgery_report", label, None, "no surgery recorded"))
            continue
        present = kind in in_packet
        items.append(
            Item(
                f"{kind.value.replace('-', '_')}_report"
                if kind is not RecordKind.TREATMENT_PLAN
                else "treatment_plan",
                label,
                present,
                "included" if present else "not in the packet",
                fix.replace("KIND", kind.value),
            )
        )
    return items


def _health_items(session: Session, a: Appointment, in_packet: set[RecordKind]) -> list[Item]:
    """What a new doctor asks first: the medications taken and the allergies. Each is ready
    with a list, or with "none" stated; a medication-list record in the packet counts too."""
    patient = session.get_one(Patient, a.patient_id)
    medications = medication_state(session, patient)
    allergies = allergy_state(session, patient)
    record = RecordKind.MEDICATION_LIST in in_packet
    if medications.current:
        taken = plural(len(medications.current), "current medication") + " recorded"
    elif medications.none_on is not None:
        taken = f"takes no medications (stated {medications.none_on.isoformat()})"
    elif record:
        taken = "a medication-list record is in the packet"
    else:
        taken = "not recorded yet: list each medicine and supplement taken, or say there are none"
    if allergies.allergies:
        known = plural(len(allergies.allergies), "allergy", "allergies") + " recorded"
    elif allergies.none_on is not None:
        known = f"no known allergies (stated {allergies.none_on.isoformat()})"
    else:
        known = "not recorded yet: list each allergy, or say there are none known"
    return [
        Item(
            "medications",
            "Medication list",
            medications.recorded or record,
            taken,
            "carebinder medication add NAME --dose TEXT, or carebinder medication none",
        ),
        Item(
            "allergies",
            "Allergies recorded",
            allergies.recorded,
            known,
            "carebinder allergy add SUBSTANCE --reaction TEXT, or carebinder allergy none",
        ),
    ]


def _materials_item(session: Session, a: Appointment, opinion_visit: bool) -> Item:
    materials = list_materials(session, a.patient_id)
    label = "Slides and imaging discs received"
    if not materials:
        return Item(
            "materials",
            label,
            False if opinion_visit else None,
            "none recorded; second-opinion centres usually ask for the pathology slides",
            "carebinder material add glass-slides DESCRIPTION --from INSTITUTION",
        )
    waiting = [m for m in materials if m.status not in READY_STATUSES]
    detail = (
        "all received"
        if not waiting
        else "waiting for "
        + "; ".join(f"#{m.id} {m.description} ({m.status.value})" for m in waiting)
    )
    target = str(waiting[0].id) if len(waiting) == 1 else "MATERIAL"
    return Item(
        "materials",
        label,
        not waiting,
        detail,
        f"carebinder material update {target} --status received",
    )


def _questions_item(session: Session, a: Appointment) -> Item:
    count = len(list_questions(session, a.patient_id, appointment=a.id))
    return Item(
        "questions",
        "Questions written",
        count > 0,
        plural(count, "question") if count else "none yet",
        f'carebinder question add "TEXT" --appointment {a.id}',
    )


def to_json(checklist: Checklist) -> dict[str, Any]:
    return {
        "appointment": checklist.appointment_id,
        "ready": checklist.ready_count,
        "applicable": checklist.applicable_count,
        "items": [
            {
                "key": item.key,
                "label": item.label,
                "ready": item.ready,
                "detail": item.detail,
                "fix": item.fix if item.ready is False else None,
            }
            for item in checklist.items
        ],
    }
