"""The database behind every storage function, whichever engine holds it.

`connect(target)` opens SQLite for a file path (the default: one file, no server) and PostgreSQL
for a `postgresql://` URL (several web instances on one database). Both give a Store: the few
operations storage code uses, so that code above storage/ never knows which engine it runs on,
and storage code is written once:

- SQL in the dialect both engines accept, with SQLite's placeholders `?` and `:name` (the
  PostgreSQL store adapts them); engine-specific statements only in sqlite.py, postgres.py and
  the migrations.
- `write(db)`: one write transaction; nested use joins the outer one. `write_together(db, job)`:
  the answer save, committed with the saves other threads hand in meanwhile on SQLite, on its own
  on PostgreSQL. Both return only once the commit is on disk.
- A check that a later write in the same transaction depends on must hold on PostgreSQL too,
  where writers do not queue behind one lock: make the write itself conditional (`UPDATE ...
  WHERE version = ?`, `INSERT ... ON CONFLICT`, counting in the UPDATE), or call
  `db.lock(key)` first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..support.redact import redact
from . import sqlite

T = TypeVar("T")
SCHEMES = ("postgresql://", "postgres://")


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> tuple | None: ...

    def fetchall(self) -> list[tuple]: ...


class Table(Protocol):
    """db[name]: the sqlite-utils table operations storage code may use."""

    last_pk: Any
    count: int

    def insert(self, record: dict, *, ignore: bool = False) -> Table: ...

    def update(self, pk_value: Any, changes: dict) -> Table: ...


class Store(Protocol):
    """What storage code may call on a database (sqlite.SQLiteStore, postgres.PostgresStore)."""

    engine: str  # "sqlite" or "postgresql"
    in_transaction: bool

    def execute(self, sql: str, params: list | tuple | dict = ...) -> Cursor: ...

    def query(self, sql: str, params: list | tuple | dict = ...) -> Iterable[dict]: ...

    def rows(self, sql: str, params: list | tuple | dict = ...) -> list[dict]: ...

    def __getitem__(self, table: str) -> Table: ...

    def table_names(self) -> list[str]: ...

    def write(self) -> AbstractContextManager[Store]: ...

    def write_together(self, job: Callable[[Store], T]) -> T: ...

    def lock(self, key: str) -> None: ...

    def release(self) -> None: ...

    def close(self) -> None: ...

    def integrity_ok(self) -> bool: ...

    def backup(self, target: str | Path) -> None: ...

    def restore(self, source: str | Path) -> None: ...

    def schema(self) -> dict[str, dict]: ...


class CannotConnect(RuntimeError):
    """The database server could not be reached (the message says why)."""


def is_url(target: str | Path) -> bool:
    """A PostgreSQL URL, as opposed to a SQLite file path."""
    return str(target).startswith(SCHEMES)


def connect(target: str | Path) -> Store:
    """A SQLite file path (created owner-only if new; ':memory:' for a throwaway database) or
    a postgresql:// URL. The PostgreSQL driver is imported only for a URL: an app on SQLite
    never loads it."""
    if not is_url(target):
        return sqlite.connect(target)
    from . import postgres

    try:
        return postgres.connect(str(target))
    except postgres.psycopg.Error as error:  # unreachable, refused, or a URL it cannot parse
        raise CannotConnect(f"cannot connect to {redact(target)}: "
                            f"{redact(str(error).strip())}") from None


def describe(target: str | Path) -> str:
    """The database for messages: its path, or its URL without the password."""
    return redact(str(target)) if is_url(target) else str(target)


def make_private(target: str | Path) -> None:
    """Make a SQLite database and the files beside it owner-only (a server's files are the
    server's business)."""
    if not is_url(target):
        sqlite.make_private(target)


def read_rows(db: Store, sql: str, params: list | dict = ()) -> list[dict]:
    return db.rows(sql, params)


def write(db: Store) -> AbstractContextManager[Store]:
    return db.write()


def write_together(db: Store, job: Callable[[Store], T]) -> T:
    return db.write_together(job)


def integrity_ok(db: Store) -> bool:
    return db.integrity_ok()


def backup(db: Store, target: str | Path) -> None:
    db.backup(target)


def restore(db: Store, source: str | Path) -> None:
    db.restore(source)
