"""`carebinder audit`: to be written."""

from __future__ import annotations

from carebinder.cli.app import App


def register(app: App) -> None:
    """Add the command(s) of this module to `app`."""
