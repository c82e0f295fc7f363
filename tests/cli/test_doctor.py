"""`carebinder doctor add|list|show|edit|remove`."""

from __future__ import annotations

import pytest

from tests.cli.cliutil import DOCTOR_KEYS, as_json, assert_keys, assert_refused, snapshot
from tests.conftest import Cli


@pytest.fixture
def team(binder: Cli) -> Cli:
    """Dr. Wei Chen (#1) referred the patient to Dr. Ada Park (#2)."""
    binder.ok(
        "doctor",
        "add",
        "Dr. Wei Chen",
        "--specialty",
        "Medical oncology",
        "--institution",
        "Mercy Hospital",
        "--role",
        "diagnosing",
    )
    binder.ok("doctor", "add", "Dr. Ada Park", "--referred-by", "1", "--role", "second-opinion")
    return binder


# --- happy paths --------------------------------------------------------------------------


def test_add_prints_the_new_id(binder: Cli) -> None:
    result = binder.ok("doctor", "add", "Dr. Wei Chen")
    assert result.stdout == "Added doctor #1: Dr. Wei Chen\n"
    assert result.stderr == ""


def test_add_json_has_every_fact(team: Cli) -> None:
    data = as_json(
        team.ok(
            "doctor",
            "add",
            "  Dr. Lena Ortiz ",
            "--specialty",
            "Radiation oncology",
            "--institution",
            "Dana-Farber",
            "--role",
            "third-opinion",
            "--phone",
            "617-555-0100",
            "--email",
            "ortiz@example.org",
            "--address",
            "450 Brookline Ave\nBoston",
            "--npi",
            "1234567893",
            "--referred-by",
            "2",
            "--notes",
            "Very kind.\nAnswers email.",
            "--json",
        )
    )
    assert_keys(data, DOCTOR_KEYS)
    assert data == {
        "id": 3,
        "name": "Dr. Lena Ortiz",
        "specialty": "Radiation oncology",
        "institution": "Dana-Farber",
        "role": "third-opinion",
        "phone": "617-555-0100",
        "email": "ortiz@example.org",
        "address": "450 Brookline Ave\nBoston",
        "npi": "1234567893",
        "referred_by": 2,
        "notes": "Very kind.\nAnswers email.",
    }


def test_list_table_and_json(team: Cli) -> None:
    result = team.ok("doctor", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "SPECIALTY", "INSTITUTION", "ROLE", "PHONE"]
    assert "Dr. Ada Park" in lines[1]
    assert "second-opinion" in lines[1]
    assert "Dr. Wei Chen" in lines[2]
    assert "Medical oncology" in lines[2]
    rows = as_json(team.ok("doctor", "list", "--json"))
    assert [(d["id"], d["name"]) for d in rows] == [(2, "Dr. Ada Park"), (1, "Dr. Wei Chen")]
    for row in rows:
        assert_keys(row, DOCTOR_KEYS)


def test_list_when_empty(binder: Cli) -> None:
    result = binder.ok("doctor", "list")
    assert result.stdout == ""
    assert "No doctors yet" in result.stderr
    assert as_json(binder.ok("doctor", "list", "--json")) == []


def test_show_human_names_the_referrer(team: Cli) -> None:
    result = team.ok("doctor", "show", "2")
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "Doctor:      #2 Dr. Ada Park",
        "Role:        second-opinion",
        "Referred by: #1 Dr. Wei Chen",
    ]


def test_show_json(team: Cli) -> None:
    data = as_json(team.ok("doctor", "show", "1", "--json"))
    assert_keys(data, DOCTOR_KEYS)
    assert data["name"] == "Dr. Wei Chen"
    assert data["institution"] == "Mercy Hospital"
    assert data["role"] == "diagnosing"
    assert data["referred_by"] is None


def test_edit_changes_and_clears_fields(team: Cli) -> None:
    result = team.ok("doctor", "edit", "1", "--phone", "555-0100", "--name", "Dr. Wei Chen, MD")
    assert result.stdout == "Updated doctor #1: Dr. Wei Chen, MD\n"
    assert result.stderr == ""
    data = as_json(team.ok("doctor", "edit", "1", "--institution", "", "--json"))
    assert data["institution"] is None
    assert data["phone"] == "555-0100"
    assert data["specialty"] == "Medical oncology"
    assert as_json(team.ok("doctor", "show", "1", "--json")) == data


def test_edit_referred_by(team: Cli) -> None:
    team.ok("doctor", "add", "Dr. Third")
    data = as_json(team.ok("doctor", "edit", "3", "--referred-by", "2", "--json"))
    assert data["referred_by"] == 2


def test_remove_with_yes(team: Cli) -> None:
    result = team.ok("doctor", "remove", "2", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Removed doctor #2.\n"
    assert [d["id"] for d in as_json(team.ok("doctor", "list", "--json"))] == [1]


def test_removing_a_referrer_keeps_the_doctor_they_referred(team: Cli) -> None:
    team.ok("doctor", "remove", "1", "--yes")
    assert as_json(team.ok("doctor", "show", "2", "--json"))["referred_by"] is None


def test_removing_a_record_source_keeps_the_record(team: Cli) -> None:
    team.ok("record", "add", "pathology", "Biopsy", "--doctor", "1")
    team.ok("doctor", "remove", "1", "--yes")
    (record,) = as_json(team.ok("record", "list", "--json"))
    assert record["doctor"] is None
    assert record["title"] == "Biopsy"


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("doctor", "add", ""), 1, ("NAME", "empty")),
        (("doctor", "add", "  \t "), 1, ("NAME",)),
        (("doctor", "add", "Dr.\x07Bell"), 1, ("NAME", "control character")),
        (("doctor", "add", "Dr. X", "--role", "surgeon"), 2, ("--role", "surgeon")),
        (("doctor", "add", "Dr. X", "--npi", "123"), 1, ("--npi", "10 digits")),
        (("doctor", "add", "Dr. X", "--referred-by", "99"), 1, ("doctor #99",)),
        (("doctor", "add", "Dr. X", "--referred-by", "one"), 2, ("--referred-by",)),
        (("doctor", "add", "Dr. X", "--speciality", "Onc"), 2, ("--speciality",)),
        (("doctor", "add", "Dr. X", "--specialty", "x" * 201), 1, ("--specialty", "too long")),
        (("doctor", "add"), 2, ("name",)),
        (("doctor", "show", "99"), 1, ("doctor #99", "carebinder doctor list")),
        (("doctor", "show", "0"), 1, ("doctor #0",)),
        (("doctor", "show", "99999999999999999999"), 1, ("doctor #99999999999999999999",)),
        (("doctor", "edit", "99", "--phone", "1"), 1, ("doctor #99",)),
        (("doctor", "edit", "1", "--name", ""), 1, ("--name", "empty")),
        (("doctor", "edit", "1", "--role", "boss"), 2, ("--role", "boss")),
        (("doctor", "edit", "1", "--referred-by", "1"), 1, ("--referred-by",)),
        (("doctor", "edit", "1", "--referred-by", "99"), 1, ("doctor #99",)),
        (("doctor", "remove", "99", "--yes"), 1, ("doctor #99",)),
        (("doctor", "remove", "2"), 1, ("--yes", "terminal")),
    ],
)
def test_refusals_change_nothing(
    team: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(team, "doctor")
    assert_refused(team(*args), code, *needles)
    assert snapshot(team, "doctor") == before


def test_referral_loop_is_refused(team: Cli) -> None:
    before = snapshot(team, "doctor")
    # #1 referred #2; #2 cannot also have referred #1.
    assert_refused(team("doctor", "edit", "1", "--referred-by", "2"), 1, "--referred-by")
    assert snapshot(team, "doctor") == before


def test_referral_loop_message_describes_the_loop(team: Cli) -> None:
    line = assert_refused(team("doctor", "edit", "1", "--referred-by", "2"), 1)
    assert "themselves" not in line


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "Invasive ductal carcinoma"),
            "opinion",
        ),
        (("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30"), "appointment"),
    ],
)
def test_remove_doctor_named_by_opinion_or_appointment_is_refused(
    team: Cli, setup: tuple[str, ...], why: str
) -> None:
    team.ok(*setup)
    before = snapshot(team, "doctor", "opinion", "appointment")
    line = assert_refused(team("doctor", "remove", "1", "--yes"), 1, "doctor #1", f"1 {why}")
    assert "Remove or reassign" in line
    assert snapshot(team, "doctor", "opinion", "appointment") == before


def test_remove_refusal_counts_opinions_and_appointments(team: Cli) -> None:
    team.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC")
    team.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC, grade 2")
    team.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    assert_refused(team("doctor", "remove", "1"), 1, "2 opinions and 1 appointment")
