"""`carebinder condition add|list|show|edit|remove`."""

from __future__ import annotations

import pytest

from tests.cli.cliutil import CONDITION_KEYS, as_json, assert_keys, assert_refused, snapshot
from tests.conftest import Cli


@pytest.fixture
def conditions(binder: Cli) -> Cli:
    """Condition #1 Type 2 diabetes since 2015-03-01; #2 Asthma."""
    binder.ok("condition", "add", "Type 2 diabetes", "--since", "2015-03-01")
    binder.ok("condition", "add", "Asthma")
    return binder


def test_add_prints_the_new_id_and_json_has_every_fact(binder: Cli) -> None:
    result = binder.ok("condition", "add", "Hypertension")
    assert (result.stdout, result.stderr) == ("Added condition #1: Hypertension\n", "")
    args = ("condition", "add", " COPD ", "--since", "2019-05-01", "--notes", "Inhaler")
    data = as_json(binder.ok(*args, "--json"))
    assert_keys(data, CONDITION_KEYS)
    assert data == {"id": 2, "name": "COPD", "since": "2019-05-01", "notes": "Inhaler"}
    assert as_json(binder.ok("condition", "show", "2", "--json")) == data


def test_list_by_name(conditions: Cli) -> None:
    result = conditions.ok("condition", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "SINCE", "NOTES"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]
    rows = as_json(conditions.ok("condition", "list", "--json"))
    assert [c["name"] for c in rows] == ["Asthma", "Type 2 diabetes"]
    for row in rows:
        assert_keys(row, CONDITION_KEYS)


def test_list_when_empty(binder: Cli) -> None:
    result = binder.ok("condition", "list")
    assert result.stdout == ""
    assert result.stderr == "No other conditions recorded. Add one: carebinder condition add NAME\n"
    assert as_json(binder.ok("condition", "list", "--json")) == []


def test_show_edit_remove(conditions: Cli) -> None:
    assert conditions.ok("condition", "show", "1").stdout.splitlines() == [
        "Condition: #1 Type 2 diabetes",
        "Since:     2015-03-01",
    ]
    result = conditions.ok("condition", "edit", "1", "--since", "", "--notes", "On metformin")
    assert result.stdout == "Updated condition #1: Type 2 diabetes\n"
    data = as_json(conditions.ok("condition", "show", "1", "--json"))
    assert (data["since"], data["notes"]) == (None, "On metformin")
    removed = conditions.ok("condition", "remove", "2", "--yes")
    assert (removed.stdout, removed.stderr) == ("", "Removed condition #2.\n")
    assert [c["id"] for c in as_json(conditions.ok("condition", "list", "--json"))] == [1]


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("condition", "add", ""), 1, ("NAME cannot be empty",)),
        (("condition", "add", "X", "--since", "2026-02-30"), 1, ("--since", "2026-02-30")),
        (("condition", "edit", "1", "--name", " "), 1, ("--name cannot be empty",)),
        (("condition", "show", "99"), 1, ("condition #99", "carebinder condition list")),
        (("condition", "edit", "99", "--notes", "x"), 1, ("condition #99",)),
        (("condition", "remove", "99", "--yes"), 1, ("condition #99",)),
        (("condition", "remove", "1"), 1, ("--yes", "terminal", "condition #1")),
    ],
)
def test_refusals_change_nothing(
    conditions: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(conditions, "condition")
    assert_refused(conditions(*args), code, *needles)
    assert snapshot(conditions, "condition") == before
