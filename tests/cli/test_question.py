"""`carebinder question add|list|answer|remove`."""

from __future__ import annotations

from datetime import date

import pytest

from tests.cli.cliutil import QUESTION_KEYS, as_json, assert_keys, assert_refused, snapshot
from tests.conftest import Cli


@pytest.fixture
def asked(binder: Cli) -> Cli:
    """Doctor #1, appointment #1; question #1 for the visit, question #2 for no visit."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    binder.ok("question", "add", "Would you recommend genomic testing?", "--appointment", "1")
    binder.ok("question", "add", "Can I keep working?")
    return binder


# --- happy paths --------------------------------------------------------------------------


def test_add_prints_the_new_id(binder: Cli) -> None:
    result = binder.ok("question", "add", "Is surgery first?")
    assert result.stdout == "Added question #1\n"
    assert result.stderr == ""


def test_add_json(asked: Cli) -> None:
    data = as_json(
        asked.ok("question", "add", "  How long is recovery?  ", "--appointment", "1", "--json")
    )
    assert_keys(data, QUESTION_KEYS)
    assert data == {
        "id": 3,
        "text": "How long is recovery?",
        "appointment": 1,
        "answer": None,
        "answered_by": None,
        "answered_on": None,
    }


def test_list_table_and_json(asked: Cli) -> None:
    result = asked.ok("question", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "APPT", "QUESTION", "ANSWER", "BY"]
    assert lines[1].split()[:2] == ["1", "1"]
    assert "Would you recommend genomic testing?" in lines[1]
    rows = as_json(asked.ok("question", "list", "--json"))
    assert [q["id"] for q in rows] == [1, 2]
    for row in rows:
        assert_keys(row, QUESTION_KEYS)


def test_list_filters(asked: Cli) -> None:
    for_visit = as_json(asked.ok("question", "list", "--appointment", "1", "--json"))
    assert [q["id"] for q in for_visit] == [1]
    asked.ok("question", "answer", "2", "Yes, part time")
    unanswered = as_json(asked.ok("question", "list", "--unanswered", "--json"))
    assert [q["id"] for q in unanswered] == [1]


def test_list_when_empty(binder: Cli) -> None:
    result = binder.ok("question", "list")
    assert result.stdout == ""
    assert "No questions yet" in result.stderr


def test_answer(asked: Cli) -> None:
    result = asked.ok("question", "answer", "1", "Yes, Oncotype DX")
    assert result.stdout == "Answered question #1\n"
    assert result.stderr == ""
    (first, _) = as_json(asked.ok("question", "list", "--json"))
    assert first["answer"] == "Yes, Oncotype DX"
    assert first["answered_by"] is None
    assert first["answered_on"] == date.today().isoformat()
    data = as_json(
        asked.ok(
            "question",
            "answer",
            "1",
            "Yes, the 21-gene test",
            "--by",
            "1",
            "--date",
            "2026-12-03",
            "--json",
        )
    )
    assert_keys(data, QUESTION_KEYS)
    assert data["answer"] == "Yes, the 21-gene test"
    assert data["answered_by"] == 1
    assert data["answered_on"] == "2026-12-03"
    assert "Dr. Wei Chen" in asked.ok("question", "list").stdout


def test_remove_with_yes(asked: Cli) -> None:
    result = asked.ok("question", "remove", "2", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Removed question #2.\n"
    assert [q["id"] for q in as_json(asked.ok("question", "list", "--json"))] == [1]


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("question", "add", ""), 1, ("TEXT", "empty")),
        (("question", "add", "Why?\x1b[2J"), 1, ("TEXT", "control")),
        (("question", "add", "?" * 2001), 1, ("TEXT", "too long")),
        (("question", "add", "Why?", "--appointment", "99"), 1, ("appointment #99",)),
        (("question", "add", "Why?", "--appointment", "next"), 2, ("--appointment",)),
        (("question", "add", "Why?", "--doctor", "1"), 2, ("--doctor",)),
        (("question", "list", "--appointment", "first"), 2, ("--appointment",)),
        (("question", "answer", "99", "Yes"), 1, ("question #99", "carebinder question list")),
        (("question", "answer", "1", ""), 1, ("ANSWER", "empty")),
        (("question", "answer", "1", "Yes", "--by", "99"), 1, ("doctor #99",)),
        (("question", "answer", "1", "Yes", "--date", "2026-13-45"), 1, ("--date", "2026-13-45")),
        (("question", "answer", "1", "Yes", "--date", "next week"), 1, ("--date", "next week")),
        (("question", "answer", "1"), 2, ("text",)),
        (("question", "remove", "99", "--yes"), 1, ("question #99",)),
        (("question", "remove", "1"), 1, ("--yes", "terminal", "question #1")),
    ],
)
def test_refusals_change_nothing(
    asked: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(asked, "question")
    assert_refused(asked(*args), code, *needles)
    assert snapshot(asked, "question") == before


@pytest.mark.parametrize("appointment", ["99", "99999999999999999999"])
def test_list_for_unknown_appointment_is_refused(asked: Cli, appointment: str) -> None:
    # Once listed nothing for an unknown visit, and crashed (OverflowError) past 2**63.
    result = asked("question", "list", "--appointment", appointment, "--json")
    assert_refused(result, 1, f"appointment #{appointment}")
