"""The lock on the door: nobody but the person who started the server gets anything."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from starlette.responses import Response
from starlette.testclient import TestClient

from carebinder import config
from carebinder.db import open_binder, session_scope
from carebinder.models import Doctor
from carebinder.web.core import Page, Pages
from carebinder.web.security import COOKIE, csrf_token, new_key
from tests.web.webutil import KEY, ORIGIN, Browser, texts

REFUSED = "This page is for the person who started carebinder."


def stranger(browser: Browser) -> TestClient:
    """Another account on the machine, or another site's page: same server, no cookie."""
    return TestClient(browser.app, base_url=ORIGIN)


def doctors_in(settings: config.Settings) -> int:
    engine = open_binder(settings)
    try:
        with session_scope(engine, write=False) as s:
            return s.scalar(select(func.count()).select_from(Doctor)) or 0
    finally:
        engine.dispose()


def test_without_the_key_nothing_is_shown(ana: Browser) -> None:
    for path in ["/", "/patients", "/doctors", "/questions", "/patients/1/edit"]:
        response = stranger(ana).get(path)
        assert response.status_code == 403
        assert REFUSED in response.text
        assert "Ana" not in response.text


def test_a_wrong_key_or_cookie_is_refused(ana: Browser) -> None:
    client = stranger(ana)
    assert client.get("/?key=" + "x" * 43).status_code == 403
    client.cookies.set(COOKIE, "x" * 43)
    assert client.get("/").status_code == 403


def test_the_key_becomes_a_strict_http_only_cookie_and_leaves_the_address(ana: Browser) -> None:
    client = stranger(ana)
    response = client.get(f"/doctors?key={KEY}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/doctors"  # the key is not kept in the address
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}={KEY}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert client.get("/doctors").status_code == 200  # the cookie opens the door from now on


def test_other_query_parameters_survive_the_key(ana: Browser) -> None:
    response = stranger(ana).get(f"/doctors?key={KEY}&x=1", follow_redirects=False)
    assert response.headers["location"] == "/doctors?x=1"


@pytest.mark.parametrize("host", ["evil.example:8123", "127.0.0.1:9999", "localhost", "[::1]:8123"])
def test_another_host_name_is_refused(ana: Browser, host: str) -> None:
    """DNS rebinding: a site whose name points at 127.0.0.1 reaches the server with its
    own name in Host, and the cookie is not its to send, but the key in an address is."""
    response = ana.get(f"/?key={KEY}", headers={"host": host})
    assert response.status_code == 400
    assert "Ana" not in response.text


def test_localhost_is_as_good_as_127_0_0_1(ana: Browser) -> None:
    assert ana.get("/", headers={"host": "localhost:8123"}).status_code == 200


def test_a_forged_post_changes_nothing(ana: Browser, settings: config.Settings) -> None:
    form = {"name": "Dr. Forged"}
    # no token, a wrong token, another site's Origin, no Origin nor Referer
    assert ana.client.post("/doctors/new", data=form, headers={"origin": ORIGIN}).status_code == 403
    bad = {**form, "csrf": "0" * 64}
    assert ana.client.post("/doctors/new", data=bad, headers={"origin": ORIGIN}).status_code == 403
    good = {**form, "csrf": csrf_token(KEY)}
    for headers in ({"origin": "http://evil.example"}, {"origin": "null"}, {}):
        assert ana.client.post("/doctors/new", data=good, headers=headers).status_code == 403
    cross_site = {"origin": "null", "sec-fetch-site": "cross-site"}  # a sandboxed frame
    assert ana.client.post("/doctors/new", data=good, headers=cross_site).status_code == 403
    referer = {"referer": "http://evil.example/page"}
    assert ana.client.post("/doctors/new", data=good, headers=referer).status_code == 403
    assert doctors_in(settings) == 0
    # The page's own form, from the page: taken (under no-referrer, Chrome sends Origin: null
    # with Sec-Fetch-Site: same-origin; a browser without Fetch Metadata sends a Referer).
    own = {"origin": "null", "sec-fetch-site": "same-origin"}
    assert ana.client.post("/doctors/new", data=good, headers=own).status_code == 200
    assert ana.client.post("/doctors/new", data=good, headers={"referer": ORIGIN + "/doctors/new"})
    assert doctors_in(settings) == 2


def test_a_token_from_another_server_start_is_refused(
    ana: Browser, settings: config.Settings
) -> None:
    form = {"name": "Dr. Old Tab", "csrf": csrf_token(new_key())}
    response = ana.client.post("/doctors/new", data=form, headers={"origin": ORIGIN})
    assert response.status_code == 403
    assert "nothing was changed" in texts(response.text, "message")[0]
    assert doctors_in(settings) == 0


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_only_get_and_post(ana: Browser, method: str) -> None:
    assert ana.client.request(method, "/doctors").status_code == 405


def test_every_response_carries_the_strict_headers(ana: Browser) -> None:
    for response in [ana.get("/"), stranger(ana).get("/"), ana.get("/static/style.css")]:
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"


def test_pages_load_nothing_from_outside(ana: Browser) -> None:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen"})
    for path in ["/", "/patients", "/doctors", "/doctors/1", "/doctors/new", "/questions"]:
        html = ana.get(path).text
        assert "http://" not in html and "https://" not in html, path
        assert "<script>" not in html and " style=" not in html, path  # the CSP forbids them


def test_the_log_names_the_route_not_the_patient(
    ana: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="carebinder.web"):
        ana.post("/doctors/new", {"name": "Dr. Wei Chen", "notes": "secret"})
        ana.get("/doctors/1?q=Souza")
        stranger(ana).get("/doctors/1")
    assert caplog.messages == [
        "POST /doctors/new 303",
        "GET /doctors/{ident:int} 200",
        "GET /doctors/{ident:int} 200",
        "GET (no page) 403",
    ]
    assert "Wei" not in caplog.text and "Souza" not in caplog.text


def test_an_unexpected_error_shows_no_traceback_and_no_data(
    ana: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    """A page that fails says so in one line; the log says which kind of error, no more."""
    pages = Pages()

    @pages.get("/failing")
    def failing(page: Page) -> Response:
        raise RuntimeError("Ana Souza's diagnosis")

    ana.app.router.routes[:0] = pages.routes
    with caplog.at_level(logging.INFO, logger="carebinder.web"):
        response = ana.get("/failing")
    assert response.status_code == 500
    assert texts(response.text, "message") == [
        "Unexpected error (RuntimeError). Nothing was saved."
        " Please report this to the carebinder team."
    ]
    assert "diagnosis" not in response.text and "Traceback" not in response.text
    assert caplog.messages == ["unexpected RuntimeError on GET", "GET /failing 500"]
