"""Building blocks shared by the packet's ReportLab documents."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from carebinder.packet.styles import FONT, FONT_BOLD, INK, RULE, Geometry, geometry, styles, text


@dataclass(frozen=True)
class Placed:
    """Where a Mark landed: its title and outline level, its 0-based page, its key."""

    title: str
    level: int
    page: int
    key: Any


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    page_count: int
    marks: tuple[Placed, ...]


class Mark(Flowable):
    """An invisible flowable that notes the page a section (or record) starts on."""

    def __init__(self, title: str, level: int = 0, key: object = None) -> None:
        super().__init__()
        self.title = title
        self.level = level
        self.key = key
        self.width = self.height = 0

    def draw(self) -> None:
        pass


class _Doc(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, geo: Geometry, **kwargs: Any) -> None:
        super().__init__(buffer, pagesize=(geo.width, geo.height), **kwargs)
        x, y, w, h = geo.frame
        frame = Frame(x, y, w, h, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        self.marks: list[Placed] = []

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, Mark):
            self.marks.append(Placed(flowable.title, flowable.level, self.page - 1, flowable.key))


def build(story: list[Flowable], paper: str, title: str) -> Rendered:
    rl_config.useA85 = 0  # binary Flate streams: a quarter smaller than ASCII85 text
    buffer = io.BytesIO()
    doc = _Doc(buffer, geometry(paper), title=title, author="carebinder", pageCompression=1)
    doc.build(story)
    return Rendered(buffer.getvalue(), doc.page, tuple(doc.marks))


def cell(value: object, width: float, style: str = "cell") -> str | Paragraph:
    """A table cell: plain text when it fits on one line (much faster to lay out), else a
    wrapping Paragraph. Plain cells take the table's FONT commands."""
    value = or_dash(value)
    st = styles()[style]
    padding = 6
    if "\n" not in value and stringWidth(value, st.fontName, st.fontSize) <= width - padding:
        return value
    return p(value, style)


def p(value: object, style: str = "body") -> Paragraph:
    return Paragraph(text(value), styles()[style])


def markup(markup: str, style: str = "body") -> Paragraph:
    return Paragraph(markup, styles()[style])


def or_dash(value: object) -> str:
    return "—" if value in (None, "") else str(value)


def fmt_date(value: Any) -> str:
    return value.strftime("%d %b %Y") if value else "—"


def table(
    rows: list[list[Any]],
    widths: Sequence[float],
    *,
    header: bool = True,
    extra: Sequence[Any] = (),
) -> Table:
    grid = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[Any] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8.5, 10.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
    ]
    if header:
        commands.append(("LINEBELOW", (0, 0), (-1, 0), 0.9, RULE))
        commands.append(("FONT", (0, 0), (-1, 0), FONT_BOLD, 8.5, 10.5))
    grid.setStyle(TableStyle([*commands, *extra]))
    return grid


def pairs(items: Sequence[tuple[str, object]], width: float) -> Table:
    """A two-column label/value table, skipping empty values."""
    rows = [[p(label, "muted"), p(value)] for label, value in items if value not in (None, "")]
    if not rows:
        rows = [[p("—", "muted"), p("not recorded")]]
    return table(
        rows,
        [45 * mm, width - 45 * mm],
        header=False,
        extra=[("LINEBELOW", (0, 0), (-1, -1), 0, RULE)],
    )


def shorten(value: str, font: str, size: float, width: float) -> str:
    """`value`, cut with an ellipsis so it is at most `width` points wide."""
    if stringWidth(value, font, size) <= width:
        return value
    while value and stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return value.rstrip() + "…"


def wrap_text(value: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points, broken at spaces, and inside words too long to fit."""
    from reportlab.lib.utils import simpleSplit

    lines: list[str] = []
    for paragraph in value.splitlines() or [""]:
        for line in simpleSplit(paragraph, font, size, width) or [""]:
            while stringWidth(line, font, size) > width:
                cut = len(line) - 1
                while cut > 1 and stringWidth(line[:cut], font, size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
            lines.append(line)
    return lines
