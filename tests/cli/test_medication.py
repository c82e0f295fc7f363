"""`carebinder medication add|list|show|edit|stop|remove|none`."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.cli.cliutil import MEDICATION_KEYS, as_json, assert_keys, assert_refused
from tests.conftest import Cli

TODAY = date.today().isoformat()
NOT_RECORDED = (
    "Not recorded yet: nobody has asked. Add one (carebinder medication add NAME)"
    " or say none (carebinder medication none).\n"
)


def state(cli: Cli) -> dict[str, Any]:
    """Everything these commands may change: every medication, and the patient's statement."""
    return {
        "medications": as_json(cli.ok("medication", "list", "--all", "--json")),
        "patient": as_json(cli.ok("patient", "show", "--json")),
    }


@pytest.fixture
def medicated(binder: Cli) -> Cli:
    """Doctor #1; medication #1 Tamoxifen (current, since 2026-11-02, by doctor #1);
    medication #2 Ibuprofen (taken in the first half of 2025)."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok(
        "medication", "add", "Tamoxifen", "--dose", "20 mg", "--how", "by mouth, daily",
        "--started", "2026-11-02", "--for", "breast cancer", "--prescriber", "1",
    )  # fmt: skip
    binder.ok(
        "medication", "add", "Ibuprofen", "--kind", "over-the-counter",
        "--started", "2025-01-01", "--stopped", "2025-06-01",
    )  # fmt: skip
    return binder


# --- happy paths --------------------------------------------------------------------------


def test_add_prints_the_new_id(binder: Cli) -> None:
    result = binder.ok("medication", "add", "Letrozole", "--dose", "2.5 mg")
    assert result.stdout == "Added medication #1: Letrozole 2.5 mg\n"
    assert result.stderr == ""


def test_add_json_has_every_fact(binder: Cli) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    args = (
        "medication", "add", " Vitamin D ", "--dose", "1000 IU", "--how", "by mouth",
        "--kind", "supplement", "--started", "2026-01-02", "--for", "bones",
        "--prescriber", "1", "--notes", "With breakfast", "--json",
    )  # fmt: skip
    data = as_json(binder.ok(*args))
    assert_keys(data, MEDICATION_KEYS)
    assert data == {
        "id": 1,
        "name": "Vitamin D",
        "dose": "1000 IU",
        "how": "by mouth",
        "kind": "supplement",
        "started": "2026-01-02",
        "stopped": None,
        "current": True,
        "reason": "bones",
        "prescriber": 1,
        "prescriber_name": "Dr. Wei Chen",
        "notes": "With breakfast",
    }


@pytest.mark.parametrize("command", ["add", "edit", "stop"])
def test_add_edit_and_stop_json_match_show(medicated: Cli, command: str) -> None:
    args = {
        "add": ("medication", "add", "Calcium", "--kind", "supplement"),
        "edit": ("medication", "edit", "3", "--dose", "500 mg"),
        "stop": ("medication", "stop", "3", "--date", "2026-11-30"),
    }[command]
    if command != "add":
        medicated.ok("medication", "add", "Calcium")
    printed = as_json(medicated.ok(*args, "--json"))
    assert printed == as_json(medicated.ok("medication", "show", "3", "--json"))


def test_list_shows_the_current_ones(medicated: Cli) -> None:
    result = medicated.ok("medication", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "DOSE", "HOW", "KIND", "FOR", "STARTED"]
    assert len(lines) == 2
    assert lines[1].split()[:4] == ["1", "Tamoxifen", "20", "mg"]
    assert "breast cancer" in lines[1]
    rows = as_json(medicated.ok("medication", "list", "--json"))
    assert [(m["id"], m["current"]) for m in rows] == [(1, True)]
    for row in rows:
        assert_keys(row, MEDICATION_KEYS)


def test_list_all_adds_the_stopped_ones(medicated: Cli) -> None:
    result = medicated.ok("medication", "list", "--all")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "DOSE", "HOW", "KIND", "FOR", "STARTED", "STOPPED"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2"]
    assert lines[2].split() == ["2", "Ibuprofen", "over-the-counter", "2025-01-01", "2025-06-01"]
    rows = as_json(medicated.ok("medication", "list", "--all", "--json"))
    assert [(m["id"], m["current"], m["stopped"]) for m in rows] == [
        (1, True, None),
        (2, False, "2025-06-01"),
    ]


def test_show(medicated: Cli) -> None:
    result = medicated.ok("medication", "show", "1")
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "Medication: #1 Tamoxifen",
        "Dose:       20 mg",
        "How:        by mouth, daily",
        "Kind:       prescription",
        "For:        breast cancer",
        "Started:    2026-11-02",
        "Now:        takes it",
        "Prescriber: #1 Dr. Wei Chen",
    ]
    assert "Now:        stopped" in medicated.ok("medication", "show", "2").stdout


def test_edit_changes_and_clears_fields(medicated: Cli) -> None:
    result = medicated.ok("medication", "edit", "1", "--dose", "10 mg")
    assert result.stdout == "Updated medication #1: Tamoxifen 10 mg\n"
    args = (
        "medication", "edit", "1", "--for", "", "--how", "", "--started", "",
        "--kind", "prescription", "--notes", "Halved", "--json",
    )  # fmt: skip
    data = as_json(medicated.ok(*args))
    assert (data["dose"], data["reason"], data["how"], data["started"], data["notes"]) == (
        "10 mg",
        None,
        None,
        None,
        "Halved",
    )


def test_stop_keeps_it_in_the_history(medicated: Cli) -> None:
    result = medicated.ok("medication", "stop", "1", "--date", "2026-11-30")
    assert result.stdout == (
        "Stopped medication #1 Tamoxifen on 2026-11-30"
        " (it stays in `carebinder medication list --all`)\n"
    )
    assert result.stderr == ""
    assert as_json(medicated.ok("medication", "list", "--json")) == []
    assert [m["id"] for m in as_json(medicated.ok("medication", "list", "--all", "--json"))] == [
        1,
        2,
    ]


def test_stop_is_today_by_default(medicated: Cli) -> None:
    data = as_json(medicated.ok("medication", "stop", "1", "--json"))
    assert (data["stopped"], data["current"]) == (TODAY, False)


def test_remove_with_yes(medicated: Cli) -> None:
    result = medicated.ok("medication", "remove", "2", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Removed medication #2.\n"
    assert [m["id"] for m in as_json(medicated.ok("medication", "list", "--all", "--json"))] == [1]


# --- the three states ----------------------------------------------------------------------


def test_list_says_nothing_is_recorded_yet(binder: Cli) -> None:
    result = binder.ok("medication", "list")
    assert (result.stdout, result.stderr) == ("", NOT_RECORDED)
    assert as_json(binder.ok("medication", "list", "--json")) == []
    assert as_json(binder.ok("patient", "show", "--json"))["no_medications_on"] is None


def test_none_is_stated_today_and_list_says_so(binder: Cli) -> None:
    result = binder.ok("medication", "none")
    assert result.stdout == f"Recorded “takes no medications” (stated {TODAY}).\n"
    assert result.stderr == ""
    listed = binder.ok("medication", "list")
    assert (listed.stdout, listed.stderr) == ("", f"Takes no medications (stated {TODAY}).\n")
    # --json stays a list of medications; the statement is the patient's.
    assert as_json(binder.ok("medication", "list", "--json")) == []
    assert as_json(binder.ok("patient", "show", "--json"))["no_medications_on"] == TODAY
    assert f"Medications:   takes none (stated {TODAY})" in binder.ok("patient", "show").stdout


def test_none_json_is_the_patient(binder: Cli) -> None:
    data = as_json(binder.ok("medication", "none", "--json"))
    assert (data["id"], data["no_medications_on"], data["no_allergies_on"]) == (1, TODAY, None)


def test_adding_one_ends_takes_none_and_says_so(binder: Cli) -> None:
    binder.ok("medication", "none")
    result = binder.ok("medication", "add", "Tamoxifen")
    assert result.stdout == "Added medication #1: Tamoxifen\n"
    assert result.stderr == f"This ends “takes no medications” (stated {TODAY}).\n"
    assert as_json(binder.ok("patient", "show", "--json"))["no_medications_on"] is None
    assert binder.ok("medication", "list").stderr == ""


def test_adding_one_with_json_says_so_on_stderr_only(binder: Cli) -> None:
    binder.ok("medication", "none")
    result = binder.ok("medication", "add", "Tamoxifen", "--json")
    assert as_json(result, quiet=False)["name"] == "Tamoxifen"
    assert result.stderr == f"This ends “takes no medications” (stated {TODAY}).\n"


def test_a_stopped_one_does_not_end_takes_none(binder: Cli) -> None:
    binder.ok("medication", "none")
    result = binder.ok("medication", "add", "Ibuprofen", "--stopped", "2025-06-01")
    assert result.stderr == ""
    assert as_json(binder.ok("patient", "show", "--json"))["no_medications_on"] == TODAY
    # With --all, the history and the statement both show.
    listed = binder.ok("medication", "list", "--all")
    assert "Ibuprofen" in listed.stdout
    assert listed.stderr == f"Takes no medications (stated {TODAY}).\n"


def test_only_stopped_ones_is_not_a_statement(binder: Cli) -> None:
    binder.ok("medication", "add", "Ibuprofen", "--stopped", "2025-06-01")
    result = binder.ok("medication", "list")
    assert result.stdout == ""
    assert result.stderr == (
        "No current medication recorded (1 stopped: carebinder medication list --all)."
        " Add one (carebinder medication add NAME) or say none (carebinder medication none).\n"
    )
    binder.ok("medication", "none")  # none of them is current: allowed


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (
            ("medication", "add", "X", "--started", "2026-02-01", "--stopped", "2026-01-01"),
            1,
            ("--stopped (2026-01-01) is before started (2026-02-01)",),
        ),
        (("medication", "edit", "1", "--stopped", "2026-01-01"), 1, ("--stopped", "before")),
        (
            ("medication", "stop", "1", "--date", "2026-01-01"),
            1,
            ("--date (2026-01-01) is before started (2026-11-02)",),
        ),
        (("medication", "stop", "2"), 1, ("Ibuprofen was already stopped on 2025-06-01",)),
        (("medication", "add", "X", "--prescriber", "99"), 1, ("doctor #99", "doctor list")),
        (("medication", "edit", "1", "--prescriber", "99"), 1, ("doctor #99",)),
        (
            (
                "medication",
                "none",
            ),
            1,
            ("1 medication is still current (Tamoxifen). Stop it first",),
        ),
        (("medication", "add", "X", "--kind", "vitamin"), 2, ("--kind", "vitamin")),
        (("medication", "add", ""), 1, ("NAME cannot be empty",)),
        (("medication", "add", "X", "--for", "x" * 201), 1, ("--for is too long",)),
        (("medication", "add", "X", "--started", "next week"), 1, ("--started", "next week")),
        (("medication", "stop", "1", "--date", "2026-13-45"), 1, ("--date", "2026-13-45")),
        (("medication", "show", "99"), 1, ("medication #99", "carebinder medication list")),
        (("medication", "edit", "99", "--dose", "1 mg"), 1, ("medication #99",)),
        (("medication", "stop", "99"), 1, ("medication #99",)),
        (("medication", "remove", "99", "--yes"), 1, ("medication #99",)),
        (("medication", "remove", "1"), 1, ("--yes", "terminal", "medication #1 Tamoxifen")),
        (("medication", "list", "extra"), 2, ()),
    ],
)
def test_refusals_change_nothing(
    medicated: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = state(medicated)
    assert_refused(medicated(*args), code, *needles)
    assert state(medicated) == before


def test_none_is_refused_while_one_is_current_and_nothing_is_stated(medicated: Cli) -> None:
    assert_refused(medicated("medication", "none"), 1, "still current")
    assert as_json(medicated.ok("patient", "show", "--json"))["no_medications_on"] is None


def test_another_patients_medication_is_not_found(medicated: Cli) -> None:
    medicated.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    before = state(medicated)
    assert_refused(medicated("--patient", "2", "medication", "stop", "1"), 1, "medication #1")
    assert_refused(
        medicated("--patient", "2", "medication", "add", "X", "--prescriber", "1"), 1, "doctor #1"
    )
    assert state(medicated) == before
