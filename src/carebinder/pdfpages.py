"""A PDF page's printable facts, read without trusting the file that holds it.

Hospitals' software writes boxes of no size, boxes of letters instead of numbers, rotations
of 45°, content that is not a stream. The checks here are shared by the reader that looks
at every attached file first (carebinder.sandbox) and by the packet, which fits each page
onto its own paper: a page that fails them is not printed, and its file is listed to bring
separately with the reason, in words a patient can act on.

Where PDF viewers agree on a lenient reading, this follows them (pdf.js, among others): a
crop box that is malformed or lies outside the page is ignored, and a rotation that is not
a multiple of 90° counts as none. A page without a usable size has no such reading, and is
refused.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from carebinder.errors import Unprintable

# Names made once: `Name.MediaBox` builds a new object at each use (a few microseconds, on
# each of thousands of pages).
MEDIA_BOX, CROP_BOX, ROTATE = Name("/MediaBox"), Name("/CropBox"), Name("/Rotate")
RESOURCES, CONTENTS = Name("/Resources"), Name("/Contents")
FONT, XOBJECT = Name("/Font"), Name("/XObject")
ANNOTS, SUBTYPE, WIDGET = Name("/Annots"), Name("/Subtype"), Name("/Widget")

# A side shorter than this (a quarter of an inch) prints as a speck.
MIN_SIDE = 18.0
# A page that would have to shrink below a quarter of its size to fit is unreadable on paper.
MIN_SCALE = 0.25
# The area a merged page is shrunk into, on the smaller of the packet's papers (A4's width,
# letter's height, between the header and footer bands; tests/test_pdfpages.py checks it
# against the packet's own geometry). The reader of attached files uses it to warn early.
PRINT_AREA = (493.2, 684.3)


@dataclass(frozen=True)
class Box:
    """The part of a page a viewer shows, in the page's own units, and its turn."""

    x0: float
    y0: float
    x1: float
    y1: float
    rotate: int  # 0, 90, 180 or 270

    @property
    def shown(self) -> tuple[float, float]:
        """Width and height as shown, turned upright."""
        w, h = self.x1 - self.x0, self.y1 - self.y0
        return (h, w) if self.rotate in (90, 270) else (w, h)

    def scale_into(self, width: float, height: float) -> float:
        """The factor that fits the shown page into `width` x `height`, never enlarging."""
        shown_w, shown_h = self.shown
        return min(width / shown_w, height / shown_h, 1.0)


def _rect(value: Any) -> tuple[float, float, float, float] | None:
    """Four finite numbers, ordered low to high, or None for anything else."""
    if not isinstance(value, Array) or len(value) != 4:
        return None
    numbers: list[float] = []
    for item in value:
        # pikepdf gives integers as int and reals as Decimal; anything else is not a number.
        if isinstance(item, bool) or not isinstance(item, int | float | Decimal):
            return None
        number = float(item)
        if not math.isfinite(number):
            return None
        numbers.append(number)
    x0, y0, x1, y1 = numbers
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _rotation(value: Any) -> int:
    try:
        turn = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return turn % 360 if turn % 90 == 0 else 0


def _inches(points: float) -> str:
    inches = points / 72
    return f"{inches:.2f}".rstrip("0").rstrip(".") if inches < 1 else f"{inches:.0f}"


def page_box(page: Any, number: int, area: tuple[float, float] = PRINT_AREA) -> Box:
    """The shown box of `page` (a page dictionary), the `number`-th of its file; raises
    Unprintable when it has no usable size, or is too small or too large for paper."""
    media = _rect(page.get(MEDIA_BOX))
    if media is None:
        raise Unprintable(f"page {number} is damaged: it has no page size")
    crop = _rect(page.get(CROP_BOX))
    x0, y0, x1, y1 = media
    if crop is not None:
        cx0, cy0, cx1, cy1 = max(x0, crop[0]), max(y0, crop[1]), min(x1, crop[2]), min(y1, crop[3])
        if cx1 - cx0 > 0 and cy1 - cy0 > 0:
            x0, y0, x1, y1 = cx0, cy0, cx1, cy1
    box = Box(x0, y0, x1, y1, _rotation(page.get(ROTATE, 0)))
    width, height = box.shown
    if width <= 0 or height <= 0:
        raise Unprintable(
            f"page {number} is damaged: it has no {'width' if width <= 0 else 'height'}"
        )
    if min(width, height) < MIN_SIDE:
        raise Unprintable(f"page {number} is too small to print ({_size(width, height)})")
    if box.scale_into(*area) < MIN_SCALE:
        raise Unprintable(
            f"page {number} is too large to print on one sheet ({_size(width, height)})"
        )
    return box


def _size(width: float, height: float) -> str:
    return f"{_inches(width)} × {_inches(height)} in"


def check_structure(page: Any, number: int) -> list[Any]:
    """The page's content streams, after checking that its content and resources have the
    shapes a page needs; raises Unprintable otherwise."""
    resources = page.get(RESOURCES)
    if resources is not None:
        if not isinstance(resources, Dictionary):
            raise Unprintable(f"page {number} is damaged: its fonts and images are missing")
        for key in (FONT, XOBJECT):
            inner = resources.get(key)
            if inner is not None and not isinstance(inner, Dictionary):
                raise Unprintable(f"page {number} is damaged: its fonts and images are missing")
    contents = page.get(CONTENTS)
    if contents is None:
        return []
    parts = list(contents) if isinstance(contents, Array) else [contents]
    if not all(isinstance(part, Stream) for part in parts):
        raise Unprintable(f"page {number} is damaged: its content is missing")
    return parts


def check_content(streams: Sequence[Any], number: int, limit: int) -> None:
    """Decode every content stream of a page; raises Unprintable when one cannot be read or
    holds more than `limit` bytes. (Slow next to the other checks: the reader of attached
    files runs it, in its child with limits.)"""
    size = 0
    for stream in streams:
        try:
            size += len(stream.read_bytes())
        except pikepdf.PdfError:
            raise Unprintable(f"page {number} is damaged: its content cannot be read") from None
        if size > limit:
            raise Unprintable(f"page {number} is too complex to print")


def image_unprintable(size: tuple[int, int], area: tuple[float, float] = PRINT_AREA) -> str | None:
    """Why an image of `size` pixels cannot go on a page, or None. An image is fitted to the
    page whole, so one far thinner than the page prints as a hairline."""
    width, height = size
    if width < 1 or height < 1:
        return "the image has no pixels"
    scale = min(area[0] / width, area[1] / height)
    if min(width, height) * scale < MIN_SIDE:
        return f"the image is too thin to print ({width} × {height} pixels)"
    return None


def flatten_annotations(pdf: Any, pages: Sequence[Any] | None = None) -> None:
    """Print filled-in form fields and stamps as part of the page (in memory only). When
    some cannot be (they stay annotations, which the packet does not print), pikepdf's
    logger is told, and the file's notice says so. `pages`: the page dictionaries, when
    the caller has them already."""
    if pages is None:
        pages = [page.obj for page in pdf.pages]
    if not any(ANNOTS in page for page in pages):
        return
    try:
        if Name.AcroForm in pdf.Root:
            pdf.generate_appearance_streams()
        pdf.flatten_annotations("print")
    except (pikepdf.PdfError, ValueError, KeyError, TypeError) as error:
        logging.getLogger("pikepdf").warning("%s (%s)", UNPRINTED_FIELDS, type(error).__name__)
        return
    for page in pdf.pages:
        annots = page.obj.get(ANNOTS)
        if isinstance(annots, Array) and any(
            isinstance(a, Dictionary) and a.get(SUBTYPE) == WIDGET for a in annots
        ):
            logging.getLogger("pikepdf").warning("%s", UNPRINTED_FIELDS)
            return


# --- what the PDF libraries say -----------------------------------------------------------

# qpdf repairs some page faults as it reads the page tree, and says so: a page without a
# usable MediaBox gets the size of letter paper, one without usable resources an empty set.
# Those are guesses (the page may have been A4; its fonts are gone), so such a page is not
# printed: the original shows what the hospital wrote.
GUESSES = {
    "mediabox is undefined": "a page is damaged: it has no page size",
    "resources is missing or invalid": "a page is damaged: its fonts and images are missing",
}


def said_by(pdf: Any) -> list[str]:
    """What qpdf noted while reading `pdf` so far (pikepdf keeps it rather than printing
    it), passed on to pikepdf's logger, where `quiet_libraries` collects it. Raises
    Unprintable when qpdf had to guess at a page."""
    messages = [str(warning) for warning in pdf.get_warnings()]
    log = logging.getLogger("pikepdf")
    for message in messages:
        log.warning("%s", message)
    for message in messages:
        for words, reason in GUESSES.items():
            if words in message.lower():
                raise Unprintable(reason)
    return messages


# What qpdf says when a file had to be repaired to be read at all.
_REPAIRED = (
    "reconstruct",
    "damaged",
    "xref",
    "trailer",
    "recover",
    "expected endstream",
    "expected endobj",
    "unexpected eof",
)
REPAIRED = "the file was damaged and has been repaired: compare its pages with the original"
PAGES_LOST = "its list of pages is damaged, so pages may be missing: compare with the original"
FIELDS_LOST = "some filled-in form fields may not show: bring the original"
# What flatten_annotations says when form fields stay unprinted.
UNPRINTED_FIELDS = "form fields could not be printed"


def notice(messages: Sequence[str]) -> str | None:
    """One line for a reader of the file, from what the libraries said while reading it:
    only what changes what a doctor sees (pages repaired or lost, form fields dropped)."""
    found = []
    lowered = [message.lower() for message in messages]
    if any("pages tree" in m or "page tree" in m for m in lowered):
        found.append(PAGES_LOST)
    elif any(word in m for m in lowered for word in _REPAIRED):
        found.append(REPAIRED)
    if any(UNPRINTED_FIELDS in m for m in lowered):
        found.append(FIELDS_LOST)
    return "; ".join(found) or None


class _Collect(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def quiet_libraries() -> Iterator[list[str]]:
    """While the block runs, what pikepdf, qpdf (through pikepdf's logger) and Python
    warnings would print goes into the list yielded instead of the user's terminal."""
    messages: list[str] = []
    logger = logging.getLogger("pikepdf")
    handler = _Collect(messages)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            # In the order they come, so each can be told apart by the file that caused it.
            warnings.showwarning = lambda message, *_, **__: messages.append(str(message))
            yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
