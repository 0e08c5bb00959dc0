"""The storage contract: what storage code may ask of a database, whichever engine holds it.

`storage.engines.connect(target)` opens SQLite for a file path (the default: one file, no server)
and PostgreSQL for a `postgresql://` URL (several web instances on one database). Both give an
Admin, which is a Store with the administration besides. Storage functions take a Store, so that
code above storage/ never knows which engine it runs on, and storage code is written once:

- SQL in the dialect both engines accept, with SQLite's placeholders `?` and `:name` (the
  PostgreSQL store adapts them); engine-specific statements only in sqlite.py, postgres.py,
  the few engine differences at the top of migrations.py, and copy.py (SQLite into PostgreSQL).
- Rows come back as dicts: `rows()` for every row of a statement, `one()` for the first or
  None. `insert()` adds a row to a table keyed by an integer id and returns that id; every other
  change is `execute()`, which returns how many rows it changed.
- `write()`: one write transaction; nested use joins the outer one. `write_together(job)`: the
  answer save, committed with the saves other threads hand in meanwhile on SQLite, on its own
  on PostgreSQL. Both return only once the commit is on disk.
- A check that a later write in the same transaction depends on must hold on PostgreSQL too,
  where writers do not queue behind one lock: make the write itself conditional (`UPDATE ...
  WHERE version = ?`, `INSERT ... ON CONFLICT`, counting in the UPDATE), or call
  `db.lock(key)` first.
- Times are text in one form (storage/times.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Row = dict[str, Any]
Params = Sequence[Any] | Mapping[str, Any]


class Store(Protocol):
    """What storage functions may call on a database (sqlite.SQLiteStore or
    postgres.PostgresStore)."""

    @property
    def engine(self) -> str:
        """"sqlite" or "postgresql"."""
        ...

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row the statement gives (a SELECT, or a write's RETURNING), as dicts."""
        ...

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The statement's first row, or None."""
        ...

    def insert(self, table: str, values: Mapping[str, Any]) -> int:
        """Add one row to a table keyed by an integer `id` the database gives; returns it."""
        ...

    def execute(self, sql: str, params: Params = ()) -> int:
        """A write (or a schema change): the number of rows it changed."""
        ...

    def write(self) -> AbstractContextManager[Store]:
        ...

    def write_together(self, job: Callable[[Store], T]) -> T:
        ...

    def lock(self, key: str) -> None:
        """Inside write(): hold every other write transaction that locks `key` until this one
        ends."""
        ...

    def release(self) -> None:
        """Between requests: end any transaction left open; the store can be used again."""
        ...

    def close(self) -> None:
        ...


class Admin(Store, Protocol):
    """A Store with what migrations, commands and checks need besides: the schema, integrity,
    backups and restores."""

    def table_names(self) -> list[str]:
        ...

    def schema(self) -> dict[str, dict]:
        """The app's tables (not those whose name starts with "_"): for each, its columns by
        name ({"type": text | integer | real | blob, "not_null", "default"}, and on PostgreSQL
        "collation"), its "primary_key" (column names), "indexes" ({(columns, unique)}) and
        "foreign_keys" ({(columns, parent table, parent columns)})."""
        ...

    def integrity_ok(self) -> bool:
        ...

    def backup(self, target: str | Path) -> None:
        ...

    def restore(self, source: str | Path) -> None:
        ...


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """The INSERT of Store.insert, as both engines take it. Names come from storage code."""
    names = ", ".join(f'"{column}"' for column in columns)
    marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks}) RETURNING id'  # nosec B608


class RowsBase(ABC):
    """What both engines' stores build on their own `rows`: the first row, and an insert that
    returns the new id (INSERT ... RETURNING id, which both engines accept)."""

    @abstractmethod
    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of the statement, as dicts (each engine reads them its own way)."""

    def one(self, sql: str, params: Params = ()) -> Row | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def insert(self, table: str, values: Mapping[str, Any]) -> int:
        row = self.one(insert_sql(table, list(values)), list(values.values()))
        if row is None:  # an INSERT ... RETURNING always gives its row
            raise RuntimeError(f"the insert into {table} gave back no id")
        return int(row["id"])
