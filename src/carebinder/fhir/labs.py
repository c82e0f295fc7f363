"""Importing results: every Observation of category laboratory becomes a result (name,
value with its unit, date, interpretation, and the record of the DiagnosticReport it came
from). The packet's summary shows the cancer markers among them (services/markers.py);
the rest stay in the binder and its exports.

Other observations are kept as before: listed in their report's record when a report
holds them, else counted as skipped with their kind (vital signs, questionnaires…). An
opinion's staging, grade and ECOG observations are read with the opinion (cancer.py).
"""

from __future__ import annotations

from carebinder.fhir import mcode, vocab
from carebinder.fhir.context import ImportContext
from carebinder.fhir.read import Resource, as_list
from carebinder.fhir.values import (
    annotation_text,
    code_in,
    codes,
    concept_text,
    extension_value,
    fhir_date,
    joined,
    number_text,
    obj,
    observation_value,
    quantity_text,
    tidy,
)
from carebinder.services import markers, results

NOT_KEPT = {
    "vital-signs": "vital signs are not kept",
    "survey": "questionnaire answers are not kept",
    "social-history": "social history is not kept",
    "activity": "activity measurements are not kept",
}
LONE = "single results outside a report are not kept"


def is_lab(observation: Resource) -> bool:
    return "laboratory" in codes(observation.get("category"), mcode.OBSERVATION_CATEGORY)


def is_opinion_fact(observation: Resource) -> bool:
    """A staging, grade or ECOG observation: a fact of an opinion, never a result."""
    code = observation.get("code")
    found = set(codes(code, "http://loinc.org")) | set(codes(code, mcode.SNOMED))
    return bool(found & mcode.OPINION_FACTS) or bool(codes(code, mcode.STAGING))


def why_not_kept(observation: Resource) -> str:
    kinds = codes(observation.get("category"), mcode.OBSERVATION_CATEGORY)
    return next((NOT_KEPT[k] for k in kinds if k in NOT_KEPT), LONE)


def result(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    if ctx.existing(patient_id, "result", resource) is not None:
        return
    if resource.get("status") in ("entered-in-error", "cancelled"):
        ctx.summary.skip(resource, f"it is marked {resource['status']}")
        return
    name = concept_text(resource.get("code"))
    value, unit = _value(resource)
    if name is None:
        ctx.summary.skip(resource, "it names no test")
        return
    if value is None:
        if resource.get("hasMember"):
            return  # a panel: its members are the results
        ctx.summary.skip(resource, "it holds no value")
        return
    name = name.replace("\u200b", "")  # Synthea writes "#/\u200bvolume"
    # A cancer marker takes its short name ("CA 15-3", not "Cancer Ag 15-3 [Units/volume]
    # in Serum or Plasma"), so its values line up with those typed by hand in one trend.
    marker = markers.by_loinc(code_in(resource.get("code"), vocab.LOINC) or "")
    long_name = None
    if marker is not None and marker.name != name:
        name, long_name = marker.name, f"Test: {name}."
    period = obj(resource.get("effectivePeriod"))
    made = results.add_result(
        ctx.session,
        patient_id,
        name=name,
        value=value,
        unit=unit,
        on=fhir_date(
            resource.get("effectiveDateTime")
            or period.get("start")
            or resource.get("effectiveInstant")
            or resource.get("issued")
        ),
        record=_record_of(ctx, patient_id, resource),
        interpretation=next(
            (
                mcode.INTERPRETATION_IN[code]
                for code in codes(resource.get("interpretation"), mcode.INTERPRETATION)
                if code in mcode.INTERPRETATION_IN
            ),
            None,
        ),
        notes=joined(
            long_name, _ranges(resource), annotation_text(resource.get("note")), sep="\n\n"
        ),
    )
    ctx.summary.imported["result"] += 1
    ctx.remember(patient_id, "result", made.id, resource)


def _value(observation: Resource) -> tuple[str | None, str | None]:
    """(value, unit): a quantity's number (with its comparator) and unit, else the words."""
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, dict) and number_text(quantity.get("value")) is not None:
        comparator = (
            quantity.get("comparator") if isinstance(quantity.get("comparator"), str) else ""
        )
        unit = tidy(quantity.get("unit")) or tidy(quantity.get("code"))
        return f"{comparator}{number_text(quantity['value'])}", unit
    words = observation_value(observation)
    unit = tidy(extension_value(observation, mcode.EXT_UNIT))
    return (tidy(words, 200) if words else None), unit


def _ranges(observation: Resource) -> str | None:
    shown = []
    for item in as_list(observation.get("referenceRange")):
        item = obj(item)
        text = tidy(item.get("text"))
        if text is None:
            low, high = quantity_text(item.get("low")), quantity_text(item.get("high"))
            text = (
                f"{low} to {high}"
                if low and high
                else (low and f"from {low}") or (high and f"up to {high}")
            )
        if text:
            shown.append(text)
    return f"Reference range: {'; '.join(shown)}" if shown else None


def _record_of(ctx: ImportContext, patient_id: int, observation: Resource) -> int | None:
    """The record made from the report that lists this result, or named as its source."""
    if "reports" not in ctx.memo:
        ctx.memo["reports"] = {
            id(found): report
            for report in ctx.bundle.of_type("DiagnosticReport")
            for found in (
                ctx.bundle.resolve(r, "Observation") for r in as_list(report.get("result"))
            )
            if found is not None
        }
    report = ctx.memo["reports"].get(id(observation))
    if report is not None and (patient_id, id(report)) in ctx.made:
        return ctx.made[(patient_id, id(report))]
    made = ctx.records_made_from(patient_id, observation.get("derivedFrom"))
    return made[0] if made else None


def in_a_report(ctx: ImportContext, observation: Resource) -> bool:
    _record_of(ctx, 0, observation)  # builds the map
    return id(observation) in ctx.memo["reports"]
