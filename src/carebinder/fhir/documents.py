"""Importing documents: reports, procedures and care plans become records.

A DiagnosticReport lists the values of its Observations in the record's notes (its
laboratory results also become results: labs.py). Medications are no longer a record
(health.py).
"""

from __future__ import annotations

from typing import Any

from carebinder.fhir import people, vocab
from carebinder.fhir.attachments import attachments_of, is_data_url, is_placeholder
from carebinder.fhir.context import ImportContext
from carebinder.fhir.read import Resource, as_list
from carebinder.fhir.values import (
    all_codes,
    annotation_text,
    choice,
    code_in,
    concept_text,
    extension_value,
    fhir_date,
    joined,
    labelled,
    obj,
    observation_value,
    tidy,
)
from carebinder.leftout import LeftOut
from carebinder.services import (
    files,
    records,
)
from carebinder.services.common import LONG_TEXT

ASK_SENDER = "The record's notes name it: ask the sender for it again."


def record(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    if ctx.existing(patient_id, "record", resource) is not None:
        return
    fields = _record_fields(ctx, patient_id, resource)
    encounter = ctx.bundle.resolve(resource.get("encounter"), "Encounter")
    if encounter is not None:  # the visit it came from names who and where
        if fields.get("doctor") is None:
            seen = people.participants(ctx, encounter)
            fields["doctor"] = people.doctor(ctx, patient_id, seen[0]) if seen else None
        if fields.get("institution") is None:
            fields["institution"] = people.organization_name(ctx, encounter.get("serviceProvider"))
    prepared, notes, left_out = _files(ctx, resource)
    record = records.add_record(
        ctx.session,
        ctx.store,
        patient_id,
        kind=fields["kind"],
        title=fields["title"],
        date=fields.get("date"),
        doctor=fields.get("doctor"),
        institution=fields.get("institution"),
        notes=joined(fields.get("notes"), notes, sep="\n\n"),
        prepared=prepared,
    )
    ctx.summary.imported["record"] += 1
    ctx.summary.left_out += [
        LeftOut(name, reason, ASK_SENDER, "attachment", record=record.id)
        for name, reason in left_out
    ]
    record.institution = fields.get("institution")  # exactly as the file says, even none
    if record.files:
        ctx.summary.imported["file"] += len(record.files)
    ctx.remember(patient_id, "record", record.id, resource)


def _record_fields(ctx: ImportContext, patient_id: int, resource: Resource) -> dict[str, Any]:
    kind = resource["resourceType"]
    if kind == "DiagnosticReport":
        return _report_fields(ctx, patient_id, resource)
    if kind == "DocumentReference":
        return _document_fields(ctx, patient_id, resource)
    if kind == "Procedure":
        return _procedure_fields(ctx, patient_id, resource)
    return _care_plan_fields(ctx, patient_id, resource)


def _files(
    ctx: ImportContext, resource: Resource
) -> tuple[list[files.Prepared], str | None, list[tuple[str, str]]]:
    """The resource's files ready to attach, the note naming those not included, and the
    ones left out because they could not be decoded (name, reason)."""
    kept, missing, left_out = [], [], []
    for attachment in attachments_of(resource):
        if id(attachment) in ctx.prepared:
            kept.append(ctx.prepared[id(attachment)])
        elif id(attachment) in ctx.problems:
            problem = ctx.problems[id(attachment)]
            missing.append(f"{_attachment_label(attachment)}: {problem}")
            left_out.append((tidy(attachment.get("title")) or "a file", problem))
            ctx.summary.skip("attachment", problem)
        elif "url" in attachment or not is_placeholder(attachment):
            missing.append(f"{_attachment_label(attachment)}: not included in the import")
            ctx.summary.skip("attachment", "given only as a link, not included")
    note = None
    if missing:
        note = "Files not included (ask the sender for them):\n" + "\n".join(
            f"- {line}" for line in missing
        )
    return kept, note, left_out


def _report_fields(ctx: ImportContext, patient_id: int, resource: Resource) -> dict[str, Any]:
    sections = [
        code for category in as_list(resource.get("category")) for code in all_codes(category)
    ]
    kind = next((vocab.SECTION_KIND[c] for c in sections if c in vocab.SECTION_KIND), None)
    kind = kind or _kind_from(resource.get("code")) or vocab.RecordKind.OTHER
    results = []
    for reference in as_list(resource.get("result")):
        observation = ctx.bundle.resolve(reference, "Observation")
        if observation is None:
            continue
        name = concept_text(observation.get("code")) or tidy(reference.get("display"))
        value = observation_value(observation)
        if name and value:
            results.append(f"- {name}: {value}")
    return {
        "kind": kind,
        "title": concept_text(resource.get("code")) or "Report",
        "date": fhir_date(
            resource.get("effectiveDateTime")
            or (resource.get("effectivePeriod") or {}).get("start")
            or resource.get("issued")
        ),
        "doctor": people.doctor_ref(
            ctx, patient_id, resource.get("resultsInterpreter"), resource.get("performer")
        ),
        "institution": people.organization_name(ctx, resource.get("performer")),
        "notes": joined(
            tidy(resource.get("conclusion"), LONG_TEXT, multiline=True),
            "Results:\n" + "\n".join(results) if results else None,
            sep="\n\n",
        ),
    }


def _document_fields(ctx: ImportContext, patient_id: int, resource: Resource) -> dict[str, Any]:
    context = obj(resource.get("context"))
    period = obj(context.get("period"))
    return {
        "kind": _kind_from(resource.get("type")) or vocab.RecordKind.OTHER,
        "title": tidy(resource.get("description"))
        or concept_text(resource.get("type"))
        or "Document",
        "date": fhir_date(period.get("start") or resource.get("date")),
        "doctor": people.doctor_ref(ctx, patient_id, resource.get("author")),
        "institution": people.organization_name(
            ctx, resource.get("custodian"), resource.get("author")
        ),
        "notes": tidy(extension_value(resource, vocab.EXT_NOTES), LONG_TEXT, multiline=True),
    }


def _procedure_fields(ctx: ImportContext, patient_id: int, resource: Resource) -> dict[str, Any]:
    period = resource.get("performedPeriod")
    reasons = [concept_text(c) for c in as_list(resource.get("reasonCode"))]
    sites = [concept_text(c) for c in as_list(resource.get("bodySite"))]
    return {
        "kind": vocab.RecordKind.SURGERY,
        "title": concept_text(resource.get("code")) or "Procedure",
        "date": fhir_date(
            resource.get("performedDateTime")
            or (period.get("start") if isinstance(period, dict) else None)
        ),
        "doctor": people.doctor_ref(ctx, patient_id, resource.get("performer")),
        "institution": people.organization_name(ctx, resource.get("performer")),
        "notes": joined(
            labelled("Reason", reasons),
            labelled("Site", sites),
            labelled("Outcome", [concept_text(resource.get("outcome"))]),
            annotation_text(resource.get("note")),
        ),
    }


def _care_plan_fields(ctx: ImportContext, patient_id: int, resource: Resource) -> dict[str, Any]:
    period = obj(resource.get("period"))
    activities = []
    for activity in as_list(resource.get("activity")):
        detail = activity.get("detail") if isinstance(activity, dict) else None
        if isinstance(detail, dict) and concept_text(detail.get("code")):
            status = detail.get("status")
            shown = f" ({status})" if isinstance(status, str) else ""
            activities.append(f"- {concept_text(detail.get('code'))}{shown}")
    treats = [concept_text(c.get("code")) for c in ctx.addressed(resource)]
    return {
        "kind": vocab.RecordKind.TREATMENT_PLAN,
        "title": tidy(resource.get("title"))
        or tidy(resource.get("description"))
        or _care_plan_category(resource)
        or (f"Care plan for {treats[0]}" if treats and treats[0] else "Care plan"),
        "date": fhir_date(period.get("start") or resource.get("created")),
        "doctor": people.doctor_ref(ctx, patient_id, resource.get("author")),
        "notes": joined(
            labelled("For", treats),
            "Activities:\n" + "\n".join(activities) if activities else None,
            labelled("Status", [tidy(resource.get("status"))]),
            annotation_text(resource.get("note")),
        ),
    }


def _kind_from(concept: Any) -> vocab.RecordKind | None:
    own: vocab.RecordKind | None = choice(vocab.RecordKind, code_in(concept, vocab.RECORD_KIND))
    return own or vocab.LOINC_KIND.get(code_in(concept, vocab.LOINC) or "")


def _care_plan_category(plan: Resource) -> str | None:
    generic = "734163000"  # SNOMED "Care plan (record artifact)": says nothing
    named = [
        concept_text(c)
        for c in as_list(plan.get("category"))
        if generic not in all_codes(c) and concept_text(c)
    ]
    return named[0] if named else None


def _attachment_label(attachment: dict[str, Any]) -> str:
    title = tidy(attachment.get("title")) or "a file"
    url = None if is_data_url(attachment.get("url")) else tidy(attachment.get("url"), 300)
    return f"{title} ({url})" if url else title
