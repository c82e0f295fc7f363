"""`carebinder import FILE`: what it prints, its JSON, a second import, and refusals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from carebinder import config
from carebinder.db import open_binder
from tests.cli.cliutil import as_json, assert_refused, no_traceback, snapshot
from tests.conftest import NO_BINDER_FILE, Cli, blob_files
from tests.fhir.fhirkit import (
    SMALLEST_R4,
    STU3_SAMPLE,
    bundle_doc,
    document_reference,
    encounter,
    lab_report,
    patient_resource,
    pdf_attachment,
    practitioner,
    row_counts,
    sample,
)
from tests.packet.pdfutil import text_pdf_bytes

SUMMARY_KEYS = {"patients", "imported", "already_in_binder", "skipped", "left_out"}


def binder_rows(home: Path) -> dict[str, int]:
    engine = open_binder(config.resolve(home=home))  # the test's database, whichever it is
    try:
        return row_counts(engine)
    finally:
        engine.dispose()


def write_bundle(folder: Path, name: str, *resources: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(bundle_doc(*resources)), encoding="utf-8")
    return path


def import_sample(cli: Cli, *extra: str) -> Result:
    return cli.ok("import", str(sample(SMALLEST_R4)), *extra)


def test_import_prints_a_summary(binder: Cli, home: Path) -> None:
    result = import_sample(binder)
    no_traceback(result)
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "Patient #2 Cary O'Hara (new).",
        "Imported: 1 patient, 2 doctors, 16 records, 53 appointments, 4 medications,"
        " 5 other conditions, 34 results.",
    ]
    assert lines[2] == "Skipped 187:"
    skipped = [line.split(maxsplit=1) for line in lines[3:]]
    assert [int(count) for count, _ in skipped] == [57, 53, 52, 12, 9, 4]  # most first
    assert skipped[2][1] == "Observation: vital signs are not kept"
    assert "Already in the binder" not in result.stdout
    rows = binder_rows(home)
    assert (rows["patient"], rows["record"], rows["appointment"]) == (2, 16, 53)


def test_import_json(binder: Cli) -> None:
    data = as_json(import_sample(binder, "--json"))
    assert set(data) == SUMMARY_KEYS
    assert data["patients"] == [{"id": 2, "name": "Cary O'Hara", "status": "new"}]
    assert {k: v for k, v in data["imported"].items() if v} == {
        "patient": 1,
        "doctor": 2,
        "record": 16,
        "appointment": 53,
        "medication": 4,
        "condition": 5,
        "result": 34,
    }
    assert data["already_in_binder"] == {}
    assert all(set(item) == {"resource", "reason", "count"} for item in data["skipped"])
    assert sum(item["count"] for item in data["skipped"]) == 187
    assert {"resource": "Claim", "reason": "billing is not kept", "count": 57} in data["skipped"]


def test_a_second_import_adds_nothing(binder: Cli, home: Path) -> None:
    import_sample(binder)
    before = binder_rows(home)
    result = import_sample(binder)
    assert result.stdout.splitlines()[:3] == [
        "Patient #2 Cary O'Hara (already in the binder).",
        "Imported: nothing new.",
        "Already in the binder: 2 doctors, 16 records, 53 appointments, 4 medications,"
        " 5 other conditions, 34 results.",
    ]
    assert binder_rows(home) == before
    data = as_json(import_sample(binder, "--json"))
    assert {k: v for k, v in data["imported"].items() if v} == {}
    assert data["already_in_binder"]["appointment"] == 53
    assert data["patients"][0]["status"] == "already in the binder"


def test_a_patient_already_in_the_binder_by_name_and_birth_date(
    binder: Cli, tmp_path: Path
) -> None:
    ana = patient_resource("Ana", "Souza", "1964-04-12")
    path = write_bundle(tmp_path, "ana.json", ana, lab_report(ana, "CBC"))
    result = binder.ok("import", str(path))
    assert result.stdout.splitlines()[:2] == [
        "Patient #1 Ana Souza (already in the binder: same name and date of birth).",
        "Imported: 1 record.",
    ]
    records = as_json(binder.ok("record", "list", "--json"))
    assert [r["title"] for r in records] == ["CBC"]


def test_import_stores_attached_files(binder: Cli, home: Path, tmp_path: Path) -> None:
    pdf = text_pdf_bytes(["Page one", "Page two"])
    ana = patient_resource("Ana", "Souza", "1964-04-12")
    path = write_bundle(
        tmp_path,
        "portal.json",
        ana,
        document_reference(ana, pdf_attachment(pdf), description="Core biopsy"),
    )
    result = binder.ok("import", str(path))
    assert "Imported: 1 record, 1 file." in result.stdout
    (stored,) = blob_files(home)
    assert stored.read_bytes() == pdf
    (record,) = as_json(binder.ok("record", "list", "--json"))
    (file,) = record["files"]
    assert file["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert file["page_count"] == 2


def test_storing_one_file_is_singular(binder: Cli, tmp_path: Path) -> None:
    ana = patient_resource("Ana", "Souza", "1964-04-12")
    attachment = pdf_attachment(text_pdf_bytes(["One"]))
    path = write_bundle(tmp_path, "one.json", ana, document_reference(ana, attachment))
    result = binder.ok("import", str(path))
    assert result.stderr == "Storing 1 file from one.json…\n"


def test_bad_attachments_are_named_on_stderr_and_in_the_json(
    binder: Cli, home: Path, tmp_path: Path
) -> None:
    ana = patient_resource("Ana", "Souza", "1964-04-12")
    good = text_pdf_bytes(["Kept"])
    garbled = {"contentType": "application/pdf", "title": "garbled.pdf", "data": "%%%"}
    cut = pdf_attachment(good, title="cut.pdf", size=len(good) + 9)
    path = write_bundle(
        tmp_path,
        "portal.json",
        ana,
        document_reference(ana, pdf_attachment(good, title="kept.pdf"), garbled),
        document_reference(ana, cut, description="Outside report"),
    )
    result = binder.ok("import", str(path))
    assert result.stdout.splitlines()[1] == "Imported: 2 records, 1 file."
    assert result.stderr.splitlines()[1:] == [
        "Left out garbled.pdf (record #1): its data is not valid base64. The record's notes"
        " name it: ask the sender for it again.",
        "Left out cut.pdf (record #2): it is damaged (its size does not match its data). The"
        " record's notes name it: ask the sender for it again.",
        "2 files left out (see above); everything else was imported.",
    ]
    assert len(blob_files(home)) == 1
    again = binder.ok("import", str(path), "--json")  # nothing new: nothing left out again
    assert json.loads(again.stdout)["left_out"] == []
    assert "Left out" not in again.stderr


def test_left_out_attachments_in_the_json(binder: Cli, tmp_path: Path) -> None:
    ana = patient_resource("Ana", "Souza", "1964-04-12")
    garbled = {"contentType": "application/pdf", "title": "garbled.pdf", "data": "%%%"}
    path = write_bundle(tmp_path, "portal.json", ana, document_reference(ana, garbled))
    result = binder.ok("import", str(path), "--json")
    data = json.loads(result.stdout)
    assert data["left_out"] == [
        {
            "name": "garbled.pdf",
            "record": 1,
            "file": None,
            "kind": "attachment",
            "reason": "its data is not valid base64",
            "message": "Left out garbled.pdf (record #1): its data is not valid base64."
            " The record's notes name it: ask the sender for it again.",
        }
    ]
    assert result.stderr.endswith("1 file left out (see above); everything else was imported.\n")


def test_import_help_has_an_example(cli: Cli) -> None:
    result = cli.ok("import", "--help")
    assert "Example: carebinder import" in result.stdout
    assert "FHIR R4" in result.stdout


# --- refusals -------------------------------------------------------------------------------


@pytest.fixture
def full(binder: Cli, home: Path, tmp_path: Path) -> tuple[Cli, dict[str, Any], dict[str, int]]:
    """A binder with one import done: what must stay as it is after a refusal."""
    ana = patient_resource("Ana", "Souza", "1964-04-12")
    doctor = practitioner()
    path = write_bundle(
        tmp_path, "first.json", ana, doctor, encounter(ana, doctor), lab_report(ana)
    )
    binder.ok("import", str(path))
    before = snapshot(binder)
    assert len(before["record"]) == len(before["appointment"]) == 1
    return binder, before, binder_rows(home)


def _unchanged(cli: Cli, home: Path, before: dict[str, Any], rows: dict[str, int]) -> None:
    assert snapshot(cli) == before
    assert binder_rows(home) == rows
    assert blob_files(home) == []


def _not_a_bundle(folder: Path) -> Path:
    path = folder / "patient.json"
    path.write_text(json.dumps(patient_resource()), encoding="utf-8")
    return path


def _malformed(folder: Path) -> Path:
    path = folder / "broken.json"
    path.write_text('{"resourceType": "Bundle",\n "type": "collection"\n "entry": []}')
    return path


@pytest.mark.parametrize(
    ("make", "needles"),
    [
        (lambda folder: sample(STU3_SAMPLE), ("STU3", "FHIR R4 only")),
        (_malformed, ("broken.json is not valid JSON", "line 3, column 2")),
        (_not_a_bundle, ("patient.json holds one FHIR Patient, not a Bundle",)),
        (lambda folder: folder / "missing.json", ("No such file: missing.json",)),
        (lambda folder: folder, ("is not a file",)),
    ],
    ids=["stu3", "malformed", "not-a-bundle", "missing", "directory"],
)
def test_refused_files_change_nothing(
    full: tuple[Cli, dict[str, Any], dict[str, int]],
    home: Path,
    tmp_path: Path,
    make: Any,
    needles: tuple[str, ...],
) -> None:
    cli, before, rows = full
    folder = tmp_path / "downloads"
    folder.mkdir()
    result = cli("import", str(make(folder)))
    assert_refused(result, 1, *needles)
    _unchanged(cli, home, before, rows)
    result = cli("import", str(make(folder)), "--json")
    assert_refused(result, 1, *needles)


def test_a_bundle_without_a_patient_leaves_no_file_behind(
    full: tuple[Cli, dict[str, Any], dict[str, int]], home: Path, tmp_path: Path
) -> None:
    cli, before, rows = full
    ghost = patient_resource()
    doctor = practitioner()
    path = write_bundle(
        tmp_path,
        "no-patient.json",
        doctor,
        encounter(ghost, doctor),
        document_reference(ghost, pdf_attachment(text_pdf_bytes(["Orphan"]))),
    )
    result = cli("import", str(path))
    assert result.exit_code == 1
    no_traceback(result)
    assert result.stdout == ""
    # The file was stored before the refusal (to keep the write lock short), then taken back.
    storing, error = result.stderr.splitlines()
    assert storing.startswith("Storing 1 file")
    assert error == (
        "Error: no-patient.json holds no Patient, so carebinder cannot tell whose records"
        " these are. Export the bundle with the patient included."
    )
    _unchanged(cli, home, before, rows)


@pytest.mark.sqlite_only(NO_BINDER_FILE)
def test_import_without_a_binder_is_refused(cli: Cli, home: Path) -> None:
    result = cli("import", str(sample(SMALLEST_R4)))
    assert_refused(result, 1, "No binder at", "carebinder init")
    assert not (home / config.DATABASE_FILE).exists()
    assert blob_files(home) == []


def test_words_of_an_imported_pdf_are_found_by_search(binder: Cli, tmp_path: Path) -> None:
    # The file arrives inside the bundle; its words are read when it is stored, so a word
    # that exists only inside the PDF is found.
    patient = patient_resource()
    pdf = text_pdf_bytes(["Final diagnosis: adenoid cystic carcinoma, zyxomatous pattern"])
    bundle = write_bundle(
        tmp_path,
        "portal.json",
        patient,
        document_reference(patient, pdf_attachment(pdf, title="outside-pathology.pdf")),
    )
    binder.ok("import", str(bundle))
    patient_id = as_json(binder.ok("patient", "list", "--json"))[-1]["id"]
    hits = as_json(binder.ok("--patient", str(patient_id), "search", "zyxomatous", "--json"))
    assert [(hit["kind"], hit["title"]) for hit in hits["results"]] == [
        ("file", "outside-pathology.pdf")
    ]
    assert "zyxomatous" in hits["results"][0]["snippet"]
