"""`carebinder material add|list|update|remove`."""

from __future__ import annotations

from datetime import date

import pytest

from tests.cli.cliutil import MATERIAL_KEYS, as_json, assert_keys, assert_refused, snapshot
from tests.conftest import Cli


@pytest.fixture
def tracked(binder: Cli) -> Cli:
    """Material #1: slides requested on 2026-10-01; material #2: an imaging disc, needed."""
    binder.ok(
        "material",
        "add",
        "glass-slides",
        "12 H&E slides, case S26-4411",
        "--from",
        "Mercy Hospital pathology",
        "--status",
        "requested",
        "--date",
        "2026-10-01",
    )
    binder.ok("material", "add", "imaging-disc", "MRI disc")
    return binder


# --- happy paths --------------------------------------------------------------------------


def test_add_prints_the_new_id(binder: Cli) -> None:
    result = binder.ok("material", "add", "tissue-blocks", "Block A3")
    assert result.stdout == "Added material #1: Block A3 (needed)\n"
    assert result.stderr == ""


def test_add_json(binder: Cli) -> None:
    data = as_json(
        binder.ok(
            "material",
            "add",
            "records-copy",
            " Full chart copy ",
            "--from",
            "Mercy Hospital",
            "--status",
            "received",
            "--date",
            "2026-10-03",
            "--json",
        )
    )
    assert_keys(data, MATERIAL_KEYS)
    assert data == {
        "id": 1,
        "kind": "records-copy",
        "description": "Full chart copy",
        "institution": "Mercy Hospital",
        "status": "received",
        "requested_on": None,
        "received_on": "2026-10-03",
        "sent_on": None,
        "returned_on": None,
    }


def test_list_table_and_json(tracked: Cli) -> None:
    result = tracked.ok("material", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "KIND", "DESCRIPTION", "FROM", "STATUS", "SINCE"]
    assert lines[1].split()[:2] == ["1", "glass-slides"]
    assert "requested" in lines[1]
    assert "2026-10-01" in lines[1]
    rows = as_json(tracked.ok("material", "list", "--json"))
    assert [(m["id"], m["status"]) for m in rows] == [(1, "requested"), (2, "needed")]
    for row in rows:
        assert_keys(row, MATERIAL_KEYS)


def test_list_when_empty(binder: Cli) -> None:
    result = binder.ok("material", "list")
    assert result.stdout == ""
    assert "No materials yet" in result.stderr


def test_update_records_each_step(tracked: Cli) -> None:
    result = tracked.ok("material", "update", "1", "--status", "received", "--date", "2026-10-09")
    assert result.stdout == "Material #1 is now received\n"
    assert result.stderr == ""
    data = as_json(tracked.ok("material", "update", "1", "--status", "sent", "--json"))
    assert_keys(data, MATERIAL_KEYS)
    assert data["status"] == "sent"
    assert data["requested_on"] == "2026-10-01"
    assert data["received_on"] == "2026-10-09"
    assert data["sent_on"] == date.today().isoformat()
    assert data["returned_on"] is None


def test_remove_with_yes(tracked: Cli) -> None:
    result = tracked.ok("material", "remove", "2", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Removed material #2.\n"
    assert [m["id"] for m in as_json(tracked.ok("material", "list", "--json"))] == [1]


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("material", "add", "slides", "x"), 2, ("kind", "slides")),
        (("material", "add", "glass-slides", ""), 1, ("DESCRIPTION", "empty")),
        (("material", "add", "glass-slides", "x", "--status", "lost"), 2, ("--status", "lost")),
        (
            ("material", "add", "glass-slides", "x", "--date", "2026-13-45"),
            1,
            ("--date", "2026-13-45"),
        ),
        (
            ("material", "add", "glass-slides", "x", "--date", "next week"),
            1,
            ("--date", "next week"),
        ),
        (("material", "add", "glass-slides", "x", "--from", "A\x7fB"), 1, ("--from", "control")),
        (("material", "add", "glass-slides", "x", "--to", "B"), 2, ("--to",)),
        (("material", "update", "99", "--status", "sent"), 1, ("material #99", "material list")),
        (("material", "update", "1"), 2, ("--status",)),
        (("material", "update", "1", "--status", "lost"), 2, ("--status", "lost")),
        (("material", "update", "1", "--status", "sent", "--date", "2026-13-45"), 1, ("--date",)),
        (("material", "update", "1", "--status", "sent", "--date", "next week"), 1, ("--date",)),
        (("material", "remove", "99", "--yes"), 1, ("material #99",)),
        (("material", "remove", "1"), 1, ("--yes", "terminal", "material #1")),
    ],
)
def test_refusals_change_nothing(
    tracked: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(tracked, "material")
    assert_refused(tracked(*args), code, *needles)
    assert snapshot(tracked, "material") == before
