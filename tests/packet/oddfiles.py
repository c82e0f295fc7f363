# ruff: noqa: E501 - the tables below read best one kind of file a line
"""Files as hospitals' software writes them on a bad day: PDFs with pages of no size, of
letters instead of numbers, of content that is not a stream, and images no printer wants.

Each maker writes one file at `path`. They start from a plain ReportLab page ("ODD <name>"
printed on it, so a test can find it back) and break one thing with pikepdf, which writes
any box it is asked to.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image

from tests.packet.pdfutil import text_pdf_bytes


def _base(name: str, pages: int = 1) -> pikepdf.Pdf:
    texts = [f"ODD {name} page {n}" for n in range(1, pages + 1)]
    return pikepdf.open(io.BytesIO(text_pdf_bytes(texts)))


def _with_page(change: Callable[[pikepdf.Pdf, Any], None]) -> Callable[[Path], None]:
    """A maker: the base PDF with `change(pdf, first page dictionary)` applied."""

    def make(path: Path) -> None:
        pdf = _base(path.stem, 2)
        change(pdf, pdf.pages[0].obj)
        pdf.save(path)

    return make


def _box(name: str, value: Any) -> Callable[[Path], None]:
    def change(pdf: pikepdf.Pdf, page: Any) -> None:
        page[Name(name)] = value

    return _with_page(change)


def box_nowhere(path: Path) -> None:
    """Pages whose MediaBox is inherited from their parent, where it names an object that
    the file does not hold."""
    pdf = _base(path.stem, 2)
    for page in pdf.pages:
        del page.obj[Name.MediaBox]
    pdf.Root.Pages.MediaBox = Array([0, 0, 612, 792])
    buffer = io.BytesIO()
    pdf.save(buffer)
    box = b"/MediaBox [ 0 0 612 792 ]"
    data = buffer.getvalue()
    assert data.count(box) == 1
    # The same length, so the file's table of object offsets stays right.
    path.write_bytes(data.replace(box, b"/MediaBox 999 0 R".ljust(len(box))))


def _resources_not_a_dictionary(pdf: pikepdf.Pdf, page: Any) -> None:
    page.Resources = 5


def _no_resources(pdf: pikepdf.Pdf, page: Any) -> None:
    del page[Name.Resources]


def _contents_not_a_stream(pdf: pikepdf.Pdf, page: Any) -> None:
    page.Contents = pdf.make_indirect(Dictionary(Length=0))


def _no_contents(pdf: pikepdf.Pdf, page: Any) -> None:
    del page[Name.Contents]


def _corrupt_content(pdf: pikepdf.Pdf, page: Any) -> None:
    page.Contents.write(b"\x78\x9cnot deflate data at all", filter=Name.FlateDecode)


def _odd_kid(pdf: pikepdf.Pdf, page: Any) -> None:
    pdf.Root.Pages.Kids.append(Array([1, 2]))


@dataclass(frozen=True)
class Odd:
    """One kind of bad file: its maker, and what the packet does with it: `reason` for a
    file brought separately, None for one that prints, with `notice` if the index says so."""

    name: str
    media_type: str
    make: Callable[[Path], None]
    reason: str | None
    notice: str | None = None


def _png_header(path: Path, width: int, height: int, depth: int, colour: int, data: bytes) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(data))
        + chunk(b"IEND", b"")
    )


def empty_png(path: Path) -> None:
    """A PNG whose header says 0 × 0 pixels."""
    _png_header(path, 0, 0, 8, 0, b"")


def strip_png(path: Path) -> None:
    """One pixel wide, 100,000 tall."""
    Image.new("L", (1, 100_000), 90).save(path, format="PNG")


def grey16_png(path: Path) -> None:
    """16-bit greyscale, mid-grey: values no 8-bit reader would clip to white."""
    Image.new("I;16", (120, 80), 0x8000).save(path, format="PNG")


def cmyk_jpeg(path: Path) -> None:
    """Pure cyan, as a print shop's scanner stores it (CMYK, with Adobe's marker)."""
    Image.new("CMYK", (120, 80), (255, 0, 0, 0)).save(path, format="JPEG", quality=95)


PDF = "application/pdf"
NO_SIZE = "a page is damaged: it has no page size"
NO_RESOURCES = "a page is damaged: its fonts and images are missing"
MEDIA, CROP, ROTATE = "/MediaBox", "/CropBox", "/Rotate"
ODD_PDFS = [
    Odd("zero-width.pdf", PDF, _box(MEDIA, Array([0, 0, 0, 792])), "page 1 is damaged: it has no width"),
    Odd("zero-height.pdf", PDF, _box(MEDIA, Array([0, 0, 612, 0])), "page 1 is damaged: it has no height"),
    Odd("inverted.pdf", PDF, _box(MEDIA, Array([612, 792, 0, 0])), None),
    Odd("negative.pdf", PDF, _box(MEDIA, Array([0, 0, -612, -792])), None),
    Odd("speck.pdf", PDF, _box(MEDIA, Array([0, 0, 0.72, 0.72])), "page 1 is too small to print (0.01 × 0.01 in)"),
    Odd("banner.pdf", PDF, _box(MEDIA, Array([0, 0, 14400, 792])), "page 1 is too large to print on one sheet (200 × 11 in)"),
    Odd("crop-outside.pdf", PDF, _box(CROP, Array([5000, 5000, 5600, 5700])), None),
    Odd("crop-letters.pdf", PDF, _box(CROP, Array([0, 0, Name.Wide, 700])), None),
    Odd("turned-45.pdf", PDF, _box(ROTATE, 45), None),
    Odd("turned-letters.pdf", PDF, _box(ROTATE, Name.Upright), None),
    Odd("box-letters.pdf", PDF, _box(MEDIA, Array([0, 0, Name.Wide, 792])), NO_SIZE),
    Odd("box-three.pdf", PDF, _box(MEDIA, Array([0, 0, 612])), NO_SIZE),
    Odd("box-nowhere.pdf", PDF, box_nowhere, NO_SIZE),
    Odd("resources-five.pdf", PDF, _with_page(_resources_not_a_dictionary), NO_RESOURCES),
    Odd("no-resources.pdf", PDF, _with_page(_no_resources), NO_RESOURCES),
    Odd("contents-dictionary.pdf", PDF, _with_page(_contents_not_a_stream), "page 1 is damaged: its content is missing"),
    Odd("no-contents.pdf", PDF, _with_page(_no_contents), None),
    Odd("corrupt-content.pdf", PDF, _with_page(_corrupt_content), "page 1 is damaged: its content cannot be read"),
    Odd("odd-kid.pdf", PDF, _with_page(_odd_kid), None, "its list of pages is damaged"),
]  # fmt: skip
ODD_IMAGES = [
    Odd("empty.png", "image/png", empty_png, "the image cannot be read"),
    Odd("strip.png", "image/png", strip_png, "the image is too thin to print (1 × 100000 pixels)"),
    Odd("grey16.png", "image/png", grey16_png, None),
    Odd("cyan-cmyk.jpg", "image/jpeg", cmyk_jpeg, None),
]
