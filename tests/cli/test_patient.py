"""`carebinder patient add|list|show|edit|use|remove`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.cliutil import (
    INSURANCE_KEYS,
    PATIENT_KEYS,
    as_json,
    assert_keys,
    assert_refused,
    forget_chosen_patient,
    snapshot,
)
from tests.conftest import Cli, blob_files

FULL = (
    "--mrn",
    "MRN-77",
    "--phone",
    "+1 555 0100",
    "--email",
    "bob@example.org",
    "--address",
    "12 Main St",
    "--insurer",
    "Acme Health",
    "--plan",
    "PPO Gold",
    "--member-id",
    "W123456789",
    "--insurer-phone",
    "+1 555 0199",
)


@pytest.fixture
def two_patients(binder: Cli) -> Cli:
    binder.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    return binder


# --- happy paths --------------------------------------------------------------------------


def test_add_prints_the_new_id(binder: Cli) -> None:
    result = binder.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    assert result.stdout == "Added patient #2: Bob Lee\n"
    assert result.stderr == (
        "Commands still work on patient #1 Ana Souza. To work on Bob Lee:"
        " carebinder patient use 2 (or add --patient 2 to a command).\n"
    )


def test_add_json_has_every_fact(binder: Cli) -> None:
    data = as_json(
        binder.ok("patient", "add", "  Bob Lee  ", "--born", "1950-01-02", *FULL, "--json")
    )
    assert_keys(data, PATIENT_KEYS)
    assert_keys(data["insurance"], INSURANCE_KEYS)
    assert data["id"] == 2
    assert data["name"] == "Bob Lee"  # surrounding spaces are dropped
    assert data["born"] == "1950-01-02"
    assert (data["mrn"], data["phone"], data["email"], data["address"]) == (
        "MRN-77",
        "+1 555 0100",
        "bob@example.org",
        "12 Main St",
    )
    assert data["insurance"] == {
        "payer": "Acme Health",
        "plan": "PPO Gold",
        "member_id": "W123456789",
        "phone": "+1 555 0199",
    }


def test_list_table_marks_the_only_patient(binder: Cli) -> None:
    result = binder.ok("patient", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "BORN", "MRN", "INSURER"]
    assert lines[1].split() == ["*", "1", "Ana", "Souza", "1964-04-12"]


def test_list_json(two_patients: Cli) -> None:
    rows = as_json(two_patients.ok("patient", "list", "--json"))
    assert [r["name"] for r in rows] == ["Ana Souza", "Bob Lee"]
    for row in rows:
        assert_keys(row, PATIENT_KEYS)
        assert_keys(row["insurance"], INSURANCE_KEYS)


def test_list_when_empty_says_so_on_stderr(cli: Cli) -> None:
    cli.ok("init")
    result = cli.ok("patient", "list")
    assert result.stdout == ""
    assert "No patients yet" in result.stderr
    assert as_json(cli.ok("patient", "list", "--json")) == []


def test_show_human_and_json(binder: Cli) -> None:
    binder.ok("patient", "edit", "1", "--insurer", "Acme Health", "--member-id", "W1")
    result = binder.ok("patient", "show", "1")
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "Patient:       #1 Ana Souza",
        "Born:          1964-04-12",
        "Insurer:       Acme Health",
        "Member id:     W1",
    ]
    data = as_json(binder.ok("patient", "show", "1", "--json"))
    assert_keys(data, PATIENT_KEYS)
    assert data["insurance"]["payer"] == "Acme Health"
    assert data["insurance"]["member_id"] == "W1"


def test_edit_changes_and_clears_fields(binder: Cli) -> None:
    result = binder.ok("patient", "edit", "1", "--name", "Ana M. Souza", *FULL)
    assert result.stdout == "Updated patient #1: Ana M. Souza\n"
    assert result.stderr == ""
    data = as_json(
        binder.ok("patient", "edit", "1", "--phone", "", "--born", "1964-04-13", "--json")
    )
    assert data["name"] == "Ana M. Souza"
    assert data["born"] == "1964-04-13"
    assert data["phone"] is None  # "" clears
    assert data["mrn"] == "MRN-77"  # untouched fields keep their value
    assert as_json(binder.ok("patient", "show", "1", "--json")) == data


def test_use_is_a_note_on_stderr_and_is_remembered(two_patients: Cli) -> None:
    result = two_patients.ok("patient", "use", "2")
    assert result.stdout == ""
    assert result.stderr == "Now working on patient #2: Bob Lee\n"
    two_patients.ok("doctor", "add", "Dr. Bob's Doctor")
    assert [d["name"] for d in as_json(two_patients.ok("doctor", "list", "--json"))] == [
        "Dr. Bob's Doctor"
    ]
    assert as_json(two_patients.ok("--patient", "1", "doctor", "list", "--json")) == []
    listing = two_patients.ok("patient", "list").stdout.splitlines()
    assert listing[1].split()[:2] == ["1", "Ana"]
    assert listing[2].split()[:2] == ["*", "2"]


def test_remove_with_yes_removes_everything_of_that_patient(
    two_patients: Cli, home: Path, make_pdf: Callable[..., Path]
) -> None:
    two_patients.ok("patient", "use", "2")
    two_patients.ok("doctor", "add", "Dr. Wei Chen")
    two_patients.ok("record", "add", "pathology", "Biopsy", "--file", str(make_pdf()))
    assert len(blob_files(home)) == 1
    result = two_patients.ok("patient", "remove", "2", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Removed patient #2.\n"
    assert [p["id"] for p in as_json(two_patients.ok("patient", "list", "--json"))] == [1]
    assert blob_files(home) == []
    # The remembered choice is forgotten, so the only patient is chosen again.
    assert as_json(two_patients.ok("doctor", "list", "--json")) == []


def test_remove_short_yes_flag(two_patients: Cli) -> None:
    two_patients.ok("patient", "remove", "2", "-y")
    assert len(as_json(two_patients.ok("patient", "list", "--json"))) == 1


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("patient", "add", "", "--born", "1950-01-02"), 1, ("NAME", "empty")),
        (("patient", "add", "   ", "--born", "1950-01-02"), 1, ("NAME", "empty")),
        (("patient", "add", "Bob\x1b[31m", "--born", "1950-01-02"), 1, ("NAME", "control")),
        (("patient", "add", "Bob", "--born", "2026-13-45"), 1, ("--born", "2026-13-45")),
        (("patient", "add", "Bob", "--born", "next week"), 1, ("--born", "next week")),
        (("patient", "add", "Bob", "--born", "2099-01-01"), 1, ("--born", "future")),
        (("patient", "add", "Bob"), 2, ("--born",)),
        (("patient", "add", "Bob", "--born", "1950-01-02", "--colour", "x"), 2, ("--colour",)),
        (("patient", "add", "Bob", "--born", "1950-01-02", "--phone", "1\n2"), 1, ("--phone",)),
        (("patient", "show", "99"), 1, ("patient #99", "patient list")),
        (("patient", "show", "abc"), 2, ("abc",)),
        (("patient", "edit", "99", "--name", "X"), 1, ("patient #99",)),
        (("patient", "edit", "1", "--name", ""), 1, ("--name", "empty")),
        (("patient", "edit", "1", "--born", "2026-13-45"), 1, ("--born", "2026-13-45")),
        (("patient", "edit", "1", "--born", "next week"), 1, ("--born",)),
        (("patient", "use", "99"), 1, ("patient #99",)),
        (("patient", "remove", "99", "--yes"), 1, ("patient #99",)),
        (("patient", "remove", "1"), 1, ("--yes", "terminal")),
    ],
)
def test_refusals_change_nothing(
    binder: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    before = snapshot(binder, "patient", "doctor")
    assert_refused(binder(*args), code, *needles)
    assert snapshot(binder, "patient", "doctor") == before


def test_remove_without_terminal_says_what_would_go(two_patients: Cli) -> None:
    two_patients.ok("--patient", "2", "doctor", "add", "Dr. Wei Chen")
    line = assert_refused(two_patients("patient", "remove", "2"), 1, "patient #2 Bob Lee")
    assert "doctor" in line
    assert len(as_json(two_patients.ok("patient", "list", "--json"))) == 2
    assert len(as_json(two_patients.ok("--patient", "2", "doctor", "list", "--json"))) == 1


def test_use_of_unknown_patient_keeps_the_earlier_choice(two_patients: Cli) -> None:
    two_patients.ok("patient", "use", "2")
    assert_refused(two_patients("patient", "use", "99"), 1, "patient #99")
    two_patients.ok("doctor", "add", "Dr. Chosen")
    assert len(as_json(two_patients.ok("--patient", "2", "doctor", "list", "--json"))) == 1


# --- a caregiver's second patient (the first stays chosen) -------------------------------------


def test_adding_a_mother_leaves_the_binder_on_its_first_patient(cli: Cli) -> None:
    """As a caregiver would: init for Ana, add her mother, and go on working on Ana."""
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    cli.ok("patient", "add", "Mother Souza", "--born", "1940-01-01")
    cli.ok("doctor", "add", "Dr. Wei Chen")
    listing = cli.ok("doctor", "list")
    assert "Dr. Wei Chen" in listing.stdout
    assert listing.stderr == "Patient: Ana Souza (#1)\n"  # each message names whose binder
    assert as_json(cli.ok("--patient", "2", "doctor", "list", "--json")) == []
    cli.ok("patient", "use", "2")
    assert cli.ok("doctor", "list").stderr.startswith("Patient: Mother Souza (#2)")


def test_the_first_patient_added_becomes_the_chosen_one(cli: Cli) -> None:
    cli.ok("init")
    first = cli.ok("patient", "add", "Ana Souza", "--born", "1964-04-12")
    assert first.stderr == ""  # nothing to switch from
    second = cli.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    assert "carebinder patient use 2" in second.stderr
    cli.ok("question", "add", "Which trials am I eligible for?")
    assert len(as_json(cli.ok("--patient", "1", "question", "list", "--json"))) == 1


def test_removing_the_chosen_patient_leaves_the_one_left_chosen(
    two_patients: Cli,
) -> None:
    two_patients.ok("patient", "remove", "1", "--yes")
    added = two_patients.ok("patient", "add", "Cleo Lee", "--born", "1980-05-06")
    assert "still work on patient #2 Bob Lee" in added.stderr  # Bob is the only one left
    two_patients.ok("patient", "remove", "2", "--yes")
    two_patients.ok("patient", "remove", "3", "--yes")  # an empty binder: the next is chosen
    assert two_patients.ok("patient", "add", "Dan Lee", "--born", "1981-05-06").stderr == ""
    two_patients.ok("patient", "add", "Eve Lee", "--born", "1982-05-06")
    assert two_patients.ok("doctor", "list").stderr.startswith("Patient: Dan Lee (#")


def test_show_without_an_id_shows_the_chosen_patient(two_patients: Cli) -> None:
    assert two_patients.ok("patient", "show").stdout.startswith("Patient:       #1 Ana Souza")
    two_patients.ok("patient", "use", "2")
    assert as_json(two_patients.ok("patient", "show", "--json"))["name"] == "Bob Lee"
    assert two_patients.ok("--patient", "1", "patient", "show").stdout.startswith(
        "Patient:       #1 Ana Souza"
    )


def test_json_output_names_no_patient(two_patients: Cli) -> None:
    """Scripts read --json (and `-o -`) output: nothing else comes with the document."""
    assert as_json(two_patients.ok("doctor", "list", "--json")) == []
    added = two_patients.ok("patient", "add", "Cleo Lee", "--born", "1980-05-06", "--json")
    assert added.stderr == ""
    exported = two_patients.ok("export", "-o", "-")
    assert exported.stderr == ""


def test_one_patient_binders_name_no_patient(binder: Cli) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    assert binder.ok("doctor", "list").stderr == ""


def test_a_refusal_stays_one_line_in_a_binder_of_several(two_patients: Cli) -> None:
    assert_refused(two_patients("doctor", "show", "99"), 1, "doctor #99")


def test_a_patient_added_beside_several_unchosen_ones_says_how_to_choose(
    two_patients: Cli,
) -> None:
    forget_chosen_patient()  # a shared binder where nobody chose a patient
    added = two_patients.ok("patient", "add", "Cleo Lee", "--born", "1980-05-06")
    assert added.stderr == (
        "To work on Cleo Lee: carebinder patient use 3 (or add --patient 3 to a command).\n"
    )
    assert_refused(two_patients("doctor", "list"), 1, "several patients")
