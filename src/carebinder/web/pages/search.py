"""Search: the words of records, of the PDFs attached to them, of opinions, questions,
doctors and the health facts (`carebinder search`), best matches first, each with its words
marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from carebinder.errors import InvalidInput
from carebinder.web.core import Page, Pages, refusal

if TYPE_CHECKING:
    from carebinder.services.search import Hit

pages = Pages()
SHOW = {  # the page that shows a result of each kind, as the command line names a command
    "record": "/records/{id}",
    "file": "/records/{record}#file-{id}",
    "opinion": "/opinions/{id}",
    "question": "/questions#q{id}",
    "doctor": "/doctors/{id}",
    # The health facts are shown together, each at its anchor on the health page; a
    # result, on its marker's page.
    "medication": "/health#medication-{id}",
    "allergy": "/health#allergy-{id}",
    "condition": "/health#condition-{id}",
    "treatment": "/health#treatment-{id}",
    "result": "/results/{id}",
}


def marked(text: str, spans: tuple[tuple[int, int], ...]) -> list[tuple[str, bool]]:
    """`text` in pieces, each marked (a matched word) or not; the template escapes them."""
    pieces, last = [], 0
    for start, end in spans:
        pieces += [(text[last:start], False), (text[start:end], True)]
        last = end
    pieces.append((text[last:], False))
    return [(piece, mark) for piece, mark in pieces if piece]


def shown(hit: Hit) -> dict[str, object]:
    """A result as the page lists it: the command line's line, with a link."""
    in_title = hit.snippet == hit.title  # the match is in the title: marked there
    # A title that says its kind ("Medication: Letrozole 2.5 mg") is not labelled again.
    says_kind = hit.title.startswith(f"{str(hit.kind).capitalize()}: ")
    return {
        "kind": "" if says_kind else str(hit.kind),
        "href": SHOW[hit.kind].format(id=hit.id, record=hit.record),
        "where": f" of record #{hit.record}" if hit.kind == "file" else "",
        "title": marked(hit.title, hit.highlights) if in_title else [(hit.title, False)],
        "snippet": [] if in_title else marked(hit.snippet, hit.highlights),
    }


@pages.get("/search")
def search(page: Page) -> Response:
    from carebinder.services import search as service

    query = page.request.query_params.get("q")
    with page.binder() as (s, patient):
        if query is None:  # the empty form, before any search
            return page.render("search/results.html", title="Search", patient=patient, query="")
        try:
            results = service.search(s, patient.id, query)
        except InvalidInput as error:
            return page.render(
                "search/results.html",
                status=400,
                title="Search",
                patient=patient,
                query=query,
                errors=refusal(error),
            )
    return page.render(
        "search/results.html",
        title=f"Search: {results.query}",
        patient=patient,
        query=query,
        results=results,
        hits=[shown(hit) for hit in results.hits],
        limit=service.DEFAULT_LIMIT,
    )
