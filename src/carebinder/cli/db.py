"""`carebinder db …`: the binder's schema version."""

from __future__ import annotations

import typer

from carebinder.cli.common import App, emit_json, note, open_engine, out, state
from carebinder.cli.options import Json

app = App(help="The binder's database schema (upgrades also run on first use).")


@app.command("status")
def status(ctx: typer.Context, as_json: Json = False) -> None:
    """Show where the binder is (home, database, file store), its schema revision and the
    newest this program knows.

    Example: carebinder --store /mnt/team/carebinder-files db status
    """
    from sqlalchemy import make_url

    from carebinder.db import SCHEMA_HEAD, current_revision, make_engine
    from carebinder.errors import StoreUnavailable
    from carebinder.store import Store

    settings = state(ctx).settings
    sqlite_file = settings.sqlite_path
    current = None
    if sqlite_file is None or sqlite_file.exists():
        engine = make_engine(settings.database_url)
        try:
            current = current_revision(engine)
        finally:
            engine.dispose()
    up_to_date = current == SCHEMA_HEAD
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    store_problem = None
    try:
        Store(settings.store_dir).check(write=True)
    except StoreUnavailable as problem:
        store_problem = problem.message
    if as_json:
        emit_json(
            {
                "current": current,
                "head": SCHEMA_HEAD,
                "up_to_date": up_to_date,
                "home": str(settings.home),
                "database": database,
                "store": str(settings.store_dir),
                "store_problem": store_problem,
            }
        )
        return
    out(f"Binder:  {settings.home}")
    out(f"Database: {database}")
    out(f"Store:   {settings.store_dir}" + (" (not usable, see below)" if store_problem else ""))
    out(f"Current: {current or 'none (no binder yet)'}")
    out(f"Head:    {SCHEMA_HEAD}")
    if up_to_date:
        out("Up to date.")
    elif current is None:
        out("No binder yet: create one with `carebinder init`.")
    else:
        out("An upgrade is pending: run `carebinder db upgrade`.")
    if store_problem and current is not None:
        note(store_problem)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply pending schema upgrades (commands also do this on first use).

    Example: carebinder db upgrade
    """
    from carebinder.db import SCHEMA_HEAD

    open_engine(ctx).dispose()
    note(f"The binder is at schema {SCHEMA_HEAD}, the newest.")
