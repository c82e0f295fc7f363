"""The health summary's other conditions, treatments so far and results: each added in its
own short form, edited, removed after a confirmation; a marker's values on a page of their
own, first → latest on the summary; every refusal beside its field, nothing changed."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carebinder.services import conditions, results, treatments
from tests.conftest import Cli
from tests.web.webutil import Browser, field_error, field_value, texts


def stored(browser: Browser) -> dict[str, list[dict[str, Any]]]:
    with Session(browser.app.state.web.engine) as s:
        return {
            "conditions": [conditions.to_json(c) for c in conditions.list_conditions(s, 1)],
            "treatments": [treatments.to_json(t) for t in treatments.list_treatments(s, 1)],
            "results": [results.to_json(r) for r in results.list_results(s, 1)],
        }


def table_rows(html: str, section: str) -> list[list[str]]:
    """The rows of the table in `section` of the summary, as text (actions left out)."""
    part = html.split(f'<section id="{section}"')[1].split("</section>")[0]
    found = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", part.split("<tbody>")[1], flags=re.S):
        cells = re.findall(r'<t([hd])(?![^>]*class="actions")[^>]*>(.*?)</t\1>', row, flags=re.S)
        found.append([" ".join(unescape(re.sub(r"<[^>]+>", "", c)).split()) for _, c in cells])
    return found


@pytest.fixture
def team(ana: Browser) -> Browser:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    return ana


# --- other conditions --------------------------------------------------------------------------


def test_a_condition_is_added_edited_and_removed(ana: Browser) -> None:
    assert "No other health problems recorded" in ana.get("/health").text
    added = ana.post(
        "/conditions/new", {"name": "Type 2 diabetes", "since": "2019-03-01", "notes": "Metformin"}
    )
    assert texts(added.text, "done") == ["Added Type 2 diabetes."]
    assert added.url.fragment == "condition-1"
    assert table_rows(added.text, "conditions") == [["Type 2 diabetes", "2019-03-01", "Metformin"]]
    form = ana.get("/conditions/1/edit").text
    assert field_value(form, "since") == "2019-03-01"
    saved = ana.post("/conditions/1/edit", {"name": "Type 2 diabetes", "since": ""})
    assert texts(saved.text, "done") == ["Saved Type 2 diabetes."]
    assert stored(ana)["conditions"][0] == {
        "id": 1,
        "name": "Type 2 diabetes",
        "since": None,
        "notes": None,
    }
    refused = ana.post("/conditions/1/edit", {"name": " ", "since": "2019-13-01"})
    assert refused.status_code == 400
    assert field_error(refused.text, "since").startswith("Since: '2019-13-01' is not a date.")
    assert stored(ana)["conditions"][0]["name"] == "Type 2 diabetes"
    assert "Remove Type 2 diabetes?" in ana.get("/conditions/1/remove").text
    removed = ana.post("/conditions/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed Type 2 diabetes."]
    assert stored(ana)["conditions"] == []


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": ""}, "name", "Name cannot be empty."),
        ({"name": "Asthma", "since": "yesterday-ish"}, "since", "Since: 'yesterday-ish' is not"),
        ({"name": "N" * 201}, "name", "Name is too long (201 characters"),
    ],
)
def test_a_refused_condition_adds_nothing(
    ana: Browser, form: dict[str, str], field: str, message: str
) -> None:
    response = ana.post("/conditions/new", {"notes": "Since childhood", **form})
    assert response.status_code == 400
    assert message in field_error(response.text, f"{field}-condition")
    assert field_value(response.text, "notes-condition") == "Since childhood"
    assert 'id="e-name-medication"' not in response.text
    assert stored(ana)["conditions"] == []


# --- treatments so far -------------------------------------------------------------------------


def test_a_treatment_is_added_edited_and_removed(team: Browser) -> None:
    added = team.post(
        "/treatments/new",
        {
            "kind": "chemotherapy",
            "name": "AC-T",
            "started": "2026-01-10",
            "ended": "2026-05-02",
            "doctor": "1",
            "response": "partial response",
        },
    )
    assert texts(added.text, "done") == ["Added AC-T (chemotherapy)."]
    team.post("/treatments/new", {"kind": "surgery", "name": "Lumpectomy", "started": "2025-12-01"})
    page = team.get("/health").text
    assert table_rows(page, "treatments") == [
        ["Lumpectomy", "surgery", "2025-12-01 – under way", "", ""],  # in the order given
        ["AC-T", "chemotherapy", "2026-01-10 – 2026-05-02", "Dr. Wei Chen", "partial response"],
    ]
    saved = team.post(
        "/treatments/1/edit", {"kind": "chemotherapy", "name": "AC-T", "started": "2026-01-10"}
    )
    assert texts(saved.text, "done") == ["Saved AC-T."]
    treatment = stored(team)["treatments"][1]
    assert (treatment["ended"], treatment["doctor"], treatment["response"]) == (None, None, None)
    assert "Remove AC-T?" in team.get("/treatments/1/remove").text
    team.post("/treatments/1/remove", {"confirmed": "yes"})
    assert [t["name"] for t in stored(team)["treatments"]] == ["Lumpectomy"]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": ""}, "name", "Name cannot be empty."),
        ({"kind": "prayer"}, "kind", "Kind: 'prayer' is not one of surgery, chemotherapy"),
        (
            {"started": "2026-05-01", "ended": "2026-01-01"},
            "ended",
            "Ended (2026-01-01) is before started (2026-05-01). Check the dates.",
        ),
        ({"doctor": "4"}, "doctor", "Doctor: no doctor #4 in this binder; choose one of the list."),
    ],
)
def test_a_refused_treatment_adds_nothing(
    team: Browser, form: dict[str, str], field: str, message: str
) -> None:
    typed = {"kind": "radiation", "name": "Whole-breast radiation", "response": "none yet"}
    response = team.post("/treatments/new", {**typed, **form})
    assert response.status_code == 400
    assert message in field_error(response.text, f"{field}-treatment")
    assert field_value(response.text, "response-treatment") == "none yet"
    assert stored(team)["treatments"] == []
    refused_edit = team.post("/treatments/9/edit", {**typed, **form})
    assert refused_edit.status_code == 404


# --- results -----------------------------------------------------------------------------------


def test_results_show_each_markers_latest_value_and_its_trend(ana: Browser, cli: Cli) -> None:
    assert "No results yet" in ana.get("/health").text
    for name, value, day in [
        ("CA-125", "35", "2026-01-05"),
        ("ER", "95", "2026-01-02"),
        ("ca 125", "80", "2026-03-01"),
        ("CA125", "120", "2026-02-01"),
    ]:
        added = ana.post(
            "/results/new", {"name": name, "value": value, "unit": "U/mL", "date": day}
        )
        assert texts(added.text, "done") == [f"Added {name}: {value} U/mL."]
    assert added.url.fragment == "results"
    assert table_rows(added.text, "results") == [
        ["ca 125", "80 U/mL", "2026-03-01", "", "35 U/mL → 80 U/mL (3 values)"],
        ["ER", "95 U/mL", "2026-01-02", "", ""],
    ]
    assert '<a href="/results?name=ca%20125">' in added.text
    trend = ana.get("/results", params={"name": "CA-125"})
    assert trend.status_code == 200
    assert "<h1>ca 125</h1>" in trend.text
    assert texts(trend.text, "lead") == [
        "3 values, oldest first: 35 U/mL (2026-01-05) → 80 U/mL (2026-03-01)."
    ]
    days = re.findall(r'<tr id="result-(\d+)">\s*<th scope="row">([^<]*)</th>', trend.text)
    assert days == [("1", "2026-01-05"), ("4", "2026-02-01"), ("3", "2026-03-01")]
    assert '<a href="/health" aria-current="page">Health</a>' in trend.text
    shown = ana.get("/results/4")  # as search links a value
    assert (shown.url.path, shown.url.fragment) == ("/results", "result-4")


def test_a_result_with_its_record_interpretation_and_notes(ana: Browser, cli: Cli) -> None:
    cli.ok("record", "add", "pathology", "Core biopsy", "--date", "2026-01-02")
    form = ana.get("/health").text
    assert '<option value="1">Core biopsy · 2026-01-02</option>' in form
    ana.post(
        "/results/new",
        {
            "name": "HER2",
            "value": "3+",
            "interpretation": "positive",
            "record": "1",
            "notes": "IHC",
        },
    )
    assert stored(ana)["results"] == [
        {
            "id": 1,
            "name": "HER2",
            "value": "3+",
            "unit": None,
            "date": None,
            "interpretation": "positive",
            "record": 1,
            "notes": "IHC",
        }
    ]
    trend = ana.get("/results", params={"name": "her2"}).text
    assert '<a href="/records/1">Core biopsy</a>' in trend
    assert texts(trend, "lead") == ["One value so far."]
    edit = ana.get("/results/1/edit").text
    assert '<option value="positive" selected>' in edit
    saved = ana.post("/results/1/edit", {"name": "HER2", "value": "2+", "date": "2026-01-02"})
    assert texts(saved.text, "done") == ["Saved HER2: 2+."]
    assert (saved.url.path, saved.url.fragment) == ("/results", "result-1")
    after = stored(ana)["results"][0]
    assert (after["record"], after["interpretation"], after["notes"]) == (None, None, None)
    refused = ana.post("/results/1/edit", {"name": "HER2", "value": " ", "unit": "%"})
    assert field_error(refused.text, "value") == "Value cannot be empty."
    assert field_value(refused.text, "unit") == "%"
    assert stored(ana)["results"][0]["value"] == "2+"
    assert "Remove HER2 2+?" in ana.get("/results/1/remove").text
    removed = ana.post("/results/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed HER2 2+."]
    assert stored(ana)["results"] == []


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"value": ""}, "value", "Value cannot be empty."),
        ({"name": ""}, "name", "Name cannot be empty."),
        ({"interpretation": "great"}, "interpretation", "Interpretation: 'great' is not one of"),
        ({"record": "5"}, "record", "From the record: no record #5 in this binder; choose one"),
        ({"date": "March"}, "date", "Date: 'March' is not a date."),
    ],
)
def test_a_refused_result_adds_nothing(
    ana: Browser, form: dict[str, str], field: str, message: str
) -> None:
    response = ana.post("/results/new", {"name": "PSA", "value": "4.1", "unit": "ng/mL", **form})
    assert response.status_code == 400
    assert message in field_error(response.text, f"{field}-result")
    assert field_value(response.text, "unit-result") == "ng/mL"
    assert stored(ana)["results"] == []


def test_a_marker_without_values_is_said_plainly(ana: Browser) -> None:
    missing = ana.get("/results", params={"name": "PSA"})
    assert missing.status_code == 404
    assert texts(missing.text, "message") == ["No values of 'PSA' in this binder yet."]
    assert ana.get("/results").url.fragment == "results"  # no name: the summary's section
    assert ana.get("/results/3").status_code == 404


def test_conditions_treatments_and_results_are_found_by_name(ana: Browser) -> None:
    ana.post("/conditions/new", {"name": "Hypertension"})
    ana.post("/treatments/new", {"kind": "surgery", "name": "Lumpectomy"})
    ana.post("/results/new", {"name": "Ki-67", "value": "30", "unit": "%"})
    for query, link in [
        ("hypertension", "/health#condition-1"),
        ("lumpectomy", "/health#treatment-1"),
        ("ki", "/results/1"),
    ]:
        found = ana.get("/search", params={"q": query})
        assert found.status_code == 200, query
        assert f'<a href="{link}">' in found.text, query
