"""What a person types into `carebinder search`, as terms any search backend can use.

The syntax is small on purpose: plain words (all must match, in any order), "quoted
phrases" (these words, in this order), and a trailing `*` for "starting with" (`chemo*`).
Everything else is taken literally: no operator of any engine's query language can be
typed by mistake, and no query can fail to parse.
"""

from __future__ import annotations

from dataclasses import dataclass

from carebinder.errors import FIELD, InvalidInput


@dataclass(frozen=True)
class Term:
    """One word or phrase the results must contain."""

    text: str
    phrase: bool = False
    prefix: bool = False


def parse_query(query: str) -> list[Term]:
    """The terms of `query`; refused when it holds no word to look for."""
    terms: list[Term] = []
    position, end = 0, len(query)
    while position < end:
        char = query[position]
        if char.isspace():
            position += 1
            continue
        if char == '"':
            close = query.find('"', position + 1)
            close = end if close == -1 else close  # an unclosed quote runs to the end
            text, position = query[position + 1 : close], close + 1
            phrase = True
        else:
            stop = position
            while stop < end and not query[stop].isspace() and query[stop] != '"':
                stop += 1
            text, position = query[position:stop], stop
            phrase = False
        prefix = text.endswith("*")
        if position < end and query[position] == "*":  # "a phrase"*
            prefix = True
            while position < end and query[position] == "*":
                position += 1
        text = " ".join(text.rstrip("*").split())
        if any(char.isalnum() for char in text):
            terms.append(Term(text, phrase=phrase and " " in text, prefix=prefix))
    if not terms:
        raise InvalidInput(
            f"{FIELD} has no words to look for. Give a word, e.g. carebinder search biopsy",
            field="query",
        )
    return terms
