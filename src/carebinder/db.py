"""Engine, sessions and the schema check that runs on every command.

Alembic is slow to import (about 375 ms), so ordinary commands only compare the
database's `alembic_version` with `SCHEMA_HEAD`; Alembic runs only when they differ.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from carebinder import audit, config
from carebinder import provenance as _provenance  # noqa: F401 - its listener keeps source keys true
from carebinder.errors import (
    BinderMissing,
    DatabaseUnreachable,
    InvalidInput,
    SchemaTooNew,
    StoreUnavailable,
)
from carebinder.faults import checkpoint

# The newest Alembic revision this program knows. A test checks it against migrations/.
SCHEMA_HEAD = "0009"
# Every revision in order, so "older" and "newer" can be told apart without Alembic.
SCHEMA_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009")

# How long a write waits for its turn on SQLite before "database is locked". SQLite's
# waiters poll rather than queue, so one can be passed over again and again: eight
# processes writing at once on a loaded two-core machine waited more than 10 s
# (tests/test_concurrency.py). A person would rather wait than lose the command.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# A database that holds no binder's tables (a new file, an empty server schema).
NO_BINDER_YET = "The database has no binder in it yet. Create one with `carebinder init`."

ON_ROLLBACK = "carebinder.on_rollback"
AFTER_COMMIT = "carebinder.after_commit"


def make_engine(url: str) -> Engine:
    """An engine for `url`; on SQLite: WAL, foreign keys, busy timeout, IMMEDIATE writes."""
    try:
        if not url.startswith("sqlite"):
            return _server_engine(create_engine(url, connect_args=server_connect_args(url)))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError, UnicodeError) as error:
        # The URL itself is not echoed: it may hold a password.
        raise InvalidInput(
            f"--db: not a database URL carebinder can use ({type(error).__name__})."
            " Use e.g. sqlite:///path/to/binder.db or postgresql+psycopg://user@host/db."
        ) from None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, so writers can take the lock up
        # front (IMMEDIATE) instead of failing to upgrade a read lock later.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


# A server that does not answer is reported after this many seconds, not the minutes a
# system's TCP timeout takes; the URL's own `?connect_timeout=` wins.
SERVER_CONNECT_TIMEOUT_S = 10


def server_connect_args(url: str) -> dict[str, Any]:
    if "connect_timeout" in make_url(url).query:
        return {}
    return {"connect_timeout": SERVER_CONNECT_TIMEOUT_S}


# The key of the advisory lock write transactions take on a database server ("carebind").
WRITE_LOCK_KEY = 0x63617265_62696E64


def _server_engine(engine: Engine) -> Engine:
    """On PostgreSQL, write sessions take one advisory lock for their transaction, so
    writers run one at a time as on SQLite (BEGIN IMMEDIATE): a command that reads, then
    writes, never loses another's update. Readers take no lock."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_begin") == "IMMEDIATE":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    return engine


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, or None for an empty database. A database
    that cannot be reached at all is refused: it is not an empty one."""
    try:
        conn = engine.connect()
    except OperationalError as error:
        raise DatabaseUnreachable(unreachable_message(error, engine.dialect.name)) from None
    with conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):
            return None


def unreachable_message(error: OperationalError, dialect: str) -> str:
    """One line on why the database could not be opened: the driver's own reason (a
    server's says which host, database or user failed; never the password)."""
    lines = [line.strip() for line in str(error.orig).splitlines() if line.strip()]
    reason = lines[0] if lines else "no reason given"
    for line in lines:  # libpq: 'connection to server ... failed: FATAL:  database "x" ...'
        if "FATAL:" in line:
            reason = line.split("FATAL:", 1)[1].strip()
    check = (
        "that its file can be read and written"
        if dialect == "sqlite"
        else "that the database server is running"
    )
    return (
        f"Could not open the binder's database ({reason[:300]}). Check --db or"
        f" CAREBINDER_DATABASE_URL, and {check}."
    )


def upgrade(engine: Engine) -> None:
    """Apply every pending migration."""
    from carebinder import migrate

    migrate.upgrade(engine)


def prepare_sqlite_file(settings: config.Settings) -> None:
    path = settings.sqlite_path
    if path is None:
        return
    config.make_private_dir(path.parent)
    config.make_private_file(path)
    # WAL and shared-memory files are created by SQLite with the process umask; the CLI
    # sets an owner-only umask, and any that already exist are tightened here.
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if extra.exists() and extra.stat().st_mode & 0o077:
            extra.chmod(config.PRIVATE_FILE)


def make_store(settings: config.Settings) -> None:
    """The store folder for `init`: made owner-only when missing (its parent must exist
    unless it is the home's own `files/`), then checked like every command checks it. An
    existing store folder keeps its permissions: a team's shared folder is its owners'."""
    from carebinder.store import Store, shown_path

    folder = settings.store_dir
    if settings.store is None:
        config.make_private_dir(folder)
    elif not folder.exists() and not folder.is_symlink():
        if not folder.parent.is_dir():
            raise StoreUnavailable(
                f"The folder {shown_path(folder.parent)} that should hold the file store does"
                " not exist. If it is a shared folder, check that it is reachable (mounted);"
                " or create it first."
            )
        folder.mkdir(mode=config.PRIVATE_DIR)
    Store(folder).check(write=True)


def binder_missing(settings: config.Settings) -> BinderMissing:
    """The refusal for a SQLite binder whose file is not there (what `backup` says too)."""
    if settings.uses_default_database:
        return BinderMissing(
            f"No binder at {settings.home}. Create one with `carebinder init`"
            " (or pick another with --home)."
        )
    return BinderMissing(
        f"No binder in {settings.sqlite_path}. Create one with `carebinder init`, or check --db."
    )


def open_binder(settings: config.Settings, *, create: bool = False) -> Engine:
    """The engine of an existing binder, upgraded to `SCHEMA_HEAD` if it is older.

    With `create`, a missing binder is made (home, store, database). Without it, a missing
    binder is refused with a message that says to run `carebinder init`.
    """
    sqlite_file = settings.sqlite_path
    if not create and sqlite_file is not None and not sqlite_file.exists():
        raise binder_missing(settings)
    config.make_private_dir(settings.home)
    if create:
        make_store(settings)
    elif settings.store_is_own:
        config.make_private_dir(settings.store_dir)
    prepare_sqlite_file(settings)
    engine = make_engine(settings.database_url)
    try:
        revision = current_revision(engine)
        if revision == SCHEMA_HEAD:
            return engine
        if revision is not None and revision not in SCHEMA_REVISIONS:
            raise SchemaTooNew(
                "This binder was written by a newer carebinder. Update carebinder to open it."
            )
        if revision is None and not create:
            raise BinderMissing(NO_BINDER_YET)
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


@contextmanager
def session_scope(
    engine: Engine, *, write: bool = True, command: str | None = None
) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Its changes go to the
    audit trail under `command`.

    Code that creates something outside the database (a blob in the store) registers an
    undo in `session.info[ON_ROLLBACK]`; clean-up that must wait for the commit (removing a
    blob nobody references any more) goes in `session.info[AFTER_COMMIT]`.
    """
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if write else engine
    session = Session(bind, expire_on_commit=False)
    session.info[ON_ROLLBACK] = []
    session.info[AFTER_COMMIT] = []
    audit.set_command(session, command)
    try:
        yield session
        checkpoint("db.commit")
        session.commit()
        checkpoint("db.committed")
    except BaseException:
        session.rollback()
        _run_hooks(session.info[ON_ROLLBACK])
        raise
    finally:
        session.close()
    _run_hooks(session.info[AFTER_COMMIT])


def on_rollback(session: Session, hook: Callable[[], None]) -> None:
    session.info.setdefault(ON_ROLLBACK, []).append(hook)


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    session.info.setdefault(AFTER_COMMIT, []).append(hook)


def _run_hooks(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        hook()
