"""`carebinder allergy add|list|show|edit|remove|none`."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.cli.cliutil import ALLERGY_KEYS, as_json, assert_keys, assert_refused
from tests.conftest import Cli

TODAY = date.today().isoformat()


def state(cli: Cli) -> dict[str, Any]:
    return {
        "allergies": as_json(cli.ok("allergy", "list", "--json")),
        "patient": as_json(cli.ok("patient", "show", "--json")),
    }


@pytest.fixture
def allergic(binder: Cli) -> Cli:
    """Allergy #1 Penicillin (hives, moderate, a medication); #2 Latex (severe)."""
    args = (
        "allergy", "add", "Penicillin", "--reaction", "hives", "--severity", "moderate",
        "--kind", "medication",
    )  # fmt: skip
    binder.ok(*args)
    binder.ok("allergy", "add", "Latex", "--severity", "severe")
    return binder


def test_add_prints_the_new_id(binder: Cli) -> None:
    result = binder.ok("allergy", "add", "Peanuts")
    assert result.stdout == "Added allergy #1: Peanuts\n"
    assert result.stderr == ""


def test_add_json_has_every_fact(binder: Cli) -> None:
    args = (
        "allergy", "add", " Shellfish ", "--reaction", "throat swelling", "--severity",
        "severe", "--kind", "food", "--notes", "Carries an EpiPen", "--json",
    )  # fmt: skip
    data = as_json(binder.ok(*args))
    assert_keys(data, ALLERGY_KEYS)
    assert data == {
        "id": 1,
        "substance": "Shellfish",
        "reaction": "throat swelling",
        "severity": "severe",
        "kind": "food",
        "notes": "Carries an EpiPen",
    }


@pytest.mark.parametrize("command", ["add", "edit"])
def test_add_and_edit_json_match_show(allergic: Cli, command: str) -> None:
    args = {
        "add": ("allergy", "add", "Dust", "--kind", "environment"),
        "edit": ("allergy", "edit", "1", "--severity", "mild"),
    }[command]
    printed = as_json(allergic.ok(*args, "--json"))
    shown = as_json(allergic.ok("allergy", "show", str(printed["id"]), "--json"))
    assert printed == shown


def test_list_severe_ones_first(allergic: Cli) -> None:
    result = allergic.ok("allergy", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "SUBSTANCE", "REACTION", "SEVERITY", "KIND"]
    assert lines[1].split() == ["2", "Latex", "severe"]
    assert lines[2].split() == ["1", "Penicillin", "hives", "moderate", "medication"]
    rows = as_json(allergic.ok("allergy", "list", "--json"))
    assert [a["id"] for a in rows] == [2, 1]
    for row in rows:
        assert_keys(row, ALLERGY_KEYS)


def test_show(allergic: Cli) -> None:
    result = allergic.ok("allergy", "show", "1")
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "Allergy:  #1 Penicillin",
        "Reaction: hives",
        "Severity: moderate",
        "Kind:     medication",
    ]


def test_edit_changes_and_clears_fields(allergic: Cli) -> None:
    result = allergic.ok("allergy", "edit", "1", "--reaction", "", "--severity", "severe")
    assert result.stdout == "Updated allergy #1: Penicillin\n"
    data = as_json(allergic.ok("allergy", "show", "1", "--json"))
    assert (data["reaction"], data["severity"], data["kind"]) == (None, "severe", "medication")


def test_remove_with_yes(allergic: Cli) -> None:
    result = allergic.ok("allergy", "remove", "2", "--yes")
    assert (result.stdout, result.stderr) == ("", "Removed allergy #2.\n")
    assert [a["id"] for a in as_json(allergic.ok("allergy", "list", "--json"))] == [1]


# --- the three states ----------------------------------------------------------------------


def test_list_says_nothing_is_recorded_yet(binder: Cli) -> None:
    result = binder.ok("allergy", "list")
    assert result.stdout == ""
    assert result.stderr == (
        "Not recorded yet: nobody has asked. Add one (carebinder allergy add SUBSTANCE)"
        " or say none (carebinder allergy none).\n"
    )
    assert as_json(binder.ok("allergy", "list", "--json")) == []


def test_none_is_stated_today_and_list_says_so(binder: Cli) -> None:
    result = binder.ok("allergy", "none")
    assert result.stdout == f"Recorded “no known allergies” (stated {TODAY}).\n"
    assert result.stderr == ""
    listed = binder.ok("allergy", "list")
    assert (listed.stdout, listed.stderr) == ("", f"No known allergies (stated {TODAY}).\n")
    assert as_json(binder.ok("allergy", "list", "--json")) == []
    assert as_json(binder.ok("patient", "show", "--json"))["no_allergies_on"] == TODAY
    assert f"Allergies:     none known (stated {TODAY})" in binder.ok("patient", "show").stdout


def test_adding_one_ends_no_known_allergies_and_says_so(binder: Cli) -> None:
    binder.ok("allergy", "none")
    result = binder.ok("allergy", "add", "Penicillin")
    assert result.stdout == "Added allergy #1: Penicillin\n"
    assert result.stderr == f"This ends “no known allergies” (stated {TODAY}).\n"
    assert as_json(binder.ok("patient", "show", "--json"))["no_allergies_on"] is None
    second = binder.ok("allergy", "add", "Latex")
    assert second.stderr == ""


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("allergy", "add", "X", "--severity", "apocalyptic"), 2, ("--severity", "apocalyptic")),
        (("allergy", "add", "X", "--kind", "pollen"), 2, ("--kind", "pollen")),
        (("allergy", "edit", "1", "--severity", "apocalyptic"), 2, ("--severity",)),
        (("allergy", "add", " "), 1, ("SUBSTANCE cannot be empty",)),
        (("allergy", "edit", "1", "--substance", ""), 1, ("--substance cannot be empty",)),
        (("allergy", "add", "X", "--reaction", "a\x1b[2Jb"), 1, ("--reaction", "control")),
        (
            ("allergy", "none"),
            1,
            ("2 allergies are recorded (Latex, Penicillin). Remove them first",),
        ),
        (("allergy", "show", "99"), 1, ("allergy #99", "carebinder allergy list")),
        (("allergy", "edit", "99", "--reaction", "x"), 1, ("allergy #99",)),
        (("allergy", "remove", "99", "--yes"), 1, ("allergy #99",)),
        (("allergy", "remove", "1"), 1, ("--yes", "terminal", "allergy #1 Penicillin")),
    ],
)
def test_refusals_change_nothing(
    allergic: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = state(allergic)
    assert_refused(allergic(*args), code, *needles)
    assert state(allergic) == before
