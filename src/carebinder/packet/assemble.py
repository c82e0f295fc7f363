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
from typing import Any

import pikepdf
from pikepdf import Dictionary, Name, OutlineItem, Rectangle

from carebinder.packet.layout import Rendered
from carebinder.packet.styles import BAND_BOTTOM, BAND_TOP, MARGIN_SIDE, geometry
from carebinder.packet.triage import ImagePart, PdfPart, RecordPlan

PAGE_NUMBER_SIZE = 8
STAMP_FONT = Name("/CbPageFont")
STAMP_FORM = Name("/CbStamp")
PLACED = Name("/CbRecordPage")


@dataclass(frozen=True)
class Metadata:
    title: str
    author: str
    subject: str


def record_start_pages(
    front_pages: int,
    records_doc: Rendered | None,
    marks: Sequence[Any],
    plans: Sequence[RecordPlan],
) -> dict[int, int]:
    """Packet page (1-based) where each record's separator falls."""
    if records_doc is None:
        return {}
    pieces = segments(marks, records_doc.page_count)
    starts: dict[int, int] = {}
    page = front_pages
    for plan in plans:
        starts[plan.record.id] = page + 1
        page += _rendered_count(pieces, plan) + plan.merged_pages
    return starts


def segments(marks: Sequence[Any], total: int) -> dict[Any, range]:
    """The records document's pages between consecutive marks, by mark key."""
    keyed = [(key, page) for _, _, page, key in marks]
    result: dict[Any, range] = {}
    for i, (key, page) in enumerate(keyed):
        end = keyed[i + 1][1] if i + 1 < len(keyed) else total
        result[key] = range(page, end)
    return result


def _rendered_count(segments: dict[Any, range], plan: RecordPlan) -> int:
    rid = plan.record.id
    count = len(segments[("record", rid)])
    for index, part in enumerate(plan.parts):
        if isinstance(part, ImagePart):
            count += len(segments[("image", rid, index)])
    return count


def _page_number_ops(text: str, x_right: float, y: float) -> bytes:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    x = x_right - stringWidth(text, "Helvetica", PAGE_NUMBER_SIZE)
    return (
        f"q 0.32 0.38 0.43 rg BT {STAMP_FONT} {PAGE_NUMBER_SIZE} Tf {x:.2f} {y:.2f} Td "
        f"({text}) Tj ET Q\n"
    ).encode("ascii")


class Assembler:
    def __init__(self, paper: str, stamp_pdf: bytes) -> None:
        self.geo = geometry(paper)
        self.pdf = pikepdf.new()
        self._stamp_source = pikepdf.open(io.BytesIO(stamp_pdf))
        self.stamp = self.pdf.copy_foreign(self._stamp_source.pages[0].as_form_xobject())
        self.font = self.pdf.make_indirect(
            Dictionary(
                Type=Name.Font,
                Subtype=Name.Type1,
                BaseFont=Name.Helvetica,
                Encoding=Name.WinAnsiEncoding,
            )
        )
        # Where a record's own page may go: between the header and footer bands.
        self.content_box = Rectangle(
            MARGIN_SIDE,
            BAND_BOTTOM,
            self.geo.width - MARGIN_SIDE,
            self.geo.height - BAND_TOP,
        )

    def add_rendered(self, source: pikepdf.Pdf, pages: range | None = None) -> None:
        chosen = source.pages if pages is None else [source.pages[i] for i in pages]
        self.pdf.pages.extend(chosen)

    def add_record_pdf(self, part: PdfPart) -> None:
        for page in part.pdf.pages:
            form = self.pdf.copy_foreign(page.as_form_xobject())
            new = self.pdf.add_blank_page(page_size=(self.geo.width, self.geo.height))
            new.Resources = Dictionary(XObject=Dictionary({str(PLACED): form}))
            placement = new.calc_form_xobject_placement(
                form, PLACED, self.content_box, allow_shrink=True, allow_expand=False
            )
            new.Contents = self.pdf.make_stream(placement)

    def stamp_pages(self) -> None:
        """Header and footer on every page: the shared stamp, then "Page X of Y"."""
        total = len(self.pdf.pages)
        x_right = self.geo.width - MARGIN_SIDE
        y = BAND_BOTTOM / 2 - PAGE_NUMBER_SIZE / 2
        for number, page in enumerate(self.pdf.pages, 1):
            page.add_resource(self.stamp, Name.XObject, STAMP_FORM)
            page.add_resource(self.font, Name.Font, STAMP_FONT)
            ops = b"q " + str(STAMP_FORM).encode() + b" Do Q\n"
            ops += _page_number_ops(f"Page {number} of {total}", x_right, y)
            page.contents_add(self.pdf.make_stream(ops))

    def outline(self, entries: Sequence[tuple[str, int, int]]) -> None:
        """`entries`: (title, level 0 or 1, 0-based page) in page order."""
        with self.pdf.open_outline() as outline:
            parents: list[OutlineItem] = []
            for title, level, page in entries:
                item = OutlineItem(title, page)
                if level == 0 or not parents:
                    outline.root.append(item)
                    parents = [item]
                else:
                    parents[-1].children.append(item)

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
        self._stamp_source.close()


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
