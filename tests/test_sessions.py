"""The session cookie is signed afresh only when it changes or is an hour old, never for static
files, and a refreshed cookie still opens the owner's assessment (assessment/web/sessions.py)."""

from __future__ import annotations

from assessment.web import sessions

from .workspace_fixtures import csrf_token


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
