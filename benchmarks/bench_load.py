"""Load: simulated owners walking the wizard with pauses, with and without report renders, on
SQLite and on PostgreSQL in the same run.

    .venv/bin/python benchmarks/bench_load.py [--users 50 100] [--seconds 300] [--baseline 120]
        [--backend sqlite postgresql]                  # the defaults: about 30 min
    .venv/bin/python benchmarks/bench_load.py --users 20 --seconds 30 --baseline 20   # 3-4 min

For each backend (both by default, one after the other; benchmarks/backends.py says how each
engine is set up: PostgreSQL is a throwaway server for the run with fsync on, as durable as
SQLite's synchronous=FULL), gunicorn starts with the shipped config (scripts/gunicorn.conf.py) on
a new database, is warmed up, and then for each number of users a baseline phase (owners only)
and a phase with 2 continuous report renders (each renderer finishes an assessment of its own,
then changes an answer before every download, so the report is never served from the cache) run
against it.

Prints, for each backend and phase, p50/p95/p99 and errors per page, the wizard pages' p99 and how
much the renders raise it, and the load average at the end of the phase; then one table with the
backends side by side (a row per page and figure, a column per backend). The backends run one
after the other, not interleaved: compare their rows with the load averages beside them. Targets
(issue "Hardening"): 0 errors, p99 under 100 ms for wizard pages at 100 owners with renders
running, p99 up by no more than 25%.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import backends
from loadgen import CSRF_INPUT, Client, Stats, json_body
from serve import ROOT, free_port

sys.path.insert(0, str(ROOT))
from assessment.core.bank import load_bank  # noqa: E402

BANK = load_bank(ROOT / "questions")
SECTIONS = [s for s in BANK.sections if s.kind == "scored"]
# Every question answered, as a finished assessment has them (a reference set of the tests).
REFERENCE_ANSWERS = json.loads((ROOT / "tests" / "fixtures" / "well_run_managed.json")
                               .read_text(encoding="utf-8"))["answers"]
PAGES = ("landing", "section GET", "answer autosave", "section POST", "review", "results")


def pause(low: float, high: float) -> float:
    return random.uniform(low, high)  # nosec B311 - think time, not security


async def owner(port: int, stats: Stats, deadline: float, think: tuple[float, float]) -> None:
    """One owner: start, then for each section read it, answer with autosaves, press Save."""
    random.seed()
    # Owners arrive at different moments, not all in the same millisecond.
    await asyncio.sleep(pause(0, think[1] * 2))
    while time.perf_counter() < deadline:
        client = Client("127.0.0.1", port)
        status, page = await client.timed(stats, "landing", "GET", "/")
        if status != 200:
            await asyncio.sleep(1)
            continue
        token = CSRF_INPUT.search(page.decode()).group(1)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        await client.request("POST", "/assessment/start", f"csrf_token={token}".encode(), form)
        for section in SECTIONS:
            if time.perf_counter() >= deadline:
                return
            status, page = await client.timed(stats, "section GET", "GET",
                                              f"/assessment/section/{section.id}")
            match = CSRF_INPUT.search(page.decode()) if status == 200 else None
            if match is None:
                break
            token = match.group(1)
            fields = [f"csrf_token={token}"]
            for q in section.questions[:3]:
                if q.type not in ("single", "yesno"):
                    continue
                await asyncio.sleep(pause(*think))
                choice = random.choice(q.choices).id  # nosec B311
                body = json_body({"question": q.id, "answer": choice, "base_version": 0,
                                  "client_key": uuid.uuid4().hex})
                status, data = await client.timed(
                    stats, "answer autosave", "POST", "/assessment/answer", body,
                    {"Content-Type": "application/json", "X-CSRFToken": token})
                fields.append(f"q_{q.id.replace('.', '__')}={choice}")
                fields.append(f"v_q_{q.id.replace('.', '__')}=1")
            await asyncio.sleep(pause(*think))
            await client.timed(stats, "section POST", "POST",
                               f"/assessment/section/{section.id}", "&".join(fields).encode(),
                               form, ok=(303, 409, 422))
        await client.timed(stats, "review", "GET", "/assessment/review")
        await asyncio.sleep(pause(*think))
        await client.timed(stats, "results", "GET", "/assessment/results", ok=(200, 303))


async def renderer(port: int, stats: Stats, deadline: float) -> None:
    """An owner who has answered everything and finished (the report is made only then), then
    changes an answer and downloads the report, again and again: a fresh render every time."""
    client = Client("127.0.0.1", port)
    _, page = await client.request("GET", "/")
    token = CSRF_INPUT.search(page.decode()).group(1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    await client.request("POST", "/assessment/start", f"csrf_token={token}".encode(), form)
    _, page = await client.request("GET", "/assessment/section/profile")
    token = CSRF_INPUT.search(page.decode()).group(1)
    headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    # A business name of its own: no other report matches.
    answers = {**REFERENCE_ANSWERS, "profile.business_name": uuid.uuid4().hex}
    for question, answer in answers.items():
        body = json_body({"question": question, "answer": answer, "base_version": 0,
                          "client_key": uuid.uuid4().hex})
        status, data = await client.request("POST", "/assessment/answer", body, headers)
        if status != 200:
            raise RuntimeError(f"renderer: the answer to {question} was refused ({status}): "
                               f"{data[:200]!r}")
    await client.request("POST", "/assessment/finish", f"csrf_token={token}".encode(), form)
    status, _ = await client.request("GET", "/assessment/results")
    if status != 200:
        raise RuntimeError(f"renderer: the assessment did not finish (results answer {status})")
    version, staff = 1, 1000
    while time.perf_counter() < deadline:
        # A staff count never used before: the report's content changes, so it is rendered anew.
        staff += 1
        body = json_body({"question": "profile.staff_count", "answer": staff,
                          "base_version": version, "client_key": uuid.uuid4().hex})
        status, _ = await client.request("POST", "/assessment/answer", body, headers)
        if status != 200:
            continue
        version += 1
        await client.timed(stats, "report render", "GET", "/assessment/report.pdf")


async def phase(port: int, users: int, seconds: float, renders: int,
                think: tuple[float, float]) -> tuple[Stats, float]:
    stats = Stats()
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    tasks = [owner(port, stats, deadline, think) for _ in range(users)]
    tasks += [renderer(port, stats, deadline) for _ in range(renders)]
    await asyncio.gather(*tasks)
    return stats, time.perf_counter() - start


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return float("nan"), float("nan"), float("nan")
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


@dataclass
class Phase:
    users: int
    renders: int
    stats: Stats
    elapsed: float
    load: str  # load averages at the end of the phase

    @property
    def title(self) -> str:
        return f"{self.users} owners" + (f" + {self.renders} continuous report renders"
                                         if self.renders else ", no renders")

    def wizard(self) -> tuple[float, int]:
        """p99 of every wizard page together, and their errors."""
        values = [v for name in PAGES for v in self.stats.latencies.get(name, [])]
        errors = sum(v for k, v in self.stats.errors.items() if k != "report render")
        return percentiles(values)[2], errors


def report(title: str, stats: Stats, elapsed: float, load: str | None = None) -> float:
    print(f"\n{title} ({elapsed:.0f} s)" + (f", load average {load}" if load else ""))
    wizard = []
    for name in PAGES + ("report render",):
        values = stats.latencies.get(name)
        if not values:
            continue
        p50, p95, p99 = percentiles(values)
        if name != "report render":
            wizard += values
        print(f"  {name:<16} {len(values):>6} requests  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
              f"p99 {p99:7.1f} ms  errors {stats.errors.get(name, 0)}")
    p99 = percentiles(wizard)[2]
    print(f"  all wizard pages: p99 {p99:.1f} ms, errors "
          f"{sum(v for k, v in stats.errors.items() if k != 'report render')}")
    return p99


def measure(port: int, users: int, seconds: float, renders: int,
            think: tuple[float, float]) -> Phase:
    stats, elapsed = asyncio.run(phase(port, users, seconds, renders, think))
    result = Phase(users, renders, stats, elapsed, backends.loadavg())
    report(result.title, stats, elapsed, result.load)
    return result


def wait_until_serving(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {timeout:g} s")


def run(db: backends.Database, folder: Path, args: argparse.Namespace) -> list[Phase]:
    """gunicorn on `db`, warmed up, then both phases for each number of users."""
    think = tuple(args.think)
    port = free_port()
    env = db.environment(PORT=str(port), ITHEALTH_REPORT_DIR=str(folder / "reports"),
                         ITHEALTH_SECRET_KEY="load", ITHEALTH_ACCESS_LOG=str(folder / "a.log"),
                         ITHEALTH_AUDIT_LOG=str(folder / "audit.log"))
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c",
                               "scripts/gunicorn.conf.py", "app:app"], cwd=ROOT, env=env)
    phases = []
    try:
        wait_until_serving(port, server)
        # Warm up: worker processes, render workers, the bank snapshot, first renders.
        asyncio.run(phase(port, 5, 15, 1, (0.2, 0.5)))
        for users in args.users:
            base = measure(port, users, args.baseline, 0, think)
            loaded = measure(port, users, args.seconds, 2, think)
            phases += [base, loaded]
            print(f"  renders raise the wizard's p99 by {rise(base, loaded)} (target <= +25%)")
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return phases


def rise(base: Phase, loaded: Phase) -> str:
    before, after = base.wizard()[0], loaded.wizard()[0]
    return f"{(after / before - 1) * 100:+.0f}%" if before > 0 else "n/a"


def table(chosen: list[str], results: dict[str, list[Phase]]) -> None:
    rows: list[tuple[str, dict[str, str] | None]] = []
    first = results[chosen[0]]
    for index, shape in enumerate(first):
        rows.append((shape.title, None))
        by_backend = {b: results[b][index] for b in chosen if index < len(results[b])}
        for name in PAGES + ("report render",):
            cells = {}
            for backend, measured in by_backend.items():
                values = measured.stats.latencies.get(name)
                if values:
                    p50, p95, p99 = percentiles(values)
                    cells[backend] = (f"{p50:.1f} / {p95:.1f} / {p99:.1f}  ({len(values)}, "
                                      f"{measured.stats.errors.get(name, 0)} err)")
            if cells:
                rows.append((f"  {name}", cells))
        rows.append(("  all wizard pages: p99, errors",
                     {b: "{:.1f} ms, {}".format(*m.wizard()) for b, m in by_backend.items()}))
        if shape.renders:
            rows.append(("  renders raise the wizard's p99",
                         {b: rise(results[b][index - 1], m) for b, m in by_backend.items()}))
        rows.append(("  load average at the end",
                     {b: m.load for b, m in by_backend.items()}))
    backends.side_by_side("side by side, ms: p50 / p95 / p99  (requests, errors)", chosen, rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--seconds", type=float, default=300, help="phase with renders")
    parser.add_argument("--baseline", type=float, default=120, help="phase without renders")
    parser.add_argument("--think", type=float, nargs=2, default=[2.0, 6.0],
                        help="pause between an owner's actions, seconds (min max)")
    backends.add_option(parser)
    args = parser.parse_args()
    chosen = backends.chosen(args)
    print(f"gunicorn with scripts/gunicorn.conf.py on {os.cpu_count()} cores; "
          f"owners pause {args.think[0]:g}-{args.think[1]:g} s between actions; "
          f"backends: {', '.join(chosen)}; load average {backends.loadavg()}", flush=True)
    results: dict[str, list[Phase]] = {}
    for backend in chosen:
        with tempfile.TemporaryDirectory() as folder, \
                backends.database(backend, Path(folder), "load") as db:
            print(f"\n=== {backend}: {db.settings}", flush=True)
            results[backend] = run(db, Path(folder), args)
    table(chosen, results)


if __name__ == "__main__":
    backends.exit_on_sigterm()
    main()
