"""Never a long silent wait: the reader reports pages done and left, and the command line
draws them as a bar on a terminal once the reading has taken two seconds."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from carebinder.cli.reading import Bar
from carebinder.ocr import Item, Progress, Recognising
from tests.ocr.pages import need_tesseract, scanned_pdf


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_shows_pages_done_and_left_after_two_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    bar = Bar()
    bar(Progress(1, 2, "scan.pdf", 1, 4))
    assert screen.getvalue() == ""  # a quick reading stays quiet
    bar.started -= 3
    bar(Progress(1, 2, "scan.pdf", 1, 4))
    assert screen.getvalue().startswith(
        "\rReading the words of scan.pdf (file 1 of 2): [######------------------] page 2 of 4"
    )
    bar.clear()
    assert screen.getvalue().endswith("\r")


def test_the_reader_reports_each_page(tmp_path: Path) -> None:
    need_tesseract()
    seen: list[Progress] = []
    scan = scanned_pdf(tmp_path / "scan.pdf", pages=3)
    with Recognising([Item(7, scan, "application/pdf")], "eng", progress=seen.append) as reading:
        (found,) = list(reading)
    assert (found.key, found.pages, found.recognised) == (7, 3, 3)
    counted = [at for at in seen if at.pages]
    assert counted and all(at.pages == 3 for at in counted)
    assert counted[-1].done == 3
    assert [at.done for at in counted] == sorted(at.done for at in counted)
