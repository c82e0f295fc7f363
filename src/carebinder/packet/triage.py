"""Which of a record's files can go into the packet, and why the others cannot.

PDFs are opened here (and kept open for assembly); images are checked with Pillow.
Anything else, or anything broken, is listed as "bring separately" with the reason.
A bad file never fails the packet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from carebinder.packet.gather import FileInfo, RecordInfo

IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/tiff", "image/gif", "image/bmp", "image/webp"}
)
# What a patient can do about a file the packet cannot print.
SEPARATE_REASONS = {
    "application/dicom": "DICOM medical image: bring the imaging disc",
    "application/zip": "ZIP archive: open it and attach the files inside",
    "image/heic": "HEIC photo: convert it to JPEG to include it",
    "text/plain": "plain-text file: print it separately",
    "application/x-ole-storage": "Office document: save it as PDF to include it",
    "application/rtf": "RTF document: save it as PDF to include it",
}
# Pillow refuses larger images as possible decompression bombs.
MAX_IMAGE_PIXELS = 120_000_000


@dataclass
class PdfPart:
    file: FileInfo
    pdf: Any  # an open pikepdf.Pdf
    pages: int


@dataclass
class ImagePart:
    file: FileInfo
    frames: int


@dataclass
class RecordPlan:
    record: RecordInfo
    parts: list[PdfPart | ImagePart] = field(default_factory=list)
    separately: list[tuple[str, str]] = field(default_factory=list)

    @property
    def merged_pages(self) -> int:
        return sum(p.pages for p in self.parts if isinstance(p, PdfPart))


def _pdf(file: FileInfo) -> PdfPart | str:
    import pikepdf

    try:
        pdf = pikepdf.open(file.path)
    except FileNotFoundError:
        return "missing from the binder's file store (run `carebinder verify`)"
    except pikepdf.PasswordError:
        return "the PDF is password-protected"
    except (pikepdf.PdfError, OSError, ValueError, RecursionError) as error:
        return f"the PDF is damaged ({type(error).__name__})"
    pages = len(pdf.pages)
    if pages == 0:
        pdf.close()
        return "the PDF has no pages"
    return PdfPart(file, pdf, pages)


def _image(file: FileInfo) -> ImagePart | str:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(file.path) as image:
            frames = getattr(image, "n_frames", 1) if file.media_type == "image/tiff" else 1
            image.verify()
    except FileNotFoundError:
        return "missing from the binder's file store (run `carebinder verify`)"
    except Image.DecompressionBombError:
        return "the image is too large to print"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        return f"the image cannot be read ({type(error).__name__})"
    return ImagePart(file, frames)


def plan_record(record: RecordInfo) -> RecordPlan:
    plan = RecordPlan(record)
    for file in record.files:
        outcome: PdfPart | ImagePart | str
        if file.unreadable:
            outcome = file.unreadable
        elif file.media_type == "application/pdf":
            outcome = _pdf(file)
        elif file.media_type in IMAGE_TYPES:
            outcome = _image(file)
        else:
            outcome = SEPARATE_REASONS.get(file.media_type, "a file the packet cannot print")
        if isinstance(outcome, str):
            plan.separately.append((file.name, outcome))
        else:
            plan.parts.append(outcome)
    return plan


@contextmanager
def planned(records: Sequence[RecordInfo]) -> Iterator[list[RecordPlan]]:
    """Plans for `records`, with their PDFs open until the block ends."""
    plans: list[RecordPlan] = []
    try:
        for record in records:
            plans.append(plan_record(record))
        yield plans
    finally:
        for plan in plans:
            for part in plan.parts:
                if isinstance(part, PdfPart):
                    part.pdf.close()
