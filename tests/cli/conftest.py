"""CLI tests only: build the Click command tree once instead of on every invocation.

`typer.testing.CliRunner.invoke` turns the Typer app into a Click command on each call, which
is about 80% of an in-process run here. The tree is the same every time, so it is cached;
each invocation still gets its own Click context, streams and exit code.
"""

from __future__ import annotations

import functools

import pytest
import typer.main
import typer.testing

_cached_command = functools.lru_cache(maxsize=None)(typer.main.get_command)


@pytest.fixture(autouse=True)
def _build_command_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.testing, "_get_command", _cached_command)
