"""`carebinder search`: the patient's records, files, opinions, questions and doctors whose
words match a query, best first, each with a snippet; and the PDFs search cannot see into."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.models import Doctor, File, Opinion, Record, TextLayer
from carebinder.search import Kind, Match, backend_for, parse_query
from carebinder.services.common import required_text
from carebinder.services.files import unsearchable_pdfs

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


def _hits(session: Session, patient_id: int, matches: Sequence[Match]) -> list[Hit]:
    """Matches as results: a file with its record, an opinion titled by its doctor and date.
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
