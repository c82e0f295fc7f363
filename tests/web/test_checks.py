"""The audit trail and the binder's check: what the command line lists and says, read-only."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from carebinder import config
from tests.conftest import Cli, blob_files, mode
from tests.packet.pdfutil import text_pdf
from tests.web.webutil import Browser, field_error, field_value, texts


def rows(html: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, flags=re.S)
    if body is None:
        return []
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), flags=re.S)
    ]


# --- audit --------------------------------------------------------------------------------------


def test_the_audit_trail_lists_what_the_command_line_lists(ana: Browser, cli: Cli) -> None:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    cli.ok("question", "add", "Is surgery needed?")
    shown = rows(ana.get("/audit").text)
    listed = json.loads(cli.ok("audit", "--json").stdout)
    assert len(shown) == len(listed) >= 3
    assert [r[2:4] for r in shown] == [
        [e["action"], f"{e['entity']} #{e['entity_id']}"] for e in listed
    ]
    assert shown[1][1] == "web POST /doctors/new"
    assert "Dr. Wei Chen" not in ana.get("/audit").text  # never the content


def test_the_audit_limit(ana: Browser, cli: Cli) -> None:
    cli.ok("doctor", "add", "Dr. Wei Chen")
    page = ana.get("/audit?limit=1").text
    assert len(rows(page)) == 1
    assert rows(page)[0][3] == "doctor #1"  # the newest first
    assert field_value(page, "limit") == "1"


@pytest.mark.parametrize("value", ["0", "abc", "100001", "-3"])
def test_a_wrong_limit_is_refused_beside_its_field(ana: Browser, value: str) -> None:
    response = ana.get("/audit", params={"limit": value})
    assert response.status_code == 400
    assert field_error(response.text, "limit") == (
        f"How many events, newest first: {value!r} is not a number from 1 to 100,000."
    )
    assert rows(response.text) == []


def test_with_serve_patient_only_that_patients_changes(
    ana: Browser, cli: Cli, settings: config.Settings
) -> None:
    cli.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    cli.ok("--patient", "2", "doctor", "add", "Dr. Ada Park")
    bob = Browser(settings, patient=2)
    try:
        shown = rows(bob.get("/audit").text)
    finally:
        bob.close()
    assert shown and {r[4] for r in shown} == {"2"}
    assert len(rows(ana.get("/audit").text)) > len(shown)


# --- verify -------------------------------------------------------------------------------------


@pytest.fixture
def with_file(ana: Browser, cli: Cli, tmp_path: Path) -> Browser:
    pdf = text_pdf(tmp_path / "cbc.pdf", ["CBC page"])
    cli.ok("record", "add", "lab", "CBC", "--file", str(pdf))
    return ana


def checked(browser: Browser) -> Any:
    """Start the check, then follow its page until it is done (it reloads itself)."""
    started = browser.post("/verify", follow_redirects=False)
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith("/verify/jobs/")
    for _ in range(600):
        page = browser.get(location)
        if 'http-equiv="refresh"' not in page.text:
            return page
        time.sleep(0.05)
    raise AssertionError("the check never finished")


def test_a_sound_binder_is_ok(with_file: Browser, cli: Cli) -> None:
    page = checked(with_file).text
    said = cli.ok("verify").stderr.strip().splitlines()
    assert said[-1] == "Binder OK: 1 record, 1 file checked."
    assert texts(page, "verdict") + texts(page, "done") == said  # on PostgreSQL: 2 lines
    assert texts(page, "problem") == []


def test_each_problem_with_what_to_do_and_nothing_repaired(
    with_file: Browser, cli: Cli, home: Path
) -> None:
    (blob,) = blob_files(home)
    os.chmod(blob, 0o644)  # fixable: `--repair` makes it owner-only
    damaged = blob.read_bytes()[:-10] + b"0123456789"
    os.chmod(blob, 0o644 | 0o200)
    blob.write_bytes(damaged)
    os.chmod(blob, 0o644)
    page = checked(with_file)
    assert page.status_code == 200
    by_cli = cli("verify")
    assert by_cli.exit_code == 1
    assert texts(page.text, "problem") == by_cli.stdout.splitlines()
    assert len(texts(page.text, "problem")) == 2
    assert texts(page.text, "verdict") == by_cli.stderr.splitlines()
    assert "carebinder verify --repair</code>" in page.text
    assert mode(blob) == 0o644  # the page repairs nothing
    assert blob.read_bytes() == damaged


def test_the_check_runs_when_asked(with_file: Browser) -> None:
    """Opening the page reads nothing: the button runs the check (every file is read)."""
    page = with_file.get("/verify").text
    assert '<form method="post" action="/verify">' in page
    assert "Check the binder now" in page
    assert "problem" not in page.lower()
    assert with_file.get("/verify/jobs/nope").status_code == 404
    forged = with_file.client.post("/verify", data={}, headers={"origin": "http://evil.example"})
    assert forged.status_code == 403
