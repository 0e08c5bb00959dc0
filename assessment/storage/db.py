"""The SQLite connection and its rules: WAL, a busy timeout, foreign keys, and write transactions
that take the write lock up front (BEGIN IMMEDIATE), because a deferred BEGIN in WAL mode can fail
with "database is locked" instead of waiting its turn."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path) -> Database:
    """Open the database with the project's pragmas; ':memory:' gives a throwaway one."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions; we (and sqlite-utils) say BEGIN ourselves.
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        _use_wal(conn)
    # FULL: a commit is on disk before it is acknowledged, so an answer the user saw "saved"
    # survives a power cut or a killed worker.
    conn.execute("PRAGMA synchronous = FULL")
    db = Database(conn)
    db.writer_lock = None if str(path) == ":memory:" else f"{path}-writer.lock"
    return db


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
        _LOCK_FILES[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return _LOCK_FILES[key]


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """One write transaction. Nested use joins the outer transaction."""
    if db.conn.in_transaction:
        yield db
        return
    lock = _lock_fd(getattr(db, "writer_lock", None))
    with _WRITERS:
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
            try:
                db.conn.execute("COMMIT")
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
        finally:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)


def integrity_ok(db: Database) -> bool:
    return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def backup(db: Database, target: str | Path) -> None:
    """A consistent copy of the live database (VACUUM INTO), checked before it is trusted."""
    target = Path(target)
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    db.execute("VACUUM INTO ?", [str(target)])
    copy = sqlite3.connect(str(target))
    try:
        ok = copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()
    if not ok:
        target.unlink()
        raise RuntimeError(f"the backup at {target} failed its integrity check and was removed")


def restore(db: Database, source: str | Path) -> None:
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
