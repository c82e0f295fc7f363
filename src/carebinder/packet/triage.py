"""Which of a record's files can go into the packet, and why the others cannot.

PDFs are opened here, and stay open until the packet is saved (qpdf copies their pages
lazily); images are checked with Pillow. Anything else, or anything broken, is listed as
"bring separately" with the reason. A bad file never fails the packet.

The plans are plain picklable data, so the pages can be laid out in another process;
the open PDFs stay behind in `OpenPdfs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
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
MISSING = "missing from the binder's file store"
# Pillow refuses larger images as possible decompression bombs.
MAX_IMAGE_PIXELS = 120_000_000


@dataclass(frozen=True)
class PdfPart:
    file: FileInfo
    pages: int


@dataclass(frozen=True)
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


OpenPdfs = dict[Path, Any]  # stored file → open pikepdf.Pdf


def _pdf(file: FileInfo, opened: OpenPdfs) -> PdfPart | str:
    import pikepdf

    if file.path in opened:
        return PdfPart(file, len(opened[file.path].pages))
    try:
        pdf = pikepdf.open(file.path)
    except FileNotFoundError:
        return MISSING
    except pikepdf.PasswordError:
        return "the PDF is password-protected"
    except (pikepdf.PdfError, OSError, ValueError, RecursionError) as error:
        return f"the PDF is damaged ({type(error).__name__})"
    pages = len(pdf.pages)
    if pages == 0:
        pdf.close()
        return "the PDF has no pages"
    _flatten_annotations(pdf)
    opened[file.path] = pdf
    return PdfPart(file, pages)


def _flatten_annotations(pdf: Any) -> None:
    """Print filled-in form fields and stamps as part of the page (in memory only)."""
    import pikepdf

    if not any(pikepdf.Name.Annots in page.obj for page in pdf.pages):
        return
    try:
        if pikepdf.Name.AcroForm in pdf.Root:
            pdf.generate_appearance_streams()
        pdf.flatten_annotations("print")
    except (pikepdf.PdfError, ValueError, KeyError):
        pass  # the page still prints, without its annotations


def _image(file: FileInfo) -> ImagePart | str:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(file.path) as image:
            frames = getattr(image, "n_frames", 1) if file.media_type == "image/tiff" else 1
            # Decode every frame now: a photo cut short must be listed, not fail the packet.
            for frame in range(frames):
                image.seek(frame)
                image.load()
    except FileNotFoundError:
        return MISSING
    except Image.DecompressionBombError:
        return "the image is too large to print"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        return f"the image cannot be read ({type(error).__name__})"
    return ImagePart(file, frames)


def plan_record(record: RecordInfo, opened: OpenPdfs) -> RecordPlan:
    plan = RecordPlan(record)
    for file in record.files:
        outcome: PdfPart | ImagePart | str
        if file.unreadable:
            outcome = file.unreadable
        elif file.media_type == "application/pdf":
            outcome = _pdf(file, opened)
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
def planned(records: Sequence[RecordInfo]) -> Iterator[tuple[list[RecordPlan], OpenPdfs]]:
    """Plans for `records`, and their PDFs, open until the block ends."""
    opened: OpenPdfs = {}
    try:
        yield [plan_record(record, opened) for record in records], opened
    finally:
        for pdf in opened.values():
            pdf.close()
