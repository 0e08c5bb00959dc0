"""The storage engines a benchmark runs against, one after the other in one run, and the table
that sets their figures side by side (`--backend sqlite postgresql`, the default).

- sqlite: a new file in the run's temporary folder, with the app's own settings (WAL,
  synchronous=FULL: every commit is on disk before it is acknowledged).
- postgresql: a throwaway server for the run (tests/postgres_cluster.py: initdb in a temporary
  folder, pg_ctl on a free loopback port; as root it runs as the `postgres` user), one new
  database in it, the server pointed at it through ITHEALTH_DATABASE_URL. It is stopped and
  deleted at the end of the run, on an error or Ctrl-C too.

  Unlike the tests' cluster (fsync off), this one is as durable as SQLite is here, or the
  figures would not compare: fsync=on, full_page_writes=on, data checksums on,
  synchronous_commit=on (which the app sets on each of its sessions), max_connections=200,
  TCP on 127.0.0.1 only; everything else is PostgreSQL's default (shared_buffers 128MB,
  wal_sync_method fdatasync on Linux, ...). The benchmark prints the values the server reports.

Both databases are migrated through the storage layer before the server starts, as the app
would do on its first start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # assessment, tests

from assessment.storage import connect, is_url, migrate  # noqa: E402

BACKENDS = ("sqlite", "postgresql")
URL_VARIABLE = "ITHEALTH_DATABASE_URL"
SQLITE_SETTINGS = "a file, WAL, synchronous=FULL"
SHOWN = ("server_version", "fsync", "full_page_writes", "synchronous_commit", "wal_sync_method",
         "data_checksums", "shared_buffers", "max_connections")


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", nargs="+", choices=BACKENDS, metavar="BACKEND",
        help="sqlite, postgresql or both, run one after the other (default: both; sqlite alone, "
             "saying so, when PostgreSQL is not installed)")


def chosen(args: argparse.Namespace) -> list[str]:
    """The backends to run, in the order given (each once)."""
    from tests.postgres_cluster import bin_dir

    if args.backend:
        backends = list(dict.fromkeys(args.backend))
        if "postgresql" in backends and bin_dir() is None:
            raise SystemExit("--backend postgresql: PostgreSQL is not installed (initdb and "
                             "pg_ctl, Debian package postgresql)")
        return backends
    if bin_dir() is None:
        print("PostgreSQL is not installed (initdb and pg_ctl): running on sqlite only",
              flush=True)
        return ["sqlite"]
    return list(BACKENDS)


def durable_cluster(binaries: Path):
    """tests/postgres_cluster.Cluster, started with durable settings instead of the tests'."""
    from tests.postgres_cluster import USER, Cluster

    class DurableCluster(Cluster):
        def start(self) -> DurableCluster:
            self._run("initdb", "--pgdata", str(self.data), "--username", USER, "--auth",
                      "trust", "--encoding", "UTF8", "--locale", "C.UTF-8", "--data-checksums",
                      "--no-sync")
            options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                       "-c fsync=on -c full_page_writes=on -c max_connections=200")
            self._run("pg_ctl", "--pgdata", str(self.data), "--log", str(self.folder / "log"),
                      "--options", options, "--wait", "start")
            return self

    return DurableCluster(binaries)


def environment(target: str | Path, **variables: str) -> dict[str, str]:
    """This process's environment for an app server on `target` (a SQLite file or a PostgreSQL
    URL), plus `variables`. A PostgreSQL URL set outside is dropped for SQLite: the run must
    use the engine it names."""
    env = {k: v for k, v in os.environ.items() if k != URL_VARIABLE}
    env[URL_VARIABLE if is_url(target) else "ITHEALTH_DATABASE"] = str(target)
    if is_url(target):  # past one machine the app needs the shared key to start
        env.setdefault("ITHEALTH_SECRET_KEY", "benchmark-shared-key")
    env.update(variables)
    return env


@dataclass
class Database:
    backend: str  # "sqlite" or "postgresql"
    target: str  # the SQLite file's path or the PostgreSQL URL
    settings: str  # how the engine runs, for the printout
    server_log: Path | None = None  # PostgreSQL's log, deleted with its server at the end

    def environment(self, **variables: str) -> dict[str, str]:
        return environment(self.target, **variables)

    def keep(self, folder: Path) -> str:
        """Keep what the run leaves in `folder` (the SQLite file is there already; of
        PostgreSQL, deleted with its server, a pg_dump archive and the server's log). Says
        what was kept."""
        if self.backend == "sqlite":
            return "the database"
        kept = []
        try:
            db = connect(self.target)
            try:
                db.backup(folder / "database.pgdump")
            finally:
                db.close()
            kept.append("a pg_dump of the database (database.pgdump)")
        except Exception as error:  # noqa: BLE001 - what could be kept is kept
            print(f"could not dump the PostgreSQL database: {error}", file=sys.stderr)
        if self.server_log is not None and self.server_log.exists():
            shutil.copy(self.server_log, folder / "postgresql.log")
            kept.append("PostgreSQL's log (postgresql.log)")
        return ", ".join(kept) or "nothing of the PostgreSQL database"


@contextmanager
def database(backend: str, folder: Path, name: str) -> Iterator[Database]:
    """A new, migrated database on `backend` for the length of the `with` block."""
    if backend == "sqlite":
        path = str(folder / f"{name}.sqlite")
        prepare(path)
        yield Database("sqlite", path, SQLITE_SETTINGS)
        return
    from assessment.storage.postgres import close_pools
    from tests.postgres_cluster import bin_dir

    cluster = durable_cluster(bin_dir())
    try:
        cluster.start()
        url = cluster.new_database(name)
        prepare(url)
        yield Database("postgresql", url, server_settings(url), cluster.folder / "log")
    finally:
        close_pools()
        try:
            cluster.stop()
        except RuntimeError as error:  # already down (Ctrl-C reaches it too), or would not stop
            print(f"stopping the PostgreSQL server: {str(error).strip().splitlines()[0]}",
                  file=sys.stderr)
        shutil.rmtree(cluster.folder, ignore_errors=True)


def prepare(target: str) -> None:
    """The app's migrations; on PostgreSQL also amcheck, so that the storage layer's integrity
    check verifies every B-tree index and not only reads every table."""
    db = connect(target)
    try:
        migrate(db)
        if db.engine == "postgresql":
            db.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
    finally:
        db.close()


def server_settings(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return ", ".join(f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"
                         for name in SHOWN)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine moves the figures)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def side_by_side(title: str, backends: list[str],
                 rows: list[tuple[str, dict[str, str] | None]]) -> None:
    """One row per figure, one column per backend; a row without cells is a heading."""
    label_width = max([len(label) for label, _ in rows] + [len(title)])
    widths = {b: max([len(b)] + [len(cells.get(b, "")) for _, cells in rows if cells])
              for b in backends}
    print(f"\n{title:<{label_width}}  "
          + "  ".join(f"{b:<{widths[b]}}" for b in backends).rstrip())
    for label, cells in rows:
        if cells is None:
            print(label)
            continue
        print(f"{label:<{label_width}}  "
              + "  ".join(f"{cells.get(b, '-'):<{widths[b]}}" for b in backends).rstrip())


def exit_on_sigterm() -> None:
    """SIGTERM ends the run as Ctrl-C does: through every `finally`, so that the servers the
    benchmark started (PostgreSQL included) are stopped, not left behind."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
