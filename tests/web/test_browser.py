"""The web face in a real browser (Debian's chromium, driven by Playwright), started as a
person starts it: `carebinder serve`, the printed address, then forms and buttons only.
axe-core checks every page; screenshots at desktop and phone widths are kept for a look
(set CAREBINDER_SCREENSHOTS=folder)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import Cli
from tests.web.livesite import Server, look


def test_a_caregiver_sets_up_a_binder_with_the_mouse(
    chromium: Any, server: Server, shots: Path, cli: Cli
) -> None:
    page = chromium.new_page()
    page.goto(server.address)
    assert "?key=" not in page.url  # the key became a cookie and left the address
    assert "Start with the person whose binder this is." in page.get_by_role("status").inner_text()
    look(page, shots, "01-welcome")

    page.get_by_label("Name").fill("Ana Souza")
    page.get_by_role("button", name="Save").click()  # no date of birth: the browser asks
    assert page.get_by_label("Date of birth").evaluate("e => !e.validity.valid")
    page.get_by_label("Date of birth").fill("1964-04-12")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ana Souza"
    assert "Added Ana Souza." in page.get_by_role("status").inner_text()
    look(page, shots, "02-home")

    for name, specialty in [("Dr. Wei Chen", "Medical oncology"), ("Dr. Lena Park", "")]:
        page.get_by_role("navigation").get_by_role("link", name="Doctors").click()
        page.get_by_role("link", name="Add a doctor").click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Specialty").fill(specialty)
        if name == "Dr. Lena Park":
            page.get_by_label("Referred by").select_option(label="Dr. Wei Chen")
            page.get_by_label("NPI").fill("12345")  # refused beside the field, kept
            page.get_by_role("button", name="Save").click()
            assert "an NPI is 10 digits" in page.locator(".error").inner_text()
            assert page.get_by_label("Name").input_value() == "Dr. Lena Park"
            look(page, shots, "03-doctor-refused")
            page.get_by_label("NPI").fill("")
        page.get_by_role("button", name="Save").click()
        assert page.get_by_role("heading", level=1).inner_text() == name
    look(page, shots, "04-doctor")
    page.get_by_role("navigation").get_by_role("link", name="Doctors").click()
    look(page, shots, "05-doctors")

    page.get_by_role("navigation").get_by_role("link", name="Questions").click()
    page.get_by_label("Question").fill("Is the sentinel node biopsy necessary?")
    page.get_by_role("button", name="Add the question").click()
    page.get_by_text("Write the answer").click()
    page.get_by_label("Answer", exact=True).fill("Yes, to stage the cancer.")
    page.get_by_label("Answered by").select_option(label="Dr. Wei Chen")
    page.get_by_role("button", name="Save the answer").click()
    assert "from Dr. Wei Chen" in page.locator(".answer").inner_text()
    look(page, shots, "06-questions")

    # The same binder on the command line, and a change there seen on the next page load.
    assert "Dr. Lena Park" in cli.ok("doctor", "list").stdout
    cli.ok("question", "add", "Which trials am I eligible for?")
    page.reload()
    assert page.get_by_text("Which trials am I eligible for?").is_visible()

    code, said = server.stop()
    assert code == 0, said
    assert "Traceback" not in said
    assert not re.search("Souza|Chen|Park|sentinel", said)  # the log names no one


def test_adding_a_doctor_with_the_keyboard_alone(chromium: Any, server: Server, cli: Cli) -> None:
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    page = chromium.new_page()
    page.goto(server.address)
    page.goto(server.origin + "/doctors/new")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to the page"
    page.get_by_label("Name").focus()
    page.keyboard.type("Dr. Wei Chen")
    page.keyboard.press("Tab")
    page.keyboard.type("Medical oncology")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_url(re.compile(r"/doctors/1"))
    assert "Medical oncology" in cli.ok("doctor", "list").stdout


def test_a_page_opened_without_the_key_shows_nothing(
    chromium: Any, server: Server, cli: Cli
) -> None:
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    page = chromium.new_page()
    response = page.goto(server.origin + "/")
    assert response is not None and response.status == 403
    assert "Ana" not in page.content()
    assert "address `carebinder serve` printed" in page.inner_text("main")
