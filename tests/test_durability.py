"""Nothing lost, under a real server: kill -9 of workers and of the whole server while owners
autosave, and a backup taken under load restored into a fresh instance.

Both run gunicorn on a free loopback port with a throwaway database (benchmarks/bench_faults.py and
benchmarks/backup_drill.py hold the machinery; their full-size runs print the figures quoted in
docs/operations.md). They skip, saying why, only when gunicorn is not installed.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import ROOT
from .tools import gunicorn_path

BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture
def needs_gunicorn():
    gunicorn_path()  # these tests need a real server to kill


def test_kill_9_of_workers_and_server_loses_no_acknowledged_answer(needs_gunicorn):
    """bench_faults.py --quick: ~10 worker kills and 2 whole-server kills during autosaves; every
    acknowledged answer is stored at its version or later, integrity_check ok after each kill."""
    run = subprocess.run([sys.executable, str(BENCHMARKS / "bench_faults.py"), "--quick"],
                         cwd=ROOT, capture_output=True, text=True, timeout=180)
    print(run.stdout)
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr[-3000:]}"
    assert "lost 0" in run.stdout
    assert "integrity checks ok" in run.stdout and ", failed 0" in run.stdout
    assert "5xx seen 0" in run.stdout


def test_backup_under_load_restores_every_answer_acknowledged_before_it(needs_gunicorn,
                                                                         tmp_path):
    """`flask db backup` while owners autosave; `flask db restore --yes` into a new database path;
    the restored file is sound and holds every answer acknowledged before the backup began."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from backup_drill import drill, said
    finally:
        sys.path.remove(str(BENCHMARKS))

    # In a thread of its own: the drill runs its own asyncio loop, and in the same pytest run the
    # browser tests' Playwright may have a loop running on this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(drill, tmp_path, clients=8, before=3.0, after=1.0,
                             seed_assessments=20).result()

    assert result.backup_status == 0, result.backup_output
    assert "integrity check ok" in said(result.backup_output)
    assert result.restore_status == 0, result.restore_output
    assert "integrity check ok" in said(result.restore_output)
    assert result.restored != result.live and result.restored.exists()
    # The backup ran while saves were going on, not in a quiet moment.
    assert result.before and result.during + result.after
    assert not result.counters.server_errors and not result.counters.unexpected

    # Checked here again, straight from the restored file.
    conn = sqlite3.connect(str(result.restored))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        latest = {}
        for aid, ack in result.before:
            latest[(aid, ack.question)] = ack
        missing = []
        for (aid, question), ack in latest.items():
            row = conn.execute("SELECT state, value, version FROM answers WHERE assessment_id = ? "
                               "AND question_id = ? AND source = 'owner'",
                               [aid, question]).fetchone()
            if row is None or row[2] < ack.version or (
                    row[2] == ack.version and json.loads(row[1]) != ack.choice):
                missing.append((aid, question, ack.version, ack.choice, row))
        assert not missing, f"{len(missing)} answers acknowledged before the backup: {missing[:5]}"
    finally:
        conn.close()
    assert result.seeded and result.seeded_restored == result.seeded
    # And the restored instance serves them to each owner's own session.
    assert result.served_checked == len(latest) and not result.served_missing
