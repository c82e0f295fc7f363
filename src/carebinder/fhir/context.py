"""What the steps of one FHIR import share: the bundle, the session, the store, the summary,
and the lookups from resources to the rows made from them.

The steps (people.py, documents.py, care.py, health.py, therapy.py, labs.py) take an
`ImportContext`, not the importer that runs them, so each can be tested with a small
one; importer.py runs them in order. Like every service, nothing here commits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carebinder.fhir.attachments import without_data
from carebinder.fhir.ids import row_uuid, source_keys
from carebinder.fhir.read import Bundle, Resource, as_list, contained
from carebinder.leftout import LeftOut
from carebinder.models import (
    Allergy,
    Appointment,
    Condition,
    Doctor,
    Material,
    Medication,
    Opinion,
    Patient,
    Question,
    Record,
    Result,
    SourceKey,
    Treatment,
)
from carebinder.services import files
from carebinder.store import Store

ENTITIES: dict[str, type[Any]] = {
    "patient": Patient,
    "doctor": Doctor,
    "record": Record,
    "opinion": Opinion,
    "appointment": Appointment,
    "question": Question,
    "material": Material,
    "medication": Medication,
    "allergy": Allergy,
    "condition": Condition,
    "treatment": Treatment,
    "result": Result,
}
Snapshot = tuple[Counter[str], Counter[str], Counter[tuple[str, str]], list[LeftOut]]


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


@dataclass
class ImportContext:
    """One import: the bundle, the session, and what has been matched so far."""

    session: Session
    store: Store
    bundle: Bundle
    # The files of the bundle's attachments, stored and read, by id() of the attachment's
    # JSON object; and why the others could not be decoded.
    prepared: dict[int, files.Prepared] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)
    summary: Summary = field(default_factory=Summary)
    # id(Patient resource) -> binder patient id
    patient_of: dict[int, int] = field(default_factory=dict)
    # (patient, entity, source key) -> row id, from earlier imports and this one
    keys: dict[tuple[int, str, str], int] = field(default_factory=dict)
    # (patient, id(resource)) -> row id, made or matched by this import (the first row a
    # resource made: what references to it mean)
    made: dict[tuple[int, int], int] = field(default_factory=dict)
    # (patient, entity, id(resource)) -> row id: a resource can make two rows (another
    # system's Procedure is a record and a treatment)
    made_as: dict[tuple[int, str, int], int] = field(default_factory=dict)
    # id(resource) -> why it is not valid FHIR R4, or None
    validation: dict[int, str | None] = field(default_factory=dict)
    # (patient, entity) -> {the id carebinder's export gives a row: row id}
    own_ids: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)
    # entity -> ids of the rows this import created
    created: dict[str, set[int]] = field(default_factory=dict)
    # ids of resources read as part of another row (an opinion's staging observations):
    # neither imported on their own nor counted as skipped
    read_with: set[int] = field(default_factory=set)
    # what a step works out once per import (e.g. the renewals of each medication)
    memo: dict[str, Any] = field(default_factory=dict)

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

    def owner(self, resource: Resource) -> int | None:
        """The binder patient `resource` names (or the only one of the import), if any."""
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

    def load_keys(self) -> None:
        """The source keys earlier imports left for the patients of this one."""
        rows = self.session.execute(
            select(
                SourceKey.patient_id, SourceKey.entity, SourceKey.key, SourceKey.entity_id
            ).where(SourceKey.patient_id.in_(set(self.patient_of.values())))
        )
        for patient_id, entity, key, entity_id in rows:
            self.keys[(patient_id, entity, key)] = entity_id

    def known(self, patient_id: int, entity: str, resource: Resource) -> int | None:
        """The id of the row an earlier import made from `resource`, if it still exists."""
        made = self.made_as.get((patient_id, entity, id(resource)))
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
        """`resource` made (or matched) the row `entity_id`: its source keys are kept."""
        self.made.setdefault((patient_id, id(resource)), entity_id)
        self.made_as[(patient_id, entity, id(resource))] = entity_id
        for key in source_keys(resource):
            if (patient_id, entity, key) not in self.keys:
                self.keys[(patient_id, entity, key)] = entity_id
                self.session.add(
                    SourceKey(patient_id=patient_id, entity=entity, entity_id=entity_id, key=key)
                )

    def existing(self, patient_id: int, entity: str, resource: Resource) -> int | None:
        """The row already made from `resource` (counted as already there), or None."""
        known = self.known(patient_id, entity, resource)
        if known is not None and (patient_id, entity, id(resource)) not in self.made_as:
            self.summary.already[entity] += 1
            self.made.setdefault((patient_id, id(resource)), known)
            self.made_as[(patient_id, entity, id(resource))] = known
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
        """The Conditions a CarePlan addresses (contained in it, or in the bundle)."""
        found = []
        for reference in as_list(plan.get("addresses")):
            target = contained(plan, reference) or self.bundle.resolve(reference, "Condition")
            if target is not None:
                found.append(target)
        return found


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
