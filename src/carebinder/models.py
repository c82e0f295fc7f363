"""The binder's tables, as typed SQLAlchemy declarations. No behaviour lives here.

No `from __future__ import annotations` here: every command imports this module, and
SQLAlchemy would evaluate each of its 118 annotations from a string again (about 6 ms of
start-up, benchmarks/startup.py). The two names used before their class exists are quoted.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from carebinder.choices import (
    AllergyKind,
    AppointmentStatus,
    Coverage,
    DoctorRole,
    Interpretation,
    Laterality,
    MaterialKind,
    MaterialStatus,
    MedicationKind,
    Purpose,
    RecordKind,
    Severity,
    StagingBasis,
    TreatmentKind,
)
from carebinder.columns import (
    TNM,
    LongText,
    Name,
    ShortText,
    Timestamp,
    UTCDateTime,
    choice,
    utcnow,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[Timestamp]
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.current_timestamp()
    )


# --- tables ---------------------------------------------------------------------------------


class Patient(Timestamped, Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Name]
    born: Mapped[date]
    mrn: Mapped[ShortText]
    phone: Mapped[ShortText]
    email: Mapped[ShortText]
    address: Mapped[LongText]
    insurer: Mapped[ShortText]
    plan: Mapped[ShortText]
    member_id: Mapped[ShortText]
    insurer_phone: Mapped[ShortText]
    # "Takes no medications" / "no known allergies", and the day it was stated. None: not
    # stated. Kept apart from an empty list, which only means nobody has asked yet.
    no_medications_on: Mapped[date | None]
    no_allergies_on: Mapped[date | None]


class OwnedByPatient:
    """Rows that belong to one patient; every lookup is scoped by `patient_id`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )


class Doctor(OwnedByPatient, Timestamped, Base):
    __tablename__ = "doctor"

    name: Mapped[Name]
    specialty: Mapped[ShortText]
    institution: Mapped[ShortText]
    role: Mapped[DoctorRole | None] = mapped_column(choice(DoctorRole, "role"))
    phone: Mapped[ShortText]
    email: Mapped[ShortText]
    address: Mapped[LongText]
    npi: Mapped[str | None] = mapped_column(String(10))
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctor.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[LongText]

    referred_by: Mapped["Doctor | None"] = relationship(remote_side="Doctor.id")


class Record(OwnedByPatient, Timestamped, Base):
    __tablename__ = "record"

    kind: Mapped[RecordKind] = mapped_column(choice(RecordKind, "kind"))
    title: Mapped[Name]
    date: Mapped[date | None]
    doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctor.id", ondelete="SET NULL"), index=True
    )
    institution: Mapped[ShortText]
    notes: Mapped[LongText]

    doctor: Mapped[Doctor | None] = relationship()
    files: Mapped[list["File"]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="File.id",
    )


class File(Timestamped, Base):
    """A file attached to a record. Its bytes live in the store under `sha256`."""

    __tablename__ = "file"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int | None]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Why the file could not be read (e.g. a broken PDF), or None when it could.
    unreadable: Mapped[LongText]
    # The words of a PDF, read once when it is attached, for `carebinder search` (whose
    # index the database keeps). Up to 2 M characters a file, and never needed by a command
    # that lists or prints files: loaded only when asked for.
    text: Mapped[str | None] = mapped_column(Text, deferred=True)
    # True: the PDF has a text layer; False: it has none (a scan); None: not read for text
    # (not a PDF, unreadable, or attached before carebinder read text).
    has_text: Mapped[bool | None]
    # Why the packet cannot print a readable file (e.g. a page of no size), or None.
    unprintable: Mapped[LongText]
    # What a reader should know of the file (e.g. it was damaged and repaired), or None.
    notice: Mapped[LongText]

    record: Mapped[Record] = relationship(back_populates="files")
    # Loaded with the file (one query for a whole list): every view of a file says it.
    text_layer: Mapped["TextLayer | None"] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class TextLayer(Base):
    """A scan's or a photo's words, recognised (OCR): a PDF made from the original with an
    invisible text layer, stored in the store under `sha256` like any file. The original
    never changes; this is made again from it at any time. No `sha256` and no `failed`:
    waiting to be recognised."""

    __tablename__ = "text_layer"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("file.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # Pages of the original without words (pictures of pages): the ones recognised.
    pages: Mapped[int | None]
    # Of those, the pages where words were found.
    pages_recognised: Mapped[int | None]
    # Tesseract's mean word confidence, 0 to 100.
    confidence: Mapped[float | None] = mapped_column(Float())
    languages: Mapped[str | None] = mapped_column(String(100))
    made_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the words could not be recognised, or None.
    failed: Mapped[LongText]


class Setting(Base):
    """A patient's choice that outlives a command (e.g. `ocr_languages`: spa+eng)."""

    __tablename__ = "setting"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


opinion_record = Table(
    "opinion_record",
    Base.metadata,
    Column("opinion_id", ForeignKey("opinion.id", ondelete="CASCADE"), primary_key=True),
    Column("record_id", ForeignKey("record.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Opinion(OwnedByPatient, Timestamped, Base):
    __tablename__ = "opinion"

    # No ON DELETE action: removing a doctor who gave an opinion is refused (the service
    # says why; the key backs it up). Checked at the end of the statement, so removing a
    # whole patient, which cascades to both, still works.
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor.id"), index=True)
    date: Mapped[date | None]
    diagnosis: Mapped[str] = mapped_column(Text)
    stage: Mapped[ShortText]
    plan: Mapped[LongText]
    notes: Mapped[LongText]
    # The structured cancer facts (mCODE's primary cancer condition and staging), all
    # optional: the free text above keeps whatever does not fit.
    site: Mapped[ShortText]
    laterality: Mapped[Laterality | None] = mapped_column(choice(Laterality, "laterality"))
    histology: Mapped[ShortText]
    grade: Mapped[ShortText]
    t_category: Mapped[TNM]
    n_category: Mapped[TNM]
    m_category: Mapped[TNM]
    staging: Mapped[StagingBasis | None] = mapped_column(choice(StagingBasis, "staging"))
    ajcc_edition: Mapped[int | None] = mapped_column(
        CheckConstraint("ajcc_edition BETWEEN 1 AND 99", name="ajcc_edition")
    )
    ecog: Mapped[int | None] = mapped_column(CheckConstraint("ecog BETWEEN 0 AND 4", name="ecog"))

    doctor: Mapped[Doctor] = relationship()
    records: Mapped[list[Record]] = relationship(
        secondary=opinion_record, order_by="Record.id", passive_deletes=True
    )


appointment_record = Table(
    "appointment_record",
    Base.metadata,
    Column("appointment_id", ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True),
    Column("record_id", ForeignKey("record.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Appointment(OwnedByPatient, Timestamped, Base):
    __tablename__ = "appointment"

    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # IANA zone the visit happens in, e.g. "America/New_York".
    time_zone: Mapped[str] = mapped_column(String(64))
    location: Mapped[LongText]
    purpose: Mapped[Purpose] = mapped_column(choice(Purpose, "purpose"))
    status: Mapped[AppointmentStatus] = mapped_column(
        choice(AppointmentStatus, "status"), default=AppointmentStatus.PLANNED
    )
    companion: Mapped[ShortText]
    notes: Mapped[LongText]
    # Preparation facts.
    staff_told: Mapped[bool] = mapped_column(default=False)
    records_sent_on: Mapped[date | None]
    coverage: Mapped[Coverage] = mapped_column(
        choice(Coverage, "coverage"), default=Coverage.UNKNOWN
    )
    coverage_ref: Mapped[ShortText]

    doctor: Mapped[Doctor] = relationship()
    records: Mapped[list[Record]] = relationship(
        secondary=appointment_record, order_by="Record.id", passive_deletes=True
    )


class Question(OwnedByPatient, Timestamped, Base):
    __tablename__ = "question"

    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[LongText]
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctor.id", ondelete="SET NULL"), index=True
    )
    answered_on: Mapped[date | None]

    appointment: Mapped[Appointment | None] = relationship()
    answered_by: Mapped[Doctor | None] = relationship()


class Material(OwnedByPatient, Timestamped, Base):
    __tablename__ = "material"

    kind: Mapped[MaterialKind] = mapped_column(choice(MaterialKind, "kind"))
    description: Mapped[str] = mapped_column(Text)
    institution: Mapped[ShortText]
    status: Mapped[MaterialStatus] = mapped_column(
        choice(MaterialStatus, "status"), default=MaterialStatus.NEEDED
    )
    requested_on: Mapped[date | None]
    received_on: Mapped[date | None]
    sent_on: Mapped[date | None]
    returned_on: Mapped[date | None]


class Medication(OwnedByPatient, Timestamped, Base):
    """Something the patient takes. One with a `stopped` day on or before today is history."""

    __tablename__ = "medication"

    name: Mapped[Name]
    dose: Mapped[ShortText]
    how: Mapped[ShortText]  # route and frequency, e.g. "by mouth, twice a day"
    kind: Mapped[MedicationKind] = mapped_column(
        choice(MedicationKind, "kind"), default=MedicationKind.PRESCRIPTION
    )
    started: Mapped[date | None]
    stopped: Mapped[date | None]
    reason: Mapped[ShortText]  # what it is for
    prescriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctor.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[LongText]

    prescriber: Mapped[Doctor | None] = relationship()


class Allergy(OwnedByPatient, Timestamped, Base):
    __tablename__ = "allergy"

    substance: Mapped[Name]
    reaction: Mapped[ShortText]
    severity: Mapped[Severity | None] = mapped_column(choice(Severity, "severity"))
    kind: Mapped[AllergyKind | None] = mapped_column(choice(AllergyKind, "kind"))
    notes: Mapped[LongText]


class Condition(OwnedByPatient, Timestamped, Base):
    """Another health problem (a comorbidity), not the cancer itself."""

    __tablename__ = "condition"

    name: Mapped[Name]
    since: Mapped[date | None]
    notes: Mapped[LongText]


class Treatment(OwnedByPatient, Timestamped, Base):
    """A cancer treatment received (or under way, while `ended` is empty)."""

    __tablename__ = "treatment"

    kind: Mapped[TreatmentKind] = mapped_column(choice(TreatmentKind, "kind"))
    name: Mapped[Name]  # the operation or the regimen, e.g. "AC-T" or "lumpectomy"
    started: Mapped[date | None]
    ended: Mapped[date | None]
    doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctor.id", ondelete="SET NULL"), index=True
    )
    response: Mapped[ShortText]
    notes: Mapped[LongText]

    doctor: Mapped[Doctor | None] = relationship()


class Result(OwnedByPatient, Timestamped, Base):
    """One value of a marker or biomarker. Values of the same name over time are its trend."""

    __tablename__ = "result"

    name: Mapped[Name]
    value: Mapped[str] = mapped_column(String(200))  # a number ("12.5") or words ("3+")
    unit: Mapped[ShortText]
    taken_on: Mapped[date | None]
    interpretation: Mapped[Interpretation | None] = mapped_column(
        choice(Interpretation, "interpretation")
    )
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("record.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[LongText]

    record: Mapped[Record | None] = relationship()


__all__ = [
    "Allergy",
    "AllergyKind",
    "Appointment",
    "AppointmentStatus",
    "AuditEvent",
    "Base",
    "Condition",
    "Coverage",
    "Doctor",
    "DoctorRole",
    "File",
    "Interpretation",
    "Laterality",
    "Material",
    "MaterialKind",
    "MaterialStatus",
    "Medication",
    "MedicationKind",
    "Opinion",
    "Patient",
    "Purpose",
    "Question",
    "Record",
    "RecordKind",
    "Result",
    "Severity",
    "SourceKey",
    "StagingBasis",
    "Treatment",
    "TreatmentKind",
    "appointment_record",
    "opinion_record",
]


class AuditEvent(Base):
    """One change to the binder: when, by which command, to which row. Never the content.

    No foreign keys: the trail outlives the rows it speaks of (a removed patient's events
    stay, by id).
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    command: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(10))  # add, change, remove
    entity: Mapped[str] = mapped_column(String(40))  # the table, e.g. "record"
    entity_id: Mapped[int | None]
    patient_id: Mapped[int | None] = mapped_column(index=True)


class SourceKey(Base):
    """Where an imported row came from: one key per FHIR resource id or identifier, so
    importing the same bundle again finds the rows it made instead of adding them twice.

    `entity` names the table and `entity_id` the row (no foreign key: several tables). A
    key whose row was removed since is stale; the importer drops it and imports anew.
    """

    __tablename__ = "source_key"
    __table_args__ = (UniqueConstraint("patient_id", "entity", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The patient the row belongs to (for a patient row, the patient itself).
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    # e.g. "Practitioner/3f2a…" or "identifier http://hl7.org/fhir/sid/us-npi|1234567893".
    key: Mapped[str] = mapped_column(String(500))
