"""The appointments' pages: a date and a time read in the visit's own time zone, shown in
it; a status is one click; removed only after a confirmation."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli
from tests.web.webutil import Browser, field_error, field_value, texts


@pytest.fixture
def team(ana: Browser) -> Browser:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    return ana


def visit(**more: str) -> dict[str, str]:
    return {
        "doctor": "1",
        "date": "2099-12-03",
        "time": "09:30",
        "time_zone": "America/New_York",
        "purpose": "second-opinion",
        **more,
    }


def test_an_appointment_is_read_and_shown_in_its_own_time_zone(team: Browser, cli: Cli) -> None:
    form = team.get("/appointments/new").text
    assert 'type="date"' in form
    assert 'type="time"' in form
    assert field_value(form, "time_zone") == "UTC"  # this computer's (TZ=UTC in the tests)
    added = team.post("/appointments/new", visit(location="450 Brookline Ave", companion="Marco"))
    assert added.history[0].status_code == 303
    assert added.url.path == "/appointments/1/checklist"
    assert texts(added.text, "done") == ["Added the appointment with Dr. Wei Chen."]
    assert "Thu 03 Dec 2099 09:30</time> America/New_York" in added.text
    data = json.loads(cli.ok("appointment", "show", "1", "--json").stdout)
    assert data["start"] == "2099-12-03T09:30:00-05:00"  # the clinic's 09:30, not UTC's
    listing = team.get("/appointments").text
    assert "Thu 03 Dec 2099 09:30" in listing
    assert "America/New_York" in listing
    edit = team.get("/appointments/1/edit").text
    assert field_value(edit, "date") == "2099-12-03"
    assert field_value(edit, "time") == "09:30"
    assert field_value(edit, "time_zone") == "America/New_York"
    assert field_value(edit, "companion") == "Marco"


def test_an_empty_time_zone_is_this_computers(team: Browser, cli: Cli) -> None:
    team.post("/appointments/new", visit(time_zone=""))
    assert json.loads(cli.ok("appointment", "show", "1", "--json").stdout)["time_zone"] == "UTC"


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (visit(date="2099-02-30"), "starts_at", "'2099-02-30 09:30' is not a date and time."),
        (visit(date=""), "starts_at", "Date and time: '09:30' is not a date and time."),
        (visit(time=""), "starts_at", "Date and time: '2099-12-03' has no time of day."),
        (visit(time="25:00"), "starts_at", "is not a date and time"),
        (visit(time_zone="Mars/Olympus"), "time_zone", "Time zone: 'Mars/Olympus' is not a"),
        (visit(doctor=""), "doctor", "Doctor is missing: choose one."),
        (visit(purpose="fun"), "purpose", "Purpose: 'fun' is not one of second-opinion"),
        (
            visit(date="2099-03-08", time="02:30"),
            "starts_at",
            "2099-03-08 02:30 does not exist in America/New_York",
        ),
    ],
)
def test_a_refused_appointment_keeps_what_was_typed_and_adds_nothing(
    team: Browser, form: dict[str, str], field: str, message: str
) -> None:
    response = team.post("/appointments/new", {**form, "location": "Room 4"})
    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert field_value(response.text, "location") == "Room 4"
    assert field_value(response.text, "date") == form["date"]
    assert field_value(response.text, "time") == form["time"]
    assert field_value(response.text, "time_zone") == form["time_zone"]
    assert "No appointments to come" in team.get("/appointments").text


def test_an_unknown_doctor_is_not_found(team: Browser) -> None:
    response = team.post("/appointments/new", visit(doctor="9"))
    assert response.status_code == 404
    assert texts(response.text, "message") == ["No doctor #9 in this binder."]


def test_editing_an_appointment_and_its_preparation(team: Browser, cli: Cli) -> None:
    team.post("/appointments/new", visit())
    saved = team.post(
        "/appointments/1/edit",
        visit(
            time="10:15",
            time_zone="Europe/Paris",
            status="planned",
            staff_told="yes",
            records_sent_on="2099-11-20",
            coverage="confirmed",
            coverage_ref="PA-88231",
        ),
    )
    assert texts(saved.text, "done") == ["Saved the appointment with Dr. Wei Chen."]
    data = json.loads(cli.ok("appointment", "show", "1", "--json").stdout)
    assert data["start"] == "2099-12-03T10:15:00+01:00"
    assert (data["staff_told"], data["records_sent_on"], data["coverage"]) == (
        True,
        "2099-11-20",
        "confirmed",
    )
    edit = team.get("/appointments/1/edit").text
    assert 'id="f-staff_told" name="staff_told" value="yes" checked' in edit
    assert field_value(edit, "records_sent_on") == "2099-11-20"
    cleared = team.post("/appointments/1/edit", visit(status="planned", coverage="unknown"))
    assert cleared.status_code == 200
    data = json.loads(cli.ok("appointment", "show", "1", "--json").stdout)
    assert (data["staff_told"], data["records_sent_on"]) == (False, None)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"records_sent_on": "soon"}, "records_sent_on", "Records sent on: 'soon' is not a date."),
        ({"time": "9h"}, "starts_at", "Date and time: '2099-12-03 9h' is not a date and time."),
        ({"time_zone": "Nowhere"}, "time_zone", "Time zone: 'Nowhere' is not a time zone."),
        ({"coverage": "maybe"}, "coverage", "Insurance coverage: 'maybe' is not one of"),
    ],
)
def test_a_refused_edit_changes_nothing(
    team: Browser, cli: Cli, form: dict[str, str], field: str, message: str
) -> None:
    team.post("/appointments/new", visit())
    before = cli.ok("appointment", "show", "1", "--json").stdout
    typed = {**visit(status="planned", coverage="unknown", companion="Marco"), **form}
    response = team.post("/appointments/1/edit", typed)
    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert field_value(response.text, "companion") == "Marco"
    assert field_value(response.text, "date") == "2099-12-03"
    assert 'name="status"' in response.text  # still the edit form
    assert cli.ok("appointment", "show", "1", "--json").stdout == before


def test_a_status_is_one_click(team: Browser, cli: Cli) -> None:
    team.post("/appointments/new", visit())
    listing = team.get("/appointments").text
    assert 'action="/appointments/1/status"' in listing
    assert 'name="status" value="done"' in listing
    clicked = team.post("/appointments/1/status", {"status": "done"})
    assert clicked.url.path == "/appointments"
    assert texts(clicked.text, "done") == ["The appointment with Dr. Wei Chen is now done."]
    assert json.loads(cli.ok("appointment", "show", "1", "--json").stdout)["status"] == "done"
    refused = team.post("/appointments/1/status", {"status": "lost"})
    assert refused.status_code == 400
    assert texts(refused.text, "refused") == [
        "Status: 'lost' is not one of planned, done, cancelled."
    ]
    assert json.loads(cli.ok("appointment", "show", "1", "--json").stdout)["status"] == "done"


def test_upcoming_visits_come_first_the_next_at_the_top(team: Browser) -> None:
    team.post("/appointments/new", visit(date="2099-12-10"))
    team.post("/appointments/new", visit(date="2020-01-05"))
    team.post("/appointments/new", visit(date="2099-12-03"))
    team.post("/appointments/new", visit(date="2021-06-01"))
    page = team.get("/appointments").text
    order = [page.index(f'id="a{n}"') for n in (3, 1, 4, 2)]
    assert order == sorted(order)
    assert page.index('id="h-upcoming"') < order[0] < page.index('id="h-past"') < order[2]


def test_removing_an_appointment_asks_first(team: Browser) -> None:
    team.post("/appointments/new", visit())
    confirm = team.get("/appointments/1/remove").text
    assert "Thu 03 Dec 2099 09:30 America/New_York" in confirm
    assert team.post("/appointments/1/remove").url.path == "/appointments/1/remove"
    assert 'id="a1"' in team.get("/appointments").text
    removed = team.post("/appointments/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed the appointment with Dr. Wei Chen."]
    assert 'id="a1"' not in removed.text


def test_another_patients_appointment_is_not_found(team: Browser) -> None:
    team.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    team.post("/patients/use", {"patient": "2"})
    team.post("/doctors/new", {"name": "Dr. Maria's Doctor"})
    team.post("/appointments/new", visit(doctor="2", location="Maria's clinic"))
    team.post("/patients/use", {"patient": "1"})
    for response in [
        team.get("/appointments/1/edit"),
        team.post("/appointments/1/edit", visit(status="planned", coverage="unknown")),
        team.post("/appointments/1/status", {"status": "done"}),
        team.get("/appointments/1/remove"),
        team.post("/appointments/1/remove", {"confirmed": "yes"}),
        team.get("/appointments/1/checklist"),
    ]:
        assert response.status_code == 404
        assert texts(response.text, "message") == ["No appointment #1 in this binder."]
        assert "Maria" not in response.text
    assert "Maria" not in team.get("/appointments").text


def test_the_same_refusal_in_both_faces(team: Browser, cli: Cli) -> None:
    """The command line names the flag where the page names the field: the rest is the same."""
    at = ("--at", "2099-02-30 09:30", "--tz", "America/New_York")
    line = cli("appointment", "add", "--doctor", "1", *at).stderr.strip()
    page = field_error(team.post("/appointments/new", visit(date="2099-02-30")).text, "starts_at")
    assert line.removeprefix("Error: --at") == page.removeprefix("Date and time")
    line = cli("appointment", "add", "--doctor", "1", "--at", "2099-12-03 09:30", "--tz", "X/Y")
    page = field_error(team.post("/appointments/new", visit(time_zone="X/Y")).text, "time_zone")
    assert line.stderr.strip().removeprefix("Error: --tz") == page.removeprefix("Time zone")
