"""Health, readiness and metrics, for load balancers and monitoring.

- `GET /healthz`: the process answers. Touches nothing else.
- `GET /readyz`: 200 when this instance can serve: the question bank loaded, the database
  answers within READY_TIMEOUT seconds with the schema this code expects (no migration pending)
  and, with a render queue configured, Redis answers and at least one render consumer's
  heartbeat is alive. Else 503 with the short names of what is not ready (never a URL or a
  message from a driver).
- `GET /metrics`: Prometheus text (assessment/web/metrics.py), only with ITHEALTH_METRICS_TOKEN set
  and `Authorization: Bearer <that token>`; anything else is the ordinary 404.

None of them reads or writes the session or needs a CSRF token; every answer is no-store (the
security headers)."""

from __future__ import annotations

import hmac
import logging
import sqlite3
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, g, request

from ..support.config import database

bp = Blueprint("health", __name__)
READY_TIMEOUT = 2.0  # seconds each dependency gets to answer
ENDPOINTS = frozenset({"health.healthz", "health.readyz", "health.metrics"})

log = logging.getLogger(__name__)


def _plain(text: str, status: int = 200) -> Response:
    g.leave_session_cookie = True  # a probe never gets (or refreshes) a session cookie
    return Response(text, status=status, mimetype="text/plain")


@bp.get("/healthz")
def healthz():
    return _plain("ok\n")


def _sqlite_pending(path: str) -> list[str]:
    """Pending migrations of the SQLite file, read on a read-only connection of its own (a
    missing file is not created)."""
    from sqlite_utils import Database

    from ..storage.migrations import migrations

    if path == ":memory:":
        from .db import get_db

        return [m.name for m in migrations.pending(get_db())]
    if not Path(path).is_file():
        raise FileNotFoundError("the database file is missing")
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True,
                           timeout=READY_TIMEOUT, check_same_thread=False)
    try:
        conn.execute("SELECT 1").fetchone()
        return [m.name for m in migrations.pending(Database(conn))]
    finally:
        conn.close()


def database_problems(target: str) -> list[str]:
    """[] when the database answers with the expected schema; else ["database"] or
    ["migrations"]."""
    from ..storage import is_url

    try:
        if is_url(target):
            from ..storage.postgres import quick_check

            pending = quick_check(target, READY_TIMEOUT)
        else:
            pending = _sqlite_pending(target)
    except Exception as error:  # noqa: BLE001 - whatever it is, the database is not usable
        log.warning("readiness: the database did not answer: %s", type(error).__name__)
        return ["database"]
    return ["migrations"] if pending else []


def queue_problems(url: str) -> list[str]:
    from ..report.queue import queue_health

    try:
        status = queue_health(url, READY_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - Redis away, refused, or timed out
        log.warning("readiness: the render queue did not answer: %s", type(error).__name__)
        return ["render queue"]
    return [] if status["consumers"] else ["render consumers"]


def problems(app: Flask) -> list[str]:
    found = []
    if app.extensions.get("bank_error") is not None:
        found.append("question bank")
    found += database_problems(database(app.config))
    if app.config.get("RENDER_QUEUE"):
        found += queue_problems(app.config["RENDER_QUEUE"])
    return found


@bp.get("/readyz")
def readyz():
    found = problems(current_app)
    if found:
        return _plain("not ready: " + ", ".join(found) + "\n", 503)
    return _plain("ready\n")


def _authorised() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return False
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), str(token).encode())


@bp.get("/metrics")
def metrics():
    if not _authorised():
        abort(404)
    from . import metrics as recorded

    body, content_type = recorded.exposition(current_app)
    g.leave_session_cookie = True
    return Response(body, content_type=content_type)


def init_app(app: Flask) -> None:
    from . import metrics as recorded

    app.register_blueprint(bp)
    recorded.init_app(app)
