"""An OCRmyPDF plugin for carebinder's reader process (`carebinder.ocr.child`):

- it hands OCRmyPDF's page progress on to the command, as pages done and pages in all
  (only the "OCR" step counts: it is the one that takes seconds per page);
- it straightens the picture Tesseract reads of a scanned PDF's page, not the page itself.
  A scan tilted by two or three degrees threw Tesseract's layout analysis off: whole
  blocks were dropped (benchmarks/ocr.py: 42% of a page's words found at 300 dpi, 99%
  once straight). The page keeps its picture exactly as scanned, and its invisible words
  lie level over it: on a tilted page they may sit a little off the printed line near
  its edges, which matters for a highlight, not for search or copying.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocrmypdf import hookimpl

if TYPE_CHECKING:
    from ocrmypdf import PageContext
    from PIL import Image

# Set by the reader process: called with (pages done, pages in all).
sink: Callable[[float, float], None] | None = None
# Set by the reader process for a scanned PDF (a photo's page is deskewed itself), in
# the environment, which OCRmyPDF's worker processes inherit however they are started.
STRAIGHTEN = "CAREBINDER_OCR_STRAIGHTEN"
# Tilts smaller than this are left alone (degrees).
MIN_TILT = 0.2


class PageProgress:
    """OCRmyPDF's progress bar protocol, reporting to `sink` instead of a terminal."""

    def __init__(
        self,
        *,
        total: float | None = None,
        desc: str | None = None,
        unit: str | None = None,
        disable: bool = False,
        **_: Any,
    ) -> None:
        self.total, self.counts, self.done = total or 0, desc == "OCR", 0.0

    def __enter__(self) -> PageProgress:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, n: float = 1, *, completed: float | None = None) -> None:
        self.done = completed if completed is not None else self.done + n
        if self.counts and sink is not None:
            sink(self.done, self.total)


@hookimpl
def get_progressbar_class() -> type[PageProgress]:
    return PageProgress


@hookimpl
def filter_ocr_image(page: PageContext, image: Image.Image) -> Image.Image | None:
    """The picture Tesseract reads, straightened when it is tilted; None leaves it as is."""
    if os.environ.get(STRAIGHTEN) != "1":
        return None
    from PIL import Image, ImageColor

    probe = page.get_path("carebinder_tilt.png")
    image.save(probe)
    engine = page.plugin_manager.get_ocr_engine(options=page.options)
    angle = engine.get_deskew(probe, page.options)
    if abs(angle) < MIN_TILT:
        return None
    white = ImageColor.getcolor("white", mode=image.mode)
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=white)
