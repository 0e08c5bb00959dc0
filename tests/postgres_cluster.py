"""A throwaway PostgreSQL server for the tests: a cluster made with initdb in a temporary folder,
started with pg_ctl on a free loopback port (its socket in that folder too), stopped and deleted
at the end of the run. Nothing is mocked: the tests talk to a real server.

initdb refuses to run as root; as root, the cluster runs as the `postgres` user that Debian's
package creates (or `nobody`), and owns its folder. It runs with fsync off: nothing in it
outlives the run, and the sessions still commit with synchronous_commit = on.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

USER = "postgres"  # the cluster's superuser


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on the PATH, or Debian's /usr/lib/postgresql/VERSION/bin
    (the newest version)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.parent.name))

    return Path(max(candidates, key=version)).parent if candidates else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self, binaries: Path):
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="it-health-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.owner = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.owner = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            os.chown(self.folder, self.owner.pw_uid, self.owner.pw_gid)
        self._databases = 0

    def _run(self, *command: str) -> None:
        kwargs = {}
        if self.owner is not None:
            kwargs = {"user": self.owner.pw_uid, "group": self.owner.pw_gid,
                      "extra_groups": [], "cwd": self.folder}
        run = subprocess.run([str(self.binaries / command[0]), *command[1:]],
                             capture_output=True, text=True, **kwargs)
        if run.returncode != 0:
            log = self.folder / "log"
            raise RuntimeError(f"{command[0]} failed:\n{run.stdout}\n{run.stderr}\n"
                               + (log.read_text() if log.exists() else ""))

    def start(self) -> Cluster:
        self._run("initdb", "--pgdata", str(self.data), "--username", USER, "--auth", "trust",
                  "--encoding", "UTF8", "--locale", "C.UTF-8", "--no-sync")
        for attempt in range(3):
            options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c full_page_writes=off -c max_connections=200")
            try:
                self._run("pg_ctl", "--pgdata", str(self.data), "--log",
                          str(self.folder / "log"), "--options", options, "--wait", "start")
                return self
            except RuntimeError as error:
                # Another process (a second pytest-xdist worker, say) took the free port
                # between free_port() and the server's bind: try another one.
                if attempt == 2 or "already in use" not in str(error):
                    raise
                self.port = free_port()
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "immediate", "--wait",
                      "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "it_health", template: str | None = None) -> str:
        """The URL of a new database: empty, or a copy of the database at URL `template` (which
        nobody may be connected to), a cheaper start than migrating a new one."""
        self._databases += 1
        name = f"{prefix}_{self._databases}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(
                sql.Identifier(template.rsplit("/", 1)[1]))
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)
        return self.url(name)

    def empty_tables(self, url: str) -> None:
        """Every table of the app emptied (and its ids started again at 1), as a new database
        would be, in a fraction of the time. Connections left open by the test before are
        ended if they hold a lock in the way."""
        with psycopg.connect(url, autocommit=True) as conn:
            tables = [name for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename NOT LIKE '\\_%'")]
            if not tables:
                return
            statement = sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, tables)))
            conn.execute("SET lock_timeout = '2s'")
            try:
                conn.execute(statement)
            except psycopg.errors.LockNotAvailable:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                conn.execute("SET lock_timeout = 0")
                conn.execute(statement)
