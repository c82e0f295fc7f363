"""The search page: the words of records and of the PDFs attached to them, found and marked
as `carebinder search` finds them; no results said plainly; a query without words refused
beside its field."""

from __future__ import annotations

import re
from html import escape, unescape
from pathlib import Path
from typing import Any

import pytest

from carebinder import config
from tests.conftest import Cli
from tests.packet.pdfutil import scan_pdf, text_pdf
from tests.search.healthfacts import TITLES, add_to_binder
from tests.web.livesite import Server, look
from tests.web.webutil import Browser, field_error, field_value, texts

PDF = "application/pdf"


def add(browser: Browser, title: str, *files: Path, notes: str = "") -> None:
    sent = [("files", (f.name, f.read_bytes(), PDF)) for f in files]
    response = browser.post(
        "/records/new",
        {"kind": "pathology", "title": title, "notes": notes},
        files=sent or [("files", ("", b"", "application/octet-stream"))],
    )
    assert response.status_code == 200, response.text


def results(html: str) -> list[str]:
    """Each result as text, its marked words in [brackets]."""
    found = re.findall(r"<li>(.*?)</li>", html.split('class="results"')[1], flags=re.S)
    marked = [re.sub(r"</?mark>", lambda m: "]" if "/" in m.group() else "[", r) for r in found]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", r)).split()) for r in marked]


def test_a_word_only_inside_a_pdf_is_found_and_marked(ana: Browser, tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "report.pdf", ["Invasive micropapillary carcinoma, grade 2"])
    add(ana, "Core biopsy", pdf)
    response = ana.get("/search", params={"q": "micropapillary"})
    assert response.status_code == 200
    assert results(response.text) == [
        "file report.pdf of record #1 Invasive [micropapillary] carcinoma, grade 2"
    ]
    assert '<a href="/records/1#file-1">report.pdf</a>' in response.text
    assert "micropapillary" not in ana.get("/records/1").text  # only inside the PDF
    assert texts(response.text, "count") == ["1 result for “micropapillary”."]
    assert field_value(response.text, "query") == "micropapillary"


def test_the_page_finds_what_the_command_line_finds(ana: Browser, cli: Cli, tmp_path: Path) -> None:
    add(ana, "Margins after lumpectomy", notes="Margins clear")
    add(ana, "Sentinel node", text_pdf(tmp_path / "node.pdf", ["Sentinel node negative"]))
    line = cli.ok("search", "margins").stdout
    page = results(ana.get("/search", params={"q": "margins"}).text)
    assert page == ["record [Margins] after lumpectomy"]
    assert "record #1: [Margins] after lumpectomy" in line


def test_results_are_escaped(ana: Browser) -> None:
    add(ana, "<script>alert(1)</script> biopsy")
    response = ana.get("/search", params={"q": "biopsy"})
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>biopsy</mark>" in response.text


def test_no_results_says_so(ana: Browser) -> None:
    add(ana, "Core biopsy")
    response = ana.get("/search", params={"q": "zebra"})
    assert response.status_code == 200
    assert texts(response.text, "message") == ["No results for “zebra”."]
    assert 'class="results"' not in response.text


def test_a_scan_is_named_as_unsearchable(ana: Browser, tmp_path: Path) -> None:
    add(ana, "Old report", scan_pdf(tmp_path / "scan.pdf"))
    response = ana.get("/search", params={"q": "zebra"})
    (said,) = texts(response.text, "notice")
    assert said.startswith("1 PDF is scanned, without a text layer: search cannot see its words:")
    assert "scan.pdf" in said


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("* -- +", "Search has no words to look for."),
        ("   ", "Search cannot be empty."),
        ("x" * 501, "Search is too long (501 characters"),
    ],
)
def test_a_query_without_words_is_refused_beside_the_field(
    ana: Browser, query: str, message: str
) -> None:
    response = ana.get("/search", params={"q": query})
    assert response.status_code == 400
    assert field_error(response.text, "query").startswith(message)
    assert field_value(response.text, "query") == query


def test_the_empty_form_asks_nothing(ana: Browser) -> None:
    response = ana.get("/search")
    assert response.status_code == 200
    assert 'name="q"' in response.text
    assert texts(response.text, "error") == [] and "No results" not in response.text


def place(kind: str, ident: int) -> str:
    """Where a health fact's result links: its row on the health page; a result, its page
    (which shows it among its marker's values)."""
    return f"/results/{ident}" if kind == "result" else f"/health#{kind}-{ident}"


def test_health_facts_link_to_their_place_on_the_health_page(
    ana: Browser, settings: config.Settings
) -> None:
    ids = add_to_binder(settings, 1, notes="Ask at the tumour board.")
    response = ana.get("/search", params={"q": "tumour board"})
    assert response.status_code == 200
    for kind, title in TITLES.items():
        assert f'<a href="{place(kind, ids[kind])}">{escape(title)}</a>' in response.text
    assert texts(response.text, "count") == ["5 results for “tumour board”."]
    # A match in the name is marked inside the title.
    found = results(ana.get("/search", params={"q": "letrozole"}).text)
    assert found == ["Medication: [Letrozole] 2.5 mg"]  # the title says the kind: no label


def test_every_kind_of_result_has_a_page() -> None:
    from carebinder.search import Kind
    from carebinder.web.pages.search import SHOW

    assert set(SHOW) == {str(kind) for kind in Kind}


def test_health_facts_in_a_real_browser(
    chromium: Any, server: Server, shots: Path, cli: Cli, settings: config.Settings
) -> None:
    """The search page with every kind of health fact, as a person sees it (axe-checked,
    screenshots kept); each result links to its place on the health page."""
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    ids = add_to_binder(settings, 1, notes="Ask at the tumour board.")
    page = chromium.new_page()
    page.goto(server.address)
    page.get_by_role("navigation").get_by_role("link", name="Search").click()
    page.get_by_label("Search").fill("tumour board")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("status").inner_text() == "5 results for “tumour board”."
    for kind, title in TITLES.items():
        link = page.get_by_role("link", name=title)
        assert link.get_attribute("href") == place(kind, ids[kind])
    # A result's page is its marker's values, the one found among them.
    page.get_by_role("link", name=TITLES["result"]).click()
    assert page.locator(f"#result-{ids['result']}").count() == 1
    page.go_back()
    look(page, shots, "search-health-facts")
    page.get_by_label("Search").fill("letrozole")
    page.get_by_role("button", name="Search").click()
    assert page.locator("ol.results mark").all_inner_texts() == ["Letrozole"]
    look(page, shots, "search-medication")
