"""What is SQLite's own in the search index: FTS5 and its shadow tables."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from carebinder.search import is_index_table

pytestmark = pytest.mark.sqlite_only("FTS5 is SQLite's full-text search")


def test_the_index_tables_are_known_by_name(session: Session) -> None:
    names = session.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'search%'")
    ).scalars()
    assert sorted(n for n in names if is_index_table(n)) == [
        "search_index",
        "search_index_config",
        "search_index_content",
        "search_index_data",
        "search_index_docsize",
        "search_index_idx",
    ]
    assert not is_index_table("record")
    assert not is_index_table("searches")
