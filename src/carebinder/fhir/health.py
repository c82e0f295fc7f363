"""Importing what the patient takes, is allergic to, and lives with: MedicationRequest and
MedicationStatement become medications (or treatments, for cancer medicines: therapy.py),
AllergyIntolerance becomes allergies, and Conditions other than the cancer become other
conditions. The IPS "no known allergies" and "no known medications" statements become the
patient's "none known", with the day they were stated.

**When a medication stopped.** A stopped or completed medicine is history only with a day
it stopped. The day is, in this order: the end of the statement's effectivePeriod, the
end of the prescription's validity or of its dosage's bounds; else the day the same
medicine was prescribed again (Synthea renews a yearly prescription and stops the old
one); else, when the file gives no day at all, the day it was prescribed stands for it,
and the medication's notes say so. A cancelled prescription or a "not taken" statement
was never taken, and is not kept.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from carebinder.choices import AllergyKind, MedicationKind, Severity
from carebinder.fhir import clinical, mcode, people
from carebinder.fhir.context import ImportContext
from carebinder.fhir.read import Resource, as_list
from carebinder.fhir.values import (
    annotation_text,
    choice,
    code_in,
    codes,
    concept_text,
    extension_value,
    fhir_date,
    joined,
    number_text,
    obj,
    quantity_text,
    tidy,
)
from carebinder.models import Patient
from carebinder.services import allergies, conditions, medications

NEVER_TAKEN = frozenset({"cancelled", "not-taken"})
ENDED = frozenset({"stopped", "completed"})
NO_DAY_NOTE = (
    "Stopped; the file gives no day it stopped, so the day it was prescribed stands for it."
)
_TAG = re.compile(r"\s*\((?:disorder|finding|situation|procedure|morphologic abnormality)\)$")
_ALLERGY_TO = re.compile(r"^allergy to (.+)$|^(.+?) allergy$", re.IGNORECASE)


def plain_name(concept: Any) -> str | None:
    """A CodeableConcept's words without SNOMED's semantic tag: "Anemia (disorder)" -> "Anemia"."""
    name = concept_text(concept)
    return None if name is None else _TAG.sub("", name) or name


def medicine_name(ctx: ImportContext, resource: Resource) -> str | None:
    name = concept_text(resource.get("medicationCodeableConcept"))
    if name is None:
        target = ctx.bundle.resolve(resource.get("medicationReference"), "Medication")
        name = concept_text(target.get("code")) if target else None
    return name


def medicine_start(resource: Resource) -> date | None:
    period = obj(resource.get("effectivePeriod"))
    return fhir_date(
        resource.get("authoredOn") or resource.get("effectiveDateTime") or period.get("start")
    )


def medicine_end(ctx: ImportContext, resource: Resource) -> date | None:
    """The day a medicine ended, as the file gives it: the end of its period, of its
    prescription's validity or of its dosage, else the day it was prescribed again."""
    ends = [
        obj(resource.get("effectivePeriod")).get("end"),
        obj(obj(resource.get("dispenseRequest")).get("validityPeriod")).get("end"),
    ]
    for dosage in as_list(resource.get("dosageInstruction") or resource.get("dosage")):
        repeat = obj(obj(obj(dosage).get("timing")).get("repeat"))
        ends.append(obj(repeat.get("boundsPeriod")).get("end"))
    for end in ends:
        day = fhir_date(end)
        if day is not None:
            return day
    return _renewed_on(ctx, resource)


def _renewed_on(ctx: ImportContext, resource: Resource) -> date | None:
    """The day the same medicine was next prescribed, after this one."""
    if "renewals" not in ctx.memo:
        found: dict[str, list[date]] = {}
        for item in ctx.bundle.of_type("MedicationRequest", "MedicationStatement"):
            key, day = _medicine_key(ctx, item), medicine_start(item)
            if key and day:
                found.setdefault(key, []).append(day)
        ctx.memo["renewals"] = {key: sorted(set(days)) for key, days in found.items()}
    key, start = _medicine_key(ctx, resource), medicine_start(resource)
    later = [d for d in ctx.memo["renewals"].get(key, []) if start and d > start]
    return later[0] if later else None


def _medicine_key(ctx: ImportContext, resource: Resource) -> str | None:
    rxnorm = code_in(resource.get("medicationCodeableConcept"), mcode.RXNORM)
    name = medicine_name(ctx, resource)
    return f"rxnorm:{rxnorm}" if rxnorm else (name.casefold() if name else None)


def medicine_status(resource: Resource) -> str:
    status = resource.get("status")
    return status if isinstance(status, str) else "unknown"


def reason_text(ctx: ImportContext, resource: Resource) -> str | None:
    for concept in as_list(resource.get("reasonCode")):
        if plain_name(concept):
            return plain_name(concept)
    for reference in as_list(resource.get("reasonReference")):
        target = ctx.bundle.resolve(reference, "Condition", "Observation")
        found = plain_name(target.get("code")) if target else None
        found = found or (tidy(reference.get("display")) if isinstance(reference, dict) else None)
        if found:
            return found
    return None


def taken(ctx: ImportContext, resource: Resource) -> bool:
    """Whether the medicine was taken at all; if not, it is counted as skipped."""
    status = medicine_status(resource)
    if status in NEVER_TAKEN or status == "entered-in-error":
        reason = "entered in error" if status == "entered-in-error" else "never taken"
        ctx.summary.skip(resource, f"{reason} (status {status})")
        return False
    return True


def medicine_doctor(ctx: ImportContext, patient_id: int, resource: Resource) -> int | None:
    return people.doctor_ref(
        ctx, patient_id, resource.get("requester"), resource.get("informationSource")
    )


# --- medications --------------------------------------------------------------------------


def medication(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    """A MedicationRequest or MedicationStatement that is not a cancer treatment."""
    if ctx.existing(patient_id, "medication", resource) is not None:
        return
    own = bool(codes(resource.get("category"), mcode.MEDICATION_KIND))
    status = medicine_status(resource)
    name = medicine_name(ctx, resource)
    if not taken(ctx, resource):
        return
    if name is None:
        ctx.summary.skip(resource, "it names no medicine")
        return
    started = medicine_start(resource)
    stopped = fhir_date(obj(resource.get("effectivePeriod")).get("end"))
    guessed = False
    if not own and status in ENDED:
        stopped = medicine_end(ctx, resource)
        guessed = stopped is None
        stopped = stopped or started or date.today()
    if started and stopped and stopped < started:
        stopped = started
    dose, how = _dosage(resource, own)
    changed = medications.add_medication(
        ctx.session,
        patient_id,
        name=name,
        dose=dose,
        how=how,
        kind=choice(MedicationKind, code_in(resource.get("category"), mcode.MEDICATION_KIND))
        or MedicationKind.PRESCRIPTION,
        started=started,
        stopped=stopped,
        reason=reason_text(ctx, resource),
        prescriber=medicine_doctor(ctx, patient_id, resource),
        notes=annotation_text(resource.get("note"))
        if own
        else joined(
            NO_DAY_NOTE if guessed else None, annotation_text(resource.get("note")), sep="\n\n"
        ),
    )
    ctx.summary.imported["medication"] += 1
    ctx.remember(patient_id, "medication", changed.medication.id, resource)


def _dosage(resource: Resource, own: bool) -> tuple[str | None, str | None]:
    """(dose, how) of the first dosage: carebinder's own words when it wrote them, else
    the dose quantity (with its unit) and the text, or route, frequency and "as needed"."""
    dosage = obj(
        next(iter(as_list(resource.get("dosageInstruction") or resource.get("dosage"))), None)
    )
    if own:
        return tidy(extension_value(dosage, mcode.EXT_DOSE)), tidy(
            extension_value(dosage, mcode.EXT_HOW)
        )
    quantity = obj(obj(next(iter(as_list(dosage.get("doseAndRate"))), None)).get("doseQuantity"))
    dose = quantity_text(quantity) if (quantity.get("unit") or quantity.get("code")) else None
    how = tidy(dosage.get("text")) or joined(
        concept_text(dosage.get("route")),
        _timing(obj(dosage.get("timing"))),
        "as needed" if dosage.get("asNeededBoolean") is True else None,
        sep=", ",
    )
    return dose, how


_UNITS = {
    "s": "second",
    "min": "minute",
    "h": "hour",
    "d": "day",
    "wk": "week",
    "mo": "month",
    "a": "year",
}
_TIMES = {1: "once", 2: "twice"}


def _timing(timing: dict[str, Any]) -> str | None:
    """ "once a day", "twice a day", "every 8 hours": a Timing as people say it."""
    if concept_text(timing.get("code")):
        return concept_text(timing.get("code"))
    repeat = obj(timing.get("repeat"))
    frequency, period, unit = (
        repeat.get("frequency"),
        repeat.get("period"),
        repeat.get("periodUnit"),
    )
    if not isinstance(unit, str) or unit not in _UNITS or not isinstance(period, int | float):
        return None
    frequency = frequency if isinstance(frequency, int) and frequency > 0 else 1
    word = _UNITS[unit]
    if period == 1:
        return f"{_TIMES.get(frequency, f'{frequency} times')} a {word}"
    if frequency == 1:
        return f"every {number_text(period)} {word}s"
    return f"{frequency} times every {number_text(period)} {word}s"


def no_medications(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    """An IPS "no known medications" statement: the patient takes none, as of its day."""
    patient = ctx.session.get(Patient, patient_id)
    assert patient is not None
    if patient.no_medications_on is not None:
        ctx.summary.already["no_medications"] += 1
        return
    when = fhir_date(resource.get("dateAsserted") or resource.get("effectiveDateTime"))
    medications.state_none(ctx.session, patient, on=when or date.today())
    ctx.summary.imported["no_medications"] += 1


def is_statement(resource: Resource, statement: set[tuple[str, str]]) -> bool:
    concept = resource.get("code") or resource.get("medicationCodeableConcept")
    return any(
        (coding.get("system"), coding.get("code")) in statement
        for coding in as_list(obj(concept).get("coding"))
        if isinstance(coding, dict)
    )


# --- allergies ----------------------------------------------------------------------------


def allergy(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    if ctx.existing(patient_id, "allergy", resource) is not None:
        return
    verification = code_in(resource.get("verificationStatus"), mcode.ALLERGY_VERIFICATION)
    if verification in ("refuted", "entered-in-error"):
        ctx.summary.skip(resource, f"it is marked {verification}")
        return
    if code_in(resource.get("clinicalStatus"), mcode.ALLERGY_CLINICAL) == "resolved":
        ctx.summary.skip(resource, "the allergy has resolved")
        return
    own = extension_value(resource, mcode.EXT_ALLERGY_KIND) is not None or not codes(
        resource.get("code"), mcode.SNOMED
    )
    substance = concept_text(resource.get("code"))
    if substance and not own:
        found = _ALLERGY_TO.match(plain_name(resource.get("code")) or substance)
        if found and (found[1] or found[2]):
            text = found[1] or found[2]
            substance = text[0].upper() + text[1:]
    reactions = [obj(r) for r in as_list(resource.get("reaction"))]
    if substance is None:
        substance = next(
            (
                concept_text(r.get("substance"))
                for r in reactions
                if concept_text(r.get("substance"))
            ),
            None,
        )
    if substance is None:
        ctx.summary.skip(resource, "it names no substance")
        return
    shown = [concept_text(m) for r in reactions for m in as_list(r.get("manifestation"))]
    severities = [choice(Severity, r.get("severity")) for r in reactions]
    rank = [Severity.MILD, Severity.MODERATE, Severity.SEVERE]
    severity = max((s for s in severities if s), key=rank.index, default=None)
    criticality = resource.get("criticality")
    if severity is None and criticality == "high":
        severity = Severity.SEVERE
    categories = [c for c in as_list(resource.get("category")) if isinstance(c, str)]
    kind = choice(AllergyKind, extension_value(resource, mcode.EXT_ALLERGY_KIND)) or next(
        (mcode.ALLERGY_CATEGORY_IN[c] for c in categories if c in mcode.ALLERGY_CATEGORY_IN), None
    )
    noted = None
    if not own and isinstance(criticality, str) and severity is None:
        noted = f"Criticality: {criticality} (the risk of a severe reaction, as recorded)."
    added = allergies.add_allergy(
        ctx.session,
        patient_id,
        substance=substance,
        reaction=", ".join(dict.fromkeys(s for s in shown if s))[:200] or None,
        severity=severity,
        kind=kind,
        notes=joined(annotation_text(resource.get("note")), noted, sep="\n\n"),
    )
    ctx.summary.imported["allergy"] += 1
    ctx.remember(patient_id, "allergy", added.allergy.id, resource)


def no_allergies(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    """An IPS "no known allergies" statement, as of its recorded day (or today)."""
    patient = ctx.session.get(Patient, patient_id)
    assert patient is not None
    if patient.no_allergies_on is not None:
        ctx.summary.already["no_allergies"] += 1
        return
    when = fhir_date(resource.get("recordedDate") or resource.get("onsetDateTime"))
    allergies.state_none(ctx.session, patient, on=when or date.today())
    ctx.summary.imported["no_allergies"] += 1


# --- other conditions ---------------------------------------------------------------------


def condition(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    """A Condition that clinical.condition_kind calls another health problem."""
    if ctx.existing(patient_id, "condition", resource) is not None:
        return
    own = clinical.is_own_comorbidity(resource)
    name = concept_text(resource.get("code")) if own else plain_name(resource.get("code"))
    if name is None:
        ctx.summary.skip(resource, "it names no condition")
        return
    onset = obj(resource.get("onsetPeriod")).get("start")
    made = conditions.add_condition(
        ctx.session,
        patient_id,
        name=name,
        since=fhir_date(resource.get("onsetDateTime") or onset),
        notes=annotation_text(resource.get("note")),
    )
    ctx.summary.imported["condition"] += 1
    ctx.remember(patient_id, "condition", made.id, resource)
