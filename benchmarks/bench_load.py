"""Load: simulated owners walking the wizard with pauses, with and without report renders.

    .venv/bin/python benchmarks/bench_load.py [--users 50 100] [--seconds 300] [--baseline 120]

For each number of users, a baseline phase (owners only) and a phase with 2 continuous report
renders (each render changes an answer first, so it is never served from the cache) run against
gunicorn with the shipped config on this machine. Prints p50/p95/p99 and errors per page, and how
much the renders raise the wizard's p99. Targets (issue "Hardening"): 0 errors, p99 under 100 ms
for wizard pages at 100 owners with renders running, p99 up by no more than 25%.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from loadgen import CSRF_INPUT, Client, Stats, json_body
from serve import ROOT, free_port

sys.path.insert(0, str(ROOT))
from assessment.bank import load_bank  # noqa: E402

BANK = load_bank(ROOT / "questions")
SECTIONS = [s for s in BANK.sections if s.kind == "scored"]
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
    """Change an answer, then download the report: a fresh render every time."""
    client = Client("127.0.0.1", port)
    _, page = await client.request("GET", "/")
    token = CSRF_INPUT.search(page.decode()).group(1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    await client.request("POST", "/assessment/start", f"csrf_token={token}".encode(), form)
    _, page = await client.request("GET", "/assessment/section/profile")
    token = CSRF_INPUT.search(page.decode()).group(1)
    version, name = 0, uuid.uuid4().hex  # a business name of its own: no other report matches
    headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    body = json_body({"question": "profile.business_name", "answer": name, "base_version": 0,
                      "client_key": uuid.uuid4().hex})
    await client.request("POST", "/assessment/answer", body, headers)
    while time.perf_counter() < deadline:
        # A staff count never used before: the report's content changes, so it is rendered anew.
        body = json_body({"question": "profile.staff_count", "answer": version + 1,
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
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


def report(title: str, stats: Stats, elapsed: float) -> float:
    print(f"\n{title} ({elapsed:.0f} s)")
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--seconds", type=float, default=300, help="phase with renders")
    parser.add_argument("--baseline", type=float, default=120, help="phase without renders")
    parser.add_argument("--think", type=float, nargs=2, default=[2.0, 6.0],
                        help="pause between an owner's actions, seconds (min max)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {**os.environ, "PORT": str(port),
               "ITHEALTH_DATABASE": str(Path(folder) / "load.sqlite"),
               "ITHEALTH_REPORT_DIR": str(Path(folder) / "reports"),
               "ITHEALTH_SECRET_KEY": "load", "ITHEALTH_ACCESS_LOG": str(Path(folder) / "a.log"),
               "ITHEALTH_AUDIT_LOG": str(Path(folder) / "audit.log")}
        server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c",
                                   "scripts/gunicorn.conf.py", "app:app"], cwd=ROOT, env=env)
        try:
            time.sleep(3)
            # Warm up: worker processes, render workers, the bank snapshot, first renders.
            asyncio.run(phase(port, 5, 15, 1, (0.2, 0.5)))
            print(f"gunicorn with scripts/gunicorn.conf.py on {os.cpu_count()} cores; "
                  f"owners pause {args.think[0]:g}-{args.think[1]:g} s between actions")
            for users in args.users:
                base, el = asyncio.run(phase(port, users, args.baseline, 0, tuple(args.think)))
                p99_base = report(f"{users} owners, no renders", base, el)
                loaded, el = asyncio.run(phase(port, users, args.seconds, 2, tuple(args.think)))
                p99_load = report(f"{users} owners + 2 continuous report renders", loaded, el)
                print(f"  renders raise the wizard's p99 by "
                      f"{(p99_load / p99_base - 1) * 100:+.0f}% (target <= +25%)")
        finally:
            server.terminate()
            server.wait(20)


if __name__ == "__main__":
    main()
