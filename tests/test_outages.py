"""When the database is away: a page answers 503 with the "we'll be back" page and an answer
sent by the page's script 503 JSON, both with Retry-After, within seconds (never a 500, never a
30-second hang); the error log says so in one line; and once the database is back the same
pages work again without restarting the app (assessment/web/db.py, storage/postgres.py).

PostgreSQL is a real server of this module's own (tests/postgres_cluster.py), stopped and
started again in the middle of a test, so that stopping it does not touch any other test.
The elapsed times are only checked against a generous bound: a behaviour, not a benchmark."""

from __future__ import annotations

import html
import logging
import sqlite3
import threading
import time

import psycopg
import pytest

from assessment import create_app
from assessment.storage import CannotConnect, connect, migrate, sqlite
from assessment.storage.engines import unavailable
from assessment.storage.postgres import STATEMENT_TIMEOUT_MS, close_pools
from assessment.web import db as web_db

from .postgres_cluster import Cluster, bin_dir
from .tools import missing_tool
from .workspace_fixtures import csrf_token, make_member, sign_in

BOUND = 15  # seconds: "within a few seconds", with room for a busy machine
OUTAGE_LOGGER = "assessment.web.db"


class StoppableCluster(Cluster):
    """The tests' throwaway cluster, which can also be stopped and started again on its port
    with its data kept, as a database server restarted by its operator."""

    def pause(self) -> None:
        self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "--wait", "stop")

    def resume(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "--pgdata", str(self.data), "--log", str(self.folder / "log"),
                  "--options", options, "--wait", "start")


@pytest.fixture(scope="module")
def cluster():
    binaries = bin_dir()
    if binaries is None:
        missing_tool("PostgreSQL is not installed (Debian package postgresql)")
    server = StoppableCluster(binaries).start()
    yield server
    close_pools()
    server.stop()


@pytest.fixture
def pg_app(cluster, tmp_path, monkeypatch):
    url = cluster.new_database()
    monkeypatch.delenv("ITHEALTH_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "outage-secret",
                      "DATABASE": str(tmp_path / "unused.sqlite"), "DATABASE_URL": url})
    yield app
    close_pools(url)


def start_owner(client) -> str:
    """A new owner's assessment in this browser; the CSRF token of its pages."""
    landing = client.get("/").get_data(as_text=True)
    assert client.post("/assessment/start",
                       data={"csrf_token": csrf_token(landing)}).status_code == 303
    page = client.get("/assessment/section/backup")
    assert page.status_code == 200
    return csrf_token(page.get_data(as_text=True))


def answer(client, token, value="daily", key="k" * 16):
    return client.post("/assessment/answer", headers={"X-CSRFToken": token}, json={
        "question": "backup.automatic", "answer": value, "base_version": 0, "client_key": key})


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def outage_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == OUTAGE_LOGGER and "cannot be used" in
            r.getMessage()]


def assert_outage_json(response, elapsed):
    assert response.status_code == 503, response.get_data(as_text=True)
    assert elapsed < BOUND
    assert response.headers["Retry-After"] == "30"
    assert response.is_json and response.get_json()["message"].startswith("Not saved yet")


def test_a_stopped_database_gets_we_ll_be_back_within_seconds_and_pages_work_once_it_is_back(
        cluster, pg_app, caplog):
    owner = pg_app.test_client()
    token = start_owner(owner)
    member = pg_app.test_client()
    ana = make_member(pg_app)
    assert sign_in(member, ana["email"]).status_code == 303
    member_token = csrf_token(member.get("/account/").get_data(as_text=True))
    caplog.set_level(logging.INFO)

    cluster.pause()
    try:
        page, elapsed = timed(lambda: owner.get("/assessment/"))
        assert page.status_code == 503 and elapsed < BOUND
        assert page.headers["Retry-After"] == "30" and page.mimetype == "text/html"
        assert "no-store" in page.headers["Cache-Control"]
        text = html.unescape(page.get_data(as_text=True))
        assert "<title>We'll be back in a minute · IT Health Assessment</title>" in text
        assert "We cannot reach the place where answers are kept just now" in text
        assert "Everything you saved before is safe. Please try again in a minute" in text
        assert '<meta http-equiv="refresh" content="30">' in text
        assert 'href="/assessment/">Try again</a>' in text
        assert 'class="site-header' in text and "app.css" in text  # the app's own page

        saved, elapsed = timed(lambda: answer(owner, token))
        assert_outage_json(saved, elapsed)
        # The firm's interview and the IT provider's hand-off answer the same way.
        theirs, elapsed = timed(lambda: member.post(
            "/workspace/assessments/no-such-assessment/answer", headers={
                "X-CSRFToken": member_token}, json={"question": "backup.automatic",
                                                    "answer": "daily", "base_version": 0}))
        assert_outage_json(theirs, elapsed)
        handed, elapsed = timed(lambda: owner.post(
            "/answer-for/" + "t" * 43 + "/answer", headers={"X-CSRFToken": token},
            json={"question": "backup.automatic", "answer": "daily", "base_version": 0}))
        assert_outage_json(handed, elapsed)

        # A form sent with the Save button: what was typed is still on the page gone back to.
        sent = owner.post("/assessment/section/backup", data={"csrf_token": token})
        assert sent.status_code == 503 and sent.headers["Retry-After"] == "30"
        assert "Go back with your browser's Back button" in html.unescape(
            sent.get_data(as_text=True))

        # A page not found is still that (without its button back to the assessment).
        assert owner.get("/no-such-page").status_code == 404

        assert owner.get("/healthz").status_code == 200
        ready = owner.get("/readyz")
        assert ready.status_code == 503 and ready.get_data(as_text=True) == \
            "not ready: database\n"
        assert owner.get("/").status_code == 200

        # One line for the one kind of failure, however many requests met it; no traceback.
        lines = outage_lines(caplog)
        assert len(lines) == 1, [r.getMessage() for r in lines]
        line = lines[0].getMessage()
        assert "requests are answered 503" in line and cluster.url("").rstrip("/") in line
        assert "\n" not in line
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], \
            [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]

        # An error page that itself needs the database (a form too large is shown again with
        # what is saved) still ends on the "we'll be back" page, through the 500 handler, as in
        # production, where an error handler's own failure is not raised to the server.
        pg_app.config["PROPAGATE_EXCEPTIONS"] = False
        large = owner.post("/assessment/section/backup",
                           data={"csrf_token": token, "n_backup.automatic": "x" * 5_000_000})
        pg_app.config["PROPAGATE_EXCEPTIONS"] = None
        assert large.status_code == 503 and large.headers["Retry-After"] == "30"
        assert "We'll be back in a minute" in html.unescape(large.get_data(as_text=True))

        # Starting an app on it meanwhile still stops with the clear message it always gave.
        with pytest.raises(CannotConnect, match=r"^cannot connect to postgresql://postgres@"):
            create_app({"TESTING": True, "SECRET_KEY": "outage-secret",
                        "DATABASE_URL": pg_app.config["DATABASE_URL"]})
    finally:
        cluster.resume()

    # Back: the same app serves the same pages again, without a restart.
    deadline = time.monotonic() + BOUND
    page = owner.get("/assessment/")
    while page.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
        page = owner.get("/assessment/")
    assert page.status_code == 200
    # The answer the browser kept is sent again with its key, and saved once.
    saved = answer(owner, token)
    assert saved.status_code == 200 and saved.get_json()["version"] == 1
    assert answer(owner, token).get_json()["version"] == 1
    assert member.get("/account/").status_code == 200
    assert owner.get("/readyz").status_code == 200
    back = [r.getMessage() for r in caplog.records if r.name == OUTAGE_LOGGER
            and "answers again" in r.getMessage()]
    assert len(back) == 1 and "requests were answered 503 meanwhile" in back[0]


def test_a_statement_past_its_time_limit_gets_503_and_the_answer_saves_afterwards(
        cluster, pg_app, caplog):
    """A lock held elsewhere (or a server that hangs) cuts a page's statement off after a few
    seconds, rather than letting the page wait as long as it lasts."""
    owner = pg_app.test_client()
    token = start_owner(owner)
    with owner.session_transaction() as session:
        assessment_id = session["assessment_id"]
    held = threading.Event()
    done = threading.Event()

    def hold_the_row():
        with psycopg.connect(pg_app.config["DATABASE_URL"]) as conn:
            conn.execute("SELECT 1 FROM assessments WHERE id = %s FOR UPDATE", [assessment_id])
            held.set()
            done.wait(30)

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert held.wait(10)
        saved, elapsed = timed(lambda: answer(owner, token))
        assert_outage_json(saved, elapsed)
        assert elapsed >= STATEMENT_TIMEOUT_MS / 1000 * 0.9  # cut off by the limit, not sooner
    finally:
        done.set()
        holder.join()
    assert [r.getMessage() for r in outage_lines(caplog)][0].startswith(
        "The database cannot be used: a statement took longer than the time limit")
    assert answer(owner, token).status_code == 200


def test_pages_have_a_statement_limit_and_migrations_and_copies_none(cluster):
    url = cluster.new_database()
    page, patient = connect(url), connect(url, patient=True)
    try:
        assert page.one("SHOW statement_timeout")["statement_timeout"] == "5s"
        assert patient.one("SHOW statement_timeout")["statement_timeout"] == "0"
        migrate(patient)
        patient.release()  # its connection goes back to the pool with a page's limit
        again = connect(url)
        try:
            assert again.one("SHOW statement_timeout")["statement_timeout"] == "5s"
        finally:
            again.close()
    finally:
        page.close()
        patient.close()
        close_pools(url)


def test_a_sqlite_file_locked_past_the_busy_timeout_gets_503_json(app, client, monkeypatch,
                                                                 caplog):
    """On SQLite the busy timeout stays what it is (10 seconds, shortened here to keep the test
    short): a writer that holds the file past it gets the same 503 as an outage, not a 500."""
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 300)
    token = start_owner(client)
    web_db._local.dbs = {}  # this thread's next connection takes the shorter busy timeout
    other = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer, holding the file's write lock
    try:
        saved, elapsed = timed(lambda: answer(client, token))
        assert_outage_json(saved, elapsed)
        assert client.get("/assessment/").status_code == 200  # reading still works (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    lines = [r.getMessage() for r in outage_lines(caplog)]
    assert len(lines) == 1 and "locked by another writer" in lines[0]
    assert "SQLite file" in lines[0]
    assert answer(client, token).status_code == 200


def test_only_failures_that_pass_count_as_the_database_being_away(tmp_path):
    """A mistake in a statement stays a fault (a 500, with its traceback in the log)."""
    conn = sqlite3.connect(tmp_path / "x.sqlite", isolation_level=None, timeout=0)
    other = sqlite3.connect(tmp_path / "x.sqlite", isolation_level=None, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as mistake:
            conn.execute("SELEC 1")
        assert unavailable(mistake.value) is None
        conn.execute("CREATE TABLE t (x)")
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlite3.OperationalError) as locked:
            conn.execute("INSERT INTO t VALUES (1)")
        assert unavailable(locked.value) == "the database file stayed locked by another writer"
        with pytest.raises(sqlite3.IntegrityError) as integrity:
            other.execute("CREATE TABLE u (x NOT NULL)")
            other.execute("INSERT INTO u VALUES (NULL)")
        assert unavailable(integrity.value) is None
    finally:
        other.close()
        conn.close()
    assert unavailable(CannotConnect("cannot connect to postgresql://x@h/d")) == \
        "cannot connect to the database"
    assert unavailable(psycopg.errors.DeadlockDetected("deadlock")) is None
    assert unavailable(ValueError("no")) is None
