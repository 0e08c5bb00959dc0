"""The request's database connection, and the bank new assessments start from.

Each worker thread keeps its connection open between requests (opening one and setting its
pragmas costs more than many a page); a request never leaves a transaction open on it.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g
from sqlite_utils import Database

from ..bank import Bank
from ..storage import connect

_local = threading.local()
MAX_OPEN_PER_THREAD = 4  # tests use many throwaway databases; a server uses one


def get_db() -> Database:
    if "db" not in g:
        path = current_app.config["DATABASE"]
        open_dbs: dict[str, Database] = getattr(_local, "dbs", None) or {}
        _local.dbs = open_dbs
        db = open_dbs.get(path)
        if db is None:
            if len(open_dbs) >= MAX_OPEN_PER_THREAD:
                open_dbs.pop(next(iter(open_dbs))).close()
            db = open_dbs[path] = connect(path)
        g.db = db
    return g.db


def current_bank() -> Bank:
    """The bank new assessments start from (existing ones keep their own: storage.bank_of)."""
    return current_app.extensions["bank"]


def release_db(error: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(release_db)
