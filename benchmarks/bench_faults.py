"""Nothing lost under kill -9: owners keep autosaving while workers and the whole server are killed,
on SQLite and on PostgreSQL in the same run.

    .venv/bin/python benchmarks/bench_faults.py [--seconds 240] [--clients 20] [--seed N]
        [--backend sqlite postgresql]
    .venv/bin/python benchmarks/bench_faults.py --quick      # about 20 s a backend (the tests)

Each backend (both by default, one after the other, with the same seed; benchmarks/backends.py says
how each engine is set up: PostgreSQL is a throwaway server for the run, with fsync on) gets the
same run: gunicorn (gthread, 3 workers x 4 threads, --graceful-timeout 1) serves a new database on
a free loopback port. Each client starts its own owner assessment and saves answers one after the
other through POST /assessment/answer, cycling through the bank's single-choice questions and
alternating two choices, each save with a new client key and the version it was based on. A save
that meets a broken connection (or a 5xx) is sent again with the SAME client key and base version
until the server answers; a 409 takes the server's version and moves on.

Meanwhile, every 1-2 s a random worker gets SIGKILL, and every ~15 s the whole server (master and
workers, one process group) does; then the database is checked and gunicorn starts again on the
same port and database. The check on SQLite is `PRAGMA integrity_check` on the file; on
PostgreSQL, the storage layer's (every table read with its pages' checksums, every B-tree index
checked with amcheck). On PostgreSQL only the app server is killed, never the database server:
what is tested is that a save is acknowledged only once PostgreSQL has committed it.

At the end, for every question of every client, the last ACKNOWLEDGED save (a 200 with a version)
must be in the database at that version or a later one (at the same version: the same choice),
every acknowledged client key must be in the write log with its version, versions acknowledged for
one question must only go up, and no answer row may be duplicated; all read back through the
storage layer from the database the run used.

Prints, for each backend, the saves, kills, checks and errors, then "ok: lost 0 across ..." or
FAILED; at the end, one table with the backends side by side (a row per figure, the load average
among them). The run exits 1 if on any backend any of the above fails, if an integrity check
fails, or if a 5xx or an unexpected response was seen; 2 if it did not reach the kill counts it
promises (--min-worker-kills, --min-server-kills). With --keep, or on a failure, the run's folder
is kept: the server log and the database (of PostgreSQL, a pg_dump archive and its log).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # importable from the tests too
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import backends  # noqa: E402
from loadgen import CSRF_INPUT, Client, json_body  # noqa: E402
from serve import GUNICORN, ROOT, free_port  # noqa: E402

from assessment.storage import connect  # noqa: E402

HOST = "127.0.0.1"  # only ever the loopback address of a server started here
REQUEST_TIMEOUT = 15.0  # seconds for one request; a hung request is dropped and sent again
GRACE = 30.0  # after the run, how long an unanswered save keeps being retried
SECRET = "fault-benchmark"


# --- the server ----------------------------------------------------------------------------------

def _stat(pid: int | str) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        with open(f"/proc/{pid}/stat", encoding="latin-1") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _living(match: Callable[[list[str]], bool]) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(entry)
            if fields and fields[0] not in ("Z", "X") and match(fields):
                pids.append(int(entry))
    return pids


def integrity(target: Path | str) -> str:
    """"ok" when the database is sound. A SQLite file: `PRAGMA integrity_check` (what it
    found otherwise); a PostgreSQL URL: the storage layer's check (Admin.integrity_ok)."""
    db = connect(target)
    try:
        if db.engine == "sqlite":
            return "; ".join(row["integrity_check"] for row in db.rows("PRAGMA integrity_check"))
        return "ok" if db.integrity_ok() else "a page checksum or a B-tree index check failed"
    finally:
        db.close()


class Server:
    """gunicorn on one loopback port and one database (a SQLite file or a PostgreSQL URL); it can
    be killed and started again."""

    def __init__(self, folder: Path, database: Path | str, port: int | None = None,
                 workers: int = 3, threads: int = 4):
        self.database = database
        self.port = port or free_port()
        self.workers, self.threads = workers, threads
        self.log_path = folder / "gunicorn.log"
        self.env = backends.environment(database, ITHEALTH_SECRET_KEY=SECRET,
                                        ITHEALTH_REPORT_DIR=str(folder / "reports"))
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        for _ in range(3):
            with open(self.log_path, "ab") as log:
                # Its own process group: "the whole server" is one killpg away, including a
                # worker the master is forking at that very moment.
                self.process = subprocess.Popen(
                    [GUNICORN, "-k", "gthread", "-w", str(self.workers), "--threads",
                     str(self.threads), "--graceful-timeout", "1", "-b", f"{HOST}:{self.port}",
                     "--log-level", "warning", "app:app"],
                    cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)
            if self._ready(timeout):
                return
            self.kill_all()
        raise RuntimeError(f"gunicorn did not start on port {self.port}; see {self.log_path}")

    def _ready(self, timeout: float) -> bool:
        until = time.monotonic() + timeout
        while time.monotonic() < until and self.process.poll() is None:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                conn.request("GET", "/")
                if conn.getresponse().status == 200:
                    return True
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.05)
        return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def worker_pids(self) -> list[int]:
        if not self.running:
            return []
        master = self.process.pid
        return _living(lambda fields: int(fields[1]) == master)

    def kill_worker(self, rng: random.Random) -> bool:
        pids = self.worker_pids()
        if not pids:
            return False
        try:
            os.kill(rng.choice(pids), signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True

    def kill_all(self, timeout: float = 10.0) -> None:
        """kill -9 the master and every worker, and wait until none of them is left."""
        if self.process is None:
            return
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout)
        until = time.monotonic() + timeout
        while _living(lambda fields: int(fields[2]) == group):
            if time.monotonic() > until:
                raise RuntimeError(f"processes of group {group} survived SIGKILL")
            time.sleep(0.02)

    def stop(self) -> None:
        """A normal shutdown (SIGTERM), or kill -9 if it takes too long."""
        if not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            pass
        self.kill_all()

    def tracebacks(self) -> int:
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(encoding="utf-8", errors="replace").count("Traceback")


# --- the clients ---------------------------------------------------------------------------------

def single_choice_plan() -> list[tuple[str, tuple[str, str]]]:
    """(question id, two of its choice ids) for every single-choice question of the bank."""
    from assessment.core.bank import load_bank

    bank = load_bank(ROOT / "questions")
    return [(q.id, (q.choices[0].id, q.choices[1].id))
            for q in bank.questions if q.type == "single" and len(q.choices) >= 2]


def first_section() -> str:
    from assessment.core.bank import load_bank

    return load_bank(ROOT / "questions").sections[0].id


@dataclass
class Ack:
    """One acknowledged save: the server said 200 with this version."""
    question: str
    choice: str
    version: int
    key: str
    at: float  # time.monotonic() when the answer arrived
    replayed: bool


@dataclass
class Counters:
    attempted: int = 0
    acknowledged: int = 0
    replayed: int = 0  # acknowledged on a retry, the first attempt having been committed already
    retried: int = 0
    conflicts: int = 0
    server_errors: int = 0  # 5xx
    connection_errors: int = 0
    gave_up: int = 0
    unexpected: Counter = field(default_factory=Counter)  # status -> count


class Unreachable(Exception):
    """No HTTP answer: refused, reset, closed early or timed out."""


class Owner:
    """One browser: its own session, its own assessment, saving one answer after another."""

    def __init__(self, port: int, plan: list[tuple[str, tuple[str, str]]], section: str,
                 counters: Counters, turn: int = 0):
        self.client = Client(HOST, port)
        self.plan, self.section, self.counters = plan, section, counters
        self.turn = turn
        self.assessment_id: str | None = None
        self.token: str | None = None
        self.base: dict[str, int] = {}  # question -> the latest version the server told us
        self.acks: list[Ack] = []

    def _drop(self) -> None:
        if self.client.writer is not None:
            try:
                self.client.writer.close()
            except Exception:  # noqa: BLE001 - the socket is being thrown away anyway
                pass
        self.client.writer = None

    async def send(self, method: str, path: str, body: bytes = b"",
                   headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self.client.request(method, path, body, headers),
                                          REQUEST_TIMEOUT)
        except (TimeoutError, OSError, EOFError, ValueError, IndexError) as error:
            self._drop()
            raise Unreachable(repr(error)) from None

    async def setup(self, until: float) -> None:
        """Landing page, POST /assessment/start, a section page (CSRF token), answers.json (id)."""
        delay = 0.05
        while True:
            try:
                status, page = await self.send("GET", "/")
                token = CSRF_INPUT.search(page.decode()) if status == 200 else None
                if token:
                    status, _ = await self.send(
                        "POST", "/assessment/start", f"csrf_token={token.group(1)}".encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"})
                if token and status == 303:
                    status, page = await self.send("GET", f"/assessment/section/{self.section}")
                    token = CSRF_INPUT.search(page.decode()) if status == 200 else None
                if token and status == 200:
                    status, data = await self.send("GET", "/assessment/answers.json")
                    if status == 200:
                        self.assessment_id = json.loads(data)["assessment"]["id"]
                        self.token = token.group(1)
                        return
                if status >= 500:
                    self.counters.server_errors += 1
            except Unreachable:
                self.counters.connection_errors += 1
            if time.monotonic() > until:
                raise RuntimeError("could not start an assessment in time")
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.5)

    async def save(self, question: str, choice: str, until: float) -> None:
        """Save one answer; retried with the same key and base version until the server answers."""
        counters = self.counters
        counters.attempted += 1
        key = uuid.uuid4().hex
        body = json_body({"question": question, "answer": choice,
                          "base_version": self.base.get(question, 0), "client_key": key})
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.token}
        delay, attempts = 0.05, 0
        while True:
            if attempts:
                counters.retried += 1
            attempts += 1
            try:
                status, data = await self.send("POST", "/assessment/answer", body, headers)
            except Unreachable:
                counters.connection_errors += 1
                status, data = 0, b""
            if status == 200:
                reply = json.loads(data)
                self.base[question] = reply["version"]
                self.acks.append(Ack(question, choice, reply["version"], key, time.monotonic(),
                                     bool(reply.get("replayed"))))
                counters.acknowledged += 1
                counters.replayed += bool(reply.get("replayed"))
                return
            if status == 409:
                counters.conflicts += 1
                self.base[question] = json.loads(data)["version"]
                return
            if 0 < status < 500:
                counters.unexpected[status] += 1
                return
            if status >= 500:
                counters.server_errors += 1
            if time.monotonic() > until:
                counters.gave_up += 1
                return
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.5)

    async def run(self, keep_going: Callable[[], bool], until: float) -> None:
        """Save answers while keep_going() says so; the last one may be retried until `until`."""
        while keep_going():
            question, choices = self.plan[self.turn % len(self.plan)]
            choice = choices[(self.turn // len(self.plan)) % 2]
            await self.save(question, choice, until)
            self.turn += 1

    def last_acks(self) -> dict[str, Ack]:
        last: dict[str, Ack] = {}
        for ack in self.acks:
            last[ack.question] = ack
        return last


# --- the checks ----------------------------------------------------------------------------------

@dataclass
class Verdict:
    answers_checked: int = 0
    writes_checked: int = 0
    lost: list[str] = field(default_factory=list)
    writes_missing: list[str] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)
    duplicates: int = 0


def matches(row, ack: Ack) -> bool:
    """The stored row holds this acknowledged answer, or a later one."""
    if row is None:
        return False
    state, value, version = row
    if version != ack.version:
        return version > ack.version
    return state == "answered" and value is not None and json.loads(value) == ack.choice


def verify(database: Path | str, owners: list[Owner]) -> Verdict:
    """Every acknowledged save read back from the database (a SQLite file or a PostgreSQL URL)
    through the storage layer."""
    verdict = Verdict()
    conn = connect(database)
    try:
        for owner in owners:
            aid = owner.assessment_id
            for question, ack in owner.last_acks().items():
                verdict.answers_checked += 1
                found = conn.one(
                    "SELECT state, value, version FROM answers WHERE assessment_id = ? AND "
                    "question_id = ? AND source = 'owner'", [aid, question])
                row = tuple(found.values()) if found else None
                if not matches(row, ack):
                    verdict.lost.append(f"{aid} {question}: acknowledged v{ack.version} "
                                        f"{ack.choice!r}, stored {row!r}")
            seen: dict[str, int] = {}
            for ack in owner.acks:
                verdict.writes_checked += 1
                found = conn.one(
                    "SELECT assessment_id, question_id, version FROM answer_writes "
                    "WHERE client_key = ?", [f"{aid}:{ack.key}"])
                logged = tuple(found.values()) if found else None
                if logged != (aid, ack.question, ack.version):
                    verdict.writes_missing.append(f"{aid} {ack.question} key {ack.key}: "
                                                  f"acknowledged v{ack.version}, logged {logged}")
                if ack.version <= seen.get(ack.question, 0):
                    verdict.regressions.append(f"{aid} {ack.question}: v{ack.version} "
                                               f"acknowledged after v{seen[ack.question]}")
                seen[ack.question] = ack.version
        verdict.duplicates = conn.one(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM answers GROUP BY assessment_id, "
            "question_id, source HAVING COUNT(*) > 1) AS duplicated")["n"]
    finally:
        conn.close()
    return verdict


# --- the run -------------------------------------------------------------------------------------

@dataclass
class Chaos:
    worker_kills: int = 0
    server_kills: int = 0
    integrity_ok: int = 0
    integrity_failed: list[str] = field(default_factory=list)
    restart_seconds: list[float] = field(default_factory=list)  # kill -9 to serving again
    error: str | None = None


def chaos(server: Server, stop_at: float, worker_every: tuple[float, float], server_every: float,
          rng: random.Random, result: Chaos, stop: threading.Event) -> None:
    """Kill workers and the whole server until stop_at; check the file after each server kill."""
    try:
        now = time.monotonic()
        next_worker = now + rng.uniform(*worker_every)
        next_server = now + server_every
        while not stop.is_set() and (now := time.monotonic()) < stop_at:
            if now >= next_server:
                down = time.monotonic()
                server.kill_all()
                result.server_kills += 1
                verdict = integrity(server.database)
                if verdict == "ok":
                    result.integrity_ok += 1
                else:
                    result.integrity_failed.append(verdict)
                server.start()
                result.restart_seconds.append(time.monotonic() - down)
                next_server += server_every  # a fixed schedule, however long restarts take
                next_worker = time.monotonic() + rng.uniform(*worker_every)
            elif now >= next_worker:
                result.worker_kills += server.kill_worker(rng)
                next_worker = now + rng.uniform(*worker_every)
            stop.wait(0.02)
    except Exception as error:  # noqa: BLE001 - reported, and the run fails
        result.error = f"{type(error).__name__}: {error}"


async def drive(owners: list[Owner], deadline: float, stop: threading.Event) -> None:
    setup_until = time.monotonic() + 60
    await asyncio.gather(*(owner.setup(setup_until) for owner in owners))
    await asyncio.gather(*(owner.run(lambda: time.monotonic() < deadline and not stop.is_set(),
                                     deadline + GRACE) for owner in owners))


@dataclass
class Settings:
    """One run's shape, the same for every backend."""
    seconds: float
    clients: int
    workers: int
    threads: int
    worker_every: tuple[float, float]
    server_every: float
    min_worker: int
    min_server: int
    seed: int
    keep: bool


@dataclass
class Outcome:
    backend: str
    counters: Counters
    chaos: Chaos
    verdict: Verdict
    elapsed: float
    tracebacks: int
    load: str  # load averages at the end of the run
    status: int  # 0 ok, 1 failed, 2 too few kills


def run(db: backends.Database, folder: Path, settings: Settings) -> Outcome:
    """The run on one database: clients save, the killer kills, then every check; prints the
    figures and the verdict."""
    plan, section = single_choice_plan(), first_section()
    rng = random.Random(settings.seed)
    server = Server(folder, db.target, workers=settings.workers, threads=settings.threads)
    counters, result, stop = Counters(), Chaos(), threading.Event()
    owners = [Owner(server.port, plan, section, counters, turn=rng.randrange(len(plan)))
              for _ in range(settings.clients)]
    started = time.monotonic()
    try:
        server.start()
        deadline = time.monotonic() + settings.seconds
        # The last server kill leaves time to come back before the clients stop.
        killer = threading.Thread(
            target=chaos, args=(server, deadline - 3, settings.worker_every,
                                settings.server_every, rng, result, stop), daemon=True)
        killer.start()
        try:
            asyncio.run(drive(owners, deadline, stop))
        finally:
            stop.set()
            killer.join(60)
        server.stop()
        final = integrity(db.target)
        if final == "ok":
            result.integrity_ok += 1
        else:
            result.integrity_failed.append(final)
        verdict = verify(db.target, owners)
    except BaseException:
        print(f"{db.keep(folder)} and the server log kept in {folder}")
        raise
    finally:
        server.kill_all()
    elapsed = time.monotonic() - started
    tracebacks = server.tracebacks()
    load = backends.loadavg()

    c = counters
    print(f"saves attempted {c.attempted}, acknowledged {c.acknowledged} "
          f"({c.replayed} replayed after a lost response), retried {c.retried}, "
          f"conflicts {c.conflicts}, given up {c.gave_up}")
    print(f"worker kills {result.worker_kills}, server kills {result.server_kills}")
    print(f"integrity checks ok {result.integrity_ok}, failed {len(result.integrity_failed)}")
    if result.restart_seconds:
        print(f"server back after a kill -9 (check included) in "
              f"{sum(result.restart_seconds) / len(result.restart_seconds):.2f} s on average, "
              f"{max(result.restart_seconds):.2f} s at most")
    print(f"5xx seen {c.server_errors}, unexpected responses {sum(c.unexpected.values())}"
          f"{' ' + dict(c.unexpected).__repr__() if c.unexpected else ''}, connection errors "
          f"{c.connection_errors}, server tracebacks logged {tracebacks}")
    print(f"checked {verdict.answers_checked} acknowledged answers (last per question) and "
          f"{verdict.writes_checked} acknowledged writes in {elapsed:.0f} s, load average {load}")
    print(f"acknowledged answers lost {len(verdict.lost)}, acknowledged writes missing from the "
          f"log {len(verdict.writes_missing)}, version regressions {len(verdict.regressions)}, "
          f"duplicate rows {verdict.duplicates}")
    problems = verdict.lost + verdict.writes_missing + verdict.regressions
    for line in problems[:20] + [f"integrity: {v}" for v in result.integrity_failed[:5]]:
        print("  " + line)
    if result.error:
        print(f"the killer stopped early: {result.error}")
    failed = bool(problems or verdict.duplicates or result.integrity_failed or c.server_errors
                  or c.unexpected or tracebacks or result.error or not c.acknowledged)
    short = (result.worker_kills < settings.min_worker
             or result.server_kills < settings.min_server)
    if failed or settings.keep:
        print(f"{db.keep(folder)} and the server log kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    outcome = Outcome(db.backend, counters, result, verdict, elapsed, tracebacks, load,
                      1 if failed else 2 if short else 0)
    if failed:
        print(f"FAILED on {db.backend} (seed {settings.seed})")
    elif short:
        print(f"too few kills for this run to count: wanted at least {settings.min_worker} "
              f"worker kills and {settings.min_server} server kills")
    else:
        print(f"ok: lost 0 across {result.worker_kills} worker kills and "
              f"{result.server_kills} server kills")
    return outcome


def table(outcomes: list[Outcome]) -> None:
    """The backends' figures side by side."""
    def row(label: str, figure: Callable[[Outcome], object]) -> tuple[str, dict[str, str]]:
        return label, {o.backend: str(figure(o)) for o in outcomes}

    def restarts(o: Outcome) -> str:
        times = o.chaos.restart_seconds
        return f"{sum(times) / len(times):.2f} / {max(times):.2f}" if times else "-"

    rows = [
        row("saves attempted", lambda o: o.counters.attempted),
        row("  acknowledged (replayed)",
            lambda o: f"{o.counters.acknowledged} ({o.counters.replayed})"),
        row("  retried, conflicts, given up", lambda o: f"{o.counters.retried}, "
            f"{o.counters.conflicts}, {o.counters.gave_up}"),
        row("worker kills, server kills",
            lambda o: f"{o.chaos.worker_kills}, {o.chaos.server_kills}"),
        row("server back after kill -9, s: mean / max", restarts),
        row("integrity checks ok, failed",
            lambda o: f"{o.chaos.integrity_ok}, {len(o.chaos.integrity_failed)}"),
        row("5xx, unexpected responses", lambda o: f"{o.counters.server_errors}, "
            f"{sum(o.counters.unexpected.values())}"),
        row("connection errors (while killed)", lambda o: o.counters.connection_errors),
        row("server tracebacks logged", lambda o: o.tracebacks),
        row("acknowledged answers checked, writes",
            lambda o: f"{o.verdict.answers_checked}, {o.verdict.writes_checked}"),
        row("acknowledged answers lost", lambda o: len(o.verdict.lost)),
        row("writes missing from the log", lambda o: len(o.verdict.writes_missing)),
        row("version regressions, duplicate rows",
            lambda o: f"{len(o.verdict.regressions)}, {o.verdict.duplicates}"),
        row("seconds", lambda o: f"{o.elapsed:.0f}"),
        row("load average at the end", lambda o: o.load),
        row("verdict", lambda o: ("ok", "FAILED", "too few kills")[o.status]),
    ]
    backends.side_by_side("side by side", [o.backend for o in outcomes], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="about 20 s a backend: 10-odd worker kills and 2 server kills")
    parser.add_argument("--seconds", type=float, help="length of the run (default 240; quick 20)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-kill-every", type=float, nargs=2, metavar=("MIN", "MAX"),
                        help="seconds between worker kills (default 1 2; quick 0.8 1.4)")
    parser.add_argument("--server-kill-every", type=float,
                        help="seconds between server kills (default 15; quick 7)")
    parser.add_argument("--min-worker-kills", type=int, help="default 100; quick 5")
    parser.add_argument("--min-server-kills", type=int, help="default 10; quick 2")
    parser.add_argument("--seed", type=int, help="for the kill schedule (printed; default random)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database (of PostgreSQL, a pg_dump) and server log")
    backends.add_option(parser)
    args = parser.parse_args(argv)
    chosen = backends.chosen(args)
    quick = args.quick
    settings = Settings(
        seconds=args.seconds or (20.0 if quick else 240.0),
        clients=args.clients, workers=args.workers, threads=args.threads,
        worker_every=tuple(args.worker_kill_every or ((0.8, 1.4) if quick else (1.0, 2.0))),
        server_every=args.server_kill_every or (7.0 if quick else 15.0),
        min_worker=args.min_worker_kills if args.min_worker_kills is not None else
        (5 if quick else 100),
        min_server=args.min_server_kills if args.min_server_kills is not None else
        (2 if quick else 10),
        seed=args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30),
        keep=args.keep)
    print(f"gunicorn gthread, {settings.workers} workers x {settings.threads} threads, "
          f"graceful-timeout 1; {settings.clients} clients, {settings.seconds:g} s; a worker "
          f"killed every {settings.worker_every[0]:g}-{settings.worker_every[1]:g} s, the server "
          f"every {settings.server_every:g} s; {len(single_choice_plan())} single-choice "
          f"questions; seed {settings.seed}; backends: {', '.join(chosen)}; load average "
          f"{backends.loadavg()}", flush=True)
    outcomes = []
    for backend in chosen:
        folder = Path(tempfile.mkdtemp(prefix=f"bench-faults-{backend}-"))
        with backends.database(backend, folder, "faults") as db:
            print(f"\n=== {backend}: {db.settings}", flush=True)
            outcomes.append(run(db, folder, settings))
    table(outcomes)
    # Failed anywhere (1) before too few kills anywhere (2).
    status = 1 if any(o.status == 1 for o in outcomes) else max(o.status for o in outcomes)
    if status == 1:
        print(f"FAILED on {', '.join(o.backend for o in outcomes if o.status == 1)} "
              f"(seed {settings.seed})")
    elif status == 2:
        print("too few kills on " + ", ".join(o.backend for o in outcomes if o.status == 2))
    else:
        print(f"ok on {', '.join(chosen)}: no acknowledged answer lost")
    return status


if __name__ == "__main__":
    backends.exit_on_sigterm()
    sys.exit(main())
