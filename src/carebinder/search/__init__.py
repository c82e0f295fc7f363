"""Full-text search of a binder, behind one interface.

A backend finds, for one patient, the things whose words match a query, best first, each
with a snippet of where it matched. `backend_for` picks the backend by the database:
SQLite's FTS5 (`fts5.py`; the index and the triggers that keep it current are created by
migration 0004). PostgreSQL's own full-text search will be the other backend; until then
search is refused there with a clear message.

Importing this package is cheap (no SQLAlchemy): migrations/env.py uses `is_index_table`.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from carebinder.errors import CarebinderError
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

# The FTS5 table of migration 0004. SQLite keeps it in shadow tables named after it
# (search_index_data, _idx, _content, _docsize, _config), which the models do not declare.
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


class SearchUnavailable(CarebinderError):
    """The binder's database has no search backend yet."""


class SearchBackend(ABC):
    """Index maintenance and queries, for one kind of database."""

    @abstractmethod
    def find(
        self, session: Session, patient_id: int, terms: Sequence[Term], limit: int
    ) -> list[Match]:
        """The patient's things matching every term, best first, at most `limit`."""

    @abstractmethod
    def optimize(self, session: Session) -> None:
        """Compact the index (after many writes at once, e.g. an import): queries read
        fewer pieces of it. Never needed for correctness."""


def backend_for(dialect: str) -> SearchBackend:
    """The search backend for a database of `dialect` (SQLAlchemy's name, e.g. "sqlite")."""
    if dialect == "sqlite":
        from carebinder.search.fts5 import Fts5Search

        return Fts5Search()
    name = {"postgresql": "PostgreSQL", "mysql": "MySQL"}.get(dialect, dialect)
    raise SearchUnavailable(
        f"Search is not available yet for a binder kept in {name}; it works in a binder"
        " kept in SQLite (carebinder's default)."
    )
