"""The packet's pages about its records: the band that names a record at the top of its
first page, and the page of its own that a record gets when it has notes or nothing to
print.

Paper matters: doctors print packets. A record whose files print starts on its first
file's first page, named by the band ("Record 3 of 12", title, kind, date, source), while
the records index and the bookmarks carry the rest. Both are drawn straight on the canvas
rather than built from Paragraphs and Tables: a packet may hold 300 records.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, PageBreak

from carebinder.packet.layout import Mark, Rendered, build, fmt_date, shorten, wrap_text
from carebinder.packet.styles import (
    ACCENT,
    BAND_TOP,
    FONT,
    FONT_BOLD,
    INK,
    MARGIN_SIDE,
    MUTED,
    OPEN,
    RULE,
    geometry,
    register_fonts,
)
from carebinder.packet.triage import PdfPart, RecordPlan
from carebinder.words import plural

LABEL_WIDTH = 32 * mm
INDENT = 6 * mm  # room for the bullet or box before a list line
BAND_SIZE = 8
# The band's baseline, below the header's rule and above the record's own content.
BAND_DROP = BAND_TOP - 3.2 * mm

Line = tuple[str, float, Any, str]  # font, size, colour, text ("label\tvalue" for pairs)


def _entry(lines: list[Line], mark: str, text: str, width: float) -> None:
    for i, line in enumerate(wrap_text(text, FONT, 10, width - INDENT)):
        lines.append((FONT, 10, INK, f"{mark}  {line}" if i == 0 else f"    {line}"))


class RecordPage(Flowable):
    """A record's page of its own: title, date, kind, source, notes, and its files."""

    def __init__(self, plan: RecordPlan, width: float, height: float):
        super().__init__()
        self.width, self.height = width, height
        self.lines = self._fit(self._lines(plan))

    def _lines(self, plan: RecordPlan) -> list[Line]:
        r = plan.record
        out: list[Line] = [(FONT, 4, INK, "")]
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
                kind = "" if isinstance(part, PdfPart) else "image, "
                _entry(
                    out, "•", f"{part.file.name} ({kind}{plural(part.pages, 'page')})", self.width
                )
        if plan.notices:
            out += [(FONT, 6, INK, ""), (FONT_BOLD, 11, INK, "Before reading")]
            for name, note in plan.notices:
                _entry(out, "!", f"{name}: {note}", self.width)
        if plan.separately:
            out += [(FONT, 6, INK, ""), (FONT_BOLD, 11, INK, "Bring separately")]
            for name, reason in plan.separately:
                _entry(out, OPEN, f"{name}: {reason}", self.width)
        if not r.files:
            out.append((FONT, 10, MUTED, "No file is attached to this record."))
        return out

    def _fit(self, lines: list[Line]) -> list[Line]:
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


def render_records(plans: Sequence[RecordPlan], paper: str) -> Rendered | None:
    """One document of the records' own pages, for those that have one (marks keyed
    ("record", id)); None when no record needs a page of its own."""
    own = [plan for plan in plans if plan.own_page]
    if not own:
        return None
    register_fonts()
    _, _, width, height = geometry(paper).frame
    height -= 1  # a flowable exactly the frame's height does not always fit
    story: list[Flowable] = []
    for plan in own:
        if story:
            story.append(PageBreak())
        story.append(Mark(plan.record.title, 1, ("record", plan.record.id)))
        story.append(RecordPage(plan, width, height))
    return build(story, paper, "records")


def band_facts(plan: RecordPlan) -> str:
    """Kind, date and source of a record, as the band shows them after its title."""
    r = plan.record
    return "  ·  ".join(
        x for x in (r.kind.replace("-", " "), fmt_date(r.date) if r.date else None, r.source) if x
    )


def render_bands(plans: Sequence[RecordPlan], paper: str) -> bytes:
    """One page per record holding only its band: "Record n of N", its title, kind, date
    and source, on one line at the top, made into a form for its first page."""
    register_fonts()
    geo = geometry(paper)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(geo.width, geo.height), pageCompression=1)
    left, right = MARGIN_SIDE, geo.width - MARGIN_SIDE
    y = geo.height - BAND_DROP
    total = len(plans)
    for number, plan in enumerate(plans, 1):
        lead = f"Record {number} of {total}"
        x = left
        canvas.setFillColor(ACCENT)
        canvas.rect(left - 2.2 * mm, y - 1.2, 0.8 * mm, BAND_SIZE + 1, stroke=0, fill=1)
        canvas.setFont(FONT_BOLD, BAND_SIZE)
        canvas.drawString(x, y, lead)
        x += canvas.stringWidth(lead, FONT_BOLD, BAND_SIZE) + 3 * mm
        room = right - x
        facts = band_facts(plan)
        # The title gives way to kind, date and source only down to 60% of the line.
        tail = canvas.stringWidth("  ·  " + facts, FONT, BAND_SIZE) if facts else 0
        title = shorten(plan.record.title, FONT_BOLD, BAND_SIZE, max(room * 0.6, room - tail))
        canvas.setFillColor(INK)
        canvas.drawString(x, y, title)
        x += canvas.stringWidth(title, FONT_BOLD, BAND_SIZE)
        if facts and right - x > 12 * mm:
            canvas.setFillColor(MUTED)
            canvas.setFont(FONT, BAND_SIZE)
            canvas.drawString(x, y, shorten("  ·  " + facts, FONT, BAND_SIZE, right - x))
        canvas.setStrokeColor(RULE)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
