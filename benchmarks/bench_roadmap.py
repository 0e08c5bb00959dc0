"""Roadmap pages at a large firm's size: the portfolio and one client's roadmap, warm.

    .venv/bin/python benchmarks/bench_roadmap.py [--backend sqlite postgresql] [--requests 30]

Seeds one firm with 500 clients, 20,000 actions (about 40 a client, in every state, due dates
around today), 100,000 action events, two finished assessments with scores and a review per
client (multi-row INSERTs through the storage layer, so the same code seeds both engines), signs
a member in with the Flask test client, warms up, then times GET /workspace/portfolio, a
client's roadmap page (/workspace/clients/ID/roadmap, a client with about 40 actions) and its
JSON export, --requests times each, and prints the median and the 95th percentile per engine:

    sqlite portfolio median 41.2 ms p95 48.0 ms

Target (issue 26): the portfolio and a client's roadmap answer in under 100 ms (median, warm).
The times are the app's (the test client calls it in this process; no network, no server).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backends import add_option, chosen, database, exit_on_sigterm, loadavg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment import create_app  # noqa: E402
from assessment.core.actions import Status  # noqa: E402
from assessment.core.bank import load_bank  # noqa: E402
from assessment.report import shutdown_pool  # noqa: E402
from assessment.storage import accounts, connect, create_assessment  # noqa: E402
from assessment.storage.times import stamp  # noqa: E402
from tests.workspace_fixtures import sign_in  # noqa: E402

PASSWORD = "correct horse battery staple"
TARGET_MS = 100
# The states of the seeded actions, and how often each comes up.
STATES = ((Status.PROPOSED, 15), (Status.AGREED, 25), (Status.IN_PROGRESS, 12),
          (Status.DONE, 8), (Status.VERIFIED, 20), (Status.BLOCKED, 3), (Status.DEFERRED, 7),
          (Status.RISK_ACCEPTED, 3), (Status.DROPPED, 4), (Status.NOT_CONFIRMED, 2),
          (Status.REGRESSED, 1))
PARTIES = ("provider", "client", "vendor")


def insert_many(db, table: str, rows: list[dict], chunk: int = 500) -> None:
    """Rows into a table, `chunk` to an INSERT, in one transaction."""
    columns = list(rows[0])
    names = ", ".join(columns)
    with db.write():
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            marks = ", ".join("(" + ", ".join("?" for _ in columns) + ")" for _ in part)
            db.execute(f"INSERT INTO {table} ({names}) VALUES {marks}",  # nosec B608
                       [row[c] for row in part for c in columns])


def seed(target: str, clients: int, actions: int, events: int) -> dict:
    """One firm at the given size; its member's email, and the id of a client with about the
    average number of actions."""
    rng = random.Random(26)
    today = datetime.now(UTC).date()
    db = connect(target)
    try:
        firm = accounts.create_firm(db, "Benchmark IT")
        accounts.create_user(db, firm, "ana@bench.example", "Ana Bench", PASSWORD, "admin")
        made = stamp()
        insert_many(db, "clients", [
            {"firm_id": firm, "name": f"Client {n:04d}", "sector": "Retail", "size": "12",
             "contacts": "", "notes": "", "created_at": made, "updated_at": made}
            for n in range(clients)])
        client_ids = [r["id"] for r in db.rows("SELECT id FROM clients WHERE firm_id = ? "
                                               "ORDER BY id", [firm])]
        # Two finished assessments a client, with their final scores (the bank recorded once).
        first = create_assessment(db, load_bank(ROOT / "questions"), firm_id=firm,
                                  client_id=client_ids[0])
        bank_hash = db.one("SELECT bank_hash FROM assessments WHERE id = ?", [first])["bank_hash"]
        insert_many(db, "assessments", [
            {"id": f"bench-{client}-{n}", "bank_hash": bank_hash, "status": "finished",
             "mode": "interview", "firm_id": firm, "client_id": client,
             "created_at": made, "updated_at": made,
             "finished_at": f"2026-0{n + 1}-10T10:00:00.000+00:00",
             "closed_at": f"2026-0{n + 1}-10T10:00:00.000+00:00",
             "final_score": rng.randint(30, 90)}
            for client in client_ids for n in range(2)])
        insert_many(db, "reviews", [
            {"firm_id": firm, "client_id": client,
             "period_start": (today - timedelta(days=120)).isoformat(),
             "period_end": (today - timedelta(days=30)).isoformat(),
             "next_review": (today + timedelta(days=rng.randint(-10, 80))).isoformat(),
             "status": "locked", "created_at": made, "updated_at": made}
            for client in client_ids])
        states = [s for s, weight in STATES for _ in range(weight)]
        rows = []
        for n in range(actions):
            status = rng.choice(states)
            agreed = status not in (Status.PROPOSED,)
            original = today + timedelta(days=rng.randint(-150, 90))
            pushes = rng.randint(1, 3) if status is Status.DEFERRED else 0
            due = original + timedelta(days=21 * pushes)
            verified = min(today, original + timedelta(days=rng.randint(-20, 30))) \
                if status is Status.VERIFIED else None
            rows.append({
                "firm_id": firm, "client_id": client_ids[n % clients],
                "title": f"Action {n}: turn on two-step sign-in for email",
                "why": "A stolen password opens every mailbox.", "workstream": "Identity",
                "party": PARTIES[n % 3], "status": status.value, "person": "Sam Patel",
                "due": due.isoformat() if agreed else None,
                "original_due": original.isoformat() if agreed else None, "pushes": pushes,
                "cost_low": 100, "cost_high": 400, "currency": "EUR", "score_gain": 3,
                "questions": json.dumps(["security.mfa_email"]),
                "finding": f"security.mfa_email:{n}", "severity": "serious",
                "ticket": f"T-{n}", "notes": "",
                "agreed_on": (original - timedelta(days=60)).isoformat() if agreed else None,
                "verified_on": verified.isoformat() if verified else None,
                "verified_by": "bench-assessment" if verified else None,
                "accepted_by": "Owner" if status is Status.RISK_ACCEPTED else "",
                "accepted_until": (today + timedelta(days=90)).isoformat()
                if status is Status.RISK_ACCEPTED else None,
                "created_at": made, "updated_at": made})
        insert_many(db, "actions", rows)
        action_ids = [r["id"] for r in db.rows("SELECT id FROM actions WHERE firm_id = ? "
                                               "ORDER BY id", [firm])]
        moves = [s.value for s in Status]
        insert_many(db, "action_events", [
            {"action_id": action_ids[n % len(action_ids)], "firm_id": firm, "at": made,
             "who": "ana@bench.example", "on_date": today.isoformat(),
             "from_status": rng.choice(moves), "to_status": rng.choice(moves),
             "reason": "moved in the benchmark", "due_before": None, "due_after": None,
             "assessment_id": None}
            for n in range(events)])
        counts = {t: db.one(f"SELECT count(*) AS n FROM {t}")["n"]  # nosec B608
                  for t in ("clients", "actions", "action_events")}
    finally:
        db.close()
    return {"email": "ana@bench.example", "client": client_ids[len(client_ids) // 2],
            "counts": counts}


def timed(browser, path: str, runs: int, warm: int = 5) -> list[float]:
    for _ in range(warm):
        response = browser.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code}")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = browser.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(backend: str, folder: Path, args: argparse.Namespace) -> list[str]:
    with database(backend, folder, "roadmap") as db:
        started = time.perf_counter()
        seeded = seed(db.target, args.clients, args.actions, args.events)
        print(f"{backend}: seeded {seeded['counts']} in {time.perf_counter() - started:.1f} s "
              f"({db.settings})", flush=True)
        url = db.target if backend == "postgresql" else None
        app = create_app({"SECRET_KEY": "benchmark-secret", "DATABASE": db.target,
                          "DATABASE_URL": url, "REPORT_DIR": str(folder / "reports")})
        browser = app.test_client()
        if sign_in(browser, seeded["email"], PASSWORD).status_code != 303:
            raise SystemExit("the benchmark's member could not sign in")
        client = seeded["client"]
        pages = [("portfolio", "/workspace/portfolio"),
                 ("roadmap", f"/workspace/clients/{client}/roadmap"),
                 ("roadmap.json", f"/workspace/clients/{client}/roadmap.json")]
        lines = []
        for name, path in pages:
            if browser.get(path).status_code == 404:
                lines.append(f"{backend} {name}: not there yet (GET {path} is 404)")
                continue
            times = timed(browser, path, args.requests)
            median = statistics.median(times)
            verdict = "" if name == "roadmap.json" else \
                (" (under the 100 ms target)" if median < TARGET_MS else " (OVER the target)")
            lines.append(f"{backend} {name} median {median:.1f} ms p95 {p95(times):.1f} ms"
                         f"{verdict}")
            print(lines[-1], flush=True)
        return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_option(parser)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--actions", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    exit_on_sigterm()
    print(f"load average before: {loadavg()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-roadmap-") as folder:
        try:
            for backend in chosen(args):
                results += run(backend, Path(folder), args)
        finally:
            shutdown_pool()
    print(f"\n{args.requests} warm requests each; load average after: {loadavg()}")
    print("\n".join(results))


if __name__ == "__main__":
    main()
