"""The search index: an SQLite FTS5 table kept up to date by triggers.

`search_index` holds one row per searchable thing: a record (title; notes), a file (name;
the text of its PDF), an opinion (diagnosis; stage, plan and notes), a question (text;
answer) and a doctor (name; specialty, institution and notes). Its rowid encodes the table
and the id (`id * 8 + code`, codes below), so the triggers delete by rowid, never by a
scan. `patient_id` is stored (not indexed) so a search only ever shows one patient's rows.

Triggers on insert, update and delete of the five tables keep the index right whoever
writes: the program, an import, a restored backup, or a cascade (removing a patient removes
their rows, and so their entries). Existing rows are indexed by the upgrade itself.

Tokenizer: unicode61 with remove_diacritics 2 ("Adan" finds "Adán") under the Porter
stemmer ("tumor" finds "tumors"). The rank is bm25 with titles weighing ten times the body.

Only SQLite has FTS5: on PostgreSQL this revision does nothing (search there comes with
its own full-text search, later).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "search_index"

# (table, code, title column, body columns, patient expression). `{row}` is `new.` in a
# trigger and the table's name when the upgrade fills the index; a file's patient is its
# record's.
RECORD_PATIENT = "(SELECT patient_id FROM record WHERE record.id = {row}record_id)"
SOURCES = (
    ("record", 1, "title", ("notes",), "{row}patient_id"),
    ("file", 2, "original_name", ("text",), RECORD_PATIENT),
    ("opinion", 3, "diagnosis", ("stage", "plan", "notes"), "{row}patient_id"),
    ("question", 4, "text", ("answer",), "{row}patient_id"),
    ("doctor", 5, "name", ("specialty", "institution", "notes"), "{row}patient_id"),
)


Source = tuple[str, int, str, tuple[str, ...], str]


def _insert(source: Source, row: str, span: int = 8) -> str:
    table, code, title, body, patient = source
    # "IIA — Lumpectomy, then radiation — notes": the fields that are set, in one line
    # (a NULL field makes its `field || ' — '` NULL, so it leaves no separator behind).
    *first, last = (f"{row}{column}" for column in body)
    text = " || ".join([*(f"coalesce({c} || ' — ', '')" for c in first), f"coalesce({last}, '')"])
    if first:
        text = f"rtrim({text}, ' —')"
    origin = "" if row == "new." else f" FROM {table}"
    return (
        f"INSERT INTO {INDEX} (rowid, title, body, patient_id)"
        f" SELECT {row}id * {span} + {code}, {row}{title}, {text},"
        f" {patient.format(row=row)}{origin}"
    )


def _delete(code: int, span: int = 8) -> str:
    return f"DELETE FROM {INDEX} WHERE rowid = old.id * {span} + {code}"  # noqa: S608 - constants


# How the index holds each row's patient. Revision 0007 indexes it, so a search asks the
# index for one patient's rows instead of filtering every patient's matches.
UNINDEXED_PATIENT = "patient_id UNINDEXED"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    build(UNINDEXED_PATIENT)


def build(patient_column: str, sources: Sequence[Source] = SOURCES, span: int = 8) -> None:
    """The index, its rank, its rows and its triggers (also used by revisions 0007 and
    0008, which index more tables: each row's rowid is `id * span + code`)."""
    op.execute(
        f"CREATE VIRTUAL TABLE {INDEX} USING fts5("
        f"title, body, {patient_column},"
        " tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    # `ORDER BY rank` uses these weights: title, body, and patient_id (a number, not searched).
    op.execute(
        f"INSERT INTO {INDEX} ({INDEX}, rank) VALUES ('rank', 'bm25(10.0, 1.0, 0.0)')"  # noqa: S608
    )
    for source in sources:
        table, code, title, body, _ = source
        # An update fires only when a column the index reads changes (not updated_at alone).
        watched = ", ".join((title, *body, "record_id" if table == "file" else "patient_id"))
        op.execute(_insert(source, f"{table}.", span))
        op.execute(
            f"CREATE TRIGGER {INDEX}_{table}_insert AFTER INSERT ON {table} BEGIN"
            f" {_insert(source, 'new.', span)}; END"
        )
        op.execute(
            f"CREATE TRIGGER {INDEX}_{table}_update AFTER UPDATE OF {watched} ON {table} BEGIN"
            f" {_delete(code, span)}; {_insert(source, 'new.', span)}; END"
        )
        op.execute(
            f"CREATE TRIGGER {INDEX}_{table}_delete AFTER DELETE ON {table} BEGIN"
            f" {_delete(code, span)}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    drop()


def drop(sources: Sequence[Source] = SOURCES) -> None:
    """The index and its triggers, gone (also used by revisions 0007 and 0008)."""
    for table, *_ in sources:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {INDEX}_{table}_{event}")
    op.execute(f"DROP TABLE IF EXISTS {INDEX}")
