"""Renders per second per consumer core: the shared render queue (Huey on Redis) against the
in-process pool, on the same reports.

    .venv/bin/python benchmarks/bench_renders.py [--reports 12] [--workers 1 2] [--full]

Starts a throwaway redis-server on a free port, then for each worker count a real
`flask --app app renders work --workers N` consumer, and puts `--reports` different leadership
reports of the break-fix reference answers on the queue at once (a business name of its own
each, so none is a cached repeat), timing from the first put to the last PDF back in a web-side
cache. The same reports then go through an in-process pool of the same size. Prints reports per
second, per worker (each worker is one process, so one core when the machine has enough), the
processor seconds the consumer used per report, and the load average before and after (the
figures mean most on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment.core.bank import load_bank  # noqa: E402
from assessment.core.scoring import parse_answers, score  # noqa: E402
from assessment.report import RenderPool, ReportCache, ReportInput  # noqa: E402
from assessment.report.queue import RedisRenderQueue, queue_status  # noqa: E402
from tests.redis_server import RedisServer, redis_binary  # noqa: E402

FLASK = str(Path(sys.executable).with_name("flask"))
SECRET = "bench-renders"  # ITHEALTH_SECRET_KEY shared by the consumer and the queue client


def reports(count: int, full: bool) -> list[ReportInput]:
    bank = load_bank(ROOT / "questions")
    raw = json.loads((ROOT / "tests/fixtures/break_fix_untested_backups.json").read_text())
    answers, errors = parse_answers(bank, raw["answers"])
    assert not errors, errors
    base = ReportInput(result=score(bank, answers), business_name="", full=full,
                       assessed_on=date(2026, 12, 1))
    stamp = time.time_ns()
    return [replace(base, business_name=f"Bench Business {stamp}-{n}") for n in range(count)]


def cpu_seconds(pid: int) -> float:
    """Processor time of a process and its children that have ended, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(v) for v in fields[11:15]) / ticks  # utime stime cutime cstime
        # Children are listed by the thread that started them (the pool starts its workers
        # from threads of its own), so every thread's list is read.
        children = [child for task in Path(f"/proc/{pid}/task").iterdir()
                    for child in (task / "children").read_text().split()]
    except OSError:
        return total
    return total + sum(cpu_seconds(int(child)) for child in children)


def run_batch(cache: ReportCache, batch: list[ReportInput]) -> float:
    started = time.perf_counter()
    for report in batch:
        cache.prerender(report)
    for report in batch:
        status = cache.ask(report, wait=600)
        if status.state != "ready":
            raise SystemExit(f"a render did not finish: {status}")
    return time.perf_counter() - started


def through_queue(url: str, workers: int, batch: list[ReportInput], folder: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITHEALTH_")}
    env.update({"ITHEALTH_RENDER_QUEUE": url,
                "ITHEALTH_DATABASE": str(folder / "consumer-only.sqlite"),
                "ITHEALTH_SECRET_KEY": SECRET})
    log = folder / f"consumer-{workers}.log"
    with open(log, "wb") as out:
        consumer = subprocess.Popen([FLASK, "--app", "app", "renders", "work", "--workers",
                                     str(workers)], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
    try:
        while b"rendering reports from the queue" not in log.read_bytes():
            if consumer.poll() is not None:
                raise SystemExit(log.read_text())
            time.sleep(0.05)
        queue = RedisRenderQueue(url, limit=None, secret=SECRET)
        cache = ReportCache(folder / f"web-{workers}", pool=queue)
        before_cpu = cpu_seconds(consumer.pid)
        before = queue_status(url)["rendered"]
        seconds = run_batch(cache, batch)
        cpu = cpu_seconds(consumer.pid) - before_cpu
        rendered = queue_status(url)["rendered"] - before
        queue.close()
    finally:
        consumer.terminate()
        consumer.wait(30)
    return {"seconds": seconds, "rendered": rendered, "cpu": cpu}


def through_pool(workers: int, batch: list[ReportInput], folder: Path) -> dict:
    pool = RenderPool(workers=workers, queue_limit=None)
    try:
        pool.warm_up()
        cache = ReportCache(folder / f"pool-{workers}", pool=pool)
        seconds = run_batch(cache, batch)
    finally:
        pool.shutdown()
    return {"seconds": seconds, "rendered": len(batch), "cpu": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=12)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--full", action="store_true", help="the full report, not leadership")
    args = parser.parse_args()
    binary = redis_binary()
    if binary is None:
        raise SystemExit("redis-server is not installed (Debian package redis-server)")
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-renders-") as scratch:
        folder = Path(scratch)
        redis = RedisServer(binary).start()
        try:
            for workers in args.workers:
                queued = through_queue(redis.url, workers, reports(args.reports, args.full),
                                       folder)
                local = through_pool(workers, reports(args.reports, args.full), folder)
                rows.append((workers, queued, local))
        finally:
            redis.stop()
    variant = "full" if args.full else "leadership"
    print(f"{args.reports} different {variant} reports (break-fix answers) at once\n")
    print(f"{'workers':>7}  {'queue: reports/s':>16}  {'per worker':>10}  "
          f"{'CPU s/report':>12}  {'pool: reports/s':>15}  {'per worker':>10}")
    for workers, queued, local in rows:
        q_rate = queued["rendered"] / queued["seconds"]
        p_rate = local["rendered"] / local["seconds"]
        print(f"{workers:>7}  {q_rate:>16.2f}  {q_rate / workers:>10.2f}  "
              f"{queued['cpu'] / queued['rendered']:>12.2f}  {p_rate:>15.2f}  "
              f"{p_rate / workers:>10.2f}")
        if queued["rendered"] != args.reports:
            print(f"  the consumer rendered {queued['rendered']} jobs for {args.reports} reports")
    print(f"\nload average after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
