"""`carebinder appointment add|list|show|edit|remove|bring`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.cli.cliutil import (
    APPOINTMENT_KEYS,
    BRING_KEYS,
    as_json,
    assert_keys,
    assert_refused,
    snapshot,
)
from tests.conftest import Cli

AT = ("--at", "2026-12-03 09:30", "--tz", "America/New_York")


@pytest.fixture
def visit(binder: Cli) -> Cli:
    """Doctors #1 and #2, records #1 (pathology) and #2 (imaging), appointment #1 with #1."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("doctor", "add", "Dr. Ada Park")
    binder.ok("record", "add", "pathology", "Core biopsy", "--date", "2026-10-02")
    binder.ok("record", "add", "imaging", "MRI", "--date", "2026-09-01")
    binder.ok("appointment", "add", "--doctor", "1", *AT, "--location", "450 Brookline Ave")
    return binder


# --- happy paths --------------------------------------------------------------------------


def test_add_prints_the_new_id(binder: Cli) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    result = binder.ok("appointment", "add", "--doctor", "1", *AT)
    assert result.stdout == (
        "Added appointment #1: Dr. Wei Chen, Thu 03 Dec 2026 09:30 America/New_York\n"
    )
    assert result.stderr == ""


def test_add_json_has_every_fact(binder: Cli) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    data = as_json(
        binder.ok(
            "appointment",
            "add",
            "--doctor",
            "1",
            *AT,
            "--location",
            "Yawkey Center, floor 8",
            "--purpose",
            "third-opinion",
            "--companion",
            "Marco",
            "--notes",
            "Bring the slides",
            "--json",
        )
    )
    assert_keys(data, APPOINTMENT_KEYS)
    assert data == {
        "id": 1,
        "doctor": 1,
        "doctor_name": "Dr. Wei Chen",
        "start": "2026-12-03T09:30:00-05:00",
        "time_zone": "America/New_York",
        "location": "Yawkey Center, floor 8",
        "purpose": "third-opinion",
        "status": "planned",
        "companion": "Marco",
        "notes": "Bring the slides",
        "staff_told": False,
        "records_sent_on": None,
        "coverage": "unknown",
        "coverage_ref": None,
        "records": [],
    }


def test_add_defaults_to_this_computers_zone_and_a_second_opinion(binder: Cli) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    data = as_json(
        binder.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30", "--json")
    )
    assert data["time_zone"] == "UTC"  # the tests run with TZ=UTC
    assert data["start"] == "2026-12-03T09:30:00+00:00"
    assert data["purpose"] == "second-opinion"


def test_add_accepts_tomorrow_and_an_explicit_offset(binder: Cli) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    tomorrow = as_json(
        binder.ok("appointment", "add", "--doctor", "1", "--at", "tomorrow 14:15", "--json")
    )
    assert tomorrow["start"].startswith(f"{date.today() + timedelta(days=1)}T14:15")
    offset = as_json(
        binder.ok(
            "appointment",
            "add",
            "--doctor",
            "1",
            "--at",
            "2026-12-03 09:30+01:00",
            *AT[2:],
            "--json",
        )
    )
    assert offset["start"] == "2026-12-03T03:30:00-05:00"  # same moment, shown in the visit's zone


def test_list_table_and_json(visit: Cli) -> None:
    visit.ok("appointment", "add", "--doctor", "2", "--at", "2026-11-30 08:00", "--tz", "UTC")
    result = visit.ok("appointment", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "WHEN", "DOCTOR", "PURPOSE", "STATUS", "LOCATION"]
    assert lines[1].split()[0] == "2"  # date order
    assert "Mon 30 Nov 2026" in lines[1]
    assert "Dr. Ada Park" in lines[1]
    rows = as_json(visit.ok("appointment", "list", "--json"))
    assert [a["id"] for a in rows] == [2, 1]
    for row in rows:
        assert_keys(row, APPOINTMENT_KEYS)


def test_list_upcoming_leaves_out_past_visits(visit: Cli) -> None:
    visit.ok("appointment", "add", "--doctor", "2", "--at", "2020-01-06 10:00")
    assert len(as_json(visit.ok("appointment", "list", "--json"))) == 2
    visit.ok("appointment", "edit", "1", "--at", "2099-01-05 10:00")
    upcoming = as_json(visit.ok("appointment", "list", "--upcoming", "--json"))
    assert [a["id"] for a in upcoming] == [1]


def test_list_when_empty(binder: Cli) -> None:
    result = binder.ok("appointment", "list")
    assert result.stdout == ""
    assert "No appointments yet" in result.stderr


def test_show_human_and_json(visit: Cli) -> None:
    result = visit.ok("appointment", "show", "1")
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "Appointment:    #1 with #1 Dr. Wei Chen",
        "When:           Thu 03 Dec 2026 09:30 America/New_York",
        "Where:          450 Brookline Ave",
        "Purpose:        second-opinion",
        "Status:         planned",
        "Staff told:     no",
        "Records sent:   not yet",
        "Coverage:       unknown",
        "Packet records: all records (none chosen)",
    ]
    data = as_json(visit.ok("appointment", "show", "1", "--json"))
    assert_keys(data, APPOINTMENT_KEYS)
    assert data["location"] == "450 Brookline Ave"


def test_edit_records_the_preparation(visit: Cli) -> None:
    result = visit.ok("appointment", "edit", "1", "--told-staff")
    assert result.stdout == "Updated appointment #1\n"
    assert result.stderr == ""
    data = as_json(
        visit.ok(
            "appointment",
            "edit",
            "1",
            "--records-sent",
            "2026-11-20",
            "--coverage",
            "pre-auth-needed",
            "--coverage-ref",
            "PA-88231",
            "--companion",
            "Marco",
            "--status",
            "done",
            "--purpose",
            "follow-up",
            "--doctor",
            "2",
            "--location",
            "",
            "--notes",
            "Parking on level 2",
            "--json",
        )
    )
    assert data["staff_told"] is True
    assert data["records_sent_on"] == "2026-11-20"
    assert data["coverage"] == "pre-auth-needed"
    assert data["coverage_ref"] == "PA-88231"
    assert data["companion"] == "Marco"
    assert data["status"] == "done"
    assert data["purpose"] == "follow-up"
    assert (data["doctor"], data["doctor_name"]) == (2, "Dr. Ada Park")
    assert data["location"] is None
    assert data["notes"] == "Parking on level 2"
    assert as_json(visit.ok("appointment", "show", "1", "--json")) == data
    cleared = as_json(
        visit.ok("appointment", "edit", "1", "--not-told-staff", "--records-sent", "", "--json")
    )
    assert cleared["staff_told"] is False
    assert cleared["records_sent_on"] is None


def test_edit_time_zone_keeps_the_wall_clock_time(visit: Cli) -> None:
    data = as_json(visit.ok("appointment", "edit", "1", "--tz", "Europe/Paris", "--json"))
    assert data["time_zone"] == "Europe/Paris"
    assert data["start"] == "2026-12-03T09:30:00+01:00"
    moved = as_json(visit.ok("appointment", "edit", "1", "--at", "2026-12-04 14:00", "--json"))
    assert moved["start"] == "2026-12-04T14:00:00+01:00"


def test_remove_with_yes_keeps_its_questions(visit: Cli) -> None:
    visit.ok("question", "add", "Is surgery first?", "--appointment", "1")
    result = visit.ok("appointment", "remove", "1", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Removed appointment #1.\n"
    assert as_json(visit.ok("appointment", "list", "--json")) == []
    (question,) = as_json(visit.ok("question", "list", "--json"))
    assert question["appointment"] is None
    assert question["text"] == "Is surgery first?"


def test_bring_adds_replaces_and_clears(visit: Cli) -> None:
    result = visit.ok("appointment", "bring", "1", "1")
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "The packet for appointment #1 holds 1 record:",
        "  #1 Core biopsy (pathology)",
    ]
    data = as_json(visit.ok("appointment", "bring", "1", "2", "--json"))
    assert_keys(data, BRING_KEYS)
    assert data["appointment"] == 1
    assert data["all_records"] is False
    assert data["records"] == [
        {"id": 2, "title": "MRI", "kind": "imaging"},
        {"id": 1, "title": "Core biopsy", "kind": "pathology"},
    ]
    assert sorted(as_json(visit.ok("appointment", "show", "1", "--json"))["records"]) == [1, 2]
    replaced = as_json(visit.ok("appointment", "bring", "1", "1", "--replace", "--json"))
    assert [r["id"] for r in replaced["records"]] == [1]
    cleared = as_json(visit.ok("appointment", "bring", "1", "--clear", "--json"))
    assert cleared["all_records"] is True
    assert [r["id"] for r in cleared["records"]] == [2, 1]
    assert as_json(visit.ok("appointment", "show", "1", "--json"))["records"] == []
    human = visit.ok("appointment", "bring", "1", "--clear").stdout
    assert human.startswith("No records chosen: the packet for appointment #1 holds 2 records:")


# --- refusals -----------------------------------------------------------------------------

ADD = ("appointment", "add", "--doctor", "1")


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("appointment", "add", *AT), 2, ("--doctor",)),
        (("appointment", "add", "--doctor", "1"), 2, ("--at",)),
        (("appointment", "add", "--doctor", "99", *AT), 1, ("doctor #99",)),
        ((*ADD, "--at", "2026-13-45 09:30"), 1, ("--at", "2026-13-45 09:30")),
        ((*ADD, "--at", "next week"), 1, ("--at", "next week")),
        ((*ADD, "--at", "2026-12-03"), 1, ("--at", "no time of day")),
        ((*ADD, "--at", "tomorrow"), 1, ("--at", "no time of day")),
        ((*ADD, "--at", "2026-12-03 25:00"), 1, ("--at",)),
        ((*ADD, "--at", "2026-12-03 09:30", "--tz", "Mars/Olympus"), 1, ("--tz", "Mars/Olympus")),
        ((*ADD, "--at", "2026-12-03 09:30", "--tz", "EST5EDT/../x"), 1, ("--tz",)),
        ((*ADD, *AT, "--purpose", "checkup"), 2, ("--purpose", "checkup")),
        ((*ADD, *AT, "--room", "8"), 2, ("--room",)),
        ((*ADD, *AT, "--companion", "Mar\x00co"), 1, ("--companion", "control")),
        (("appointment", "show", "99"), 1, ("appointment #99", "carebinder appointment list")),
        (("appointment", "edit", "99", "--told-staff"), 1, ("appointment #99",)),
        (("appointment", "edit", "1", "--at", "2026-12-04"), 1, ("--at", "no time of day")),
        (("appointment", "edit", "1", "--at", "next week"), 1, ("--at", "next week")),
        (("appointment", "edit", "1", "--tz", "Nowhere/City"), 1, ("--tz", "Nowhere/City")),
        (("appointment", "edit", "1", "--records-sent", "2026-13-45"), 1, ("--records-sent",)),
        (("appointment", "edit", "1", "--records-sent", "next week"), 1, ("--records-sent",)),
        (("appointment", "edit", "1", "--coverage", "maybe"), 2, ("--coverage", "maybe")),
        (("appointment", "edit", "1", "--status", "missed"), 2, ("--status", "missed")),
        (("appointment", "edit", "1", "--doctor", "99"), 1, ("doctor #99",)),
        (("appointment", "remove", "99", "--yes"), 1, ("appointment #99",)),
        (("appointment", "remove", "1"), 1, ("--yes", "terminal", "appointment #1")),
        (("appointment", "bring", "1"), 1, ("ids of the records", "--clear")),
        (("appointment", "bring", "1", "99"), 1, ("record #99",)),
        (("appointment", "bring", "1", "1", "99"), 1, ("record #99",)),
        (("appointment", "bring", "99", "1"), 1, ("appointment #99",)),
        (("appointment", "bring"), 2, ("appointment",)),
    ],
)
def test_refusals_change_nothing(
    visit: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(visit, "appointment")
    assert_refused(visit(*args), code, *needles)
    assert snapshot(visit, "appointment") == before


def test_edit_with_empty_time_zone_is_refused_by_name(visit: Cli) -> None:
    # Once stored "" as the zone and failed with "Unexpected error (ValueError)".
    before = snapshot(visit, "appointment")
    assert_refused(visit("appointment", "edit", "1", "--tz", ""), 1, "--tz")
    assert snapshot(visit, "appointment") == before


@pytest.mark.parametrize(
    ("at", "tz"), [("9999-12-31 23:59", "America/Los_Angeles"), ("0001-01-01 00:00", "Asia/Tokyo")]
)
def test_dates_at_the_edge_of_the_calendar_are_refused_by_name(
    visit: Cli, at: str, tz: str
) -> None:
    before = snapshot(visit, "appointment")
    assert_refused(visit(*ADD, "--at", at, "--tz", tz), 1, "--at")
    assert snapshot(visit, "appointment") == before


def test_a_time_skipped_by_a_clock_change_is_not_misreported(visit: Cli) -> None:
    result = visit(*ADD, "--at", "2026-03-08 02:30", "--tz", "America/New_York", "--json")
    if result.exit_code == 0:
        added = as_json(result)
        assert as_json(visit.ok("appointment", "show", str(added["id"]), "--json")) == added
    else:
        assert_refused(result, 1, "--at")
