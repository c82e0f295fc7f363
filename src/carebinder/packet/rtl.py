"""Right-to-left text (Hebrew, Arabic…) turned into what ReportLab should draw.

ReportLab draws a string's characters left to right in the order given, and draws each
Arabic letter in its unjoined form. So user text is first shaped (Arabic letters replaced
by their joined presentation forms, still in logical order: widths are measured and lines
broken on this), then, one line at a time, reordered into visual order by the Unicode
bidirectional algorithm. Reordering after line breaking, not before, keeps the start of a
text on its first line.

Latin-only text is never touched: `needs_bidi` answers for it with one `isascii()` or one
regular-expression search, and the libraries are imported only when a text needs them.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Characters that make a text need reordering: the right-to-left scripts (Hebrew, Arabic,
# Syriac, Thaana, N'Ko…, their presentation forms, and historic ones beyond the BMP), and
# the explicit direction controls.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u200f\u202a-\u202e\u2066-\u2069"
    "\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
# python-bidi's algorithm (UBA 5) knows embeddings but refuses isolates: an isolate becomes
# the embedding of the same direction, a first-strong isolate is dropped (the text in it
# keeps the surrounding direction), and a closing one closes the embedding.
_ISOLATES = str.maketrans(
    {"\u2066": "\u202a", "\u2067": "\u202b", "\u2068": None, "\u2069": "\u202c"}
)
_OPENERS = "\u202a\u202b\u202d\u202e"  # LRE RLE LRO RLO
# Left-to-right and right-to-left marks steer the algorithm and are invisible: once the line
# is in visual order they are dropped, so that copied text does not carry them.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")
_PDF = "\u202c"
# The only ligatures Arabic requires (lam with alef). The embedded DejaVu Sans has glyphs for
# these and for every letter's joined forms, but not for the optional ligatures (ﷲ…).
_LIGATURES = (
    "ARABIC LIGATURE LAM WITH ALEF",
    "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA ABOVE",
    "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA BELOW",
    "ARABIC LIGATURE LAM WITH ALEF WITH MADDA ABOVE",
)


def needs_bidi(text: str) -> bool:
    """Whether `text` holds anything that is drawn in another order than it is stored."""
    return not text.isascii() and _RTL.search(text) is not None


@cache
def _reshaper() -> Any:
    from arabic_reshaper import ArabicReshaper
    from arabic_reshaper.ligatures import LIGATURES

    config: dict[str, Any] = {name: name in _LIGATURES for name, _ in LIGATURES}
    # Keep the vowel marks someone typed in a name: they are part of it.
    config.update(delete_harakat=False, support_ligatures=True)
    return ArabicReshaper(configuration=config)


def shape(text: str) -> str:
    """`text` with its Arabic letters joined (presentation forms), still in logical order."""
    if text.isascii() or _ARABIC.search(text) is None:
        return text
    return str(_reshaper().reshape(text))


def direction(text: str) -> str:
    """The direction of `text`: "R" if its first strong letter is right-to-left, else "L"."""
    if not needs_bidi(text):
        return "L"
    from bidi.algorithm import get_base_level

    return "R" if get_base_level(text.translate(_ISOLATES)) else "L"


def embed(text: str) -> str:
    """User text set among the program's own (left-to-right) words: wrapped in an embedding
    of its own direction, so that "1. " + "שאלה?" puts the question mark at the end of the
    Hebrew, not on the far side of it. A left-to-right mark closes a right-to-left one: the
    algorithm this library implements has no isolates, and without it the "24" of
    "כהן, 24 Oct" would join the Hebrew run and print on its far side."""
    if not needs_bidi(text):
        return text
    if direction(text) == "R":
        return "\u202b" + text + _PDF + "\u200e"
    return "\u202a" + text + _PDF


def reorder(line: str, base: str | None = None) -> str:
    """One line, shaped and in logical order, in visual order. `base`: the direction of the
    paragraph it belongs to ("L" or "R"); by default that of its own first strong letter."""
    if not needs_bidi(line):
        return line
    # python-bidi's Python implementation, not its Rust one: only this one mirrors brackets
    # in right-to-left runs (rule L4), so that "(ד״ר)" keeps its parentheses facing in.
    from bidi.algorithm import get_display

    # A Hebrew point or an Arabic haraka ends up before (left of) its letter here, which is
    # where DejaVu Sans expects it: its marks have no advance and are drawn over the glyph
    # that follows them (seen on the rendered page).
    return str(get_display(line.translate(_ISOLATES), base_dir=base)).translate(_DIRECTION_MARKS)


def display(text: str, base: str | None = None) -> str:
    """A single line of user text as it should be drawn: shaped, then reordered."""
    return reorder(shape(text), base)


class LineOrder:
    """Reorders the lines of one paragraph, one after the other. An embedding (from `embed`)
    opened on one line and closed on a later one is carried over, so a text wrapped onto
    several lines keeps its direction on each."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.open = ""

    def __call__(self, line: str) -> str:
        if not self.open and not needs_bidi(line):
            return line
        text = self.open + line.translate(_ISOLATES)
        stack: list[str] = []
        for char in text:
            if char in _OPENERS:
                stack.append(char)
            elif char == _PDF and stack:
                stack.pop()
        self.open = "".join(stack)
        return reorder(text, self.base)
