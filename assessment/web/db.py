"""The request's database connection, and the bank new assessments start from.

Each worker thread keeps its database open between requests (opening a SQLite connection and
setting its pragmas costs more than many a page; a PostgreSQL store gives its connection back to
the process's pool after each request); a request never leaves a transaction open.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g

from ..core.bank import Bank
from ..storage import Store, connect
from ..support.config import database

_local = threading.local()
MAX_OPEN_PER_THREAD = 4  # tests use many throwaway databases; a server uses one


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
    if db is not None:
        db.release()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(release_db)
