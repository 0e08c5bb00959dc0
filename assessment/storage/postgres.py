"""The PostgreSQL engine, through psycopg 3 with a connection pool in each process.

Chosen by a `postgresql://` URL (storage.db.connect). Storage code is written once, in the SQL
both engines accept, with SQLite's placeholders: `adapt` turns `?` and `:name` into psycopg's
`%s` and `%(name)s`. Concurrency comes from PostgreSQL itself, not from a lock around every
writer: each write transaction runs at READ COMMITTED, where a conditional UPDATE or an INSERT
... ON CONFLICT waits for the row it touches and then sees the committed row, which is what makes
versioned answer saves, client keys and counters exact (storage/assessments.py, accounts/).
Every session commits with `synchronous_commit = on`: a commit is acknowledged once it is on
disk (on the primary), as SQLite's synchronous=FULL.

A database that does not answer is said within seconds, never after a long hang: connecting,
waiting for a pooled connection and each statement have short limits (below), and the web
answers such a failure with its "we'll be back" page (web/db.py, `outage` here says which kind
of failure it was). Migrations and copies (`connect(..., patient=True)`) run their statements
without the statement limit: on a large database they may rightly take longer.

Backups are `pg_dump` archives (custom format); a restore replaces every table of the app in
one transaction through `pg_restore` and `psql`. Those three tools come with Debian's
`postgresql-client` package.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import re
import shutil
import subprocess  # nosec B404 (pg_dump, pg_restore and psql, run with argument lists)
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar, cast

import psycopg
from psycopg import sql as pgsql
from psycopg.adapt import Dumper
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ..support.private_files import create_file, make_folder
from ..support.redact import redact
from .db import Params, Row, RowsBase

POOL_SIZE = 10  # connections a process keeps at most; a request holds one only while it runs
# Short limits, so that a database that is away answers a page with "we'll be back" within
# seconds. A process has more connections than threads, so a request waits for a connection
# only while one is being made: three seconds is plenty when the server answers.
POOL_TIMEOUT = 3  # seconds a request waits for a connection from the pool
CONNECT_TIMEOUT = 5  # seconds a new connection may take (a host that drops packets)
STATEMENT_TIMEOUT_MS = 5000  # one statement of a page: a lock or a server that hangs is cut off
# While the server is away the pool tries to connect again with a growing delay; giving up after
# this long lets the next request start afresh at once, so a server that is back is found within
# seconds (the pool's default of five minutes could leave it unused for a minute or two).
RECONNECT_TIMEOUT = 10
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
    conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")


_POOLS: dict[tuple[int, str], ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()

# The pool logs each failed attempt to connect again, every second or so per process while the
# server is away; the web logs one line per kind of failure itself (web/db.py), which those
# would bury. Its errors still show, and a logging configuration that sets a level keeps it.
if logging.getLogger("psycopg.pool").level == logging.NOTSET:
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


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
                                  reconnect_timeout=RECONNECT_TIMEOUT,
                                  kwargs={"autocommit": True, "client_encoding": "UTF8",
                                          "connect_timeout": CONNECT_TIMEOUT},
                                  configure=_configure, name="it-health", open=True)
            _POOLS[key] = pool
    return pool


def close_pools(url: str | None = None) -> None:
    """Close this process's pools (or the one for `url`): their connections end."""
    with _POOLS_LOCK:
        for key in [k for k in _POOLS if k[0] == os.getpid() and url in (None, k[1])]:
            pool = _POOLS.pop(key)
            _AWAY.pop(id(pool), None)
            pool.close()


atexit.register(close_pools)


# When a wait for a connection has just timed out, the server is most likely away: the next
# requests wait only this long, so that while it is away a few threads are not all held for
# seconds each (a static file or /healthz queued behind them). The first connection that works
# ends it. The pool keeps trying to connect meanwhile, so a server that is back is found.
AWAY_WAIT = 0.5
_AWAY: dict[int, float] = {}  # id of a pool -> when a wait for one of its connections timed out


def _take(pool: ConnectionPool, timeout: float = POOL_TIMEOUT) -> psycopg.Connection:
    """A working connection from the pool within `timeout` seconds (AWAY_WAIT while the server
    seems away), else PoolTimeout.

    Each one is checked before use (a server restarted since it was pooled has closed it). The
    pool's own check waits a growing delay after each broken connection it finds, so that after
    a restart, with several dead connections pooled, the first request could time out although
    the server is back; here a broken one is handed back at once (the pool drops it and makes a
    new one) and the next is tried."""
    now = time.monotonic()
    if now - _AWAY.get(id(pool), -POOL_TIMEOUT * 2) < POOL_TIMEOUT * 2:
        timeout = min(timeout, AWAY_WAIT)
    deadline = now + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise PoolTimeout(f"no working connection within {timeout:g} seconds")
            conn = pool.getconn(timeout=left)
        except PoolTimeout:
            _AWAY[id(pool)] = time.monotonic()
            raise
        try:
            conn.execute("")
        except psycopg.Error:
            conn.close()  # whatever went wrong with it, it is not lent again
            pool.putconn(conn)
            continue
        _AWAY.pop(id(pool), None)
        return conn


def connect(url: str, *, patient: bool = False) -> PostgresStore:
    """A store on the process's pool for the URL. `patient`: its statements have no time limit
    (migrations, copies), where a page's are cut off after STATEMENT_TIMEOUT_MS."""
    return PostgresStore(url, _pool(url), patient=patient)


def outage(error: BaseException) -> str | None:
    """The kind of failure when `error` says the database cannot be used just now (its server
    away, restarting, out of connections, or too slow), for a log line; None for any other
    error, which is a fault to fix rather than to wait out."""
    if isinstance(error, PoolTimeout):
        return "no connection to the database within the time limit"
    if isinstance(error, psycopg.errors.QueryCanceled):
        return "a statement took longer than the time limit"
    if isinstance(error, psycopg.errors.AdminShutdown | psycopg.errors.CrashShutdown |
                  psycopg.errors.CannotConnectNow):
        return "the database server is shutting down or starting"
    if isinstance(error, psycopg.errors.InsufficientResources):
        return "the database server is out of resources"
    if isinstance(error, psycopg.OperationalError) and error.sqlstate is None:
        return "the connection to the database failed"  # refused, lost, or closed
    return None


class PostgresStore(RowsBase):
    """The storage contract (storage.db.Admin) on PostgreSQL. A store takes a connection from
    the pool when it is first used and gives it back on release() or close()."""

    engine = "postgresql"

    def __init__(self, url: str, pool: ConnectionPool | None, *, patient: bool = False):
        self.url = url
        self._pool = pool
        self._conn: psycopg.Connection | None = None
        self.patient = patient

    def __repr__(self) -> str:
        return f"<PostgresStore {redact(self.url)}>"

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None:
            if self._pool is None:
                raise RuntimeError("this store was lent a connection, and it was given back")
            conn = _take(self._pool)
            if self.patient:
                try:
                    conn.execute("SET statement_timeout = 0")
                except BaseException:
                    self._pool.putconn(conn)
                    raise
            self._conn = conn
        return self._conn

    @property
    def connected(self) -> bool:
        """Whether it holds a working connection: it was used since it was last released."""
        return self._conn is not None

    @property
    def in_transaction(self) -> bool:
        return (self._conn is not None
                and self._conn.info.transaction_status != TransactionStatus.IDLE)

    # ---- reading and writing rows ------------------------------------------------------------

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(adapt(sql), params)
            return cursor.fetchall() if cursor.description is not None else []

    def execute(self, sql: str, params: Params = ()) -> int:
        return self.conn.execute(adapt(sql), params).rowcount

    # ---- administration ----------------------------------------------------------------------

    def table_names(self) -> list[str]:
        return [name for (name,) in self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")]

    def schema(self) -> dict[str, dict]:
        """The app's tables as storage.db.Admin.schema() describes them (as on SQLite), with
        each column's collation besides."""
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
            primary_key = tuple(name for (name,) in self.conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND "
                "i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)", [table]))
            tables[table] = {"columns": columns, "primary_key": primary_key,
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
        if self._pool is None:
            return  # a lent connection: its lender gives it back
        if conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.rollback()
            except psycopg.Error:
                pass  # the pool checks (and if need be replaces) a connection given back
        if self.patient:
            try:  # pooled connections keep a page's statement limit
                conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
            except psycopg.Error:
                conn.close()  # not to be lent without it: the pool drops a closed connection
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
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), env


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
        into, out = cast(IO[bytes], psql.stdin), cast(IO[bytes], dump.stdout)  # both PIPEs
        try:
            into.write(prelude.encode())
            shutil.copyfileobj(out, into)
        except BrokenPipeError:
            pass  # psql stopped at an error: said below
        out.close()
        if dump.wait() != 0:
            # psql commits at the end of its input: end it before, so nothing is committed.
            psql.kill()
            psql.wait()
            restore_err.seek(0)
            raise RuntimeError("the restore failed and changed nothing: "
                               + restore_err.read().decode(errors="replace").strip())
        try:
            into.close()
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
    from .migrations import migrations

    pool = _POOLS.get((os.getpid(), url))
    conn = _take(pool, timeout) if pool is not None else psycopg.connect(
        url, connect_timeout=max(2, int(timeout)), autocommit=True)
    store = PostgresStore(url, None)  # lent this connection, which is given back below
    store._conn = conn
    try:
        with conn.transaction():
            conn.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
            return [migration.name for migration in migrations.pending(store)]
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
