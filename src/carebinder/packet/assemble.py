"""Putting the packet together with pikepdf: rendered pages and the records' own PDF pages,
a header and "Page X of Y" on every page, bookmarks, metadata and optional encryption.

Record pages are not re-rendered: each is wrapped whole (as a form XObject) and shrunk
into the area between the header and footer bands of a page of the packet's paper size,
so the stamp never covers what the hospital printed.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Dictionary, Name, OutlineItem, Rectangle

from carebinder.packet.layout import Placed, Rendered
from carebinder.packet.styles import BAND_BOTTOM, BAND_TOP, MARGIN_SIDE, geometry
from carebinder.packet.triage import ImagePart, OpenPdfs, PdfPart, RecordPlan

PAGE_NUMBER_SIZE = 8
STAMP_FONT = Name("/CbPageFont")
STAMP_FORM = Name("/CbStamp")
PLACED = Name("/CbRecordPage")


@dataclass(frozen=True)
class Metadata:
    title: str
    author: str
    subject: str


def segments(marks: Sequence[Placed], total: int) -> dict[object, range]:
    """The pages of a rendered document between consecutive marks, by mark key."""
    result: dict[object, range] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].page if i + 1 < len(marks) else total
        result[mark.key] = range(mark.page, end)
    return result


def rendered_pages(pieces: dict[object, range], plan: RecordPlan) -> list[range]:
    """The rendered page ranges of a record, in order: its separator, then each image."""
    rid = plan.record.id
    ranges = [pieces[("record", rid)]]
    ranges += [
        pieces[("image", rid, index)]
        for index, part in enumerate(plan.parts)
        if isinstance(part, ImagePart)
    ]
    return ranges


def record_start_pages(
    front_pages: int, records: Rendered | None, plans: Sequence[RecordPlan]
) -> dict[int, int]:
    """Packet page (1-based) where each record's separator falls."""
    if records is None:
        return {}
    pieces = segments(records.marks, records.page_count)
    starts: dict[int, int] = {}
    page = front_pages
    for plan in plans:
        starts[plan.record.id] = page + 1
        page += sum(len(r) for r in rendered_pages(pieces, plan)) + plan.merged_pages
    return starts


def _page_number_ops(text: str, x_right: float, y: float) -> bytes:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    x = x_right - stringWidth(text, "Helvetica", PAGE_NUMBER_SIZE)
    return (
        f"q 0.32 0.38 0.43 rg BT {STAMP_FONT} {PAGE_NUMBER_SIZE} Tf {x:.2f} {y:.2f} Td "
        f"({text}) Tj ET Q\n"
    ).encode("ascii")


class Assembler:
    """Builds the packet in two moves: first the records' own PDF pages (while the other
    pages are still being laid out elsewhere), then the rendered pages slotted in."""

    def __init__(self, paper: str) -> None:
        self.geo = geometry(paper)
        self.pdf = pikepdf.new()
        self._sources: list[pikepdf.Pdf] = []
        # Where a record's own page may go: between the header and footer bands.
        self.content_box = Rectangle(
            MARGIN_SIDE, BAND_BOTTOM, self.geo.width - MARGIN_SIDE, self.geo.height - BAND_TOP
        )
        # Index in self.pdf.pages where each record's merged pages begin.
        self.merged_at: dict[int, int] = {}

    def add_record_pdfs(self, plans: Sequence[RecordPlan], opened: OpenPdfs) -> None:
        """Append every record's PDF pages, wrapped, in packet order."""
        for plan in plans:
            self.merged_at[plan.record.id] = len(self.pdf.pages)
            for part in plan.parts:
                if isinstance(part, PdfPart):
                    self._add_pdf(opened[part.file.path])

    def _add_pdf(self, source: pikepdf.Pdf) -> None:
        width, height = self.geo.width, self.geo.height
        for page in source.pages:
            form = self.pdf.copy_foreign(page.as_form_xobject())
            new = self.pdf.add_blank_page(page_size=(width, height))
            new.Resources = Dictionary(XObject=Dictionary({str(PLACED): form}))
            placement = new.calc_form_xobject_placement(
                form, PLACED, self.content_box, allow_shrink=True, allow_expand=False
            )
            new.Contents = self.pdf.make_stream(placement)

    def insert_rendered(
        self, front: Rendered, records: Rendered | None, plans: Sequence[RecordPlan]
    ) -> list[tuple[str, int, int]]:
        """Slot the rendered pages in around the merged ones; returns the outline entries
        (title, level, 0-based page)."""
        if records is not None:
            source = self._open(records.pdf)
            pieces = segments(records.marks, records.page_count)
            # Last record first, so the positions of earlier ones do not move.
            for plan in reversed(plans):
                at = self.merged_at[plan.record.id]
                ranges = rendered_pages(pieces, plan)
                # Image pages sit after the PDF parts that precede them in the record.
                offsets, merged = [], 0
                image_ranges = iter(ranges[1:])
                for part in plan.parts:
                    if isinstance(part, PdfPart):
                        merged += part.pages
                    else:
                        offsets.append((merged, next(image_ranges)))
                for offset, pages in reversed(offsets):
                    self._insert(source, pages, at + offset)
                self._insert(source, ranges[0], at)
        front_source = self._open(front.pdf)
        self._insert(front_source, range(front.page_count), 0)

        outline = [(m.title, m.level, m.page) for m in front.marks]
        if plans:
            starts = record_start_pages(front.page_count, records, plans)
            outline.append(("Records", 0, starts[plans[0].record.id] - 1))
            outline += [(plan.record.title, 1, starts[plan.record.id] - 1) for plan in plans]
        return outline

    def _open(self, data: bytes) -> pikepdf.Pdf:
        source = pikepdf.open(io.BytesIO(data))
        self._sources.append(source)  # open until saved: qpdf copies lazily
        return source

    def _insert(self, source: pikepdf.Pdf, pages: range, at: int) -> None:
        for offset, index in enumerate(pages):
            self.pdf.pages.insert(at + offset, source.pages[index])

    def stamp_pages(self, stamp_pdf: bytes) -> None:
        """Header and footer on every page: the shared stamp, then "Page X of Y"."""
        stamp = self.pdf.copy_foreign(self._open(stamp_pdf).pages[0].as_form_xobject())
        font = self.pdf.make_indirect(
            Dictionary(
                Type=Name.Font,
                Subtype=Name.Type1,
                BaseFont=Name.Helvetica,
                Encoding=Name.WinAnsiEncoding,
            )
        )
        total = len(self.pdf.pages)
        x_right = self.geo.width - MARGIN_SIDE
        y = BAND_BOTTOM / 2 - PAGE_NUMBER_SIZE / 2
        for number, page in enumerate(self.pdf.pages, 1):
            page.add_resource(stamp, Name.XObject, STAMP_FORM)
            page.add_resource(font, Name.Font, STAMP_FONT)
            ops = b"q " + str(STAMP_FORM).encode() + b" Do Q\n"
            ops += _page_number_ops(f"Page {number} of {total}", x_right, y)
            page.contents_add(self.pdf.make_stream(ops))

    def outline(self, entries: Sequence[tuple[str, int, int]]) -> None:
        """`entries`: (title, level, 0-based page) in page order; level > 0 nests."""
        with self.pdf.open_outline() as outline:
            parent: OutlineItem | None = None
            for title, level, page in entries:
                item = OutlineItem(title, page)
                if level == 0 or parent is None:
                    outline.root.append(item)
                    parent = item
                else:
                    parent.children.append(item)

    def save(self, out: Path, meta: Metadata, password: str | None, *, force: bool) -> None:
        self.pdf.docinfo[Name.Title] = meta.title
        self.pdf.docinfo[Name.Author] = meta.author
        self.pdf.docinfo[Name.Subject] = meta.subject
        self.pdf.docinfo[Name.Creator] = "carebinder"
        self.pdf.Root.PageMode = Name.UseOutlines
        encryption: pikepdf.Encryption | bool = False
        if password:
            encryption = pikepdf.Encryption(owner=password, user=password, R=6, aes=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            self.pdf.save(tmp, encryption=encryption)
            tmp.chmod(0o600)
            if force:
                tmp.replace(out)
            else:
                _move_without_overwriting(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        self.pdf.close()
        for source in self._sources:
            source.close()


def _move_without_overwriting(tmp: Path, out: Path) -> None:
    try:
        os.link(tmp, out)  # atomic, and fails if `out` exists
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links (a USB stick)
        if out.exists():
            raise FileExistsError(out) from None
        tmp.replace(out)
    else:
        tmp.unlink()
