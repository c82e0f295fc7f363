"""Putting the packet together with pikepdf: the records' own pages, one file at a time,
then the rendered pages around them, a header and "Page X of Y" on every page, each
record's identity on its first page, bookmarks, metadata and optional encryption.

Record pages are not re-rendered. Each is copied as it is, then its content is shrunk
(one `cm` before it, clipped to its own box) into the area between the header and footer
bands of a page of the packet's paper size, so the stamp never covers what the hospital
printed. The streams themselves are written as they came (no re-compression).

A file is placed whole or not at all: every page is checked (carebinder.pdfpages) before
any is copied, and whatever goes wrong with one file is the caller's to report; nothing
of that file reaches the packet, because pages join the packet's page tree only at the
end, in one move (`finish`). That one move is also what keeps a 3,000-page packet fast:
inserting pages one at a time makes qpdf do work that grows with the pages already there.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from carebinder.errors import Unprintable
from carebinder.faults import PACKET_POINT, checkpoint
from carebinder.outfile import publish
from carebinder.packet.styles import BAND_BOTTOM, BAND_TOP, MARGIN_SIDE, geometry
from carebinder.pdfpages import Box, check_structure, flatten_annotations, page_box, said_by

PAGE_NUMBER_SIZE = 8
# Short names: every page of a 3,000-page packet names them in its resources and content.
STAMP_FONT = Name("/CbF")
STAMP_FORM = Name("/CbS")
# Names made once: `Name.MediaBox` builds a new object at each use, on thousands of pages.
MEDIA_BOX, RESOURCES, CONTENTS, PARENT = (
    Name("/MediaBox"),
    Name("/Resources"),
    Name("/Contents"),
    Name("/Parent"),
)
XOBJECT, FONT, ANNOTS = Name("/XObject"), Name("/Font"), Name("/Annots")
FIRST, LAST, PREV, NEXT, COUNT = (Name(n) for n in ("/First", "/Last", "/Prev", "/Next", "/Count"))
# What a fitted page no longer needs: its own boxes and turn are in the fitting matrix.
DROPPED = tuple(Name(n) for n in ("/CropBox", "/TrimBox", "/BleedBox", "/ArtBox", "/Rotate"))
# Helvetica's advance widths (per 1,000) for the characters of "Page 12 of 340" (digits: 556).
HELVETICA_WIDTHS = {" ": 278, "P": 667, "a": 556, "g": 556, "e": 556, "o": 556, "f": 278}
HELVETICA_WIDTHS.update(dict.fromkeys("0123456789", 556))
STAMP_OPS = b"q " + str(STAMP_FORM).encode() + b" Do Q\n"
# One file may take this long to copy into the packet; past it, it is brought separately.
FILE_SECONDS = 60.0
LATE = "it took too long to put into the packet"


@dataclass(frozen=True)
class Metadata:
    title: str
    author: str
    subject: str


@dataclass
class Sheet:
    """One page of the packet: its dictionary, and the content streams it will show."""

    page: Any  # a pikepdf page dictionary
    contents: list[Any]
    # The record's identity, on a record's first page: (its form, its number in the packet).
    band: tuple[Any, int] | None = None

    def again(self, pdf: pikepdf.Pdf) -> Sheet:
        """A page of its own showing the same (a page appears in the page tree once)."""
        return Sheet(pdf.make_indirect(Dictionary(self.page)), list(self.contents))


def _page_number_ops(text: str, x_right: float, y: float) -> bytes:
    width = sum(map(HELVETICA_WIDTHS.__getitem__, text)) * PAGE_NUMBER_SIZE / 1000
    x = x_right - width
    return (
        f"q .32 .38 .43 rg BT {STAMP_FONT} {PAGE_NUMBER_SIZE} Tf {x:.2f} {y:.2f} Td "
        f"({text}) Tj ET Q\n"
    ).encode("ascii")


class _Node:
    """An outline item (or the outline itself) while the outline is made."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.children: list[_Node] = []

    def link(self) -> int:
        """Point this item and those below it at each other; returns how many items below
        it show (all of them: every item is open)."""
        shown = 0
        for index, child in enumerate(self.children):
            item = child.obj
            item[PARENT] = self.obj
            if index:
                item[PREV] = self.children[index - 1].obj
            if index + 1 < len(self.children):
                item[NEXT] = self.children[index + 1].obj
            shown += 1 + child.link()
        if self.children:
            self.obj[FIRST] = self.children[0].obj
            self.obj[LAST] = self.children[-1].obj
            self.obj[COUNT] = shown
        return shown


def _nums(*values: float) -> str:
    return " ".join(f"{v:.5f}".rstrip("0").rstrip(".") for v in values)


class Assembler:
    """Builds the packet: `place_pdf` and `place_image` make a file's pages, `rendered`
    takes ReportLab's, and `finish` puts them in order, stamped, with bookmarks."""

    def __init__(self, paper: str) -> None:
        self.geo = geometry(paper)
        self.pdf = pikepdf.new()
        self._sources: list[pikepdf.Pdf] = []
        # Where a record's own page may go: between the header and footer bands.
        self.area = (
            MARGIN_SIDE,
            BAND_BOTTOM,
            self.geo.width - MARGIN_SIDE,
            self.geo.height - BAND_TOP,
        )
        self._media_box = Array([0, 0, self.geo.width, self.geo.height])
        self._closing = self.pdf.make_indirect(self.pdf.make_stream(b"\nQ\n"))
        self._openings: dict[Box, pikepdf.Stream] = {}
        self._placed: dict[Path, list[Sheet]] = {}

    @property
    def area_size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.area
        return x1 - x0, y1 - y0

    # --- a record's files ---------------------------------------------------------------

    def place_pdf(self, path: Path, checked: Sequence[Box] | None = None) -> list[Sheet]:
        """The pages of the PDF at `path`, fitted. Raises Unprintable (or anything the PDF
        library raises) when the file cannot be printed; then nothing of it is kept.
        `checked`: the boxes of its pages, when the sandbox has checked them already (the
        same checks, on the same bytes): they are not read and checked again here."""
        if path in self._placed:  # the same file in an earlier record: its pages again
            return [sheet.again(self.pdf) for sheet in self._placed[path]]
        checkpoint(PACKET_POINT)
        started = time.monotonic()
        with pikepdf.open(path) as source:
            pages = [page.obj for page in source.pages]
            flatten_annotations(source, pages)
            said_by(source)
            if not pages:
                raise Unprintable("the PDF has no pages")
            if checked is not None and len(checked) == len(pages):
                boxes = list(checked)
            else:
                boxes = [page_box(page, n, self.area_size) for n, page in enumerate(pages, 1)]
                for number, page in enumerate(pages, 1):
                    check_structure(page, number)
            sheets = []
            for page, box in zip(pages, boxes, strict=True):
                if time.monotonic() - started > FILE_SECONDS:
                    raise Unprintable(LATE)
                # qpdf reads a page's streams as it copies them (pikepdf opens files so), so
                # a stream that cannot be read fails here, and the source can close after.
                # (One page at a time: qpdf copies pages inside an array as nulls.)
                sheets.append(self._fit(self.pdf.copy_foreign(page), box))
        self._placed[path] = sheets
        return sheets

    def place_image(self, path: Path, frames: int) -> list[Sheet]:
        """One page per frame of the image at `path`, upright, fitted to the page."""
        from carebinder.packet.images import image_xobject

        checkpoint(PACKET_POINT)
        started = time.monotonic()
        x0, y0, x1, y1 = self.area
        sheets = []
        for frame in range(frames):
            if time.monotonic() - started > FILE_SECONDS:
                raise Unprintable(LATE)
            image, (w, h) = image_xobject(self.pdf, path, frame, frames)
            scale = min((x1 - x0) / w, (y1 - y0) / h)
            dw, dh = w * scale, h * scale
            ops = f"q {_nums(dw, 0, 0, dh, x0 + (x1 - x0 - dw) / 2, y1 - dh)} cm /CbImage Do Q\n"
            page = self.pdf.make_indirect(
                Dictionary(
                    Type=Name.Page,
                    MediaBox=self._media_box,
                    Resources=Dictionary(XObject=Dictionary(CbImage=image)),
                )
            )
            sheets.append(Sheet(page, [self.pdf.make_stream(ops.encode("ascii"))]))
        return sheets

    def _fit(self, page: Any, box: Box) -> Sheet:
        """Shrink a copied record page into the content area of a packet-sized page."""
        opening = self._openings.get(box)
        if opening is None:
            opening = self.pdf.make_indirect(self.pdf.make_stream(self._opening(box)))
            self._openings[box] = opening
        contents = page.get(CONTENTS)
        inner = list(contents) if isinstance(contents, Array) else [contents] if contents else []
        page[MEDIA_BOX] = self._media_box
        for name in DROPPED:
            if name in page:
                del page[name]
        if ANNOTS in page:  # printable ones were flattened into the content already
            del page[ANNOTS]
        return Sheet(page, [opening, *inner, self._closing])

    def _opening(self, box: Box) -> bytes:
        """`q`, the matrix that maps the page's visible box (turned upright per /Rotate)
        into the content area, top-aligned and never enlarged, and a clip to that box."""
        x0, y0 = box.x0, box.y0
        w, h = box.x1 - box.x0, box.y1 - box.y0
        # Bake /Rotate into the content: (x, y) in the box -> upright display coordinates.
        turn = {
            90: (0, -1, 1, 0, 0, w),
            180: (-1, 0, 0, -1, w, h),
            270: (0, 1, -1, 0, h, 0),
        }.get(box.rotate, (1, 0, 0, 1, 0, 0))
        shown_w, shown_h = box.shown
        ax0, _, ax1, ay1 = self.area
        scale = box.scale_into(*self.area_size)
        tx = ax0 + (ax1 - ax0 - shown_w * scale) / 2
        ty = ay1 - shown_h * scale
        return (
            f"q {_nums(1, 0, 0, 1, tx, ty)} cm {_nums(scale, 0, 0, scale, 0, 0)} cm "
            f"{_nums(*turn)} cm {_nums(1, 0, 0, 1, -x0, -y0)} cm "
            f"{_nums(x0, y0, w, h)} re W n\n"
        ).encode("ascii")

    # --- the packet's own pages -----------------------------------------------------------

    def rendered(self, data: bytes) -> list[Sheet]:
        """The pages of a PDF ReportLab made, as sheets."""
        source = self._open(data)
        sheets = []
        for page in source.pages:
            copy = self.pdf.copy_foreign(page.obj)
            contents = copy.get(CONTENTS)
            inner = list(contents) if isinstance(contents, Array) else [contents]
            sheets.append(Sheet(copy, inner))
        return sheets

    def forms(self, data: bytes) -> list[Any]:
        """Each page of a PDF ReportLab made, as a form to draw on other pages."""
        source = self._open(data)
        return [self.pdf.copy_foreign(page.as_form_xobject()) for page in source.pages]

    def _open(self, data: bytes) -> pikepdf.Pdf:
        source = pikepdf.open(io.BytesIO(data))
        self._sources.append(source)
        return source

    # --- all together -------------------------------------------------------------------

    def finish(self, sheets: Sequence[Sheet], stamp_pdf: bytes) -> None:
        """Make `sheets` the packet's pages, in this order, each with the header and footer
        (the shared stamp, then "Page X of Y"), and a record's identity where it has one."""
        (stamp,) = self.forms(stamp_pdf)
        font = self.pdf.make_indirect(
            Dictionary(
                Type=Name.Font,
                Subtype=Name.Type1,
                BaseFont=Name.Helvetica,
                Encoding=Name.WinAnsiEncoding,
            )
        )
        total = len(sheets)
        x_right = self.geo.width - MARGIN_SIDE
        y = BAND_BOTTOM / 2 - PAGE_NUMBER_SIZE / 2
        tree = self.pdf.Root.Pages
        for number, sheet in enumerate(sheets, 1):
            page = sheet.page
            resources = page.get(RESOURCES)
            if not isinstance(resources, Dictionary):
                resources = page[RESOURCES] = Dictionary()
            forms = resources.get(XOBJECT)
            if forms is None:
                forms = resources[XOBJECT] = Dictionary()
            forms[STAMP_FORM] = stamp
            fonts = resources.get(FONT)
            if fonts is None:
                fonts = resources[FONT] = Dictionary()
            fonts[STAMP_FONT] = font
            ops = STAMP_OPS
            if sheet.band is not None:
                # A name of its own per record: pages of one file may share one resources
                # dictionary, and the same file may start two records.
                form, record = sheet.band
                name = Name(f"/CbB{record}")
                forms[name] = form
                ops += b"q " + str(name).encode() + b" Do Q\n"
            ops += _page_number_ops(f"Page {number} of {total}", x_right, y)
            page[CONTENTS] = Array([*sheet.contents, self.pdf.make_stream(ops)])
            page[PARENT] = tree
        tree.Kids = Array([sheet.page for sheet in sheets])
        tree.Count = total

    def outline(self, entries: Sequence[tuple[str, int, int]]) -> None:
        """`entries`: (title, level, 0-based page) in page order; level > 0 nests. Every
        item is open, and leads to the top of its page.

        The outline's dictionaries are made here rather than with pikepdf's outline helper,
        which takes about 0.3 ms an item: 90 ms for a packet of 300 records."""
        kids = self.pdf.Root.Pages.Kids
        root: _Node = _Node(self.pdf.make_indirect(Dictionary(Type=Name.Outlines)))
        parents = [root]
        for title, level, page in entries:
            destination = Array([kids[page], Name.XYZ, None, None, None])
            item = _Node(self.pdf.make_indirect(Dictionary(Title=String(title), Dest=destination)))
            del parents[level + 1 :]
            parents[-1].children.append(item)
            parents.append(item)
        root.link()
        self.pdf.Root.Outlines = root.obj

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
            # Object streams pack the page dictionaries, compressed: 3% smaller, and faster.
            self.pdf.save(
                tmp,
                encryption=encryption,
                compress_streams=False,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                **passthrough,
            )
            tmp.chmod(0o600)
            publish(tmp, out, force=force)
        finally:
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        self.pdf.close()
        for source in self._sources:
            source.close()
