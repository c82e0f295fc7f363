"""Putting the packet together with pikepdf: rendered pages and the records' own PDF pages,
a header and "Page X of Y" on every page, bookmarks, metadata and optional encryption.

Record pages are not re-rendered. Each is copied as it is, then its content is shrunk
(one `cm` before it, clipped to its own box) into the area between the header and footer
bands of a page of the packet's paper size, so the stamp never covers what the hospital
printed. Doing this in place, rather than wrapping each page in a form XObject, keeps
qpdf from holding a second copy of every page's content: about 45 MB less on a
3,000-page packet. The streams themselves are written as they came (no re-compression).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, Rectangle

from carebinder.outfile import publish
from carebinder.packet.layout import Placed, Rendered
from carebinder.packet.styles import BAND_BOTTOM, BAND_TOP, MARGIN_SIDE, geometry
from carebinder.packet.triage import ImagePart, OpenPdfs, PdfPart, RecordPlan

PAGE_NUMBER_SIZE = 8
STAMP_FONT = Name("/CbPageFont")
STAMP_FORM = Name("/CbStamp")
# Helvetica's advance widths (per 1,000) for the characters of "Page 12 of 340".
HELVETICA_WIDTHS = {" ": 278, "P": 667, "a": 556, "g": 556, "e": 556, "o": 556, "f": 278}


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
    width = sum(HELVETICA_WIDTHS.get(char, 556) for char in text) * PAGE_NUMBER_SIZE / 1000
    x = x_right - width
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
        self._media_box = Array([0, 0, self.geo.width, self.geo.height])
        self._closing = self.pdf.make_indirect(self.pdf.make_stream(b"\nQ\n"))
        self._openings: dict[tuple[float, ...], pikepdf.Stream] = {}

    def add_record_pdfs(self, plans: Sequence[RecordPlan], opened: OpenPdfs) -> None:
        """Append every record's PDF pages, fitted, in packet order."""
        used: set[Path] = set()
        for plan in plans:
            self.merged_at[plan.record.id] = len(self.pdf.pages)
            for part in plan.parts:
                if not isinstance(part, PdfPart):
                    continue
                source = opened[part.file.path]
                if part.file.path in used:
                    # The same file in two records: qpdf would hand back the pages it
                    # already copied (and fitted); a second handle gives fresh copies.
                    source = pikepdf.open(part.file.path)
                    self._sources.append(source)
                used.add(part.file.path)
                self._add_pdf(source)

    def _add_pdf(self, source: pikepdf.Pdf) -> None:
        start = len(self.pdf.pages)
        self.pdf.pages.extend(source.pages)
        for index in range(start, len(self.pdf.pages)):
            self._fit(self.pdf.pages[index].obj)

    def _fit(self, page: Dictionary) -> None:
        """Shrink a copied record page into the content box of a packet-sized page."""
        box = page.get(Name.CropBox) or page.get(Name.MediaBox)
        x0, y0, x1, y1 = (float(v) for v in box) if box is not None else (0, 0, 612, 792)
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        rotate = int(page.get(Name.Rotate, 0)) % 360
        key = (x0, y0, x1, y1, rotate)
        opening = self._openings.get(key)
        if opening is None:
            opening = self.pdf.make_indirect(self.pdf.make_stream(self._opening(*key)))
            self._openings[key] = opening
        contents = page.get(Name.Contents)
        inner = list(contents) if isinstance(contents, Array) else [contents] if contents else []
        page.Contents = Array([opening, *inner, self._closing])
        page.MediaBox = self._media_box
        for name in (Name.CropBox, Name.TrimBox, Name.BleedBox, Name.ArtBox, Name.Rotate):
            if name in page:
                del page[name]
        if Name.Annots in page:  # printable ones were flattened into the content already
            del page[Name.Annots]

    def _opening(self, x0: float, y0: float, x1: float, y1: float, rotate: int) -> bytes:
        """`q`, the matrix that maps the page's visible box (turned upright per /Rotate)
        into the content box, top-aligned and never enlarged, and a clip to that box."""
        w, h = x1 - x0, y1 - y0
        # Bake /Rotate into the content: (x, y) in the box -> upright display coordinates.
        turn, shown_w, shown_h = {
            90: ((0, -1, 1, 0, 0, w), h, w),
            180: ((-1, 0, 0, -1, w, h), w, h),
            270: ((0, 1, -1, 0, h, 0), h, w),
        }.get(rotate, ((1, 0, 0, 1, 0, 0), w, h))
        box = self.content_box
        scale = min(box.width / shown_w, box.height / shown_h, 1.0)
        tx = box.llx + (box.width - shown_w * scale) / 2
        ty = box.ury - shown_h * scale

        def nums(*values: float) -> str:
            return " ".join(f"{v:.5f}".rstrip("0").rstrip(".") for v in values)

        return (
            f"q {nums(1, 0, 0, 1, tx, ty)} cm {nums(scale, 0, 0, scale, 0, 0)} cm "
            f"{nums(*turn)} cm {nums(1, 0, 0, 1, -x0, -y0)} cm "
            f"{nums(x0, y0, w, h)} re W n\n"
        ).encode("ascii")

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
            # Streams pass through as the hospitals wrote them: decoding and compressing
            # them again would take most of the time and change nothing a reader sees.
            # (Encrypting needs qpdf's own decode level: pikepdf refuses `none` with it.)
            passthrough = (
                {} if password else {"stream_decode_level": pikepdf.StreamDecodeLevel.none}
            )
            self.pdf.save(tmp, encryption=encryption, compress_streams=False, **passthrough)
            tmp.chmod(0o600)
            publish(tmp, out, force=force)
        finally:
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        self.pdf.close()
        for source in self._sources:
            source.close()
