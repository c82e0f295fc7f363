"""Shared fixtures: a real binder in a temporary home, real files, and a CLI runner.

The binder is a SQLite file under tmp_path, unless CAREBINDER_TEST_DATABASE_URL names a
PostgreSQL database (`make test-postgres` starts a throwaway server and sets it): then every
test gets its own empty schema in that database, and CAREBINDER_DATABASE_URL points at it.
The tests create and drop schemas named `cbtest_*` there, so give them a database of its own.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from carebinder import config
from carebinder.cli import app
from carebinder.db import open_binder
from carebinder.models import Patient
from carebinder.services import patients
from carebinder.store import Store

TEST_DATABASE_ENV = "CAREBINDER_TEST_DATABASE_URL"
# Read once, before any test changes the environment.
TEST_DATABASE_URL = os.environ.get(TEST_DATABASE_ENV) or None
SCHEMA_PREFIX = "cbtest_"
NO_POSTGRES = (
    f"no PostgreSQL server given: the suite ran on SQLite only. Set {TEST_DATABASE_ENV}="
    "postgresql+psycopg://… or run `make test-postgres`, which starts one."
)


# Reasons shared by the markers of several modules.
FILE_BACKUP = (
    "backup and restore copy the SQLite file; a PostgreSQL binder is refused, with a message"
    " the SQLite run checks"
)
NO_BINDER_FILE = (
    "the refusal names the home whose binder.db is missing; on PostgreSQL an empty schema"
    " is refused as 'no binder in it yet' (tests/test_postgres.py)"
)


def on_postgres() -> bool:
    return TEST_DATABASE_URL is not None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): the test is about SQLite itself (its file, WAL, FTS5, file"
        " backups); skipped when the suite runs on PostgreSQL.",
    )
    config.addinivalue_line(
        "markers",
        "postgres_todo(reason): a feature not built for PostgreSQL yet (none left today); an"
        " expected failure there, strict, so the marker must go when the feature comes.",
    )


def pytest_report_header(config: pytest.Config) -> str:
    if TEST_DATABASE_URL is None:
        return f"carebinder database: SQLite ({NO_POSTGRES})"
    shown = make_url(TEST_DATABASE_URL).render_as_string(hide_password=True)
    return f"carebinder database: PostgreSQL, one schema per test in {shown}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DATABASE_URL is None:
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {marker.args[0]}"))
        marker = item.get_closest_marker("postgres_todo")
        if marker is not None:
            reason = f"not yet on PostgreSQL: {marker.args[0]}"
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture(scope="session")
def _postgres_admin() -> Iterator[Engine | None]:
    """The PostgreSQL database the tests make their schemas in (None on SQLite), cleared
    of any schemas an interrupted run left behind."""
    if TEST_DATABASE_URL is None:
        yield None
        return
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for (name,) in conn.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"),
            {"prefix": f"{SCHEMA_PREFIX}%"},
        ):
            if not _still_running(name):  # the other pytest-xdist workers' are in use
                conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
    yield admin
    admin.dispose()


_schema_numbers = itertools.count(1)


def _still_running(schema: str) -> bool:
    """Whether the test process that made `schema` (cbtest_PID_N) is alive on this machine."""
    pid = schema.removeprefix(SCHEMA_PREFIX).partition("_")[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@pytest.fixture
def database_url(_postgres_admin: Engine | None, home: Path) -> Iterator[str]:
    """The database of this test's binder: a SQLite file in its home, or a schema of its
    own in the PostgreSQL test database (found through search_path; its connections carry
    the schema's name as application_name, so any left open can be ended before the drop)."""
    if _postgres_admin is None:
        yield f"sqlite:///{home / config.DATABASE_FILE}"
        return
    with postgres_schema(_postgres_admin, str(next(_schema_numbers))) as url:
        yield url


@contextmanager
def postgres_schema(admin: Engine, name: str) -> Iterator[str]:
    """A new, empty schema in the PostgreSQL test database, as the URL of a database whose
    search_path finds it; dropped afterwards (its connections ended first)."""
    schema = f"{SCHEMA_PREFIX}{os.getpid()}_{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = admin.url.update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": schema},
            )
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    """No test reads the developer's own binder or settings."""
    for name in (*config.ENVIRONMENT, TEST_DATABASE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "home"))
    if on_postgres():
        monkeypatch.setenv(config.DATABASE_ENV, database_url)
    monkeypatch.setenv("TZ", "UTC")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path, database_url: str) -> config.Settings:
    return config.resolve(home=home, database_url=database_url, environ={})


@pytest.fixture
def engine(settings: config.Settings) -> Iterator[Engine]:
    engine = open_binder(settings, create=True)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on a migrated binder. Tests commit when they need to."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def store(settings: config.Settings) -> Store:
    return Store(settings.store_dir)


@pytest.fixture
def patient(session: Session) -> Patient:
    return patients.add_patient(session, name="Ana Souza", born=date(1964, 4, 12))


@pytest.fixture
def other_patient(session: Session) -> Patient:
    return patients.add_patient(session, name="Øyvind Nguyễn", born=date(1950, 1, 2))


def write_pdf(path: Path, pages: int = 1) -> Path:
    """A small, valid PDF with `pages` blank pages."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(612, 792))
    pdf.save(path)
    return path


@pytest.fixture
def make_pdf(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "report.pdf", pages: int = 1) -> Path:
        folder = tmp_path / "inbox"
        folder.mkdir(exist_ok=True)
        return write_pdf(folder / name, pages)

    return make


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[[str, bytes], Path]:
    def make(name: str, content: bytes) -> Path:
        folder = tmp_path / "inbox"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_bytes(content)
        return path

    return make


@dataclass
class Cli:
    """Runs `carebinder` in-process against the test's home."""

    runner: CliRunner

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli(CliRunner())


@pytest.fixture
def binder(cli: Cli) -> Cli:
    """A binder with one patient, ready for commands."""
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    return cli


def blob_files(home: Path) -> list[Path]:
    store = home / config.STORE_DIR
    if not store.exists():
        return []
    return sorted(p for p in store.rglob("*") if p.is_file())


def mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
