"""Backup, restore and verify know the health facts without a list of tables to keep up:
the backup copies the whole database, restore brings back every medication, allergy,
condition, treatment, result and structured opinion fact (the search index too), and
verify's checks cover the new tables as they cover the old."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carebinder import config, verify
from carebinder.backup.create import create_backup
from carebinder.backup.restore import restore_backup
from carebinder.choices import (
    AllergyKind,
    Interpretation,
    Laterality,
    MedicationKind,
    RecordKind,
    Severity,
    StagingBasis,
    TreatmentKind,
)
from carebinder.db import open_binder, session_scope
from carebinder.interop.tabular import export_document
from carebinder.services import (
    allergies,
    conditions,
    doctors,
    medications,
    opinions,
    patients,
    records,
    results,
    search,
    treatments,
)
from carebinder.store import Store
from tests.backup.kit import MODES, elsewhere
from tests.conftest import FILE_BACKUP

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)


def fill(s: Session, settings: config.Settings) -> None:
    """Ana with every kind of health fact; Bob who takes no medications and has no known
    allergies (the statements, with their days, must survive too)."""
    ana = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
    chen = doctors.add_doctor(s, ana.id, name="Dr. Wei Chen")
    lab = records.add_record(s, Store(settings.store_dir), ana.id, kind=RecordKind.LAB, title="CBC")
    medications.add_medication(
        s, ana.id, name="Letrozole", dose="2.5 mg", prescriber=chen.id, started=date(2026, 1, 5)
    )
    medications.add_medication(
        s,
        ana.id,
        name="Vitamin D3",
        kind=MedicationKind.SUPPLEMENT,
        started=date(2024, 1, 1),
        stopped=date(2025, 1, 1),
    )
    allergies.add_allergy(
        s, ana.id, substance="Penicillin", severity=Severity.SEVERE, kind=AllergyKind.MEDICATION
    )
    conditions.add_condition(s, ana.id, name="Hypertension", since=date(2015, 6, 1))
    treatments.add_treatment(
        s, ana.id, kind=TreatmentKind.SURGERY, name="Lumpectomy", doctor=chen.id
    )
    for value, on in (("45", date(2026, 1, 2)), ("38", date(2026, 3, 2))):
        results.add_result(
            s,
            ana.id,
            name="CA 15-3",
            value=value,
            unit="U/mL",
            on=on,
            record=lab.id,
            interpretation=Interpretation.HIGH,
        )
    opinions.add_opinion(
        s,
        ana.id,
        doctor=chen.id,
        diagnosis="Invasive ductal carcinoma",
        site="Breast",
        laterality=Laterality.LEFT,
        t="pT2",
        n="N1a",
        m="M0",
        staging=StagingBasis.PATHOLOGIC,
        ajcc_edition=8,
        ecog=1,
    )
    bob = patients.add_patient(s, name="Bob Lee", born=date(1950, 1, 2))
    medications.state_none(s, bob, on=date(2026, 2, 1))
    allergies.state_none(s, bob, on=date(2026, 2, 2))


def everything(settings: config.Settings) -> dict[str, Any]:
    """Every patient's binder as the JSON export has it, and what search finds of it."""
    engine = open_binder(settings)
    try:
        with session_scope(engine) as s:
            document = export_document(s, patients.list_patients(s))
            found = {
                query: [(str(h.kind), h.title) for h in search.search(s, 1, query).hits]
                for query in ("letrozole", "penicillin", "15-3", "lumpectomy", "hypertension")
            }
            return {"binders": document["binders"], "found": found}
    finally:
        engine.dispose()


@MODES
def test_a_restored_binder_has_every_health_fact(
    settings: config.Settings, tmp_path: Path, password: str | None
) -> None:
    engine = open_binder(settings, create=True)
    try:
        with session_scope(engine) as s:
            fill(s, settings)
    finally:
        engine.dispose()
    before = everything(settings)
    archive = tmp_path / "binder.backup"
    create_backup(settings, archive, password=password)

    target = elsewhere(tmp_path)
    restore_backup(target, archive, password=password)
    after = everything(target)
    assert after == before
    ana, bob = after["binders"]
    assert [m["name"] for m in ana["medications"]] == ["Letrozole", "Vitamin D3"]
    assert [m["current"] for m in ana["medications"]] == [True, False]
    assert [(r["value"], r["date"]) for r in ana["results"]] == [
        ("45", "2026-01-02"),
        ("38", "2026-03-02"),
    ]
    assert ana["opinions"][0]["tnm"] == "pT2 pN1a cM0"
    assert (bob["patient"]["no_medications_on"], bob["patient"]["no_allergies_on"]) == (
        "2026-02-01",
        "2026-02-02",
    )
    assert after["found"]["letrozole"] == [("medication", "Medication: Letrozole 2.5 mg")]
    assert sorted(after["found"]["15-3"]) == [
        ("result", "Result: CA 15-3 38 U/mL, 2026-03-02"),
        ("result", "Result: CA 15-3 45 U/mL, 2026-01-02"),
    ]
    engine = open_binder(target)
    try:
        assert verify.check(engine, target, min_age=0).problems == ()
    finally:
        engine.dispose()


def test_verify_checks_the_new_tables_as_it_checks_the_old(
    settings: config.Settings,
) -> None:
    """A medication whose prescriber is gone (written with the database's checks off, as a
    damaged or hand-edited binder could be) is a foreign key violation verify names."""
    engine = open_binder(settings, create=True)
    try:
        with session_scope(engine) as s:
            fill(s, settings)
        assert verify.check(engine, settings, min_age=0).problems == ()
    finally:
        engine.dispose()
    path = settings.sqlite_path
    assert path is not None
    raw = sqlite3.connect(path)
    try:
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute("UPDATE medication SET prescriber_id = 99 WHERE name = 'Letrozole'")
        raw.execute("UPDATE result SET record_id = 77")
        raw.commit()
    finally:
        raw.close()
    engine = open_binder(settings)
    try:
        problems = verify.check(engine, settings, min_age=0).problems
    finally:
        engine.dispose()
    assert sorted((p.kind, p.table) for p in problems) == [
        ("foreign_key_violation", "medication"),
        ("foreign_key_violation", "result"),
        ("foreign_key_violation", "result"),
    ]
    medication = next(p for p in problems if p.table == "medication")
    assert medication.message.startswith(
        f"Row #{medication.row} of the medication table refers to a doctor that does not exist."
    )
