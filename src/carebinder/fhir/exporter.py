"""`carebinder export --format fhir`: one patient's binder as a FHIR R4 collection Bundle.

Every fact of the binder that FHIR has a place for goes where a receiving system looks
for it (LOINC document types, NPI identifiers, IANA time zones; IPS and mCODE shapes for
the health facts, health_export.py); the few it has no place
for (doctor roles, who referred whom, preparation of a visit) travel as extensions, so
that importing the bundle into an empty binder gives back the same binder.

Resource ids are UUIDs derived from each row's id and creation time: stable from one
export to the next, and never the same for two binders.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebinder.errors import BlobUnusable
from carebinder.fhir import health_export, vocab
from carebinder.fhir.attachments import fhir_hash
from carebinder.fhir.ids import row_uuid
from carebinder.leftout import LeftOut
from carebinder.models import (
    Appointment,
    Doctor,
    Material,
    Opinion,
    Patient,
    Question,
    Record,
)
from carebinder.services import appointments, doctors, materials, opinions, questions, records
from carebinder.store import Store

Resource = dict[str, Any]
# FHIR needs an end time for a booked appointment; the binder keeps only the start.
VISIT_LENGTH = timedelta(hours=1)


class Exporter:
    def __init__(self, session: Session, store: Store, patient: Patient, *, data: bool) -> None:
        self.session = session
        self.store = store
        self.patient = patient
        self.data = data
        self.entries: list[Resource] = []
        self.left_out: list[LeftOut] = []
        self.places: set[str] = set()

    def place(self, location: str) -> str:
        """One Location per place the patient goes to, however many visits there."""
        return _derived(self.patient, f"location:{location}")

    def ref(self, row: Any) -> dict[str, str]:
        return {"reference": f"urn:uuid:{row_uuid(row)}"}

    def add(self, ident: str, resource: Resource) -> None:
        resource["id"] = ident
        self.entries.append({"fullUrl": f"urn:uuid:{ident}", "resource": resource})

    def run(self) -> Resource:
        pid = self.patient.id
        self.add(row_uuid(self.patient), self.patient_resource())
        for doctor in doctors.list_doctors(self.session, pid):
            self.add(row_uuid(doctor), self.practitioner(doctor))
            self.add(_derived(doctor, "role"), self.practitioner_role(doctor))
        for record in sorted(records.list_records(self.session, pid), key=lambda r: r.id):
            self.add(row_uuid(record), self.document(record))
        listed = sorted(opinions.list_opinions(self.session, pid), key=lambda o: o.id)
        newest = opinions.latest(self.session, pid)
        for opinion in listed:
            self.add(row_uuid(opinion), self.care_plan(opinion, current=opinion is newest))
        if newest is not None:
            self.add(_derived(newest, "condition"), self.condition(newest, subject_only=False))
        for opinion in listed:  # each opinion's staging, grade and ECOG, after the plans
            self.facts(opinion, current=opinion is newest)
        health_export.add_all(self)
        for visit in sorted(appointments.list_appointments(self.session, pid), key=lambda a: a.id):
            if visit.location and self.place(visit.location) not in self.places:
                self.places.add(self.place(visit.location))
                self.add(
                    self.place(visit.location), {"resourceType": "Location", "name": visit.location}
                )
            self.add(row_uuid(visit), self.appointment(visit))
        for question in sorted(questions.list_questions(self.session, pid), key=lambda q: q.id):
            self.add(row_uuid(question), self.communication(question))
        for material in materials.list_materials(self.session, pid):
            self.add(row_uuid(material), self.task(material))
        if any((self.patient.insurer, self.patient.plan, self.patient.member_id)):
            self.coverage()
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "entry": self.entries,
        }

    # --- the resources --------------------------------------------------------------------

    def patient_resource(self) -> Resource:
        p = self.patient
        resource: Resource = {
            "resourceType": "Patient",
            "name": [{"use": "official", "text": p.name}],
            "birthDate": p.born.isoformat(),
        }
        if p.mrn:
            resource["identifier"] = [
                {"type": {"coding": [{"system": vocab.V2_0203, "code": "MR"}]}, "value": p.mrn}
            ]
        _put(resource, "telecom", _telecom(p.phone, p.email))
        if p.address:
            resource["address"] = [{"text": p.address}]
        return resource

    def practitioner(self, doctor: Doctor) -> Resource:
        resource: Resource = {"resourceType": "Practitioner", "name": [{"text": doctor.name}]}
        if doctor.npi:
            resource["identifier"] = [{"system": vocab.NPI, "value": doctor.npi}]
        _put(resource, "telecom", _telecom(doctor.phone, doctor.email))
        if doctor.address:
            resource["address"] = [{"text": doctor.address}]
        extensions: list[Resource] = []
        if doctor.notes:
            extensions.append({"url": vocab.EXT_NOTES, "valueString": doctor.notes})
        if doctor.referred_by is not None:
            extensions.append(
                {"url": vocab.EXT_REFERRED_BY, "valueReference": self.ref(doctor.referred_by)}
            )
        _put(resource, "extension", extensions)
        return resource

    def practitioner_role(self, doctor: Doctor) -> Resource:
        resource: Resource = {"resourceType": "PractitionerRole", "practitioner": self.ref(doctor)}
        if doctor.role is not None:
            resource["code"] = [_coded(vocab.DOCTOR_ROLE, doctor.role.value)]
        if doctor.specialty:
            resource["specialty"] = [{"text": doctor.specialty}]
        if doctor.institution:
            resource["organization"] = {"display": doctor.institution}
        return resource

    def document(self, record: Record) -> Resource:
        kind = _coded(vocab.RECORD_KIND, record.kind.value)
        if record.kind in vocab.KIND_LOINC:
            code, display = vocab.KIND_LOINC[record.kind]
            kind["coding"].append({"system": vocab.LOINC, "code": code, "display": display})
        resource: Resource = {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": kind,
            "subject": self.ref(self.patient),
            "description": record.title,
            "content": [{"attachment": self.attachment(record, f)} for f in record.files]
            or [{"attachment": {"title": record.title}}],  # FHIR needs one; this says "no file"
        }
        if record.date is not None:
            resource["context"] = {"period": {"start": record.date.isoformat()}}
        if record.doctor is not None:
            resource["author"] = [self.ref(record.doctor)]
        if record.institution:
            resource["custodian"] = {"display": record.institution}
        if record.notes:
            resource["extension"] = [{"url": vocab.EXT_NOTES, "valueString": record.notes}]
        return resource

    def attachment(self, record: Record, file: Any) -> Resource:
        attachment: Resource = {
            "contentType": file.media_type,
            "title": file.original_name,
            "size": file.size,
        }
        try:
            content = self.store.read(file.sha256)
        except BlobUnusable as error:  # described without its bytes; the rest goes on
            name = file.original_name
            self.left_out.append(LeftOut.stored(error, name, record=record.id, file=file.id))
            return attachment
        attachment["hash"] = fhir_hash(content)
        if self.data:
            attachment["data"] = base64.b64encode(content).decode()
        return attachment

    def care_plan(self, opinion: Opinion, *, current: bool) -> Resource:
        resource: Resource = {
            "resourceType": "CarePlan",
            "status": "active",
            "intent": "proposal",
            "category": [_coded(vocab.CATEGORY, vocab.OPINION)],
            "title": f"Opinion of {opinion.doctor.name}",
            "subject": self.ref(self.patient),
            "author": self.ref(opinion.doctor),
        }
        if opinion.date is not None:
            resource["created"] = opinion.date.isoformat()
        if opinion.plan:
            resource["description"] = opinion.plan
        if opinion.notes:
            resource["note"] = [{"text": opinion.notes}]
        if current:
            resource["addresses"] = [{"reference": f"urn:uuid:{_derived(opinion, 'condition')}"}]
        else:  # the diagnosis of an earlier opinion travels inside its plan
            condition = self.condition(opinion, subject_only=True)
            condition["id"] = "diagnosis"
            resource["contained"] = [condition]
            resource["addresses"] = [{"reference": "#diagnosis"}]
        if opinion.records:
            resource["supportingInfo"] = [self.ref(r) for r in opinion.records]
        return resource

    def facts(self, opinion: Opinion, *, current: bool) -> None:
        """The opinion's staging, grade and ECOG Observations; its CarePlan names them."""
        focus = _derived(opinion, "condition") if current else None
        found = health_export.opinion_facts(self, opinion, focus)
        if found:
            plan = next(
                e["resource"] for e in self.entries if e["resource"]["id"] == row_uuid(opinion)
            )
            plan["supportingInfo"] = [*plan.get("supportingInfo", []), *found]

    def condition(self, opinion: Opinion, *, subject_only: bool) -> Resource:
        resource: Resource = {
            "resourceType": "Condition",
            "clinicalStatus": _coded(vocab.CONDITION_CLINICAL, "active"),
            "code": {"text": opinion.diagnosis},
            "subject": self.ref(self.patient),
        }
        if opinion.stage:
            resource["stage"] = [{"summary": {"text": opinion.stage}}]
        health_export.cancer_condition(resource, opinion)
        if not subject_only:
            resource["asserter"] = self.ref(opinion.doctor)
            if opinion.date is not None:
                resource["recordedDate"] = opinion.date.isoformat()
        return resource

    def appointment(self, visit: Appointment) -> Resource:
        start = appointments.local_start(visit)
        participants = [
            {"actor": self.ref(self.patient), "status": "accepted"},
            {"actor": self.ref(visit.doctor), "status": "accepted"},
        ]
        if visit.location:
            participants.append(
                {
                    "actor": {"reference": f"urn:uuid:{self.place(visit.location)}"},
                    "status": "accepted",
                }
            )
        resource: Resource = {
            "resourceType": "Appointment",
            "status": vocab.APPOINTMENT_STATUS_OUT[visit.status],
            "appointmentType": _coded(vocab.PURPOSE, visit.purpose.value),
            "start": start.isoformat(timespec="seconds"),
            "end": (start + VISIT_LENGTH).isoformat(timespec="seconds"),
            "participant": participants,
        }
        if visit.notes:
            resource["comment"] = visit.notes
        if visit.records:
            resource["supportingInformation"] = [self.ref(r) for r in visit.records]
        extensions: list[Resource] = [
            {"url": vocab.EXT_TIME_ZONE, "valueCode": visit.time_zone},
            {"url": vocab.EXT_STAFF_TOLD, "valueBoolean": visit.staff_told},
            {"url": vocab.EXT_COVERAGE, "valueCode": visit.coverage.value},
        ]
        if visit.companion:
            extensions.append({"url": vocab.EXT_COMPANION, "valueString": visit.companion})
        if visit.records_sent_on:
            extensions.append(
                {"url": vocab.EXT_RECORDS_SENT, "valueDate": visit.records_sent_on.isoformat()}
            )
        if visit.coverage_ref:
            extensions.append({"url": vocab.EXT_COVERAGE_REF, "valueString": visit.coverage_ref})
        resource["extension"] = extensions
        return resource

    def communication(self, question: Question) -> Resource:
        resource: Resource = {
            "resourceType": "Communication",
            "status": "completed" if question.answer else "preparation",
            "category": [_coded(vocab.CATEGORY, vocab.QUESTION)],
            "subject": self.ref(self.patient),
            "payload": [{"contentString": question.text}],
        }
        if question.appointment is not None:
            resource["about"] = [self.ref(question.appointment)]
        if question.answer:
            resource["payload"].append({"contentString": question.answer})
            if question.answered_by is not None:
                resource["sender"] = self.ref(question.answered_by)
            if question.answered_on is not None:
                resource["sent"] = question.answered_on.isoformat()
        return resource

    def task(self, material: Material) -> Resource:
        dates = [
            {"url": column, "valueDate": getattr(material, column).isoformat()}
            for column in ("requested_on", "received_on", "sent_on", "returned_on")
            if getattr(material, column) is not None
        ]
        resource: Resource = {
            "resourceType": "Task",
            "status": vocab.MATERIAL_TASK_STATUS[material.status],
            "businessStatus": _coded(vocab.MATERIAL_STATUS, material.status.value),
            "intent": "order",
            "code": _coded(vocab.MATERIAL_KIND, material.kind.value),
            "description": material.description,
            "for": self.ref(self.patient),
        }
        if material.institution:
            resource["owner"] = {"display": material.institution}
        if dates:
            resource["extension"] = [{"url": vocab.EXT_DATES, "extension": dates}]
        return resource

    def coverage(self) -> None:
        p = self.patient
        payor = self.ref(p)  # self-pay, when no insurer is named
        if p.insurer:
            ident = _derived(p, "insurer")
            organization: Resource = {"resourceType": "Organization", "name": p.insurer}
            _put(organization, "telecom", _telecom(p.insurer_phone, None))
            self.add(ident, organization)
            payor = {"reference": f"urn:uuid:{ident}"}
        resource: Resource = {
            "resourceType": "Coverage",
            "status": "active",
            "beneficiary": self.ref(p),
            "payor": [payor],
        }
        if p.member_id:
            resource["subscriberId"] = p.member_id
        if p.plan:
            resource["class"] = [
                {"type": _coded(vocab.COVERAGE_CLASS, "plan"), "value": p.plan, "name": p.plan}
            ]
        self.add(_derived(p, "coverage"), resource)


def export_bundle(
    session: Session, store: Store, patient: Patient, *, data: bool = True
) -> tuple[Resource, list[LeftOut]]:
    """The patient's binder as a FHIR R4 Bundle (checked against the R4B models), and the
    files whose bytes could not be used (missing, damaged…: exported without their bytes
    or hash, only described)."""
    from fhir.resources.R4B.bundle import Bundle

    exporter = Exporter(session, store, patient, data=data)
    bundle = exporter.run()
    Bundle.model_validate(bundle)
    return bundle, exporter.left_out


def export_patients(
    session: Session, store: Store, patients: Sequence[Patient], *, data: bool = True
) -> tuple[Resource, list[LeftOut]]:
    """Several patients' binders in one collection Bundle (each one's resources, in turn),
    and the files exported without their data; see `export_bundle`."""
    entries: list[Resource] = []
    left_out: list[LeftOut] = []
    bundle: Resource = {}
    for patient in patients:
        bundle, lost = export_bundle(session, store, patient, data=data)
        entries += bundle["entry"]
        left_out += lost
    return {**bundle, "entry": entries}, left_out


def _derived(row: Any, what: str) -> str:
    """A UUID for a resource made from part of a row (a doctor's role, a visit's place)."""
    return str(uuid.uuid5(uuid.UUID(row_uuid(row)), what))


def _coded(system: str, code: str) -> Resource:
    return {"coding": [{"system": system, "code": code}]}


def _telecom(phone: str | None, email: str | None) -> list[Resource]:
    points = []
    if phone:
        points.append({"system": "phone", "value": phone})
    if email:
        points.append({"system": "email", "value": email})
    return points


def _put(resource: Resource, key: str, value: list[Resource]) -> None:
    if value:
        resource[key] = value


__all__ = ["export_bundle", "export_patients"]
