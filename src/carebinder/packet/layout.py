"""Building blocks shared by the packet's ReportLab documents."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from reportlab import rl_config
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
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

from carebinder.packet import rtl
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
    shaped = rtl.shape(value)
    if "\n" not in value and stringWidth(shaped, st.fontName, st.fontSize) <= width - padding:
        return rtl.reorder(shaped)
    return p(value, style)


class Para(Paragraph):
    """A Paragraph that draws right-to-left text in visual order. It is measured and broken
    into lines in logical order, like any other; only drawing reorders, line by line, so the
    first line holds the start of the text and a split across pages needs nothing special.

    ReportLab's own support (`wordWrap="RTL"`) needs rlbidi, which pip cannot install from
    PyPI, and reorders single-style paragraphs only (not one with a <br/> or a <b>)."""

    # Direction of the whole paragraph: None takes each line's paragraph (text between
    # <br/>s) from its first strong letter, as the Unicode algorithm does.
    base: str | None = None
    blPara: Any  # ReportLab's broken lines, set by wrap()
    style: ParagraphStyle

    def __init__(self, text: str | None, style: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(text, style, *args, **kwargs)
        self.bidi = text is not None and rtl.needs_bidi(text)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """The parts of a paragraph that goes on over a page: each reorders its own lines,
        in the direction the whole paragraph had."""
        parts: list[Flowable] = super().split(availWidth, availHeight)
        if self.bidi and len(parts) > 1:
            base = self.base
            if base is None and self.blPara.kind == 0:
                base = rtl.direction(" ".join(w for _, line in self.blPara.lines for w in line))
            for part in parts:
                part.bidi, part.base = True, base
        return parts

    def drawPara(self, debug: int = 0) -> None:
        if not self.bidi:
            return super().drawPara(debug)  # type: ignore[no-any-return]
        logical, style = self.blPara, self.style
        self.blPara, right = _visual(logical, self.base)
        # Several lines of right-to-left text line up on the right, where each starts; one
        # line stays where a left-to-right one would be, beside its label.
        if right and len(logical.lines) > 1 and style.alignment == TA_LEFT:
            self.style = _flush_right(style)
        try:
            return super().drawPara(debug)  # type: ignore[no-any-return]
        finally:
            self.blPara, self.style = logical, style


class Markup(Para):
    """A Paragraph of the program's own (left-to-right) words with user text set in it."""

    base = "L"


@cache
def _flush_right(style: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}-right", parent=style, alignment=TA_RIGHT)


def _visual(para: Any, base: str | None) -> tuple[Any, bool]:
    """Broken lines (ReportLab's ParaLines) with their text in visual order, and whether
    every paragraph of the text (between <br/>s) runs right to left."""
    if para.kind == 0:  # one style: a line is a list of words
        everything = " ".join(w for _, line in para.lines for w in line)
        order = rtl.LineOrder(base or rtl.direction(everything))
        lines = [(room, order(" ".join(line)).split(" ")) for room, line in para.lines]
        return para.clone(lines=lines), order.base == "R"
    lines, all_right = [], True
    order, right, starts = rtl.LineOrder("L"), False, True
    for index, line in enumerate(para.lines):
        if starts:  # a paragraph of the text begins: it sets the direction until its <br/>
            found = base or rtl.direction(_text_until_break(para.lines[index:]))
            order, right, starts = rtl.LineOrder(found), found == "R", False
            all_right = all_right and right
        words = [w.clone(text=order(w.text)) if _is_text(w) else w for w in line.words]
        if right:  # style runs too are laid out right to left
            spots = [i for i, w in enumerate(words) if _is_text(w)]
            for i, w in zip(spots, [words[i] for i in reversed(spots)], strict=True):
                words[i] = w
        lines.append(line.clone(words=words))
        starts = bool(getattr(line, "lineBreak", False))
    return para.clone(lines=lines), all_right


def _is_text(frag: Any) -> bool:
    return hasattr(frag, "text") and not hasattr(frag, "cbDefn")


def _text_until_break(lines: Sequence[Any]) -> str:
    parts = []
    for line in lines:
        parts += [w.text for w in line.words if _is_text(w)]
        if getattr(line, "lineBreak", False):
            break
    return "".join(parts)


def p(value: object, style: str = "body") -> Paragraph:
    """A paragraph of `value` alone: each of its lines takes its own direction."""
    return Para(text(value, among_ours=False), styles()[style])


def markup(markup: str, style: str = "body") -> Paragraph:
    """Our own words in `markup`; user text in it must have gone through `text()`."""
    return Markup(markup, styles()[style])


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
    """A two-column label/value table, skipping empty values. A value is user text, or a
    Paragraph already made."""
    rows = [
        [p(label, "muted"), value if isinstance(value, Flowable) else p(value)]
        for label, value in items
        if value not in (None, "")
    ]
    if not rows:
        rows = [[p("—", "muted"), p("not recorded")]]
    return table(
        rows,
        [45 * mm, width - 45 * mm],
        header=False,
        extra=[("LINEBELOW", (0, 0), (-1, -1), 0, RULE)],
    )


def shorten(value: str, font: str, size: float, width: float) -> str:
    """`value`, cut with an ellipsis so it is at most `width` points wide, ready to draw."""
    value = rtl.shape(value)
    if stringWidth(value, font, size) <= width:
        return rtl.reorder(value)
    while value and stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return rtl.reorder(value.rstrip() + "…")


def wrap_text(value: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points, broken at spaces, and inside words too long to fit;
    ready to draw (right-to-left text is broken in logical order, then each line reordered)."""
    from reportlab.lib.utils import simpleSplit

    lines: list[str] = []
    for paragraph in rtl.shape(value).splitlines() or [""]:
        order = rtl.LineOrder(rtl.direction(paragraph))
        for line in simpleSplit(paragraph, font, size, width) or [""]:
            while stringWidth(line, font, size) > width:
                cut = len(line) - 1
                while cut > 1 and stringWidth(line[:cut], font, size) > width:
                    cut -= 1
                lines.append(order(line[:cut]))
                line = line[cut:]
            lines.append(order(line))
    return lines
