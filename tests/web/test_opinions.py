"""The opinions' pages: add, edit, remove after a confirmation, and the side-by-side
comparison marked as `carebinder opinion compare` marks it."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from tests.conftest import Cli
from tests.web.webutil import Browser, field_error, field_value, texts


@pytest.fixture
def team(ana: Browser) -> Browser:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    ana.post("/doctors/new", {"name": "Dr. Lena Park"})
    return ana


def opinion(doctor: str = "1", **more: str) -> dict[str, str]:
    return {"doctor": doctor, "diagnosis": "Invasive ductal carcinoma", **more}


def rows(html: str) -> list[list[str]]:
    """The comparison's table, a list of its rows' cells as text."""
    table = re.search(r'<table class="compare stack">(.*?)</table>', html, flags=re.S)
    assert table, "no comparison table"
    found = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        found.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return found


def test_an_opinion_is_added_with_every_field(team: Browser) -> None:
    form = team.get("/opinions/new").text
    assert '<option value="2">Dr. Lena Park</option>' in form
    added = team.post(
        "/opinions/new",
        opinion(stage="IIA", plan="Lumpectomy, then radiation", date="2026-11-02", notes="Kind"),
    )
    assert added.history[0].status_code == 303
    assert added.url.path == "/opinions"
    assert texts(added.text, "done") == ["Added the opinion from Dr. Wei Chen."]
    assert "Lumpectomy, then radiation" in added.text
    assert "2026-11-02" in added.text
    edit = team.get("/opinions/1/edit").text
    assert field_value(edit, "stage") == "IIA"
    assert field_value(edit, "notes") == "Kind"
    assert field_value(edit, "date") == "2026-11-02"
    home = team.get("/").text  # the opinions at a glance
    assert "Invasive ductal carcinoma" in home
    assert "Lumpectomy, then radiation" in home


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (opinion(diagnosis=" "), "diagnosis", "Diagnosis cannot be empty."),
        (opinion(date="2026-02-30"), "date", "Date: '2026-02-30' is not a date."),
        (opinion(date="1800-01-01"), "date", "is not a plausible date"),
        ({"diagnosis": "IDC"}, "doctor", "Doctor is missing: choose one."),
        (opinion(doctor="x"), "doctor", "Doctor: 'x' is not one of the choices."),
        (opinion(stage="S" * 201), "stage", "Stage is too long (201 characters"),
    ],
)
def test_a_refused_opinion_keeps_what_was_typed_and_adds_nothing(
    team: Browser, form: dict[str, str], field: str, message: str
) -> None:
    response = team.post("/opinions/new", {"plan": "Chemotherapy first", **form})
    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert field_value(response.text, "plan") == "Chemotherapy first"
    assert "No opinions yet" in team.get("/opinions").text


def test_an_unknown_doctor_or_record_is_not_found(team: Browser) -> None:
    for form in [opinion(doctor="9"), opinion(records="7")]:
        response = team.post("/opinions/new", form)
        assert response.status_code == 404
        assert texts(response.text, "message")[0].startswith("No ")
    assert "No opinions yet" in team.get("/opinions").text


def test_editing_an_opinion_clears_what_is_emptied(team: Browser) -> None:
    team.post("/opinions/new", opinion(stage="IIA", date="2026-11-02"))
    saved = team.post("/opinions/1/edit", opinion(doctor="2", stage="", date=""))
    assert texts(saved.text, "done") == ["Saved the opinion from Dr. Lena Park."]
    form = team.get("/opinions/1/edit").text
    assert field_value(form, "stage") == ""
    assert field_value(form, "date") == ""
    refused = team.post("/opinions/1/edit", opinion(diagnosis="", stage="IIB"))
    assert field_error(refused.text, "diagnosis") == "Diagnosis cannot be empty."
    assert field_value(refused.text, "stage") == "IIB"
    assert field_value(team.get("/opinions/1/edit").text, "stage") == ""  # unchanged


def test_an_opinion_is_based_on_records_chosen_by_ticking_them(team: Browser, cli: Cli) -> None:
    cli.ok("record", "add", "pathology", "Core biopsy")
    cli.ok("record", "add", "imaging", "CT chest")
    form = team.get("/opinions/new").text
    assert '<label for="f-records-2">CT chest' in form
    team.post(
        "/opinions/new",
        {"doctor": "1", "diagnosis": "IDC", "records": ["1", "2"]},  # type: ignore[dict-item]
    )
    assert json.loads(cli.ok("opinion", "show", "1", "--json").stdout)["records"] == [1, 2]
    edit = team.get("/opinions/1/edit").text
    assert 'value="1" checked' in edit
    assert 'value="2" checked' in edit
    refused = team.post(
        "/opinions/1/edit",
        {"doctor": "1", "diagnosis": "", "records": ["2"]},  # type: ignore[dict-item]
    )
    assert 'value="1" checked' not in refused.text  # what was ticked, not what is stored
    assert 'value="2" checked' in refused.text


def test_removing_an_opinion_asks_first(team: Browser) -> None:
    team.post("/opinions/new", opinion())
    assert "Remove the opinion from Dr. Wei Chen?" in team.get("/opinions/1/remove").text
    unconfirmed = team.post("/opinions/1/remove")
    assert unconfirmed.url.path == "/opinions/1/remove"
    assert "Invasive ductal carcinoma" in team.get("/opinions").text
    removed = team.post("/opinions/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed the opinion from Dr. Wei Chen."]
    assert "No opinions yet" in removed.text


def test_another_patients_opinion_is_not_found(team: Browser) -> None:
    team.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    team.post("/patients/use", {"patient": "2"})
    team.post("/doctors/new", {"name": "Dr. Maria's Doctor"})
    team.post("/opinions/new", opinion(doctor="3", diagnosis="Maria's diagnosis"))
    team.post("/patients/use", {"patient": "1"})
    for response in [
        team.get("/opinions/1/edit"),
        team.post("/opinions/1/edit", opinion()),
        team.get("/opinions/1/remove"),
        team.post("/opinions/1/remove", {"confirmed": "yes"}),
        team.post("/opinions/new", opinion(doctor="3")),  # her doctor too
    ]:
        assert response.status_code == 404
        assert "Maria" not in response.text
    assert "Maria" not in team.get("/opinions/compare").text


def test_the_comparison_marks_the_differences_as_the_command_line_does(
    team: Browser, cli: Cli
) -> None:
    assert "No opinions yet" in team.get("/opinions/compare").text
    team.post("/opinions/new", opinion(stage="IIA", plan="Lumpectomy", date="2026-10-01"))
    alone = team.get("/opinions/compare").text
    assert texts(alone, "verdict") == ["Only one opinion so far: nothing to compare yet."]
    team.post("/opinions/new", opinion("2", stage="IIB", plan="lumpectomy.", date="2026-11-01"))
    page = team.get("/opinions/compare").text
    assert '<th scope="col">' in page
    assert '<th scope="row">' in page
    assert rows(page) == [
        ["", "Dr. Wei Chen", "Dr. Lena Park"],
        ["Date", "2026-10-01", "2026-11-01"],
        ["Diagnosis", "Invasive ductal carcinoma", "Invasive ductal carcinoma"],
        ["Stage group ≠ (the opinions differ)", "IIA", "IIB"],
        ["Plan", "Lumpectomy", "lumpectomy."],
    ]
    assert page.count('class="differs"') == 1
    line = cli.ok("opinion", "compare").stdout
    assert "Stage group ≠" in line
    assert "Plan ≠" not in line
    verdict = texts(page, "verdict")
    assert verdict[0] == "≠ marks where the opinions differ."
    assert all(said in line for said in verdict)  # the same words in both faces


# --- the cancer facts --------------------------------------------------------------------------

FACTS = {
    "site": "Left breast, upper outer quadrant",
    "laterality": "left",
    "histology": "Invasive ductal carcinoma",
    "grade": "G2",
    "t": "pT2",
    "n": "N1a",
    "m": "M0",
    "ajcc_edition": "8",
    "ecog": "1",
}


def test_an_opinions_cancer_facts_are_a_fieldset_of_its_form(team: Browser, cli: Cli) -> None:
    form = team.get("/opinions/new").text
    fieldset = form.split('<fieldset class="facts">')[1].split("</fieldset>")[0]
    assert '<legend>Cancer facts <span class="optional">(optional)</span></legend>' in fieldset
    for name in ("site", "laterality", "histology", "grade", "t", "n", "m", "staging"):
        assert f'id="f-{name}"' in fieldset
    assert '<label for="f-ecog-4">4: completely disabled</label>' in fieldset  # radios
    assert '<option value="pathologic">Pathologic (p)' in fieldset
    added = team.post("/opinions/new", opinion(stage="IIB", **FACTS))
    assert texts(added.text, "done") == ["Added the opinion from Dr. Wei Chen."]
    assert "pT2 pN1a cM0" in added.text  # the list shows the TNM under the stage
    data = json.loads(cli.ok("opinion", "show", "1", "--json").stdout)
    assert {key: data[key] for key in (*FACTS, "staging", "tnm")} == {
        **FACTS,
        "t": "T2",
        "ajcc_edition": 8,
        "ecog": 1,
        "staging": "pathologic",  # from the p of pT2
        "tnm": "pT2 pN1a cM0",
    }
    shown = team.get("/opinions/1").text
    facts = dict(
        zip(
            [unescape(t) for t in re.findall(r"<dt>(.*?)</dt>", shown)],
            [unescape(re.sub(r"<[^>]+>", "", d)) for d in re.findall(r"<dd>(.*?)</dd>", shown)],
            strict=True,
        )
    )
    assert facts["TNM"] == "pT2 pN1a cM0"
    assert facts["TNM basis"] == "pathologic"
    assert facts["ECOG"] == "1: restricted in strenuous activity, can do light work"
    assert facts["Primary site"] == "Left breast, upper outer quadrant"
    assert facts["AJCC edition"] == "8"
    edit = team.get("/opinions/1/edit").text
    assert field_value(edit, "t") == "T2"
    assert 'name="ecog" value="1" checked>' in edit
    assert '<option value="pathologic" selected>' in edit
    assert '<option value="left" selected>' in edit
    cleared = team.post("/opinions/1/edit", opinion(stage="IIB"))  # every fact emptied
    assert texts(cleared.text, "done") == ["Saved the opinion from Dr. Wei Chen."]
    data = json.loads(cli.ok("opinion", "show", "1", "--json").stdout)
    assert [data[key] for key in (*FACTS, "staging", "tnm")] == [None] * 11


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"ecog": "7"},
            "ecog",
            "ECOG must be 0, 1, 2, 3 or 4 (ECOG performance status), not 7.",
        ),
        ({"ecog": "x"}, "ecog", "ECOG: 'x' is not a whole number."),
        ({"ajcc_edition": "0"}, "ajcc_edition", "AJCC edition is the AJCC manual's edition"),
        ({"ajcc_edition": "eighth"}, "ajcc_edition", "AJCC edition: 'eighth' is not a whole"),
        ({"t": "2 cm"}, "t", "T category should read like T0, T1, T2a or TX (got '2 cm')."),
        (
            {"t": "pT2", "staging": "clinical"},
            "staging",
            "The T, N or M category says pathologic but Staging basis is clinical.",
        ),
        ({"laterality": "middle"}, "laterality", "Laterality: 'middle' is not one of left"),
        ({"staging": "guessed"}, "staging", "Staging basis: 'guessed' is not one of clinical"),
        ({"grade": "g" * 201}, "grade", "Grade is too long (201 characters"),
    ],
)
def test_a_refused_cancer_fact_keeps_what_was_typed_and_changes_nothing(
    team: Browser, cli: Cli, form: dict[str, str], field: str, message: str
) -> None:
    response = team.post("/opinions/new", opinion(site="Left breast", **form))
    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert field_value(response.text, "site") == "Left breast"
    assert "No opinions yet" in team.get("/opinions").text
    team.post("/opinions/new", opinion(ecog="2"))
    team.post("/opinions/1/edit", {**opinion(ecog="2"), **form})
    assert json.loads(cli.ok("opinion", "show", "1", "--json").stdout)["ecog"] == 2


def test_the_comparison_shows_and_shades_every_cancer_fact(team: Browser) -> None:
    team.post("/opinions/new", opinion(stage="IIB", date="2026-10-01", **FACTS))
    team.post(
        "/opinions/new",
        opinion(
            "2",
            stage="IIB",
            date="2026-11-01",
            **{**FACTS, "t": "T3", "grade": "G3", "staging": "pathologic", "ecog": "0"},
        ),
    )
    page = team.get("/opinions/compare").text
    shown = {row[0].split(" ≠")[0]: row[1:] for row in rows(page)[1:]}
    assert shown == {
        "Date": ["2026-10-01", "2026-11-01"],
        "Diagnosis": ["Invasive ductal carcinoma"] * 2,
        "Primary site": ["Left breast, upper outer quadrant"] * 2,
        "Laterality": ["left", "left"],
        "Histology": ["Invasive ductal carcinoma"] * 2,
        "Grade": ["G2", "G3"],
        "T": ["T2", "T3"],
        "N": ["N1a", "N1a"],
        "M": ["M0", "M0"],
        "TNM basis": ["pathologic", "pathologic"],
        "Stage group": ["IIB", "IIB"],
        "AJCC edition": ["8", "8"],
        "ECOG": ["1", "0"],
        "Plan": ["", ""],
    }
    differing = re.findall(r'<tr class="differs">\s*<th scope="row">([^<≠]*)', page)
    assert [name.strip() for name in differing] == [
        "Grade",
        "T",
        "ECOG",
    ]  # a date is not an opinion
    verdict = texts(page, "verdict")
    assert any("They differ on T and grade, which decide" in line for line in verdict)
