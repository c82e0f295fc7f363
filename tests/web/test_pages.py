"""The pages of patients, doctors and questions, as a person uses them: every form, every
refusal (beside its field, what was typed kept, nothing changed), POST/redirect/GET."""

from __future__ import annotations

import pytest

from carebinder import config
from tests.conftest import Cli
from tests.web.webutil import Browser, field_error, field_value, texts


def test_an_empty_binder_asks_for_its_first_patient(browser: Browser) -> None:
    response = browser.get("/")
    assert response.url.path == "/patients/new"
    assert texts(response.text, "done") == ["Welcome. Start with the person whose binder this is."]
    assert "No patients yet" in browser.get("/patients").text


def test_a_binder_of_several_unchosen_patients_asks_for_a_choice(
    ana: Browser, settings: config.Settings
) -> None:
    ana.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    (settings.home / config.STATE_FILE).unlink()  # nobody chose: a navigator's shared binder
    response = ana.get("/doctors")
    assert response.url.path == "/patients"
    assert texts(response.text, "done") == ["Choose the patient to work on."]


def test_adding_the_first_patient_opens_their_binder(browser: Browser) -> None:
    response = browser.post("/patients/new", {"name": "Ana Souza", "born": "1964-04-12"})
    assert response.history[0].status_code == 303  # POST/redirect/GET
    assert response.url.path == "/"
    assert texts(response.text, "done") == ["Added Ana Souza. The binder now shows Ana Souza."]
    assert "<h1>Ana Souza</h1>" in response.text


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": "", "born": "1964-04-12"}, "name", "Name cannot be empty."),
        ({"name": "Ana", "born": ""}, "born", "Date of birth: '' is not a date."),
        (
            {"name": "Ana", "born": "12/04/1964"},
            "born",
            "Date of birth: '12/04/1964' is not a date.",
        ),
        ({"name": "Ana", "born": "1764-04-12"}, "born", "is not a plausible date"),
        ({"name": "A" * 201, "born": "1964-04-12"}, "name", "Name is too long (201 characters"),
    ],
)
def test_a_refused_patient_keeps_what_was_typed(
    browser: Browser, form: dict[str, str], field: str, message: str
) -> None:
    response = browser.post("/patients/new", {**form, "phone": "+1 555 0100"})
    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert field_value(response.text, "phone") == "+1 555 0100"
    assert field_value(response.text, "name") == form["name"]
    assert "No patients yet" in browser.get("/patients").text  # nothing added


def test_a_second_patient_does_not_switch_the_binder(ana: Browser) -> None:
    response = ana.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    assert response.url.path == "/patients"
    assert texts(response.text, "done") == [
        "Added Maria Souza. The binder still shows Ana Souza: choose Maria Souza below to"
        " work on them."
    ]
    assert "<h1>Ana Souza</h1>" in ana.get("/").text
    switched = ana.post("/patients/use", {"patient": "2"})
    assert texts(switched.text, "done") == ["Now working on Maria Souza."]
    assert "<h1>Maria Souza</h1>" in switched.text


def test_the_choice_is_the_command_lines_too(ana: Browser, cli: Cli) -> None:
    ana.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    ana.post("/patients/use", {"patient": "2"})
    cli.ok("doctor", "add", "Dr. Maria's Doctor")
    assert "Dr. Maria&#39;s Doctor" in ana.get("/doctors").text


def test_editing_a_patient(ana: Browser) -> None:
    form = ana.get("/patients/1/edit").text
    assert field_value(form, "born") == "1964-04-12"
    response = ana.post(
        "/patients/1/edit", {"name": "Ana M. Souza", "born": "1964-04-12", "insurer": "Acme"}
    )
    assert texts(response.text, "done") == ["Saved Ana M. Souza."]
    assert field_value(ana.get("/patients/1/edit").text, "insurer") == "Acme"
    refused = ana.post("/patients/1/edit", {"name": " ", "born": "1964-04-12"})
    assert field_error(refused.text, "name") == "Name cannot be empty."
    assert "Ana M. Souza" in ana.get("/patients").text


def test_unknown_patients_are_not_found(ana: Browser) -> None:
    for response in [ana.get("/patients/9/edit"), ana.post("/patients/use", {"patient": "9"})]:
        assert response.status_code == 404
        assert texts(response.text, "message") == ["No patient #9 in this binder."]


# --- doctors -----------------------------------------------------------------------------------


def test_doctors_with_their_referral_chain(ana: Browser) -> None:
    added = ana.post("/doctors/new", {"name": "Dr. Wei Chen", "specialty": "Medical oncology"})
    assert added.url.path == "/doctors/1"
    assert texts(added.text, "done") == ["Added Dr. Wei Chen."]
    ana.post("/doctors/new", {"name": "Dr. Lena Park", "referred_by": "1"})
    page = ana.get("/doctors/1").text
    assert 'href="/doctors/2">Dr. Lena Park</a>' in page  # whom Dr. Chen referred
    assert 'href="/doctors/1">Dr. Wei Chen</a>' in ana.get("/doctors/2").text
    listing = ana.get("/doctors").text
    assert "Medical oncology" in listing


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": ""}, "name", "Name cannot be empty."),
        ({"name": "Dr. X", "npi": "123"}, "npi", "NPI: an NPI is 10 digits, e.g. 1234567893."),
        ({"name": "Dr. X", "email": "a\x07b"}, "email", "Email contains a control character"),
        ({"name": "Dr. X", "referred_by": "7"}, "", "No doctor #7 in this binder."),
        ({"name": "Dr. X", "referred_by": "x"}, "referred_by", "Referred by: 'x' is not one of"),
    ],
)
def test_a_refused_doctor_changes_nothing(
    ana: Browser, form: dict[str, str], field: str, message: str
) -> None:
    response = ana.post("/doctors/new", {**form, "specialty": "Surgery"})
    assert response.status_code in (400, 404)
    shown = field_error(response.text, field) if field else texts(response.text, "message")[0]
    assert message in shown
    if field:
        assert field_value(response.text, "specialty") == "Surgery"
    assert "No doctors yet" in ana.get("/doctors").text


def test_a_doctor_cannot_refer_themselves(ana: Browser) -> None:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    response = ana.post("/doctors/1/edit", {"name": "Dr. Wei Chen", "referred_by": "1"})
    assert field_error(response.text, "referred_by") == (
        "Referred by: a doctor cannot be referred by themselves."
    )


def test_removing_a_doctor_asks_first(ana: Browser) -> None:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    confirm = ana.get("/doctors/1/remove")
    assert "Remove Dr. Wei Chen?" in confirm.text
    unconfirmed = ana.post("/doctors/1/remove")  # e.g. a form without the confirmation
    assert unconfirmed.url.path == "/doctors/1/remove"
    assert "Dr. Wei Chen" in ana.get("/doctors").text
    removed = ana.post("/doctors/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed Dr. Wei Chen."]
    assert "No doctors yet" in removed.text


def test_another_patients_doctor_is_not_found(ana: Browser) -> None:
    ana.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    ana.post("/patients/use", {"patient": "2"})
    ana.post("/doctors/new", {"name": "Dr. Maria's Doctor"})
    ana.post("/patients/use", {"patient": "1"})
    for response in [
        ana.get("/doctors/1"),
        ana.get("/doctors/1/edit"),
        ana.post("/doctors/1/edit", {"name": "Taken over"}),
        ana.post("/doctors/1/remove", {"confirmed": "yes"}),
    ]:
        assert response.status_code == 404
        assert texts(response.text, "message") == ["No doctor #1 in this binder."]
        assert "Maria" not in response.text


def test_the_same_refusal_in_both_faces(ana: Browser, cli: Cli) -> None:
    """The command line names the flag where the page names the field: the rest is the same."""
    line = cli("doctor", "add", "Dr. X", "--npi", "1234567890").stderr.strip()
    page = field_error(ana.post("/doctors/new", {"name": "Dr. X", "npi": "1234567890"}).text, "npi")
    assert line.removeprefix("Error: --npi") == page.removeprefix("NPI")


# --- questions ---------------------------------------------------------------------------------


def test_questions_are_asked_and_answered(ana: Browser) -> None:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    added = ana.post("/questions/new", {"text": "Is the sentinel node biopsy necessary?"})
    assert texts(added.text, "done") == ["Question added."]
    assert "Is the sentinel node biopsy necessary?" in ana.get("/").text  # still open
    answered = ana.post("/questions/1/answer", {"answer": "Yes, to stage.", "by": "1"})
    assert "from Dr. Wei Chen" in answered.text
    assert "Yes, to stage." in answered.text
    assert "No open questions" in ana.get("/").text


def test_a_refused_answer_stays_beside_its_question(ana: Browser) -> None:
    ana.post("/questions/new", {"text": "First?"})
    ana.post("/questions/new", {"text": "Second?"})
    response = ana.post("/questions/2/answer", {"answer": "  "})
    assert response.status_code == 400
    assert field_error(response.text, "answer2") == "Answer cannot be empty."
    assert 'id="e-answer1"' not in response.text
    assert field_error(ana.post("/questions/new", {"text": ""}).text, "text") == (
        "Question cannot be empty."
    )


def test_another_patients_question_is_not_found(ana: Browser) -> None:
    response = ana.post("/questions/5/answer", {"answer": "Yes"})
    assert response.status_code == 404
    assert texts(response.text, "message") == ["No question #5 in this binder."]


def test_a_binder_made_on_the_command_line_opens_in_the_browser(
    cli: Cli, settings: config.Settings
) -> None:
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    cli.ok("doctor", "add", "Dr. Wei Chen")
    browser = Browser(settings)
    try:
        assert "Dr. Wei Chen" in browser.get("/").text
    finally:
        browser.close()
