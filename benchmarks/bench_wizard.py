"""Wizard speed: a section page GET and an answer save at 50 concurrent users, under gunicorn.

    .venv/bin/python benchmarks/bench_wizard.py [--users 50] [--seconds 20]

50 concurrent users means 50 keep-alive connections, each sending its next request as soon as
the last is answered. The same run measures a minimal Flask page served the same way: the ratio
of throughputs shows what our code costs. It also serves our app with two pages that do no page
work (benchmarks/bare_app.py): an empty page, which splits that cost between the layers every
request passes through and the section page's own work, and the smallest durable save (the CSRF
check, then one row committed to disk as an answer save commits), the floor under the answer
save. Targets (issue "Wizard"): p99 under 50 ms, 0 errors, at least a third of the minimal
page's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from loadgen import CSRF_INPUT, Client, Stats, json_body, run_users
from serve import ROOT, gunicorn

SECTION = "/assessment/section/backup"


async def new_owner(port: int) -> tuple[Client, str]:
    client = Client("127.0.0.1", port)
    _, page = await client.request("GET", "/")
    token = CSRF_INPUT.search(page.decode()).group(1)
    body = f"csrf_token={token}".encode()
    await client.request("POST", "/assessment/start", body,
                         {"Content-Type": "application/x-www-form-urlencoded"})
    _, page = await client.request("GET", SECTION)
    return client, CSRF_INPUT.search(page.decode()).group(1)


def section_gets(port: int):
    async def scenario(stats: Stats, deadline: float) -> None:
        client, _ = await new_owner(port)
        while time.perf_counter() < deadline:
            await client.timed(stats, "section page GET", "GET", SECTION)
    return scenario


def answer_saves(port: int):
    async def scenario(stats: Stats, deadline: float) -> None:
        client, token = await new_owner(port)
        version, choices, i = 0, ("daily", "weekly"), 0
        headers = {"Content-Type": "application/json", "X-CSRFToken": token}
        while time.perf_counter() < deadline:
            body = json_body({"question": "backup.automatic", "answer": choices[i % 2],
                              "base_version": version, "client_key": uuid.uuid4().hex})
            status, data = await client.timed(stats, "answer save POST", "POST",
                                              "/assessment/answer", body, headers)
            if status == 200:
                version += 1
            i += 1
    return scenario


def minimal_gets(port: int):
    async def scenario(stats: Stats, deadline: float) -> None:
        client = Client("127.0.0.1", port)
        while time.perf_counter() < deadline:
            await client.timed(stats, "minimal Flask page GET", "GET", "/")
    return scenario


def owner_requests(name: str, method: str, path: str):
    """Each user an owner of their own, sending the same request back to back (a POST as JSON,
    with the CSRF token)."""
    def make(port: int):
        async def scenario(stats: Stats, deadline: float) -> None:
            client, token = await new_owner(port)
            body, headers = (b"{}", {"Content-Type": "application/json", "X-CSRFToken": token}) \
                if method == "POST" else (b"", None)
            while time.perf_counter() < deadline:
                await client.timed(stats, name, method, path, body, headers)
        return scenario
    return make


bare_gets = owner_requests("empty page of our app GET", "GET", "/benchmark/bare")
durable_saves = owner_requests("smallest durable save POST", "POST", "/benchmark/durable")


def measure(make, port: int, users: int, seconds: float) -> tuple[Stats, float]:
    asyncio.run(run_users(users, 2, make(port)))  # warm up
    return asyncio.run(run_users(users, seconds, make(port)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {"ITHEALTH_DATABASE": str(Path(folder) / "bench.sqlite"),
               "ITHEALTH_SECRET_KEY": "benchmark"}
        results = {}
        with gunicorn("app:app", env, workers=2, threads=4) as port:
            results["section page GET"] = measure(section_gets, port, args.users, args.seconds)
            results["answer save POST"] = measure(answer_saves, port, args.users, args.seconds)
        # Where the rest goes: our app with an empty page (session, CSRF, headers only).
        with gunicorn("bare_app:app", {**env, "PYTHONPATH": str(ROOT)}, workers=2, threads=4,
                      chdir=ROOT / "benchmarks") as port:
            results["empty page of our app GET"] = measure(bare_gets, port, args.users,
                                                           args.seconds)
            results["smallest durable save POST"] = measure(durable_saves, port, args.users,
                                                            args.seconds)
        with gunicorn("minimal_app:app", workers=2, threads=4, chdir=ROOT / "benchmarks") as port:
            results["minimal Flask page GET"] = measure(minimal_gets, port, args.users,
                                                        args.seconds)
    print(f"gunicorn gthread, 2 workers x 4 threads (as scripts/gunicorn.conf.py on 2 cores); "
          f"{args.users} concurrent users, "
          f"{args.seconds:g} s each")
    for name, (stats, elapsed) in results.items():
        print(stats.report(name, elapsed))
    minimal = len(results["minimal Flask page GET"][0].latencies["minimal Flask page GET"]) / \
        results["minimal Flask page GET"][1]
    floors = {"empty page of our app GET": "no target: the layers every page pays for",
              "smallest durable save POST": "no target: the least any answer save costs here"}
    for name in ("section page GET", "answer save POST", *floors):
        stats, elapsed = results[name]
        ours = len(stats.latencies[name]) / elapsed
        target = f" ({floors.get(name, 'target >= 0.33')})"
        print(f"{name}: {ours / minimal:.2f} of the minimal page's throughput{target}")


if __name__ == "__main__":
    main()
