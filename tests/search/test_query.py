"""The query a person types: words, "phrases", prefix*; and what FTS5 is given for it."""

from __future__ import annotations

import pytest

from carebinder.errors import InvalidInput
from carebinder.search import Term, parse_query
from carebinder.search.fts5 import match_expression, patient_query
from carebinder.search.snippet import split_marks


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("biopsy", [Term("biopsy")]),
        ("  sentinel   node ", [Term("sentinel"), Term("node")]),
        ('"sentinel node" biopsy', [Term("sentinel node", phrase=True), Term("biopsy")]),
        ("chemo*", [Term("chemo", prefix=True)]),
        ("chemo** x", [Term("chemo", prefix=True), Term("x")]),
        ('"axillary dis"*', [Term("axillary dis", phrase=True, prefix=True)]),
        ('"unclosed phrase', [Term("unclosed phrase", phrase=True)]),
        ('"one"', [Term("one")]),  # a phrase of one word is a word
        ('a"b"c', [Term("a"), Term("b"), Term("c")]),
        ("ER+/PR+ HER2-", [Term("ER+/PR+"), Term("HER2-")]),
        ("NOT OR AND NEAR", [Term("NOT"), Term("OR"), Term("AND"), Term("NEAR")]),
        ("col:umn ^start", [Term("col:umn"), Term("^start")]),
        ("Adán", [Term("Adán")]),
        ("- + * ( ) biopsy", [Term("biopsy")]),  # punctuation alone is not a word
    ],
)
def test_parse_query(query: str, terms: list[Term]) -> None:
    assert parse_query(query) == terms


@pytest.mark.parametrize("query", ["", "   ", "*", '""', '" "', "- + / ( ) :", "***"])
def test_a_query_without_words_is_refused(query: str) -> None:
    with pytest.raises(InvalidInput, match="query has no words to look for"):
        parse_query(query)


def test_every_term_is_quoted_so_no_fts5_syntax_gets_through() -> None:
    terms = parse_query("NOT col:umn chemo* (a OR b) NEAR(x y)")
    assert match_expression(terms) == ('"NOT" "col:umn" "chemo" * "(a" "OR" "b)" "NEAR(x" "y)"')
    assert match_expression([Term('say "hi"')]) == '"say ""hi"""'  # never parsed so, but safe
    assert match_expression([Term("sentinel node", phrase=True, prefix=True)]) == (
        '"sentinel node" *'
    )


def test_split_marks_gives_plain_text_and_where_the_matches_are() -> None:
    plain, spans = split_marks("…the \x02sentinel\x03 \x02node\x03 was\nnegative…")
    assert plain == "…the sentinel node was negative…"
    assert [plain[a:b] for a, b in spans] == ["sentinel", "node"]
    assert split_marks("") == ("", ())
    assert split_marks("no marks") == ("no marks", ())


def test_the_fts5_query_holds_the_words_to_the_text_and_asks_for_one_patient() -> None:
    query = patient_query(parse_query("biopsy 7"), 7)
    assert query == '{title body} : ("biopsy" "7") AND patient_id : "7"'
