"""What a new oncologist reads first: medications, allergies, other conditions, treatments
so far and marker results, and the structured cancer facts of each opinion.

- Five tables: `medication`, `allergy`, `condition`, `treatment`, `result`, each owned by
  a patient (removed with the patient). A medication's prescriber, a treatment's doctor
  and a result's source record are kept as links that empty themselves when the doctor or
  record is removed.
- `patient.no_medications_on` and `patient.no_allergies_on`: "takes no medications" and
  "no known allergies", with the day it was stated. NULL with no rows is "not recorded".
- `opinion` gains site, laterality, histology, grade, T, N and M categories with their basis
  (clinical or pathologic), AJCC edition and ECOG performance status, all optional.
- The search index covers the five new tables, and an opinion's site, histology and
  grade. On SQLite each index row's rowid was
  `id * 8 + code`, and the codes 1 to 5 left room for two more tables only: the index is
  rebuilt with `id * 16 + code` (codes 6 to 10 for the new tables). On PostgreSQL (index
  keyed by kind and id) the new tables get their triggers and rows.

Medication lists that earlier imports made (one `medication-list` record listing a
bundle's MedicationRequests, a line each) become medications where that is safe: the
record is exactly as the import left it (no files, no links, not edited since), it holds
one line per MedicationRequest it was made from, and every one of those was active. Each
line becomes a medication (its name; "prescribed DATE" as the day it started; the rest of
the line in its notes), and the import's keys move to it, so importing the bundle again
finds them. Any other medication list is kept as the record it is: a stopped medication
there carries no day it stopped, which the medication list cannot do without, and a list a
person edited may say things no line of it shows. Importing the bundle again now makes
the structured medications beside it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import importlib.util
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _revision(name: str) -> ModuleType:
    """An earlier revision's script, whose helpers this reuses."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"carebinder_revision_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NEW_TABLES = ("medication", "allergy", "condition", "treatment", "result")
# The search index's sources of revision 0004, with the new tables after them:
# (table, SQLite code, title column, body columns, patient expression).
NEW_SOURCES = (
    ("medication", 6, "name", ("dose", "how", "reason", "notes"), "{row}patient_id"),
    ("allergy", 7, "substance", ("reaction", "notes"), "{row}patient_id"),
    ("condition", 8, "name", ("notes",), "{row}patient_id"),
    ("treatment", 9, "name", ("kind", "response", "notes"), "{row}patient_id"),
    ("result", 10, "name", ("value", "unit", "notes"), "{row}patient_id"),
)
OLD_SPAN, NEW_SPAN = 8, 16
# An opinion is found by its structured facts too ("lobular", "left breast").
OPINION_BODY = ("stage", "plan", "notes", "site", "histology", "grade")

OPINION_COLUMNS = (
    "site",
    "laterality",
    "histology",
    "grade",
    "t_category",
    "n_category",
    "m_category",
    "staging",
    "ajcc_edition",
    "ecog",
)


def _check(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _one_of(table: str, column: str, *values: str) -> sa.Column:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.Column(
        column,
        sa.String(max(len(v) for v in values)),
        _check(table, column, f"{column} IN ({listed})"),
    )


def upgrade() -> None:
    initial = _revision("0001_initial_schema.py")
    with op.batch_alter_table("patient", recreate="never") as batch:
        batch.add_column(sa.Column("no_medications_on", sa.Date()))
        batch.add_column(sa.Column("no_allergies_on", sa.Date()))
    # Plain ALTER TABLE (never a copy of the table, which would lose the search triggers).
    with op.batch_alter_table("opinion", recreate="never") as batch:
        batch.add_column(sa.Column("site", sa.String(200)))
        batch.add_column(_one_of("opinion", "laterality", "left", "right", "bilateral"))
        batch.add_column(sa.Column("histology", sa.String(200)))
        batch.add_column(sa.Column("grade", sa.String(200)))
        for column in ("t_category", "n_category", "m_category"):
            batch.add_column(sa.Column(column, sa.String(20)))
        batch.add_column(_one_of("opinion", "staging", "clinical", "pathologic"))
        batch.add_column(
            sa.Column(
                "ajcc_edition",
                sa.Integer(),
                _check("opinion", "ajcc_edition", "ajcc_edition BETWEEN 1 AND 99"),
            )
        )
        batch.add_column(
            sa.Column("ecog", sa.Integer(), _check("opinion", "ecog", "ecog BETWEEN 0 AND 4"))
        )

    def table(name: str, *columns: Any) -> None:
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), nullable=False),
            initial._patient_id(name),
            *columns,
            *initial._timestamps(),
            sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        )
        initial._index(name, "patient_id")

    choice = initial._choice
    table(
        "medication",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("dose", sa.String(200)),
        sa.Column("how", sa.String(200)),
        sa.Column(
            "kind",
            choice("kind", "prescription", "over-the-counter", "supplement"),
            nullable=False,
        ),
        sa.Column("started", sa.Date()),
        sa.Column("stopped", sa.Date()),
        sa.Column("reason", sa.String(200)),
        initial._doctor_fk("medication", "prescriber_id", "SET NULL", nullable=True),
        sa.Column("notes", sa.Text()),
    )
    initial._index("medication", "prescriber_id")
    table(
        "allergy",
        sa.Column("substance", sa.String(200), nullable=False),
        sa.Column("reaction", sa.String(200)),
        sa.Column("severity", choice("severity", "mild", "moderate", "severe")),
        sa.Column("kind", choice("kind", "medication", "food", "environment", "other")),
        sa.Column("notes", sa.Text()),
    )
    table(
        "condition",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("since", sa.Date()),
        sa.Column("notes", sa.Text()),
    )
    table(
        "treatment",
        sa.Column(
            "kind",
            choice(
                "kind",
                "surgery",
                "chemotherapy",
                "radiation",
                "hormone-therapy",
                "targeted-therapy",
                "immunotherapy",
                "transplant",
                "other",
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("started", sa.Date()),
        sa.Column("ended", sa.Date()),
        initial._doctor_fk("treatment", "doctor_id", "SET NULL", nullable=True),
        sa.Column("response", sa.String(200)),
        sa.Column("notes", sa.Text()),
    )
    initial._index("treatment", "doctor_id")
    table(
        "result",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(200)),
        sa.Column("taken_on", sa.Date()),
        sa.Column(
            "interpretation",
            choice("interpretation", "positive", "negative", "high", "low", "normal", "abnormal"),
        ),
        sa.Column(
            "record_id",
            sa.Integer(),
            sa.ForeignKey("record.id", name="fk_result_record_id_record", ondelete="SET NULL"),
        ),
        sa.Column("notes", sa.Text()),
    )
    initial._index("result", "record_id")

    _search_upgrade()
    _convert_medication_lists()


def _search_upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        search = _revision("0004_search_index.py")
        search.drop()
        sources = [_opinion_reads(s, OPINION_BODY) for s in search.SOURCES]
        search.build("patient_id", (*sources, *NEW_SOURCES), NEW_SPAN)
    elif dialect == "postgresql":
        search = _revision("0005_search_index_postgresql.py")
        _postgres_opinion(search, OPINION_BODY)
        for table, _, title, body, patient in NEW_SOURCES:
            _postgres_source(search, (table, title, body, patient, "patient_id"))


def _opinion_reads(source: tuple[Any, ...], body: tuple[str, ...]) -> tuple[Any, ...]:
    """An index source of revision 0004, the opinion's reading `body`."""
    table, code, title, _, patient = source
    return (table, code, title, body, patient) if table == "opinion" else source


def _postgres_source(
    search: ModuleType, source: tuple[str, str, tuple[str, ...], str, str]
) -> None:
    """A table's trigger on PostgreSQL, and its rows in the index."""
    table = source[0]
    for statement in search._trigger(source):
        op.execute(statement)
    fill = f"INSERT INTO {search.INDEX} (kind, item_id, patient_id, title, body) SELECT"
    op.execute(f"{fill} {search._row(source, f'{table}.')} FROM {table}")


def _postgres_opinion(search: ModuleType, body: tuple[str, ...]) -> None:
    """The opinion's trigger and rows on PostgreSQL, made again reading `body`."""
    op.execute(f"DROP TRIGGER IF EXISTS {search.INDEX}_opinion ON opinion")
    op.execute(f"DROP FUNCTION IF EXISTS {search.INDEX}_opinion()")
    op.execute(f"DELETE FROM {search.INDEX} WHERE kind = 'opinion'")  # noqa: S608
    _postgres_source(search, ("opinion", "diagnosis", body, "{row}patient_id", "patient_id"))


def _search_downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        search = _revision("0004_search_index.py")
        search.drop((*search.SOURCES, *NEW_SOURCES))
        search.build("patient_id")
    elif dialect == "postgresql":
        search = _revision("0005_search_index_postgresql.py")
        _postgres_opinion(search, ("stage", "plan", "notes"))
        for table, *_ in NEW_SOURCES:
            op.execute(f"DROP TRIGGER IF EXISTS {search.INDEX}_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {search.INDEX}_{table}()")
            op.execute(f"DELETE FROM {search.INDEX} WHERE kind = '{table}'")  # noqa: S608


# --- medication lists made by earlier imports ------------------------------------------------

IMPORTED_TITLE = "Medications (imported from "
KEY_PREFIX = "MedicationRequest/"
# A line as revision 0007's importer wrote it: "- NAME" or "- NAME (STATUS, FACTS…)".
LINE = re.compile(r"- (?P<name>.+?)(?: \((?P<facts>[^()]*)\))?")
CURRENT = frozenset({"active", "on-hold", "draft", "unknown"})
PRESCRIBED = re.compile(r"prescribed (\d{4}-\d{2}-\d{2})")
# A record not edited since the import wrote it: both stamps were set in the same insert.
UNTOUCHED = timedelta(seconds=2)

record = sa.table(
    "record",
    sa.column("id", sa.Integer),
    sa.column("patient_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("title", sa.String),
    sa.column("notes", sa.Text),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
source_key = sa.table(
    "source_key",
    sa.column("id", sa.Integer),
    sa.column("patient_id", sa.Integer),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("key", sa.String),
)
medication = sa.table(
    "medication",
    sa.column("id", sa.Integer),
    sa.column("patient_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("started", sa.Date),
    sa.column("notes", sa.Text),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)


def _convert_medication_lists() -> None:
    conn = op.get_bind()
    lists = conn.execute(
        sa.select(record).where(
            record.c.kind == "medication-list", record.c.title.startswith(IMPORTED_TITLE)
        )
    ).all()
    for row in lists:
        plan = _conversion(conn, row)
        if plan is None:
            continue
        for (name, started, notes), keys in plan:
            new_id = conn.execute(
                sa.insert(medication)
                .values(
                    patient_id=row.patient_id,
                    name=name,
                    kind="prescription",
                    started=started,
                    notes=notes,
                    created_at=row.created_at,
                    updated_at=row.created_at,
                )
                .returning(medication.c.id)
            ).scalar_one()
            conn.execute(
                sa.update(source_key)
                .where(source_key.c.id.in_(keys))
                .values(entity="medication", entity_id=new_id)
            )
        conn.execute(sa.delete(record).where(record.c.id == row.id))


Line = tuple[str, date | None, str | None]


def _conversion(conn: sa.Connection, row: Any) -> list[tuple[Line, list[int]]] | None:
    """The medications `row` (an imported medication list) becomes, each with the ids of
    its MedicationRequest's source keys; None when the list is to be kept as it is."""
    if _linked(conn, row.id) or not _untouched(row.created_at, row.updated_at):
        return None
    keys = conn.execute(
        sa.select(source_key.c.id, source_key.c.key)
        .where(
            source_key.c.entity == "record",
            source_key.c.entity_id == row.id,
            source_key.c.patient_id == row.patient_id,
        )
        .order_by(source_key.c.id)
    ).all()
    # The import kept each resource's keys together, its Type/id first.
    resources: list[list[int]] = []
    for ident, key in keys:
        if key.startswith(KEY_PREFIX):
            resources.append([ident])
        elif resources and key.startswith("MedicationRequest identifier "):
            resources[-1].append(ident)
        else:
            return None
    lines = (row.notes or "").split("\n")
    if not resources or len(lines) != len(resources):
        return None
    parsed = [_line(line) for line in lines]
    if any(p is None for p in parsed):
        return None
    return [(p, ids) for p, ids in zip(parsed, resources, strict=True) if p is not None]


def _line(text: str) -> Line | None:
    found = LINE.fullmatch(text)
    if found is None:
        return None
    name, facts = found["name"].strip(), found["facts"]
    status = facts.split(", ")[0] if facts else "unknown"
    if status not in CURRENT or not name or len(name) > 200:
        return None
    prescribed = PRESCRIBED.search(facts or "")
    started = date.fromisoformat(prescribed[1]) if prescribed else None
    return name, started, f"Imported from FHIR: {facts}." if facts else None


def _linked(conn: sa.Connection, record_id: int) -> bool:
    """Whether anything hangs on the record: a file, an opinion or an appointment."""
    for table in ("file", "opinion_record", "appointment_record"):
        found = conn.execute(
            sa.text(f"SELECT 1 FROM {table} WHERE record_id = :id LIMIT 1"),  # noqa: S608
            {"id": record_id},
        ).first()
        if found is not None:
            return True
    return False


def _untouched(created: Any, updated: Any) -> bool:
    if isinstance(created, str):  # SQLite hands back text for a plain DateTime column
        created, updated = datetime.fromisoformat(created), datetime.fromisoformat(updated)
    if created is None or updated is None:
        return False
    return abs(updated - created) <= UNTOUCHED


def downgrade() -> None:
    # The facts recorded since are lost with their tables, as any downgrade loses what the
    # newer schema holds; converted medication lists are not made again.
    _search_downgrade()
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
    with op.batch_alter_table("opinion", recreate="never") as batch:
        for column in reversed(OPINION_COLUMNS):
            batch.drop_column(column)
    with op.batch_alter_table("patient", recreate="never") as batch:
        batch.drop_column("no_allergies_on")
        batch.drop_column("no_medications_on")
