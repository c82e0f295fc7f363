"""`carebinder search`: the patient's records, files, opinions, questions, doctors,
medications, allergies, conditions, treatments and results whose words match a query, best
first, each with a snippet; and the PDFs search cannot see into."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.models import (
    Allergy,
    Condition,
    Doctor,
    File,
    Medication,
    Opinion,
    Record,
    Result,
    TextLayer,
    Treatment,
)
from carebinder.search import Kind, Match, backend_for, parse_query
from carebinder.services.common import required_text
from carebinder.services.files import unsearchable_pdfs
from carebinder.services.medications import is_current

QUERY_LIMIT = 500  # characters
DEFAULT_LIMIT = 20
MAX_LIMIT = 1_000


@dataclass(frozen=True)
class Hit:
    """One result: `rank` 1 is the best; `record` is the record a file belongs to (or the
    record itself), None for the other kinds."""

    rank: int
    kind: Kind
    id: int
    record: int | None
    title: str
    snippet: str
    highlights: tuple[tuple[int, int], ...]
    score: float
    # A file whose words were recognised from a scan or a photo (OCR), and Tesseract's mean
    # word confidence in them (0 to 100).
    recognised: bool = False
    confidence: float | None = None


@dataclass(frozen=True)
class Unsearchable:
    """A PDF whose words search cannot see: a scan, or one attached before search."""

    file: int
    record: int
    name: str


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit]
    scans: list[Unsearchable]
    unread: list[Unsearchable]


def search(session: Session, patient_id: int, query: str, *, limit: int = DEFAULT_LIMIT) -> Results:
    """The patient's things matching `query` (words, "phrases", prefix*), best first."""
    cleaned = required_text(query, "query", limit=QUERY_LIMIT)
    terms = parse_query(cleaned)
    backend = backend_for(session.get_bind().dialect.name)
    matches = backend.find(session, patient_id, terms, max(1, min(limit, MAX_LIMIT)))
    blind = unsearchable_pdfs(session, patient_id)
    return Results(
        cleaned,
        _hits(session, patient_id, matches),
        scans=[Unsearchable(*row[:3]) for row in blind if row[3] is False],
        unread=[Unsearchable(*row[:3]) for row in blind if row[3] is None],
    )


# A health fact's title: (the words before its name, its name, the words after it), e.g.
# ("Medication: ", "Letrozole", " 2.5 mg"). Its name is the index's title for it.
Titled = tuple[str, str, str]


def _medication(m: Medication) -> Titled:
    dose = f" {m.dose}" if m.dose else ""
    stopped = f" (stopped {m.stopped.isoformat()})" if m.stopped and not is_current(m) else ""
    return "Medication: ", m.name, dose + stopped


def _allergy(a: Allergy) -> Titled:
    return "Allergy: ", a.substance, f" ({a.severity.value})" if a.severity else ""


def _condition(c: Condition) -> Titled:
    return "Condition: ", c.name, ""


def _treatment(t: Treatment) -> Titled:
    return "Treatment: ", t.name, f" ({t.kind.value.replace('-', ' ')})"


def _result(r: Result) -> Titled:
    unit = "" if not r.unit else r.unit if r.unit == "%" else f" {r.unit}"
    on = f", {r.taken_on.isoformat()}" if r.taken_on else ""
    return "Result: ", r.name, f" {r.value}{unit}{on}"


# The health facts' tables, and how a result of each is titled.
FACTS: dict[Kind, tuple[Any, Callable[[Any], Titled]]] = {
    Kind.MEDICATION: (Medication, _medication),
    Kind.ALLERGY: (Allergy, _allergy),
    Kind.CONDITION: (Condition, _condition),
    Kind.TREATMENT: (Treatment, _treatment),
    Kind.RESULT: (Result, _result),
}


def _hits(session: Session, patient_id: int, matches: Sequence[Match]) -> list[Hit]:
    """Matches as results: a file with its record, an opinion titled by its doctor and date,
    a health fact by its kind and what a reader needs of it ("Medication: Letrozole 2.5 mg").
    Rows are looked up within the patient's own, and a match whose row is gone is dropped."""

    def ids(kind: Kind) -> list[int]:
        return [m.id for m in matches if m.kind is kind]

    file_records: dict[int, tuple[int, bool, float | None]] = {
        ident: (record, layer is not None, confidence)
        for ident, record, layer, confidence in session.execute(
            select(File.id, File.record_id, TextLayer.sha256, TextLayer.confidence)
            .join(Record)
            .outerjoin(TextLayer)
            .where(File.id.in_(ids(Kind.FILE)), Record.patient_id == patient_id)
        ).all()
    }
    opinion_titles = {
        ident: f"Opinion of {doctor}" + (f", {on.isoformat()}" if on else "")
        for ident, doctor, on in session.execute(
            select(Opinion.id, Doctor.name, Opinion.date)
            .join(Doctor, Opinion.doctor_id == Doctor.id)
            .where(Opinion.id.in_(ids(Kind.OPINION)), Opinion.patient_id == patient_id)
        ).all()
    }
    facts: dict[tuple[Kind, int], Titled] = {}
    for kind, (model, title_of) in FACTS.items():
        if wanted := ids(kind):
            rows = session.scalars(
                select(model).where(model.id.in_(wanted), model.patient_id == patient_id)
            )
            facts.update({(kind, row.id): title_of(row) for row in rows})
    hits: list[Hit] = []
    for match in matches:
        record: int | None = None
        title = match.title
        recognised, confidence = False, None
        if match.kind is Kind.FILE:
            if match.id not in file_records:
                continue
            record, recognised, confidence = file_records[match.id]
        elif match.kind is Kind.OPINION:
            if match.id not in opinion_titles:
                continue
            title = opinion_titles[match.id]
        elif match.kind is Kind.RECORD:
            record = match.id
        elif match.kind in FACTS:
            if (match.kind, match.id) not in facts:
                continue
            match = _titled(match, facts[match.kind, match.id])
            title = match.title
        hits.append(
            Hit(
                len(hits) + 1,
                match.kind,
                match.id,
                record,
                title,
                match.snippet,
                match.highlights,
                match.score,
                recognised,
                confidence,
            )
        )
    return hits


def _titled(match: Match, titled: Titled) -> Match:
    """`match` with its title in full; a match in the name stays marked inside it."""
    before, name, after = titled
    title = before + name + after
    if match.snippet != match.title or match.title != name:  # matched elsewhere
        return replace(match, title=title)
    shift = len(before)
    spans = tuple((start + shift, end + shift) for start, end in match.highlights)
    return replace(match, title=title, snippet=title, highlights=spans)


def to_json(results: Results) -> dict[str, Any]:
    def pdf(item: Unsearchable) -> dict[str, Any]:
        return {"file": item.file, "record": item.record, "name": item.name}

    return {
        "query": results.query,
        "results": [
            {
                "rank": hit.rank,
                "kind": str(hit.kind),
                "id": hit.id,
                "record": hit.record,
                "title": hit.title,
                "snippet": hit.snippet,
                "highlights": [list(span) for span in hit.highlights],
                "score": round(hit.score, 6),
                "recognised": hit.recognised,
                "confidence": hit.confidence,
            }
            for hit in results.hits
        ],
        "scans": [pdf(item) for item in results.scans],
        "unread": [pdf(item) for item in results.unread],
    }
