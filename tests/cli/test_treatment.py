"""`carebinder treatment add|list|show|edit|remove`."""

from __future__ import annotations

import pytest

from tests.cli.cliutil import TREATMENT_KEYS, as_json, assert_keys, assert_refused, snapshot
from tests.conftest import Cli


@pytest.fixture
def treated(binder: Cli) -> Cli:
    """Doctor #1; treatment #1 chemotherapy AC-T (2026-01-10 to 2026-04-02, by doctor #1);
    #2 a lumpectomy on 2026-05-01."""
    binder.ok("doctor", "add", "Dr. Ada Park")
    args = (
        "treatment", "add", "chemotherapy", "AC-T, 4 cycles", "--started", "2026-01-10",
        "--ended", "2026-04-02", "--doctor", "1", "--response", "partial response",
    )  # fmt: skip
    binder.ok(*args)
    binder.ok("treatment", "add", "surgery", "Lumpectomy", "--started", "2026-05-01")
    return binder


def test_add_prints_the_new_id_and_json_has_every_fact(binder: Cli) -> None:
    binder.ok("doctor", "add", "Dr. Ada Park")
    result = binder.ok("treatment", "add", "radiation", "Whole breast, 15 fractions")
    assert result.stdout == "Added treatment #1: Whole breast, 15 fractions (radiation)\n"
    assert result.stderr == ""
    args = (
        "treatment", "add", "hormone-therapy", " Tamoxifen ", "--started", "2026-06-01",
        "--doctor", "1", "--notes", "Five years planned", "--json",
    )  # fmt: skip
    data = as_json(binder.ok(*args))
    assert_keys(data, TREATMENT_KEYS)
    assert data == {
        "id": 2,
        "kind": "hormone-therapy",
        "name": "Tamoxifen",
        "started": "2026-06-01",
        "ended": None,
        "doctor": 1,
        "doctor_name": "Dr. Ada Park",
        "response": None,
        "notes": "Five years planned",
    }
    assert as_json(binder.ok("treatment", "show", "2", "--json")) == data


def test_list_in_the_order_given(treated: Cli) -> None:
    treated.ok("treatment", "add", "other", "Clinical trial, not started")
    result = treated.ok("treatment", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "KIND", "NAME", "STARTED", "ENDED", "DOCTOR", "RESPONSE"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3"]
    assert "Dr. Ada Park" in lines[1]
    assert "partial response" in lines[1]
    rows = as_json(treated.ok("treatment", "list", "--json"))
    assert [t["id"] for t in rows] == [1, 2, 3]
    for row in rows:
        assert_keys(row, TREATMENT_KEYS)


def test_list_when_empty(binder: Cli) -> None:
    result = binder.ok("treatment", "list")
    assert result.stdout == ""
    assert result.stderr == (
        "No treatments recorded yet. Add one: carebinder treatment add KIND NAME\n"
    )


def test_show(treated: Cli) -> None:
    assert treated.ok("treatment", "show", "1").stdout.splitlines() == [
        "Treatment: #1 AC-T, 4 cycles",
        "Kind:      chemotherapy",
        "Started:   2026-01-10",
        "Ended:     2026-04-02",
        "Doctor:    #1 Dr. Ada Park",
        "Response:  partial response",
    ]
    assert "Ended:     under way" in treated.ok("treatment", "show", "2").stdout


def test_edit_and_remove(treated: Cli) -> None:
    args = ("treatment", "edit", "2", "--ended", "2026-05-01", "--kind", "surgery", "--json")
    data = as_json(treated.ok(*args))
    assert (data["ended"], data["kind"]) == ("2026-05-01", "surgery")
    assert as_json(treated.ok("treatment", "show", "2", "--json")) == data
    removed = treated.ok("treatment", "remove", "1", "--yes")
    assert (removed.stdout, removed.stderr) == ("", "Removed treatment #1.\n")


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (
            (
                "treatment",
                "add",
                "radiation",
                "X",
                "--started",
                "2026-02-01",
                "--ended",
                "2026-01-01",
            ),
            1,
            ("--ended (2026-01-01) is before started (2026-02-01)",),
        ),
        (("treatment", "edit", "1", "--started", "2026-05-01"), 1, ("before started",)),
        (("treatment", "add", "radiation", "X", "--doctor", "99"), 1, ("doctor #99",)),
        (("treatment", "edit", "1", "--doctor", "99"), 1, ("doctor #99",)),
        (("treatment", "add", "magic", "X"), 2, ("magic",)),
        (("treatment", "add", "surgery", ""), 1, ("NAME cannot be empty",)),
        (("treatment", "add", "surgery", "X", "--ended", "soon"), 1, ("--ended", "soon")),
        (("treatment", "show", "99"), 1, ("treatment #99", "carebinder treatment list")),
        (("treatment", "edit", "99", "--name", "x"), 1, ("treatment #99",)),
        (("treatment", "remove", "99", "--yes"), 1, ("treatment #99",)),
        (("treatment", "remove", "1"), 1, ("--yes", "terminal", "treatment #1")),
    ],
)
def test_refusals_change_nothing(
    treated: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(treated, "treatment")
    assert_refused(treated(*args), code, *needles)
    assert snapshot(treated, "treatment") == before
