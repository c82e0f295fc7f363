"""A visit's checklist in the browser: the command line's labels and details, and for each
missing item the link to the page that fixes it; following the links makes it ready."""

from __future__ import annotations

import re
from html import unescape

import pytest

from carebinder import config
from carebinder.db import open_binder, session_scope
from carebinder.services import allergies, medications, patients
from tests.conftest import Cli
from tests.web.webutil import Browser, texts


@pytest.fixture
def visit(ana: Browser) -> Browser:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    ana.post(
        "/appointments/new",
        {"doctor": "1", "date": "2099-12-03", "time": "09:30", "purpose": "second-opinion"},
    )
    return ana


def items(html: str) -> dict[str, tuple[str, str, str]]:
    """The checklist's items by key: (mark, label: detail, the fixing link's address)."""
    found = {}
    for match in re.finditer(r'<li class="([a-z-]+)" id="c-([a-z_]+)">(.*?)</li>', html, re.S):
        state, key, body = match.groups()
        link = re.search(r'class="fix" href="([^"]*)"', body)
        words = unescape(re.sub(r"<[^>]+>", "", body.split('<a class="fix"')[0]))
        found[key] = (state, " ".join(words.split()), unescape(link.group(1)) if link else "")
    return found


def test_the_checklist_in_the_command_lines_words(visit: Browser, cli: Cli) -> None:
    page = visit.get("/appointments/1/checklist").text
    shown = items(page)
    assert shown["staff_told"] == (
        "missing",
        "Missing Staff told this is a second-opinion visit: not yet",
        "/appointments/1/edit#f-staff_told",
    )
    assert shown["surgery_report"] == (
        "not-needed",
        "Not needed Surgery report in the packet: no surgery recorded",
        "",
    )
    assert shown["questions"][2] == "/questions?appointment=1#f-text"
    assert shown["medications"] == (
        "missing",
        "Missing Medication list: not recorded yet: list each medicine and supplement taken,"
        " or say there are none",
        "/health#medications",
    )
    assert shown["allergies"][2] == "/health#allergies"
    assert "0 of 10 ready." in page
    line = cli.ok("checklist", "1").stdout
    for state, words, _ in shown.values():
        label_and_detail = words.split(" ", 2 if state == "not-needed" else 1)[-1]
        assert label_and_detail in line  # the same label and detail in both faces


def state_none_taken_and_none_known(settings: config.Settings) -> None:
    """What the medication and allergy pages' "none" buttons do."""
    engine = open_binder(settings)
    try:
        with session_scope(engine) as s:
            (patient,) = patients.list_patients(s)
            medications.state_none(s, patient)
            allergies.state_none(s, patient)
    finally:
        engine.dispose()


def test_following_the_links_makes_the_visit_ready(
    visit: Browser, cli: Cli, settings: config.Settings
) -> None:
    shown = items(visit.get("/appointments/1/checklist").text)
    assert all(
        state == "missing" for key, (state, _, _) in shown.items() if key != "surgery_report"
    )
    # the appointment's own preparation: one edit form
    edit = shown["coverage"][2].split("#")[0]
    assert visit.get(edit).status_code == 200
    visit.post(
        edit,
        {
            "doctor": "1",
            "date": "2099-12-03",
            "time": "09:30",
            "time_zone": "UTC",
            "purpose": "second-opinion",
            "status": "planned",
            "staff_told": "yes",
            "records_sent_on": "2099-11-20",
            "coverage": "confirmed",
            "coverage_ref": "PA-88231",
            "companion": "Marco",
        },
    )
    # a question for this visit: the link chooses the visit in the form
    questions = visit.get(shown["questions"][2].split("#")[0]).text
    assert '<option value="1" selected>Dr. Wei Chen, Thu 03 Dec 2099 09:30</option>' in questions
    asked = visit.post("/questions/new", {"text": "Is radiation needed?", "appointment": "1"})
    assert "To ask at the visit with Dr. Wei Chen, Thu 03 Dec 2099" in asked.text
    # the slides, received in one click
    assert visit.get(shown["materials"][2]).status_code == 200
    visit.post(
        "/materials/new", {"kind": "glass-slides", "description": "Slides", "status": "needed"}
    )
    after_adding = items(visit.get("/appointments/1/checklist").text)["materials"]
    assert after_adding[:2] == (
        "missing",
        "Missing Slides and imaging discs received: waiting for #1 Slides (needed)",
    )
    visit.post("/materials/1/status", {"status": "received"})
    # the reports (the records' pages are their own; the command line adds them here)
    for kind, title in [("pathology", "Core biopsy"), ("treatment-plan", "Tumour board plan")]:
        cli.ok("record", "add", kind, title)
    state_none_taken_and_none_known(settings)
    page = visit.get("/appointments/1/checklist").text
    shown = items(page)
    assert {key: state for key, (state, _, _) in shown.items()} == {
        "staff_told": "ready",
        "records_sent": "ready",
        "coverage": "ready",
        "companion": "ready",
        "pathology_report": "ready",
        "surgery_report": "not-needed",
        "treatment_plan": "ready",
        "medications": "ready",
        "allergies": "ready",
        "materials": "ready",
        "questions": "ready",
    }
    assert shown["coverage"][1] == "Ready Insurance coverage confirmed: confirmed (ref. PA-88231)"
    assert "10 of 10 ready." in page
    assert 'class="fix"' not in page
    assert "10 of 10 ready." in cli.ok("checklist", "1").stdout


def test_the_home_page_shows_the_next_visit_and_how_ready_it_is(visit: Browser) -> None:
    visit.post(
        "/appointments/new",
        {"doctor": "1", "date": "2099-12-10", "time": "11:00", "purpose": "follow-up"},
    )
    visit.post(
        "/appointments/new",
        {"doctor": "1", "date": "2020-01-10", "time": "11:00", "purpose": "follow-up"},
    )
    home = visit.get("/").text
    assert "Thu 03 Dec 2099 09:30</time> UTC</strong> with" in home  # the next, not the later
    assert "0 of 10 ready." in home
    assert 'href="/appointments/1/edit#f-companion"' in home
    assert 'href="/appointments/1/checklist"' in home
    visit.post("/appointments/1/status", {"status": "cancelled"})
    visit.post("/appointments/1/remove", {"confirmed": "yes"})
    assert "Thu 10 Dec 2099 11:00" in visit.get("/").text


def test_the_home_page_without_a_visit_to_come(ana: Browser, cli: Cli) -> None:
    home = ana.get("/").text
    assert "No appointment to come." in home
    assert "No records yet." in home
    cli.ok("record", "add", "pathology", "Core biopsy", "--date", "2026-10-01")
    cli.ok("record", "add", "imaging", "CT chest", "--date", "2026-11-01")
    home = ana.get("/").text
    assert home.index("CT chest") < home.index("Core biopsy")  # the latest first
    assert texts(home, "done") == []


def test_a_question_for_another_patients_visit_is_refused(visit: Browser) -> None:
    visit.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    visit.post("/patients/use", {"patient": "2"})
    response = visit.post("/questions/new", {"text": "Whose visit?", "appointment": "1"})
    assert response.status_code == 404
    assert texts(response.text, "message") == ["No appointment #1 in this binder."]
    assert "No questions yet." in visit.get("/questions").text


def test_a_refused_answer_still_shows_the_visit_of_each_question(visit: Browser) -> None:
    visit.post("/questions/new", {"text": "Is radiation needed?", "appointment": "1"})
    refused = visit.post("/questions/1/answer", {"answer": " "})
    assert refused.status_code == 400
    assert "To ask at the visit with Dr. Wei Chen, Thu 03 Dec 2099" in refused.text


def test_a_cancelled_visit_is_not_the_next_one_on_the_home_page(visit: Browser, cli: Cli) -> None:
    assert "The checklist for this visit" in visit.get("/").text
    cli.ok("appointment", "edit", "1", "--status", "cancelled")
    home = visit.get("/").text
    assert "No appointment to come." in home
    assert "The checklist for this visit" not in home
