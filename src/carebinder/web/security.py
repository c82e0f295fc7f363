"""The lock on the web face's door, as one ASGI middleware around the whole application.

The binder holds medical records and the server runs on a shared computer, so nobody but
the person who started it gets anything: not another account on the machine (they can
reach 127.0.0.1 too), not a page open in another tab (cross-site requests), not a
DNS-rebinding site (a name of theirs that resolves to 127.0.0.1).

- The Host header must be 127.0.0.1:PORT or localhost:PORT (DNS rebinding).
- The key: random per start, printed once in the address. A request carrying it in
  `?key=` gets it as an HttpOnly, SameSite=Strict cookie and is redirected to the same
  address without it; any other request needs the cookie. Compared in constant time.
- A change is a POST from this server's own page (its Origin, or the browser's
  Sec-Fetch-Site, or its Referer says so); its CSRF token (`csrf_token`, checked where the
  form is read) is tied to the key.
- Every response carries a strict Content-Security-Policy and no-store caching.
- The log line of a request is its method, its route's template and the status: never a
  name, an id or a query string.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "carebinder_key"
KEY_PARAMETER = "key"
CSRF_FIELD = "csrf"
# What the browser may load: this server's own files, nothing inline that is not ours,
# never inside another site's frame. Forms post only here.
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    # Pages hold medical records: not kept in the browser's disk cache.
    (b"cache-control", b"no-store"),
]
SAFE_METHODS = frozenset({"GET", "HEAD"})
PUBLIC = ("/static/",)  # the style sheet: no patient data, so the refusal page has its look

log = logging.getLogger("carebinder.web")

REFUSED_TEXT = (
    "This page is for the person who started carebinder. Open it with the address"
    " `carebinder serve` printed (it carries the key)."
)


def new_key() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(key: str) -> str:
    """The token every form carries, tied to this server's key (unknown to other sites)."""
    return hmac.new(key.encode(), b"carebinder csrf", hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Gate:
    """Refuses every request that is not from the person who started the server."""

    def __init__(self, app: ASGIApp, *, key: str, port: int) -> None:
        self.app = app
        self.key = key
        self.hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [0]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        try:
            refusal = self.refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            where = getattr(route, "path", None) or "(no page)"
            log.info("%s %s %s", scope["method"], where, status[0])

    def refusal(self, scope: Scope) -> ASGIApp | None:
        """The response that refuses this request, or None to let it through."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if host not in self.hosts:
            return text_response(400, "This address is not carebinder's. Use the one it printed.")
        method = scope["method"]
        if method not in SAFE_METHODS and method != "POST":
            return text_response(405, "Not allowed.")
        path: str = scope["path"]
        if method in SAFE_METHODS and path.startswith(PUBLIC):
            return None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        given = query.pop(KEY_PARAMETER, None)
        if given is not None:
            if method != "GET" or not same(given, self.key):
                return text_response(403, REFUSED_TEXT)
            clean = path + (f"?{urlencode(query)}" if query else "")
            return key_accepted(clean, self.key)
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed Cookie header is no key
            cookie = SimpleCookie()
        morsel = cookie.get(COOKIE)
        if morsel is None or not same(morsel.value, self.key):
            return text_response(403, REFUSED_TEXT)
        if method == "POST" and not self.from_here(headers, host):
            return text_response(403, "Refused: this change did not come from carebinder's page.")
        return None

    @staticmethod
    def from_here(headers: dict[str, str], host: str) -> bool:
        """Whether a POST came from this server's own page. Under `no-referrer` a browser
        sends `Origin: null` even for its own form, so then the Fetch Metadata header the
        browser sets (and no page can forge) decides; a tool that sends neither is refused."""
        origin = headers.get("origin")
        if origin is not None and origin != "null":
            return origin == f"http://{host}"
        site = headers.get("sec-fetch-site")
        if site is not None:
            return site == "same-origin"
        referer = headers.get("referer")
        return origin is None and referer is not None and referer.startswith(f"http://{host}/")


def text_response(status: int, text: str) -> ASGIApp:
    from starlette.responses import HTMLResponse

    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>carebinder</title>"
        '<link rel=stylesheet href="/static/style.css">'
        f"<main class=refused><h1>carebinder</h1><p>{escape(text)}</p></main></html>"
    )
    return HTMLResponse(page, status_code=status)


def key_accepted(location: str, key: str) -> ASGIApp:
    from starlette.responses import RedirectResponse

    response = RedirectResponse(location, status_code=303)
    response.set_cookie(COOKIE, key, httponly=True, samesite="strict", path="/")
    return response


def escape(text: str) -> str:
    from markupsafe import escape as markup_escape

    return str(markup_escape(text))
