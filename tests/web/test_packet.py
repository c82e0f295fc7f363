"""The packet page: choose the records, build in the background, download the PDF, read it
back; every refusal beside its field, with nothing built and the visit's choice unchanged."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from tests.conftest import Cli
from tests.packet.pdfutil import Packet, broken_pdf, read, text_pdf
from tests.web.webutil import KEY, ORIGIN, Browser, field_error, texts

NAME = "packet-Ana-Souza-2026-12-03.pdf"
ALL = {"paper": "letter"}


@pytest.fixture
def visit(ana: Browser, cli: Cli, tmp_path: Path) -> Browser:
    """Ana's binder: doctor #1, records #1-#3 with a one-page PDF each, appointment #1."""
    cli.ok("doctor", "add", "Dr. Wei Chen")
    for i, title in enumerate(("Mammogram", "Biopsy", "Plan"), start=1):
        pdf = text_pdf(tmp_path / f"r{i}.pdf", [f"RECORD-{title.upper()} page"])
        cli.ok("record", "add", "lab", title, "--date", f"2026-11-0{i}", "--file", str(pdf))
    cli.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    return ana


def job_of(response: Any) -> str:
    assert response.history and response.history[0].status_code == 303, response.text
    match = re.fullmatch(r"/packet/jobs/([\w-]+)", response.url.path)
    assert match, response.url.path
    return match.group(1)


def finished(browser: Browser, job: str) -> str:
    """The job's page once the build is over."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = browser.get(f"/packet/jobs/{job}").text
        if 'http-equiv="refresh"' not in page:
            return str(page)
        time.sleep(0.1)
    raise AssertionError("the packet was not built in time")


def build(browser: Browser, form: dict[str, Any]) -> tuple[str, Any, Packet]:
    """Post the form, wait, download: (the job's page, the download, the PDF read back)."""
    job = job_of(browser.post("/packet/1", {"paper": "letter", **form}))
    page = finished(browser, job)
    download = browser.get(f"/packet/jobs/{job}/download")
    assert download.status_code == 200, download.text
    password = form.get("password") or None
    return page, download, read(download.content, password=password)


def chosen(cli: Cli) -> list[int]:
    shown = json.loads(cli.ok("appointment", "show", "1", "--json").stdout)
    return list(shown["records"])


def test_the_whole_packet_is_built_and_downloaded_once(visit: Browser) -> None:
    form = visit.get("/packet/1").text
    assert form.count('type="checkbox" id="f-bring-') == 3
    assert form.count(" checked>") == 3  # no choice yet: every record
    page, download, packet = build(visit, {"bring": ["1", "2", "3"]})
    assert texts(page, "done") == [f"Wrote {packet.pages} pages (3 records)."]
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == f'attachment; filename="{NAME}"'
    text = packet.all_text()
    assert "Ana Souza" in packet.texts[0]
    for title in ("MAMMOGRAM", "BIOPSY", "PLAN"):
        assert len(packet.find(f"RECORD-{title} page")) == 1
    job = re.search(r"/packet/jobs/([\w-]+)/download", page)
    assert job
    again = visit.get(f"/packet/jobs/{job.group(1)}/download")
    assert again.status_code == 404
    assert "downloaded already" in texts(again.text, "message")[0]
    assert "Dr. Wei Chen" in text


def test_only_the_ticked_records_go_in_and_the_choice_is_kept(visit: Browser, cli: Cli) -> None:
    page, _, packet = build(visit, {"bring": ["1", "3"]})
    assert texts(page, "done") == [f"Wrote {packet.pages} pages (2 records)."]
    assert packet.find("RECORD-MAMMOGRAM page") and packet.find("RECORD-PLAN page")
    assert not packet.find("RECORD-BIOPSY page")
    assert chosen(cli) == [1, 3]  # as `appointment bring 1 1 3 --replace`
    form = visit.get("/packet/1").text
    assert 'id="f-bring-2" name="bring" value="2">' in form  # not ticked any more
    # Every record ticked again: no choice, as `appointment bring 1 --clear`.
    build(visit, {"bring": ["1", "2", "3"]})
    assert chosen(cli) == []


def test_the_summary_only(visit: Browser, cli: Cli) -> None:
    cli.ok("appointment", "bring", "1", "2")
    page, _, packet = build(visit, {"no_records": "yes", "paper": "a4"})
    assert texts(page, "done") == [f"Wrote {packet.pages} pages (0 records)."]
    assert not packet.find("RECORD-")
    assert chosen(cli) == [2]  # the choice is left alone
    width, height = (float(v) for v in packet.reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4


def test_a_password_encrypts_the_packet(visit: Browser) -> None:
    page, download, packet = build(
        visit, {"bring": ["2"], "password": "s3cret pass", "password_again": "s3cret pass"}
    )
    assert texts(page, "done") == [f"Wrote {packet.pages} pages (1 record, encrypted)."]
    assert packet.find("RECORD-BIOPSY page")
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(__import__("io").BytesIO(download.content))
    assert "s3cret" not in page


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"bring": ["1"], "password": "s3cret", "password_again": "s3cre"},
            "password_again",
            "The two passwords differ. Nothing was written.",
        ),
        (
            {"bring": ["1"], "paper": "legal"},
            "paper",
            "Paper size: 'legal' is not a paper size. Use letter or a4.",
        ),
        ({}, "bring", "Tick the records to bring, or tick 'Only the summary pages'."),
        ({"bring": ["x"]}, "bring", "Records to bring: 'x' is not one of the choices."),
    ],
)
def test_a_refused_packet_builds_nothing_and_changes_nothing(
    visit: Browser, cli: Cli, form: dict[str, Any], field: str, message: str
) -> None:
    cli.ok("appointment", "bring", "1", "2")
    response = visit.post("/packet/1", {"paper": "letter", **form})
    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert "s3cret" not in response.text  # a password is typed again, never shown
    assert visit.app.state.web.jobs.jobs == {}
    assert chosen(cli) == [2]


def test_a_file_that_cannot_be_printed_is_listed_to_bring_separately(
    visit: Browser, cli: Cli, tmp_path: Path
) -> None:
    broken = broken_pdf(tmp_path / "scan.pdf")
    cli.ok("record", "add", "imaging", "CT scan", "--file", str(broken))
    page, _, packet = build(visit, {"bring": ["1", "2", "3", "4"]})
    lines = texts(page, "separately")
    assert len(lines) == 1
    assert lines[0].startswith("Bring separately: scan.pdf (record 'CT scan'): ")
    assert packet.find("RECORD-PLAN page")


def test_the_progress_page_reloads_itself_until_the_packet_is_ready(
    visit: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carebinder.packet import build as packet_build

    release = threading.Event()
    real = packet_build.build_packet

    def slow(data: Any, out: Path, options: Any, progress: Any) -> Any:
        progress("3 records, 3 files: putting their pages together.")
        assert release.wait(30)
        return real(data, out, options, progress)

    monkeypatch.setattr(packet_build, "build_packet", slow)
    response = visit.post("/packet/1", {"paper": "letter", "bring": ["1", "2", "3"]})
    job = job_of(response)
    deadline = time.monotonic() + 10
    while "putting" not in response.text and time.monotonic() < deadline:
        response = visit.get(f"/packet/jobs/{job}")
    assert '<meta http-equiv="refresh" content="1">' in response.text
    assert texts(response.text, "progress") == [
        "Building… 3 records, 3 files: putting their pages together."
    ]
    early = visit.get(f"/packet/jobs/{job}/download")  # not yet: back to the progress page
    assert early.url.path == f"/packet/jobs/{job}"
    folder = visit.app.state.web.jobs.get(job).folder
    assert folder.stat().st_mode & 0o777 == 0o700
    release.set()
    assert "Download" in finished(visit, job)
    assert visit.get(f"/packet/jobs/{job}/download").status_code == 200
    assert not folder.exists()  # removed once downloaded


def test_another_patients_visit_and_an_unknown_job_are_not_found(visit: Browser, cli: Cli) -> None:
    cli.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    cli.ok("--patient", "2", "doctor", "add", "Dr. Ada Park")
    cli.ok("--patient", "2", "appointment", "add", "--doctor", "2", "--at", "2026-12-04 10:00")
    for response in (visit.get("/packet/2"), visit.post("/packet/2", {"paper": "letter"})):
        assert response.status_code == 404
        assert texts(response.text, "message") == ["No appointment #2 in this binder."]
    assert visit.get("/packet/jobs/nope").status_code == 404
    assert visit.get("/packet/jobs/nope/download").status_code == 404
    assert visit.app.state.web.jobs.jobs == {}


def test_a_forged_packet_build_is_refused(visit: Browser, cli: Cli) -> None:
    cli.ok("appointment", "bring", "1", "2")
    form = {"paper": "letter", "bring": ["1"]}
    no_token = visit.client.post("/packet/1", data=form, headers={"origin": ORIGIN})
    elsewhere = visit.post("/packet/1", form, headers={"origin": "http://evil.example"})
    for response in (no_token, elsewhere):
        assert response.status_code == 403
    assert visit.app.state.web.jobs.jobs == {}
    assert chosen(cli) == [2]
    assert KEY not in no_token.text


def test_the_visits_are_listed(visit: Browser) -> None:
    page = visit.get("/packet").text
    assert '<a href="/packet/1">Make the packet<span class="sr-only"> for the visit with' in page
    assert "2026-12-03 09:30" in page


def test_a_packet_nobody_downloads_is_removed_in_time(visit: Browser) -> None:
    from carebinder.web.jobs import KEEP_SECONDS

    job = job_of(visit.post("/packet/1", {"paper": "letter", "bring": ["1"]}))
    finished(visit, job)
    jobs = visit.app.state.web.jobs
    kept = jobs.get(job)
    assert kept.path.is_file()
    kept.finished -= KEEP_SECONDS - 60  # not yet
    jobs.tidy()
    assert jobs.get(job) is kept
    kept.finished -= 120
    jobs.tidy()
    assert jobs.get(job) is None
    assert not kept.folder.exists()
    assert visit.get(f"/packet/jobs/{job}/download").status_code == 404
