"""Pictures of report pages for the OCR tests: real words, drawn in DejaVu Sans, as a
scanner or a phone camera would give them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

FONT = Path(__file__).resolve().parents[2] / "src/carebinder/packet/fonts/DejaVuSans.ttf"
LINES = (
    "SURGICAL PATHOLOGY REPORT",
    "Specimen: left breast, core needle biopsy",
    "Diagnosis: invasive ductal carcinoma, Nottingham grade 2",
    "Estrogen receptor positive, progesterone receptor positive",
    "Margins are negative; lymphovascular invasion not identified",
    "Tumor size 1.8 cm in greatest dimension on the core samples",
    "Ki-67 proliferation index approximately 20 percent of nuclei",
    "HER2 immunohistochemistry score 1+, negative by ASCO/CAP criteria",
    "Comment: findings discussed with Dr. Bell on the day of the report",
)


def need_tesseract() -> None:
    """Skip without Tesseract (saying why); under CI=true, fail instead."""
    import shutil

    if shutil.which("tesseract"):
        return
    why = "Tesseract is not installed: apt-get install tesseract-ocr (CI installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {why}", pytrace=False)
    pytest.skip(why)


def page_image(lines: tuple[str, ...] = LINES, dpi: int = 200) -> Image.Image:
    """A letter page at `dpi`, black words on white, 12 pt."""
    width, height = int(8.5 * dpi), int(11 * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), int(12 * dpi / 72))
    y = dpi
    for line in lines:
        draw.text((dpi, y), line, font=font, fill=0)
        y += int(22 * dpi / 72)
    return page


def scanned_pdf(path: Path, pages: int = 1, dpi: int = 200) -> Path:
    """A PDF as a scanner makes it: each page a picture of words, no text layer."""
    images = [page_image(dpi=dpi) for _ in range(pages)]
    images[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path


def sideways_photo(path: Path, *, exif: bool) -> Path:
    """A phone photo of a page taken sideways: with `exif`, stored sideways with EXIF
    orientation 6 (turn 90° clockwise to view); without, the picture itself lies sideways."""
    page = page_image(dpi=150).convert("RGB")
    sideways = page.rotate(90, expand=True)  # lying on its left side
    if exif:
        stored = page.rotate(90, expand=True)
        info = Image.Exif()
        info[0x0112] = 6
        stored.save(path, "JPEG", quality=90, exif=info.tobytes())
    else:
        sideways.save(path, "JPEG", quality=90)
    return path
