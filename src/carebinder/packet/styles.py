"""Fonts, page geometry and paragraph styles shared by every rendered page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from carebinder.packet import rtl

FONT_DIR = Path(__file__).with_name("fonts")
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_ITALIC = "DejaVuSans-Oblique"

PAPERS = {"letter": LETTER, "a4": A4}

# Every page keeps these bands free for the header and footer stamped on it later,
# merged record pages included (they are shrunk into the space between).
MARGIN_SIDE = 18 * mm
BAND_TOP = 20 * mm
BAND_BOTTOM = 18 * mm

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
ACCENT_HEX = "#0b6e99"  # as markup writes it: <font color="...">
ACCENT = colors.HexColor(ACCENT_HEX)
DIFFERS = colors.HexColor("#fdecc8")
RULE = colors.HexColor("#9aa5b1")
# The summary's cancer card, and what it marks for attention: a severe allergy, a fact
# nobody recorded.
CARD = colors.HexColor("#eef5f9")
CARD_RULE = colors.HexColor("#9cc3d5")
ALERT = "#b42318"  # as markup writes it: <font color="...">
ALERT_ROW = colors.HexColor("#fdeceb")

TICK = "☑"
OPEN = "☐"
NOT_APPLICABLE = "–"


@dataclass(frozen=True)
class Geometry:
    width: float
    height: float

    @property
    def frame(self) -> tuple[float, float, float, float]:
        """x, y, width, height of the writable area."""
        return (
            MARGIN_SIDE,
            BAND_BOTTOM,
            self.width - 2 * MARGIN_SIDE,
            self.height - BAND_TOP - BAND_BOTTOM,
        )


def geometry(paper: str) -> Geometry:
    width, height = PAPERS[paper]
    return Geometry(width, height)


@cache
def register_fonts() -> None:
    """Embed DejaVu Sans, which prints Latin, Greek, Cyrillic, Hebrew and more."""
    for name, file in (
        (FONT, "DejaVuSans.ttf"),
        (FONT_BOLD, "DejaVuSans-Bold.ttf"),
        (FONT_ITALIC, "DejaVuSans-Oblique.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD
    )


def text(value: object, *, among_ours: bool = True) -> str:
    """User text made safe for a Paragraph ("ER <5% & PR+" is markup otherwise). Arabic is
    joined here, before the Paragraph measures it; the Paragraph reorders right-to-left text
    when it draws it (layout.Para). `among_ours`: the text is set among the program's own
    words, so each of its lines keeps its own direction there (rtl.embed)."""
    value = str(value)
    if rtl.needs_bidi(value):
        value = rtl.shape(value)
        if among_ours:
            value = "\n".join(rtl.embed(line) for line in value.split("\n"))
    return escape(value).replace("\n", "<br/>")


@cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, textColor=INK)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        "muted": ParagraphStyle("muted", parent=body, fontSize=8.5, leading=11, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=10.5
        ),
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=22,
            leading=27,
            textColor=ACCENT,
            spaceAfter=4 * mm,
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=15,
            leading=19,
            textColor=ACCENT,
            spaceAfter=3 * mm,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=4 * mm,
            spaceAfter=1.5 * mm,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=13,
            textColor=ACCENT,
            spaceBefore=2.5 * mm,
            spaceAfter=0.8 * mm,
        ),
        "section": ParagraphStyle(
            "section", parent=body, fontName=FONT_BOLD, fontSize=10, leading=12, textColor=ACCENT
        ),
        "card_title": ParagraphStyle(
            "card_title", parent=body, fontName=FONT_BOLD, fontSize=11, leading=14
        ),
        "state": ParagraphStyle("state", parent=body, spaceBefore=2.5 * mm),
        "big": ParagraphStyle("big", parent=body, fontSize=12, leading=16),
        "big_bold": ParagraphStyle(
            "big_bold", parent=body, fontName=FONT_BOLD, fontSize=12, leading=16
        ),
        "question": ParagraphStyle(
            "question", parent=body, fontName=FONT_BOLD, fontSize=10, leading=13, spaceBefore=3 * mm
        ),
        "check": ParagraphStyle(
            "check",
            parent=body,
            fontSize=10,
            leading=14,
            leftIndent=6 * mm,
            firstLineIndent=-6 * mm,
        ),
    }
