"""Tesseract's word confidences, read from the hOCR pages OCRmyPDF keeps in its working
folder (`000001_ocr_hocr.hocr`, one per page it read): each word is a `ocrx_word` element
whose title holds `x_wconf N`, Tesseract's confidence in it from 0 to 100."""

from __future__ import annotations

import re
from pathlib import Path

WORD_CONFIDENCE = re.compile(rb"class=['\"]ocrx_word['\"][^>]*?x_wconf (\d+)")


def confidences(hocr: bytes) -> list[int]:
    """The confidence of each word of one hOCR page."""
    return [int(found) for found in WORD_CONFIDENCE.findall(hocr)]


def read_folder(folder: Path) -> tuple[list[int], list[int]]:
    """(words found on each page read, in page order; every word's confidence) for the hOCR
    pages under `folder`."""
    counts: list[int] = []
    every: list[int] = []
    for page in sorted(folder.rglob("*_ocr_hocr.hocr"), key=lambda p: p.name):
        found = confidences(page.read_bytes())
        counts.append(len(found))
        every += found
    return counts, every
