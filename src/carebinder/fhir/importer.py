"""`carebinder import`: a FHIR R4 bundle into the binder.

What a patient would want in the binder is kept; the rest (claims, immunizations, single
observations outside a report…) is counted as skipped, with the reason. Every row made
remembers its FHIR ids and identifiers (`source_key`), so importing the same bundle
again adds nothing, and a bundle exported by carebinder comes back as the same binder.

Like every service, this takes a Session and never commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from carebinder.errors import CarebinderError, InvalidInput
from carebinder.fhir import vocab
from carebinder.fhir.attachments import attachments_of, is_placeholder
from carebinder.fhir.read import Bundle, Resource, as_list, identifiers
from carebinder.fhir.values import (
    address_text,
    annotation_text,
    code_in,
    codes,
    concept_text,
    extension_value,
    fhir_date,
    fhir_datetime,
    human_name,
    joined,
    obj,
    observation_value,
    telecom,
    tidy,
    zone_for,
)
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
    appointments,
    doctors,
    files,
    materials,
    opinions,
    patients,
    questions,
    records,
)
from carebinder.services.common import LONG_TEXT
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

    def skip(self, resource: Resource | str, reason: str) -> None:
        kind = resource if isinstance(resource, str) else resource.get("resourceType", "?")
        self.skipped[(str(kind), reason)] += 1

    def snapshot(self) -> tuple[Counter[str], Counter[str], Counter[tuple[str, str]]]:
        return Counter(self.imported), Counter(self.already), Counter(self.skipped)

    def restore(self, saved: tuple[Counter[str], Counter[str], Counter[tuple[str, str]]]) -> None:
        self.imported, self.already, self.skipped = saved

    def to_json(self) -> dict[str, Any]:
        return {
            "patients": [{"id": i, "name": n, "status": how} for i, n, how in self.patients],
            "imported": dict(sorted(self.imported.items())),
            "already_in_binder": dict(sorted(self.already.items())),
            "skipped": [
                {"resource": kind, "reason": reason, "count": count}
                for (kind, reason), count in sorted(self.skipped.items())
            ],
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

    # --- the steps ------------------------------------------------------------------------

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
            return self.summary
        self._load_keys()
        for resource in found:
            if id(resource) in self.patient_of:
                patient_id = self.patient_of[id(resource)]
                self._remember(patient_id, "patient", patient_id, resource)
        proposals = [r for r in self.bundle.of_type("CarePlan") if _is_opinion(r)]
        addressed = {id(condition) for plan in proposals for condition in self._addressed(plan)}
        for resource in self.bundle.of_type("Practitioner"):
            if len(self.patient_of) == 1:
                self._doctor(next(iter(self.patient_of.values())), resource)
        self._link_referrals()
        for resource in self.bundle.resources:
            kind = resource["resourceType"]
            plan = kind == "CarePlan" and not _is_opinion(resource)
            if plan or kind in ("DiagnosticReport", "DocumentReference", "Procedure"):
                self._each_patient(resource, self._record)
        for plan in proposals:
            self._each_patient(plan, self._opinion)
        for resource in self.bundle.of_type("Condition"):
            if id(resource) not in addressed:
                self._each_patient(resource, self._opinion)
        for resource in self.bundle.of_type("Encounter", "Appointment"):
            self._each_patient(resource, self._appointment)
        self._medications()
        for resource in self.bundle.of_type("Communication"):
            self._each_patient(resource, self._question)
        for resource in self.bundle.of_type("Task"):
            self._each_patient(resource, self._material)
        for resource in self.bundle.of_type("Coverage"):
            self._each_patient(resource, self._coverage)
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
        return self.summary

    def _each_patient(self, resource: Resource, step: Any) -> None:
        patient_id = self._owner(resource)
        if patient_id is None:
            self.summary.skip(resource, "it belongs to no patient in the file")
            return
        problem = self._invalid(resource)
        if problem is not None:
            self.summary.skip(resource, problem)
            return
        saved = (dict(self.keys), dict(self.made), self.summary.snapshot())
        try:
            with self.session.begin_nested():
                step(patient_id, resource)
        except CarebinderError as error:
            # The savepoint took back its rows; forget what this step learnt about them.
            self.keys, self.made = saved[0], saved[1]
            self.summary.restore(saved[2])
            self.summary.skip(resource, f"it could not be kept ({error.message[:120]})")

    # --- source keys ----------------------------------------------------------------------

    def _load_keys(self) -> None:
        rows = self.session.execute(
            select(
                SourceKey.patient_id, SourceKey.entity, SourceKey.key, SourceKey.entity_id
            ).where(SourceKey.patient_id.in_(set(self.patient_of.values())))
        )
        for patient_id, entity, key, entity_id in rows:
            self.keys[(patient_id, entity, key)] = entity_id

    def _known(self, patient_id: int, entity: str, resource: Resource) -> int | None:
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
        return None

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

    def _remember(self, patient_id: int, entity: str, entity_id: int, resource: Resource) -> None:
        self.made[(patient_id, id(resource))] = entity_id
        for key in source_keys(resource):
            if (patient_id, entity, key) not in self.keys:
                self.keys[(patient_id, entity, key)] = entity_id
                self.session.add(
                    SourceKey(patient_id=patient_id, entity=entity, entity_id=entity_id, key=key)
                )

    def _existing(self, patient_id: int, entity: str, resource: Resource) -> int | None:
        """The row already made from `resource` (counted as already there), or None."""
        known = self._known(patient_id, entity, resource)
        if known is not None and (patient_id, id(resource)) not in self.made:
            self.summary.already[entity] += 1
            self.made[(patient_id, id(resource))] = known
        return known

    # --- validation -----------------------------------------------------------------------

    def _invalid(self, resource: Resource) -> str | None:
        """Why `resource` is not valid FHIR R4 (by the fhir.resources models), or None."""
        if id(resource) not in self.validation:
            self.validation[id(resource)] = validation_problem(resource)
        return self.validation[id(resource)]

    # --- patients and doctors -------------------------------------------------------------

    def _patient(self, resource: Resource) -> None:
        problem = self._invalid(resource)
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
        keys = source_keys(resource)
        if not keys:
            return None
        found = self.session.scalar(
            select(SourceKey.entity_id)
            .where(SourceKey.entity == "patient", SourceKey.key.in_(keys))
            .limit(1)
        )
        return None if found is None else self.session.get(Patient, found)

    def _owner(self, resource: Resource) -> int | None:
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

    def _doctor(self, patient_id: int, resource: Resource) -> int | None:
        """The doctor made from a Practitioner (or the practitioner of a role)."""
        if resource.get("resourceType") == "PractitionerRole":
            practitioner = self.bundle.resolve(resource.get("practitioner"), "Practitioner")
            if practitioner is None:
                return None
            resource = practitioner
        known = self._existing(patient_id, "doctor", resource)
        if known is not None:
            return known
        if self._invalid(resource) is not None:
            self.summary.skip(resource, str(self._invalid(resource)))
            return None
        name = human_name(resource.get("name"), with_prefix=True)
        if name is None:
            self.summary.skip(resource, "the practitioner has no name")
            return None
        role = self._role_of(resource)
        npi = next((v for s, v in identifiers(resource) if s == vocab.NPI), None)
        if npi is not None and not (
            npi.isascii() and npi.isdigit() and len(npi) == 10 and doctors.npi_check_digit_ok(npi)
        ):
            npi = None  # not a real NPI (test data often has short ones): kept as a key only
        same = self._same_doctor(patient_id, name, npi)
        if same is not None:
            self._remember(patient_id, "doctor", same, resource)
            self.summary.already["doctor"] += 1
            return same
        where = role or {}
        doctor = doctors.add_doctor(
            self.session,
            patient_id,
            name=name,
            specialty=concept_text(next(iter(as_list(where.get("specialty"))), None)),
            institution=self._institution_of(resource, where),
            role=_choice(vocab.DoctorRole, code_in(where.get("code"), vocab.DOCTOR_ROLE)),
            phone=telecom(resource, "phone") or telecom(where, "phone"),
            email=telecom(resource, "email") or telecom(where, "email"),
            address=address_text(resource.get("address")),
            npi=npi,
            notes=tidy(extension_value(resource, vocab.EXT_NOTES), LONG_TEXT, multiline=True),
        )
        self.summary.imported["doctor"] += 1
        self._remember(patient_id, "doctor", doctor.id, resource)
        return doctor.id

    def _same_doctor(self, patient_id: int, name: str, npi: str | None) -> int | None:
        """A doctor typed in by hand with the same NPI or the same name."""
        condition = Doctor.npi == npi if npi else func.lower(Doctor.name) == name.lower()
        return self.session.scalar(
            select(Doctor.id).where(Doctor.patient_id == patient_id, condition).limit(1)
        )

    def _role_of(self, practitioner: Resource) -> Resource | None:
        for role in self.bundle.of_type("PractitionerRole"):
            if self.bundle.resolve(role.get("practitioner"), "Practitioner") is practitioner:
                return role
        return None

    def _institution_of(self, practitioner: Resource, role: Resource) -> str | None:
        organization = self.bundle.resolve(role.get("organization"), "Organization")
        if organization is not None:
            return tidy(organization.get("name"))
        if isinstance(role.get("organization"), dict):
            return tidy(role["organization"].get("display"))
        # Else where they saw the patient most often.
        places: Counter[str] = Counter()
        for encounter in self.bundle.of_type("Encounter"):
            if practitioner in self._participants(encounter):
                place = self.bundle.resolve(encounter.get("serviceProvider"), "Organization")
                if place is not None and tidy(place.get("name")):
                    places[str(tidy(place.get("name")))] += 1
        return places.most_common(1)[0][0] if places else None

    def _participants(self, encounter: Resource) -> list[Resource]:
        found = []
        for participant in as_list(encounter.get("participant")):
            if isinstance(participant, dict):
                for key in ("individual", "actor"):
                    target = self.bundle.resolve(
                        participant.get(key), "Practitioner", "PractitionerRole"
                    )
                    if target is not None:
                        if target["resourceType"] == "PractitionerRole":
                            target = self.bundle.resolve(target.get("practitioner"), "Practitioner")
                        if target is not None:
                            found.append(target)
        return found

    def _doctor_ref(self, patient_id: int, *references: Any) -> int | None:
        """The first reference that leads to a practitioner, as a doctor of the patient."""
        for reference in references:
            for item in as_list(reference):
                if isinstance(item, dict) and "actor" in item:
                    item = item["actor"]
                target = self.bundle.resolve(item, "Practitioner", "PractitionerRole")
                if target is not None:
                    doctor = self._doctor(patient_id, target)
                    if doctor is not None:
                        return doctor
        return None

    def _organization_name(self, *references: Any) -> str | None:
        for reference in references:
            for item in as_list(reference):
                if isinstance(item, dict) and "actor" in item:
                    item = item["actor"]
                target = self.bundle.resolve(item, "Organization")
                if target is not None and tidy(target.get("name")):
                    return tidy(target.get("name"))
                if (
                    isinstance(item, dict)
                    and not item.get("reference")
                    and tidy(item.get("display"))
                ):
                    return tidy(item.get("display"))
        return None

    def _link_referrals(self) -> None:
        """carebinder's own export says who referred whom; set it once all doctors exist."""
        for resource in self.bundle.of_type("Practitioner"):
            target = self.bundle.resolve(
                extension_value(resource, vocab.EXT_REFERRED_BY), "Practitioner"
            )
            if target is None:
                continue
            for patient_id in set(self.patient_of.values()):
                doctor_id = self.made.get((patient_id, id(resource)))
                referrer = self.made.get((patient_id, id(target)))
                row = None if doctor_id is None else self.session.get(Doctor, doctor_id)
                if row is not None and referrer not in (None, doctor_id) and not row.referred_by_id:
                    doctors.edit_doctor(self.session, row, referred_by=referrer)

    # --- records --------------------------------------------------------------------------

    def _record(self, patient_id: int, resource: Resource) -> None:
        if self._existing(patient_id, "record", resource) is not None:
            return
        fields = self._record_fields(patient_id, resource)
        encounter = self.bundle.resolve(resource.get("encounter"), "Encounter")
        if encounter is not None:  # the visit it came from names who and where
            if fields.get("doctor") is None:
                seen = self._participants(encounter)
                fields["doctor"] = self._doctor(patient_id, seen[0]) if seen else None
            if fields.get("institution") is None:
                fields["institution"] = self._organization_name(encounter.get("serviceProvider"))
        prepared, notes = self._files(resource)
        record = records.add_record(
            self.session,
            self.store,
            patient_id,
            kind=fields["kind"],
            title=fields["title"],
            date=fields.get("date"),
            doctor=fields.get("doctor"),
            institution=fields.get("institution"),
            notes=joined(fields.get("notes"), notes, sep="\n\n"),
            prepared=prepared,
        )
        self.summary.imported["record"] += 1
        self.summary.imported["file"] += len(record.files)
        self._remember(patient_id, "record", record.id, resource)

    def _record_fields(self, patient_id: int, resource: Resource) -> dict[str, Any]:
        kind = resource["resourceType"]
        if kind == "DiagnosticReport":
            return self._report_fields(patient_id, resource)
        if kind == "DocumentReference":
            return self._document_fields(patient_id, resource)
        if kind == "Procedure":
            return self._procedure_fields(patient_id, resource)
        return self._care_plan_fields(patient_id, resource)

    def _files(self, resource: Resource) -> tuple[list[files.Prepared], str | None]:
        kept, missing = [], []
        for attachment in attachments_of(resource):
            if id(attachment) in self.prepared:
                kept.append(self.prepared[id(attachment)])
            elif id(attachment) in self.problems:
                missing.append(f"{_attachment_label(attachment)}: {self.problems[id(attachment)]}")
                self.summary.skip("attachment", self.problems[id(attachment)])
            elif "url" in attachment or not is_placeholder(attachment):
                missing.append(f"{_attachment_label(attachment)}: not included in the import")
                self.summary.skip("attachment", "given only as a link, not included")
        note = None
        if missing:
            note = "Files not included (ask the sender for them):\n" + "\n".join(
                f"- {line}" for line in missing
            )
        return kept, note

    def _report_fields(self, patient_id: int, resource: Resource) -> dict[str, Any]:
        sections = [
            code for category in as_list(resource.get("category")) for code in _all_codes(category)
        ]
        kind = next((vocab.SECTION_KIND[c] for c in sections if c in vocab.SECTION_KIND), None)
        kind = kind or _kind_from(resource.get("code")) or vocab.RecordKind.OTHER
        results = []
        for reference in as_list(resource.get("result")):
            observation = self.bundle.resolve(reference, "Observation")
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
            "doctor": self._doctor_ref(
                patient_id, resource.get("resultsInterpreter"), resource.get("performer")
            ),
            "institution": self._organization_name(resource.get("performer")),
            "notes": joined(
                tidy(resource.get("conclusion"), LONG_TEXT, multiline=True),
                "Results:\n" + "\n".join(results) if results else None,
                sep="\n\n",
            ),
        }

    def _document_fields(self, patient_id: int, resource: Resource) -> dict[str, Any]:
        context = obj(resource.get("context"))
        period = obj(context.get("period"))
        return {
            "kind": _kind_from(resource.get("type")) or vocab.RecordKind.OTHER,
            "title": tidy(resource.get("description"))
            or concept_text(resource.get("type"))
            or "Document",
            "date": fhir_date(period.get("start") or resource.get("date")),
            "doctor": self._doctor_ref(patient_id, resource.get("author")),
            "institution": self._organization_name(
                resource.get("custodian"), resource.get("author")
            ),
            "notes": tidy(extension_value(resource, vocab.EXT_NOTES), LONG_TEXT, multiline=True),
        }

    def _procedure_fields(self, patient_id: int, resource: Resource) -> dict[str, Any]:
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
            "doctor": self._doctor_ref(patient_id, resource.get("performer")),
            "institution": self._organization_name(resource.get("performer")),
            "notes": joined(
                _labelled("Reason", reasons),
                _labelled("Site", sites),
                _labelled("Outcome", [concept_text(resource.get("outcome"))]),
                annotation_text(resource.get("note")),
            ),
        }

    def _care_plan_fields(self, patient_id: int, resource: Resource) -> dict[str, Any]:
        period = obj(resource.get("period"))
        activities = []
        for activity in as_list(resource.get("activity")):
            detail = activity.get("detail") if isinstance(activity, dict) else None
            if isinstance(detail, dict) and concept_text(detail.get("code")):
                status = detail.get("status")
                shown = f" ({status})" if isinstance(status, str) else ""
                activities.append(f"- {concept_text(detail.get('code'))}{shown}")
        treats = [concept_text(c.get("code")) for c in self._addressed(resource)]
        return {
            "kind": vocab.RecordKind.TREATMENT_PLAN,
            "title": tidy(resource.get("title"))
            or tidy(resource.get("description"))
            or _care_plan_category(resource)
            or (f"Care plan for {treats[0]}" if treats and treats[0] else "Care plan"),
            "date": fhir_date(period.get("start") or resource.get("created")),
            "doctor": self._doctor_ref(patient_id, resource.get("author")),
            "notes": joined(
                _labelled("For", treats),
                "Activities:\n" + "\n".join(activities) if activities else None,
                _labelled("Status", [tidy(resource.get("status"))]),
                annotation_text(resource.get("note")),
            ),
        }

    # --- opinions -------------------------------------------------------------------------

    def _addressed(self, plan: Resource) -> list[Resource]:
        found = []
        for reference in as_list(plan.get("addresses")):
            target = _contained(plan, reference) or self.bundle.resolve(reference, "Condition")
            if target is not None:
                found.append(target)
        return found

    def _opinion(self, patient_id: int, resource: Resource) -> None:
        if self._existing(patient_id, "opinion", resource) is not None:
            return
        if resource["resourceType"] == "CarePlan":
            conditions = self._addressed(resource)
            condition = conditions[0] if conditions else {}
            doctor = self._doctor_ref(patient_id, resource.get("author"))
            when = resource.get("created")
            plan = tidy(resource.get("description"), LONG_TEXT, multiline=True)
            notes = annotation_text(resource.get("note"))
            based_on = [
                self.made.get((patient_id, id(target)))
                for target in (
                    self.bundle.resolve(ref, "DocumentReference", "DiagnosticReport")
                    for ref in as_list(resource.get("supportingInfo"))
                )
                if target is not None
            ]
        else:
            condition = resource
            encounter = self.bundle.resolve(resource.get("encounter"), "Encounter")
            doctor = self._doctor_ref(
                patient_id,
                resource.get("asserter"),
                resource.get("recorder"),
            )
            if doctor is None and encounter is not None:
                for practitioner in self._participants(encounter):
                    doctor = self._doctor(patient_id, practitioner)
                    if doctor is not None:
                        break
            when = resource.get("recordedDate") or resource.get("onsetDateTime")
            plan = None
            notes = _condition_notes(resource)
            based_on = []
        diagnosis = concept_text(condition.get("code"))
        if diagnosis is None:
            self.summary.skip(resource, "it names no diagnosis")
            return
        if doctor is None:
            self.summary.skip(resource, "it names no doctor")
            return
        stage = next(
            (
                concept_text(s.get("summary"))
                for s in as_list(condition.get("stage"))
                if isinstance(s, dict) and concept_text(s.get("summary"))
            ),
            None,
        )
        opinion = opinions.add_opinion(
            self.session,
            patient_id,
            doctor=doctor,
            diagnosis=diagnosis,
            date=fhir_date(when),
            stage=stage,
            plan=plan,
            notes=notes,
            records=[r for r in based_on if r is not None],
        )
        self.summary.imported["opinion"] += 1
        self._remember(patient_id, "opinion", opinion.id, resource)

    # --- appointments ---------------------------------------------------------------------

    def _appointment(self, patient_id: int, resource: Resource) -> None:
        if self._existing(patient_id, "appointment", resource) is not None:
            return
        is_encounter = resource["resourceType"] == "Encounter"
        if is_encounter:
            period = obj(resource.get("period"))
            start = fhir_datetime(period.get("start"))
            doctors_seen = self._participants(resource)
            doctor = self._doctor(patient_id, doctors_seen[0]) if doctors_seen else None
            status = vocab.ENCOUNTER_STATUS_IN.get(str(resource.get("status")))
            place = self._encounter_place(resource)
            purpose = vocab.Purpose.OTHER
            reasons = [concept_text(c) for c in as_list(resource.get("reasonCode"))]
            notes = joined(
                *(concept_text(t) for t in as_list(resource.get("type"))),
                _labelled("Reason", reasons),
            )
        else:
            start = fhir_datetime(resource.get("start"))
            doctor = self._doctor_ref(patient_id, resource.get("participant"))
            status = vocab.APPOINTMENT_STATUS_IN.get(str(resource.get("status")))
            place = self._appointment_place(resource)
            purpose = (
                _choice(vocab.Purpose, code_in(resource.get("appointmentType"), vocab.PURPOSE))
                or vocab.Purpose.OTHER
            )
            notes = tidy(resource.get("comment"), LONG_TEXT, multiline=True) or tidy(
                resource.get("description"), LONG_TEXT, multiline=True
            )
        if start is None:
            self.summary.skip(resource, "it has no start time")
            return
        if doctor is None:
            self.summary.skip(resource, "it names no doctor")
            return
        if status is None:
            self.summary.skip(
                resource, f"its status {str(resource.get('status'))[:30]!r} is not a visit"
            )
            return
        appointment = appointments.add_appointment(
            self.session,
            patient_id,
            doctor=doctor,
            starts_at=start,
            time_zone=zone_for(start, extension_value(resource, vocab.EXT_TIME_ZONE)),
            location=place,
            purpose=purpose,
            companion=tidy(extension_value(resource, vocab.EXT_COMPANION)),
            notes=notes,
        )
        coverage = _choice(vocab.Coverage, extension_value(resource, vocab.EXT_COVERAGE))
        appointments.edit_appointment(
            self.session,
            appointment,
            status=status,
            staff_told=extension_value(resource, vocab.EXT_STAFF_TOLD) is True,
            records_sent_on=fhir_date(extension_value(resource, vocab.EXT_RECORDS_SENT)),
            coverage=coverage or vocab.Coverage.UNKNOWN,
            coverage_ref=tidy(extension_value(resource, vocab.EXT_COVERAGE_REF)) or "",
        )
        brought = [
            self.made.get((patient_id, id(target)))
            for target in (
                self.bundle.resolve(ref, "DocumentReference", "DiagnosticReport")
                for ref in as_list(resource.get("supportingInformation"))
            )
            if target is not None
        ]
        if any(brought):
            appointments.bring_records(
                self.session, appointment, [r for r in brought if r is not None]
            )
        self.summary.imported["appointment"] += 1
        self._remember(patient_id, "appointment", appointment.id, resource)

    def _encounter_place(self, encounter: Resource) -> str | None:
        for item in as_list(encounter.get("location")):
            if isinstance(item, dict):
                place = self.bundle.resolve(item.get("location"), "Location")
                if place is not None:
                    return _place_text(place)
        provider = self.bundle.resolve(encounter.get("serviceProvider"), "Organization")
        return None if provider is None else _place_text(provider)

    def _appointment_place(self, appointment: Resource) -> str | None:
        for participant in as_list(appointment.get("participant")):
            if isinstance(participant, dict):
                place = self.bundle.resolve(participant.get("actor"), "Location")
                if place is not None:
                    return _place_text(place)
        return None

    # --- medications, questions, materials, coverage -------------------------------------

    def _medications(self) -> None:
        """All MedicationRequests of a patient become one medication-list record."""
        lines: dict[int, list[tuple[Resource, str]]] = {}
        for resource in self.bundle.of_type("MedicationRequest"):
            patient_id = self._owner(resource)
            if patient_id is None:
                self.summary.skip(resource, "it belongs to no patient in the file")
                continue
            problem = self._invalid(resource)
            if problem is not None:
                self.summary.skip(resource, problem)
                continue
            if self._known(patient_id, "record", resource) is not None:
                self.summary.already["medication"] += 1
                continue
            lines.setdefault(patient_id, []).append((resource, self._medication_line(resource)))
        for patient_id, found in lines.items():
            text = "\n".join(line for _, line in found)
            listed = max((fhir_date(r.get("authoredOn")) or date.min for r, _ in found))
            record = records.add_record(
                self.session,
                self.store,
                patient_id,
                kind=vocab.RecordKind.MEDICATION_LIST,
                title=f"Medications (imported from {self.bundle.name})"[:200],
                date=None if listed == date.min else listed,
                notes=text[:LONG_TEXT],
            )
            self.summary.imported["record"] += 1
            self.summary.imported["medication"] += len(found)
            for resource, _ in found:
                self._remember(patient_id, "record", record.id, resource)

    def _medication_line(self, resource: Resource) -> str:
        medication = concept_text(resource.get("medicationCodeableConcept"))
        if medication is None:
            target = self.bundle.resolve(resource.get("medicationReference"), "Medication")
            medication = concept_text(target.get("code")) if target else None
        medication = medication or "A medication (no name given)"
        since = fhir_date(resource.get("authoredOn"))
        requester = self.bundle.resolve(resource.get("requester"), "Practitioner")
        details = [
            str(resource.get("status")) if isinstance(resource.get("status"), str) else None,
            f"prescribed {since.isoformat()}" if since else None,
            human_name(requester.get("name"), with_prefix=True) if requester else None,
        ]
        dosage = [
            tidy(d.get("text"))
            for d in as_list(resource.get("dosageInstruction"))
            if isinstance(d, dict)
        ]
        facts = ", ".join(d for d in [*details, *dosage] if d)
        return f"- {medication}" + (f" ({facts})" if facts else "")

    def _question(self, patient_id: int, resource: Resource) -> None:
        if code_in(resource.get("category"), vocab.CATEGORY) != vocab.QUESTION:
            self.summary.skip(resource, "messages are not kept")
            return
        if self._existing(patient_id, "question", resource) is not None:
            return
        payload = [
            tidy(p.get("contentString"), LONG_TEXT, multiline=True)
            for p in as_list(resource.get("payload"))
            if isinstance(p, dict)
        ]
        if not payload or payload[0] is None:
            self.summary.skip(resource, "it holds no question")
            return
        target = self.bundle.resolve(
            next(iter(as_list(resource.get("about"))), None), "Appointment"
        )
        visit = None if target is None else self.made.get((patient_id, id(target)))
        question = questions.add_question(
            self.session, patient_id, text=payload[0], appointment=visit
        )
        if len(payload) > 1 and payload[1]:
            questions.answer_question(
                self.session,
                question,
                answer=payload[1],
                by=self._doctor_ref(patient_id, resource.get("sender")),
                on=fhir_date(resource.get("sent")),
            )
        self.summary.imported["question"] += 1
        self._remember(patient_id, "question", question.id, resource)

    def _material(self, patient_id: int, resource: Resource) -> None:
        kind = _choice(vocab.MaterialKind, code_in(resource.get("code"), vocab.MATERIAL_KIND))
        if kind is None:
            self.summary.skip(resource, "tasks are not kept")
            return
        if self._existing(patient_id, "material", resource) is not None:
            return
        status = _choice(
            vocab.MaterialStatus, code_in(resource.get("businessStatus"), vocab.MATERIAL_STATUS)
        )
        owner = obj(resource.get("owner"))
        material = materials.add_material(
            self.session,
            patient_id,
            kind=kind,
            description=tidy(resource.get("description"), 2_000, multiline=True) or kind.value,
            institution=tidy(owner.get("display")),
        )
        material.status = status or vocab.MaterialStatus.NEEDED
        dates = extension_value(resource, vocab.EXT_DATES)
        for column in ("requested_on", "received_on", "sent_on", "returned_on"):
            setattr(material, column, fhir_date(_sub_extension(dates, column)))
        self.summary.imported["material"] += 1
        self._remember(patient_id, "material", material.id, resource)

    def _coverage(self, patient_id: int, resource: Resource) -> None:
        patient = self.session.get(Patient, patient_id)
        assert patient is not None
        payor = next(iter(as_list(resource.get("payor"))), None)
        organization = self.bundle.resolve(payor, "Organization")
        insurer = tidy(organization.get("name")) if organization else None
        insurer = insurer or (tidy(payor.get("display")) if isinstance(payor, dict) else None)
        plan = next(
            (
                tidy(c.get("name")) or tidy(c.get("value"))
                for c in as_list(resource.get("class"))
                if isinstance(c, dict) and "plan" in _all_codes(c.get("type"))
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
            self.summary.already["coverage"] += 1
            return
        if patient.insurer and insurer and patient.insurer != insurer:
            self.summary.skip(resource, "the patient's insurance is already filled in")
            return
        for column, value in values.items():
            if value is not None and getattr(patient, column) is None:
                setattr(patient, column, value)
        self.summary.imported["coverage"] += 1


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


def _is_opinion(plan: Resource) -> bool:
    """A proposed plan from a named author: a doctor's opinion, not a plan being followed."""
    return plan.get("intent") == "proposal" and bool(plan.get("author"))


def _contained(resource: Resource, reference: Any) -> Resource | None:
    target = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(target, str) or not target.startswith("#"):
        return None
    for item in as_list(resource.get("contained")):
        if isinstance(item, dict) and item.get("id") == target[1:]:
            return item
    return None


def _mrn(resource: Resource) -> str | None:
    for identifier in as_list(resource.get("identifier")):
        if isinstance(identifier, dict) and "MR" in vocab_codes(identifier.get("type")):
            return tidy(identifier.get("value"))
    return None


def _all_codes(concept: Any) -> list[str]:
    if not isinstance(concept, dict):
        return []
    return [
        c["code"]
        for c in as_list(concept.get("coding"))
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    ]


def _kind_from(concept: Any) -> vocab.RecordKind | None:
    own: vocab.RecordKind | None = _choice(vocab.RecordKind, code_in(concept, vocab.RECORD_KIND))
    return own or vocab.LOINC_KIND.get(code_in(concept, vocab.LOINC) or "")


def _choice(enum_class: type[Any], value: Any) -> Any:
    try:
        return enum_class(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _labelled(label: str, values: Iterable[str | None]) -> str | None:
    kept = [v for v in values if v]
    return f"{label}: {', '.join(kept)}" if kept else None


def _care_plan_category(plan: Resource) -> str | None:
    generic = "734163000"  # SNOMED "Care plan (record artifact)": says nothing
    named = [
        concept_text(c)
        for c in as_list(plan.get("category"))
        if generic not in _all_codes(c) and concept_text(c)
    ]
    return named[0] if named else None


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


def _attachment_label(attachment: dict[str, Any]) -> str:
    title = tidy(attachment.get("title")) or "a file"
    url = tidy(attachment.get("url"), 300)
    return f"{title} ({url})" if url else title


def _sub_extension(value: Any, name: str) -> Any:
    if not isinstance(value, dict):
        return None
    for item in as_list(value.get("extension")):
        if isinstance(item, dict) and item.get("url") == name:
            return item.get("valueDate")
    return None


__all__: Sequence[str] = ["Summary", "import_bundle", "source_keys", "validation_problem"]
