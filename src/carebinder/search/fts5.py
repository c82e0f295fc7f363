"""Search with SQLite's FTS5: the index of migration 0004, queried with bm25 ranking.

Each index row's rowid is `id * 16 + code` (the codes of migrations 0004 and 0008), so a row tells
what it is without a join. The rank (bm25, titles weighing ten times the body) is set in
the index's configuration, so `ORDER BY rank` lets FTS5 sort and stop at the limit, and
snippets are made only for the rows returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from carebinder.search import Kind, Match, SearchBackend, Term
from carebinder.search.snippet import CLOSE, ELLIPSIS, OPEN, SNIPPET_TOKENS, split_marks

CODES = {
    1: Kind.RECORD,
    2: Kind.FILE,
    3: Kind.OPINION,
    4: Kind.QUESTION,
    5: Kind.DOCTOR,
    6: Kind.MEDICATION,
    7: Kind.ALLERGY,
    8: Kind.CONDITION,
    9: Kind.TREATMENT,
    10: Kind.RESULT,
}
ROWID_SPAN = 16  # revision 0008 (0004 and 0007 had 8)

FIND = text(
    "SELECT rowid, title, snippet(search_index, -1, :open, :close, :ellipsis, :tokens), rank"
    " FROM search_index WHERE search_index MATCH :match"
    " ORDER BY rank LIMIT :limit"
)


def match_expression(terms: Sequence[Term]) -> str:
    """The FTS5 query for `terms`: each one a quoted string (so nothing in it is read as
    FTS5 syntax), `*` after a prefix, all of them required."""
    quoted = []
    for term in terms:
        escaped = term.text.replace('"', '""')
        quoted.append(f'"{escaped}"' + (" *" if term.prefix else ""))
    return " ".join(quoted)


def patient_query(terms: Sequence[Term], patient_id: int) -> str:
    """`terms` in one patient's rows: the words in the title and body only, and the
    patient, which the index holds as a term of its own column (revision 0007), so the
    index looks at that patient's rows alone instead of ranking everyone's matches."""
    return f'{{title body}} : ({match_expression(terms)}) AND patient_id : "{int(patient_id)}"'


class Fts5Search(SearchBackend):
    def find(
        self, session: Session, patient_id: int, terms: Sequence[Term], limit: int
    ) -> list[Match]:
        rows = session.execute(
            FIND,
            {
                "open": OPEN,
                "close": CLOSE,
                "ellipsis": ELLIPSIS,
                "tokens": SNIPPET_TOKENS,
                "match": patient_query(terms, patient_id),
                "limit": limit,
            },
        )
        matches = []
        for rowid, title, marked, rank in rows:
            snippet, highlights = split_marks(marked or "")
            kind = CODES[rowid % ROWID_SPAN]
            ident = rowid // ROWID_SPAN
            matches.append(Match(kind, ident, title or "", snippet, highlights, -float(rank)))
        return matches
