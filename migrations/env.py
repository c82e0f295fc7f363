"""Alembic environment for carebinder.

Used two ways: by the program (which hands over its engine in `config.attributes`) and by
`alembic` from a checkout (which reads the database URL the same way the program does).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Engine

from carebinder import config as carebinder_config
from carebinder.db import make_engine
from carebinder.models import Base
from carebinder.search import is_index_table

alembic_cfg = context.config
if alembic_cfg.config_file_name is not None:
    fileConfig(alembic_cfg.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def include_name(name: str | None, type_: str, _parents: dict[str, str | None]) -> bool:
    """Leave the search index (on SQLite an FTS5 table and its shadow tables, made by SQL in
    0004; on PostgreSQL a table made by SQL in 0005) out of the comparison with the models,
    which do not declare it."""
    return not (type_ == "table" and name is not None and is_index_table(name))


def _engine() -> Engine:
    engine = alembic_cfg.attributes.get("engine")
    if engine is not None:
        return engine
    settings = carebinder_config.resolve()
    if settings.uses_default_database:
        carebinder_config.make_private_dir(settings.home)
        carebinder_config.make_private_file(settings.home / carebinder_config.DATABASE_FILE)
    return make_engine(settings.database_url)


def run_offline() -> None:
    url = alembic_cfg.get_main_option("sqlalchemy.url") or carebinder_config.resolve().database_url
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things: batch mode rebuilds tables instead.
            render_as_batch=True,
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
