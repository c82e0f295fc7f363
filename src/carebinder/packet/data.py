"""What the packet shows, as frozen plain data: made by gather.py from the database, read
by the rendering and assembling modules, which never see the database.

Nothing here imports SQLAlchemy, the models or the services, so the packet's rendering
can be used, and tested, without a database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from carebinder.choices import Purpose

# For the doctor reading the packet (the patient-facing notes live in services/opinions.py).
DOCTORS_NOTE = (
    "The opinions differ. The patient may ask the doctors to discuss their conclusions together."
)
# Added when they differ on T, N, M, grade or histology.
DECISIVE_NOTE = "Their difference in {facts} bears on the stage and the treatment."

PURPOSE_TITLES = {
    Purpose.SECOND_OPINION: "Second-opinion visit",
    Purpose.THIRD_OPINION: "Third-opinion visit",
    Purpose.FOLLOW_UP: "Follow-up visit",
    Purpose.TREATMENT: "Treatment visit",
    Purpose.OTHER: "Visit",
}


@dataclass(frozen=True)
class PersonInfo:
    name: str
    specialty: str | None = None
    institution: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    npi: str | None = None
    referred_by: str | None = None


@dataclass(frozen=True)
class PatientInfo:
    name: str
    born: date
    mrn: str | None
    phone: str | None
    email: str | None
    address: str | None
    insurer: str | None
    plan: str | None
    member_id: str | None
    insurer_phone: str | None


@dataclass(frozen=True)
class VisitInfo:
    appointment_id: int
    purpose: Purpose
    title: str
    doctor: PersonInfo
    start: datetime  # aware, in the visit's own zone
    time_zone: str
    location: str | None
    companion: str | None
    coverage: str
    coverage_ref: str | None


@dataclass(frozen=True)
class OpinionInfo:
    doctor: str
    institution: str | None
    date: date | None
    diagnosis: str
    stage: str | None
    plan: str | None
    # The structured cancer facts: what the summary's cancer card shows.
    site: str | None = None
    laterality: str | None = None
    histology: str | None = None
    grade: str | None = None
    tnm: str | None = None  # as doctors write it: "pT2 pN1a cM0"
    staging: str | None = None  # "clinical" or "pathologic"
    ajcc_edition: int | None = None
    ecog: int | None = None
    ecog_meaning: str | None = None


@dataclass(frozen=True)
class ComparedRow:
    """One row of the opinions side by side: a fact, and each opinion's word on it."""

    label: str  # "Grade", or "Grade ≠" where the opinions differ
    field: str
    values: tuple[str, ...]  # one per opinion, in the opinions' order; "" when not given
    differs: bool


@dataclass(frozen=True)
class ResultInfo:
    value: str  # "38", "3+", "positive"
    unit: str | None = None
    on: date | None = None
    interpretation: str | None = None  # "high", "positive"…


@dataclass(frozen=True)
class MarkerInfo:
    """A marker's latest value; for a repeated marker, its first value and how many."""

    name: str
    latest: ResultInfo
    first: ResultInfo | None = None  # None when there is one value only
    count: int = 1


@dataclass(frozen=True)
class TreatmentInfo:
    kind: str  # "surgery", "hormone-therapy"…
    name: str
    started: date | None = None
    ended: date | None = None
    doctor: str | None = None
    response: str | None = None


@dataclass(frozen=True)
class MedicationInfo:
    name: str
    dose: str | None = None
    how: str | None = None
    kind: str = "prescription"  # or "over-the-counter", "supplement"
    reason: str | None = None


@dataclass(frozen=True)
class AllergyInfo:
    substance: str
    reaction: str | None = None
    severity: str | None = None  # "mild", "moderate", "severe"
    kind: str | None = None


@dataclass(frozen=True)
class ConditionInfo:
    name: str
    since: date | None = None


@dataclass(frozen=True)
class HealthInfo:
    """What the summary shows after the cancer card. Medications and allergies each have
    three states: a list; none known, stated on a day (`no_..._on`); or not recorded
    (an empty list and no day)."""

    markers: tuple[MarkerInfo, ...] = ()
    # Results left out of the summary: imported ones that are not cancer markers.
    other_results: int = 0
    treatments: tuple[TreatmentInfo, ...] = ()
    medications: tuple[MedicationInfo, ...] = ()  # current ones only
    no_medications_on: date | None = None
    allergies: tuple[AllergyInfo, ...] = ()
    no_allergies_on: date | None = None
    conditions: tuple[ConditionInfo, ...] = ()


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    answer: str | None = None
    answered_by: str | None = None
    answered_on: date | None = None


@dataclass(frozen=True)
class CheckInfo:
    label: str
    ready: bool | None  # None: does not apply
    detail: str = ""


@dataclass(frozen=True)
class FileInfo:
    name: str
    media_type: str
    path: Path
    page_count: int | None
    unreadable: str | None
    # The SHA-256 that names its bytes in the store: they are checked against it first.
    sha256: str | None = None
    # The bytes are the text-layer version of a scan or a photo (its words recognised,
    # so the doctor can search and copy them), not the original.
    recognised: bool = False


@dataclass(frozen=True)
class RecordInfo:
    id: int
    date: date | None
    kind: str
    title: str
    source: str | None
    notes: str | None
    files: tuple[FileInfo, ...]


@dataclass(frozen=True)
class Event:
    date: date
    label: str
    kind: str  # "record", "opinion" or "appointment"


@dataclass(frozen=True)
class PacketData:
    visit: VisitInfo
    patient: PatientInfo
    consulted: tuple[PersonInfo, ...]
    current: OpinionInfo | None
    opinions: tuple[OpinionInfo, ...]
    differing: frozenset[str]
    opinion_notes: tuple[str, ...]
    questions: tuple[QuestionInfo, ...]
    earlier_questions: tuple[QuestionInfo, ...]
    bring: tuple[CheckInfo, ...]
    preparation: tuple[CheckInfo, ...]
    materials: tuple[CheckInfo, ...]
    care_team: tuple[PersonInfo, ...]
    records: tuple[RecordInfo, ...]
    timeline: tuple[Event, ...]
    generated_on: date
    health: HealthInfo = HealthInfo()
    # The opinions side by side, row by row (opinion compare's rows).
    compared: tuple[ComparedRow, ...] = ()


def default_name(patient: str, visit_day: str) -> str:
    """e.g. `packet-Ana-Souza-2026-12-03.pdf`: plain ASCII, safe on every filesystem."""
    ascii_name = unicodedata.normalize("NFKD", patient).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-") or "patient"
    return f"packet-{slug}-{visit_day}.pdf"
