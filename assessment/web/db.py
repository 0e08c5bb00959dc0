"""One database connection per request, kept on `g` and closed when the request ends."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlite_utils import Database

from ..bank import Bank
from ..storage import connect


def get_db() -> Database:
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def current_bank() -> Bank:
    """The bank new assessments start from (existing ones keep their own: storage.bank_of)."""
    return current_app.extensions["bank"]


def close_db(error: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
