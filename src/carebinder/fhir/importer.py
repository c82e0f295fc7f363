"""`carebinder import`: a FHIR R4 bundle into the binder.

What a patient would want in the binder is kept; the rest (claims, immunizations, single
observations outside a report…) is counted as skipped, with the reason. Every row made
remembers its FHIR ids and identifiers (`source_key`), so importing the same bundle
again adds nothing, and a bundle exported by carebinder comes back as the same binder.

Like every service, this takes a Session and never commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carebinder.errors import CarebinderError, InvalidInput
from carebinder.fhir import care, documents, people, vocab
from carebinder.fhir.attachments import without_data
from carebinder.fhir.exporter import row_uuid
from carebinder.fhir.read import Bundle, Resource, as_list, contained
from carebinder.fhir.values import address_text, codes, fhir_date, human_name, telecom, tidy
from carebinder.leftout import LeftOut
from carebinder.models import (
    Appointment,
    Doctor,
    Material,
    Opinion,
    Patient,
    Question,
    Record,
    SourceKey,
)
from carebinder.services import (
    files,
    patients,
)
from carebinder.store import Store

ENTITIES: dict[str, type[Any]] = {
    "patient": Patient,
    "doctor": Doctor,
    "record": Record,
    "opinion": Opinion,
    "appointment": Appointment,
    "question": Question,
    "material": Material,
}
Step = Callable[["Importer", int, Resource], None]
Snapshot = tuple[Counter[str], Counter[str], Counter[tuple[str, str]], list[LeftOut]]

# Read as part of other resources (a doctor's institution, a report's results…), so never
# reported as skipped.
SUPPORTING = frozenset({"Organization", "Location", "PractitionerRole", "Medication"})
# Why a kind of resource is not kept, when carebinder has no place for it.
NOT_KEPT = {
    "Observation": "single results outside a report are not kept",
    "Immunization": "immunizations are not kept",
    "Claim": "billing is not kept",
    "ExplanationOfBenefit": "billing is not kept",
    "Goal": "care goals are not kept",
    "AllergyIntolerance": "allergies are not kept yet",
    "Provenance": "not kept",
    "Device": "devices are not kept",
    "ImagingStudy": "imaging studies are kept as their reports",
    "Media": "media are not kept",
}


@dataclass
class Summary:
    """What an import did, for the person who ran it."""

    imported: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)
    patients: list[tuple[int, str, str]] = field(default_factory=list)  # id, name, how
    # Attachments that could not be decoded, named, with the record they belonged to.
    left_out: list[LeftOut] = field(default_factory=list)

    def skip(self, resource: Resource | str, reason: str) -> None:
        kind = resource if isinstance(resource, str) else resource.get("resourceType", "?")
        self.skipped[(str(kind), reason)] += 1

    def snapshot(self) -> Snapshot:
        saved = Counter(self.imported), Counter(self.already), Counter(self.skipped)
        return (*saved, list(self.left_out))

    def restore(self, saved: Snapshot) -> None:
        self.imported, self.already, self.skipped, self.left_out = saved

    def to_json(self) -> dict[str, Any]:
        return {
            "patients": [{"id": i, "name": n, "status": how} for i, n, how in self.patients],
            "imported": dict(sorted((+self.imported).items())),
            "already_in_binder": dict(sorted((+self.already).items())),
            "skipped": [
                {"resource": kind, "reason": reason, "count": count}
                for (kind, reason), count in sorted(self.skipped.items())
            ],
            "left_out": [item.to_json() for item in self.left_out],
        }


def source_keys(resource: Resource) -> list[str]:
    """The keys that identify a resource across imports: Type/id, and its identifiers
    (except private ones such as a social security number, which never enter a binder)."""
    kind = resource.get("resourceType")
    keys = []
    if isinstance(resource.get("id"), str):
        keys.append(f"{kind}/{resource['id']}"[:500])
    for identifier in as_list(resource.get("identifier")):
        if not isinstance(identifier, dict) or _private(identifier):
            continue
        system, value = identifier.get("system"), identifier.get("value")
        if isinstance(system, str) and isinstance(value, str) and system and value:
            keys.append(f"{kind} identifier {system}|{value}"[:500])
    return keys


def _private(identifier: dict[str, Any]) -> bool:
    kinds = set(vocab_codes(identifier.get("type")))
    return bool(kinds & vocab.PRIVATE_IDENTIFIER_TYPES) or (
        identifier.get("system") in vocab.PRIVATE_IDENTIFIER_SYSTEMS
    )


def vocab_codes(concept: Any) -> list[str]:
    return codes(concept, vocab.V2_0203)


class Importer:
    """One import: the bundle, the session, and what has been matched so far."""

    def __init__(
        self,
        session: Session,
        store: Store,
        bundle: Bundle,
        prepared: dict[int, files.Prepared],
        problems: dict[int, str],
    ) -> None:
        self.session = session
        self.store = store
        self.bundle = bundle
        self.prepared = prepared  # by id() of the attachment's JSON object
        self.problems = problems
        self.summary = Summary()
        self.keys: dict[tuple[int, str, str], int] = {}  # (patient, entity, key) -> row id
        self.made: dict[tuple[int, int], int] = {}  # (patient, id(resource)) -> row id
        self.patient_of: dict[int, int] = {}  # id(Patient resource) -> binder patient id
        self.validation: dict[int, str | None] = {}
        self.own_ids: dict[tuple[int, str], dict[str, int]] = {}
        self.created: dict[str, set[int]] = {}

    def run(self) -> Summary:
        found = list(self.bundle.of_type("Patient"))
        if not found:
            raise InvalidInput(
                f"{self.bundle.name} holds no Patient, so carebinder cannot tell whose records"
                " these are. Export the bundle with the patient included."
            )
        for resource in found:
            self._patient(resource)
        if not self.patient_of:
            reasons = "; ".join(sorted({reason for _, reason in self.summary.skipped}))
            raise InvalidInput(
                f"{self.bundle.name}: the patient cannot be filed ({reasons}), so nothing was"
                " imported. Ask the sender for a complete export."
            )
        self._load_keys()
        for resource in found:
            if id(resource) in self.patient_of:
                patient_id = self.patient_of[id(resource)]
                self.remember(patient_id, "patient", patient_id, resource)
        proposals = [r for r in self.bundle.of_type("CarePlan") if care.is_opinion(r)]
        addressed = {id(condition) for plan in proposals for condition in self.addressed(plan)}
        for resource in self.bundle.of_type("Practitioner"):
            if len(self.patient_of) == 1:
                people.doctor(self, next(iter(self.patient_of.values())), resource)
        people.link_referrals(
            self,
        )
        for resource in self.bundle.resources:
            kind = resource["resourceType"]
            plan = kind == "CarePlan" and not care.is_opinion(resource)
            if plan or kind in ("DiagnosticReport", "DocumentReference", "Procedure"):
                self.each_patient(resource, documents.record)
        for plan in proposals:
            self.each_patient(plan, care.opinion)
        for resource in self.bundle.of_type("Condition"):
            if id(resource) not in addressed:
                self.each_patient(resource, care.opinion)
        for resource in self.bundle.of_type("Encounter", "Appointment"):
            self.each_patient(resource, care.appointment)
        documents.medications(
            self,
        )
        for resource in self.bundle.of_type("Communication"):
            self.each_patient(resource, care.question)
        for resource in self.bundle.of_type("Task"):
            self.each_patient(resource, care.material)
        for resource in self.bundle.of_type("Coverage"):
            self.each_patient(resource, care.coverage)
        handled = {
            "Patient", "Practitioner", "DiagnosticReport", "DocumentReference", "Procedure",
            "CarePlan", "Condition", "Encounter", "Appointment", "MedicationRequest",
            "Communication", "Task", "Coverage",
        }  # fmt: skip
        results = {
            id(observation)
            for report in self.bundle.of_type("DiagnosticReport")
            for observation in (
                self.bundle.resolve(ref, "Observation") for ref in as_list(report.get("result"))
            )
        }
        for resource in self.bundle.resources:
            kind = resource["resourceType"]
            if kind not in handled | SUPPORTING and id(resource) not in results:
                self.summary.skip(resource, NOT_KEPT.get(kind, "carebinder has no place for it"))
        # Files stored for documents that were then skipped (or taken back) leave the store
        # after the commit; those a record now holds stay (see files.discard).
        stored = {item.blob.sha256 for item in self.prepared.values() if item.blob.created}
        files.release_blobs(self.session, self.store, stored)
        return self.summary

    def admitted(self, resource: Resource) -> int | None:
        """The binder patient `resource` belongs to, if it is valid FHIR R4 and belongs to
        one; else None, with the reason counted as skipped."""
        patient_id = self.owner(resource)
        problem = (
            "it belongs to no patient in the file" if patient_id is None else self.invalid(resource)
        )
        if problem is not None:
            self.summary.skip(resource, problem)
            return None
        return patient_id

    def records_made_from(self, patient_id: int, references: Any) -> list[int]:
        """The records this import made (or found) from the documents `references` name."""
        made = (
            self.made.get((patient_id, id(target)))
            for target in (
                self.bundle.resolve(ref, "DocumentReference", "DiagnosticReport")
                for ref in as_list(references)
            )
            if target is not None
        )
        return [record for record in made if record is not None]

    def each_patient(self, resource: Resource, step: Step) -> None:
        patient_id = self.admitted(resource)
        if patient_id is None:
            return
        saved = (dict(self.keys), dict(self.made), self.summary.snapshot())
        try:
            with self.session.begin_nested():
                step(self, patient_id, resource)
        except CarebinderError as error:
            # The savepoint took back its rows; forget what this step learnt about them.
            self.keys, self.made = saved[0], saved[1]
            self.summary.restore(saved[2])
            self.summary.skip(resource, f"it could not be kept ({error.message[:120]})")

    def _load_keys(self) -> None:
        rows = self.session.execute(
            select(
                SourceKey.patient_id, SourceKey.entity, SourceKey.key, SourceKey.entity_id
            ).where(SourceKey.patient_id.in_(set(self.patient_of.values())))
        )
        for patient_id, entity, key, entity_id in rows:
            self.keys[(patient_id, entity, key)] = entity_id

    def known(self, patient_id: int, entity: str, resource: Resource) -> int | None:
        """The id of the row an earlier import made from `resource`, if it still exists."""
        made = self.made.get((patient_id, id(resource)))
        if made is not None:
            return made
        for key in source_keys(resource):
            entity_id = self.keys.get((patient_id, entity, key))
            if entity_id is None:
                continue
            row = self.session.get(ENTITIES[entity], entity_id)
            if row is not None and (entity == "patient" or row.patient_id == patient_id):
                return entity_id
            self._forget(patient_id, entity, entity_id)  # removed since: import it anew
        return self._own(patient_id, entity).get(str(resource.get("id")))

    def _own(self, patient_id: int, entity: str) -> dict[str, int]:
        """The patient's rows by the resource id carebinder's export gives them, so that a
        binder's own export imported back into it matches its rows (hand-typed rows have
        no source keys)."""
        if (patient_id, entity) not in self.own_ids:
            model = ENTITIES[entity]
            rows = self.session.scalars(select(model).where(model.patient_id == patient_id))
            self.own_ids[(patient_id, entity)] = {row_uuid(row): row.id for row in rows}
        return self.own_ids[(patient_id, entity)]

    def made_here(self, entity: str) -> set[int]:
        """Ids of the rows of `entity` this import created."""
        return self.created.setdefault(entity, set())

    def _forget(self, patient_id: int, entity: str, entity_id: int) -> None:
        self.session.execute(
            delete(SourceKey).where(
                SourceKey.patient_id == patient_id,
                SourceKey.entity == entity,
                SourceKey.entity_id == entity_id,
            )
        )
        for triple in [k for k, v in self.keys.items() if k[:2] == (patient_id, entity)]:
            if self.keys[triple] == entity_id:
                del self.keys[triple]

    def remember(self, patient_id: int, entity: str, entity_id: int, resource: Resource) -> None:
        self.made[(patient_id, id(resource))] = entity_id
        for key in source_keys(resource):
            if (patient_id, entity, key) not in self.keys:
                self.keys[(patient_id, entity, key)] = entity_id
                self.session.add(
                    SourceKey(patient_id=patient_id, entity=entity, entity_id=entity_id, key=key)
                )

    def existing(self, patient_id: int, entity: str, resource: Resource) -> int | None:
        """The row already made from `resource` (counted as already there), or None."""
        known = self.known(patient_id, entity, resource)
        if known is not None and (patient_id, id(resource)) not in self.made:
            self.summary.already[entity] += 1
            self.made[(patient_id, id(resource))] = known
        return known

    def invalid(self, resource: Resource) -> str | None:
        """Why `resource` is not valid FHIR R4 (by the fhir.resources models), or None."""
        if id(resource) not in self.validation:
            # Judged without the data of its attachments that could not be decoded: those
            # are left out, and the rest of the document is kept.
            checked = without_data(resource, self.problems)
            self.validation[id(resource)] = validation_problem(checked)
        return self.validation[id(resource)]

    def addressed(self, plan: Resource) -> list[Resource]:
        found = []
        for reference in as_list(plan.get("addresses")):
            target = contained(plan, reference) or self.bundle.resolve(reference, "Condition")
            if target is not None:
                found.append(target)
        return found

    def _patient(self, resource: Resource) -> None:
        problem = self.invalid(resource)
        if problem is not None:
            self.summary.skip(resource, problem)
            return
        name = human_name(resource.get("name"), with_prefix=False)
        born = fhir_date(resource.get("birthDate"))
        if name is None or born is None or born > date.today():
            self.summary.skip(resource, "the patient has no name or date of birth")
            return
        found = self._patient_by_keys(resource)
        how = "already in the binder"
        if found is None:
            found = patients.find_patient(self.session, name=name, born=born)
            how = "same name and date of birth"
        if found is None:
            found = patients.add_patient(
                self.session,
                name=name,
                born=born,
                address=address_text(resource.get("address")),
                mrn=_mrn(resource),
                phone=telecom(resource, "phone"),
                email=telecom(resource, "email"),
            )
            how = "new"
            self.summary.imported["patient"] += 1
        else:
            for column, value in (
                ("mrn", _mrn(resource)),
                ("phone", telecom(resource, "phone")),
                ("email", telecom(resource, "email")),
                ("address", address_text(resource.get("address"))),
            ):
                if getattr(found, column) is None and value is not None:
                    setattr(found, column, value)
        self.patient_of[id(resource)] = found.id
        self.summary.patients.append((found.id, found.name, how))

    def _patient_by_keys(self, resource: Resource) -> Patient | None:
        """The patient an earlier import made from `resource`, or whose own export it is."""
        keys = source_keys(resource)
        found = self.session.scalar(
            select(SourceKey.entity_id)
            .where(SourceKey.entity == "patient", SourceKey.key.in_(keys))
            .limit(1)
        )
        if found is not None:
            return self.session.get(Patient, found)
        ident = resource.get("id")
        for patient in self.session.scalars(select(Patient)) if isinstance(ident, str) else ():
            if row_uuid(patient) == ident:
                return patient
        return None

    def owner(self, resource: Resource) -> int | None:
        for field_name in ("subject", "patient", "beneficiary", "for"):
            target = self.bundle.resolve(resource.get(field_name), "Patient")
            if target is not None:
                return self.patient_of.get(id(target))
        for participant in as_list(resource.get("participant")):
            if isinstance(participant, dict):
                target = self.bundle.resolve(participant.get("actor"), "Patient")
                if target is not None:
                    return self.patient_of.get(id(target))
        if len(self.patient_of) == 1:
            return next(iter(self.patient_of.values()))
        return None


def import_bundle(
    session: Session,
    store: Store,
    bundle: Bundle,
    prepared: dict[int, files.Prepared],
    problems: dict[int, str],
) -> Summary:
    """Import `bundle` (its files already `prepared`, keyed by id() of each attachment)."""
    return Importer(session, store, bundle, prepared, problems).run()


# --- small readers ------------------------------------------------------------------------


def validation_problem(resource: Resource) -> str | None:
    """Why the fhir.resources R4B model refuses `resource`, in a few words, or None."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    kind = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(kind))
    except (KeyError, ValueError):
        return f"{str(kind)[:40]} is not an R4 resource"
    try:
        model.model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])[:60]
        return f"not valid FHIR R4 ({kind}.{where})"
    except (ValueError, TypeError, RecursionError):
        return "not valid FHIR R4"
    return None


def _mrn(resource: Resource) -> str | None:
    for identifier in as_list(resource.get("identifier")):
        if isinstance(identifier, dict) and "MR" in vocab_codes(identifier.get("type")):
            return tidy(identifier.get("value"))
    return None


__all__: Sequence[str] = ["Summary", "import_bundle", "source_keys", "validation_problem"]
