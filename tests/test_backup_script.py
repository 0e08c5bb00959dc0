"""scripts/backup.sh as cron runs it: an almost empty environment, the settings in the service's
environment file. docs/operations.md gives the crontab line that runs it."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from assessment.storage import accounts, connect, migrate

pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "backup.sh"
CRON_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}  # what cron gives a job


def run_backup(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", str(SCRIPT), *args], env=CRON_ENVIRONMENT,
                          capture_output=True, text=True, timeout=120)


def write_env_file(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def live_database(tmp_path, database_url):
    """The app's database with one firm in it, and the environment file lines that name it."""
    target = database_url or str(tmp_path / "live.sqlite")
    db = connect(target)
    try:
        migrate(db)
        accounts.create_firm(db, "Northgate Dental")
    finally:
        db.close()
    if database_url:
        # A URL with a query string of two parameters: a shell reading the file as code would
        # cut it at the "&" and run the rest in the background.
        separator = "&" if "?" in database_url else "?"
        url = f"{database_url}{separator}application_name=backup&connect_timeout=5"
        return [f'ITHEALTH_DATABASE_URL="{url}"', "ITHEALTH_SECRET_KEY=cron-test-key"]
    return [f"ITHEALTH_DATABASE={target}", "ITHEALTH_SECRET_KEY=cron-test-key"]


def test_a_cron_run_backs_up_the_database_the_environment_file_names(tmp_path, live_database,
                                                                     database_url):
    backups = tmp_path / "backups"
    env_file = write_env_file(tmp_path / "env", [
        "# the service's environment file", *live_database,
        f"ITHEALTH_BACKUP_DIR={backups}", "ITHEALTH_BACKUP_KEEP=2"])

    made = []
    for _ in range(3):
        run = run_backup(str(env_file))
        assert run.returncode == 0, run.stderr
        assert "integrity check ok" in run.stdout
        made.append(sorted(backups.iterdir()))
        time.sleep(1.1)  # the names carry the second; a second backup in the same one is refused

    kept = sorted(backups.iterdir())
    assert len(made[1]) == 2 and len(kept) == 2  # the third run removed the oldest
    assert made[0][0] not in kept
    assert "Removed" in run.stdout and "keeping the newest 2" in run.stdout
    suffix = ".dump" if database_url else ".sqlite"
    assert all(path.name.startswith("it-health-") and path.suffix == suffix for path in kept)
    assert all(path.stat().st_mode & 0o077 == 0 for path in kept)  # owner-only
    assert backups.stat().st_mode & 0o077 == 0

    # What was backed up is the live database, firm and all.
    if database_url:
        db = connect(database_url)
        try:
            accounts.create_firm(db, "Added after the backup")
            db.restore(kept[-1])
            names = [row["name"] for row in db.rows("SELECT name FROM firms")]
        finally:
            db.close()
    else:
        with sqlite3.connect(kept[-1]) as copy:
            names = [row[0] for row in copy.execute("SELECT name FROM firms")]
    assert names == ["Northgate Dental"]


def test_bad_settings_are_refused_with_what_to_fix(tmp_path, live_database):
    missing = run_backup(str(tmp_path / "no-such-env"))
    assert missing.returncode == 2 and "cannot read the environment file" in missing.stderr

    keep_zero = write_env_file(tmp_path / "env-keep", [*live_database, "ITHEALTH_BACKUP_KEEP=0",
                                                       f"ITHEALTH_BACKUP_DIR={tmp_path / 'b'}"])
    run = run_backup(str(keep_zero))
    assert run.returncode == 2
    assert "ITHEALTH_BACKUP_KEEP must be a whole number of at least 1, not '0'" in run.stderr
    assert not (tmp_path / "b").exists()  # nothing was written

    # The file is read as data: a line of shell code is refused, not run.
    shell_code = write_env_file(tmp_path / "env-code", [f"touch {tmp_path / 'owned'}"])
    run = run_backup(str(shell_code))
    assert run.returncode == 2 and "not a KEY=value line: touch..." in run.stderr
    assert not (tmp_path / "owned").exists()

    too_many = run_backup("a", "b")
    assert too_many.returncode == 2 and "usage: scripts/backup.sh [ENV_FILE]" in too_many.stderr
