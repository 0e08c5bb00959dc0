"""The session cookie is signed afresh only when it changes or is an hour old, never for static
files, and a refreshed cookie still opens the owner's assessment; a cookie verified once is not
verified again, but still expires; pages reuse a session's signed CSRF token, which Flask-WTF
still checks (assessment/web/sessions.py, assessment/web/security.py). On SQLite and on
PostgreSQL: the owner's assessment behind the cookie is in the database."""

from __future__ import annotations

import itertools
import time
from types import SimpleNamespace

import pytest
from flask import session
from itsdangerous import TimestampSigner

from assessment.web import sessions

from .workspace_fixtures import csrf_token

pytestmark = pytest.mark.both_backends


def start(client) -> None:
    landing = client.get("/").get_data(as_text=True)
    response = client.post("/assessment/start", data={"csrf_token": csrf_token(landing)})
    assert response.status_code == 303
    assert "session=" in response.headers.get("Set-Cookie", "")


def test_an_unchanged_session_is_not_signed_again_on_every_page(client):
    start(client)
    client.get("/assessment/")  # the first form after a new session stores its CSRF secret
    hub = client.get("/assessment/")
    assert hub.status_code == 200
    assert "Set-Cookie" not in hub.headers
    assert "Cookie" in hub.headers.get("Vary", "")  # the page still depends on the cookie


def test_an_hour_old_session_gets_a_fresh_cookie_that_still_opens_the_assessment(client,
                                                                                 monkeypatch):
    start(client)
    client.get("/assessment/")
    # Every cookie counts as an hour old (moving the clock would move the signing time too).
    monkeypatch.setattr(sessions, "REFRESH_AFTER", 0)
    hub = client.get("/assessment/")
    assert hub.status_code == 200
    cookie = hub.headers.get("Set-Cookie", "")
    assert cookie.startswith("session=") and "Expires=" in cookie
    again = client.get("/assessment/")  # with the refreshed cookie
    assert again.status_code == 200 and "Your assessment" in again.get_data(as_text=True)


def test_static_files_never_touch_the_session(client, monkeypatch):
    start(client)
    monkeypatch.setattr(sessions, "REFRESH_AFTER", 0)  # a page would now re-sign the cookie
    assert "Set-Cookie" in client.get("/assessment/").headers
    css = client.get("/static/app.css")
    assert css.status_code == 200
    assert "Set-Cookie" not in css.headers


def test_a_tampered_cookie_is_an_empty_session_not_an_error(client):
    start(client)
    client.set_cookie("session", "not-a-signed-value")
    page = client.get("/assessment/")
    assert page.status_code == 404  # "no assessment open in this browser", friendly
    assert "No assessment open" in page.get_data(as_text=True)


def test_a_remembered_cookie_still_expires(app, client, monkeypatch):
    start(client)
    assert client.get("/assessment/").status_code == 200  # verified, and remembered
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 60
    # The server's clock only: the test browser keeps sending the cookie.
    monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: later))
    page = client.get("/assessment/")
    assert page.status_code == 404 and "No assessment open" in page.get_data(as_text=True)


def test_changes_to_one_request_s_session_do_not_leak_into_the_next_with_the_same_cookie(app):
    """Flash messages are a list changed in place: the remembered cookie data must not be."""
    interface = app.session_interface
    with app.test_request_context("/"):
        session["_flashes"] = [("info", "first")]
        session["assessment_id"] = "a1"
        value = interface.get_signing_serializer(app).dumps(dict(session))
    cookie = {"HTTP_COOKIE": f"{app.config['SESSION_COOKIE_NAME']}={value}"}
    with app.test_request_context("/", environ_base=cookie) as ctx:
        first = interface.open_session(app, ctx.request)
        first["_flashes"].append(("info", "second"))
        first["assessment_id"] = "changed"
        again = interface.open_session(app, ctx.request)
    assert again["_flashes"] == [("info", "first")]
    assert again["assessment_id"] == "a1"


def test_a_session_keeps_one_signed_csrf_token_and_it_is_still_checked(app, client, monkeypatch):
    # A new signing time for every signature, so a token signed again would differ.
    ticks = itertools.count(int(time.time()))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(ticks))
    start(client)
    first = csrf_token(client.get("/assessment/section/backup").get_data(as_text=True))
    second = csrf_token(client.get("/assessment/section/backup").get_data(as_text=True))
    assert first == second

    other = app.test_client()
    start(other)
    theirs = csrf_token(other.get("/assessment/section/backup").get_data(as_text=True))
    assert theirs != first
    # Another browser's token is refused here: the check itself is Flask-WTF's, unchanged.
    refused = client.post("/assessment/answer", json={
        "question": "backup.automatic", "answer": "daily", "base_version": 0,
        "client_key": "k" * 16}, headers={"X-CSRFToken": theirs})
    assert refused.status_code == 400
    saved = client.post("/assessment/answer", json={
        "question": "backup.automatic", "answer": "daily", "base_version": 0,
        "client_key": "k" * 16}, headers={"X-CSRFToken": first})
    assert saved.status_code == 200
