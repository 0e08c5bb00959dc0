"""The request's database connection, the bank new assessments start from, and what a request
gets when the database cannot be used just now.

Each worker thread keeps its database open between requests (opening a SQLite connection and
setting its pragmas costs more than many a page; a PostgreSQL store gives its connection back to
the process's pool after each request); a request never leaves a transaction open.

When the database is away (PostgreSQL stopped or unreachable, out of connections, a statement
past its time limit; a SQLite file locked past the busy timeout, or its disk failing), a page
answers 503 with the "we'll be back" page and an answer sent by the page's script answers 503
JSON, both with Retry-After, within seconds (storage/postgres.py has the time limits). The
script keeps the answer in the browser and sends it again. The error log gets one line per kind
of failure (and at most one a minute while it lasts, counting the others), without a traceback
or a password, and one when the database answers again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from flask import Flask, Response, current_app, g, jsonify, request, url_for

from ..core.bank import Bank
from ..storage import CannotConnect, Store, connect, is_url
from ..storage.engines import unavailable
from ..support.config import database
from ..support.redact import redact
from ..support.throttle import Throttle, held_note

_local = threading.local()
MAX_OPEN_PER_THREAD = 4  # tests use many throwaway databases; a server uses one

RETRY_AFTER = 30  # seconds a browser is asked to wait before trying again
# The answers the page script sends (static/wizard.js), which want JSON and retry on their own.
AUTOSAVES = frozenset({"wizard.autosave", "workspace.autosave", "handoff.autosave"})
OUTAGE_TITLE = "We'll be back in a minute"
OUTAGE_MESSAGE = ("We cannot reach the place where answers are kept just now, so this page "
                  "cannot be shown. Everything you saved before is safe. Please try again in a "
                  "minute; this page also tries again by itself.")
OUTAGE_SENT = ("We cannot reach the place where answers are kept just now, so what you sent "
               "was not saved. Everything you saved before is safe. Go back with your "
               "browser's Back button, where what you typed is still on the page, and press "
               "Save again in a minute.")
OUTAGE_JSON = ("Not saved yet: the service cannot reach its database just now. Your answer is "
               "kept in this browser and sent again in a moment.")

log = logging.getLogger(__name__)
_failures = Throttle(60.0)
_outage_lock = threading.Lock()


class _Outage:
    """This process's current outage, if any: since when, how many requests it answered 503,
    and the kinds of failure logged."""

    since: float | None = None
    answered = 0
    kinds: set[str] = set()


def get_db() -> Store:
    if "db" not in g:
        target = database(current_app.config)
        open_dbs: dict[str, Store] = getattr(_local, "dbs", None) or {}
        _local.dbs = open_dbs
        db = open_dbs.get(target)
        if db is None:
            if len(open_dbs) >= MAX_OPEN_PER_THREAD:
                open_dbs.pop(next(iter(open_dbs))).close()
            db = open_dbs[target] = connect(target)
        g.db = db
    return g.db


def current_bank() -> Bank:
    """The bank new assessments start from (existing ones keep their own: storage.bank_of)."""
    return current_app.extensions["bank"]


def release_db(error: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is None:
        return
    # A PostgreSQL store that got a connection during the request: the server answers. (A
    # SQLite file has no server to come back: its failures are only counted in the log lines.)
    served = getattr(db, "connected", False)
    try:
        db.release()
    except Exception as failure:  # noqa: BLE001 - sorted just below
        if unavailable(failure) is None:
            raise
        _forget(db)  # the request has its answer; the next one opens the database afresh
        return
    if served and not g.get("database_outage"):
        _answering_again()


def _forget(db: Store) -> None:
    """Close the store and drop it from the thread's open ones: a connection that failed is not
    used again."""
    open_dbs = getattr(_local, "dbs", None) or {}
    for target, kept in list(open_dbs.items()):
        if kept is db:
            del open_dbs[target]
    try:
        db.close()
    except Exception:  # noqa: BLE001 - it is being dropped because it failed  # nosec B110
        pass


def _answering_again() -> None:
    """The database served this request: if it was away, say once that it is back."""
    if _Outage.since is None:  # the usual case, read without the lock
        return
    with _outage_lock:
        since, answered, kinds = _Outage.since, _Outage.answered, _Outage.kinds
        if since is None:
            return
        _Outage.since, _Outage.answered, _Outage.kinds = None, 0, set()
    for kind in kinds:
        _failures.clear(kind)  # the next failure of that kind is logged at once
    log.warning("The database answers again, after %.0f seconds; %s answered 503 meanwhile.",
                time.monotonic() - since, "1 request was" if answered == 1 else
                f"{answered} requests were")


def outage_response(error: BaseException, kind: str) -> Response:
    """The answer to a request the database could not serve: 503 with Retry-After, as the page
    script's JSON or as the "we'll be back" page; and the log line for its kind of failure."""
    g.database_outage = True
    db = g.pop("db", None)
    if db is not None:
        _forget(db)
    with _outage_lock:
        if _Outage.since is None:
            _Outage.since = time.monotonic()
        _Outage.answered += 1
        _Outage.kinds.add(kind)
    held = _failures.allow(kind)
    if held is not None:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        log.warning("The database cannot be used: %s (%s: %s); requests are answered 503 "
                    "until it can%s. Database: %s", kind, type(error).__name__, redact(detail),
                    held_note(held), redact(_describe()))
    headers = {"Retry-After": str(RETRY_AFTER)}
    if request.endpoint in AUTOSAVES or request.is_json or \
            request.accept_mimetypes.best == "application/json":
        response = jsonify(error="unavailable", message=OUTAGE_JSON)
        response.status_code = 503
        response.headers.update(headers)
        return response
    page = request.method in ("GET", "HEAD")
    here = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    actions = [(here, "Try again", True)] if page else []
    actions.append((url_for("public.landing"), "Go to the home page", not page))
    # Rendered without the context processors: one of them reads the firm's look from the
    # database (web/branded.py), which is what failed.
    html = current_app.jinja_env.get_template("error.html").render(
        title=OUTAGE_TITLE, message=OUTAGE_MESSAGE if page else OUTAGE_SENT, actions=actions,
        refresh=RETRY_AFTER if page else None)
    return Response(html, status=503, mimetype="text/html", headers=headers)


def _describe() -> str:
    target = database(current_app.config)
    return target if is_url(target) else f"SQLite file {target}"


def outage_of(error: BaseException) -> str | None:
    """The kind of failure when `error` (or the error it stands for, in a 500) is the database
    being away; None otherwise."""
    original = getattr(error, "original_exception", None)
    return unavailable(original if original is not None else error)


def _handle(error: Exception):
    kind = unavailable(error)
    if kind is None:
        raise error  # not an outage: the usual 500 (logged with its traceback)
    return outage_response(error, kind)


def init_app(app: Flask) -> None:
    app.teardown_appcontext(release_db)
    # The errors that may say the database is away; any other stays a 500. PostgreSQL's driver
    # is loaded only for an app on PostgreSQL (create_app has connected with it by now).
    app.register_error_handler(CannotConnect, _handle)
    app.register_error_handler(sqlite3.DatabaseError, _handle)
    if is_url(database(app.config)):
        import psycopg

        app.register_error_handler(psycopg.OperationalError, _handle)
