"""The languages scans are read in, chosen in the browser as with `record ocr-lang`: the
same check, the same refusals (nothing changed), and the way back to the default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from carebinder.ocr.languages import from_locale
from carebinder.services import text_layers
from tests.conftest import Cli
from tests.ocr.pages import need_tesseract
from tests.web.livesite import Server, look
from tests.web.webutil import Browser, field_error, field_value, texts


def chosen(browser: Browser) -> str | None:
    with Session(browser.app.state.web.engine) as s:
        return text_layers.languages(s, 1)


def test_the_page_says_what_scans_are_read_in_and_is_under_more(ana: Browser) -> None:
    assert '<a href="/scans">Reading scans</a>' in ana.get("/more").text
    page = ana.get("/scans").text
    default = from_locale()
    assert texts(page, "state") == [
        f"Ana Souza's scans are read in English ({default}, this computer's default)."
    ]
    assert field_value(page, "ocr_languages") == default
    assert "Use this computer's default" not in page  # nothing chosen to forget


def test_languages_chosen_are_kept_and_the_default_comes_back(ana: Browser) -> None:
    need_tesseract()
    saved = ana.post("/scans", {"ocr_languages": " SPA+eng "})
    assert texts(saved.text, "done") == ["Scans and photos will be read in spa+eng."]
    assert chosen(ana) == "spa+eng"
    assert texts(saved.text, "state") == [
        "Ana Souza's scans are read in Spanish and English (spa+eng, chosen for Ana Souza)."
    ]
    back = ana.post("/scans", {"default": "yes"})
    assert texts(back.text, "done") == ["Scans and photos will be read in this computer's default."]
    assert chosen(ana) is None


def test_a_bad_code_or_a_missing_language_is_refused_and_nothing_changes(ana: Browser) -> None:
    need_tesseract()
    ana.post("/scans", {"ocr_languages": "spa+eng"})
    bad = ana.post("/scans", {"ocr_languages": "sp a"})
    assert bad.status_code == 400
    assert field_error(bad.text, "ocr_languages") == (
        "Languages must be Tesseract's language codes joined by +, e.g. spa+eng (got 'sp a')."
    )
    assert field_value(bad.text, "ocr_languages") == "sp a"
    missing = ana.post("/scans", {"ocr_languages": "zul+eng"})
    assert missing.status_code == 400
    assert "sudo apt-get install tesseract-ocr-zul" in field_error(missing.text, "ocr_languages")
    assert chosen(ana) == "spa+eng"


def test_the_page_in_a_real_browser(chromium: Any, server: Server, shots: Path, cli: Cli) -> None:
    """From More to Reading scans, a choice saved by label, axe-checked, screenshots kept."""
    need_tesseract()
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    page = chromium.new_page()
    page.goto(server.address)
    page.get_by_role("navigation").get_by_role("link", name="More").click()
    page.get_by_role("link", name="Reading scans").click()
    page.get_by_label("Languages").fill("spa+eng")
    page.get_by_role("button", name="Save the languages").click()
    assert "Spanish and English (spa+eng, chosen for Ana Souza)" in page.inner_text("main")
    look(page, shots, "scan-languages")
    assert "spa+eng (chosen" in cli.ok("record", "ocr-lang").stdout
