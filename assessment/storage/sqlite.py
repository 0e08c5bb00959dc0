"""The SQLite engine: one database file, read and written through sqlite-utils (rows as dicts,
table names) on a sqlite3 connection the project opens itself. WAL, a busy timeout, foreign
keys, and write transactions that take the write lock up front (BEGIN IMMEDIATE), because a
deferred BEGIN in WAL mode can fail with "database is locked" instead of waiting its turn.
Writers queue on a lock (threads) and an flock beside the file (processes); answer saves share
commits."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

from sqlite_utils import Database

from ..support.private_files import FILE_MODE, create_file, make_folder, tighten
from .db import Params, Row, RowsBase

BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")


class SQLiteStore(RowsBase):
    """The storage contract (storage.db.Admin) on one SQLite connection."""

    engine = "sqlite"

    def __init__(self, conn: sqlite3.Connection, writer_lock: str | None = None):
        self.conn = conn
        # sqlite-utils on the same connection: its transactions are ours (write() below), so
        # none of its helpers that commit on their own (Table.insert and friends) is used.
        self.db = Database(conn)
        self.writer_lock = writer_lock  # the file writers of every process queue on, if any

    # ---- reading and writing rows ------------------------------------------------------------

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self.db.query(sql, _plain(params)))

    def execute(self, sql: str, params: Params = ()) -> int:
        return self.db.execute(sql, _plain(params)).rowcount

    # ---- transactions ------------------------------------------------------------------------

    def write(self) -> AbstractContextManager[SQLiteStore]:
        return _write(self)

    def write_together(self, job: Callable[[SQLiteStore], T]) -> T:
        return _write_together(self, job)

    def lock(self, key: str) -> None:
        """Nothing to do: a write transaction here already holds the one write lock."""

    def release(self) -> None:
        """Between requests: never leave a transaction open on a connection kept for the next."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    # ---- administration ----------------------------------------------------------------------

    def table_names(self) -> list[str]:
        return sorted(self.db.table_names())

    def schema(self) -> dict[str, dict]:
        return _schema(self)

    def integrity_ok(self) -> bool:
        return bool(self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")

    def backup(self, target: str | Path) -> None:
        _backup(self, target)

    def restore(self, source: str | Path) -> None:
        _restore(self, source)


def _plain(params: Params) -> Sequence[Any] | dict[str, Any]:
    """Parameters as sqlite-utils takes them: a sequence, or a dict for named ones."""
    return dict(params) if isinstance(params, Mapping) else params


# What SQLite's result codes say about a failure that may pass (the file locked by another
# writer past the busy timeout, or the disk): worth a "we'll be back" page, not a fault to fix.
_OUTAGES = {
    sqlite3.SQLITE_BUSY: "the database file stayed locked by another writer",
    sqlite3.SQLITE_LOCKED: "the database file stayed locked by another writer",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
    sqlite3.SQLITE_IOERR: "the disk holding the database failed to read or write",
    sqlite3.SQLITE_FULL: "the disk holding the database is full",
    sqlite3.SQLITE_READONLY: "the database file cannot be written",
}


def outage(error: BaseException) -> str | None:
    """The kind of failure when `error` says the database cannot be used just now, for a log
    line; None for any other error (a mistake in a statement is a fault, and stays one)."""
    if not isinstance(error, sqlite3.DatabaseError):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else _OUTAGES.get(code & 0xFF)


def connect(path: str | Path) -> SQLiteStore:
    """Open the database with the project's pragmas; ':memory:' gives a throwaway one. A new
    database file is created owner-only."""
    if str(path) != ":memory:":
        make_folder(Path(path).parent)
        _create_owner_only(path)
    # isolation_level=None: no implicit transactions; we say BEGIN ourselves.
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        _use_wal(conn)
    # FULL: a commit is on disk before it is acknowledged, so an answer the user saw "saved"
    # survives a power cut or a killed worker.
    conn.execute("PRAGMA synchronous = FULL")
    return SQLiteStore(conn, None if str(path) == ":memory:" else f"{path}-writer.lock")


def _create_owner_only(path: str | Path) -> None:
    """Create the database as an empty owner-only file unless it exists. SQLite takes an empty
    file for an empty database, and gives the -wal and -shm files it creates the database
    file's mode."""
    try:
        os.close(create_file(path))
    except FileExistsError:
        pass


def make_private(path: str | Path) -> None:
    """Make an existing database owner-only, with the files kept beside it: SQLite's -wal and
    -shm, and our writer lock (an older install's may be readable by every local user)."""
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        tighten(f"{path}{suffix}")


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL, waiting out other processes that hold a lock on it.

    WAL is a property of the file, kept once set. Reading the schema first (which waits on the busy
    handler like any read) tells this connection the file is already in WAL, so asking for it is a
    no-op. Only the first switch of a new file needs the exclusive lock, and SQLite does not run
    the busy handler for that: several workers starting at once on a new database would fail with
    "database is locked" at boot. So that one step is retried until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


# Writers queue for the write lock instead of polling SQLite's busy handler, which sleeps in
# growing steps and turns contention into long tail latencies: threads of one process on a lock
# in memory, processes on an flock of a file beside the database (released by the kernel if a
# process dies, so a killed worker never leaves it held).
_WRITERS = threading.Lock()
_LOCK_FILES: dict[tuple[int, str], int] = {}


def _lock_fd(path: str | None) -> int | None:
    if path is None:
        return None
    key = (os.getpid(), path)  # a forked child opens its own: flock is per open file
    if key not in _LOCK_FILES:
        _LOCK_FILES[key] = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    return _LOCK_FILES[key]


@contextmanager
def _write(db: SQLiteStore) -> Iterator[SQLiteStore]:
    """One write transaction. Nested use joins the outer transaction."""
    if db.conn.in_transaction:
        yield db
        return
    with _WRITERS, _file_lock(db), _immediate(db):
        yield db


@contextmanager
def _file_lock(db: SQLiteStore) -> Iterator[None]:
    lock = _lock_fd(db.writer_lock)
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _immediate(db: SQLiteStore) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when anything goes wrong."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


# Group commit. With synchronous=FULL every commit waits for the disk, and under the one write
# lock that wait was most of an answer save: saves sent back to back stayed near 850 a second
# whatever the processor could do. Saves handed in while the previous commit is on its way to
# disk now share the next one.


class _Failed(NamedTuple):
    error: BaseException


class _Batch:
    def __init__(self) -> None:
        self.jobs: list[Callable[[SQLiteStore], object]] = []
        self.outcomes: list[object] = []
        self.committed = threading.Event()


_FORMING: dict[str, _Batch] = {}  # by database: the batch still taking jobs
_FORMING_LOCK = threading.Lock()


def _write_together(db: SQLiteStore, job: Callable[[SQLiteStore], T]) -> T:
    """job(db) in a write transaction shared with the jobs other threads of this process hand in
    meanwhile: one commit, one flush to disk, for all of them. Each job runs in a savepoint of
    its own, so one that raises leaves the others' work in place. Returns (or raises) only once
    the commit holding the job's work is on disk, as write() does."""
    path = db.writer_lock
    if path is None or db.conn.in_transaction:
        with _write(db):
            return job(db)
    with _FORMING_LOCK:
        batch = _FORMING.get(path)
        leads = batch is None
        if batch is None:
            batch = _FORMING[path] = _Batch()
        slot = len(batch.jobs)
        batch.jobs.append(job)
    if leads:
        _commit(db, path, batch)
    else:
        batch.committed.wait()
    outcome = batch.outcomes[slot]
    if isinstance(outcome, _Failed):
        raise outcome.error
    return cast(T, outcome)


def _commit(db: SQLiteStore, path: str, batch: _Batch) -> None:
    """Run a batch's jobs on the leading thread's connection and commit them once."""
    try:
        batch.outcomes = _run(db, path, batch)
    except BaseException as error:  # nothing of the batch was committed
        _close(path, batch)  # first, so that no job joins after the outcomes are counted
        batch.outcomes = [_Failed(error)] * len(batch.jobs)
    finally:
        batch.committed.set()


def _run(db: SQLiteStore, path: str, batch: _Batch) -> list[object]:
    outcomes: list[object] = []
    # While the writer before (this process's or another's) commits, this batch keeps taking
    # jobs; it closes once this thread holds the write locks.
    with _WRITERS, _file_lock(db):
        _close(path, batch)
        with _immediate(db):
            for job in batch.jobs:
                db.conn.execute("SAVEPOINT job")
                try:
                    outcomes.append(job(db))
                except Exception as error:
                    db.conn.execute("ROLLBACK TO job")
                    outcomes.append(_Failed(error))
                db.conn.execute("RELEASE job")
    return outcomes


def _close(path: str, batch: _Batch) -> None:
    """From here on, newcomers start the next batch."""
    with _FORMING_LOCK:
        if _FORMING.get(path) is batch:
            del _FORMING[path]


def _backup(db: SQLiteStore, target: str | Path) -> None:
    """A consistent copy of the live database (VACUUM INTO), checked before it is trusted, and
    owner-only like the database."""
    target = Path(target)
    make_folder(target.parent)
    try:
        # VACUUM INTO fills an empty file and keeps its mode; on its own it makes one for all.
        os.close(create_file(target))
    except FileExistsError:
        raise FileExistsError(f"{target} already exists; choose a new file name") from None
    try:
        db.conn.execute("VACUUM INTO ?", [str(target)])
    except BaseException:
        target.unlink()
        raise
    copy = sqlite3.connect(str(target))
    try:
        ok = copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()
    if not ok:
        target.unlink()
        raise RuntimeError(f"the backup at {target} failed its integrity check and was removed")


def _restore(db: SQLiteStore, source: str | Path) -> None:
    """Replace the live database's contents with a backup, after checking the backup."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such backup file")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            ok = src.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{source}: not a SQLite database ({error})") from None
        if not ok:
            raise ValueError(f"{source}: failed its integrity check; not restored")
        src.backup(db.conn)  # SQLite's online backup API: safe while others have it open
    finally:
        src.close()


def _schema(db: SQLiteStore) -> dict[str, dict]:
    """The app's tables as storage.db.Admin.schema() describes them."""
    tables = {}
    for table in db.table_names():
        if table.startswith(("_", "sqlite_")):
            continue
        info = db.conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        primary_key = tuple(row[1] for row in sorted((r for r in info if r[5]),
                                                     key=lambda r: r[5]))
        columns = {name: {"type": broad_type(kind), "not_null": bool(not_null)
                          or name in primary_key, "default": plain_default(default)}
                   for _, name, kind, not_null, default, _ in info}
        indexes = set()
        for _, name, unique, origin, _ in db.conn.execute(f'PRAGMA index_list("{table}")'):
            if origin != "pk":
                indexed = tuple(row[2] for row in db.conn.execute(
                    f'PRAGMA index_info("{name}")'))
                indexes.add((indexed, bool(unique)))
        keys: dict[int, list] = {}
        for key_id, _, parent, child_column, parent_column, *_ in db.conn.execute(
                f'PRAGMA foreign_key_list("{table}")'):
            keys.setdefault(key_id, []).append((child_column, parent, parent_column))
        foreign_keys = {(tuple(c for c, _, _ in key), key[0][1], tuple(p for _, _, p in key))
                        for key in keys.values()}
        tables[table] = {"columns": columns, "primary_key": primary_key, "indexes": indexes,
                         "foreign_keys": foreign_keys}
    return tables


def broad_type(declared: str) -> str:
    """text, integer, real or blob, by SQLite's rules of type affinity (and PostgreSQL's names)."""
    kind = declared.lower()
    if "int" in kind:
        return "integer"
    if any(word in kind for word in ("char", "clob", "text")):
        return "text"
    if not kind or "blob" in kind or kind == "bytea":
        return "blob"
    return "real"


def plain_default(default: str | None) -> str | None:
    """A column default as written, without quotes or a PostgreSQL type cast: 0, in_progress."""
    if default is None:
        return None
    default = default.split("::")[0].strip()
    if len(default) >= 2 and default[0] == default[-1] == "'":
        default = default[1:-1].replace("''", "'")
    return default
