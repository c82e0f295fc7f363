"""Scans and photos read (OCR) from the command line: attach, read-text, show, search.

Real Tesseract on real pictures of words (tests/ocr/pages.py); skipped without Tesseract,
saying why, and failed under CI=true.
"""

from __future__ import annotations

import json
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from reportlab.pdfgen.canvas import Canvas

from tests.conftest import Cli, blob_files
from tests.ocr.pages import need_tesseract, page_image, scanned_pdf, sideways_photo

pytestmark = pytest.mark.usefixtures("tesseract")


@pytest.fixture
def tesseract() -> None:
    need_tesseract()


def files_of(cli: Cli, record: int = 1) -> list[dict]:
    return json.loads(cli.ok("record", "show", str(record), "--json").stdout)["files"]


def derived(home: Path, file: int = 1) -> Path:
    """The text-layer version of file #`file`, in the binder's store."""
    from carebinder import config
    from carebinder.db import open_binder, session_scope
    from carebinder.models import TextLayer

    settings = config.resolve()
    engine = open_binder(settings)
    try:
        with session_scope(engine) as s:
            layer = s.get(TextLayer, file)
            assert layer is not None and layer.sha256
            return settings.store_dir / layer.sha256[:2] / layer.sha256[2:]
    finally:
        engine.dispose()


def test_a_scanned_pdf_is_read_searched_and_shown(binder: Cli, tmp_path: Path) -> None:
    scan = scanned_pdf(tmp_path / "pathology.pdf")
    original = scan.read_bytes()
    added = binder.ok("record", "add", "pathology", "Biopsy", "--file", str(scan))
    assert "pathology.pdf: text recognised (1 page, mean confidence" in added.stderr

    (file,) = files_of(binder)
    assert (file["ocr"], file["ocr_pages"], file["ocr_languages"]) == ("recognised", 1, "eng")
    assert file["ocr_confidence"] > 80
    shown = binder.ok("record", "show", "1").stdout
    assert "text recognised (1 page, mean confidence" in shown

    found = binder.ok("search", "lymphovascular")
    assert "file #1 of record #1: pathology.pdf (words recognised from a scan)" in found.stdout
    assert "[lymphovascular]" in found.stdout.lower()
    hit = json.loads(binder.ok("search", "nottingham", "--json").stdout)["results"][0]
    assert (hit["kind"], hit["recognised"]) == ("file", True)
    # The original is untouched: same bytes, same fingerprint.
    assert file["sha256"] == __import__("hashlib").sha256(original).hexdigest()


def test_a_photo_taken_sideways_becomes_an_upright_page(
    binder: Cli, tmp_path: Path, home: Path
) -> None:
    by_exif = sideways_photo(tmp_path / "exif.jpg", exif=True)
    turned = sideways_photo(tmp_path / "turned.jpg", exif=False)
    binder.ok("record", "add", "pathology", "Photos", "--file", str(by_exif), "--file", str(turned))
    for file in files_of(binder):
        assert file["ocr"] == "recognised", file
        pdf = pdfium.PdfDocument(derived(home, file["id"]))
        width, height = pdf[0].get_size()  # as shown, /Rotate included
        assert height > width, file["name"]
        text = pdf[0].get_textpage().get_text_range().lower()
        assert "carcinoma" in text, file["name"]
        pdf.close()


def test_a_pdf_of_scanned_and_text_pages_keeps_its_text_pages(
    binder: Cli, tmp_path: Path, home: Path
) -> None:
    text_page = tmp_path / "typed.pdf"
    canvas = Canvas(str(text_page))
    canvas.drawString(72, 720, "Addendum typed by the pathologist: HER2 negative")
    canvas.showPage()
    canvas.save()
    scan = scanned_pdf(tmp_path / "scan.pdf")
    mixed = tmp_path / "mixed.pdf"
    with pikepdf.open(text_page) as typed, pikepdf.open(scan) as scanned:
        out = pikepdf.Pdf.new()
        out.pages.extend(typed.pages)
        out.pages.extend(scanned.pages)
        out.pages.extend(typed.pages)
        out.save(mixed)
    binder.ok("record", "add", "pathology", "Mixed", "--file", str(mixed))
    (file,) = files_of(binder)
    assert (file["ocr"], file["ocr_pages"]) == ("recognised", 1)

    with pikepdf.open(mixed) as before, pikepdf.open(derived(home)) as after:
        assert len(after.pages) == 3
        for index in (0, 2):  # the typed pages: their content exactly as it was
            assert after.pages[index].obj.Contents.read_bytes() == (
                before.pages[index].obj.Contents.read_bytes()
            )
        scanned_images = list(before.pages[1].get_images().values())
        after_images = list(after.pages[1].get_images().values())
        assert [i.read_raw_bytes() for i in scanned_images] == [
            i.read_raw_bytes() for i in after_images
        ]  # the scanned page's picture is not altered
    found = binder.ok("search", "nottingham").stdout
    assert "mixed.pdf" in found


def test_no_ocr_leaves_it_for_read_text(binder: Cli, tmp_path: Path) -> None:
    binder.ok("record", "add", "pathology", "Biopsy")
    attached = binder.ok(
        "record", "attach", "1", str(scanned_pdf(tmp_path / "later.pdf")), "--no-ocr"
    )
    assert "later.pdf: its words are left for later (carebinder record read-text)." in (
        attached.stderr
    )
    assert files_of(binder)[0]["ocr"] == "waiting"
    assert (
        "words not recognised yet (carebinder record read-text)"
        in binder.ok("record", "show", "1").stdout
    )
    assert "No results" in binder("search", "nottingham").stderr

    read = binder.ok("record", "read-text")
    assert "File #1 of record #1: later.pdf: text recognised (1 page" in read.stdout
    assert "Recognised the words of 1 of 1 scan." in read.stderr
    assert "later.pdf" in binder.ok("search", "nottingham").stdout
    again = binder.ok("record", "read-text")
    assert "Every PDF's words are already read" in again.stderr
    redo = binder.ok("record", "read-text", "1", "--again", "--json")
    assert [f["name"] for f in json.loads(redo.stdout)["recognised"]] == ["later.pdf"]


def test_a_missing_language_pack_is_named_and_nothing_changes(
    binder: Cli, tmp_path: Path, home: Path
) -> None:
    from carebinder.ocr.languages import installed

    if "fra" in installed():
        pytest.skip("French data is installed here: its absence cannot be shown")
    binder.ok("record", "add", "pathology", "Biopsy")
    before = blob_files(home)
    refused = binder(
        "record", "attach", "1", str(scanned_pdf(tmp_path / "s.pdf")), "--ocr-lang", "fra+eng"
    )
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: French (fra) text cannot be read on this computer yet: install its language"
        " data with `sudo apt-get install tesseract-ocr-fra`, or choose other languages with"
        " --ocr-lang.\n"
    )
    assert blob_files(home) == before
    assert files_of(binder) == []
    bad = binder("record", "read-text", "--ocr-lang", "spanish")
    assert bad.exit_code == 1
    assert "--ocr-lang must be Tesseract's language codes joined by +" in bad.stderr


def test_spanish_is_read_with_spanish_data(binder: Cli, tmp_path: Path) -> None:
    from carebinder.ocr.languages import installed

    if "spa" not in installed():
        pytest.skip("Spanish data is not installed: apt-get install tesseract-ocr-spa")
    lines = ("INFORME DE ANATOMÍA PATOLÓGICA", "Diagnóstico: carcinoma ductal infiltrante")
    picture = tmp_path / "informe.png"
    page_image(lines).save(picture, dpi=(200, 200))
    binder.ok(
        "record", "add", "pathology", "Informe", "--file", str(picture), "--ocr-lang", "spa+eng"
    )
    (file,) = files_of(binder)
    assert file["ocr_languages"] == "spa+eng"
    assert "informe.png" in binder.ok("search", "diagnóstico").stdout
