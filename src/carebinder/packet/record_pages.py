"""The packet's record pages: a separator per record, then its images placed on pages.

Separators are drawn straight on the canvas rather than built from Paragraphs and
Tables: a packet of 300 records has 300 of them, and this is several times faster.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, PageBreak

from carebinder.packet.layout import Mark, Rendered, build, fmt_date, wrap_text
from carebinder.packet.styles import (
    ACCENT,
    FONT,
    FONT_BOLD,
    INK,
    MUTED,
    OPEN,
    RULE,
    geometry,
    register_fonts,
)
from carebinder.packet.triage import ImagePart, PdfPart, RecordPlan

# Photos are scaled down to this many pixels on their long side before embedding.
MAX_IMAGE_SIDE = 3000
LABEL_WIDTH = 32 * mm
INDENT = 6 * mm  # room for the bullet or box before a list line


class Separator(Flowable):
    """The page that opens a record: title, date, kind, source, notes, and its files."""

    def __init__(self, plan: RecordPlan, number: int, total: int, width: float, height: float):
        super().__init__()
        self.width, self.height = width, height
        self.lines = self._lines(plan, number, total)

    def _lines(
        self, plan: RecordPlan, number: int, total: int
    ) -> list[tuple[str, float, Any, str]]:
        """(font, size, colour, text) per line, cut to what fits on one page."""
        r = plan.record
        out: list[tuple[str, float, Any, str]] = [(FONT, 8.5, MUTED, f"Record {number} of {total}")]
        for line in wrap_text(r.title, FONT_BOLD, 18, self.width):
            out.append((FONT_BOLD, 18, ACCENT, line))
        out.append((FONT, 4, INK, ""))
        for label, value in (
            ("Date", fmt_date(r.date)),
            ("Kind", r.kind.replace("-", " ")),
            ("Source", r.source),
            ("Notes", r.notes),
        ):
            if not value:
                continue
            for i, line in enumerate(wrap_text(value, FONT, 10, self.width - LABEL_WIDTH)):
                out.append((FONT, 10, INK, f"{label if i == 0 else ''}\t{line}"))
        if plan.parts:
            out += [(FONT, 6, INK, ""), (FONT_BOLD, 11, INK, "In this packet")]
            for part in plan.parts:
                count = part.pages if isinstance(part, PdfPart) else part.frames
                kind = "" if isinstance(part, PdfPart) else "image, "
                noun = "page" if count == 1 else "pages"
                entry = f"{part.file.name} ({kind}{count} {noun})"
                for i, line in enumerate(wrap_text(entry, FONT, 10, self.width - INDENT)):
                    out.append((FONT, 10, INK, f"•  {line}" if i == 0 else f"    {line}"))
        if plan.separately:
            out += [(FONT, 6, INK, ""), (FONT_BOLD, 11, INK, "Bring separately")]
            for name, reason in plan.separately:
                entry = f"{name}: {reason}"
                for i, line in enumerate(wrap_text(entry, FONT, 10, self.width - INDENT)):
                    out.append((FONT, 10, INK, f"{OPEN}  {line}" if i == 0 else f"    {line}"))
        if not r.files:
            out.append((FONT, 10, MUTED, "No file is attached to this record."))
        return self._fit(out)

    def _fit(self, lines: list[tuple[str, float, Any, str]]) -> list[tuple[str, float, Any, str]]:
        used = 0.0
        for index, (_, size, _, _) in enumerate(lines):
            used += size * 1.35
            if used > self.height - 14:
                rest = len(lines) - index
                return [*lines[:index], (FONT, 9, MUTED, f"… {rest} more lines: see the binder.")]
        return lines

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        y = self.height
        for font, size, colour, line in self.lines:
            y -= size * 1.35
            canvas.setFont(font, size)
            canvas.setFillColor(colour)
            label, tab, value = line.partition("\t")
            if tab:
                canvas.setFillColor(MUTED)
                canvas.drawString(0, y, label)
                canvas.setFillColor(colour)
                canvas.drawString(LABEL_WIDTH, y, value)
            else:
                canvas.drawString(0, y, line)
        canvas.setStrokeColor(RULE)


class ImagePage(Flowable):
    """One image (or one frame of a TIFF), upright per its EXIF, fitted to the page."""

    def __init__(self, part: ImagePart, frame: int, width: float, height: float) -> None:
        super().__init__()
        self.part, self.frame = part, frame
        self.width, self.height = width, height

    def draw(self) -> None:
        reader, (w, h) = _image_source(self.part, self.frame)
        scale = min(self.width / w, self.height / h)
        dw, dh = w * scale, h * scale
        self.canv.drawImage(reader, (self.width - dw) / 2, self.height - dh, dw, dh)


def _image_source(part: ImagePart, frame: int) -> tuple[Any, tuple[int, int]]:
    from PIL import Image, ImageOps

    with Image.open(part.file.path) as image:
        if part.frames > 1:
            image.seek(frame)
        orientation = image.getexif().get(0x0112, 1)
        if image.format == "JPEG" and orientation == 1 and max(image.size) <= MAX_IMAGE_SIDE:
            # Embed the JPEG's own bytes, untouched.
            return ImageReader(str(part.file.path)), image.size
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        buffer = io.BytesIO()
        upright.save(buffer, format="JPEG", quality=90)
        buffer.seek(0)
        return ImageReader(buffer), upright.size


def render_records(plans: Sequence[RecordPlan], paper: str) -> Rendered:
    """One document of every record's own pages. Marks carry keys: ("record", id) before a
    separator, ("image", id, n) before the pages of the record's n-th part."""
    register_fonts()
    _, _, width, height = geometry(paper).frame
    height -= 1  # a flowable exactly the frame's height does not always fit
    story: list[Flowable] = []
    for number, plan in enumerate(plans, 1):
        if story:
            story.append(PageBreak())
        story.append(Mark(plan.record.title, 1, ("record", plan.record.id)))
        story.append(Separator(plan, number, len(plans), width, height))
        for index, part in enumerate(plan.parts):
            if isinstance(part, ImagePart):
                for frame in range(part.frames):
                    story.append(PageBreak())
                    if frame == 0:
                        story.append(Mark(part.file.name, 2, ("image", plan.record.id, index)))
                    story.append(ImagePage(part, frame, width, height))
    return build(story, paper, "records")
