"""Accounts and private links held to OWASP ASVS 5.0 level 2, as a user meets them: changing
one's own password signs out one's other browsers; a member's sign-in ends after its idle limit
(an owner's browser keeps its 30 days); an owner replaces their private link, and a link that
is replaced, cancelled or expired closes every browser that had it open; an invite link answers
the same for every address; a link followed from another site asks before it opens anything;
names with hidden or look-alike characters are refused at the field; the access log file is the
service user's only. Through the pages, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import time
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from markupsafe import escape

from assessment import create_app
from assessment.storage import accounts, connect, get_assessment, times
from assessment.storage import clients as store
from assessment.storage.accounts import invites
from assessment.support.config import database as database_of
from assessment.support.inputs import name_problem
from assessment.web import sessions

from .workspace_fixtures import PASSWORD, csrf_token, make_member, open_client_link, sign_in

pytestmark = pytest.mark.both_backends

NEW_PASSWORD = "otter lantern quietly marble"
RESUME = re.compile(r'id="resume-link"[^>]*value="http://localhost(/assessment/resume/[^"]+)"')


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


@pytest.fixture
def audit_lines(caplog):
    caplog.set_level(logging.INFO, logger="it_health.audit")

    def events() -> list[dict]:
        return [json.loads(r.getMessage()) for r in caplog.records
                if r.name == "it_health.audit"]
    return events


def text_of(response) -> str:
    """The page's words, tags removed and spaces folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def post_form(browser, url: str, data: dict, page: str, **kwargs):
    """POST a form with the CSRF token of a page of this browser's session."""
    token = csrf_token(browser.get(page, follow_redirects=True).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **data}, **kwargs)


def signed_in(app, **member) -> tuple[dict, object]:
    made = make_member(app, **member)
    browser = app.test_client()
    assert sign_in(browser, made["email"], made["password"]).status_code == 303
    return made, browser


def open_id(browser) -> str | None:
    with browser.session_transaction() as session:
        return session.get("assessment_id")


def start_owner(app, business: str = "Brightwater Bakery", browser=None):
    """A browser (a new one, or this one) with a new assessment open and its first page saved;
    and its private link."""
    owner = browser or app.test_client()
    assert post_form(owner, "/assessment/start", {}, "/").status_code == 303
    with owner.session_transaction() as session:
        token = session["resume_token"]
    assert post_form(owner, "/assessment/section/profile", {
        "q_profile__business_name": business, "resume": token},
        "/assessment/section/profile").status_code == 303
    return owner, f"/assessment/resume/{token}"


def autosave(browser):
    """An answer saved by the section page's script (the token from a page that opens no
    assessment, so that what is open stays as it was)."""
    token = csrf_token(browser.get("/account/sign-in").get_data(as_text=True))
    return browser.post("/assessment/answer", json={
        "question": "backup.automatic", "answer": "daily", "base_version": 0,
        "client_key": "k" * 16}, headers={"X-CSRFToken": token})


# ---- 1. changing one's own password -----------------------------------------------------------

def change(browser, current: str, new: str, confirm: str | None = None):
    return post_form(browser, "/account/password", {
        "current": current, "new": new, "confirm": new if confirm is None else confirm},
        "/account/")


def test_a_member_changes_their_password_and_their_other_browsers_are_signed_out(
        app, adb, audit_lines):
    ana, here = signed_in(app)
    elsewhere = app.test_client()
    assert sign_in(elsewhere, ana["email"]).status_code == 303
    assert elsewhere.get("/account/").status_code == 200
    page = here.get("/account/").get_data(as_text=True)
    assert "Change your password" in page and 'autocomplete="current-password"' in page

    changed = change(here, PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 303 and urlsplit(changed.headers["Location"]).path == \
        "/account/"
    page = text_of(here.get("/account/"))
    assert "Your password is changed. You are still signed in here" in page
    assert "every other browser where you were signed in is now signed out" in page
    # The other browser is signed out at its next request; this one is not.
    assert elsewhere.get("/account/").status_code == 303
    assert here.get("/account/").status_code == 200
    assert adb.one("SELECT count(*) AS n FROM logins") == {"n": 1}
    # The old password no longer signs in; the new one does.
    assert sign_in(app.test_client(), ana["email"], PASSWORD).status_code == 400
    assert sign_in(app.test_client(), ana["email"], NEW_PASSWORD).status_code == 303
    assert "password_changed" in [e["event"] for e in audit_lines()]
    assert NEW_PASSWORD not in json.dumps(audit_lines())


def test_a_password_change_needs_the_current_password_and_a_good_new_one(app, adb):
    ana, here = signed_in(app, name="Zoe Olstad")
    before = adb.one("SELECT password_hash FROM users")["password_hash"]
    cases = [
        (("not my password at all", NEW_PASSWORD), "current",
         "That is not your current password"),
        ((PASSWORD, "short"), "new", "Use at least 12 characters"),
        ((PASSWORD, "ZoeOlstad1234"), "new", "guessed early"),  # their own name
        ((PASSWORD, NEW_PASSWORD, "a different confirmation"), "confirm",
         "The two new passwords are not the same"),
        ((PASSWORD, PASSWORD), "new", "Choose a new password, not the one you have now"),
        (("", NEW_PASSWORD), "current", "Type your current password"),
    ]
    for args, field, message in cases:
        refused = change(here, *args)
        assert refused.status_code == 400, args
        page = refused.get_data(as_text=True)
        assert f'href="#{field}"' in page and message in page, (args, field)
        assert f'id="{field}-error"' in page  # the message sits at its field
        assert adb.one("SELECT password_hash FROM users")["password_hash"] == before
        assert here.get("/account/").status_code == 200  # still signed in
    # Without the page's token nothing is changed either.
    assert here.post("/account/password", data={
        "current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400
    assert adb.one("SELECT password_hash FROM users")["password_hash"] == before


def test_wrong_current_passwords_count_towards_the_lockout(app, adb):
    ana, here = signed_in(app)
    for _ in range(accounts.LOCK_AFTER):
        assert change(here, "a wrong guess at it", NEW_PASSWORD).status_code == 400
    locked = change(here, PASSWORD, NEW_PASSWORD)  # even the right one, while paused
    assert locked.status_code == 400
    assert "Your account is paused after several wrong passwords" in text_of(locked)
    assert sign_in(app.test_client(), ana["email"], PASSWORD).status_code == 400
    assert sign_in(app.test_client(), ana["email"], NEW_PASSWORD).status_code == 400


# ---- 2. a member's sign-in ends after 12 hours idle; an owner's browser keeps 30 days ---------

def last_used(adb, hours_ago: float) -> None:
    adb.execute("UPDATE logins SET last_seen_at = ?",
                [times.stamp(times.now() - timedelta(hours=hours_ago))])


def test_a_member_idle_for_12_hours_is_signed_out_and_told_why(app, adb, audit_lines):
    ana, browser = signed_in(app)
    last_used(adb, 11.9)
    assert browser.get("/workspace/").status_code == 200  # still within the limit ...
    seen = times.parse(adb.one("SELECT last_seen_at FROM logins")["last_seen_at"])
    assert times.now() - seen < timedelta(minutes=1)  # ... and that request counts as use
    last_used(adb, 12.1)
    ended = browser.get("/workspace/clients/1")
    assert ended.status_code == 303
    assert ended.headers["Location"].startswith("/account/sign-in?next=/workspace/clients/1")
    page = text_of(browser.get(ended.headers["Location"]))
    assert "You were signed out because your workspace was not used for 12 hours" in page
    assert "Please sign in to see that page" not in page  # one message: the reason
    assert adb.one("SELECT count(*) AS n FROM logins") == {"n": 0}  # ended on the server
    assert browser.get("/workspace/").status_code == 303
    assert {"event": "signed_out_idle", "member": ana["user_id"]}.items() <= \
        [e for e in audit_lines() if e["event"] == "signed_out_idle"][0].items()
    # Signing in again works as ever.
    assert sign_in(browser, ana["email"]).status_code == 303
    assert browser.get("/workspace/").status_code == 200


def test_the_member_idle_limit_is_configurable_and_a_script_is_told_in_json(app, adb):
    app.config["MEMBER_IDLE_HOURS"] = 1
    ana, browser = signed_in(app)
    last_used(adb, 0.9)
    page = browser.get("/account/")
    assert page.status_code == 200
    last_used(adb, 1.1)
    reply = browser.post("/workspace/assessments/x/answer", json={"question": "q"},
                         headers={"X-CSRFToken": csrf_token(page.get_data(as_text=True))})
    assert reply.status_code == 401
    assert reply.get_json() == {
        "error": "signin", "message": "You were signed out because your workspace was not "
                                     "used for 1 hour. Sign in again to carry on."}


def test_an_idle_member_keeps_the_owners_assessment_open_in_the_same_browser(app, adb):
    ana, browser = signed_in(app)
    owner, _ = start_owner(app, browser=browser)
    last_used(adb, 13)
    hub = owner.get("/assessment/")  # an owner's page: no sign-in needed, so it still opens
    assert hub.status_code == 200 and "Your assessment" in text_of(hub)
    assert "You were signed out because your workspace was not used for 12 hours" in \
        text_of(hub)
    assert owner.get("/workspace/").status_code == 303  # but the member is signed out


def test_an_owner_keeps_their_browser_for_30_days_and_that_is_configurable(app, monkeypatch):
    owner, _ = start_owner(app)
    assert app.permanent_session_lifetime == timedelta(days=30)

    def at(later: float):
        monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: later))
        return owner.get("/assessment/")

    assert at(time.time() + 13 * 3600).status_code == 200  # no member limit for owners
    assert at(time.time() + 29 * 86400).status_code == 200
    assert at(time.time() + 31 * 86400).status_code == 404
    monkeypatch.undo()

    short = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                        "DATABASE": app.config["DATABASE"], "OWNER_IDLE_DAYS": 2})
    assert short.permanent_session_lifetime == timedelta(days=2)
    owner = short.test_client()
    assert post_form(owner, "/assessment/start", {}, "/").status_code == 303
    assert owner.get("/assessment/").status_code == 200
    later = time.time() + 3 * 86400
    monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: later))
    page = owner.get("/assessment/")
    assert page.status_code == 404 and "No assessment open" in text_of(page)


# ---- 3. owners replace their private link; a link that ends closes every browser -------------

def test_an_owner_replaces_their_private_link_and_the_old_one_stops_everywhere(
        app, adb, audit_lines):
    owner, old_link = start_owner(app)
    assessment_id = open_id(owner)
    other = app.test_client()  # another browser the old link was opened in
    assert other.get(old_link).status_code == 303 and open_id(other) == assessment_id
    hub = owner.get("/assessment/").get_data(as_text=True)
    assert RESUME.search(hub).group(1) == old_link
    assert "Replace this link with a new one" in hub

    # Without the page's token nothing changes.
    assert owner.post("/assessment/link/replace").status_code == 400
    assert owner.get(old_link).status_code == 303

    replaced = post_form(owner, "/assessment/link/replace", {}, "/assessment/")
    assert replaced.status_code == 303
    assert replaced.headers["Location"] == "/assessment/#resume-heading"
    hub = owner.get("/assessment/")
    new_link = RESUME.search(hub.get_data(as_text=True)).group(1)
    assert new_link != old_link
    assert 'data-copy="#resume-link"' in hub.get_data(as_text=True)  # with its copy button
    assert "Your private link is replaced: the old one no longer works" in text_of(hub)
    assert open_id(owner) == assessment_id  # still open here

    # The browser that had the old link: its next request says the link no longer works.
    closed = other.get("/assessment/section/backup")
    assert closed.status_code == 410
    words = text_of(closed)
    assert "This link no longer works" in words and "replaced by a new private link" in words
    assert "Brightwater Bakery" not in words and "Backups and getting" not in words
    assert open_id(other) is None
    assert other.get("/assessment/").status_code == 404  # said once; nothing open since
    # The old link opens nothing anywhere; the new one opens the same answers.
    assert app.test_client().get(old_link).status_code == 404
    fresh = app.test_client()
    assert fresh.get(new_link).status_code == 303 and open_id(fresh) == assessment_id
    assert {"event": "link_replaced", "kind": "owner", "assessment": assessment_id}.items() <= \
        [e for e in audit_lines() if e["event"] == "link_replaced"][0].items()


def test_an_autosave_after_the_link_was_replaced_is_refused_and_says_why(app):
    owner, old_link = start_owner(app)
    other = app.test_client()
    other.get(old_link)
    page = other.get("/assessment/section/backup").get_data(as_text=True)
    post_form(owner, "/assessment/link/replace", {}, "/assessment/")
    reply = other.post("/assessment/answer", json={
        "question": "backup.automatic", "answer": "daily", "base_version": 0,
        "client_key": "k" * 16}, headers={"X-CSRFToken": csrf_token(page)})
    assert reply.status_code == 410 and reply.get_json()["error"] == "link_ended"
    assert "no longer works" in reply.get_json()["message"]
    assert other.get("/assessment/").status_code == 410  # and the page says why


@pytest.fixture
def firm_link(app, adb):
    """A firm's self-assessment link opened by its client, who saved an answer."""
    ana, firm = signed_in(app)
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    made = post_form(firm, f"/workspace/clients/{client_id}/self-assessment", {},
                     f"/workspace/clients/{client_id}")
    link = re.search(r'id="share-link"[^>]*value="([^"]+)"',
                     made.get_data(as_text=True)).group(1)
    client = app.test_client()
    assert open_client_link(client, link).status_code == 303
    assert post_form(client, "/assessment/section/profile", {
        "q_profile__business_name": "Harbour Dental Care"},
        "/assessment/section/profile").status_code == 303
    [record] = store.client_assessments(adb, ana["firm_id"], client_id)
    return {"firm": firm, "client": client, "link": link, "id": record["id"], "ana": ana}


def had_it_open(browser, firm_link) -> None:
    """The browser's session as it was while the link still worked: the assessment open."""
    with browser.session_transaction() as session:
        session["assessment_id"] = firm_link["id"]
        session["resume_token"] = firm_link["link"].rsplit("/", 1)[-1]


def test_an_expired_firm_link_closes_the_browser_that_had_it_open(app, adb, firm_link):
    client = firm_link["client"]
    assert client.get("/assessment/").status_code == 200
    adb.execute("UPDATE assessments SET link_expires_at = '2020-01-31T00:00:00+00:00' "
                "WHERE id = ?", [firm_link["id"]])
    for page in ("/assessment/section/profile", "/assessment/results", "/assessment/"):
        had_it_open(client, firm_link)
        closed = client.get(page)
        assert closed.status_code == 410, page
        words = text_of(closed)
        assert "This link no longer works" in words
        assert "It stopped working on 31 Jan 2020" in words
        assert "Ask Northgate IT for a new link" in words
        assert "Harbour Dental Care" not in words
        assert open_id(client) is None
    had_it_open(client, firm_link)
    assert autosave(client).status_code == 410


def test_a_firm_link_cancelled_or_replaced_closes_the_browser_that_had_it_open(
        app, adb, firm_link):
    client, firm = firm_link["client"], firm_link["firm"]
    where = f"/workspace/assessments/{firm_link['id']}"
    assert post_form(firm, f"{where}/link/cancel", {}, where).status_code == 303
    closed = client.get("/assessment/section/profile")
    assert closed.status_code == 410 and "Northgate IT cancelled it" in text_of(closed)
    assert "Harbour Dental Care" not in text_of(closed)

    assert post_form(firm, f"{where}/link/replace", {}, where).status_code == 200
    had_it_open(client, firm_link)  # the old link's session, as if it had never been closed
    closed = client.get("/assessment/review")
    assert closed.status_code == 410
    assert "Northgate IT replaced it with a new link" in text_of(closed)
    assert "Harbour Dental Care" not in text_of(closed)


def test_a_client_cannot_replace_a_firms_link_themselves(app, adb, firm_link):
    client = firm_link["client"]
    hub = client.get("/assessment/").get_data(as_text=True)
    assert "Replace this link with a new one" not in hub
    assert "ask Northgate IT to replace it" in hub
    before = get_assessment(adb, firm_link["id"])["resume_token_hash"]
    refused = post_form(client, "/assessment/link/replace", {}, "/assessment/")
    assert refused.status_code == 303
    assert "only they can replace it" in text_of(client.get(refused.headers["Location"]))
    assert get_assessment(adb, firm_link["id"])["resume_token_hash"] == before
    assert client.get("/assessment/").status_code == 200  # still open


# ---- 4. the invite form answers the same for every address -----------------------------------

def accept(browser, path: str, email: str, name: str = "Cleo"):
    return post_form(browser, path, {"name": name, "email": email, "password": PASSWORD,
                                     "confirm": PASSWORD}, path)


def test_an_invite_answers_the_same_for_a_registered_and_a_new_address(app, adb, monkeypatch,
                                                                       audit_lines):
    ana = make_member(app)
    hashed = []
    real_hash = invites.hash_password
    monkeypatch.setattr(invites, "hash_password",
                        lambda password: hashed.append(1) or real_hash(password))
    outcomes = []
    for email in (ana["email"], "cleo@northgate.example"):
        path = f"/account/invite/{accounts.create_invite(adb, ana['firm_id'], ana['user_id'])}"
        browser = app.test_client()
        response = accept(browser, path, email)
        with browser.session_transaction() as session:
            keys = sorted(session)
        shown = re.sub(r'(value|nonce)="[^"]*"', "",
                       browser.get(response.headers["Location"]).get_data(as_text=True))
        outcomes.append((response.status_code, response.headers["Location"], keys, shown))
    assert outcomes[0] == outcomes[1]  # the same status, page, words and session
    assert outcomes[0][0] == 303 and "_user_id" not in outcomes[0][2]  # nobody signed in
    assert "If this email address had no account here, yours is ready" in outcomes[0][3]
    assert hashed == [1, 1]  # the password was hashed for both: no shortcut in the timing
    assert adb.one("SELECT count(*) AS n FROM users") == {"n": 2}
    assert adb.one("SELECT count(*) AS n FROM invites WHERE used_at IS NULL") == {"n": 0}
    # The admin (and the audit log) can still tell what happened.
    events = [e["event"] for e in audit_lines()]
    assert "invite_refused" in events and "invite_accepted" in events
    admin = app.test_client()
    sign_in(admin, ana["email"])
    assert "no account was made" in text_of(admin.get("/account/members"))


# ---- 5. a link followed from another site asks before it opens anything ----------------------

CROSS_SITE = [{"Sec-Fetch-Site": "cross-site"},
              {"Referer": "https://mail.example/inbox"}]
SAME_SITE = [{}, {"Sec-Fetch-Site": "none"}, {"Sec-Fetch-Site": "same-origin"},
             {"Sec-Fetch-Site": "same-site"}, {"Referer": "http://localhost/somewhere"}]


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_link_from_another_site_asks_before_it_opens_an_assessment(app, headers):
    _, link = start_owner(app, "Someone Else Ltd")
    visitor = app.test_client()
    asked = visitor.get(link, headers=headers)
    assert asked.status_code == 200
    words = text_of(asked)
    assert "Open this assessment?" in words and "Someone Else Ltd" in words
    assert "A page on another site sent you" in words
    assert open_id(visitor) is None  # nothing opened yet
    page = asked.get_data(as_text=True)
    # Without the page's token the button does nothing.
    assert visitor.post(link).status_code == 400 and open_id(visitor) is None
    opened = visitor.post(link, data={"csrf_token": csrf_token(page)})
    assert opened.status_code == 303 and opened.headers["Location"].startswith("/assessment/")
    assert open_id(visitor) is not None


@pytest.mark.parametrize("headers", SAME_SITE)
def test_a_typed_or_same_site_link_opens_as_before(app, headers):
    _, link = start_owner(app)
    visitor = app.test_client()
    opened = visitor.get(link, headers=headers)
    assert opened.status_code == 303 and open_id(visitor) is not None


def test_a_link_from_another_site_with_an_assessment_open_still_asks_to_switch(app):
    _, link = start_owner(app, "Someone Else Ltd")
    mine, _ = start_owner(app, "My Own Bakery")
    asked = mine.get(link, headers={"Sec-Fetch-Site": "cross-site"})
    assert asked.status_code == 303 and asked.headers["Location"] == "/assessment/switch"


# ---- 6. names: hidden and look-alike characters refused at the field -------------------------

BAD_NAMES = ["Harbour\u202e Dental", "Harbour\u200b Dental", "Harb\u043eur Dental",
             "Harbour\nDental"]


@pytest.mark.parametrize("typed", BAD_NAMES)
def test_the_client_forms_refuse_hidden_and_look_alike_characters(app, adb, typed):
    ana, browser = signed_in(app)
    message = name_problem(typed, what="the client's name")
    assert message
    refused = post_form(browser, "/workspace/clients", {"name": typed, "sector": "Dental"},
                        "/workspace/")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="name-error"' in page and str(escape(message)) in page
    assert f'value="{escape(typed)}"' in page  # what was typed is shown back
    assert 'value="Dental"' in page  # the rest of the form is kept too
    assert adb.one("SELECT count(*) AS n FROM clients") == {"n": 0}

    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    refused = post_form(browser, f"/workspace/clients/{client_id}", {"name": typed},
                        f"/workspace/clients/{client_id}")
    assert refused.status_code == 422
    assert str(escape(message)) in refused.get_data(as_text=True)
    assert store.get_client(adb, ana["firm_id"], client_id)["name"] == "Harbour Dental"


def test_a_client_name_typed_in_decomposed_form_is_kept_composed(app, adb):
    ana, browser = signed_in(app)
    made = post_form(browser, "/workspace/clients", {"name": "Cafe\u0301 Nord"}, "/workspace/")
    assert made.status_code == 303
    assert adb.one("SELECT name FROM clients")["name"] == "Caf\u00e9 Nord"


def test_the_branding_form_refuses_a_look_alike_firm_name(app, adb):
    ana, browser = signed_in(app)
    typed = "N\u043erthgate IT"  # a Cyrillic "о"
    token = csrf_token(browser.get("/workspace/branding").get_data(as_text=True))
    refused = browser.post("/workspace/branding", content_type="multipart/form-data", data={
        "csrf_token": token, "name": typed, "primary_colour": "#0d5c63",
        "accent_colour": "#b5541b", "contact_line": "01234 567890", "disclaimer": ""})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    message = name_problem(typed, what="your firm's name", limit=120)
    assert "mixes letters of different alphabets" in message
    assert 'id="name-error"' in page and str(escape(message)) in page
    assert f'value="{escape(typed)}"' in page and 'value="01234 567890"' in page
    assert accounts.get_firm(adb, ana["firm_id"])["name"] == "Northgate IT"


def test_the_invite_form_refuses_a_hidden_character_in_the_name(app, adb):
    ana = make_member(app)
    path = f"/account/invite/{accounts.create_invite(adb, ana['firm_id'], ana['user_id'])}"
    browser = app.test_client()
    typed = "Cleo\u202e Smith"
    refused = accept(browser, path, "cleo@northgate.example", name=typed)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    message = name_problem(typed, what="your name")
    assert 'id="name-error"' in page and str(escape(message)) in page
    assert 'href="#name"' in page
    assert f'value="{escape(typed)}"' in page and 'value="cleo@northgate.example"' in page
    assert adb.one("SELECT count(*) AS n FROM users") == {"n": 1}
    assert browser.get(path).status_code == 200  # the link is not used up by a mistake


# ---- 7. the access log file is the service user's only ---------------------------------------

def test_the_access_log_file_is_created_owner_only(tmp_path):
    from gunicorn.config import Config

    from assessment.web.access_log import RedactingLogger

    path = tmp_path / "logs" / "access.log"
    loggers = [logging.getLogger(name) for name in ("gunicorn.access", "gunicorn.error")]
    before = [list(log.handlers) for log in loggers]
    old = os.umask(0o022)  # a common umask: new files readable by everyone
    try:
        cfg = Config()
        cfg.set("accesslog", str(path))
        logger = RedactingLogger(cfg)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        logger.access_log.info("a line")
        assert "a line" in path.read_text()
    finally:
        os.umask(old)
        for log, handlers in zip(loggers, before, strict=True):  # gunicorn's loggers are global
            for handler in set(log.handlers) - set(handlers):
                log.removeHandler(handler)
                handler.close()
