"""`carebinder export --format json|csv|fhir`."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from carebinder import config
from carebinder.choices import Severity, TreatmentKind
from carebinder.db import open_binder, session_scope
from carebinder.interop.tabular import TABLES, schema
from carebinder.services import (
    allergies,
    conditions,
    medications,
    opinions,
    results,
    treatments,
)
from carebinder.store import Store
from tests.blobdamage import WAYS, damage
from tests.cli.cliutil import as_json, assert_refused, forget_chosen_patient, no_traceback
from tests.conftest import Cli, mode

TABLE_NAMES = [name for name, *_ in TABLES]
NOUNS = ("doctor", "record", "opinion", "appointment", "question", "material")


@pytest.fixture
def full(binder: Cli, make_pdf: Callable[..., Path], settings: config.Settings) -> Cli:
    """One of everything for Ana Souza (#1), with text a spreadsheet would run."""
    binder.ok("patient", "edit", "1", "--phone", "+1 617 555 0100", "--address", "1 Elm St\nSalem")
    binder.ok("doctor", "add", "Dr. Wei Chen", "--notes", '=HYPERLINK("http://x")')
    binder.ok("doctor", "add", "Dr. Ada Park", "--referred-by", "1")
    binder.ok("record", "add", "pathology", "Core biopsy", "--file", str(make_pdf()))
    binder.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--record", "1")
    binder.ok("appointment", "add", "--doctor", "2", "--at", "2026-12-03 09:30", "--tz", "UTC")
    binder.ok("appointment", "bring", "1", "1")
    binder.ok("question", "add", "Is surgery first?", "--appointment", "1")
    binder.ok("material", "add", "glass-slides", "H&E slides", "--status", "requested")
    add_health_facts(settings)
    return binder


def add_health_facts(settings: config.Settings) -> None:
    """A medication Dr. Chen prescribed, an allergy, a condition, a treatment, a result from
    the biopsy record, and the opinion's structured cancer facts."""
    engine = open_binder(settings)
    try:
        with session_scope(engine) as s:
            medications.add_medication(s, 1, name="Letrozole", dose="2.5 mg", prescriber=1)
            allergies.add_allergy(s, 1, substance="Penicillin", severity=Severity.SEVERE)
            conditions.add_condition(s, 1, name="Hypertension", since=date(2015, 6, 1))
            treatments.add_treatment(s, 1, kind=TreatmentKind.SURGERY, name="Lumpectomy")
            results.add_result(s, 1, name="Ki-67", value="20", unit="%", record=1)
            opinion = opinions.get_opinion(s, 1, 1)
            opinions.edit_opinion(s, opinion, t="cT2", n="N0", m="M0", grade="2", ecog=1)
    finally:
        engine.dispose()


def validate(document: Any) -> None:
    jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(document)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- json --------------------------------------------------------------------------------------


def test_json_to_a_file(full: Cli, tmp_path: Path) -> None:
    target = tmp_path / "ana.json"
    result = full.ok("export", "-o", str(target))
    assert result.stdout == f"{target}\n"
    assert result.stderr == (
        "Exported 1 patient's binder: 2 doctors, 1 record (1 file), 1 opinion,"
        " 1 appointment, 1 question, 1 material, 1 medication, 1 allergy, 1 condition,"
        " 1 treatment, 1 result.\n"
    )
    assert mode(target) == 0o600
    document = json.loads(target.read_text(encoding="utf-8"))
    validate(document)
    assert document["format"] == "carebinder-export"
    assert document["version"] == 1
    assert leftovers(tmp_path) == []


def test_json_reads_back_with_the_health_facts(full: Cli, tmp_path: Path) -> None:
    target = tmp_path / "ana.json"
    full.ok("export", "-o", str(target))
    (binder,) = json.loads(target.read_text(encoding="utf-8"))["binders"]
    (medication,) = binder["medications"]
    assert (medication["name"], medication["dose"], medication["prescriber_name"]) == (
        "Letrozole",
        "2.5 mg",
        "Dr. Wei Chen",
    )
    assert [(a["substance"], a["severity"]) for a in binder["allergies"]] == [
        ("Penicillin", "severe")
    ]
    assert [(c["name"], c["since"]) for c in binder["conditions"]] == [
        ("Hypertension", "2015-06-01")
    ]
    assert [(t["kind"], t["name"]) for t in binder["treatments"]] == [("surgery", "Lumpectomy")]
    assert [(r["name"], r["value"], r["unit"], r["record"]) for r in binder["results"]] == [
        ("Ki-67", "20", "%", 1)
    ]
    (opinion,) = binder["opinions"]
    assert {k: opinion[k] for k in ("t", "n", "m", "staging", "tnm", "grade", "ecog")} == {
        "t": "T2",
        "n": "N0",
        "m": "M0",
        "staging": "clinical",
        "tnm": "cT2 cN0 cM0",
        "grade": "2",
        "ecog": 1,
    }
    assert binder["patient"]["no_medications_on"] is None


def test_json_agrees_with_the_json_of_every_list_and_show(full: Cli, tmp_path: Path) -> None:
    document = as_json(full.ok("export", "-o", "-"))
    (binder,) = document["binders"]
    assert binder["patient"] == as_json(full.ok("patient", "show", "1", "--json"))
    for noun in NOUNS:
        assert binder[f"{noun}s"] == as_json(full.ok(noun, "list", "--json")), noun
    # The health facts: every medication (stopped ones too), and the other lists whole.
    assert binder["medications"] == as_json(full.ok("medication", "list", "--all", "--json"))
    for noun, key in (
        ("allergy", "allergies"),
        ("condition", "conditions"),
        ("treatment", "treatments"),
        ("result", "results"),
    ):
        assert binder[key] == as_json(full.ok(noun, "list", "--json")), noun
    (record,) = binder["records"]
    assert record == as_json(full.ok("record", "show", "1", "--json"))
    park = next(d for d in binder["doctors"] if d["name"] == "Dr. Ada Park")
    assert park["referred_by"] == 1
    assert binder["appointments"][0]["records"] == [1]
    assert binder["opinions"][0]["records"] == [1]
    assert record["files"][0]["page_count"] == 1
    assert len(record["files"][0]["sha256"]) == 64


def test_json_on_standard_output_is_the_document_alone(full: Cli) -> None:
    result = full.ok("export", "--format", "json", "-o", "-")
    assert result.stderr == ""
    validate(json.loads(result.stdout))


def test_an_existing_file_is_replaced_only_with_force(full: Cli, tmp_path: Path) -> None:
    target = tmp_path / "ana.json"
    target.write_text("my notes")
    assert_refused(full("export", "-o", str(target)), 1, "already exists", "--force")
    assert target.read_text() == "my notes"
    full.ok("export", "-o", str(target), "--force")
    validate(json.loads(target.read_text(encoding="utf-8")))
    assert mode(target) == 0o600
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["json", "fhir"])
def test_a_fifo_is_refused_without_blocking(full: Cli, tmp_path: Path, fmt: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = full("export", "--format", fmt, "-o", str(fifo), "--force")
    assert_refused(result, 1, "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize(
    ("where", "needle"),
    [
        ("folder", "is a folder"),
        ("missing", "does not exist"),
        ("dangling", "leads nowhere"),
        ("/dev/null", "not a regular file"),
    ],
)
def test_bad_places_for_the_file_are_refused(
    full: Cli, tmp_path: Path, where: str, needle: str
) -> None:
    places = {
        "folder": tmp_path,
        "missing": tmp_path / "no" / "ana.json",
        "dangling": tmp_path / "link.json",
        "/dev/null": Path("/dev/null"),
    }
    (tmp_path / "link.json").symlink_to(tmp_path / "nowhere")
    assert_refused(full("export", "-o", str(places[where])), 1, "--out", needle)
    assert not (tmp_path / "no").exists()
    assert not (tmp_path / "nowhere").exists()


def test_the_output_is_required(full: Cli) -> None:
    result = full("export")
    assert result.exit_code == 2
    assert "--out" in result.stderr


def test_an_unknown_format_is_a_usage_error(full: Cli, tmp_path: Path) -> None:
    result = full("export", "--format", "xml", "-o", str(tmp_path / "a.xml"))
    assert result.exit_code == 2
    assert "xml" in result.stderr
    assert not (tmp_path / "a.xml").exists()


# --- fhir, --no-data ---------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [(), ("--no-data",)])
def test_fhir_writes_a_bundle(full: Cli, tmp_path: Path, extra: tuple[str, ...]) -> None:
    target = tmp_path / "ana.fhir.json"
    result = full("export", "--format", "fhir", "-o", str(target), *extra)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(target)
    assert "Exported a FHIR R4 Bundle" in result.stderr
    bundle = json.loads(target.read_text(encoding="utf-8"))
    attachments = [
        content["attachment"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "DocumentReference"
        for content in entry["resource"]["content"]
        if "hash" in content["attachment"]
    ]
    assert attachments
    assert all(("data" in a) is (not extra) for a in attachments)
    assert target.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_no_data_belongs_to_fhir(full: Cli, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "out"
    result = full("export", "--format", fmt, "-o", str(target), "--no-data")
    assert_refused(result, 1, "--no-data", "fhir")
    assert not target.exists()


# --- patients ----------------------------------------------------------------------------------


@pytest.fixture
def two(full: Cli) -> Cli:
    full.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    full.ok("--patient", "2", "doctor", "add", "Dr. Bob's Doctor")
    return full


def test_several_patients_need_a_choice(two: Cli, tmp_path: Path) -> None:
    forget_chosen_patient()
    target = tmp_path / "x.json"
    assert_refused(two("export", "-o", str(target)), 1, "several patients", "--patient")
    assert not target.exists()
    document = as_json(two.ok("--patient", "2", "export", "-o", "-"))
    (binder,) = document["binders"]
    assert binder["patient"]["name"] == "Bob Lee"
    assert [d["name"] for d in binder["doctors"]] == ["Dr. Bob's Doctor"]


def test_all_patients_in_one_document(two: Cli, tmp_path: Path) -> None:
    target = tmp_path / "all.json"
    result = two.ok("export", "--all-patients", "-o", str(target))
    assert result.stderr.startswith("Exported 2 patients' binders: 3 doctors,")
    document = json.loads(target.read_text(encoding="utf-8"))
    validate(document)
    assert [b["patient"]["name"] for b in document["binders"]] == ["Ana Souza", "Bob Lee"]
    ana = as_json(two.ok("--patient", "1", "export", "-o", "-"))["binders"][0]
    assert document["binders"][0] == ana


def test_fhir_of_all_patients_is_one_bundle_holding_each(two: Cli, tmp_path: Path) -> None:
    target = tmp_path / "all.fhir.json"
    two.ok("export", "--format", "fhir", "--all-patients", "-o", str(target))
    bundle = json.loads(target.read_text(encoding="utf-8"))
    resources = [entry["resource"] for entry in bundle["entry"]]
    names = [r["name"][0]["text"] for r in resources if r["resourceType"] == "Patient"]
    assert names == ["Ana Souza", "Bob Lee"]
    ana = as_json(two.ok("--patient", "1", "export", "--format", "fhir", "-o", "-"))
    assert bundle["entry"][: len(ana["entry"])] == ana["entry"]


# --- csv ---------------------------------------------------------------------------------------


def read_tables(folder: Path) -> dict[str, list[dict[str, str]]]:
    tables = {}
    for name in TABLE_NAMES:
        data = (folder / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), name  # UTF-8 with a BOM, for Excel
        assert data[3:].decode("utf-8").count("\ufeff") == 0
        with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
            tables[name] = list(csv.DictReader(handle))
    return tables


def test_csv_writes_one_private_table_per_kind(full: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "tables"
    result = full.ok("export", "--format", "csv", "-o", str(folder))
    assert result.stdout == f"{folder}\n"
    assert result.stderr.endswith(", in 15 CSV tables.\n")
    assert mode(folder) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == sorted(TABLE_NAMES)
    assert all(mode(folder / name) == 0o600 for name in TABLE_NAMES)
    assert leftovers(tmp_path) == []
    tables = read_tables(folder)
    (patient,) = tables["patients.csv"]
    assert patient["name"] == "Ana Souza"
    assert patient["phone"] == "+1 617 555 0100"  # a phone number is kept as typed
    assert patient["address"] == "1 Elm St\nSalem"  # a line break stays inside its cell
    park, chen = tables["doctors.csv"]  # by name, as `doctor list`
    assert chen["notes"] == '\'=HYPERLINK("http://x")'  # never run as a formula
    assert park["referred_by"] == "1"
    assert [r["title"] for r in tables["records.csv"]] == ["Core biopsy"]
    (file,) = tables["files.csv"]
    assert file["record_id"] == "1"
    assert file["media_type"] == "application/pdf"
    assert tables["opinion_records.csv"] == [
        {"patient_id": "1", "opinion_id": "1", "record_id": "1"}
    ]
    assert tables["appointment_records.csv"] == [
        {"patient_id": "1", "appointment_id": "1", "record_id": "1"}
    ]
    (visit,) = tables["appointments.csv"]
    assert visit["start"] == "2026-12-03T09:30:00+00:00"
    assert visit["staff_told"] == "false"
    assert tables["questions.csv"][0]["appointment"] == "1"
    assert tables["materials.csv"][0]["status"] == "requested"
    (medication,) = tables["medications.csv"]
    assert (medication["name"], medication["dose"], medication["current"]) == (
        "Letrozole",
        "2.5 mg",
        "true",
    )
    assert (medication["prescriber"], medication["prescriber_name"]) == ("1", "Dr. Wei Chen")
    assert tables["allergies.csv"][0]["severity"] == "severe"
    assert tables["conditions.csv"][0]["since"] == "2015-06-01"
    assert tables["treatments.csv"][0]["kind"] == "surgery"
    (result_row,) = tables["results.csv"]
    assert (result_row["name"], result_row["value"], result_row["record"]) == ("Ki-67", "20", "1")
    (opinion,) = tables["opinions.csv"]
    assert (opinion["tnm"], opinion["staging"], opinion["ecog"]) == ("cT2 cN0 cM0", "clinical", "1")
    (patient_row,) = tables["patients.csv"]
    assert patient_row["no_medications_on"] == patient_row["no_allergies_on"] == ""


def test_csv_rows_are_crlf_with_quoted_line_breaks(full: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "tables"
    full.ok("export", "--format", "csv", "-o", str(folder))
    text = (folder / "patients.csv").read_bytes().decode("utf-8-sig")
    assert text.startswith("id,name,born,")
    assert text.endswith("\r\n")
    assert '"1 Elm St\nSalem"' in text  # the LF inside the quoted cell, CRLF between rows
    assert [row[0] for row in csv.reader(io.StringIO(text, newline=""))] == ["id", "1"]


def test_csv_into_an_empty_folder(full: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    full.ok("export", "--format", "csv", "-o", str(folder))
    assert sorted(p.name for p in folder.iterdir()) == sorted(TABLE_NAMES)


def test_csv_refuses_a_folder_with_files_unless_forced(full: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "budget.xlsx").write_bytes(b"mine")
    (folder / "patients.csv").write_bytes(b"old")
    result = full("export", "--format", "csv", "-o", str(folder))
    assert_refused(result, 1, "not empty", "--force")
    assert sorted(p.name for p in folder.iterdir()) == ["budget.xlsx", "patients.csv"]
    assert (folder / "patients.csv").read_bytes() == b"old"
    full.ok("export", "--format", "csv", "-o", str(folder), "--force")
    assert (folder / "budget.xlsx").read_bytes() == b"mine"  # not ours: left alone
    assert read_tables(folder)["patients.csv"][0]["name"] == "Ana Souza"
    assert leftovers(folder) == []


def test_csv_never_writes_into_a_fifo_inside_the_folder(full: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    os.mkfifo(folder / "doctors.csv")
    result = full("export", "--format", "csv", "-o", str(folder), "--force")
    assert_refused(result, 1, "doctors.csv", "not a regular file")
    assert sorted(p.name for p in folder.iterdir()) == ["doctors.csv"]  # nothing written


@pytest.mark.parametrize(
    ("where", "needle"),
    [("file", "is a file"), ("missing", "does not exist"), ("stdout", "needs a folder")],
)
def test_csv_needs_a_folder(full: Cli, tmp_path: Path, where: str, needle: str) -> None:
    (tmp_path / "a.csv").write_text("x")
    places = {"file": str(tmp_path / "a.csv"), "missing": str(tmp_path / "no" / "t"), "stdout": "-"}
    result = full("export", "--format", "csv", "-o", places[where])
    assert_refused(result, 1, needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "home", "inbox"]


def test_csv_of_all_patients_ties_rows_to_their_patient(two: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "all"
    two.ok("export", "--format", "csv", "--all-patients", "-o", str(folder))
    tables = read_tables(folder)
    assert [p["name"] for p in tables["patients.csv"]] == ["Ana Souza", "Bob Lee"]
    owners = {d["name"]: d["patient_id"] for d in tables["doctors.csv"]}
    assert owners == {"Dr. Wei Chen": "1", "Dr. Ada Park": "1", "Dr. Bob's Doctor": "2"}


# --- one bad file in the store ------------------------------------------------------------------


@pytest.fixture
def two_files(binder: Cli, make_pdf: Callable[..., Path], home: Path) -> tuple[Cli, bytes]:
    """Two records with a PDF each; the first one's blob is the one a test damages.
    Returns the second PDF's bytes."""
    binder.ok("record", "add", "pathology", "Core biopsy", "--file", str(make_pdf("biopsy.pdf")))
    second = make_pdf("scan.pdf", pages=2)
    binder.ok("record", "add", "imaging", "CT chest", "--file", str(second))
    return binder, second.read_bytes()


def first_blob(cli: Cli) -> Path:
    """Record #1's blob, where the store keeps it."""
    record = as_json(cli.ok("record", "show", "1", "--json"))
    return Store(config.resolve().store_dir).path_for(record["files"][0]["sha256"])


def attachments_by_title(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        content["attachment"]["title"]: content["attachment"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "DocumentReference"
        for content in entry["resource"]["content"]
    }


LEFT_OUT_FHIR = (
    "1 file left out (see above); the Bundle describes each without its bytes, and holds"
    " everything else.\n"
)


@WAYS
@pytest.mark.parametrize("extra", [(), ("--no-data",)], ids=["data", "no-data"])
def test_fhir_leaves_out_a_bad_file_and_exports_the_rest(
    two_files: tuple[Cli, bytes], tmp_path: Path, how: str, extra: tuple[str, ...]
) -> None:
    cli, second = two_files
    blob = first_blob(cli)
    size = blob.stat().st_size
    damage(blob, how)
    target = tmp_path / "ana.fhir.json"
    result = cli("export", "--format", "fhir", "-o", str(target), *extra)
    assert result.exit_code == 0, result.stderr
    no_traceback(result)
    assert result.stdout == f"{target}\n"
    *_, left, summary = result.stderr.splitlines(keepends=True)
    assert left.startswith("Left out biopsy.pdf (file #1 of record #1): it ")
    assert left.endswith(". `carebinder verify` says what to do.\n")
    assert summary == LEFT_OUT_FHIR
    attachments = attachments_by_title(json.loads(target.read_text(encoding="utf-8")))
    # Described as the binder knows it (its original size), never with the bad bytes.
    assert attachments["biopsy.pdf"] == {
        "contentType": "application/pdf",
        "title": "biopsy.pdf",
        "size": size,
    }
    scan = attachments["scan.pdf"]
    assert scan["size"] == len(second) and "hash" in scan
    assert ("data" in scan) is (not extra)
    if not extra:
        assert base64.b64decode(scan["data"]) == second


def test_fhir_on_standard_output_says_what_it_left_out_on_stderr(
    two_files: tuple[Cli, bytes],
) -> None:
    cli, _ = two_files
    damage(first_blob(cli), "flipped bit")
    result = cli("export", "--format", "fhir", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["resourceType"] == "Bundle"
    assert result.stderr == (
        "Left out biopsy.pdf (file #1 of record #1): it is damaged (its content no longer"
        " matches what was attached). `carebinder verify` says what to do.\n" + LEFT_OUT_FHIR
    )


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("how", ["missing", "flipped bit", "folder", "fifo"])
def test_json_and_csv_never_read_the_files(
    two_files: tuple[Cli, bytes], tmp_path: Path, fmt: str, how: str
) -> None:
    """They hold the files' facts, not their bytes: a bad blob changes nothing (and `verify`
    is what finds it)."""
    cli, _ = two_files
    damage(first_blob(cli), how)
    result = cli("export", "--format", fmt, "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Exported 1 patient's binder: 0 doctors, 2 records (2 files)")
    assert "Left out" not in result.stderr
