"""Import, export, calendar and backup pages: the same services as the command line, the
results downloaded and read back (a FHIR bundle imported again, a backup restored by the
command line); every refusal with the command line's words and nothing changed."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from carebinder import config
from carebinder.interop.tabular import TABLES
from tests.conftest import FILE_BACKUP, Cli
from tests.packet.pdfutil import text_pdf
from tests.web.webutil import Browser, field_error, texts

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "fhir"


def sample(name: str) -> bytes:
    return gzip.decompress((SAMPLES / f"{name}.json.gz").read_bytes())


def upload(browser: Browser, name: str, content: bytes) -> Any:
    return browser.post("/import", files={"file": (name, content, "application/json")})


def patients(cli: Cli) -> list[str]:
    return [p["name"] for p in json.loads(cli.ok("patient", "list", "--json").stdout)]


def error_line(result: Any) -> str:
    return str(result.stderr).strip().removeprefix("Error: ")


@pytest.fixture
def filled(ana: Browser, cli: Cli, tmp_path: Path) -> Browser:
    """Ana's binder: a doctor, a record with a PDF, an appointment."""
    cli.ok("doctor", "add", "Dr. Wei Chen")
    pdf = text_pdf(tmp_path / "cbc.pdf", ["CBC page"])
    cli.ok("record", "add", "lab", "CBC", "--date", "2026-11-01", "--file", str(pdf))
    cli.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    return ana


# --- import -------------------------------------------------------------------------------------


def test_a_fhir_file_is_imported_with_the_command_lines_summary(ana: Browser, cli: Cli) -> None:
    response = upload(ana, "R4-Cary_OHara.json", sample("R4-Cary_OHara"))
    assert response.status_code == 200, response.text
    lines = texts(response.text, "summary-line")
    assert lines[0].startswith("Patient #2 ") and lines[0].endswith("(new).")
    assert lines[1].startswith("Imported: 1 patient, ")
    assert len(patients(cli)) == 2
    again = texts(upload(ana, "R4-Cary_OHara.json", sample("R4-Cary_OHara")).text, "summary-line")
    assert again[1] == "Imported: nothing new."
    assert len(patients(cli)) == 2


def test_an_attachment_that_cannot_be_decoded_is_named_as_the_command_line_does(
    ana: Browser, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(config.DATABASE_ENV, raising=False)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p",
                    "name": [{"text": "Bo Ng"}],
                    "birthDate": "1950-01-02",
                }
            },
            {
                "resource": {
                    "resourceType": "DocumentReference",
                    "id": "d",
                    "status": "current",
                    "subject": {"reference": "Patient/p"},
                    "content": [
                        {"attachment": {"contentType": "application/pdf", "data": "%%%not"}}
                    ],
                }
            },
        ],
    }
    content = json.dumps(bundle).encode()
    web = upload(ana, "bundle.json", content)
    assert web.status_code == 200, web.text
    shown = texts(web.text, "left-out")
    path = tmp_path / "bundle.json"
    path.write_bytes(content)
    fresh = ("--home", str(tmp_path / "fresh"))  # the same import, in a binder of its own
    cli.ok(*fresh, "init", "--name", "Ana Souza", "--born", "1964-04-12")
    by_cli = cli.ok(*fresh, "import", str(path)).stderr.splitlines()
    assert len(shown) == 2
    assert shown == by_cli[-2:]
    assert shown[0].startswith("Left out a file (record #1): its data is not valid base64.")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.json", b"not json at all"),
        ("STU3.json", b""),  # replaced below by the STU3 sample
        ("empty.json", b"{}"),
    ],
)
def test_a_bad_file_is_refused_with_the_command_lines_message(
    ana: Browser, cli: Cli, tmp_path: Path, name: str, content: bytes
) -> None:
    content = content or sample("STU3-Abbott_Pok")
    response = upload(ana, name, content)
    assert response.status_code == 400
    path = tmp_path / name
    path.write_bytes(content)
    expected = error_line(cli("import", str(path)))
    assert expected
    assert texts(response.text, "refused") == [expected]
    assert patients(cli) == ["Ana Souza"]


def test_no_file_chosen_is_refused_beside_the_field(ana: Browser, cli: Cli) -> None:
    response = ana.post("/import", files={"file": ("", b"", "application/octet-stream")})
    assert response.status_code == 400
    assert field_error(response.text, "file") == "FHIR file: choose the file to import."
    assert patients(cli) == ["Ana Souza"]


# --- export -------------------------------------------------------------------------------------


def without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "exported_at"}


def test_the_json_export_is_the_command_lines(filled: Browser, cli: Cli, tmp_path: Path) -> None:
    response = filled.get("/export/file", params={"format": "json"})
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith('attachment; filename="carebinder-')
    out = tmp_path / "cli.json"
    cli.ok("export", "-o", str(out))
    assert without_time(response.json()) == without_time(json.loads(out.read_text()))
    assert [b["patient"]["name"] for b in response.json()["binders"]] == ["Ana Souza"]


def test_every_patient_with_all_patients(filled: Browser, cli: Cli) -> None:
    cli.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    one = filled.get("/export/file", params={"format": "json"}).json()
    every = filled.get("/export/file", params={"format": "json", "all_patients": "yes"}).json()
    assert len(one["binders"]) == 1
    assert [b["patient"]["name"] for b in every["binders"]] == ["Ana Souza", "Bob Lee"]


def test_the_csv_tables_come_in_one_zip(filled: Browser) -> None:
    response = filled.get("/export/file", params={"format": "csv"})
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = {Path(n).name: n for n in archive.namelist()}
        assert set(names) == {name for name, *_ in TABLES}
        rows = list(csv.DictReader(io.StringIO(archive.read(names["records.csv"]).decode())))
    assert [r["title"] for r in rows] == ["CBC"]


def test_the_fhir_export_imports_into_another_binder(
    filled: Browser, tmp_path: Path, settings: config.Settings
) -> None:
    bundle = filled.get("/export/file", params={"format": "fhir"})
    assert bundle.headers["content-type"] == "application/fhir+json"
    lean = filled.get("/export/file", params={"format": "fhir", "no_data": "yes"})
    assert len(lean.content) < len(bundle.content)
    other = tmp_path / "other"
    url = f"sqlite:///{other / config.DATABASE_FILE}"
    elsewhere = Browser(config.resolve(home=other, database_url=url, environ={}))
    try:
        response = upload(elsewhere, "ana.json", bundle.content)
        lines = texts(response.text, "summary-line")
        assert lines[0] == "Patient #1 Ana Souza (new)."
        assert "1 record" in lines[1] and "1 file" in lines[1]
        assert texts(response.text, "left-out") == []
    finally:
        elsewhere.close()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"format": "json", "no_data": "yes"},
            "no_data",
            "Without the files' bytes is for the FHIR format only: json never holds the"
            " files' bytes. Leave it unticked.",
        ),
        ({"format": "xml"}, "format", "Format: 'xml' is not one of the choices."),
    ],
)
def test_a_refused_export_says_why_beside_the_field(
    filled: Browser, params: dict[str, str], field: str, message: str
) -> None:
    response = filled.get("/export/file", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert field_error(response.text, field) == message


# --- calendar -----------------------------------------------------------------------------------


def test_the_calendar_downloads_as_ics(filled: Browser, cli: Cli, tmp_path: Path) -> None:
    response = filled.get("/calendar/file")
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="appointments.ics"'
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 1
    assert "Dr. Wei Chen" in str(events[0]["SUMMARY"])
    assert events[0].walk("VALARM")
    quiet = Calendar.from_ical(filled.get("/calendar/file?no_reminder=yes").content)
    assert not quiet.walk("VEVENT")[0].walk("VALARM")
    upcoming = Calendar.from_ical(filled.get("/calendar/file?upcoming=yes").content)
    out = tmp_path / "cli.ics"
    cli.ok("calendar", "-o", str(out), "--upcoming")
    assert len(upcoming.walk("VEVENT")) == len(Calendar.from_ical(out.read_bytes()).walk("VEVENT"))


# --- backup -------------------------------------------------------------------------------------


def restore(cli: Cli, tmp_path: Path, content: bytes) -> tuple[Any, Path]:
    archive = tmp_path / "download.cbk"
    archive.write_bytes(content)
    home = tmp_path / "restored"
    return cli("--home", str(home), "restore", str(archive)), home


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_the_backup_download_restores_on_the_command_line(
    filled: Browser, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(config.DATABASE_ENV, raising=False)
    response = filled.post("/backup")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="carebinder-backup-'
    )
    result, home = restore(cli, tmp_path, response.content)
    assert result.exit_code == 0, result.stderr
    assert "Restored the binder: the database and 1 file." in result.stderr
    names = cli.ok("--home", str(home), "patient", "list", "--json").stdout
    assert "Ana Souza" in names


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_a_backup_with_a_password_needs_it_to_restore(
    filled: Browser, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(config.DATABASE_ENV, raising=False)
    response = filled.post("/backup", {"password": "s3cret", "password_again": "s3cret"})
    assert response.status_code == 200
    monkeypatch.setenv("CAREBINDER_BACKUP_PASSWORD", "wrong")
    refused, _ = restore(cli, tmp_path, response.content)
    assert refused.exit_code != 0
    monkeypatch.setenv("CAREBINDER_BACKUP_PASSWORD", "s3cret")
    result, _ = restore(cli, tmp_path, response.content)
    assert result.exit_code == 0, result.stderr


def test_differing_passwords_make_no_backup(filled: Browser) -> None:
    response = filled.post("/backup", {"password": "s3cret", "password_again": "s3cre"})
    assert response.status_code == 400
    assert field_error(response.text, "password_again") == (
        "The two passwords differ. Nothing was written."
    )
    assert "s3cret" not in response.text
    assert "application/octet-stream" not in response.headers["content-type"]


def test_restore_stays_on_the_command_line(filled: Browser) -> None:
    page = filled.get("/backup").text
    assert "carebinder --home ~/carebinder-restored restore carebinder-backup-DATE.cbk" in page
