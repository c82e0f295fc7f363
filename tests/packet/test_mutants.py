"""Real-world PDFs arrive damaged in ways nobody lists. A fixed set of randomly damaged
copies of a form-filled, image-bearing PDF (bytes flipped, cut out, tokens inserted): each
is printed or brought separately, and the packet always comes out with the good record."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from carebinder.packet.build import Options, build_packet
from tests.packet.pdfutil import file_info, record_info, sample_data, text_pdf

PDF = "application/pdf"
MUTANTS = 24


def seed_pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 700, "SEED page 1")
    canvas.acroForm.textfield(name="mrn", value="VALUE", x=72, y=600, width=100, height=20)
    # Seeded noise (Pillow's effect_noise depends on what ran before it in the process).
    picture = Image.frombytes("L", (40, 40), random.Random(7).randbytes(1600))
    canvas.drawImage(ImageReader(picture), 300, 300, 40, 40)
    canvas.showPage()
    canvas.drawString(72, 700, "SEED page 2")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def mutant(seed: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 12)):
        kind, at = rng.random(), rng.randrange(len(data))
        if kind < 0.5:
            data[at] = rng.randrange(256)
        elif kind < 0.7:
            del data[at : at + rng.randint(1, 50)]
        else:
            data[at:at] = rng.choice([b" 0 ", b"/Foo", b"[", b"]", b"<<", b">>", b"-1", b"R"])
    return bytes(data)


def page_texts(path: Path) -> list[str]:
    """Each page's text as PDFium reads it (Chrome's reader). pypdf is stricter than the
    viewers: a damaged stream that PDFium and qpdf read, passed through, stops it."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def mutants(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("mutants")
    rng, seed = random.Random(20261207), seed_pdf()
    paths = []
    for number in range(MUTANTS):
        path = folder / f"mutant-{number:02}.pdf"
        path.write_bytes(mutant(seed, rng))
        paths.append(path)
    return paths


@pytest.mark.parametrize("number", range(MUTANTS))
def test_a_damaged_pdf_never_stops_the_packet(
    mutants: list[Path], tmp_path: Path, number: int
) -> None:
    path = mutants[number]
    good = text_pdf(tmp_path / "good.pdf", ["GOOD page"])
    data = sample_data(
        [
            record_info(1, "Damaged", file_info(path, PDF)),
            record_info(2, "Good", file_info(good, PDF)),
        ]
    )
    result = build_packet(data, tmp_path / "packet.pdf", Options())
    texts = page_texts(result.path)
    assert result.pages == len(texts)
    assert len([t for t in texts if "GOOD page" in t]) == 1, result.separately
    (start,) = [n for n, t in enumerate(texts) if "Record 1 of 2" in t]
    left_out = [(name, bool(reason)) for _, name, reason in result.separately]
    if left_out:  # with a reason, on a page of its own, and nothing of it printed
        assert left_out == [(path.name, True)]
        assert "Bring separately" in texts[start]
        assert not any("SEED page" in t for t in texts)
    else:  # printed: the record starts on the file's first page (its text may be damaged)
        assert "Bring separately" not in texts[start]
