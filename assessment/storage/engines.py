"""Which engine holds the database: SQLite for a file path, PostgreSQL for a `postgresql://` URL
(storage.db describes what either gives)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..support.redact import redact
from . import sqlite
from .db import Admin

SCHEMES = ("postgresql://", "postgres://")


class CannotConnect(RuntimeError):
    """The database server could not be reached (the message says why)."""


def is_url(target: str | Path) -> bool:
    """A PostgreSQL URL, as opposed to a SQLite file path."""
    return str(target).startswith(SCHEMES)


def connect(target: str | Path, *, patient: bool = False) -> Admin:
    """A SQLite file path (created owner-only if new; ':memory:' for a throwaway database) or
    a postgresql:// URL. The PostgreSQL driver is imported only for a URL: an app on SQLite
    never loads it.

    On PostgreSQL each statement of a page is cut off after a few seconds, so that a database
    in trouble gets a "we'll be back" page rather than a hang; `patient` lifts that limit for
    the work that may rightly take longer on a large database (migrations, copies, checks)."""
    if not is_url(target):
        return sqlite.connect(target)
    from . import postgres

    try:
        return postgres.connect(str(target), patient=patient)
    except postgres.psycopg.Error as error:  # unreachable, refused, or a URL it cannot parse
        raise CannotConnect(f"cannot connect to {redact(target)}: "
                            f"{redact(str(error).strip())}") from None


def unavailable(error: BaseException) -> str | None:
    """What kind of failure, in a few words for a log line, when `error` says the database
    cannot be used just now (unreachable, restarting, locked, too slow, its disk) and the request
    can be tried again later; None when it is any other error, a fault that stays a fault."""
    if isinstance(error, CannotConnect):
        return "cannot connect to the database"
    kind = sqlite.outage(error)
    if kind is None and f"{__package__}.postgres" in sys.modules:  # loaded for a URL only
        from . import postgres

        kind = postgres.outage(error)
    return kind


def describe(target: str | Path) -> str:
    """The database for messages: its path, or its URL without the password."""
    return redact(str(target)) if is_url(target) else str(target)


def make_private(target: str | Path) -> None:
    """Make a SQLite database and the files beside it owner-only (a server's files are the
    server's business)."""
    if not is_url(target):
        sqlite.make_private(target)
