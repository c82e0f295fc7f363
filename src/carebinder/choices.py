"""The fixed vocabularies of the binder. No database imports, so `--help` stays fast."""

from __future__ import annotations

import enum


class DoctorRole(enum.StrEnum):
    DIAGNOSING = "diagnosing"
    TREATING = "treating"
    SECOND_OPINION = "second-opinion"
    THIRD_OPINION = "third-opinion"
    PRIMARY_CARE = "primary-care"
    NURSE_NAVIGATOR = "nurse-navigator"
    SOCIAL_WORKER = "social-worker"
    OTHER = "other"


class RecordKind(enum.StrEnum):
    PATHOLOGY = "pathology"
    SURGERY = "surgery"
    TREATMENT_PLAN = "treatment-plan"
    IMAGING = "imaging"
    LAB = "lab"
    GENOMIC = "genomic"
    CONSULTATION = "consultation"
    DISCHARGE = "discharge"
    MEDICATION_LIST = "medication-list"
    OTHER = "other"


class Purpose(enum.StrEnum):
    SECOND_OPINION = "second-opinion"
    THIRD_OPINION = "third-opinion"
    FOLLOW_UP = "follow-up"
    TREATMENT = "treatment"
    OTHER = "other"


class AppointmentStatus(enum.StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class Coverage(enum.StrEnum):
    UNKNOWN = "unknown"
    CONFIRMED = "confirmed"
    PRE_AUTH_NEEDED = "pre-auth-needed"
    DENIED = "denied"


class MaterialKind(enum.StrEnum):
    GLASS_SLIDES = "glass-slides"
    TISSUE_BLOCKS = "tissue-blocks"
    IMAGING_DISC = "imaging-disc"
    RECORDS_COPY = "records-copy"
    OTHER = "other"


class MaterialStatus(enum.StrEnum):
    NEEDED = "needed"
    REQUESTED = "requested"
    RECEIVED = "received"
    SENT = "sent"
    RETURNED = "returned"


class MedicationKind(enum.StrEnum):
    PRESCRIPTION = "prescription"
    OVER_THE_COUNTER = "over-the-counter"
    SUPPLEMENT = "supplement"


class Severity(enum.StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class AllergyKind(enum.StrEnum):
    MEDICATION = "medication"
    FOOD = "food"
    ENVIRONMENT = "environment"
    OTHER = "other"


class TreatmentKind(enum.StrEnum):
    SURGERY = "surgery"
    CHEMOTHERAPY = "chemotherapy"
    RADIATION = "radiation"
    HORMONE_THERAPY = "hormone-therapy"
    TARGETED_THERAPY = "targeted-therapy"
    IMMUNOTHERAPY = "immunotherapy"
    TRANSPLANT = "transplant"
    OTHER = "other"


class Interpretation(enum.StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    HIGH = "high"
    LOW = "low"
    NORMAL = "normal"
    ABNORMAL = "abnormal"


class Laterality(enum.StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"


class StagingBasis(enum.StrEnum):
    """Whether TNM categories come from examination and imaging, or from the surgical
    specimen; printed as the c or p before T, N and M (cT2 pN1 M0)."""

    CLINICAL = "clinical"
    PATHOLOGIC = "pathologic"
