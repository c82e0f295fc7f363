"""Search with PostgreSQL's full-text search: the index of migration 0005, ranked by ts_rank.

The query is built from the person's terms inside the database, never from their text as
tsquery syntax: each term goes through `search_index_words` (the reading of the index:
accents off, punctuation as spaces) and `phraseto_tsquery` (its words in order, as FTS5
reads a quoted string); a prefix term gets `:*` on its last word, appended to that
tsquery's own output (quoted by PostgreSQL); the terms are joined with `&`.

Ranking is ts_rank with the title (weight A) worth ten times the body (B), divided by
1 + the log of the length, as bm25 favours the shorter of two equal matches. Only the
`limit` best rows get a snippet. ts_headline marks the words in the text as the index reads
it (which has the same length as the text: see 0005), and the snippet shown is the same
stretch of the original text: accents and punctuation as written. Like FTS5's `snippet`,
it is the title when the title alone matches, else about 16 words of the body, with `…`
where it is cut.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from carebinder.search import Kind, Match, SearchBackend, Term
from carebinder.search.snippet import CLOSE, ELLIPSIS, ONE_LINE, OPEN, SNIPPET_TOKENS, split_marks

CONFIG = "search_index_english"  # the text search configuration of migration 0005
WEIGHTS = "{0, 0, 0.1, 1.0}"  # D, C, B (the body), A (the title)
LENGTH_NORMALIZATION = 1  # ts_rank divides by 1 + log(length)
MARKS = f"StartSel={OPEN}, StopSel={CLOSE}"
TITLE_OPTIONS = f"{MARKS}, HighlightAll=true"
BODY_OPTIONS = f"{MARKS}, MaxWords={SNIPPET_TOKENS}, MinWords={SNIPPET_TOKENS // 2}"

# After the `limit` best rows (`hit`), each step is MATERIALIZED so that each value is
# computed once per row (inlined, ts_headline would run once for every use of its result).
# `picked` gives `shown`, the title or the body; `words` is it as the index reads it;
# `marked` the snippet in `words`, `plain` without its marks; `at` where that is in `words`
# (0: not found, when the two differ in length, which NFC text never does); `head`/`tail`
# the text before and after it when that holds no word (shown in full), NULL when it does
# (shown as `…`).
FIND = text(
    f"""
    WITH term AS (
        SELECT phraseto_tsquery('{CONFIG}', search_index_words(t.words)) AS query, t.prefix
        FROM unnest(CAST(:words AS text[]), CAST(:prefixes AS boolean[])) AS t (words, prefix)
    ), wanted AS (
        SELECT string_agg(
            '(' || query::text || CASE WHEN prefix THEN ':*' ELSE '' END || ')', ' & '
        )::tsquery AS query
        FROM term WHERE numnode(query) > 0
    ), hit AS (
        SELECT i.kind, i.item_id,
            ts_rank('{WEIGHTS}', i.document, wanted.query, {LENGTH_NORMALIZATION}) AS score
        FROM search_index AS i, wanted
        WHERE i.patient_id = :patient AND i.document @@ wanted.query
        ORDER BY score DESC, i.item_id, array_position(CAST(:kinds AS text[]), i.kind)
        LIMIT :limit
    ), picked AS MATERIALIZED (
        SELECT hit.*, i.title, in_title,
            CASE WHEN in_title THEN i.title ELSE i.body END AS shown
        FROM hit
        JOIN search_index AS i USING (kind, item_id)
        CROSS JOIN wanted
        CROSS JOIN LATERAL (
            SELECT i.body = '' OR ts_filter(i.document, '{{a}}') @@ wanted.query AS in_title
        ) AS t
    ), read AS MATERIALIZED (
        SELECT picked.*, search_index_words(shown) AS words FROM picked
    ), marked AS MATERIALIZED (
        SELECT read.*, ts_headline('{CONFIG}', words, wanted.query,
            CASE WHEN in_title THEN :title_options ELSE :body_options END) AS marked
        FROM read, wanted
    ), placed AS MATERIALIZED (
        SELECT marked.*, length(plain) AS size,
            CASE WHEN length(words) = length(shown) THEN strpos(words, plain) ELSE 0 END AS at
        FROM marked, LATERAL (SELECT translate(marked, :marks, '') AS plain) AS p
    )
    SELECT kind, item_id, title, score, marked,
        CASE WHEN at > 0 AND left(words, at - 1) !~ '\\S' THEN left(shown, at - 1) END AS head,
        CASE WHEN at > 0 THEN substr(shown, at, size) END AS core,
        CASE WHEN at > 0 AND substr(words, at + size) !~ '\\S'
            THEN substr(shown, at + size) END AS tail
    FROM placed
    ORDER BY score DESC, item_id, array_position(CAST(:kinds AS text[]), kind)
    """  # noqa: S608 - constants; the person's words are parameters
)


def snippet(
    marked: str, head: str | None, core: str | None, tail: str | None
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The snippet in the original text, with the marked words' offsets: `core` is the
    stretch `marked` marks, `head` and `tail` what surrounds it (None: cut, shown `…`).
    Without `core`, the words as the index reads them."""
    plain, highlights = split_marks(marked)
    if core is None:
        return plain, highlights
    before = ELLIPSIS if head is None else head.lstrip()
    after = ELLIPSIS if tail is None else tail.rstrip()
    shift = len(before)
    shown = (before + core + after).translate(ONE_LINE)
    return shown, tuple((start + shift, end + shift) for start, end in highlights)


class PostgresSearch(SearchBackend):
    def find(
        self, session: Session, patient_id: int, terms: Sequence[Term], limit: int
    ) -> list[Match]:
        rows = session.execute(
            FIND,
            {
                "words": [term.text for term in terms],
                "prefixes": [term.prefix for term in terms],
                "patient": patient_id,
                "kinds": [str(kind) for kind in Kind],
                "limit": limit,
                "title_options": TITLE_OPTIONS,
                "body_options": BODY_OPTIONS,
                "marks": OPEN + CLOSE,
            },
        )
        matches = []
        for kind, ident, title, score, marked, head, core, tail in rows:
            shown, highlights = snippet(marked or "", head, core, tail)
            matches.append(Match(Kind(kind), ident, title, shown, highlights, float(score)))
        return matches
