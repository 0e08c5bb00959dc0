"""Helpers for tests of the signed-in workspace: make a firm member, sign a test client in.

    from .workspace_fixtures import make_member, sign_in

    admin = make_member(app)                                   # Northgate IT's admin
    ben = make_member(app, email="ben@northgate.example", role="consultant")
    other = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    sign_in(client, admin["email"], admin["password"])         # works with CSRF on
"""

from __future__ import annotations

import re

from assessment.storage import accounts, connect
from assessment.support.config import database

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token"[^>]*? value="([^"]+)"')


def make_member(app, firm: str = "Northgate IT", email: str = "ana@northgate.example",
                role: str = "admin", password: str = PASSWORD, name: str | None = None) -> dict:
    """Create a member (and their firm, if no firm has that name yet) through the storage layer.
    Returns dict(firm_id, user_id, email, password)."""
    db = connect(database(app.config))
    try:
        existing = accounts.find_firm_by_name(db, firm)
        firm_id = existing["id"] if existing else accounts.create_firm(db, firm)
        user_id = accounts.create_user(db, firm_id, email,
                                       name or email.split("@")[0].title(), password, role)
    finally:
        db.close()
    return {"firm_id": firm_id, "user_id": user_id, "email": email, "password": password}


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, email: str, password: str = PASSWORD, *, follow_redirects: bool = False):
    """GET the sign-in page, take its CSRF token, POST the form; returns the POST's response
    (303 to the next step or the home page on success, 400 on a refused sign-in)."""
    # An already signed-in client is redirected away from the form; any page has a token.
    page = client.get("/account/sign-in", follow_redirects=True).get_data(as_text=True)
    return client.post("/account/sign-in",
                       data={"csrf_token": csrf_token(page), "email": email,
                             "password": password},
                       follow_redirects=follow_redirects)


def open_client_link(browser, link: str):
    """Open a firm's self-assessment link as its client does: the welcome page, then its
    button. Returns the button's response (303 to the first question to answer)."""
    welcome = browser.get(link)
    assert welcome.status_code == 200, f"no welcome page: {welcome.status_code}"
    return browser.post(link, data={"csrf_token": csrf_token(welcome.get_data(as_text=True))})


def started_id(response) -> str:
    """The id of the assessment a redirect leads to: its page, or (after "Start an interview")
    its first question, /workspace/assessments/<id>/interview/<section>#q-<question>."""
    match = re.search(r"/workspace/assessments/([^/?#]+)", response.headers["Location"])
    assert match, f"not a redirect to an assessment: {response.headers.get('Location')}"
    return match.group(1)


def every_row(app) -> list[str]:
    """Every row of every table but the sign-ins and rate limits, on either engine: compared
    before and after a request that must change nothing."""
    db = connect(database(app.config))
    try:
        return [f"{table}: {row}" for table in sorted(db.schema())
                if table not in ("rate_limits", "logins")
                for row in sorted(map(repr, db.rows(f'SELECT * FROM "{table}"')))]
    finally:
        db.close()


TWO_FIRMS = (("a", "Northgate IT", "ana@northgate.example"),
             ("b", "Elsewhere Ltd", "eve@elsewhere.example"))


def two_firms_signed_in(app) -> dict[str, dict]:
    """Firm A's member and firm B's ("a", "b"), each signed in on a test client of their own
    (member["browser"]): the owner of the objects and the one who must not reach them."""
    out = {}
    for key, firm, email in TWO_FIRMS:
        member = make_member(app, firm=firm, email=email)
        browser = app.test_client()
        assert sign_in(browser, email, member["password"]).status_code == 303
        out[key] = {**member, "browser": browser}
    return out
