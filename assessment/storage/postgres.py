"""The PostgreSQL engine, through psycopg 3 with a connection pool in each process.

Chosen by a `postgresql://` URL (storage.db.connect). Storage code is written once, in the SQL
both engines accept, with SQLite's placeholders: `adapt` turns `?` and `:name` into psycopg's
`%s` and `%(name)s`. Concurrency comes from PostgreSQL itself, not from a lock around every
writer: each write transaction runs at READ COMMITTED, where a conditional UPDATE or an INSERT
... ON CONFLICT waits for the row it touches and then sees the committed row, which is what makes
versioned answer saves, client keys and counters exact (storage/assessments.py, accounts.py).
Every session commits with `synchronous_commit = on`: a commit is acknowledged once it is on
disk (on the primary), as SQLite's synchronous=FULL.

Backups are `pg_dump` archives (custom format); a restore replaces every table of the app in
one transaction through `pg_restore` and `psql`. Those three tools come with Debian's
`postgresql-client` package.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess  # nosec B404 (pg_dump, pg_restore and psql, run with argument lists)
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql as pgsql
from psycopg.adapt import Dumper
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ..support.private_files import create_file, make_folder
from .db import redact

POOL_SIZE = 10  # connections a process keeps at most; a request holds one only while it runs
POOL_TIMEOUT = 30  # seconds a request waits for a free connection
CONNECT_TIMEOUT = 10
T = TypeVar("T")

_PLACEHOLDERS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|\?|:[A-Za-z_]\w*|%""")


@functools.lru_cache(maxsize=2048)
def adapt(sql: str) -> str:
    """SQLite's placeholders as psycopg's: `?` as `%s`, `:name` as `%(name)s`, and a literal `%`
    doubled; quoted text and names are left alone, and so is a `::` cast."""

    def one(match: re.Match) -> str:
        token = match.group()
        if token[0] in "'\"":
            return token.replace("%", "%%")
        if token == "::":
            return token
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return f"%({token[1:]})s"

    return _PLACEHOLDERS.sub(one, sql)


class _BoolAsInteger(Dumper):
    """True and False are stored as 1 and 0, in the same integer columns as SQLite's."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _Text(Dumper):
    """Text as psycopg sends it (its type left for the server to infer), except that PostgreSQL
    cannot hold the character NUL (U+0000), which SQLite stores: here it becomes U+FFFD, the
    replacement character, so such input is stored (and found again) instead of failing."""

    oid = 0

    def dump(self, obj: str) -> bytes:
        return obj.replace("\x00", "\ufffd").encode()


def _configure(conn: psycopg.Connection) -> None:
    conn.adapters.register_dumper(bool, _BoolAsInteger)
    conn.adapters.register_dumper(str, _Text)
    # "Saved" means on disk, whatever the server's default; and the statement-level snapshots of
    # READ COMMITTED are what the conditional writes in storage/ rely on.
    conn.execute("SET synchronous_commit = on")
    conn.execute("SET default_transaction_isolation = 'read committed'")


_POOLS: dict[tuple[int, str], ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()


def _pool(url: str) -> ConnectionPool:
    """This process's pool for the URL (a forked worker makes its own)."""
    key = (os.getpid(), url)
    pool = _POOLS.get(key)
    if pool is not None:
        return pool
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            # A wrong URL or a server that is down is said now, in PostgreSQL's words, rather
            # than as a pool timeout later.
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT).close()
            pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, timeout=POOL_TIMEOUT,
                                  kwargs={"autocommit": True, "client_encoding": "UTF8",
                                          "connect_timeout": CONNECT_TIMEOUT},
                                  configure=_configure, check=ConnectionPool.check_connection,
                                  name="it-health", open=True)
            _POOLS[key] = pool
    return pool


def close_pools(url: str | None = None) -> None:
    """Close this process's pools (or the one for `url`): their connections end."""
    with _POOLS_LOCK:
        for key in [k for k in _POOLS if k[0] == os.getpid() and url in (None, k[1])]:
            _POOLS.pop(key).close()


atexit.register(close_pools)


def connect(url: str) -> PostgresStore:
    return PostgresStore(url, _pool(url))


class PostgresStore:
    """The storage protocol (storage.db.Store) on PostgreSQL. A store takes a connection from
    the pool when it is first used and gives it back on release() or close()."""

    engine = "postgresql"

    def __init__(self, url: str, pool: ConnectionPool):
        self.url = url
        self._pool = pool
        self._conn: psycopg.Connection | None = None

    def __repr__(self) -> str:
        return f"<PostgresStore {redact(self.url)}>"

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None:
            self._conn = self._pool.getconn()
        return self._conn

    @property
    def in_transaction(self) -> bool:
        return (self._conn is not None
                and self._conn.info.transaction_status != TransactionStatus.IDLE)

    # ---- reading and writing rows ------------------------------------------------------------

    def execute(self, sql: str, params: list | tuple | dict | None = None) -> psycopg.Cursor:
        return self.conn.execute(adapt(sql), params if params is not None else ())

    def query(self, sql: str, params: list | tuple | dict | None = None) -> Iterator[dict]:
        return iter(self.rows(sql, params))

    def rows(self, sql: str, params: list | tuple | dict | None = None) -> list[dict]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(adapt(sql), params if params is not None else ())
            return cursor.fetchall()

    def __getitem__(self, table: str) -> Table:
        return Table(self, table)

    def table_names(self) -> list[str]:
        return [name for (name,) in self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")]

    def primary_key(self, table: str) -> tuple[str, ...]:
        return _primary_key(self, table)

    def schema(self) -> dict[str, dict]:
        """The app's tables as storage.db.Store.schema() describes them (as sqlite.schema),
        with each text column's collation besides."""
        from .sqlite import broad_type, plain_default

        tables: dict[str, dict] = {}
        for table in self.table_names():
            if table.startswith("_"):
                continue
            columns = {
                name: {"type": broad_type(kind), "not_null": nullable == "NO",
                       "default": plain_default(default), "collation": collation}
                for name, kind, nullable, default, collation in self.conn.execute(
                    "SELECT column_name, data_type, is_nullable, column_default, "
                    "collation_name FROM information_schema.columns WHERE table_schema = "
                    "current_schema() AND table_name = %s ORDER BY ordinal_position", [table])}
            indexes = set()
            for names, unique in self.conn.execute(
                    "SELECT array_agg(a.attname ORDER BY k.position), i.indisunique "
                    "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) "
                    "WITH ORDINALITY AS k(attnum, position) "
                    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                    "WHERE i.indrelid = to_regclass(%s) AND NOT i.indisprimary "
                    "GROUP BY i.indexrelid, i.indisunique", [table]):
                indexes.add((tuple(names), unique))
            foreign_keys = set()
            for columns_from, parent, columns_to in self.conn.execute(
                    "SELECT ARRAY(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, p) "
                    "JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.n ORDER BY p), "
                    "c.confrelid::regclass::text, "
                    "ARRAY(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, p) "
                    "JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.n ORDER BY p) "
                    "FROM pg_constraint c WHERE c.conrelid = to_regclass(%s) AND c.contype = 'f'",
                    [table]):
                foreign_keys.add((tuple(columns_from), parent, tuple(columns_to)))
            tables[table] = {"columns": columns, "primary_key": self.primary_key(table),
                             "indexes": indexes, "foreign_keys": foreign_keys}
        return tables

    # ---- transactions --------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[PostgresStore]:
        """One write transaction (BEGIN ... COMMIT, ROLLBACK on any error). Nested use joins
        the outer transaction."""
        if self.in_transaction:
            yield self
            return
        with self.conn.transaction():
            yield self

    def write_together(self, job: Callable[[PostgresStore], T]) -> T:
        """job(self) in a write transaction of its own. Unlike SQLite, PostgreSQL has no single
        writer to queue behind: concurrent saves commit side by side, and its WAL writer
        already flushes the commits that arrive together in one go."""
        with self.write():
            return job(self)

    def lock(self, key: str) -> None:
        """Serialise, until this write transaction ends, with every other one that locks the
        same key: for a check that must hold until the write that depends on it commits (a firm
        name no other firm has, a link used once)."""
        if not self.in_transaction:
            raise RuntimeError("lock() belongs inside a write transaction")
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])

    def release(self) -> None:
        """Give the connection back to the pool (an open transaction is rolled back)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.rollback()
            except psycopg.Error:
                pass  # the pool checks (and if need be replaces) a connection given back
        self._pool.putconn(conn)

    close = release

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # nosec B110
            pass  # the interpreter may be shutting down

    # ---- checks, backups, restores ---------------------------------------------------------

    def integrity_ok(self) -> bool:
        """Every table read end to end (which checks each page's checksum when the cluster has
        them, `initdb --data-checksums`), and every B-tree index checked with amcheck when that
        extension is installed in the database."""
        try:
            for table in self.table_names():
                self.conn.execute(pgsql.SQL("SELECT count(*) FROM {}").format(
                    pgsql.Identifier(table))).fetchone()
            if self.conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'"
                                 ).fetchone():
                self.conn.execute(
                    "SELECT bt_index_check(c.oid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
                    "WHERE am.amname = 'btree' AND c.relnamespace = current_schema()::regnamespace"
                ).fetchall()
        except (psycopg.errors.DataCorrupted, psycopg.errors.IndexCorrupted):
            return False
        return True

    def backup(self, target: str | Path) -> None:
        """A consistent copy of the whole database as one instant saw it (pg_dump, custom
        format), read back in full before it is trusted, and owner-only."""
        target = Path(target)
        make_folder(target.parent)
        try:
            os.close(create_file(target))  # pg_dump writes into it and keeps its mode
        except FileExistsError:
            raise FileExistsError(f"{target} already exists; choose a new file name") from None
        try:
            _run_tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                      f"--file={target}", url=self.url)
            problem = _archive_problem(target)
        except BaseException:
            target.unlink()
            raise
        if problem:
            target.unlink()
            raise RuntimeError(f"the backup at {target} could not be read back ({problem}) "
                               "and was removed")

    def restore(self, source: str | Path) -> None:
        """Replace every table of the database with the backup's, in one transaction: if any
        step fails, the database is left as it was."""
        source = Path(source)
        if not source.is_file():
            raise FileNotFoundError(f"{source}: no such backup file")
        problem = _archive_problem(source)
        if problem:
            raise ValueError(f"{source}: not a PostgreSQL backup made by `flask db backup` "
                             f"({problem}); not restored")
        self.release()
        tables = self.table_names()
        self.release()
        prelude = ""
        if tables:
            names = ", ".join(pgsql.Identifier(t).as_string(None) for t in tables)
            prelude = f"DROP TABLE IF EXISTS {names} CASCADE;\n"
        _restore_archive(source, prelude, self.url)


class Table:
    """The few sqlite-utils Table operations storage code uses: insert (with .last_pk), update by
    primary key, count."""

    def __init__(self, store: PostgresStore, name: str):
        self.store = store
        self.name = name
        self.last_pk: Any = None

    def insert(self, record: dict, *, ignore: bool = False) -> Table:
        pk = self.store.primary_key(self.name)
        query = pgsql.SQL("INSERT INTO {} ({}) VALUES ({}){} RETURNING {}").format(
            pgsql.Identifier(self.name),
            pgsql.SQL(", ").join(map(pgsql.Identifier, record)),
            pgsql.SQL(", ").join(pgsql.Placeholder() * len(record)),
            pgsql.SQL(" ON CONFLICT DO NOTHING" if ignore else ""),
            pgsql.SQL(", ").join(map(pgsql.Identifier, pk)))
        row = self.store.conn.execute(query, list(record.values())).fetchone()
        values = row if row is not None else tuple(record.get(column) for column in pk)
        self.last_pk = values[0] if len(pk) == 1 else tuple(values)
        return self

    def update(self, pk_value: Any, changes: dict) -> Table:
        pk = self.store.primary_key(self.name)
        pk_values = pk_value if isinstance(pk_value, (list, tuple)) else [pk_value]
        query = pgsql.SQL("UPDATE {} SET {} WHERE {}").format(
            pgsql.Identifier(self.name),
            pgsql.SQL(", ").join(pgsql.SQL("{} = %s").format(pgsql.Identifier(c))
                                 for c in changes),
            pgsql.SQL(" AND ").join(pgsql.SQL("{} = %s").format(pgsql.Identifier(c))
                                    for c in pk))
        self.store.conn.execute(query, [*changes.values(), *pk_values])
        self.last_pk = pk_value
        return self

    @property
    def count(self) -> int:
        return self.store.conn.execute(pgsql.SQL("SELECT count(*) FROM {}").format(
            pgsql.Identifier(self.name))).fetchone()[0]


_PRIMARY_KEYS: dict[tuple[str, str], tuple[str, ...]] = {}


def _primary_key(store: PostgresStore, table: str) -> tuple[str, ...]:
    key = (store.url, table)
    if key not in _PRIMARY_KEYS:
        rows = store.conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)", [table]).fetchall()
        if not rows:
            raise LookupError(f"table {table} has no primary key")
        _PRIMARY_KEYS[key] = tuple(name for (name,) in rows)
    return _PRIMARY_KEYS[key]


# ---- pg_dump, pg_restore, psql -----------------------------------------------------------------

def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed; it comes with PostgreSQL's client tools "
                           "(Debian package postgresql-client)")
    return path


def _connection_args(url: str) -> tuple[str, dict[str, str]]:
    """The conninfo to give a client tool, and its environment: the password travels in the
    environment, never on a command line other local users can read."""
    params = conninfo_to_dict(url)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = password
    return make_conninfo(**params), env


def _run_tool(name: str, *args: str, url: str | None = None) -> None:
    env = dict(os.environ)
    command = [_tool(name), *args]
    if url is not None:
        conninfo, env = _connection_args(url)
        command.append(f"--dbname={conninfo}")
    run = subprocess.run(command, env=env, capture_output=True, text=True)  # nosec B603
    if run.returncode != 0:
        raise RuntimeError(f"{name} failed: {run.stderr.strip()}")


def _archive_problem(path: Path) -> str | None:
    """None when pg_restore can read the whole archive (its table of contents and every
    table's data), else what it said."""
    for args in (["--list"], [f"--file={os.devnull}"]):
        run = subprocess.run([_tool("pg_restore"), *args, str(path)],  # nosec B603
                             capture_output=True, text=True)
        if run.returncode != 0:
            return run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "unreadable"
    return None


def _restore_archive(source: Path, prelude: str, url: str) -> None:
    """pg_restore's SQL for the archive, after `prelude`, through psql in one transaction that
    stops at the first error."""
    conninfo, env = _connection_args(url)
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        psql = subprocess.Popen(  # nosec B603
            [_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
             "--set=ON_ERROR_STOP=1", f"--dbname={conninfo}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err, env=env)
        dump = subprocess.Popen(  # nosec B603
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(source)],
            stdout=subprocess.PIPE, stderr=restore_err)
        try:
            psql.stdin.write(prelude.encode())
            shutil.copyfileobj(dump.stdout, psql.stdin)
        except BrokenPipeError:
            pass  # psql stopped at an error: said below
        dump.stdout.close()
        if dump.wait() != 0:
            # psql commits at the end of its input: end it before, so nothing is committed.
            psql.kill()
            psql.wait()
            restore_err.seek(0)
            raise RuntimeError("the restore failed and changed nothing: "
                               + restore_err.read().decode(errors="replace").strip())
        try:
            psql.stdin.close()
        except BrokenPipeError:
            pass
        if psql.wait() != 0:
            psql_err.seek(0)
            raise RuntimeError("the restore failed and changed nothing: "
                               + psql_err.read().decode(errors="replace").strip())


# -- for the readiness check and the metrics ----------------------------------------------------

def quick_check(url: str, timeout: float = 2.0) -> list[str]:
    """The migrations not applied yet (empty: the schema is the one the code expects), asked on
    a connection got within `timeout` seconds (this process's pool when it has one, else a
    connection of its own) with statements limited to that long. Raises psycopg.Error or the
    pool's PoolTimeout when the database does not answer in time."""
    from .postgres_migrations import pending

    pool = _POOLS.get((os.getpid(), url))
    conn = pool.getconn(timeout=timeout) if pool is not None else psycopg.connect(
        url, connect_timeout=max(2, int(timeout)), autocommit=True)
    store = PostgresStore(url, pool)  # type: ignore[arg-type]  # the connection is ours
    store._conn = conn
    try:
        with conn.transaction():
            conn.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
            return pending(store)
    finally:
        store._conn = None
        if pool is not None:
            pool.putconn(conn)
        else:
            conn.close()


def pool_stats() -> dict[str, int]:
    """This process's pools together: connections in use, and requests waiting for one."""
    in_use = waiting = 0
    for (pid, _), pool in list(_POOLS.items()):
        if pid == os.getpid():
            stats = pool.get_stats()
            in_use += stats.get("pool_size", 0) - stats.get("pool_available", 0)
            waiting += stats.get("requests_waiting", 0)
    return {"in_use": in_use, "waiting": waiting}
