"""Running Alembic from the installed program.

The migrations sit at the top of the repository as `migrations/`; a wheel carries them as
`carebinder/migrations`. Both layouts are found here, so upgrades work from a checkout,
an editable install and a wheel alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

PACKAGE_DIR = Path(__file__).resolve().parent


def migrations_dir() -> Path:
    """Where the Alembic scripts are: inside the package (wheel) or beside `src/` (checkout)."""
    for candidate in (PACKAGE_DIR / "migrations", PACKAGE_DIR.parents[1] / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("carebinder's migrations are missing from this installation")


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        # The option is read through configparser's interpolation: a `%` in the URL (a
        # percent-encoded password, socket path or option) must be doubled.
        url = engine.url.render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)
