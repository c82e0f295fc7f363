"""The SQLite search index knows whose each row is: a search asks it for one patient's rows.

Revision 0004 stored each row's patient without indexing it, so a search matched the words
in every patient's rows, ranked them all, then kept one patient's: on a navigator's binder
of 500 patients a search took 70 ms where a one-patient binder took 1. Indexed, the
patient is one more term of the query (`patient_id : "7"`, with the person's words held to
the title and body columns), and the index only ever looks at that patient's rows.

The index is rebuilt from the tables, as revision 0004 built it, with the same triggers.
PostgreSQL's index (revision 0005) already filters by patient: nothing changes there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _revision_0004() -> ModuleType:
    """Revision 0004's script, whose index this rebuilds (its sources and triggers)."""
    path = Path(__file__).with_name("0004_search_index.py")
    spec = importlib.util.spec_from_file_location("carebinder_revision_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    search = _revision_0004()
    search.drop()
    search.build("patient_id")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    search = _revision_0004()
    search.drop()
    search.build(search.UNINDEXED_PATIENT)
