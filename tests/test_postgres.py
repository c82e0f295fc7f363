"""The migrations on a real PostgreSQL server (the rest of the suite runs there too, through
the fixtures of conftest.py). Without a server each test here is skipped, saying so."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, make_url, text

from carebinder import migrate
from carebinder.db import SCHEMA_HEAD, current_revision, make_engine
from tests.conftest import NO_POSTGRES, Cli, on_postgres
from tests.test_migrations import MODEL_TABLES, drift, run_alembic

pytestmark = pytest.mark.skipif(not on_postgres(), reason=NO_POSTGRES)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_server_is_postgresql_and_the_schema_is_empty(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert engine.dialect.name == "postgresql"
            assert conn.execute(text("SELECT current_schema()")).scalar_one().startswith("cbtest_")
        assert current_revision(engine) is None
    finally:
        engine.dispose()
    assert tables(database_url) == set()


def test_head_schema_matches_the_models_on_postgresql(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        assert current_revision(engine) == SCHEMA_HEAD
        diff = drift(engine)
    finally:
        engine.dispose()
    assert diff == []
    # The search index is made by SQL in migration 0005 and is not a model.
    assert tables(database_url) == {*MODEL_TABLES, "alembic_version", "search_index"}


def test_alembic_upgrade_and_check_from_the_checkout(database_url: str) -> None:
    upgraded = run_alembic("upgrade", "head", url=database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = run_alembic("check", url=database_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def test_base_to_head_to_base_on_postgresql(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
        assert current_revision(engine) is None
        assert tables(database_url) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()


def test_a_command_before_init_says_to_run_init(cli: Cli) -> None:
    refused = cli("record", "list")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: The database has no binder in it yet. Create one with `carebinder init`.\n"
    )
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    assert cli.ok("record", "list").exit_code == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"database": "no_such_database"}, 'database "no_such_database" does not exist'),
        ({"username": "no_such_role"}, 'role "no_such_role" does not exist'),
    ],
)
def test_a_database_that_cannot_be_opened_is_not_called_empty(
    cli: Cli, database_url: str, change: dict[str, str], reason: str
) -> None:
    wrong = make_url(database_url).set(**change).render_as_string(hide_password=False)

    for command in (("record", "list"), ("init",)):
        refused = cli("--db", wrong, *command)
        assert refused.exit_code == 1
        assert refused.stderr == (
            f"Error: Could not open the binder's database ({reason}). Check --db or"
            " CAREBINDER_DATABASE_URL, and that the database server is running.\n"
        )
    assert tables(database_url) == set()


def test_a_server_that_is_not_there_is_named(cli: Cli, tmp_path: Path) -> None:
    nowhere = f"postgresql+psycopg://carebinder@/carebinder?host={tmp_path}"

    refused = cli("--db", nowhere, "doctor", "list")

    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: Could not open the binder's database (")
    assert f'"{tmp_path}/.s.PGSQL.5432" failed: No such file or directory' in refused.stderr
    assert refused.stderr.count("\n") == 1
