"""A SQLite file that `flask db copy` copied into PostgreSQL is marked so (where to, without the
password, and when): the app no longer starts on it, `db copy` refuses it, and `db reopen` goes
back to it on purpose (assessment/storage/copy.py, assessment/cli/db.py, create_app).

The copies go into the tests' PostgreSQL server (tests/postgres_cluster.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assessment import create_app
from assessment.storage import connect, migrate
from assessment.storage.copy import MARK, copied_to, mark_copied, unmark
from assessment.support.config import ConfigError

from .conftest import ROOT
from .workspace_fixtures import make_member

FLASK = str(Path(sys.executable).parent / "flask")


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    """An app on SQLite, whatever the environment says."""
    for name in ("ITHEALTH_DATABASE_URL", "ITHEALTH_COPY_TO"):
        monkeypatch.delenv(name, raising=False)
    return create_app({"TESTING": True, "SECRET_KEY": "copy-secret",
                       "DATABASE": str(tmp_path / "source.sqlite")})


def start_on(path):
    return create_app({"TESTING": True, "SECRET_KEY": "copy-secret", "DATABASE": str(path)})


def flask(*args: str, database: Path, stdin: str = "") -> subprocess.CompletedProcess:
    """A real `flask --app app ...` on the SQLite file, without a PostgreSQL URL."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ITHEALTH_DATABASE_URL", "ITHEALTH_COPY_TO", "ITHEALTH_RENDER_QUEUE")}
    env.update(ITHEALTH_DATABASE=str(database), ITHEALTH_SECRET_KEY="copy-secret")
    return subprocess.run([FLASK, "--app", "app", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def copy(app, url, monkeypatch):
    """`db copy` with the URL, password and all, from the environment (as the docs say)."""
    monkeypatch.setenv("ITHEALTH_COPY_TO", url)
    result = app.test_cli_runner().invoke(args=["db", "copy"])
    monkeypatch.delenv("ITHEALTH_COPY_TO")
    return result


def test_after_a_copy_the_app_stops_on_the_file_and_db_reopen_lets_it_start_again(
        sqlite_app, postgres_cluster, monkeypatch):
    path = Path(sqlite_app.config["DATABASE"])
    make_member(sqlite_app)
    url = postgres_cluster.new_database()
    with_password = url.replace("postgres@", "postgres:s3cret-pw@")  # the test server trusts

    copied = copy(sqlite_app, with_password, monkeypatch)
    assert copied.exit_code == 0, copied.output
    shown = url.replace("postgres@", "postgres:***@")
    assert f"{path} is marked as copied to {shown}: the app no longer starts on it" in \
        copied.output
    assert "s3cret-pw" not in copied.output and b"s3cret-pw" not in path.read_bytes()

    with pytest.raises(ConfigError) as stopped:
        start_on(path)
    message = str(stopped.value)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert message.startswith(f"The SQLite database {path} was copied to {shown} on {today} at ")
    assert "the app now runs on PostgreSQL" in message
    assert "Set ITHEALTH_DATABASE_URL to that database and start again" in message
    assert message.endswith("To go back to this file on purpose, run:\n"
                            "    flask --app app db reopen")
    assert "s3cret-pw" not in message

    # Where the app runs now, it starts (the mark is only ever on the SQLite file).
    monkeypatch.setenv("ITHEALTH_DATABASE_URL", url)
    assert start_on(path).config["DATABASE_URL"] == url
    monkeypatch.delenv("ITHEALTH_DATABASE_URL")

    # The real commands: `make run` begins with `db init`, which stops with the message; asked
    # first, reopen leaves the mark alone; with --yes it removes it.
    init = flask("db", "init", database=path)
    assert init.returncode != 0 and f"was copied to {shown} on {today}" in init.stderr
    asked = flask("db", "reopen", database=path, stdin="n\n")
    assert asked.returncode == 1 and "Aborted" in asked.stderr
    assert f"{path} was copied to {shown} on {today} at " in asked.stdout
    assert "Start the app on this file again? [y/N]" in asked.stdout
    reopened = flask("db", "reopen", "--yes", database=path)
    assert reopened.returncode == 0, reopened.stderr
    assert f"{path} is no longer marked as copied: the app starts on it again" in \
        reopened.stdout
    assert flask("db", "init", database=path).returncode == 0

    again = start_on(path)
    assert again.test_client().get("/account/sign-in").status_code == 200
    assert "s3cret-pw" not in init.stdout + init.stderr + asked.stdout + reopened.stdout


def test_db_copy_refuses_a_file_copied_already_and_says_how_to_go_back(
        sqlite_app, postgres_cluster, monkeypatch):
    path = Path(sqlite_app.config["DATABASE"])
    make_member(sqlite_app)
    first = postgres_cluster.new_database()
    assert copy(sqlite_app, first, monkeypatch).exit_code == 0

    second = postgres_cluster.new_database()
    refused = copy(sqlite_app, second, monkeypatch)
    assert refused.exit_code == 1
    assert f"Error: {path} was already copied to {first} on " in refused.output
    assert "nothing was copied" in refused.output
    assert "first run: flask --app app db reopen" in refused.output
    assert "Traceback" not in refused.output
    untouched = connect(second)
    try:
        assert untouched.table_names() == []  # not even the tables were made
    finally:
        untouched.close()

    # The command line the same (create_app lets `db copy` start, to say this).
    run = flask("db", "copy", "--to", second, database=path)
    assert run.returncode == 1 and f"was already copied to {first} on " in run.stderr
    assert "flask --app app db reopen" in run.stderr

    # Reopened on purpose, it can be copied again.
    assert sqlite_app.test_cli_runner().invoke(args=["db", "reopen", "--yes"]).exit_code == 0
    assert copy(sqlite_app, second, monkeypatch).exit_code == 0
    source = connect(path)
    try:
        assert copied_to(source).url == second
    finally:
        source.close()


def test_db_reopen_on_a_file_never_copied_changes_nothing(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(args=["db", "reopen"])
    assert result.exit_code == 0
    assert "is not marked as copied to PostgreSQL; nothing to do." in result.output


def test_the_mark_s_table_is_on_both_engines_and_only_ever_filled_on_sqlite(
        tmp_path, postgres_url):
    pg, lite = connect(postgres_url), connect(tmp_path / "x.sqlite")
    try:
        migrate(lite)
        for db in (pg, lite):
            assert MARK in db.table_names()
            assert MARK not in db.schema()  # not one of the tables a copy carries over
            assert copied_to(db) is None
        mark = mark_copied(lite, "postgresql://it:pw@db.internal/it_health")
        assert mark.url == "postgresql://it:***@db.internal/it_health"
        assert copied_to(lite) == mark
        mark_copied(lite, "postgresql://it@other/it_health")  # one mark: the latest copy
        assert lite.one(f"SELECT count(*) AS n FROM {MARK}")["n"] == 1  # nosec B608 (a test)
        assert unmark(lite) and copied_to(lite) is None and not unmark(lite)
        with pytest.raises(Exception, match="only a SQLite database"):
            mark_copied(pg, "postgresql://it@db/x")
    finally:
        pg.close()
        lite.close()
