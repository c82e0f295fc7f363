"""The database's part of `carebinder verify`: SQLite's own checks, the schema, the rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from carebinder import config
from carebinder.db import (
    NO_BINDER_YET,
    SCHEMA_HEAD,
    SCHEMA_REVISIONS,
    binder_missing,
    make_engine,
)
from carebinder.errors import BinderMissing
from carebinder.models import Base, File, Record, TextLayer
from carebinder.store import Store
from carebinder.verify.report import Problem, printable, relative_path
from carebinder.words import plural


def open_for_check(settings: config.Settings) -> Engine:
    """An engine on the binder as it is: no migration, no new files, no chmod.

    Refuses no binder at all: a missing binder.db, or a server database with no tables
    (an empty schema), as every other command does; and a chosen store folder that is
    missing or unreadable (the home's own `files/` is checked blob by blob instead)."""
    path = settings.sqlite_path
    if path is not None and not path.is_file():
        raise binder_missing(settings)
    engine = make_engine(settings.database_url)
    try:
        if path is None and _is_empty(engine):
            raise BinderMissing(NO_BINDER_YET)
        if not settings.store_is_own:
            Store(settings.store_dir).check(write=False)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _is_empty(engine: Engine) -> bool:
    """True for a server database (schema) without a single table. One that cannot be
    reached is left to the check, which reports it as unreadable."""
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    except SQLAlchemyError:
        return False


@dataclass(frozen=True)
class FileRow:
    """A file row as the store check needs it: ids, fingerprint and size."""

    file: int
    record: int
    patient: int | None
    sha256: str
    size: int


@dataclass(frozen=True)
class DerivedRow:
    """A file's text-layer version (OCR): the file's ids and the blob's fingerprint."""

    file: int
    record: int
    patient: int | None
    sha256: str


@dataclass
class DatabaseCheck:
    """What the database check found, and the file rows the store is checked against."""

    problems: list[Problem] = field(default_factory=list)
    rows: list[FileRow] | None = None  # None: the file list could not be read
    derived: list[DerivedRow] = field(default_factory=list)
    records: int = 0
    # Checks that do not apply to this database (SQLite's own, on a server).
    skipped: tuple[str, ...] = ()


# SQLite's checks of its own file, which a database server does for itself.
SQLITE_CHECKS = ("integrity_check", "foreign_key_check")


def without_removed_rows(engine: Engine, problems: list[Problem]) -> list[Problem]:
    """Drop "missing" files whose row a concurrent command removed (with its blob) after
    the rows were read."""
    kinds = ("blob_missing", "blob_not_a_file")
    missing = {p.file for p in problems if p.kind in kinds}
    if not missing:
        return problems
    try:
        with engine.connect() as conn:
            query = select(File.id).where(File.id.in_(sorted(i for i in missing if i)))
            present = set(conn.execute(query).scalars())
    except SQLAlchemyError:
        return problems
    gone = missing - present
    return [p for p in problems if not (p.kind in kinds and p.file in gone)]


def _db_name(settings: config.Settings) -> str:
    path = settings.sqlite_path
    return path.name if path is not None else "the database"


def _reason(error: SQLAlchemyError) -> str:
    orig = getattr(error, "orig", None)
    message = str(orig if orig is not None else error).strip() or type(error).__name__
    return message.splitlines()[0][:120]


def check_database(engine: Engine, settings: config.Settings) -> DatabaseCheck:
    """SQLite's own checks (or the server's constraints), the schema, and the file rows."""
    db = DatabaseCheck()
    name = _db_name(settings)
    restore = f"Restore {name} from a backup before changing anything in the binder."
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM sqlite_master" if sqlite else "SELECT 1"))
    except SQLAlchemyError as error:
        db.problems.append(
            Problem(
                "database_unreadable",
                f"The database cannot be read ({_reason(error)}). {restore}",
                path=relative_path(settings, settings.sqlite_path),
                detail=_reason(error),
            )
        )
        return db
    if sqlite:
        db.problems.extend(_sqlite_checks(engine, settings, restore))
    else:
        # The server checks its own pages and enforces foreign keys on every write; what is
        # left to check is that those rules are all there and in force.
        db.skipped = SQLITE_CHECKS
        db.problems.extend(_server_constraints(engine, settings, restore))
    try:
        with engine.connect() as conn:
            revision = (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if inspect(conn).has_table("alembic_version")
                else None
            )
    except SQLAlchemyError as error:
        db.problems.append(_unreadable(settings, error, restore))
        return db
    if revision is None:
        db.problems.append(
            Problem(
                "schema_missing",
                "The database has no binder in it."
                f" Run `carebinder init`, or restore {name} from a backup.",
            )
        )
        return db
    if revision != SCHEMA_HEAD:
        outdated = revision in SCHEMA_REVISIONS
        shown = printable(str(revision)[:40])
        db.problems.append(
            Problem(
                "schema_outdated" if outdated else "schema_unknown",
                f"The database is at schema {shown}, older than {SCHEMA_HEAD}."
                " Run `carebinder db upgrade`."
                if outdated
                else f"The database is at schema {shown}, which this carebinder does not"
                " know (a newer carebinder wrote it). Update carebinder.",
                detail=shown,
            )
        )
        if not outdated:
            return db
    try:
        with engine.connect() as conn:
            db.records = conn.execute(select(func.count()).select_from(Record)).scalar_one()
            # An outer join: a file whose record is missing still references its blob.
            query = select(
                File.id, File.record_id, Record.patient_id, File.sha256, File.size
            ).outerjoin(Record, Record.id == File.record_id)
            db.rows = [
                FileRow(ident, record, patient, sha256 or "", size)
                for ident, record, patient, sha256, size in conn.execute(query.order_by(File.id))
            ]
    except SQLAlchemyError as error:
        db.problems.append(_unreadable(settings, error, restore))
        return db
    try:
        with engine.connect() as conn:
            layers = (
                select(File.id, File.record_id, Record.patient_id, TextLayer.sha256)
                .join(File, File.id == TextLayer.file_id)
                .outerjoin(Record, Record.id == File.record_id)
                .where(TextLayer.sha256.is_not(None))
            )
            db.derived = [
                DerivedRow(ident, record, patient, sha256 or "")
                for ident, record, patient, sha256 in conn.execute(layers.order_by(File.id))
            ]
    except SQLAlchemyError:
        pass  # a binder older than its text layers (revision 0009) has none
    return db


def _unreadable(settings: config.Settings, error: SQLAlchemyError, restore: str) -> Problem:
    return Problem(
        "database_unreadable",
        f"The list of files cannot be read from the database ({_reason(error)}). {restore}",
        path=relative_path(settings, settings.sqlite_path),
        detail=_reason(error),
    )


def _sqlite_checks(engine: Engine, settings: config.Settings, restore: str) -> list[Problem]:
    problems = []
    path = relative_path(settings, settings.sqlite_path)
    try:
        with engine.connect() as conn:
            # integrity_check, not quick_check: it also checks that indexes match tables.
            errors = [str(r) for r in conn.exec_driver_sql("PRAGMA integrity_check").scalars()]
        found = plural(len(errors), "error")
        why, detail = f"SQLite's integrity check found {found}", errors[0][:200]
        damaged = errors != ["ok"]
    except SQLAlchemyError as error:  # damage bad enough to stop the check itself
        why = detail = _reason(error)
        damaged = True
    if damaged:
        problems.append(
            Problem(
                "database_damaged",
                f"The database is damaged ({why}). {restore}",
                path=path,
                detail=detail,
            )
        )
    try:
        with engine.connect() as conn:
            violations = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    except SQLAlchemyError:
        violations = []  # only a damaged database gets here, and that is reported above
    for table, rowid, parent, _fkid in violations:
        problems.append(
            Problem(
                "foreign_key_violation",
                f"Row #{rowid} of the {table} table refers to a {parent} that does not exist."
                f" {restore}",
                path=path,
                table=str(table),
                row=rowid,
                detail=f"refers to {parent}",
            )
        )
    return problems


def _server_constraints(engine: Engine, settings: config.Settings, restore: str) -> list[Problem]:
    """On PostgreSQL: every foreign key the models declare exists and holds for every row
    (a constraint added NOT VALID, or dropped, would let rows point at nothing)."""
    expected = {
        str(fk.name): table.name
        for table in Base.metadata.tables.values()
        for fk in table.foreign_key_constraints
    }
    query = text(
        "SELECT conname, convalidated FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    )
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return []  # no binder schema: reported as schema_missing
            present: dict[str, bool] = {name: ok for name, ok in conn.execute(query)}
    except SQLAlchemyError as error:
        return [_unreadable(settings, error, restore)]
    problems: list[Problem] = []
    for name, table in sorted(expected.items()):
        if name not in present:
            what = "is missing"
        elif not present[name]:
            what = "was never checked against the rows already there (NOT VALID)"
        else:
            continue
        problems.append(
            Problem(
                "foreign_key_unenforced",
                f"The {table} table's rule {name} {what}, so its rows may refer to things"
                f" that do not exist. {restore}",
                table=table,
                detail=name,
            )
        )
    return problems
