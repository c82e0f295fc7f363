"""Importing the rest of the care: diagnoses and opinions, visits, questions, materials,
and the patient's insurance.
"""

from __future__ import annotations

from typing import Any

from carebinder.fhir import cancer, people, vocab
from carebinder.fhir.context import ImportContext
from carebinder.fhir.read import Resource, as_list
from carebinder.fhir.values import (
    address_text,
    all_codes,
    annotation_text,
    choice,
    code_in,
    concept_text,
    extension_value,
    fhir_date,
    fhir_datetime,
    joined,
    labelled,
    obj,
    telecom,
    tidy,
    zone_for,
)
from carebinder.models import Patient
from carebinder.services import (
    appointments,
    materials,
    opinions,
    questions,
)
from carebinder.services.common import LONG_TEXT


def opinion(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    plan = resource if resource["resourceType"] == "CarePlan" else None
    if ctx.existing(patient_id, "opinion", resource) is not None:
        named = (ctx.addressed(resource)[:1] or [{}])[0] if plan else resource
        ctx.read_with.update(id(o) for o in cancer.observations(ctx, plan, named))
        return
    if resource["resourceType"] == "CarePlan":
        conditions = ctx.addressed(resource)
        condition = conditions[0] if conditions else {}
        doctor = people.doctor_ref(ctx, patient_id, resource.get("author"))
        when = resource.get("created")
        proposed = tidy(resource.get("description"), LONG_TEXT, multiline=True)
        notes = annotation_text(resource.get("note"))
        based_on = ctx.records_made_from(patient_id, resource.get("supportingInfo"))
    else:
        condition = resource
        encounter = ctx.bundle.resolve(resource.get("encounter"), "Encounter")
        doctor = people.doctor_ref(
            ctx,
            patient_id,
            resource.get("asserter"),
            resource.get("recorder"),
        )
        if doctor is None and encounter is not None:
            for practitioner in people.participants(ctx, encounter):
                doctor = people.doctor(ctx, patient_id, practitioner)
                if doctor is not None:
                    break
        when = resource.get("recordedDate") or resource.get("onsetDateTime")
        proposed = None
        notes = _condition_notes(resource)
        based_on = []
    diagnosis = concept_text(condition.get("code"))
    if diagnosis is None:
        ctx.summary.skip(resource, "it names no diagnosis")
        return
    if doctor is None:
        ctx.summary.skip(resource, "it names no doctor")
        return
    stage = next(
        (
            concept_text(s.get("summary"))
            for s in as_list(condition.get("stage"))
            if isinstance(s, dict) and concept_text(s.get("summary"))
        ),
        None,
    )
    fields, staged = cancer.facts(ctx, plan, condition)
    stage = stage or fields.pop("stage_group", None)
    fields.pop("stage_group", None)
    opinion = opinions.add_opinion(
        ctx.session,
        patient_id,
        doctor=doctor,
        diagnosis=diagnosis,
        date=fhir_date(when),
        stage=stage,
        plan=proposed,
        notes=joined(notes, *staged, sep="\n\n"),
        records=based_on,
        **fields,
    )
    ctx.summary.imported["opinion"] += 1
    ctx.remember(patient_id, "opinion", opinion.id, resource)


def appointment(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    if ctx.existing(patient_id, "appointment", resource) is not None:
        return
    is_encounter = resource["resourceType"] == "Encounter"
    if is_encounter:
        period = obj(resource.get("period"))
        start = fhir_datetime(period.get("start"))
        doctors_seen = people.participants(ctx, resource)
        doctor = people.doctor(ctx, patient_id, doctors_seen[0]) if doctors_seen else None
        status = vocab.ENCOUNTER_STATUS_IN.get(str(resource.get("status")))
        place = _encounter_place(ctx, resource)
        purpose = vocab.Purpose.OTHER
        reasons = [concept_text(c) for c in as_list(resource.get("reasonCode"))]
        notes = joined(
            *(concept_text(t) for t in as_list(resource.get("type"))),
            labelled("Reason", reasons),
        )
    else:
        start = fhir_datetime(resource.get("start"))
        doctor = people.doctor_ref(ctx, patient_id, resource.get("participant"))
        status = vocab.APPOINTMENT_STATUS_IN.get(str(resource.get("status")))
        place = _appointment_place(ctx, resource)
        purpose = (
            choice(vocab.Purpose, code_in(resource.get("appointmentType"), vocab.PURPOSE))
            or vocab.Purpose.OTHER
        )
        notes = tidy(resource.get("comment"), LONG_TEXT, multiline=True) or tidy(
            resource.get("description"), LONG_TEXT, multiline=True
        )
    if start is None:
        ctx.summary.skip(resource, "it has no start time")
        return
    if doctor is None:
        ctx.summary.skip(resource, "it names no doctor")
        return
    if status is None:
        ctx.summary.skip(
            resource, f"its status {str(resource.get('status'))[:30]!r} is not a visit"
        )
        return
    appointment = appointments.add_appointment(
        ctx.session,
        patient_id,
        doctor=doctor,
        starts_at=start,
        time_zone=zone_for(start, extension_value(resource, vocab.EXT_TIME_ZONE)),
        location=place,
        purpose=purpose,
        companion=tidy(extension_value(resource, vocab.EXT_COMPANION)),
        notes=notes,
    )
    coverage = choice(vocab.Coverage, extension_value(resource, vocab.EXT_COVERAGE))
    appointments.edit_appointment(
        ctx.session,
        appointment,
        status=status,
        staff_told=extension_value(resource, vocab.EXT_STAFF_TOLD) is True,
        records_sent_on=fhir_date(extension_value(resource, vocab.EXT_RECORDS_SENT)),
        coverage=coverage or vocab.Coverage.UNKNOWN,
        coverage_ref=tidy(extension_value(resource, vocab.EXT_COVERAGE_REF)) or "",
    )
    brought = ctx.records_made_from(patient_id, resource.get("supportingInformation"))
    if brought:
        appointments.bring_records(ctx.session, appointment, brought)
    ctx.summary.imported["appointment"] += 1
    ctx.remember(patient_id, "appointment", appointment.id, resource)


def _encounter_place(ctx: ImportContext, encounter: Resource) -> str | None:
    for item in as_list(encounter.get("location")):
        if isinstance(item, dict):
            place = ctx.bundle.resolve(item.get("location"), "Location")
            if place is not None:
                return _place_text(place)
    provider = ctx.bundle.resolve(encounter.get("serviceProvider"), "Organization")
    return None if provider is None else _place_text(provider)


def _appointment_place(ctx: ImportContext, appointment: Resource) -> str | None:
    for participant in as_list(appointment.get("participant")):
        if isinstance(participant, dict):
            place = ctx.bundle.resolve(participant.get("actor"), "Location")
            if place is not None:
                return _place_text(place)
    return None


def question(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    if code_in(resource.get("category"), vocab.CATEGORY) != vocab.QUESTION:
        ctx.summary.skip(resource, "messages are not kept")
        return
    if ctx.existing(patient_id, "question", resource) is not None:
        return
    payload = [
        tidy(p.get("contentString"), LONG_TEXT, multiline=True)
        for p in as_list(resource.get("payload"))
        if isinstance(p, dict)
    ]
    if not payload or payload[0] is None:
        ctx.summary.skip(resource, "it holds no question")
        return
    target = ctx.bundle.resolve(next(iter(as_list(resource.get("about"))), None), "Appointment")
    visit = None if target is None else ctx.made.get((patient_id, id(target)))
    question = questions.add_question(ctx.session, patient_id, text=payload[0], appointment=visit)
    if len(payload) > 1 and payload[1]:
        questions.answer_question(
            ctx.session,
            question,
            answer=payload[1],
            by=people.doctor_ref(ctx, patient_id, resource.get("sender")),
            on=fhir_date(resource.get("sent")),
        )
    ctx.summary.imported["question"] += 1
    ctx.remember(patient_id, "question", question.id, resource)


def material(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    kind = choice(vocab.MaterialKind, code_in(resource.get("code"), vocab.MATERIAL_KIND))
    if kind is None:
        ctx.summary.skip(resource, "tasks are not kept")
        return
    if ctx.existing(patient_id, "material", resource) is not None:
        return
    status = choice(
        vocab.MaterialStatus, code_in(resource.get("businessStatus"), vocab.MATERIAL_STATUS)
    )
    owner = obj(resource.get("owner"))
    material = materials.add_material(
        ctx.session,
        patient_id,
        kind=kind,
        description=tidy(resource.get("description"), 2_000, multiline=True) or kind.value,
        institution=tidy(owner.get("display")),
    )
    material.status = status or vocab.MaterialStatus.NEEDED
    dates = extension_value(resource, vocab.EXT_DATES)
    for column in ("requested_on", "received_on", "sent_on", "returned_on"):
        setattr(material, column, fhir_date(_sub_extension(dates, column)))
    ctx.summary.imported["material"] += 1
    ctx.remember(patient_id, "material", material.id, resource)


def coverage(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    patient = ctx.session.get(Patient, patient_id)
    assert patient is not None
    payor = next(iter(as_list(resource.get("payor"))), None)
    organization = ctx.bundle.resolve(payor, "Organization")
    insurer = tidy(organization.get("name")) if organization else None
    insurer = insurer or (tidy(payor.get("display")) if isinstance(payor, dict) else None)
    plan = next(
        (
            tidy(c.get("name")) or tidy(c.get("value"))
            for c in as_list(resource.get("class"))
            if isinstance(c, dict) and "plan" in all_codes(c.get("type"))
        ),
        None,
    )
    values = {
        "insurer": insurer,
        "plan": plan,
        "member_id": tidy(resource.get("subscriberId")),
        "insurer_phone": telecom(organization, "phone") if organization else None,
    }
    if all(getattr(patient, k) == v for k, v in values.items() if v is not None):
        ctx.summary.already["coverage"] += 1
        return
    if patient.insurer and insurer and patient.insurer != insurer:
        ctx.summary.skip(resource, "the patient's insurance is already filled in")
        return
    for column, value in values.items():
        if value is not None and getattr(patient, column) is None:
            setattr(patient, column, value)
    ctx.summary.imported["coverage"] += 1


def is_opinion(plan: Resource) -> bool:
    """A proposed plan from a named author: a doctor's opinion, not a plan being followed."""
    return plan.get("intent") == "proposal" and bool(plan.get("author"))


def _condition_notes(condition: Resource) -> str | None:
    status = code_in(condition.get("clinicalStatus"), vocab.CONDITION_CLINICAL)
    since = fhir_date(condition.get("onsetDateTime"))
    ended = fhir_date(condition.get("abatementDateTime"))
    return joined(
        f"Imported diagnosis; clinical status: {status}." if status else "Imported diagnosis.",
        f"Since {since.isoformat()}." if since else None,
        f"Ended {ended.isoformat()}." if ended else None,
        annotation_text(condition.get("note")),
        sep=" ",
    )


def _place_text(resource: Resource) -> str | None:
    return joined(tidy(resource.get("name")), address_text(resource.get("address")))


def _sub_extension(value: Any, name: str) -> Any:
    if not isinstance(value, dict):
        return None
    for item in as_list(value.get("extension")):
        if isinstance(item, dict) and item.get("url") == name:
            return item.get("valueDate")
    return None
