"""Importing cancer treatments: Procedures and medicines that clinical.py tells apart as
surgery, radiation, chemotherapy, hormone, targeted or immunotherapy, or a transplant.

A Procedure from another system stays a record too (as every Procedure was before), and
its treatment is added beside it; carebinder's own treatments come back as treatments
only. A cancer medicine is a treatment, not one of the medications.
"""

from __future__ import annotations

from carebinder.choices import TreatmentKind
from carebinder.fhir import mcode, people
from carebinder.fhir.context import ImportContext
from carebinder.fhir.health import (
    ENDED,
    medicine_doctor,
    medicine_end,
    medicine_name,
    medicine_start,
    medicine_status,
    plain_name,
    reason_text,
    taken,
)
from carebinder.fhir.read import Resource
from carebinder.fhir.values import (
    annotation_text,
    choice,
    code_in,
    concept_text,
    extension_value,
    fhir_date,
    joined,
    labelled,
    obj,
    tidy,
)
from carebinder.services import treatments

NOT_DONE = frozenset({"not-done", "entered-in-error", "preparation"})


def own_kind(resource: Resource) -> TreatmentKind | None:
    """The kind of a treatment carebinder exported (its category says), or None."""
    found: TreatmentKind | None = choice(
        TreatmentKind, code_in(resource.get("category"), mcode.TREATMENT_KIND)
    )
    return found


def procedure(ctx: ImportContext, patient_id: int, resource: Resource, kind: TreatmentKind) -> None:
    if _known(ctx, patient_id, resource):
        return
    status = resource.get("status")
    if status in NOT_DONE:
        ctx.summary.skip(resource, f"the treatment was not given (status {status})")
        return
    own = own_kind(resource) is not None
    name = concept_text(resource.get("code")) if own else plain_name(resource.get("code"))
    if name is None:
        ctx.summary.skip(resource, "it names no treatment")
        return
    period = obj(resource.get("performedPeriod"))
    started = fhir_date(resource.get("performedDateTime") or period.get("start"))
    ended = (
        fhir_date(period.get("end"))
        if own
        else fhir_date(period.get("end"))
        or (started if resource.get("performedDateTime") else None)
    )
    reasons = [plain_name(c) for c in resource.get("reasonCode", []) if isinstance(c, dict)]
    _add(
        ctx,
        patient_id,
        resource,
        kind=kind,
        name=name,
        started=started,
        ended=ended,
        doctor=people.doctor_ref(ctx, patient_id, resource.get("performer"))
        or (None if own else _seen_by(ctx, patient_id, resource)),
        response=concept_text(resource.get("outcome")),
        notes=annotation_text(resource.get("note"))
        if own
        else joined(labelled("Reason", reasons), annotation_text(resource.get("note"))),
    )


def medicine(ctx: ImportContext, patient_id: int, resource: Resource, kind: TreatmentKind) -> None:
    if _known(ctx, patient_id, resource) or not taken(ctx, resource):
        return
    own = own_kind(resource) is not None
    name = medicine_name(ctx, resource)
    if name is None:
        ctx.summary.skip(resource, "it names no medicine")
        return
    ended = fhir_date(obj(resource.get("effectivePeriod")).get("end"))
    noted = None
    if not own and medicine_status(resource) in ENDED:
        ended = medicine_end(ctx, resource)
        noted = None if ended else "Completed; the file gives no day it ended."
    _add(
        ctx,
        patient_id,
        resource,
        kind=kind,
        name=name,
        started=medicine_start(resource),
        ended=ended,
        doctor=medicine_doctor(ctx, patient_id, resource),
        response=tidy(extension_value(resource, mcode.EXT_RESPONSE)),
        notes=annotation_text(resource.get("note"))
        if own
        else joined(
            labelled("For", [reason_text(ctx, resource)]),
            noted,
            annotation_text(resource.get("note")),
        ),
    )


def _seen_by(ctx: ImportContext, patient_id: int, resource: Resource) -> int | None:
    """The doctor of the visit the procedure was done in (Synthea names no performer)."""
    visit = ctx.bundle.resolve(resource.get("encounter"), "Encounter")
    seen = people.participants(ctx, visit) if visit is not None else []
    return people.doctor(ctx, patient_id, seen[0]) if seen else None


def _known(ctx: ImportContext, patient_id: int, resource: Resource) -> bool:
    """Made before: as a treatment, or (an earlier import's) medication."""
    if ctx.existing(patient_id, "treatment", resource) is not None:
        return True
    return resource["resourceType"] != "Procedure" and (
        ctx.existing(patient_id, "medication", resource) is not None
    )


def _add(ctx: ImportContext, patient_id: int, resource: Resource, **fields: object) -> None:
    started, ended = fields["started"], fields["ended"]
    if started is not None and ended is not None and ended < started:  # type: ignore[operator]
        fields["ended"] = started
    made = treatments.add_treatment(ctx.session, patient_id, **fields)  # type: ignore[arg-type]
    ctx.summary.imported["treatment"] += 1
    ctx.remember(patient_id, "treatment", made.id, resource)
