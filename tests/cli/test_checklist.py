"""`carebinder checklist APPOINTMENT`."""

from __future__ import annotations

from datetime import date

import pytest

from carebinder import config
from carebinder.db import open_binder, session_scope
from carebinder.services import allergies, patients
from tests.cli.cliutil import (
    CHECKLIST_ITEM_KEYS,
    CHECKLIST_KEYS,
    as_json,
    assert_keys,
    assert_refused,
    snapshot,
)
from tests.conftest import Cli

KEYS = [
    "staff_told",
    "records_sent",
    "coverage",
    "companion",
    "pathology_report",
    "surgery_report",
    "treatment_plan",
    "medications",
    "allergies",
    "materials",
    "questions",
]


@pytest.fixture
def visit(binder: Cli) -> Cli:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    return binder


def items(cli: Cli, appointment: str = "1") -> dict[str, dict[str, object]]:
    data = as_json(cli.ok("checklist", appointment, "--json"))
    return {item["key"]: item for item in data["items"]}


def test_new_visit_lists_what_is_missing(visit: Cli) -> None:
    result = visit.ok("checklist", "1")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "Checklist for appointment #1 with Dr. Wei Chen"
    assert "  [ ] Staff told this is a second-opinion visit: not yet" in lines
    assert "  [-] Surgery report in the packet: no surgery recorded" in lines
    assert "0 of 10 ready." in lines
    assert "To do next:" in lines
    assert "  carebinder appointment edit 1 --told-staff" in lines
    assert '  carebinder question add "TEXT" --appointment 1' in lines
    assert (
        "  [ ] Medication list: not recorded yet: list each medicine and supplement taken,"
        " or say there are none"
    ) in lines
    assert (
        "  [ ] Allergies recorded: not recorded yet: list each allergy, or say there are none known"
        in lines
    )
    assert "  carebinder medication add NAME --dose TEXT, or carebinder medication none" in lines
    assert "  carebinder allergy add SUBSTANCE --reaction TEXT, or carebinder allergy none" in lines


def test_json_document(visit: Cli) -> None:
    data = as_json(visit.ok("checklist", "1", "--json"))
    assert_keys(data, CHECKLIST_KEYS)
    assert data["appointment"] == 1
    assert (data["ready"], data["applicable"]) == (0, 10)
    assert [item["key"] for item in data["items"]] == KEYS
    for item in data["items"]:
        assert_keys(item, CHECKLIST_ITEM_KEYS)
        assert (item["fix"] is None) == (item["ready"] is not False)


def state_no_known_allergies(settings: config.Settings) -> None:
    """As `carebinder allergy none` does (its command comes with the medication commands)."""
    engine = open_binder(settings)
    try:
        with session_scope(engine) as s:
            (patient,) = patients.list_patients(s)
            allergies.state_none(s, patient, on=date(2026, 11, 2))
    finally:
        engine.dispose()


def test_a_prepared_visit_is_all_ready(visit: Cli, settings: config.Settings) -> None:
    visit.ok(
        "appointment",
        "edit",
        "1",
        "--told-staff",
        "--records-sent",
        "2026-11-20",
        "--coverage",
        "confirmed",
        "--coverage-ref",
        "PA-88231",
        "--companion",
        "Marco",
    )
    visit.ok("record", "add", "pathology", "Core biopsy")
    visit.ok("record", "add", "treatment-plan", "Proposed plan")
    visit.ok("material", "add", "glass-slides", "H&E slides", "--status", "received")
    visit.ok("question", "add", "Is surgery first?", "--appointment", "1")
    visit.ok("record", "add", "medication-list", "Medicines I take")
    state_no_known_allergies(settings)
    result = visit.ok("checklist", "1")
    assert "10 of 10 ready." in result.stdout
    assert "To do next:" not in result.stdout
    assert "  [x] Insurance coverage confirmed: confirmed (ref. PA-88231)" in result.stdout
    assert "  [x] Medication list: a medication-list record is in the packet" in result.stdout
    assert "  [x] Allergies recorded: no known allergies (stated 2026-11-02)" in result.stdout
    data = as_json(visit.ok("checklist", "1", "--json"))
    assert (data["ready"], data["applicable"]) == (10, 10)


def test_follow_up_does_not_need_staff_told(visit: Cli) -> None:
    visit.ok("appointment", "edit", "1", "--purpose", "follow-up")
    checklist = items(visit)
    assert checklist["staff_told"]["ready"] is None
    assert checklist["materials"]["ready"] is None


def test_surgery_report_applies_once_surgery_is_recorded(visit: Cli) -> None:
    visit.ok("record", "add", "surgery", "Lumpectomy report")
    assert items(visit)["surgery_report"]["ready"] is True


def test_chosen_records_define_the_packet(visit: Cli) -> None:
    visit.ok("record", "add", "pathology", "Core biopsy")
    visit.ok("record", "add", "imaging", "MRI")
    assert items(visit)["pathology_report"]["ready"] is True
    visit.ok("appointment", "bring", "1", "2")
    assert items(visit)["pathology_report"]["ready"] is False


def test_materials_still_waiting_are_named(visit: Cli) -> None:
    visit.ok("material", "add", "glass-slides", "H&E slides", "--status", "requested")
    item = items(visit)["materials"]
    assert item["ready"] is False
    assert item["detail"] == "waiting for #1 H&E slides (requested)"


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("checklist", "99"), 1, ("appointment #99", "carebinder appointment list")),
        (("checklist", "0"), 1, ("appointment #0",)),
        (("checklist",), 2, ("appointment",)),
        (("checklist", "next"), 2, ("next",)),
        (("checklist", "1", "--pdf"), 2, ("--pdf",)),
    ],
)
def test_refusals(visit: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]) -> None:
    before = snapshot(visit, "appointment")
    assert_refused(visit(*args), code, *needles)
    assert snapshot(visit, "appointment") == before
