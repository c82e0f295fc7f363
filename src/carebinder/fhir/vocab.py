"""The words carebinder and FHIR R4 share: code systems, extensions and the maps between
the binder's vocabularies and FHIR's. Read by both directions, so they cannot disagree."""

from __future__ import annotations

from carebinder.choices import (
    AppointmentStatus,
    Coverage,
    DoctorRole,
    MaterialKind,
    MaterialStatus,
    Purpose,
    RecordKind,
)

# Systems and extensions of carebinder's own. FHIR allows any URI; these are URNs because
# carebinder publishes no web site for them (an http URL that resolves nowhere would mislead).
SYSTEM = "urn:carebinder"
RECORD_KIND = f"{SYSTEM}:record-kind"
DOCTOR_ROLE = f"{SYSTEM}:doctor-role"
PURPOSE = f"{SYSTEM}:purpose"
MATERIAL_KIND = f"{SYSTEM}:material-kind"
MATERIAL_STATUS = f"{SYSTEM}:material-status"
CATEGORY = f"{SYSTEM}:category"  # tells carebinder's own resources apart
OPINION = "opinion"
QUESTION = "question"
MATERIAL = "material"


def extension(name: str) -> str:
    return f"{SYSTEM}:extension:{name}"


EXT_NOTES = extension("notes")
EXT_REFERRED_BY = extension("referred-by")
EXT_COMPANION = extension("companion")
EXT_STAFF_TOLD = extension("staff-told")
EXT_RECORDS_SENT = extension("records-sent-on")
EXT_COVERAGE = extension("coverage")
EXT_COVERAGE_REF = extension("coverage-ref")
EXT_DATES = extension("material-dates")
# HL7's own extension for the IANA time zone of an event.
EXT_TIME_ZONE = "http://hl7.org/fhir/StructureDefinition/timezone"

LOINC = "http://loinc.org"
NPI = "http://hl7.org/fhir/sid/us-npi"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"  # identifier types (MR, SS, ...)
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"  # diagnostic service sections
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"

# LOINC document types for the record kinds (the closest a receiving system understands).
KIND_LOINC: dict[RecordKind, tuple[str, str]] = {
    RecordKind.PATHOLOGY: ("11526-1", "Pathology study"),
    RecordKind.SURGERY: ("11504-8", "Surgical operation note"),
    RecordKind.TREATMENT_PLAN: ("18776-5", "Plan of care note"),
    RecordKind.IMAGING: ("18748-4", "Diagnostic imaging study"),
    RecordKind.LAB: ("11502-2", "Laboratory report"),
    RecordKind.GENOMIC: ("51969-4", "Genetic analysis report"),
    RecordKind.CONSULTATION: ("11488-4", "Consult note"),
    RecordKind.DISCHARGE: ("18842-5", "Discharge summary"),
    RecordKind.MEDICATION_LIST: ("10160-0", "History of medication use"),
}
LOINC_KIND = {code: kind for kind, (code, _) in KIND_LOINC.items()}

# DiagnosticReport.category (HL7 v2 table 0074) to record kind.
SECTION_KIND: dict[str, RecordKind] = {
    "LAB": RecordKind.LAB,
    "HM": RecordKind.LAB,
    "CH": RecordKind.LAB,
    "MB": RecordKind.LAB,
    "SR": RecordKind.LAB,
    "RAD": RecordKind.IMAGING,
    "CT": RecordKind.IMAGING,
    "MR": RecordKind.IMAGING,
    "NMR": RecordKind.IMAGING,
    "NMS": RecordKind.IMAGING,
    "RUS": RecordKind.IMAGING,
    "US": RecordKind.IMAGING,
    "VUS": RecordKind.IMAGING,
    "XRC": RecordKind.IMAGING,
    "OUS": RecordKind.IMAGING,
    "PAT": RecordKind.PATHOLOGY,
    "SP": RecordKind.PATHOLOGY,
    "CP": RecordKind.PATHOLOGY,
    "CY": RecordKind.PATHOLOGY,
    "GE": RecordKind.GENOMIC,
}

APPOINTMENT_STATUS_OUT: dict[AppointmentStatus, str] = {
    AppointmentStatus.PLANNED: "booked",
    AppointmentStatus.DONE: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
}
APPOINTMENT_STATUS_IN: dict[str, AppointmentStatus] = {
    "proposed": AppointmentStatus.PLANNED,
    "pending": AppointmentStatus.PLANNED,
    "booked": AppointmentStatus.PLANNED,
    "waitlist": AppointmentStatus.PLANNED,
    "arrived": AppointmentStatus.DONE,
    "checked-in": AppointmentStatus.DONE,
    "fulfilled": AppointmentStatus.DONE,
    "cancelled": AppointmentStatus.CANCELLED,
    "noshow": AppointmentStatus.CANCELLED,
}
# Encounter.status: what happened, or is about to.
ENCOUNTER_STATUS_IN: dict[str, AppointmentStatus] = {
    "planned": AppointmentStatus.PLANNED,
    "arrived": AppointmentStatus.DONE,
    "triaged": AppointmentStatus.DONE,
    "in-progress": AppointmentStatus.DONE,
    "onleave": AppointmentStatus.DONE,
    "finished": AppointmentStatus.DONE,
    "cancelled": AppointmentStatus.CANCELLED,
}

# Task.status for a material's status (the exact status travels as businessStatus).
MATERIAL_TASK_STATUS: dict[MaterialStatus, str] = {
    MaterialStatus.NEEDED: "draft",
    MaterialStatus.REQUESTED: "requested",
    MaterialStatus.RECEIVED: "in-progress",
    MaterialStatus.SENT: "in-progress",
    MaterialStatus.RETURNED: "completed",
}

# Identifier types never copied into a binder: a second-opinion packet needs none of them.
PRIVATE_IDENTIFIER_TYPES = frozenset({"SS", "SB", "DL", "PPN", "DR", "TAX", "BCT"})
PRIVATE_IDENTIFIER_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/us-ssn"})

__all__ = [
    "AppointmentStatus",
    "Coverage",
    "DoctorRole",
    "MaterialKind",
    "MaterialStatus",
    "Purpose",
    "RecordKind",
]
