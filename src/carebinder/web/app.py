"""The Starlette application: the pages of every noun behind the lock of security.py."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from carebinder import config
from carebinder.web.core import Web
from carebinder.web.security import Gate

HERE = Path(__file__).parent
# The pages of each noun, one module of carebinder.web.pages each, as cli/ has one per command.
PAGES = (
    "home",
    "patients",
    "doctors",
    "records",
    "record_files",
    "record_reading",
    "scan_languages",
    "opinions",
    "health",
    "medications",
    "allergies",
    "conditions",
    "treatments",
    "results",
    "appointments",
    "checklist",
    "questions",
    "materials",
    "search",
    "packet",
    "transfer",
    "checks",
)


def templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


def create_app(
    settings: config.Settings, *, key: str, port: int, patient: int | None = None
) -> Starlette:
    """The web face of the binder `settings` names, for the holder of `key` on `port`."""
    from carebinder.db import open_binder

    engine = open_binder(settings, create=True)
    routes: list[Any] = []
    for name in PAGES:
        routes += importlib.import_module(f"carebinder.web.pages.{name}").pages.routes
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    app = Starlette(routes=routes)
    app.state.web = Web(settings, engine, key, templates(), patient=patient)
    app.add_middleware(Gate, key=key, port=port)
    return app


__all__ = ["Route", "create_app"]
