"""Which of a record's files go into the packet, and why the others cannot.

Every PDF and image is first read in a child process with limits (carebinder.sandbox),
so a hostile file cannot crash, hang or exhaust the packet; the child reads a few files
ahead while the packet copies the pages of the ones it passed. Then each file is placed
(copied and fitted) on its own: whatever goes wrong with one file, from a page of no size
to an exception deep in the PDF library, that file is listed as "bring separately" with
the reason, and the packet goes on. What the libraries said while placing it (pages
repaired, form fields dropped) becomes the file's notice.

The plans are plain data; the placed pages stay with the assembler's sheets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from carebinder.errors import Unprintable
from carebinder.packet.data import FileInfo, RecordInfo
from carebinder.pdfpages import Box, notice
from carebinder.sandbox import Finding, Reading, readable

if TYPE_CHECKING:
    from carebinder.packet.assemble import Assembler, Sheet

# What a patient can do about a file the packet cannot print.
SEPARATE_REASONS = {
    "application/dicom": "DICOM medical image: bring the imaging disc",
    "application/zip": "ZIP archive: open it and attach the files inside",
    "image/heic": "HEIC photo: convert it to JPEG to include it",
    "text/plain": "plain-text file: print it separately",
    "application/x-ole-storage": "Office document: save it as PDF to include it",
    "application/rtf": "RTF document: save it as PDF to include it",
}
PDF = "application/pdf"


@dataclass(frozen=True)
class PdfPart:
    file: FileInfo
    pages: int


@dataclass(frozen=True)
class ImagePart:
    file: FileInfo
    frames: int

    @property
    def pages(self) -> int:
        return self.frames


@dataclass
class RecordPlan:
    record: RecordInfo
    parts: list[PdfPart | ImagePart] = field(default_factory=list)
    # (file name, reason) for each file to bring separately
    separately: list[tuple[str, str]] = field(default_factory=list)
    # (file name, what a reader should know) for printed files
    notices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def merged_pages(self) -> int:
        return sum(p.pages for p in self.parts if isinstance(p, PdfPart))

    @property
    def printed_pages(self) -> int:
        return sum(p.pages for p in self.parts)

    @property
    def own_page(self) -> bool:
        """A record with notes, or with nothing to print, has a page of its own in the
        packet; any other starts on its first file's first page."""
        return bool(self.record.notes) or not self.parts


@dataclass
class Planned:
    plans: list[RecordPlan]
    sheets: dict[int, list[Sheet]]  # record id -> its files' pages, in order


def plan_records(
    records: Sequence[RecordInfo], assembler: Assembler, findings: Findings, said: list[str]
) -> Planned:
    """Place every record's files with `assembler`, one file at a time, as `findings`
    passes them. `said` is where the PDF libraries' messages are being collected
    (pdfpages.quiet_libraries)."""
    planned = Planned([], {})
    for record in records:
        plan = RecordPlan(record)
        sheets: list[Sheet] = []
        for file in record.files:
            outcome = _place(file, findings, assembler, said)
            if isinstance(outcome, str):
                plan.separately.append((file.name, outcome))
                continue
            part, placed, note = outcome
            plan.parts.append(part)
            sheets += placed
            if note:
                plan.notices.append((file.name, note))
        planned.plans.append(plan)
        planned.sheets[record.id] = sheets
    return planned


def _place(
    file: FileInfo, findings: Findings, assembler: Assembler, said: list[str]
) -> str | tuple[PdfPart | ImagePart, list[Sheet], str | None]:
    """The file's part and pages, and its notice; or why it must be brought separately."""
    if file.unreadable:
        return file.unreadable
    if not readable(file.media_type):
        return SEPARATE_REASONS.get(file.media_type, "a file the packet cannot print")
    finding = findings.get(file.path)
    if finding.error:
        return finding.error
    if finding.unprintable:
        return finding.unprintable
    mark = len(said)
    part: PdfPart | ImagePart
    try:
        if file.media_type == PDF:
            boxes = [Box(*box) for box in finding.boxes] if finding.boxes else None
            sheets = assembler.place_pdf(file.path, boxes)
            part = PdfPart(file, len(sheets))
        else:
            sheets = assembler.place_image(file.path, finding.pages or 1)
            part = ImagePart(file, len(sheets))
    except Unprintable as error:
        return error.message
    except MemoryError:
        return "the file needs too much memory to print"
    # One file's failure, whatever it is, must not cost the patient the whole packet: this
    # is the boundary where it stops. The reason names the error's kind, never its text.
    except Exception as error:  # noqa: BLE001
        return f"the file could not be put into the packet ({type(error).__name__})"
    notes = [n for n in (finding.notice, notice(said[mark:])) if n]
    return part, sheets, "; ".join(dict.fromkeys(notes)) or None


class Findings:
    """The sandbox's findings for the records' files, each file read once, in packet order
    (the order they are asked for), while the child goes on with the next ones. The child
    starts when this is made: make it before other work, so the child gets ready."""

    def __init__(self, records: Sequence[RecordInfo]) -> None:
        wanted: dict[Path, str] = {}
        digests: dict[Path, str] = {}
        for record in records:
            for file in record.files:
                if not file.unreadable and readable(file.media_type):
                    wanted.setdefault(file.path, file.media_type)
                    if file.sha256:
                        digests[file.path] = file.sha256
        self._order = iter(wanted)
        self._answers = Reading(list(wanted.items()), digests=digests)
        self._known: dict[Path, Finding] = {}

    def get(self, path: Path) -> Finding:
        while path not in self._known:
            self._known[next(self._order)] = next(self._answers)
        return self._known[path]

    def close(self) -> None:
        self._answers.close()
