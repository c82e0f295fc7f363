"""The health summary's medications and allergies: the three states read plainly ("not
recorded yet", "takes no medications (stated …)", a list), "none" in one click and refused
while entries exist, one short form to add, stop in one click, edit, remove after a
confirmation; every refusal beside its field, what was typed kept, nothing changed."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carebinder.models import Patient
from carebinder.services import allergies, medications
from tests.web.webutil import Browser, field_error, field_value, texts

TODAY = date.today().isoformat()
NOT_RECORDED = "Current medications: not recorded yet — nobody has asked."
NO_ALLERGIES_RECORDED = "Allergies: not recorded yet — nobody has asked."


def stored(browser: Browser) -> dict[str, Any]:
    """What the binder holds for patient #1, read with the services."""
    with Session(browser.app.state.web.engine) as s:
        patient = s.get(Patient, 1)
        assert patient is not None
        return {
            "medications": [medications.to_json(m) for m in medications.list_medications(s, 1)],
            "allergies": [allergies.to_json(a) for a in allergies.list_allergies(s, 1)],
            "no_medications_on": patient.no_medications_on,
            "no_allergies_on": patient.no_allergies_on,
        }


def states(html: str) -> list[str]:
    return texts(html, "state")


@pytest.fixture
def team(ana: Browser) -> Browser:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    return ana


def tamoxifen(**more: str) -> dict[str, str]:
    return {"name": "Tamoxifen", "dose": "20 mg", "how": "by mouth, once a day", **more}


# --- medications -------------------------------------------------------------------------------


def test_the_page_is_in_the_navigation_and_says_what_is_not_recorded(ana: Browser) -> None:
    page = ana.get("/health").text
    assert '<a href="/health" aria-current="page">Health</a>' in page
    assert "<h1>Health summary</h1>" in page
    assert states(page)[:2] == [NOT_RECORDED, NO_ALLERGIES_RECORDED]
    assert 'action="/medications/none#medications"' in page
    assert 'action="/allergies/none#allergies"' in page
    assert '<a href="/health">Health</a>' in ana.get("/doctors").text  # not the current page


def test_takes_no_medications_is_one_button_and_an_added_one_ends_it(ana: Browser) -> None:
    said = ana.post("/medications/none")
    assert said.history[0].status_code == 303
    assert said.url.fragment == "medications"
    assert texts(said.text, "done") == [f"Recorded: takes no medications (stated {TODAY})."]
    assert states(said.text)[0] == f"Takes no medications (stated {TODAY})."
    assert 'action="/medications/none' not in said.text  # said already: no button
    added = ana.post("/medications/new", tamoxifen())
    assert texts(added.text, "done") == [
        f"Added Tamoxifen. This ends “takes no medications” (stated {TODAY})."
    ]
    assert added.url.fragment == "medication-1"
    assert f"Takes no medications (stated {TODAY})" not in added.text
    assert '<tr id="medication-1">' in added.text
    assert stored(ana)["no_medications_on"] is None


def test_takes_no_medications_is_refused_while_one_is_current(ana: Browser) -> None:
    ana.post("/medications/new", tamoxifen())
    before = stored(ana)
    refused = ana.post("/medications/none")
    assert refused.status_code == 400
    assert texts(refused.text, "refused") == [
        "1 medication is still current (Tamoxifen). Stop it first, with the day it was stopped."
    ]
    assert stored(ana) == before  # nothing changed


def test_a_medication_with_every_field(team: Browser) -> None:
    added = team.post(
        "/medications/new",
        tamoxifen(
            kind="supplement",
            started="2026-01-05",
            reason="hot flashes",
            prescriber="1",
            notes="With food",
        ),
    )
    assert texts(added.text, "done") == ["Added Tamoxifen."]  # nothing was said before
    (medication,) = stored(team)["medications"]
    assert medication == {
        "id": 1,
        "name": "Tamoxifen",
        "dose": "20 mg",
        "how": "by mouth, once a day",
        "kind": "supplement",
        "started": "2026-01-05",
        "stopped": None,
        "current": True,
        "reason": "hot flashes",
        "prescriber": 1,
        "prescriber_name": "Dr. Wei Chen",
        "notes": "With food",
    }
    row = re.search(r'<tr id="medication-1">(.*?)</tr>', added.text, flags=re.S)
    assert row is not None
    cells = [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), flags=re.S)
    ]
    assert cells[:7] == [
        "Tamoxifen",
        "20 mg",
        "by mouth, once a day",
        "supplement",
        "2026-01-05",
        "hot flashes",
        "Dr. Wei Chen",
    ]
    form = team.get("/medications/1/edit").text
    assert field_value(form, "started") == "2026-01-05"
    assert field_value(form, "notes") == "With food"
    assert '<option value="1" selected>Dr. Wei Chen</option>' in form
    assert '<option value="supplement" selected>' in form


def test_the_short_form_folds_what_is_seldom_needed(ana: Browser) -> None:
    page = ana.get("/health").text
    form = page.split('action="/medications/new')[1].split("</form>")[0]
    shown, folded = form.split("<details>")
    assert all(f'id="f-{name}-medication"' in shown for name in ("name", "dose", "how"))
    for name in ("kind", "started", "stopped", "reason", "prescriber", "notes"):
        assert f'id="f-{name}-medication"' in folded


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (tamoxifen(name=" "), "name", "Name cannot be empty."),
        (
            tamoxifen(started="2026-02-01", stopped="2026-01-01"),
            "stopped",
            "Stopped (2026-01-01) is before started (2026-02-01). Check the dates.",
        ),
        (tamoxifen(started="01/02/2026"), "started", "Started: '01/02/2026' is not a date."),
        (tamoxifen(kind="magic"), "kind", "Kind: 'magic' is not one of prescription"),
        (
            tamoxifen(prescriber="9"),
            "prescriber",
            "Prescribed by: no doctor #9 in this binder; choose one of the list.",
        ),
        (tamoxifen(prescriber="x"), "prescriber", "Prescribed by: 'x' is not one of the choices."),
        (tamoxifen(dose="d" * 201), "dose", "Dose is too long (201 characters"),
    ],
)
def test_a_refused_medication_keeps_what_was_typed_and_adds_nothing(
    team: Browser, form: dict[str, str], field: str, message: str
) -> None:
    response = team.post("/medications/new", form)
    assert response.status_code == 400
    assert message in field_error(response.text, f"{field}-medication")
    assert field_value(response.text, "how-medication") == "by mouth, once a day"
    assert field_value(response.text, "name-medication") == form["name"]
    assert "<details open>" in response.text  # the folded fields shown, the reason maybe there
    assert 'id="e-name-allergy"' not in response.text  # only beside the form refused
    assert stored(team)["medications"] == []


def test_stop_is_one_click_dated_today_and_keeps_the_history(ana: Browser) -> None:
    ana.post("/medications/new", tamoxifen(started="2026-01-05"))
    page = ana.get("/health").text
    assert 'action="/medications/1/stop"' in page
    stopped = ana.post("/medications/1/stop")
    assert stopped.history[0].status_code == 303
    assert texts(stopped.text, "done") == [
        f"Stopped Tamoxifen on {TODAY}; it stays in the history."
    ]
    assert "<h3>Stopped</h3>" in stopped.text
    assert states(stopped.text)[0] == NOT_RECORDED  # nothing current: nobody said "none"
    (medication,) = stored(ana)["medications"]
    assert (medication["stopped"], medication["current"]) == (TODAY, False)
    again = ana.post("/medications/1/stop")
    assert again.status_code == 400
    assert texts(again.text, "refused") == [f"Tamoxifen was already stopped on {TODAY}."]
    # Now that none is current, "takes no medications" can be said.
    said = ana.post("/medications/none")
    assert texts(said.text, "done") == [f"Recorded: takes no medications (stated {TODAY})."]
    assert "<h3>Stopped</h3>" in said.text  # the history stays below


def test_stopping_one_that_starts_later_is_refused(ana: Browser) -> None:
    later = (date.today() + timedelta(days=10)).isoformat()
    ana.post("/medications/new", tamoxifen(started=later))
    refused = ana.post("/medications/1/stop")
    assert refused.status_code == 400
    assert texts(refused.text, "refused") == [
        f"Stopped ({TODAY}) is before started ({later}). Check the dates."
    ]
    assert stored(ana)["medications"][0]["stopped"] is None


def test_editing_a_medication(team: Browser) -> None:
    team.post("/medications/new", tamoxifen(prescriber="1", reason="hormone therapy"))
    saved = team.post(
        "/medications/1/edit", {"name": "Tamoxifen", "dose": "10 mg", "kind": "prescription"}
    )
    assert saved.url.fragment == "medication-1"
    assert texts(saved.text, "done") == ["Saved Tamoxifen."]
    (medication,) = stored(team)["medications"]
    assert (medication["dose"], medication["how"], medication["reason"]) == ("10 mg", None, None)
    assert medication["prescriber"] is None  # emptied fields are cleared
    refused = team.post(
        "/medications/1/edit",
        {"name": "", "dose": "5 mg", "kind": "prescription", "started": "2026-03-01"},
    )
    assert refused.status_code == 400
    assert field_error(refused.text, "name") == "Name cannot be empty."
    assert field_value(refused.text, "dose") == "5 mg"
    assert "<h1>Edit Tamoxifen</h1>" in refused.text
    assert stored(team)["medications"][0]["dose"] == "10 mg"  # unchanged
    forged = team.post(
        "/medications/1/edit", {"name": "Tamoxifen", "kind": "prescription", "prescriber": "7"}
    )
    assert field_error(forged.text, "prescriber") == (
        "Prescribed by: no doctor #7 in this binder; choose one of the list."
    )


def test_restarting_a_stopped_medication_ends_takes_no_medications(ana: Browser) -> None:
    ana.post("/medications/new", tamoxifen(started="2025-01-01", stopped="2025-06-01"))
    ana.post("/medications/none")
    restarted = ana.post(
        "/medications/1/edit", tamoxifen(kind="prescription", started="2025-01-01")
    )
    assert texts(restarted.text, "done") == [
        f"Saved Tamoxifen. This ends “takes no medications” (stated {TODAY})."
    ]


def test_removing_a_medication_asks_first(ana: Browser) -> None:
    ana.post("/medications/new", tamoxifen())
    confirm = ana.get("/medications/1/remove").text
    assert "Remove Tamoxifen?" in confirm
    assert '<a href="/health" aria-current="page">Health</a>' in confirm
    assert ana.post("/medications/1/remove").url.path == "/medications/1/remove"
    assert len(stored(ana)["medications"]) == 1
    removed = ana.post("/medications/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed Tamoxifen."]
    assert removed.url.fragment == "medications"
    assert stored(ana)["medications"] == []


def test_another_patients_medication_is_not_found(ana: Browser) -> None:
    ana.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    ana.post("/patients/use", {"patient": "2"})
    ana.post("/medications/new", tamoxifen(name="Maria's pill"))
    ana.post("/patients/use", {"patient": "1"})
    for response in [
        ana.get("/medications/1/edit"),
        ana.post("/medications/1/edit", tamoxifen(kind="prescription")),
        ana.post("/medications/1/stop"),
        ana.get("/medications/1/remove"),
        ana.post("/medications/1/remove", {"confirmed": "yes"}),
    ]:
        assert response.status_code == 404
        assert texts(response.text, "message") == ["No medication #1 in this binder."]
        assert "Maria" not in response.text


# --- allergies ---------------------------------------------------------------------------------


def test_no_known_allergies_is_one_button_and_an_added_one_ends_it(ana: Browser) -> None:
    said = ana.post("/allergies/none")
    assert said.url.fragment == "allergies"
    assert texts(said.text, "done") == [f"Recorded: no known allergies (stated {TODAY})."]
    assert f"No known allergies (stated {TODAY})." in states(said.text)
    assert 'action="/allergies/none' not in said.text
    added = ana.post("/allergies/new", {"substance": "Penicillin", "reaction": "hives"})
    assert texts(added.text, "done") == [
        f"Added Penicillin. This ends “no known allergies” (stated {TODAY})."
    ]
    assert '<tr id="allergy-1">' in added.text
    assert stored(ana)["no_allergies_on"] is None


def test_no_known_allergies_is_refused_while_one_is_recorded(ana: Browser) -> None:
    ana.post("/allergies/new", {"substance": "Penicillin"})
    before = stored(ana)
    refused = ana.post("/allergies/none")
    assert refused.status_code == 400
    assert texts(refused.text, "refused") == [
        "1 allergy is recorded (Penicillin). Remove it first if it was recorded by mistake."
    ]
    assert stored(ana) == before


def test_an_allergy_in_one_short_form_then_edited(ana: Browser) -> None:
    page = ana.get("/health").text
    form = page.split('action="/allergies/new')[1].split("</form>")[0]
    shown, folded = form.split("<details>")
    assert all(f'id="f-{n}-allergy"' in shown for n in ("substance", "reaction", "severity"))
    assert 'id="f-kind-allergy"' in folded
    ana.post(
        "/allergies/new",
        {
            "substance": "Penicillin",
            "reaction": "hives",
            "severity": "severe",
            "kind": "medication",
        },
    )
    ana.post("/allergies/new", {"substance": "Latex", "severity": "mild"})
    page = ana.get("/health").text
    assert page.index("Penicillin") < page.index("Latex")  # the severe one first
    assert stored(ana)["allergies"][0] == {
        "id": 1,
        "substance": "Penicillin",
        "reaction": "hives",
        "severity": "severe",
        "kind": "medication",
        "notes": None,
    }
    form = ana.get("/allergies/1/edit").text
    assert '<option value="severe" selected>' in form
    saved = ana.post("/allergies/1/edit", {"substance": "Penicillin", "reaction": "rash"})
    assert texts(saved.text, "done") == ["Saved Penicillin."]
    assert saved.url.fragment == "allergy-1"
    assert stored(ana)["allergies"][1]["severity"] is None  # emptied: cleared, now last
    refused = ana.post("/allergies/1/edit", {"substance": "Penicillin", "severity": "apocalyptic"})
    assert field_error(refused.text, "severity") == (
        "Severity: 'apocalyptic' is not one of mild, moderate, severe."
    )


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"substance": ""}, "substance", "Substance cannot be empty."),
        (
            {"substance": "Penicillin", "severity": "apocalyptic"},
            "severity",
            "Severity: 'apocalyptic' is not one of mild, moderate, severe.",
        ),
        ({"substance": "Penicillin", "kind": "mineral"}, "kind", "Kind: 'mineral' is not one of"),
        ({"substance": "Penicillin", "reaction": "a\x07"}, "reaction", "contains a control"),
    ],
)
def test_a_refused_allergy_keeps_what_was_typed_and_adds_nothing(
    ana: Browser, form: dict[str, str], field: str, message: str
) -> None:
    ana.post("/allergies/none")
    response = ana.post("/allergies/new", {"reaction": "hives", **form})
    assert response.status_code == 400
    assert message in field_error(response.text, f"{field}-allergy")
    assert field_value(response.text, "substance-allergy") == form["substance"]
    after = stored(ana)
    assert after["allergies"] == []
    assert after["no_allergies_on"] == date.today()  # the statement stands


def test_removing_an_allergy_asks_first(ana: Browser) -> None:
    ana.post("/allergies/new", {"substance": "Penicillin"})
    assert "Remove Penicillin?" in ana.get("/allergies/1/remove").text
    assert ana.post("/allergies/1/remove").url.path == "/allergies/1/remove"
    removed = ana.post("/allergies/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed Penicillin."]
    assert NO_ALLERGIES_RECORDED in states(removed.text)
    assert ana.get("/allergies/1/edit").status_code == 404


def test_a_medication_or_an_allergy_is_found_by_name(ana: Browser) -> None:
    ana.post("/medications/new", tamoxifen())
    ana.post("/allergies/new", {"substance": "Penicillin"})
    found = ana.get("/search", params={"q": "tamoxifen"}).text
    assert '<a href="/health#medication-1">' in found
    found = ana.get("/search", params={"q": "penicillin"}).text
    assert '<a href="/health#allergy-1">' in found


def test_every_field_of_the_new_forms_has_its_label(team: Browser) -> None:
    """So a refusal names the field as the form does, never by its domain name."""
    from carebinder.web.core import LABELS

    team.post("/medications/new", tamoxifen())
    team.post("/opinions/new", {"doctor": "1", "diagnosis": "IDC"})
    seen: set[str] = set()
    for path in ["/health", "/medications/1/edit", "/opinions/new", "/opinions/1/edit"]:
        html = team.get(path).text
        names = set(re.findall(r'<(?:input|select|textarea)[^>]* name="([a-z_]+)"', html))
        assert names - {"csrf"} <= set(LABELS), (path, names - set(LABELS))
        seen |= names
    assert {"prescriber", "substance", "interpretation", "ecog", "t", "staging"} <= seen


def test_a_refusal_about_a_field_the_page_lacks_goes_above_it() -> None:
    from carebinder.errors import InvalidInput
    from carebinder.web.core import refusal

    error = InvalidInput("{field} must be 0, 1, 2, 3 or 4, not 7.", field="ecog")
    assert refusal(error) == {"ecog": "ECOG must be 0, 1, 2, 3 or 4, not 7."}
    assert refusal(error, shown={"file"}) == {"": "ECOG must be 0, 1, 2, 3 or 4, not 7."}


def test_the_home_page_says_what_is_known_of_medications_and_allergies(ana: Browser) -> None:
    assert states(ana.get("/").text) == [NOT_RECORDED, NO_ALLERGIES_RECORDED]
    ana.post("/medications/none")
    ana.post("/allergies/none")
    assert states(ana.get("/").text) == [
        f"Takes no medications (stated {TODAY}).",
        f"No known allergies (stated {TODAY}).",
    ]
    ana.post("/medications/new", tamoxifen())
    ana.post("/allergies/new", {"substance": "Penicillin", "severity": "severe"})
    home = ana.get("/").text
    assert states(home) == []
    assert "Current medications: Tamoxifen 20 mg." in home
    assert "Allergies: Penicillin (severe)." in home
