"""The JSON export and its tables: complete, valid against the shipped schema, and safe
to open in a spreadsheet."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import jsonschema
import pytest
from sqlalchemy.orm import Session

from carebinder import __version__
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
from carebinder.interop import tabular
from carebinder.interop.tabular import export_document, schema, spreadsheet_safe
from carebinder.models import Patient
from carebinder.services import allergies, doctors, medications, patients
from tests.interop.conftest import FORMULA_NOTE, FORMULA_VALUE, NEGATIVE_VALUE, PHONE

NOW = datetime(2026, 11, 24, 15, 4, 5, tzinfo=UTC)


def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema())
    return jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture
def document(session: Session, rich: Patient) -> dict[str, Any]:
    return export_document(session, [rich], now=NOW)


# --- the document and its schema ---------------------------------------------------------------


def test_the_header_says_what_the_document_is(document: dict[str, Any]) -> None:
    assert document["format"] == "carebinder-export"
    assert document["version"] == 1
    assert document["exported_at"] == "2026-11-24T15:04:05+00:00"
    assert document["carebinder_version"] == __version__
    assert [b["patient"]["name"] for b in document["binders"]] == ["Ana Souza"]


def test_a_real_export_validates_against_the_shipped_schema(document: dict[str, Any]) -> None:
    validator().validate(document)
    # Through JSON text too: what a reader of the file gets.
    validator().validate(json.loads(tabular.json_bytes(document)))


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["binders"][0]["doctors"][0].pop("npi"), "npi"),
        (lambda d: d["binders"][0]["records"][0]["files"][0].update(bytes="JVBERi0"), "bytes"),
        (lambda d: d["binders"][0]["appointments"][0].update(status="postponed"), "postponed"),
        (lambda d: d["binders"][0]["materials"][0].update(sent_on="21/11/2026"), "21/11/2026"),
        (lambda d: d["binders"][0]["records"][0]["files"][0].update(sha256="ABC"), "ABC"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["binders"][0]["opinions"][-1].update(ecog=7), "7"),
        (lambda d: d["binders"][0]["opinions"][-1].update(t="pT2"), "pT2"),
        (lambda d: d["binders"][0]["medications"][0].update(kind="elixir"), "elixir"),
        (lambda d: d["binders"][0]["allergies"][0].update(severity="apocalyptic"), "apocalyptic"),
        (lambda d: d["binders"][0]["results"][0].update(value=""), "value"),
        (lambda d: d["binders"][0]["patient"].pop("no_allergies_on"), "no_allergies_on"),
        (lambda d: d["binders"][0].pop("results"), "results"),
    ],
)
def test_the_schema_is_strict(document: dict[str, Any], change: Any, where: str) -> None:
    """Every field is documented: a missing, unknown or malformed one fails validation."""
    broken = copy.deepcopy(document)
    change(broken)
    errors = list(validator().iter_errors(broken))
    assert errors
    assert any(where in (e.message + str(list(e.path))) for e in errors), errors


@pytest.mark.parametrize(
    ("definition", "field", "choices"),
    [
        ("doctor", "role", [*DoctorRole, None]),
        ("record", "kind", list(RecordKind)),
        ("appointment", "purpose", list(Purpose)),
        ("appointment", "status", list(AppointmentStatus)),
        ("appointment", "coverage", list(Coverage)),
        ("material", "kind", list(MaterialKind)),
        ("material", "status", list(MaterialStatus)),
        ("medication", "kind", list(MedicationKind)),
        ("allergy", "severity", [*Severity, None]),
        ("allergy", "kind", [*AllergyKind, None]),
        ("treatment", "kind", list(TreatmentKind)),
        ("result", "interpretation", [*Interpretation, None]),
        ("opinion", "laterality", [*Laterality, None]),
        ("opinion", "staging", [*StagingBasis, None]),
    ],
)
def test_the_schemas_vocabularies_are_the_binders(
    definition: str, field: str, choices: list[Any]
) -> None:
    allowed = schema()["$defs"][definition]["properties"][field]["enum"]
    assert allowed == [None if c is None else c.value for c in choices]


# --- every fact of the binder ------------------------------------------------------------------

# Columns the export leaves out, and why.
NOT_EXPORTED = {
    "patient_id",  # a binder is one patient's: its rows are inside it
    "created_at",  # bookkeeping of the database, not facts of the case
    "updated_at",
    "text",  # the words of a PDF, read from the bytes, which the export leaves out too
}
# Columns whose JSON name differs: (table, column) -> path in the JSON object.
RENAMED = {
    ("patient", "insurer"): ("insurance", "payer"),
    ("patient", "plan"): ("insurance", "plan"),
    ("patient", "member_id"): ("insurance", "member_id"),
    ("patient", "insurer_phone"): ("insurance", "phone"),
    ("doctor", "referred_by_id"): ("referred_by",),
    ("record", "doctor_id"): ("doctor",),
    ("file", "original_name"): ("name",),
    ("opinion", "doctor_id"): ("doctor",),
    ("appointment", "doctor_id"): ("doctor",),
    ("appointment", "starts_at"): ("start",),
    ("question", "appointment_id"): ("appointment",),
    ("question", "answered_by_id"): ("answered_by",),
    ("opinion", "t_category"): ("t",),
    ("opinion", "n_category"): ("n",),
    ("opinion", "m_category"): ("m",),
    ("medication", "prescriber_id"): ("prescriber",),
    ("treatment", "doctor_id"): ("doctor",),
    ("result", "taken_on"): ("date",),
    ("result", "record_id"): ("record",),
}
LISTS = {"patient": None, "doctor": "doctors", "record": "records", "opinion": "opinions"}
LISTS |= {"appointment": "appointments", "question": "questions", "material": "materials"}
LISTS |= {"medication": "medications", "allergy": "allergies", "condition": "conditions"}
LISTS |= {"treatment": "treatments", "result": "results"}
# Columns no one binder fills: a list and "none known" exclude each other (the rich binder
# has the lists; test_none_known_is_kept_apart_from_not_recorded has the statements).
EMPTY_IN_RICH = {("patient", "no_medications_on"), ("patient", "no_allergies_on")}


def rows(session: Session, table: str) -> list[dict[str, Any]]:
    """The table's rows as SQLite holds them (no model, no conversion)."""
    result = session.connection().exec_driver_sql(f"SELECT * FROM {table}")
    return [dict(row._mapping) for row in result]


def same(column: str, stored: Any, exported: Any) -> bool:
    if column == "starts_at":
        moment = datetime.fromisoformat(exported).astimezone(UTC)
        if isinstance(stored, str):  # SQLite: naive UTC text; PostgreSQL: an aware datetime
            stored = datetime.fromisoformat(stored).replace(tzinfo=UTC)
        return bool(moment == stored)
    if isinstance(stored, date):  # PostgreSQL hands back a date where SQLite gives text
        stored = stored.isoformat()
    if isinstance(exported, bool):
        return bool(stored) == exported
    return bool(stored == exported)


def test_the_export_holds_every_fact_of_the_binder(
    session: Session, document: dict[str, Any]
) -> None:
    """Every column of every row, read straight from SQLite, is in the export (a column
    added to the binder later fails here until it is exported or listed as left out)."""
    (binder,) = document["binders"]
    objects: dict[str, dict[int, dict[str, Any]]] = {
        table: {o["id"]: o for o in ([binder["patient"]] if key is None else binder[key])}
        for table, key in LISTS.items()
    }
    objects["file"] = {f["id"]: f for r in binder["records"] for f in r["files"]}
    filled: set[tuple[str, str]] = set()
    for table in objects:
        stored_rows = rows(session, table)
        assert sorted(r["id"] for r in stored_rows) == sorted(objects[table]), table
        for row in stored_rows:
            exported = objects[table][row["id"]]
            for column, stored in row.items():
                if column in NOT_EXPORTED:
                    continue
                if table == "file" and column == "record_id":
                    owner = [r for r in binder["records"] if exported in r["files"]]
                    assert [r["id"] for r in owner] == [stored]
                    continue
                value: Any = exported
                for step in RENAMED.get((table, column), (column,)):
                    value = value[step]
                assert same(column, stored, value), (table, row["id"], column, stored, value)
                if stored is not None:
                    filled.add((table, column))
    for link, owner in (("opinion_record", "opinion"), ("appointment_record", "appointment")):
        stored_pairs = {(r[f"{owner}_id"], r["record_id"]) for r in rows(session, link)}
        exported_pairs = {(o["id"], rid) for o in objects[owner].values() for rid in o["records"]}
        assert stored_pairs == exported_pairs != set(), link
    # The rich binder leaves no column empty everywhere, so each comparison above was real.
    every = {
        (table, column)
        for table in objects
        for column in rows(session, table)[0]
        if column not in NOT_EXPORTED and (table, column) != ("file", "record_id")
    }
    assert every - filled == EMPTY_IN_RICH


def test_each_binder_holds_only_its_patients_things(
    session: Session, rich: Patient, other_patient: Patient
) -> None:
    doctors.add_doctor(session, other_patient.id, name="Dr. Ada Park")
    medications.add_medication(session, other_patient.id, name="Metformin")
    one = export_document(session, [rich], now=NOW)
    both = export_document(session, patients.list_patients(session), now=NOW)
    validator().validate(both)
    assert [b["patient"]["name"] for b in both["binders"]] == ["Ana Souza", "Øyvind Nguyễn"]
    assert both["binders"][0] == one["binders"][0]
    other = both["binders"][1]
    assert [d["name"] for d in other["doctors"]] == ["Dr. Ada Park"]
    assert other["records"] == other["appointments"] == other["materials"] == []
    assert [m["name"] for m in other["medications"]] == ["Metformin"]
    assert other["allergies"] == other["results"] == other["treatments"] == []
    assert "Dr. Ada Park" not in json.dumps(one)
    assert "Metformin" not in json.dumps(one)


def test_none_known_is_kept_apart_from_not_recorded(
    session: Session, patient: Patient, other_patient: Patient
) -> None:
    """ "Takes no medications" and "no known allergies" travel with the day they were
    stated; a patient nobody asked has null, and empty lists, in both forms."""
    medications.state_none(session, patient, on=date(2026, 11, 20))
    allergies.state_none(session, patient, on=date(2026, 11, 21))
    session.commit()
    document = export_document(session, [patient, other_patient], now=NOW)
    validator().validate(document)
    stated, unasked = (b["patient"] for b in document["binders"])
    assert (stated["no_medications_on"], stated["no_allergies_on"]) == ("2026-11-20", "2026-11-21")
    assert (unasked["no_medications_on"], unasked["no_allergies_on"]) == (None, None)
    assert all(b["medications"] == b["allergies"] == [] for b in document["binders"])
    rows = read_csv(tabular.csv_files(document)["patients.csv"])
    assert [(r["no_medications_on"], r["no_allergies_on"]) for r in rows] == [
        ("2026-11-20", "2026-11-21"),
        ("", ""),
    ]
    # An allergy added ends the statement: the export then has the list, and no day.
    allergies.add_allergy(session, patient.id, substance="Latex")
    session.commit()
    (binder,) = export_document(session, [patient], now=NOW)["binders"]
    assert binder["patient"]["no_allergies_on"] is None
    assert [a["substance"] for a in binder["allergies"]] == ["Latex"]
    assert binder["patient"]["no_medications_on"] == "2026-11-20"


# --- tables ------------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_tables_hold_what_the_document_holds(document: dict[str, Any]) -> None:
    files = tabular.csv_files(document)
    assert list(files) == [name for name, *_ in tabular.TABLES]
    (binder,) = document["binders"]
    tables = {name: read_csv(data) for name, data in files.items()}
    for noun in ("doctors", "records", "opinions", "appointments", "questions", "materials"):
        assert [int(r["id"]) for r in tables[f"{noun}.csv"]] == [o["id"] for o in binder[noun]]
        assert {r["patient_id"] for r in tables[f"{noun}.csv"]} == {"1"}
    (patient,) = tables["patients.csv"]
    assert patient["insurance_member_id"] == "BHH-22871934"
    assert patient["address"] == "12 Harbor St, Apt 3\nSalem, MA 01970"  # kept in one cell
    assert patient["born"] == "1964-04-12"
    files_rows = tables["files.csv"]
    assert len(files_rows) == sum(len(r["files"]) for r in binder["records"]) == 7
    assert [r["has_text"] for r in files_rows[:2]] == ["true", "false"]
    assert files_rows[2]["has_text"] == ""
    broken = next(r for r in files_rows if r["name"] == "broken.pdf")
    assert broken["unreadable"]
    assert broken["record_id"] == str(next(r["id"] for r in binder["records"] if r["notes"]))
    pairs = [(int(r["opinion_id"]), int(r["record_id"])) for r in tables["opinion_records.csv"]]
    assert pairs == [(o["id"], rid) for o in binder["opinions"] for rid in o["records"]]
    visit = tables["appointments.csv"][1]
    assert visit["start"] == binder["appointments"][1]["start"]
    assert visit["staff_told"] == "true"
    assert "records" not in visit


def test_csv_tables_hold_the_health_facts(document: dict[str, Any]) -> None:
    (binder,) = document["binders"]
    tables = {name: read_csv(data) for name, data in tabular.csv_files(document).items()}
    for noun in ("medications", "allergies", "conditions", "treatments", "results"):
        assert [int(r["id"]) for r in tables[f"{noun}.csv"]] == [o["id"] for o in binder[noun]]
        assert {r["patient_id"] for r in tables[f"{noun}.csv"]} == {"1"}
    meds = {r["name"]: r for r in tables["medications.csv"]}
    gp = binder["doctors"][0]
    assert meds["Letrozole"] | {"id": ""} == {
        "patient_id": "1",
        "id": "",
        "name": "Letrozole",
        "dose": "2.5 mg",
        "how": "by mouth, once a day",
        "kind": "prescription",
        "started": "2026-11-02",
        "stopped": "",
        "current": "true",
        "reason": "Neoadjuvant endocrine therapy",
        "prescriber": str(gp["id"]),
        "prescriber_name": gp["name"],
        "notes": "Take with food.",
    }
    assert (meds["Vitamin D3"]["current"], meds["Vitamin D3"]["stopped"]) == ("false", "2026-10-01")
    assert meds["Vitamin D3"]["kind"] == "supplement"
    # The demo's own facts are there too: these are the ones added above.
    (allergy,) = [a for a in tables["allergies.csv"] if a["substance"] == "Sulfonamides"]
    assert (allergy["substance"], allergy["severity"], allergy["kind"]) == (
        "Sulfonamides",
        "severe",
        "medication",
    )
    (treatment,) = [t for t in tables["treatments.csv"] if t["name"] == "Core needle biopsy"]
    assert (treatment["kind"], treatment["started"], treatment["doctor_name"]) == (
        "surgery",
        "2026-10-14",
        binder["doctors"][1]["name"],
    )
    (hypertension,) = [c for c in tables["conditions.csv"] if c["name"] == "Hypertension"]
    assert hypertension["since"] == "2015-06-01"
    # A marker's values in date order (its trend), with the record they came from.
    lab = next(r["id"] for r in binder["records"] if r["notes"])
    trend = [r for r in tables["results.csv"] if r["name"] == "CEA"]
    assert [(r["date"], r["value"], r["unit"], r["record"]) for r in trend] == [
        ("2026-10-01", "45", "ng/mL", str(lab)),
        ("2026-11-01", "38", "ng/mL", str(lab)),
    ]
    # A value that is a number stays one; one a spreadsheet would run becomes text.
    values = {r["name"]: r for r in tables["results.csv"]}
    assert values["PD-L1"]["value"] == NEGATIVE_VALUE
    assert values["PD-L1"]["notes"] == values["MSI"]["value"] == "'" + FORMULA_VALUE
    # The structured cancer facts of the newest opinion, beside the free text.
    newest = tables["opinions.csv"][-1]
    assert {k: newest[k] for k in ("site", "laterality", "t", "n", "m", "staging", "tnm")} == {
        "site": "Breast, upper outer quadrant",
        "laterality": "left",
        "t": "T2",
        "n": "N1a",
        "m": "M0",
        "staging": "pathologic",
        "tnm": "pT2 pN1a cM0",
    }
    assert (newest["ajcc_edition"], newest["ecog"], newest["grade"]) == ("8", "0", "G2")
    first = binder["opinions"][0]  # the demo's own cancer facts, as the JSON export has them
    assert (tables["opinions.csv"][0]["tnm"], tables["opinions.csv"][0]["ecog"]) == (
        first["tnm"],
        str(first["ecog"]),
    )


def test_every_column_is_a_schema_field() -> None:
    doctor = tabular._columns("doctor")
    assert doctor == tuple(schema()["$defs"]["doctor"]["properties"])
    assert tabular._columns("patient")[-6:] == (
        "insurance_payer",
        "insurance_plan",
        "insurance_member_id",
        "insurance_phone",
        "no_medications_on",
        "no_allergies_on",
    )
    assert "files" not in tabular._columns("record")
    assert "records" not in tabular._columns("opinion")


def test_empty_tables_still_have_their_header(session: Session, patient: Patient) -> None:
    session.commit()
    files = tabular.csv_files(export_document(session, [patient], now=NOW))
    assert read_csv(files["patients.csv"])[0]["name"] == "Ana Souza"
    text = files["opinions.csv"].decode("utf-8-sig")
    assert text == (
        "patient_id,id,doctor,doctor_name,date,diagnosis,stage,plan,notes,site,laterality,"
        "histology,grade,t,n,m,staging,tnm,ajcc_edition,ecog\r\n"
    )
    for name in ("medications", "allergies", "conditions", "treatments", "results"):
        assert read_csv(files[f"{name}.csv"]) == []
    assert files["results.csv"].decode("utf-8-sig") == (
        "patient_id,id,name,value,unit,date,interpretation,record,notes\r\n"
    )


# --- formulas ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (FORMULA_NOTE, "'" + FORMULA_NOTE),
        ("=1+1", "'=1+1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-1 kg", "'-1 kg"),
        # Numbers and phone numbers stay as typed: nothing in them can call anything.
        (PHONE, PHONE),
        ("+44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
        ("-12.5", "-12.5"),
        ("-1,234.50", "-1,234.50"),
        ("(617) 555-0120", "(617) 555-0120"),
        ("Invasive ductal carcinoma, ER+/PR+/HER2-", "Invasive ductal carcinoma, ER+/PR+/HER2-"),
        ("", ""),
    ],
)
def test_spreadsheet_formulas_are_neutralised(value: str, written: str) -> None:
    assert spreadsheet_safe(value) == written


def test_formulas_in_the_binder_reach_the_csv_as_text(document: dict[str, Any]) -> None:
    tables = {name: read_csv(data) for name, data in tabular.csv_files(document).items()}
    lab = next(r for r in tables["records.csv"] if r["kind"] == "lab")
    assert lab["notes"] == "'" + FORMULA_NOTE
    gp = tables["doctors.csv"][0]
    assert gp["phone"] == PHONE
    question = tables["questions.csv"][-1]
    assert question["text"] == "'@SUM(1+1) is not a formula here?"
    assert question["answer"] == "'-12.5 is a number."
    visit = next(r for r in tables["appointments.csv"] if r["notes"].startswith("Parking"))
    assert visit["notes"] == "Parking: garage B.\n-2 floor."  # starts with P: untouched
    # Ids and other numbers are numbers, never prefixed.
    assert all(not r["id"].startswith("'") for t in tables.values() for r in t if "id" in r)


def test_cells_are_plain_text() -> None:
    assert tabular.cell(None) == ""
    assert tabular.cell(True) == "true"
    assert tabular.cell(0) == "0"
    assert tabular.cell(date(2026, 1, 2)) == "2026-01-02"
