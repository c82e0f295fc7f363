"""Exporting the health facts, IPS- and mCODE-shaped where they fit:

- medications as MedicationStatements (dose and how in the dosage's text, and as
  carebinder's extensions so they come back exactly; the prescriber as the statement's
  information source), "takes no medications" as the IPS no-known-medications statement;
- allergies as AllergyIntolerance (reaction, severity; criticality high for a severe
  one), "no known allergies" as the IPS no-known-allergies statement;
- other conditions as problem-list Conditions;
- treatments as Procedures (surgery, radiation, transplant, other) or MedicationStatements
  (the medicines), with carebinder's kind as their category;
- results as laboratory Observations (valueQuantity for a number with a unit,
  valueString otherwise);
- each opinion's structured facts: site, laterality and histology on its Condition (the
  mCODE primary cancer condition), TNM and stage group as Observations with their
  clinical or pathologic LOINC codes and the AJCC edition as their method, grade and
  ECOG as Observations; the opinion's CarePlan names them all (supportingInfo).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Protocol

from sqlalchemy.orm import Session

from carebinder.fhir import mcode, vocab
from carebinder.fhir.ids import row_uuid
from carebinder.models import (
    Allergy,
    Condition,
    Medication,
    Opinion,
    Patient,
    Result,
    Severity,
    StagingBasis,
    Treatment,
)
from carebinder.services import (
    allergies,
    conditions,
    medications,
    results,
    staging,
    treatments,
)
from carebinder.services.common import iso

Resource = dict[str, Any]
# A value that is a plain number, written as a FHIR decimal writes it back: "12.5", "<5".
_NUMBER = re.compile(r"(<=|>=|<|>)?(-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?)")


class Writer(Protocol):
    session: Session
    patient: Patient

    def ref(self, row: Any) -> dict[str, str]: ...
    def add(self, ident: str, resource: Resource) -> None: ...


def derived(row: Any, what: str) -> str:
    """A UUID for a resource made from part of a row (an opinion's T category…)."""
    return str(uuid.uuid5(uuid.UUID(row_uuid(row)), what))


def add_all(out: Writer) -> None:
    """Every health fact of the patient, as resources of the bundle."""
    patient = out.patient
    for medication in sorted(medications.list_medications(out.session, patient.id), key=_id):
        out.add(row_uuid(medication), medication_statement(out, medication))
    if patient.no_medications_on is not None:
        out.add(derived(patient, "no-medications"), no_medications(out, patient))
    for allergy in sorted(allergies.list_allergies(out.session, patient.id), key=_id):
        out.add(row_uuid(allergy), allergy_intolerance(out, allergy))
    if patient.no_allergies_on is not None:
        out.add(derived(patient, "no-allergies"), no_allergies(out, patient))
    for condition in sorted(conditions.list_conditions(out.session, patient.id), key=_id):
        out.add(row_uuid(condition), comorbidity(out, condition))
    for treatment in sorted(treatments.list_treatments(out.session, patient.id), key=_id):
        out.add(row_uuid(treatment), treatment_resource(out, treatment))
    for result in sorted(results.list_results(out.session, patient.id), key=_id):
        out.add(row_uuid(result), observation(out, result))


def _id(row: Any) -> int:
    return int(row.id)


def _coded(system: str, code: str, display: str | None = None) -> Resource:
    coding: Resource = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _period(start: Any, end: Any) -> Resource | None:
    period = {k: iso(v) for k, v in (("start", start), ("end", end)) if v is not None}
    return period or None


# --- medications and allergies ------------------------------------------------------------


def medication_statement(out: Writer, medication: Medication) -> Resource:
    current = medications.is_current(medication)
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "status": "active" if current else "completed",
        "category": _coded(mcode.MEDICATION_KIND, medication.kind.value),
        "medicationCodeableConcept": {"text": medication.name},
        "subject": out.ref(out.patient),
    }
    period = _period(medication.started, medication.stopped)
    if period:
        resource["effectivePeriod"] = period
    if medication.prescriber is not None:
        resource["informationSource"] = out.ref(medication.prescriber)
    if medication.reason:
        resource["reasonCode"] = [{"text": medication.reason}]
    if medication.notes:
        resource["note"] = [{"text": medication.notes}]
    extensions = [
        {"url": url, "valueString": value}
        for url, value in ((mcode.EXT_DOSE, medication.dose), (mcode.EXT_HOW, medication.how))
        if value
    ]
    dosage: Resource = {}
    if extensions:
        dosage["extension"] = extensions
        dosage["text"] = "; ".join(v for v in (medication.dose, medication.how) if v)
    resource["dosage"] = [dosage] if dosage else []
    if not dosage:
        del resource["dosage"]
    return resource


def no_medications(out: Writer, patient: Patient) -> Resource:
    concept = _coded(mcode.IPS_ABSENT, "no-known-medications", "No known medications")
    concept["coding"].append(
        {"system": mcode.SNOMED, "code": "787481004", "display": "No known medications"}
    )
    return {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": {**concept, "text": "Takes no medications"},
        "subject": out.ref(patient),
        "dateAsserted": iso(patient.no_medications_on),
    }


def allergy_intolerance(out: Writer, allergy: Allergy) -> Resource:
    resource: Resource = {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": _coded(mcode.ALLERGY_CLINICAL, "active"),
        "code": {"text": allergy.substance},
        "patient": out.ref(out.patient),
    }
    if allergy.kind is not None:
        if allergy.kind in mcode.ALLERGY_CATEGORY_OUT:
            resource["category"] = [mcode.ALLERGY_CATEGORY_OUT[allergy.kind]]
        else:
            resource["extension"] = [
                {"url": mcode.EXT_ALLERGY_KIND, "valueCode": allergy.kind.value}
            ]
    if allergy.severity is not None:
        resource["criticality"] = "high" if allergy.severity is Severity.SEVERE else "low"
    if allergy.reaction or allergy.severity:
        shown: Resource = (
            {"text": allergy.reaction}
            if allergy.reaction
            else {"extension": [{"url": mcode.DATA_ABSENT, "valueCode": "unknown"}]}
        )
        reaction: Resource = {"manifestation": [shown]}
        if allergy.severity is not None:
            reaction["severity"] = allergy.severity.value
        resource["reaction"] = [reaction]
    if allergy.notes:
        resource["note"] = [{"text": allergy.notes}]
    return resource


def no_allergies(out: Writer, patient: Patient) -> Resource:
    concept = _coded(mcode.IPS_ABSENT, "no-known-allergies", "No known allergies")
    concept["coding"].append(
        {"system": mcode.SNOMED, "code": "716186003", "display": "No known allergy"}
    )
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": _coded(mcode.ALLERGY_CLINICAL, "active"),
        "verificationStatus": _coded(mcode.ALLERGY_VERIFICATION, "confirmed"),
        "code": {**concept, "text": "No known allergies"},
        "patient": out.ref(patient),
        "recordedDate": iso(patient.no_allergies_on),
    }


# --- conditions, treatments, results ------------------------------------------------------


def comorbidity(out: Writer, condition: Condition) -> Resource:
    resource: Resource = {
        "resourceType": "Condition",
        "clinicalStatus": _coded(vocab.CONDITION_CLINICAL, "active"),
        "category": [
            _coded(mcode.CONDITION_CATEGORY, "problem-list-item"),
            _coded(mcode.HEALTH, mcode.COMORBIDITY),
        ],
        "code": {"text": condition.name},
        "subject": out.ref(out.patient),
    }
    if condition.since is not None:
        resource["onsetDateTime"] = condition.since.isoformat()
    if condition.notes:
        resource["note"] = [{"text": condition.notes}]
    return resource


def treatment_resource(out: Writer, treatment: Treatment) -> Resource:
    category = _coded(mcode.TREATMENT_KIND, treatment.kind.value)
    period = _period(treatment.started, treatment.ended)
    if treatment.kind in mcode.PROCEDURE_KINDS:
        if treatment.kind in mcode.PROCEDURE_CATEGORY:
            code, display = mcode.PROCEDURE_CATEGORY[treatment.kind]
            category["coding"].append({"system": mcode.SNOMED, "code": code, "display": display})
        resource: Resource = {
            "resourceType": "Procedure",
            "status": "completed" if treatment.ended else "in-progress",
            "category": category,
            "code": {"text": treatment.name},
            "subject": out.ref(out.patient),
        }
        profile = {"surgery": mcode.CANCER_SURGERY, "radiation": mcode.RADIOTHERAPY}
        if treatment.kind.value in profile:
            resource["meta"] = {"profile": [profile[treatment.kind.value]]}
        if period:
            resource["performedPeriod"] = period
        if treatment.doctor is not None:
            resource["performer"] = [{"actor": out.ref(treatment.doctor)}]
        if treatment.response:
            resource["outcome"] = {"text": treatment.response}
    else:
        resource = {
            "resourceType": "MedicationStatement",
            "status": "completed" if treatment.ended else "active",
            "category": category,
            "medicationCodeableConcept": {"text": treatment.name},
            "subject": out.ref(out.patient),
        }
        if period:
            resource["effectivePeriod"] = period
        if treatment.doctor is not None:
            resource["informationSource"] = out.ref(treatment.doctor)
        if treatment.response:
            resource["extension"] = [{"url": mcode.EXT_RESPONSE, "valueString": treatment.response}]
    if treatment.notes:
        resource["note"] = [{"text": treatment.notes}]
    return resource


def observation(out: Writer, result: Result) -> Resource:
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": [_coded(mcode.OBSERVATION_CATEGORY, "laboratory")],
        "code": {"text": result.name},
        "subject": out.ref(out.patient),
    }
    number = _NUMBER.fullmatch(result.value)
    if number is not None and result.unit:
        quantity: Resource = {"value": float(number[2]), "unit": result.unit}
        if "." not in number[2]:
            quantity["value"] = int(number[2])
        if number[1]:
            quantity["comparator"] = number[1]
        resource["valueQuantity"] = quantity
    else:
        resource["valueString"] = result.value
        if result.unit:
            resource["extension"] = [{"url": mcode.EXT_UNIT, "valueString": result.unit}]
    if result.taken_on is not None:
        resource["effectiveDateTime"] = result.taken_on.isoformat()
    if result.interpretation is not None:
        code = mcode.INTERPRETATION_OUT[result.interpretation]
        resource["interpretation"] = [_coded(mcode.INTERPRETATION, code)]
    if result.record is not None:
        resource["derivedFrom"] = [out.ref(result.record)]
    if result.notes:
        resource["note"] = [{"text": result.notes}]
    return resource


# --- an opinion's structured cancer facts -------------------------------------------------


def cancer_condition(condition: Resource, opinion: Opinion) -> None:
    """The mCODE primary cancer condition's elements, added to the opinion's Condition."""
    condition["meta"] = {"profile": [mcode.PRIMARY_CANCER]}
    if opinion.site or opinion.laterality:
        site: Resource = {"text": opinion.site} if opinion.site else {}
        if opinion.laterality is not None:
            code, display = mcode.LATERALITY_CODES[opinion.laterality]
            side = _coded(mcode.SNOMED, code, display)
            site["extension"] = [
                {
                    "url": mcode.EXT_LATERALITY,
                    "valueCodeableConcept": {**side, "text": opinion.laterality.value},
                }
            ]
        condition["bodySite"] = [site]
    if opinion.histology:
        condition["extension"] = [
            {"url": mcode.EXT_HISTOLOGY, "valueCodeableConcept": {"text": opinion.histology}}
        ]


def opinion_facts(out: Writer, opinion: Opinion, focus: str | None) -> list[dict[str, str]]:
    """The staging, grade and ECOG Observations of an opinion, added to the bundle; their
    references, for the opinion's CarePlan. `focus` is the bundle's Condition, if any."""
    basis: StagingBasis | None = opinion.staging
    prefix = staging.PREFIX.get(basis) if basis else ""
    facts: list[tuple[str, Resource, dict[str, Any]]] = []
    for letter, category in (
        ("T", opinion.t_category),
        ("N", opinion.n_category),
        ("M", opinion.m_category),
    ):
        if category:
            # As staging.tnm prints it: a pathologic stage's M0 is cM0.
            shown = (
                f"c{category}"
                if letter == "M"
                and basis is StagingBasis.PATHOLOGIC
                and not category.upper().startswith("M1")
                else f"{prefix}{category}"
            )
            facts.append((letter, _code(letter, basis), {"valueCodeableConcept": {"text": shown}}))
    if basis is not None and (opinion.stage or opinion.ajcc_edition):
        group = {"valueCodeableConcept": {"text": opinion.stage}} if opinion.stage else {}
        facts.append(("stage", _code("stage", basis), group))
    if opinion.grade:
        facts.append(
            (
                "grade",
                _coded(vocab.LOINC, *mcode.GRADE),
                {"valueCodeableConcept": {"text": opinion.grade}},
            )
        )
    if opinion.ecog is not None:
        facts.append(("ecog", _coded(vocab.LOINC, *mcode.ECOG), {"valueInteger": opinion.ecog}))
    if opinion.ajcc_edition is not None and not any(
        k in ("T", "N", "M", "stage") for k, _, _ in facts
    ):
        facts.append(("stage", _code("stage", basis), {}))
    references = []
    for what, code, found in facts:
        resource: Resource = {
            "resourceType": "Observation",
            "status": "final",
            "code": code,
            "subject": out.ref(out.patient),
            **found,
        }
        if what == "grade":
            resource["category"] = [_coded(mcode.OBSERVATION_CATEGORY, "laboratory")]
        if what == "ecog":
            resource["category"] = [_coded(mcode.OBSERVATION_CATEGORY, "survey")]
        if focus is not None:
            resource["focus"] = [{"reference": f"urn:uuid:{focus}"}]
        if opinion.date is not None:
            resource["effectiveDateTime"] = opinion.date.isoformat()
        resource["performer"] = [out.ref(opinion.doctor)]
        if what in ("T", "N", "M", "stage") and opinion.ajcc_edition is not None:
            resource["method"] = _edition(opinion.ajcc_edition)
        ident = derived(opinion, f"fact:{what}")
        out.add(ident, resource)
        references.append({"reference": f"urn:uuid:{ident}"})
    return references


def _code(letter: str, basis: StagingBasis | None) -> Resource:
    system, code, display = mcode.TNM_CODES[(letter, basis)]
    return _coded(system, code, display)


def _edition(edition: int) -> Resource:
    text = f"AJCC {edition}th edition" if edition > 3 else f"AJCC edition {edition}"
    if edition in mcode.AJCC_CODES:
        code, display = mcode.AJCC_CODES[edition]
        return {**_coded(mcode.SNOMED, code, display), "text": text}
    return {"text": text}
