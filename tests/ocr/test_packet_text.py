"""The packet merges the text-layer version of a scan or a photo: the doctor can search and
copy its words, and the records index says which records' words were recognised."""

from __future__ import annotations

from pathlib import Path

import pypdf

from tests.conftest import Cli
from tests.ocr.pages import need_tesseract, scanned_pdf, sideways_photo


def packet_text(cli: Cli, tmp_path: Path) -> list[str]:
    out = tmp_path / "packet.pdf"
    cli.ok("packet", "1", "-o", str(out))
    return [page.extract_text() or "" for page in pypdf.PdfReader(out).pages]


def test_the_packet_merges_the_text_layer_version(binder: Cli, tmp_path: Path) -> None:
    need_tesseract()
    binder.ok("doctor", "add", "Dr. Wei Chen", "--role", "second-opinion")
    binder.ok("appointment", "add", "--doctor", "1", "--at", "2030-12-03 09:30")
    scan = scanned_pdf(tmp_path / "pathology.pdf")
    photo = sideways_photo(tmp_path / "photo.jpg", exif=True)
    binder.ok("record", "add", "pathology", "Biopsy", "--file", str(scan))
    binder.ok("record", "add", "other", "Photo of the report", "--file", str(photo))
    binder.ok("record", "add", "lab", "Typed", "--notes", "no files")

    pages = packet_text(binder, tmp_path)
    index = next(text for text in pages if "Records index" in text)
    assert "Text recognised (OCR), searchable: pathology.pdf" in index
    assert "Text recognised (OCR), searchable: photo.jpg" in index
    merged = [text for text in pages if "Nottingham" in text]
    assert len(merged) == 2  # the scan's page and the photo's, words and all
    assert all("Ana Souza" in text for text in merged)  # stamped like every page
