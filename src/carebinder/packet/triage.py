"""Which of a record's files can go into the packet, and why the others cannot.

Every PDF and image is first read in a child process with limits (carebinder.sandbox),
so a hostile file cannot crash, hang or exhaust the packet; only the files that pass are
opened here. PDFs stay open until the packet is saved (qpdf copies their pages lazily).
Anything else, or anything broken, is listed as "bring separately" with the reason. A bad
file never fails the packet.

The plans are plain picklable data; the open PDFs stay behind in `OpenPdfs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carebinder.packet.gather import FileInfo, RecordInfo
from carebinder.sandbox import IMAGE_TYPES, Finding, inspect_files

# What a patient can do about a file the packet cannot print.
SEPARATE_REASONS = {
    "application/dicom": "DICOM medical image: bring the imaging disc",
    "application/zip": "ZIP archive: open it and attach the files inside",
    "image/heic": "HEIC photo: convert it to JPEG to include it",
    "text/plain": "plain-text file: print it separately",
    "application/x-ole-storage": "Office document: save it as PDF to include it",
    "application/rtf": "RTF document: save it as PDF to include it",
}


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

    if file.path not in opened:
        try:
            pdf = pikepdf.open(file.path)
        except (pikepdf.PdfError, OSError, ValueError, RecursionError) as error:
            return f"the PDF could not be opened ({type(error).__name__})"
        _flatten_annotations(pdf)
        opened[file.path] = pdf
    return PdfPart(file, len(opened[file.path].pages))


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


def plan_record(record: RecordInfo, findings: dict[Path, Finding], opened: OpenPdfs) -> RecordPlan:
    plan = RecordPlan(record)
    for file in record.files:
        outcome: PdfPart | ImagePart | str
        finding = findings.get(file.path)
        if file.unreadable:
            outcome = file.unreadable
        elif finding is not None and finding.error:
            outcome = finding.error
        elif file.media_type == "application/pdf":
            outcome = _pdf(file, opened)
        elif file.media_type in IMAGE_TYPES:
            outcome = ImagePart(file, finding.pages or 1 if finding else 1)
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
    readable = {
        f.path: f.media_type
        for r in records
        for f in r.files
        if not f.unreadable and (f.media_type == "application/pdf" or f.media_type in IMAGE_TYPES)
    }
    found = inspect_files(list(readable.items()))
    findings = dict(zip(readable, found, strict=True))
    opened: OpenPdfs = {}
    try:
        yield [plan_record(record, findings, opened) for record in records], opened
    finally:
        for pdf in opened.values():
            pdf.close()
