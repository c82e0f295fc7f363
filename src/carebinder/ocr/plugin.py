"""An OCRmyPDF plugin that hands its page progress to carebinder's reader process
(`carebinder.ocr.child`), which passes it on to the command as pages done and pages in all.
Only the "OCR" step counts: it is the one that takes seconds per page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocrmypdf import hookimpl

# Set by the reader process: called with (pages done, pages in all).
sink: Callable[[float, float], None] | None = None


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
