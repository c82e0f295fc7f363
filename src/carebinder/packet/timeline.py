"""The summary's timeline: a dated line with a marker per key event (ReportLab graphics)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from carebinder.packet.gather import Event
from carebinder.packet.styles import ACCENT, FONT, FONT_BOLD, INK, MUTED, RULE

MAX_EVENTS = 14
LABEL_SIZE = 6.5
LABEL_CHARS = 30
ROW_HEIGHT = 7 * mm
# Label rows, nearest the line first: above and below alternate.
ROWS = (1, -1, 2, -2, 3, -3)

KIND_RANK = {"appointment": 0, "opinion": 1, "record": 2}
COLOURS = {"appointment": ACCENT, "opinion": INK, "record": MUTED}


def key_events(events: Sequence[Event], limit: int = MAX_EVENTS) -> list[Event]:
    """At most `limit` events, visits and opinions first, kept in date order."""
    ranked = sorted(range(len(events)), key=lambda i: (KIND_RANK[events[i].kind], i))
    keep = sorted(ranked[:limit])
    return [events[i] for i in keep]


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


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

    # Place the labels first (each in the nearest row where it does not overlap), so the
    # drawing is only as tall as the rows it uses.
    placed: list[tuple[Event, float, str, str, float, int]] = []
    right_edge = {row: float("-inf") for row in ROWS}
    for event in chosen:
        x = x_of(event.date)
        label = _short(event.label)
        stamp = event.date.strftime("%d %b %Y")
        label_width = max(
            stringWidth(label, FONT, LABEL_SIZE), stringWidth(stamp, FONT_BOLD, LABEL_SIZE)
        )
        left = min(max(x - label_width / 2, 0), width - label_width)
        row = next((r for r in ROWS if right_edge[r] + 2 < left), None)
        if row is None:  # every row is crowded here: use the one that frees up first
            row = min(ROWS, key=lambda r: right_edge[r])
        right_edge[row] = left + label_width
        placed.append((event, x, label, stamp, left, row))
    above = max((row for *_, row in placed), default=0)
    below = -min((row for *_, row in placed), default=0)
    # Room for the labels: a date and a line of text above each row's baseline.
    top = above * ROW_HEIGHT + 2 * LABEL_SIZE + 3 if above else 4 * mm
    bottom = below * ROW_HEIGHT + 2.5 * mm + 3 if below else 4 * mm
    height = top + bottom
    mid = bottom
    canvas = Drawing(width, height)
    canvas.add(
        Line(pad - 4 * mm, mid, width - pad + 4 * mm, mid, strokeColor=RULE, strokeWidth=1.2)
    )
    for _, x, label, stamp, left, row in placed:
        y_text = mid + row * ROW_HEIGHT - (2.5 * mm if row < 0 else 0)
        tip = y_text - (1 * mm if row > 0 else -3.5 * mm)
        canvas.add(Line(x, mid, x, tip, strokeColor=RULE, strokeWidth=0.4))
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
