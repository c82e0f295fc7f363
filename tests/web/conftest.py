from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebinder import config
from tests.web.livesite import chromium, server, shots
from tests.web.webutil import Browser

__all__ = ["chromium", "server", "shots"]  # fixtures for the browser tests


@pytest.fixture
def browser(settings: config.Settings) -> Iterator[Browser]:
    """The web face of an empty binder (no patient yet)."""
    b = Browser(settings)
    yield b
    b.close()


@pytest.fixture
def ana(browser: Browser) -> Browser:
    """The web face of a binder with Ana Souza, added in the browser."""
    response = browser.post("/patients/new", {"name": "Ana Souza", "born": "1964-04-12"})
    assert response.status_code == 200, response.text
    return browser
