"""The summary's timeline: a dated line with a marker per key event (ReportLab graphics)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib.colors import white
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from carebinder.packet.data import Event
from carebinder.packet.rtl import display
from carebinder.packet.styles import ACCENT, FONT, FONT_BOLD, INK, MUTED, RULE, register_fonts

MAX_EVENTS = 14
LABEL_SIZE = 6.5
LABEL_CHARS = 30
ROW_HEIGHT = 7 * mm
# Label rows, nearest the line first: above and below alternate. As many as events, so a
# label always finds a row where it neither overlaps another nor sits on a leader line;
# the drawing is only as tall as the rows it uses.
ROWS = tuple(row for depth in range(1, MAX_EVENTS // 2 + 1) for row in (depth, -depth))

KIND_RANK = {"appointment": 0, "opinion": 1, "record": 2}
COLOURS = {"appointment": ACCENT, "opinion": INK, "record": MUTED}


def key_events(events: Sequence[Event], limit: int = MAX_EVENTS) -> list[Event]:
    """At most `limit` events (given in date order): visits and opinions first, the most
    recent of each kind first (a long history imported from a portal starts decades ago),
    shown in date order."""
    ranked = sorted(range(len(events)), key=lambda i: (KIND_RANK[events[i].kind], -i))
    keep = sorted(ranked[:limit])
    return [events[i] for i in keep]


def _short(label: str) -> str:
    """`label` cut to LABEL_CHARS, ready to draw."""
    return display(label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…")


def _marker(kind: str, x: float, y: float) -> Circle | Polygon | Rect:
    colour = COLOURS[kind]
    if kind == "opinion":
        r = 3.2
        return Polygon([x, y + r, x + r, y, x, y - r, x - r, y], fillColor=colour, strokeColor=None)
    if kind == "appointment":
        return Rect(x - 3, y - 3, 6, 6, fillColor=colour, strokeColor=None)
    return Circle(x, y, 2.6, fillColor=colour, strokeColor=None)


def drawing(events: Sequence[Event], width: float) -> Drawing:
    """A timeline `width` points wide of the key events; empty events give a note."""
    register_fonts()
    chosen = key_events(events)
    if not chosen:
        canvas = Drawing(width, 8 * mm)
        canvas.add(
            String(0, 2 * mm, "No dated events yet.", fontName=FONT, fontSize=8, fillColor=MUTED)
        )
        return canvas
    pad: float = 14 * mm
    first, last = chosen[0].date, chosen[-1].date
    span = max((last - first).days, 1)

    def x_of(day: date) -> float:
        if first == last:
            return width / 2
        return float(pad + (width - 2 * pad) * (day - first).days / span)

    # Place the labels first, so the drawing is only as tall as the rows it uses. Each goes
    # in the nearest row where it overlaps no label and its leader line, on the way out
    # from the line, crosses none.
    placed: list[tuple[Event, float, str, str, float, int]] = []
    # Per row: (left, right, x of the event) of each label placed there.
    spans: dict[int, list[tuple[float, float, float]]] = {row: [] for row in ROWS}

    def free(row: int, left: float, right: float, x: float) -> bool:
        if any(a - 2 < right and left < b + 2 for a, b, _ in spans[row]):
            return False
        same_side = [r for r in ROWS if (r > 0) == (row > 0)]
        inner = [r for r in same_side if abs(r) < abs(row)]
        outer = [r for r in same_side if abs(r) > abs(row)]
        # This leader would cross an inner label; or this label would sit on the leader
        # of an outer one.
        crosses = any(a - 1 <= x <= b + 1 for r in inner for a, b, _ in spans[r])
        covers = any(left - 1 <= ox <= right + 1 for r in outer for _, _, ox in spans[r])
        return not (crosses or covers)

    for event in chosen:
        x = x_of(event.date)
        label = _short(event.label)
        stamp = event.date.strftime("%d %b %Y")
        label_width = max(
            stringWidth(label, FONT, LABEL_SIZE), stringWidth(stamp, FONT_BOLD, LABEL_SIZE)
        )
        left = min(max(x - label_width / 2, 0), width - label_width)
        right = left + label_width
        row = next((r for r in ROWS if free(r, left, right, x)), None)
        if row is None:  # crowded everywhere: the row whose last label ends first
            row = min(ROWS, key=lambda r: max((b for _, b, _ in spans[r]), default=float("-inf")))
        spans[row].append((left, right, x))
        placed.append((event, x, label, stamp, left, row))
    # Rows used on each side; none when every label went to the other side (not a negative
    # count, which put the line below the drawing, onto the legend that follows it).
    rows = [row for *_, row in placed]
    above = max(0, *rows)
    below = max(0, -min(rows))
    # Room for the labels: a date and a line of text above each row's baseline.
    top = above * ROW_HEIGHT + 2 * LABEL_SIZE + 3 if above else 4 * mm
    bottom = below * ROW_HEIGHT + 2.5 * mm + 3 if below else 4 * mm
    height = top + bottom
    mid = bottom
    canvas = Drawing(width, height)
    canvas.add(
        Line(pad - 4 * mm, mid, width - pad + 4 * mm, mid, strokeColor=RULE, strokeWidth=1.2)
    )
    texts = []
    for _, x, label, stamp, left, row in placed:
        y_text = mid + row * ROW_HEIGHT - (2.5 * mm if row < 0 else 0)
        tip = y_text - (1 * mm if row > 0 else -3.5 * mm)
        canvas.add(Line(x, mid, x, tip, strokeColor=RULE, strokeWidth=0.4))
        texts.append((left, y_text, label, stamp))
    # Labels go over every leader line, each on a white ground: where events crowd, a line
    # to an outer label passes behind the inner labels instead of striking through them.
    for left, y_text, label, stamp in texts:
        label_width = max(
            stringWidth(label, FONT, LABEL_SIZE), stringWidth(stamp, FONT_BOLD, LABEL_SIZE)
        )
        canvas.add(
            Rect(
                left - 1,
                y_text - 2,
                label_width + 2,
                2 * LABEL_SIZE + 3.5,
                fillColor=white,
                strokeColor=None,
            )
        )
        canvas.add(
            String(
                left,
                y_text + LABEL_SIZE + 1,
                stamp,
                fontName=FONT_BOLD,
                fontSize=LABEL_SIZE,
                fillColor=INK,
            )
        )
        canvas.add(String(left, y_text, label, fontName=FONT, fontSize=LABEL_SIZE, fillColor=INK))
    for event, x, *_ in placed:  # markers last, on top of the leader lines
        canvas.add(_marker(event.kind, x, mid))
    return canvas


def legend(width: float) -> Drawing:
    canvas = Drawing(width, 5 * mm)
    x = 0.0
    for kind, label in (("record", "record"), ("opinion", "opinion"), ("appointment", "visit")):
        canvas.add(_marker(kind, x + 3, 2.2 * mm))
        canvas.add(String(x + 8, 1.3 * mm, label, fontName=FONT, fontSize=7, fillColor=MUTED))
        x += 8 + stringWidth(label, FONT, 7) + 6 * mm
    return canvas
