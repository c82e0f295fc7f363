"""Snippets as both backends make them: the engine marks each matched word with two control
characters, and `split_marks` turns that into plain text and the offsets of the words."""

from __future__ import annotations

import re

# Around each matched word in a snippet; the text never holds these (control characters
# are refused on input and removed from the words of PDFs).
OPEN, CLOSE = "\x02", "\x03"
ELLIPSIS = "…"
SNIPPET_TOKENS = 16  # about how many words a snippet shows
ONE_LINE = str.maketrans("\n\t", "  ")  # one character for one: offsets stay right


def split_marks(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A snippet without its marks (on one line), and where the marked words are in it."""
    plain: list[str] = []
    highlights: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for piece in re.split(f"([{OPEN}{CLOSE}])", marked):
        if piece == OPEN:
            start = length
        elif piece == CLOSE:
            if start is not None:
                highlights.append((start, length))
            start = None
        else:
            plain.append(piece.translate(ONE_LINE))
            length += len(piece)
    return "".join(plain), tuple(highlights)
