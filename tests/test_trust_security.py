"""Findings of a security review, one section each: who may join or rename a firm, what the audit
log may hold, file permissions, out-of-range ids and unsafe return paths, invite links that could
tell whether an address is registered, and the development server's request log and headers."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import stat
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from assessment import create_app
from assessment.storage import accounts, connect
from assessment.support import config
from assessment.support.config import database as database_of

from .workspace_fixtures import PASSWORD, csrf_token, make_member, sign_in

pytestmark = pytest.mark.both_backends


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


def admin_args(firm: str, email: str, name: str = "New Admin") -> list[str]:
    return ["users", "create", "--admin", "--firm", firm, "--email", email, "--name", name,
            "--password-stdin"]


def save_branding(browser, name: str):
    token = csrf_token(browser.get("/workspace/branding").get_data(as_text=True))
    return browser.post("/workspace/branding", content_type="multipart/form-data", data={
        "csrf_token": token, "name": name, "primary_colour": "#0d5c63",
        "accent_colour": "#b5541b", "contact_line": "", "disclaimer": ""})


# ---- 5. a new admin never lands in another firm by its name ---------------------------------

def test_cli_refuses_an_admin_for_a_firm_name_that_exists_and_says_how_to_proceed(runner, app,
                                                                                  adb):
    make_member(app)  # Northgate IT
    result = runner.invoke(args=admin_args(" northgate  it ", "mallory@evil.example"),
                           input=PASSWORD + "\n")
    assert result.exit_code == 1
    assert "--firm: a firm called 'Northgate IT' already exists" in result.output
    assert "--join-existing-firm" in result.output and "choose another name" in result.output
    assert "Traceback" not in result.output
    assert adb.one("SELECT count(*) AS n FROM users") == {"n": 1}
    assert adb.one("SELECT count(*) AS n FROM firms") == {"n": 1}


def test_cli_joins_an_existing_firm_only_when_told_to(runner, app, adb):
    ana = make_member(app)
    result = runner.invoke(args=admin_args("NORTHGATE IT", "bo@northgate.example") +
                           ["--join-existing-firm"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "existing firm" in result.output
    bo = accounts.find_user_by_email(adb, "bo@northgate.example")
    assert bo.firm_id == ana["firm_id"] and bo.is_admin
    # The flag never creates a firm: a misspelt name is an error, not a new firm.
    result = runner.invoke(args=admin_args("Northgate ITT", "cy@northgate.example") +
                           ["--join-existing-firm"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "--firm: there is no firm called" in result.output
    assert adb.one("SELECT count(*) AS n FROM firms") == {"n": 1}


def test_storage_refuses_a_second_firm_of_the_same_name(app, adb):
    make_member(app)
    for name in ("Northgate IT", "NORTHGATE  it", " northgate it"):
        with pytest.raises(accounts.AccountError) as error:
            accounts.create_firm(adb, name)
        assert error.value.field == "firm"
    assert accounts.create_firm(adb, "Northgate IT Services")  # a different name is fine


def test_an_admin_cannot_rename_their_firm_to_another_firms_name(app, adb):
    make_member(app)  # Northgate IT
    eve = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    browser = app.test_client()
    assert sign_in(browser, eve["email"]).status_code == 303
    for name in ("Northgate IT", "northgate   IT"):
        response = save_branding(browser, name)
        assert response.status_code == 422, name
        page = response.get_data(as_text=True)
        assert accounts.FIRM_NAME_TAKEN in page and 'href="#name"' in page
        assert accounts.get_firm(adb, eve["firm_id"])["name"] == "Elsewhere Ltd"
    # Its own name, in other letters, and a new name are both fine.
    assert save_branding(browser, "ELSEWHERE LTD").status_code == 303
    assert save_branding(browser, "Elsewhere Consulting").status_code == 303
    assert accounts.get_firm(adb, eve["firm_id"])["name"] == "Elsewhere Consulting"


# ---- 6. a password typed into the email box never reaches the audit log ---------------------

def audit_events(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "it_health.audit"]


def test_a_password_typed_as_the_email_is_not_logged(app, client, caplog):
    caplog.set_level(logging.INFO, logger="it_health.audit")
    make_member(app)
    app.config["SIGNIN_RATE_LIMIT"] = 100
    typed_in_wrong_box = "my very secret passphrase 42"
    for email in (typed_in_wrong_box, "Hunter2Hunter2!", "ana@", "ana@northgate"):
        assert sign_in(client, email, PASSWORD).status_code == 400
    events = audit_events(caplog)
    assert [e["event"] for e in events] == ["sign_in_failed"] * 4
    assert all(e["email_invalid"] is True and "email" not in e for e in events)
    for value in (typed_in_wrong_box, "Hunter2Hunter2!", "ana@"):
        assert value not in caplog.text


def test_a_well_formed_email_is_still_logged_on_a_failed_or_locked_sign_in(app, client, caplog):
    caplog.set_level(logging.INFO, logger="it_health.audit")
    ana = make_member(app)
    for _ in range(accounts.LOCK_AFTER + 1):
        sign_in(client, ana["email"], "not the password at all")
    events = audit_events(caplog)
    assert {e["event"] for e in events} == {"sign_in_failed", "account_locked"}
    assert all(e["email"] == ana["email"] and "email_invalid" not in e for e in events)


# ---- 7. the instance folder, database, -wal, -shm and backups are owner-only ----------------
# The database's files are SQLite's (a PostgreSQL server's files are the server's business): the
# tests of them take no `backend`, so they run once, on SQLite. Backups are files on either
# engine, and that test runs on both.

def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():
    """The umask most systems start with, under which SQLite's own files are world-readable."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_a_new_database_with_its_wal_and_shm_is_owner_only(tmp_path, usual_umask):
    folder = tmp_path / "new-instance"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": str(folder / "h.sqlite")})
    db = connect(app.config["DATABASE"])
    try:
        db.execute("CREATE TABLE probe (x)")  # a write: the -wal and -shm exist while it is open
        for name in ("h.sqlite", "h.sqlite-wal", "h.sqlite-shm", "h.sqlite-writer.lock"):
            assert mode(folder / name) == 0o600, name
    finally:
        db.close()
    assert mode(folder) == 0o700


def test_a_new_instance_folder_and_secret_key_are_owner_only(tmp_path, usual_umask):
    instance = tmp_path / "instance"
    assert config.instance_secret(str(instance))
    assert mode(instance) == 0o700 and mode(instance / config.SECRET_FILE) == 0o600


def test_the_audit_log_file_is_owner_only_and_gets_the_lines(tmp_path, usual_umask):
    from assessment.support.audit import audit, logger

    log = tmp_path / "audit.log"
    saved = (list(logger.handlers), logger.level, logger.propagate)
    logger.handlers.clear()  # the app sets its handler up only once per process
    try:
        app = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "a.sqlite"),
                          "AUDIT_LOG": str(log)})
        assert mode(log) == 0o600
        with app.app_context():
            audit("probe", n=1)
        for handler in logger.handlers:
            handler.flush()
        assert '"event": "probe"' in log.read_text()
    finally:
        for handler in logger.handlers:
            handler.close()
        logger.handlers[:], level, logger.propagate = saved
        logger.setLevel(level)


def test_backups_are_owner_only(runner, tmp_path, usual_umask, backend):
    target = tmp_path / "backups" / "b.sqlite"
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
    made = target.read_bytes()
    # Still refuses to overwrite, and leaves the file there alone.
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert target.read_bytes() == made and mode(target) == 0o600
    if backend == "sqlite":
        assert sqlite3.connect(target).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_db_init_makes_an_existing_install_owner_only(tmp_path, usual_umask):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    database = instance / "it-health.sqlite"
    # An install made before the rule: SQLite's files readable by every local user, and a
    # connection open so that the -wal and -shm are there too.
    older = sqlite3.connect(database, isolation_level=None)
    older.execute("PRAGMA journal_mode = WAL")
    older.execute("CREATE TABLE probe (x)")
    files = [database, instance / "it-health.sqlite-wal", instance / "it-health.sqlite-shm"]
    for path in files:
        path.chmod(0o644)
    instance.chmod(0o755)
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": str(database)})
        app.instance_path = str(instance)
        result = app.test_cli_runner().invoke(args=["db", "init"])
        assert result.exit_code == 0, result.output
        assert mode(instance) == 0o700
        for path in files:
            assert mode(path) == 0o600, path.name
    finally:
        older.close()


# ---- 8. ids too large for SQLite are a 404; a return path with a line break is ignored -------

def test_every_id_route_answers_404_for_an_id_sqlite_cannot_hold(app):
    admin = make_member(app)
    browser = app.test_client()
    assert sign_in(browser, admin["email"]).status_code == 303
    token = csrf_token(browser.get("/workspace/").get_data(as_text=True))
    rules = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(rules) >= 10
    for rule in rules:
        method = "GET" if "GET" in rule.methods else "POST"
        for number in ("99999999999999999999", str(2**63), str(2**63 - 1)):
            url = re.sub(r"<int:\w+>", number, rule.rule)
            response = browser.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (method, url, response.status_code)
            assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("next_path", ["/workspace%0d%0aX", "/workspace%0aSet-Cookie:%20a=b",
                                       "/workspace/%09", "/work%00space"])
def test_a_return_path_with_a_control_character_goes_home_after_sign_in(app, client, next_path):
    ana = make_member(app)
    url = "/account/sign-in?next=" + next_path
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "email": ana["email"],
                                      "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/workspace/"
    assert client.get("/workspace/").status_code == 200  # signed in


def test_a_return_path_in_other_letters_still_works(app, client):
    ana = make_member(app)
    url = "/account/sign-in?next=/workspace/%3Fq%3Dcaf%C3%A9"
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "email": ana["email"],
                                      "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] != "/workspace/"


# ---- 9. an invite link does not tell whether an email is registered, and is rate-limited ----

def invite_path(app, admin: dict) -> str:
    db = connect(database_of(app.config))
    try:
        return f"/account/invite/{accounts.create_invite(db, admin['firm_id'], admin['user_id'])}"
    finally:
        db.close()


def browser_at(app, address: str):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def accept_invite(browser, path: str, email: str):
    token = csrf_token(browser.get(path).get_data(as_text=True))
    return browser.post(path, data={"csrf_token": token, "name": "Cleo", "email": email,
                                    "password": PASSWORD, "confirm": PASSWORD})


def test_an_invite_does_not_say_whether_an_email_is_registered(app, adb):
    ana = make_member(app)
    make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    answers = []
    # This firm's member, another firm's, and a new address: one answer for all three.
    for email in (ana["email"], "EVE@elsewhere.example", "cleo@northgate.example"):
        browser = app.test_client()
        path = invite_path(app, ana)
        response = accept_invite(browser, path, email)
        answers.append((response.status_code, response.headers.get("Location"),
                        re.sub(r'(value|nonce)="[^"]*"', "", browser.get(
                            response.headers["Location"]).get_data(as_text=True))))
        assert browser.get(path).status_code == 404  # each link is used, whichever it was
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 303
    assert "already exists" not in answers[0][2] and "registered" not in answers[0][2]
    assert adb.one("SELECT count(*) AS n FROM users") == {"n": 3}  # only the new one was made


def test_invite_form_tries_are_limited_per_address(app, adb, caplog):
    caplog.set_level(logging.INFO, logger="it_health.audit")
    ana = make_member(app)
    path = invite_path(app, ana)
    prober = browser_at(app, "192.0.2.9")
    for _ in range(20):  # mistakes, which leave the link unused
        assert accept_invite(prober, path, "not-an-email").status_code == 400
    response = accept_invite(prober, path, "cleo@northgate.example")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "Too many tries from your network" in response.get_data(as_text=True)
    assert adb.one("SELECT count(*) AS n FROM users") == {"n": 1}  # not even a new one got in
    assert "invite_rate_limited" in [e["event"] for e in audit_events(caplog)]
    # Another address can still use the link; sign-ins are counted apart.
    assert accept_invite(browser_at(app, "192.0.2.10"), path,
                         "cleo@northgate.example").status_code == 303
    assert sign_in(prober, ana["email"]).status_code == 303


# ---- 10. the development server's log hides link tokens; two more headers -------------------

SECRET = "SecretLinkToken1234567890abcdefghijklmnopq"


def test_the_development_server_log_hides_link_tokens(app, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    server = make_server("127.0.0.1", 0, app)  # what `flask run` serves with
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    paths = (f"/assessment/resume/{SECRET}", f"/claim/{SECRET}",
             f"/account/invite/{SECRET}?from=mail")
    try:
        for path in paths:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10)
            except urllib.error.HTTPError:
                pass  # a made-up token: 404 or a redirect to a page that says so
    finally:
        server.shutdown()
        thread.join()
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    for kept in ("/assessment/resume/…", "/claim/…", "/account/invite/…?from=mail"):
        assert any(kept in line for line in lines), (kept, lines)
    assert SECRET not in caplog.text


def test_an_error_on_a_link_path_is_logged_without_its_token(tmp_path, caplog):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "PROPAGATE_EXCEPTIONS": False,
                      "DATABASE": str(tmp_path / "e.sqlite")})

    def explode(token):
        raise RuntimeError("boom")

    app.add_url_rule("/claim/<token>/test-only-explode", "test_only_explode", explode)
    caplog.set_level(logging.ERROR, logger=app.logger.name)
    assert app.test_client().get(f"/claim/{SECRET}/test-only-explode").status_code == 500
    assert "Exception on /claim/…/test-only-explode" in caplog.text
    assert SECRET not in caplog.text


def test_every_response_denies_browser_features_and_isolates_its_window(app, client):
    ana = make_member(app)
    member = app.test_client()
    sign_in(member, ana["email"])
    responses = {"page": client.get("/"), "sign-in": client.get("/account/sign-in"),
                 "redirect": client.get("/workspace/"), "404": client.get("/no/such/page"),
                 "static": client.get("/static/app.css"),
                 "signed in": member.get("/workspace/")}
    for label, response in responses.items():
        policy = {part.strip() for part in response.headers.get("Permissions-Policy",
                                                                  "").split(",")}
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in policy, (label, feature)
        assert response.headers.get("Cross-Origin-Opener-Policy") == "same-origin", label
