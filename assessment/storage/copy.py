"""Moving to PostgreSQL: copy a SQLite database into an empty PostgreSQL one (`flask db copy`).

The copy is one transaction on PostgreSQL, read from one snapshot of SQLite: either every row is
there and checked (each table's row count, and every answer's key and version compared one by
one), or nothing is. A target that holds any row is refused before anything is written to it.

Once copied, the SQLite file is marked (`mark_copied`): where it went (the URL without its
password) and when. An app started on a marked file stops (`copied_to` tells it why), so that
no answer is saved where PostgreSQL never sees it; `unmark` is going back on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import zip_longest
from typing import TYPE_CHECKING

from ..support.redact import redact
from .db import Admin, Store
from .migrations import migrate
from .sqlite import SQLiteStore
from .times import parse, stamp

if TYPE_CHECKING:  # the PostgreSQL driver is loaded only for a copy
    from .postgres import PostgresStore

ANSWER_KEY = "SELECT assessment_id, question_id, source, version FROM answers " \
             "ORDER BY assessment_id, question_id, source"
MARK = "_copied_to"  # made by the migration copied_to_postgresql


class CopyError(Exception):
    """The copy was refused or failed; the message says why, and the target is unchanged."""


@dataclass
class Copied:
    rows: dict[str, int] = field(default_factory=dict)  # by table, in the order copied
    answers: int = 0


@dataclass(frozen=True)
class CopiedTo:
    """Where a SQLite file was copied to (its URL without the password), and when."""

    url: str
    at: datetime

    def when(self) -> str:
        return self.at.strftime("%Y-%m-%d at %H:%M UTC")


def copied_to(db: Admin) -> CopiedTo | None:
    """The mark of a SQLite file that was copied to PostgreSQL, or None (a PostgreSQL database,
    or a file never copied, or one reopened since)."""
    if db.engine != "sqlite" or MARK not in db.table_names():
        return None
    row = db.one(f"SELECT url, copied_at FROM {MARK} ORDER BY copied_at DESC")  # nosec B608
    return None if row is None else CopiedTo(row["url"], parse(row["copied_at"]))


def mark_copied(db: Store, url: str) -> CopiedTo:
    """Mark the SQLite file as copied to `url` now (the password is never written)."""
    if db.engine != "sqlite":
        raise CopyError("only a SQLite database is marked as copied")
    mark = CopiedTo(redact(url), parse(stamp()))
    with db.write():
        db.execute(f"DELETE FROM {MARK}")  # nosec B608
        db.execute(f"INSERT INTO {MARK} (url, copied_at) VALUES (?, ?)",  # nosec B608
                   [mark.url, stamp(mark.at)])
    return mark


def unmark(db: Store) -> bool:
    """Remove the mark: the app starts on the file again. Whether there was one."""
    with db.write():
        return db.execute(f"DELETE FROM {MARK}") > 0  # nosec B608


def copy_database(source: Admin, target: Admin) -> Copied:
    from . import postgres

    if not isinstance(source, SQLiteStore) or not isinstance(target, postgres.PostgresStore):
        raise CopyError("a copy goes from a SQLite database to a PostgreSQL one")
    _refuse_unless_empty(target)
    migrate(source)
    migrate(target)
    tables = source.schema()
    _refuse_unless_same_schema(tables, target.schema())
    copied = Copied()
    source.conn.execute("BEGIN")  # one snapshot of the source for the copy and its checks
    try:
        with target.write():
            target.lock("it-health db copy")
            _refuse_unless_empty(target)  # again, now that no other copy can start
            for table in _parents_first(tables):
                copied.rows[table] = _copy_table(source, target, table,
                                                 list(tables[table]["columns"]))
            _continue_identities(target)
            _check(source, target, copied)
    finally:
        source.conn.execute("ROLLBACK")
    return copied


def _count(db: Admin, table: str) -> int:
    quoted = '"' + table.replace('"', '""') + '"'
    row = db.one(f"SELECT count(*) AS n FROM {quoted}")  # nosec B608: a table's own name
    return int(row["n"]) if row else 0


def _refuse_unless_empty(target: Admin) -> None:
    holding = {}
    for table in target.table_names():
        if table.startswith("_"):
            continue
        rows = _count(target, table)
        if rows:
            holding[table] = rows
    if holding:
        listed = ", ".join(f"{table}: {rows_of(rows)}" for table, rows in holding.items())
        raise CopyError(f"the target database is not empty ({listed}); nothing was "
                             "copied. Copy into a new, empty database.")


def rows_of(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _refuse_unless_same_schema(source: dict, target: dict) -> None:
    def comparable(schema: dict) -> dict:
        return {table: {**spec, "columns": {name: {k: v for k, v in column.items()
                                                   if k != "collation"}
                                            for name, column in spec["columns"].items()}}
                for table, spec in schema.items()}

    source, target = comparable(source), comparable(target)
    if source != target:
        differing = sorted(t for t in set(source) | set(target)
                           if source.get(t) != target.get(t))
        raise CopyError("the two databases' schemas differ in "
                        f"{', '.join(differing)}: is every migration mirrored on PostgreSQL? "
                        "Nothing was copied.")


def _parents_first(tables: dict) -> list[str]:
    """Tables in an order where each comes after the tables its foreign keys point to (a
    reference to its own table is checked at the end of its COPY, so any row order works)."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(table: str) -> None:
        if table in ordered:
            return
        if table in visiting:
            raise CopyError(f"foreign keys go round in a circle through {table}")
        visiting.add(table)
        for _, parent, _ in sorted(tables[table]["foreign_keys"]):
            if parent != table:
                visit(parent)
        visiting.discard(table)
        ordered.append(table)

    for table in sorted(tables):
        visit(table)
    return ordered


def _copy_table(source: SQLiteStore, target: PostgresStore, table: str,
                columns: list[str]) -> int:
    import psycopg
    from psycopg import sql as pgsql

    names = ", ".join(f'"{c}"' for c in columns)
    statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
        pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns)))
    count = 0
    try:
        with target.conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in source.conn.execute(f'SELECT {names} FROM "{table}"'):  # nosec B608
                copy.write_row(row)
                count += 1
    except psycopg.Error as error:
        raise CopyError(f"{table}: PostgreSQL refused a row ({str(error).strip()}); nothing "
                        "was copied") from None
    return count


def _continue_identities(target: PostgresStore) -> None:
    """New rows get ids after the copied ones."""
    from psycopg import sql as pgsql

    for table, column in target.conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall():
        target.conn.execute(pgsql.SQL(
            "SELECT setval(pg_get_serial_sequence(%s, %s), "
            "coalesce((SELECT max({}) FROM {}), 0) + 1, false)").format(
                pgsql.Identifier(column), pgsql.Identifier(table)), [table, column])


def _check(source: SQLiteStore, target: PostgresStore, copied: Copied) -> None:
    for table, rows in copied.rows.items():
        counts = [_count(db, table) for db in (source, target)]
        if counts != [rows, rows]:
            raise CopyError(f"{table}: {counts[0]} rows in SQLite but {counts[1]} in "
                            "PostgreSQL; nothing was copied")
    answers = 0
    with target.conn.cursor() as on_target:
        on_target.execute(ANSWER_KEY)
        for mine, theirs in zip_longest(source.conn.execute(ANSWER_KEY), on_target):
            if mine is None or theirs is None or tuple(mine) != tuple(theirs):
                raise CopyError(f"answers differ after the copy (SQLite {mine}, PostgreSQL "
                                f"{theirs}); nothing was copied")
            answers += 1
    copied.answers = answers
