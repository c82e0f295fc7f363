"""Full-text search of a binder, behind one interface.

A backend finds, for one patient, the things whose words match a query, best first, each
with a snippet of where it matched. `backend_for` picks the backend by the database:
SQLite's FTS5 (`fts5.py`; the index and the triggers that keep it current are created by
migration 0004) or PostgreSQL's full-text search (`postgres.py`; its index and triggers
are migration 0005). Both read words alike (accents and case ignored, English endings
stemmed, punctuation between words) and both snippets come through `snippet.py`.

Importing this package is cheap (no SQLAlchemy): migrations/env.py uses `is_index_table`.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from carebinder.errors import SearchUnavailable
from carebinder.search.query import Term, parse_query

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "INDEX_TABLE",
    "Kind",
    "Match",
    "SearchBackend",
    "SearchUnavailable",
    "Term",
    "backend_for",
    "is_index_table",
    "parse_query",
]

# The FTS5 table of migration 0004 (SQLite keeps it in shadow tables named after it:
# search_index_data, _idx, _content, _docsize, _config) or the table of migration 0005
# (PostgreSQL). The models do not declare them.
INDEX_TABLE = "search_index"


def is_index_table(name: str) -> bool:
    """Whether `name` is the search index or one of its shadow tables."""
    return name == INDEX_TABLE or name.startswith(f"{INDEX_TABLE}_")


class Kind(enum.StrEnum):
    """What a search result is."""

    RECORD = "record"
    FILE = "file"
    OPINION = "opinion"
    QUESTION = "question"
    DOCTOR = "doctor"
    MEDICATION = "medication"
    ALLERGY = "allergy"
    CONDITION = "condition"
    TREATMENT = "treatment"
    RESULT = "result"


@dataclass(frozen=True)
class Match:
    """One thing a backend found. `snippet` is plain text; `highlights` are the (start, end)
    offsets of the matched words in it. `score`: higher is better."""

    kind: Kind
    id: int
    title: str
    snippet: str
    highlights: tuple[tuple[int, int], ...]
    score: float


class SearchBackend(ABC):
    """Index maintenance and queries, for one kind of database."""

    @abstractmethod
    def find(
        self, session: Session, patient_id: int, terms: Sequence[Term], limit: int
    ) -> list[Match]:
        """The patient's things matching every term, best first, at most `limit`."""


def backend_for(dialect: str) -> SearchBackend:
    """The search backend for a database of `dialect` (SQLAlchemy's name, e.g. "sqlite")."""
    if dialect == "sqlite":
        from carebinder.search.fts5 import Fts5Search

        return Fts5Search()
    if dialect == "postgresql":
        from carebinder.search.postgres import PostgresSearch

        return PostgresSearch()
    name = {"mysql": "MySQL"}.get(dialect, dialect)
    raise SearchUnavailable(
        f"Search is not available for a binder kept in {name}; it works in a binder kept"
        " in SQLite (carebinder's default) or PostgreSQL."
    )
