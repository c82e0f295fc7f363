"""`gather`, for the summary and the opinions page: the cancer card from the most recent
opinion, the opinions side by side, and the health facts (results, treatments, medications,
allergies, other conditions) copied out of a real binder."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carebinder.choices import (
    AllergyKind,
    Interpretation,
    Laterality,
    MedicationKind,
    Severity,
    StagingBasis,
    TreatmentKind,
)
from carebinder.models import Appointment, Patient, SourceKey
from carebinder.packet.data import (
    DOCTORS_NOTE,
    AllergyInfo,
    ConditionInfo,
    MarkerInfo,
    MedicationInfo,
    ResultInfo,
    TreatmentInfo,
)
from carebinder.packet.gather import gather
from carebinder.services import allergies, conditions, markers, medications, results, treatments
from carebinder.store import Store
from tests.packet.test_gather import appointment, assert_plain, chen, doctor, opinion

__all__ = ["appointment", "chen"]  # fixtures


def imported(session: Session, patient: Patient, result_id: int) -> None:
    """Mark a result as the FHIR importer does: a source key names where it came from."""
    session.add(
        SourceKey(
            patient_id=patient.id,
            entity="result",
            entity_id=result_id,
            key=f"Observation/{result_id}",
        )
    )
    session.flush()


def result(session: Session, patient: Patient, name: str, value: str, on: date, **kw: Any) -> int:
    return results.add_result(session, patient.id, name=name, value=value, on=on, **kw).id


# --- the cancer card and the opinions side by side -------------------------------------------


def test_the_card_comes_from_the_most_recent_opinion_by_date(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell")
    raman = doctor(session, patient, "Dr. Priya Raman")
    opinion(
        session,
        patient,
        raman,
        date(2026, 11, 12),
        site="Breast",
        laterality=Laterality.LEFT,
        histology="Invasive ductal carcinoma",
        grade="3",
        t="pT2",
        n="N1a",
        m="M0",
        stage="IIB",
        ajcc_edition=8,
        ecog=1,
    )
    opinion(session, patient, bell, date(2026, 10, 24), t="cT2", n="cN1", m="cM0", ecog=0)
    opinion(session, patient, bell, None, diagnosis="A note without a date")  # added last
    data = gather(session, store, appointment)
    card = data.current
    assert card is not None
    assert (card.doctor, card.date) == ("Dr. Priya Raman", date(2026, 11, 12))
    assert (card.site, card.laterality, card.histology, card.grade) == (
        "Breast",
        "left",
        "Invasive ductal carcinoma",
        "3",
    )
    assert (card.tnm, card.staging, card.stage, card.ajcc_edition) == (
        "pT2 pN1a cM0",
        "pathologic",
        "IIB",
        8,
    )
    assert (card.ecog, card.ecog_meaning) == (
        1,
        "restricted in strenuous activity, can do light work",
    )


def test_undated_opinions_give_the_card_when_none_has_a_date(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell")
    opinion(session, patient, bell, None, diagnosis="First")
    opinion(session, patient, bell, None, diagnosis="Second")
    card = gather(session, store, appointment).current
    assert card is not None and card.diagnosis == "Second"


def test_the_opinions_side_by_side_are_opinion_compares_rows(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell")
    raman = doctor(session, patient, "Dr. Priya Raman")
    common = {"diagnosis": "IDC", "histology": "IDC", "stage": "IIB"}
    opinion(session, patient, bell, date(2026, 10, 24), grade="2", t="cT2", n="cN1", **common)
    opinion(
        session,
        patient,
        raman,
        date(2026, 11, 12),
        grade="3",
        t="T2",
        n="N1a",
        staging=StagingBasis.PATHOLOGIC,
        **common,
    )
    data = gather(session, store, appointment)
    rows = {row.field: (row.label, row.values, row.differs) for row in data.compared}
    assert list(rows) == ["diagnosis", "histology", "grade", "t", "n", "staging", "stage", "plan"]
    assert rows["grade"] == ("Grade ≠", ("2", "3"), True)
    assert rows["t"] == ("T", ("T2", "T2"), False)
    assert rows["n"] == ("N ≠", ("N1", "N1a"), True)
    assert rows["staging"] == ("TNM basis ≠", ("clinical", "pathologic"), True)
    assert rows["plan"] == ("Plan", ("", ""), False)
    assert data.opinion_notes == (
        DOCTORS_NOTE,
        "Their difference in N and grade bears on the stage and the treatment.",
    )


# --- results ------------------------------------------------------------------------------------


def test_the_summary_shows_cancer_markers_and_every_result_typed_by_hand(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    day = date(2026, 10, 1)
    for i, value in enumerate(("31", "22", "18")):  # imported, a marker, given in any order
        imported(session, patient, result(session, patient, "CA-125", value, day - timedelta(i)))
    imported(session, patient, result(session, patient, "Cholesterol", "190", day))
    imported(session, patient, result(session, patient, "Cholesterol", "201", day))
    imported(session, patient, result(session, patient, "Glucose", "99", day))
    result(session, patient, "Glucose", "104", day + timedelta(1))  # typed by hand
    result(session, patient, "Vitamin D", "21", day, unit="ng/mL")  # typed by hand
    result(
        session, patient, "HER2", "1+", day, interpretation=Interpretation.NEGATIVE
    )  # a marker, typed
    result(session, patient, "ER", "95", day, unit="%", interpretation=Interpretation.POSITIVE)

    health = gather(session, store, appointment).health
    assert [m.name for m in health.markers] == ["ER", "HER2", "CA-125", "Glucose", "Vitamin D"]
    by_name = {m.name: m for m in health.markers}
    assert by_name["CA-125"] == MarkerInfo(
        "CA-125",
        latest=ResultInfo("31", None, day),
        first=ResultInfo("18", None, day - timedelta(2)),
        count=3,
    )
    assert by_name["ER"] == MarkerInfo("ER", ResultInfo("95", "%", day, "positive"))
    # A marker with one value typed by hand shows all its values, imported ones too.
    assert (by_name["Glucose"].first, by_name["Glucose"].count) == (ResultInfo("99", None, day), 2)
    assert health.other_results == 2  # the cholesterol values


@pytest.mark.sqlite_only("SQLite gives a removed row's id to the next one; PostgreSQL never does")
def test_a_result_typed_after_an_imported_one_was_removed_is_shown(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    old = result(session, patient, "Cholesterol", "190", date(2026, 1, 1))
    imported(session, patient, old)
    results.remove_result(session, results.get_result(session, patient.id, old))
    again = result(session, patient, "Cholesterol", "185", date(2026, 2, 1))
    assert again == old  # SQLite gives the removed row's id again
    health = gather(session, store, appointment).health
    assert [m.name for m in health.markers] == ["Cholesterol"]
    assert health.other_results == 0


def test_cancer_markers_are_known_by_name_and_by_loinc_code() -> None:
    for name in ("ER", "estrogen receptor", "HER2 IHC", "Ki67", "CA15-3", "ca 19 9", "PSA"):
        assert markers.is_cancer_marker(name), name
    for name in ("PR interval", "eGFR", "Cholesterol", "Glucose", "Hemoglobin A1c"):
        assert not markers.is_cancer_marker(name), name
    found = markers.find("Cancer Ag 15-3 [Units/volume] in Serum or Plasma")
    assert found is not None and found.name == "CA 15-3"
    by_code = markers.by_loinc("6875-9")
    assert by_code is not None and by_code.name == "CA 15-3"
    assert markers.by_loinc("2093-3") is None  # cholesterol
    assert markers.rank("ER") < markers.rank("CA 15-3") < markers.rank("Glucose")


# --- treatments, medications, allergies, conditions ----------------------------------------------


def test_health_facts_are_copied_out(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    bell = doctor(session, patient, "Dr. Marcus Bell")
    treatments.add_treatment(
        session,
        patient.id,
        kind=TreatmentKind.HORMONE_THERAPY,
        name="Letrozole",
        started=date(2026, 11, 6),
    )
    treatments.add_treatment(
        session,
        patient.id,
        kind=TreatmentKind.SURGERY,
        name="Sentinel node biopsy",
        started=date(2026, 11, 2),
        ended=date(2026, 11, 2),
        doctor=bell,
        response="1 of 2 nodes",
    )
    medications.add_medication(session, patient.id, name="Lisinopril", dose="10 mg", how="daily")
    medications.add_medication(
        session, patient.id, name="Vitamin D3", kind=MedicationKind.SUPPLEMENT, reason="bones"
    )
    medications.add_medication(
        session, patient.id, name="Ibuprofen", started=date(2025, 1, 1), stopped=date(2026, 1, 1)
    )
    allergies.add_allergy(session, patient.id, substance="Adhesive tape", reaction="rash")
    allergies.add_allergy(
        session,
        patient.id,
        substance="Penicillin",
        reaction="hives",
        severity=Severity.SEVERE,
        kind=AllergyKind.MEDICATION,
    )
    conditions.add_condition(session, patient.id, name="Hypothyroidism")
    conditions.add_condition(session, patient.id, name="Diabetes", since=date(2018, 5, 1))

    data = gather(session, store, appointment)
    assert_plain(data)
    health = data.health
    assert health.treatments == (
        TreatmentInfo(
            "surgery",
            "Sentinel node biopsy",
            date(2026, 11, 2),
            date(2026, 11, 2),
            "Dr. Marcus Bell",
            "1 of 2 nodes",
        ),
        TreatmentInfo("hormone-therapy", "Letrozole", date(2026, 11, 6)),
    )
    # Current ones only: the stopped ibuprofen stays in the binder, out of the summary.
    assert health.medications == (
        MedicationInfo("Lisinopril", "10 mg", "daily", "prescription"),
        MedicationInfo("Vitamin D3", kind="supplement", reason="bones"),
    )
    assert health.no_medications_on is None
    assert health.allergies == (
        AllergyInfo("Penicillin", "hives", "severe", "medication"),
        AllergyInfo("Adhesive tape", "rash"),
    )
    assert health.conditions == (
        ConditionInfo("Diabetes", date(2018, 5, 1)),
        ConditionInfo("Hypothyroidism"),
    )


def test_none_known_and_not_recorded_are_kept_apart(
    session: Session, store: Store, patient: Patient, appointment: Appointment
) -> None:
    health = gather(session, store, appointment).health
    assert (health.medications, health.no_medications_on) == ((), None)
    assert (health.allergies, health.no_allergies_on) == ((), None)
    medications.state_none(session, patient, on=date(2026, 11, 2))
    allergies.state_none(session, patient, on=date(2026, 11, 3))
    health = gather(session, store, appointment).health
    assert (health.medications, health.no_medications_on) == ((), date(2026, 11, 2))
    assert (health.allergies, health.no_allergies_on) == ((), date(2026, 11, 3))


def test_another_patients_facts_stay_out(
    session: Session,
    store: Store,
    patient: Patient,
    other_patient: Patient,
    appointment: Appointment,
) -> None:
    medications.add_medication(session, other_patient.id, name="Warfarin")
    allergies.add_allergy(session, other_patient.id, substance="Latex")
    conditions.add_condition(session, other_patient.id, name="Asthma")
    results.add_result(session, other_patient.id, name="PSA", value="4.1")
    treatments.add_treatment(
        session, other_patient.id, kind=TreatmentKind.RADIATION, name="Prostate"
    )
    health = gather(session, store, appointment).health
    assert (
        health.medications,
        health.allergies,
        health.conditions,
        health.markers,
        health.treatments,
    ) == ((), (), (), (), ())
