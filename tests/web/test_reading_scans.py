"""The browser reads scans too: an upload goes on to a page that shows the reading's
progress, and the record's page shows what was recognised, and the words themselves."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.models import TextLayer
from tests.ocr.pages import need_tesseract, scanned_pdf
from tests.web.webutil import Browser, texts


def test_an_uploaded_scan_is_read_with_its_progress_shown(ana: Browser, tmp_path: Path) -> None:
    need_tesseract()
    scan = scanned_pdf(tmp_path / "pathology.pdf", pages=2)
    response = ana.post(
        "/records/new",
        {"kind": "pathology", "title": "Core biopsy"},
        files=[("files", (scan.name, scan.read_bytes(), "application/pdf"))],
    )
    assert response.url.path.startswith("/records/1/reading/")
    assert texts(response.text, "done") == ["Added record #1: Core biopsy (1 file)."]
    page = response.text
    deadline = time.monotonic() + 300
    while 'http-equiv="refresh"' in page and time.monotonic() < deadline:
        assert "Reading the words" in page
        time.sleep(1)
        page = ana.get(response.url.path).text
    assert "pathology.pdf: text recognised (2 pages, mean confidence" in page

    record = ana.get("/records/1").text
    assert "Text recognised (2 pages, mean confidence" in record
    assert "<summary>Recognised text of pathology.pdf</summary>" in record
    assert "Nottingham grade 2" in record
    found = ana.get("/search", params={"q": "lymphovascular"}).text
    assert "pathology.pdf" in found

    # Read again (in the languages chosen since): a job like the first, the words kept.
    assert "Read the scans again" in record
    ana.post("/scans", {"ocr_languages": "spa+eng"})
    again = ana.post("/records/1/read", {"again": "yes"})
    assert again.url.path.startswith("/records/1/reading/")
    page = again.text
    while 'http-equiv="refresh"' in page and time.monotonic() < deadline:
        time.sleep(1)
        page = ana.get(again.url.path).text
    assert "pathology.pdf: text recognised (2 pages, mean confidence" in page
    assert "Nottingham grade 2" in ana.get("/records/1").text
    with Session(ana.app.state.web.engine) as s:
        assert [layer.languages for layer in s.scalars(select(TextLayer))] == ["spa+eng"]
