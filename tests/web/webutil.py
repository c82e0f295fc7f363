"""A browser's view of the web face for the route tests: Starlette's TestClient with the
key's cookie, the page's CSRF token and Origin on every POST, and readers for the page."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from starlette.testclient import TestClient

from carebinder import config
from carebinder.web.app import create_app
from carebinder.web.security import COOKIE, csrf_token

KEY = "test-key-" + "k" * 34
PORT = 8123
ORIGIN = f"http://127.0.0.1:{PORT}"


class Browser:
    """The person who started the server, in their browser."""

    def __init__(self, settings: config.Settings, patient: int | None = None) -> None:
        self.app = create_app(settings, key=KEY, port=PORT, patient=patient)
        self.client = TestClient(self.app, base_url=ORIGIN)
        self.client.cookies.set(COOKIE, KEY)

    def close(self) -> None:
        self.client.close()
        self.app.state.web.jobs.close()
        self.app.state.web.engine.dispose()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        form = {"csrf": csrf_token(KEY), **(data or {})}
        headers = {"origin": ORIGIN, **kwargs.pop("headers", {})}
        return self.client.post(path, data=form, headers=headers, **kwargs)


def texts(html: str, css_class: str) -> list[str]:
    """The text of the elements of `css_class` (done, error, refused, message)."""
    found = re.findall(rf'class="{css_class}"[^>]*>(.*?)</', html, flags=re.S)
    return [unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in found]


def field_error(html: str, name: str) -> str:
    """The refusal shown beside field `name`."""
    match = re.search(rf'<p class="error" id="e-{name}">(.*?)</p>', html, flags=re.S)
    assert match, f"no error beside {name}"
    return unescape(match.group(1))


def field_value(html: str, name: str) -> str:
    """What field `name` holds (an input's value or a textarea's text)."""
    match = re.search(rf'id="f-{name}"[^>]*?value="([^"]*)"', html) or re.search(
        rf'id="f-{name}"[^>]*>([^<]*)</textarea>', html
    )
    assert match, f"no field {name}"
    return unescape(match.group(1))
