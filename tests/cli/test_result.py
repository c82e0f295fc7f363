"""`carebinder result add|list [NAME]|show|edit|remove`."""

from __future__ import annotations

import pytest

from tests.cli.cliutil import RESULT_KEYS, as_json, assert_keys, assert_refused, snapshot
from tests.conftest import Cli


@pytest.fixture
def marked(binder: Cli) -> Cli:
    """Record #1; CA 19-9 three times, written three ways (#1 37 in June, #2 120 in
    November from record #1, #3 80 in September); #4 HER2 1+, undated."""
    binder.ok("record", "add", "lab", "Tumor markers")
    binder.ok("result", "add", "CA 19-9", "37", "--unit", "U/mL", "--date", "2026-06-01")
    args = (
        "result", "add", "CA19-9", "120", "--unit", "U/mL", "--date", "2026-11-02",
        "--interpretation", "high", "--record", "1",
    )  # fmt: skip
    binder.ok(*args)
    binder.ok("result", "add", "ca 19 9", "80", "--unit", "U/mL", "--date", "2026-09-01")
    binder.ok("result", "add", "HER2", "1+", "--interpretation", "negative")
    return binder


def test_add_prints_the_new_id_and_json_has_every_fact(binder: Cli) -> None:
    binder.ok("record", "add", "pathology", "Core biopsy")
    result = binder.ok("result", "add", "Ki-67", "20", "--unit", "%")
    assert (result.stdout, result.stderr) == ("Added result #1: Ki-67 20 %\n", "")
    args = (
        "result", "add", " ER ", "95", "--unit", "%", "--date", "2026-10-02",
        "--interpretation", "positive", "--record", "1", "--notes", "Allred 8", "--json",
    )  # fmt: skip
    data = as_json(binder.ok(*args))
    assert_keys(data, RESULT_KEYS)
    assert data == {
        "id": 2,
        "name": "ER",
        "value": "95",
        "unit": "%",
        "date": "2026-10-02",
        "interpretation": "positive",
        "record": 1,
        "notes": "Allred 8",
    }
    assert as_json(binder.ok("result", "show", "2", "--json")) == data


def test_list_by_marker_then_date(marked: Cli) -> None:
    result = marked.ok("result", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "VALUE", "DATE", "INTERPRETATION", "RECORD"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "3", "2", "4"]
    assert lines[3].split() == ["2", "CA19-9", "120", "U/mL", "2026-11-02", "high", "#1"]
    rows = as_json(marked.ok("result", "list", "--json"))
    assert [r["id"] for r in rows] == [1, 3, 2, 4]
    for row in rows:
        assert_keys(row, RESULT_KEYS)


@pytest.mark.parametrize("name", ["CA 19-9", "CA19-9", "ca 19 9"])
def test_list_name_is_the_trend_first_to_latest(marked: Cli, name: str) -> None:
    result = marked.ok("result", "list", name)
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "DATE", "VALUE", "INTERPRETATION", "RECORD"]
    assert [line.split()[:2] for line in lines[1:4]] == [
        ["1", "2026-06-01"],
        ["3", "2026-09-01"],
        ["2", "2026-11-02"],
    ]
    assert lines[4:] == [
        "",
        "CA19-9: 37 U/mL (2026-06-01) → 120 U/mL (2026-11-02), 3 values",
    ]
    data = as_json(marked.ok("result", "list", name, "--json"))
    assert [(r["id"], r["value"]) for r in data] == [(1, "37"), (3, "80"), (2, "120")]


def test_list_name_with_one_value_has_no_trend_line(marked: Cli) -> None:
    lines = marked.ok("result", "list", "her2").stdout.splitlines()
    assert len(lines) == 2
    assert lines[1].split() == ["4", "1+", "negative"]


def test_list_when_empty(binder: Cli) -> None:
    result = binder.ok("result", "list")
    assert result.stdout == ""
    assert result.stderr == (
        "No results yet. Add one: carebinder result add NAME VALUE --date DATE\n"
    )
    named = binder.ok("result", "list", "CA 19-9")
    assert named.stdout == ""
    assert named.stderr == (
        "No results for CA 19-9 yet. Add one: carebinder result add 'CA 19-9' VALUE --date DATE\n"
    )


def test_show(marked: Cli) -> None:
    assert marked.ok("result", "show", "2").stdout.splitlines() == [
        "Result:         #2 CA19-9",
        "Value:          120 U/mL",
        "Date:           2026-11-02",
        "Interpretation: high",
        "From:           record #1",
    ]


def test_edit_and_remove(marked: Cli) -> None:
    result = marked.ok("result", "edit", "4", "--value", "0", "--date", "2026-10-02")
    assert result.stdout == "Updated result #4: HER2 0\n"
    data = as_json(marked.ok("result", "edit", "2", "--record", "1", "--unit", "", "--json"))
    assert (data["unit"], data["record"]) == (None, 1)
    removed = marked.ok("result", "remove", "3", "--yes")
    assert (removed.stdout, removed.stderr) == ("", "Removed result #3.\n")
    assert [r["id"] for r in as_json(marked.ok("result", "list", "ca19-9", "--json"))] == [1, 2]


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("result", "add", "PSA", "4.1", "--record", "99"), 1, ("record #99", "record list")),
        (("result", "edit", "1", "--record", "99"), 1, ("record #99",)),
        (("result", "add", "PSA", "4.1", "--interpretation", "bad"), 2, ("--interpretation",)),
        (("result", "add", "PSA", ""), 1, ("VALUE cannot be empty",)),
        (("result", "add", "", "4.1"), 1, ("NAME cannot be empty",)),
        (("result", "edit", "1", "--value", " "), 1, ("--value cannot be empty",)),
        (("result", "add", "PSA", "4.1", "--date", "2026-13-45"), 1, ("--date", "2026-13-45")),
        (("result", "list", " "), 1, ("NAME cannot be empty",)),
        (("result", "show", "99"), 1, ("result #99", "carebinder result list")),
        (("result", "remove", "99", "--yes"), 1, ("result #99",)),
        (("result", "remove", "1"), 1, ("--yes", "terminal", "result #1 CA 19-9")),
    ],
)
def test_refusals_change_nothing(
    marked: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(marked, "result")
    assert_refused(marked(*args), code, *needles)
    assert snapshot(marked, "result") == before
