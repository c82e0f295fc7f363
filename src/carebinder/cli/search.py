"""`carebinder search QUERY`: find anything in the binder, best matches first."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from carebinder.cli.common import App, emit_json, note, out, patient_session
from carebinder.cli.options import Json
from carebinder.words import plural

if TYPE_CHECKING:
    from carebinder.services.search import Hit, Results, Unsearchable

BOLD, PLAIN = "\x1b[1m", "\x1b[0m"
SHOW = {  # the command that shows a result of each kind
    "record": "record show {id}",
    "file": "record show {record}",
    "opinion": "opinion show {id}",
    "question": "question list",
    "doctor": "doctor show {id}",
    "medication": "medication show {id}",
    "allergy": "allergy list",
    "condition": "condition list",
    "treatment": "treatment list",
    "result": "result list",
}


def register(app: App) -> None:
    app.command("search")(search)


def search(
    ctx: typer.Context,
    query: Annotated[
        list[str],
        typer.Argument(
            help="Words to find, all of them, in any order. A phrase goes in double quotes"
            """ inside single ones ('"sentinel node"'); a word ending in * finds the words"""
            " starting with it ('chemo*').",
            show_default=False,
        ),
    ],
    limit: Annotated[
        int, typer.Option(min=1, max=1_000, help="How many results at most, best first.")
    ] = 20,
    as_json: Json = False,
) -> None:
    """Find records, the text of attached PDFs, opinions, questions, doctors, medications,
    allergies, conditions, treatments and results.

    Searches the words of record titles and notes, of the PDFs attached to records, of
    each opinion (diagnosis, stage, plan, notes), of questions and answers, of the
    doctors' names, specialties, institutions and notes, and of the health facts: a
    medication's name, dose, how it is taken, what it is for and notes; an allergy's
    substance, reaction and notes; a condition's name and notes; a treatment's name, kind,
    response and notes; a result's marker name, value, unit and notes. Accents do not matter ("Adan"
    finds "Adán"), nor do endings ("tumor" finds "tumors"). Scanned PDFs, which are
    pictures of pages, have no words to find; search says which ones.

    Example: carebinder search biopsy margin '"sentinel node"' 'chemo*'
    """
    from carebinder.services import search as service

    with patient_session(ctx) as (s, patient):
        results = service.search(s, patient.id, " ".join(query), limit=limit)
    if as_json:
        emit_json(service.to_json(results))
        return
    if not results.hits:
        note(f"No results for {_quoted(results.query)}.")
    highlight = _highlighter()
    for hit in results.hits:
        _show(hit, highlight)
    if results.hits:
        first = results.hits[0]
        count = len(results.hits)
        more = " (the best ones; --limit shows more)" if count == limit else ""
        note(
            f"{plural(count, 'result')} for {_quoted(results.query)}{more}."
            f" See one with: carebinder {SHOW[first.kind].format(id=first.id, record=first.record)}"
        )
    _warn_unsearchable(results)


def recognised_note(confidence: float | None) -> str:
    """What a result from words recognised in a scan or a photo says of them."""
    from carebinder.services.text_layers import low

    if low(confidence):
        return f" (words recognised from a scan, {confidence:.0f}% confidence: some may be misread)"
    return " (words recognised from a scan)"


def _show(hit: Hit, highlight: Highlighter) -> None:
    where = f" of record #{hit.record}" if hit.kind == "file" else ""
    heading = f"{hit.kind} #{hit.id}{where}: "
    title, spans = _without_kind(hit)
    said = recognised_note(hit.confidence) if hit.recognised else ""
    if hit.snippet == hit.title:  # the match is in the title: mark it there
        out(heading + highlight(title, spans) + said)
        return
    out(heading + title + said)
    if hit.snippet:
        out("    " + highlight(hit.snippet, hit.highlights))


def _without_kind(hit: Hit) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The title, less the kind it starts with ("Medication: Letrozole 2.5 mg"), which the
    heading says already; the marks moved with it."""
    prefix = f"{str(hit.kind).capitalize()}: "
    if not hit.title.startswith(prefix):
        return hit.title, hit.highlights
    cut = len(prefix)
    return hit.title[cut:], tuple((a - cut, b - cut) for a, b in hit.highlights if a >= cut)


class Highlighter:
    """Marks matched words: bold on a terminal, [brackets] anywhere else (a pipe, a file, a
    terminal that asked for no colour), so the marks survive."""

    def __init__(self, bold: bool) -> None:
        self.open, self.close = (BOLD, PLAIN) if bold else ("[", "]")

    def __call__(self, text: str, spans: tuple[tuple[int, int], ...]) -> str:
        parts, last = [], 0
        for start, end in spans:
            parts += [text[last:start], self.open, text[start:end], self.close]
            last = end
        parts.append(text[last:])
        return "".join(parts)


def _highlighter() -> Highlighter:
    bold = (
        sys.stdout.isatty()
        and os.environ.get("TERM", "dumb") != "dumb"
        and "NO_COLOR" not in os.environ
    )
    return Highlighter(bold)


def _warn_unsearchable(results: Results) -> None:
    if results.scans:
        note(
            f"{_count(results.scans, 'PDF')} {_is(results.scans)} scanned, without a text"
            f" layer: search cannot see {_their(results.scans)} words ({_names(results.scans)})."
        )
    if results.unread:
        note(
            f"{_count(results.unread, 'PDF')} attached before carebinder could search PDFs"
            f" {_is(results.unread)} not searched yet ({_names(results.unread)})."
            " Read them once with: carebinder record read-text"
        )


def _quoted(text: str) -> str:
    return f"“{text}”"


def _count(items: list[Unsearchable], noun: str) -> str:
    return plural(len(items), noun)


def _is(items: list[Unsearchable]) -> str:
    return "is" if len(items) == 1 else "are"


def _their(items: list[Unsearchable]) -> str:
    return "its" if len(items) == 1 else "their"


def _names(items: list[Unsearchable], shown: int = 3) -> str:
    names = [f"{item.name} in record #{item.record}" for item in items[:shown]]
    if len(items) > shown:
        names.append(f"{len(items) - shown} more")
    return ", ".join(names)
