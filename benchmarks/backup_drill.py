"""The restore drill: back up the live database while owners keep saving, restore the backup into a
fresh instance, and prove that every answer acknowledged before the backup began came back.

    .venv/bin/python benchmarks/backup_drill.py [--clients 40] [--seed-assessments 10000]
                                                [--before 10] [--after 5]

1. A throwaway database gets --seed-assessments finished-looking assessments (every single-choice
   question answered), so the backup has some size; gunicorn then serves it on a free loopback
   port and --clients owners start assessments and keep autosaving (as in bench_faults.py).
2. After --before seconds, `flask --app app db backup PATH` runs against the live database while
   the saves go on; they go on for --after seconds more, then stop.
3. `flask --app app db restore PATH --yes` loads the backup into a fresh instance (a new, empty
   database path); `PRAGMA integrity_check` must say ok.
4. Every answer acknowledged before the backup command was started must be in the restored
   database at that version or later (at the same version, with the same choice), and its client
   key in the write log; every seeded answer must be there. Then gunicorn serves the restored
   database and each owner's own browser session reads its answers back through
   GET /assessment/answers.json.

Exits 1 if anything is missing or the restored file is not sound. tests/test_durability.py runs a
small drill through `drill()`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from bench_faults import (  # noqa: E402
    GRACE,
    HOST,
    SECRET,
    Ack,
    Counters,
    Owner,
    Server,
    first_section,
    integrity,
    matches,
    single_choice_plan,
)
from loadgen import Client  # noqa: E402
from serve import ROOT  # noqa: E402

FLASK = str(Path(sys.executable).parent / "flask")


def cli_env(folder: Path, database: Path) -> dict[str, str]:
    """The environment of `flask --app app ...` for one instance (nothing under instance/)."""
    return {**os.environ, "ITHEALTH_DATABASE": str(database), "ITHEALTH_SECRET_KEY": SECRET,
            "ITHEALTH_REPORT_DIR": str(folder / "reports")}


def seed(database: Path, assessments: int) -> int:
    """Fill the database with answered assessments through the storage API; returns answer rows."""
    if assessments <= 0:
        return 0
    from assessment.core.bank import Answer, load_bank
    from assessment.storage import connect, create_assessment, migrate, save_answer

    bank = load_bank(ROOT / "questions")
    plan = single_choice_plan()
    db = connect(database)
    try:
        migrate(db)
        with db.write():  # one transaction: the filler is not what is being measured
            for n in range(assessments):
                aid = create_assessment(db, bank)
                for question, choices in plan:
                    save_answer(db, aid, question, base_version=0,
                                answer=Answer("answered", choices[n % 2]))
    finally:
        db.close()
    return assessments * len(plan)


@dataclass
class DrillResult:
    live: Path
    backup: Path
    restored: Path
    backup_seconds: float
    backup_bytes: int
    restore_seconds: float
    backup_output: str
    restore_output: str
    backup_status: int
    restore_status: int
    integrity: str
    seeded: int
    seeded_restored: int
    before: list[tuple[str, Ack]]  # (assessment id, ack) acknowledged before the backup began
    during: list[tuple[str, Ack]]  # acknowledged while the backup command ran
    after: list[tuple[str, Ack]]  # acknowledged after it finished
    in_snapshot_late: int  # of during + after, how many the backup holds anyway
    missing: list[str] = field(default_factory=list)
    served_checked: int = 0
    served_missing: list[str] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)

    @property
    def ok(self) -> bool:
        return (self.backup_status == 0 and self.restore_status == 0 and self.integrity == "ok"
                and not self.missing and not self.served_missing
                and self.seeded_restored == self.seeded and bool(self.before)
                and not self.counters.server_errors and not self.counters.unexpected)


async def _run(owners: list[Owner], before: float, after: float, backup: Path,
               env: dict[str, str]) -> tuple[float, float, float, int, str]:
    """Load, the backup command in the middle of it, more load; returns its timings and output."""
    setup_until = time.monotonic() + 60
    await asyncio.gather(*(owner.setup(setup_until) for owner in owners))
    stop = threading.Event()
    until = time.monotonic() + before + after + 600 + GRACE  # a bound, never reached normally
    load = [asyncio.create_task(owner.run(lambda: not stop.is_set(), until)) for owner in owners]
    await asyncio.sleep(before)
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        FLASK, "--app", "app", "db", "backup", str(backup), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 600)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
    finished = time.monotonic()
    await asyncio.sleep(after)
    stop.set()
    await asyncio.gather(*load)
    return began, finished, finished - began, process.returncode, output.decode()


async def _read_back(port: int, owners: list[Owner]) -> dict[str, dict[str, dict]]:
    """Each owner's session cookie, against the restored instance: its records by question."""
    out = {}
    for owner in owners:
        client = Client(HOST, port)
        client.cookies = dict(owner.client.cookies)
        status, data = await asyncio.wait_for(client.request("GET", "/assessment/answers.json"),
                                              30)
        records = json.loads(data)["records"] if status == 200 else []
        out[owner.assessment_id] = {r["question_id"]: r for r in records if r["source"] == "owner"}
        if client.writer is not None:
            client.writer.close()
    return out


def said(output: str) -> str:
    """What a command said, without the audit lines (JSON) it logs beside."""
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("{")]
    return lines[-1] if lines else ""


def drill(folder: Path, clients: int = 10, before: float = 3.0, after: float = 1.0,
          seed_assessments: int = 0, workers: int = 2, threads: int = 4,
          serve_restored: bool = True) -> DrillResult:
    folder.mkdir(parents=True, exist_ok=True)
    live = folder / "live" / "it-health.sqlite"
    live.parent.mkdir(parents=True, exist_ok=True)
    backup = folder / "backups" / "it-health-drill.sqlite"
    restored = folder / "restored" / "it-health.sqlite"
    seeded = seed(live, seed_assessments)

    plan, section = single_choice_plan(), first_section()
    counters = Counters()
    server = Server(live.parent, live, workers=workers, threads=threads)
    owners = [Owner(server.port, plan, section, counters, turn=n * 7) for n in range(clients)]
    try:
        server.start()
        began, finished, backup_seconds, backup_status, backup_output = asyncio.run(
            _run(owners, before, after, backup, cli_env(live.parent, live)))
    finally:
        server.stop()

    start = time.monotonic()
    restore = subprocess.run(
        [FLASK, "--app", "app", "db", "restore", str(backup), "--yes"], cwd=ROOT,
        env=cli_env(restored.parent, restored), capture_output=True, text=True, timeout=600)
    restore_seconds = time.monotonic() - start

    result = DrillResult(
        live=live, backup=backup, restored=restored, backup_seconds=backup_seconds,
        backup_bytes=backup.stat().st_size if backup.exists() else 0,
        restore_seconds=restore_seconds, backup_output=backup_output.strip(),
        restore_output=(restore.stdout + restore.stderr).strip(), backup_status=backup_status,
        restore_status=restore.returncode,
        integrity=integrity(restored) if restored.exists() else "no restored database",
        seeded=seeded, seeded_restored=0,
        before=[(o.assessment_id, a) for o in owners for a in o.acks if a.at < began],
        during=[(o.assessment_id, a) for o in owners for a in o.acks if began <= a.at < finished],
        after=[(o.assessment_id, a) for o in owners for a in o.acks if a.at >= finished],
        in_snapshot_late=0, counters=counters)
    if result.restore_status != 0 or not restored.exists():
        result.missing.append("the restore command failed")
        return result

    conn = sqlite3.connect(str(restored), timeout=30)
    try:
        owner_ids = [o.assessment_id for o in owners]
        marks = ",".join("?" * len(owner_ids))
        result.seeded_restored = conn.execute(
            f"SELECT COUNT(*) FROM answers WHERE assessment_id NOT IN ({marks})",
            owner_ids).fetchone()[0]
        last: dict[tuple[str, str], Ack] = {}
        for aid, ack in result.before:
            last[(aid, ack.question)] = ack
            logged = conn.execute("SELECT version FROM answer_writes WHERE client_key = ?",
                                  [f"{aid}:{ack.key}"]).fetchone()
            if logged is None or logged[0] != ack.version:
                result.missing.append(f"{aid} {ack.question}: write v{ack.version} not in the log")
        for (aid, question), ack in last.items():
            row = conn.execute("SELECT state, value, version FROM answers WHERE assessment_id = ? "
                               "AND question_id = ? AND source = 'owner'",
                               [aid, question]).fetchone()
            if not matches(row, ack):
                result.missing.append(f"{aid} {question}: acknowledged v{ack.version} "
                                      f"{ack.choice!r} before the backup, restored {row!r}")
        result.in_snapshot_late = sum(
            conn.execute("SELECT 1 FROM answer_writes WHERE client_key = ?",
                         [f"{aid}:{ack.key}"]).fetchone() is not None
            for aid, ack in result.during + result.after)
    finally:
        conn.close()

    if serve_restored:
        second = Server(restored.parent, restored, workers=1, threads=4)
        try:
            second.start()
            served = asyncio.run(_read_back(second.port, owners))
        finally:
            second.stop()
        for (aid, question), ack in last.items():
            result.served_checked += 1
            record = served.get(aid, {}).get(question)
            row = None if record is None else (
                "answered", json.dumps(record["answer"]), record["version"])
            if not matches(row, ack):
                result.served_missing.append(f"{aid} {question}: acknowledged v{ack.version} "
                                             f"{ack.choice!r}, served {record!r}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seed-assessments", type=int, default=10000)
    parser.add_argument("--before", type=float, default=10.0,
                        help="seconds of saves before the backup starts")
    parser.add_argument("--after", type=float, default=5.0,
                        help="seconds of saves after the backup finished")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="backup-drill-"))
    start = time.monotonic()
    try:
        r = drill(folder, clients=args.clients, before=args.before, after=args.after,
                  seed_assessments=args.seed_assessments, workers=args.workers,
                  threads=args.threads)
    except BaseException:
        print(f"files kept in {folder}")
        raise
    c = r.counters
    late = len(r.during) + len(r.after)
    print(f"gunicorn gthread, {args.workers} workers x {args.threads} threads; {args.clients} "
          f"clients saving; {args.seed_assessments} seeded assessments ({r.seeded} answers)")
    print(f"saves acknowledged {c.acknowledged}: {len(r.before)} before the backup began, "
          f"{len(r.during)} while it ran, {len(r.after)} after it finished; 5xx seen "
          f"{c.server_errors}, conflicts {c.conflicts}")
    print(f"saves per second: {len(r.before) / args.before:.0f} before the backup, "
          f"{len(r.during) / r.backup_seconds:.0f} while it ran, "
          f"{len(r.after) / args.after:.0f} after")
    print(f"backup: {r.backup_bytes / 1e6:.1f} MB in {r.backup_seconds:.2f} s (the whole "
          f"`flask db backup` command, start-up included), exit {r.backup_status}: "
          f"{said(r.backup_output)}")
    print(f"restore into a fresh instance: {r.restore_seconds:.2f} s, exit {r.restore_status}: "
          f"{said(r.restore_output)}")
    print(f"restored integrity_check: {r.integrity}")
    present = len(r.before) - len([m for m in r.missing if "not in the log" in m])
    print(f"acknowledged before the backup began {len(r.before)}, present after restore "
          f"{present}; last answers per question missing or older {len(r.missing)}")
    print(f"seeded answers {r.seeded}, restored {r.seeded_restored}")
    print(f"acknowledged after the backup began {late}, of which in the backup anyway "
          f"{r.in_snapshot_late} (the snapshot is taken when VACUUM INTO starts)")
    print(f"read back through the restored instance by each owner's session: "
          f"{r.served_checked} answers, missing {len(r.served_missing)}")
    for line in (r.missing + r.served_missing)[:20]:
        print("  " + line)
    print(f"drill took {time.monotonic() - start:.0f} s")
    if args.keep or not r.ok:
        print(f"files kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print("ok" if r.ok else "FAILED")
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())
