"""One of each health fact, for the search tests of both faces."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from carebinder import config
from carebinder.choices import Severity, TreatmentKind
from carebinder.db import open_binder, session_scope
from carebinder.services import allergies, conditions, medications, results, treatments

# Each fact's title, as search shows it.
TITLES = {
    "medication": "Medication: Letrozole 2.5 mg",
    "allergy": "Allergy: Penicillin (severe)",
    "condition": "Condition: Type 2 diabetes",
    "treatment": "Treatment: Lumpectomy (surgery)",
    "result": "Result: CA 15-3 45 U/mL, 2026-03-01",
}


def add_one_of_each(session: Session, patient_id: int, notes: str | None) -> dict[str, int]:
    """A medication, an allergy, a condition, a treatment and a result, each with `notes`;
    their ids by kind."""
    return {
        "medication": medications.add_medication(
            session, patient_id, name="Letrozole", dose="2.5 mg", notes=notes
        ).medication.id,
        "allergy": allergies.add_allergy(
            session, patient_id, substance="Penicillin", severity=Severity.SEVERE, notes=notes
        ).allergy.id,
        "condition": conditions.add_condition(
            session, patient_id, name="Type 2 diabetes", notes=notes
        ).id,
        "treatment": treatments.add_treatment(
            session, patient_id, kind=TreatmentKind.SURGERY, name="Lumpectomy", notes=notes
        ).id,
        "result": results.add_result(
            session,
            patient_id,
            name="CA 15-3",
            value="45",
            unit="U/mL",
            on=date(2026, 3, 1),
            notes=notes,
        ).id,
    }


def add_to_binder(settings: config.Settings, patient_id: int, notes: str | None) -> dict[str, int]:
    """The same, written to the binder of `settings` (as another program would)."""
    engine = open_binder(settings)
    try:
        with session_scope(engine) as s:
            return add_one_of_each(s, patient_id, notes)
    finally:
        engine.dispose()
