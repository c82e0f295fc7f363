"""The materials' page: add, a status change in one click, removed after a confirmation."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.conftest import Cli
from tests.web.webutil import Browser, field_error, field_value, texts


def slides(**more: str) -> dict[str, str]:
    return {
        "kind": "glass-slides",
        "description": "12 H&E slides, case S26-4411",
        "status": "needed",
        **more,
    }


def test_a_material_is_added(ana: Browser, cli: Cli) -> None:
    page = ana.get("/materials").text
    assert "No materials yet" in page
    added = ana.post(
        "/materials/new",
        slides(institution="Mercy Hospital pathology", status="requested", date="2026-11-20"),
    )
    assert added.history[0].status_code == 303
    assert texts(added.text, "done") == ["Added 12 H&E slides, case S26-4411 (requested)."]
    assert "12 H&amp;E slides, case S26-4411" in added.text
    assert "Mercy Hospital pathology" in added.text
    assert "2026-11-20" in added.text  # since when it is requested
    data = json.loads(cli.ok("material", "list", "--json").stdout)
    assert (data[0]["status"], data[0]["requested_on"]) == ("requested", "2026-11-20")


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (slides(description=" "), "description", "Description cannot be empty."),
        (slides(kind="stone"), "kind", "Kind: 'stone' is not one of glass-slides"),
        (slides(status="lost"), "status", "Status: 'lost' is not one of needed"),
        (slides(date="20/11/2026", status="requested"), "date", "Date: '20/11/2026' is not a date"),
        (slides(date="2026-11-20"), "date", "Date: a material that is needed has no date."),
    ],
)
def test_a_refused_material_keeps_what_was_typed_and_adds_nothing(
    ana: Browser, form: dict[str, str], field: str, message: str
) -> None:
    response = ana.post("/materials/new", {**form, "institution": "Mercy Hospital"})
    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert field_value(response.text, "institution") == "Mercy Hospital"
    assert field_value(response.text, "description") == form["description"]
    assert "No materials yet" in ana.get("/materials").text


def test_a_status_change_is_one_click(ana: Browser, cli: Cli) -> None:
    ana.post("/materials/new", slides())
    page = ana.get("/materials").text
    button = (
        '<form method="post" action="/materials/1/status" class="inline">'
        '<input type="hidden" name="csrf"'
    )
    assert button in page
    assert 'name="status" value="received"' in page
    clicked = ana.post("/materials/1/status", {"status": "received"})
    assert clicked.history[0].status_code == 303
    assert clicked.url.fragment == "m1"
    assert texts(clicked.text, "done") == ["12 H&E slides, case S26-4411 is now received."]
    data = json.loads(cli.ok("material", "list", "--json").stdout)
    assert (data[0]["status"], data[0]["received_on"]) == ("received", date.today().isoformat())
    refused = ana.post("/materials/1/status", {"status": "lost"})
    assert refused.status_code == 400
    assert texts(refused.text, "refused")[0].startswith("Status: 'lost' is not one of needed")
    assert 'id="e-status"' not in refused.text  # not beside the add form's status
    assert json.loads(cli.ok("material", "list", "--json").stdout)[0]["status"] == "received"


def test_removing_a_material_asks_first(ana: Browser) -> None:
    ana.post("/materials/new", slides())
    assert "Stop tracking 12 H&amp;E slides" in ana.get("/materials/1/remove").text
    assert ana.post("/materials/1/remove").url.path == "/materials/1/remove"
    assert 'id="m1"' in ana.get("/materials").text
    removed = ana.post("/materials/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed 12 H&E slides, case S26-4411."]
    assert "No materials yet" in removed.text


def test_another_patients_material_is_not_found(ana: Browser) -> None:
    ana.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    ana.post("/patients/use", {"patient": "2"})
    ana.post("/materials/new", slides(description="Maria's slides"))
    ana.post("/patients/use", {"patient": "1"})
    for response in [
        ana.post("/materials/1/status", {"status": "received"}),
        ana.get("/materials/1/remove"),
        ana.post("/materials/1/remove", {"confirmed": "yes"}),
    ]:
        assert response.status_code == 404
        assert texts(response.text, "message") == ["No material #1 in this binder."]
        assert "Maria" not in response.text
    assert "No materials yet" in ana.get("/materials").text
