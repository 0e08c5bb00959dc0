"""Shared fixtures: the shipped bank, a throwaway app and database, a CLI runner.

Storage engines: `db` and `app` run on SQLite unless the test module says
`pytestmark = pytest.mark.both_backends`, which runs each of its tests that uses them twice, on
SQLite and on PostgreSQL (a throwaway server for the whole run: tests/postgres_cluster.py).
ITHEALTH_TEST_BACKENDS=sqlite runs only the SQLite half.

An app that a module's tests share (a module-scoped fixture, which cannot take the per-test
`database_url`) takes `module_database_url` instead and gives it to create_app as DATABASE_URL:
in a both_backends module, the module's tests then run once with a SQLite app and once with a
PostgreSQL one, on a new database of the module's own.

A test in a both_backends module that takes none of these fixtures runs once, on SQLite: that is
how a test of something only SQLite has (its files, their permissions, its backup format) stays
SQLite-only, and such a test says so.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assessment import create_app
from assessment.core.bank import load_bank
from assessment.storage import connect, migrate
from assessment.storage.postgres import close_pools

from .postgres_cluster import Cluster, bin_dir
from .tools import missing_tool

# No test looks up a real domain: the email domain check goes to a closed port on this machine
# (and says "could not check") unless a test starts its own DNS server (tests/dns_server.py).
os.environ.setdefault("ITHEALTH_DNS_SERVER", "127.0.0.1:9")

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "questions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BANK_FIXTURES = Path(__file__).resolve().parent / "bank_fixtures"


@pytest.fixture(scope="session")
def bank():
    """The shipped bank, loaded once."""
    return load_bank(QUESTIONS)


@pytest.fixture
def mini_bank_dir(tmp_path):
    """A copy of the small valid bank in tests/bank_fixtures/mini, free to modify."""
    target = tmp_path / "mini"
    shutil.copytree(BANK_FIXTURES / "mini", target)
    return target


@pytest.fixture
def mini_bank(mini_bank_dir):
    return load_bank(mini_bank_dir)


BACKENDS = [name for name in os.environ.get("ITHEALTH_TEST_BACKENDS",
                                            "sqlite,postgresql").split(",") if name]


def pytest_configure(config):
    config.addinivalue_line("markers", "both_backends: run the module's storage and app tests "
                                       "on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc):
    if not metafunc.definition.get_closest_marker("both_backends"):
        return
    if "module_backend" in metafunc.fixturenames:
        # Module scope: the tests are grouped by engine, so each shared app is made once per
        # engine.
        metafunc.parametrize("module_backend", BACKENDS, indirect=True, scope="module")
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    """A PostgreSQL server of our own for the whole run, deleted at the end."""
    binaries = bin_dir()
    if binaries is None:
        missing_tool("PostgreSQL is not installed (Debian package postgresql)")
    cluster = Cluster(binaries).start()
    yield cluster
    close_pools()
    cluster.stop()


def migrated(target):
    """`target` (a SQLite path or a PostgreSQL URL) with the schema brought up to date."""
    database = connect(target)
    try:
        migrate(database)
    finally:
        database.close()
    return target


@pytest.fixture(scope="session")
def _postgres_database(postgres_cluster):
    return migrated(postgres_cluster.new_database())


@pytest.fixture
def postgres_url(postgres_cluster, _postgres_database):
    """A migrated PostgreSQL database with every table empty."""
    postgres_cluster.empty_tables(_postgres_database)
    return migrated(_postgres_database)  # a test may have restored an older backup into it


@pytest.fixture
def backend(request):
    """The storage engine of this test: "sqlite", or "postgresql" in both_backends modules."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="module")
def module_backend(request):
    """The storage engine of a module-scoped app: "sqlite", or "postgresql" in both_backends
    modules."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="module")
def module_database_url(module_backend, request):
    """For an app shared by a module's tests: None on SQLite; on PostgreSQL, the URL of a new,
    migrated database of the module's own (its connection pool closed at the module's end).
    Give it to create_app as DATABASE_URL (None keeps the SQLite file, whatever the
    environment says)."""
    if module_backend != "postgresql":
        yield None
        return
    url = migrated(request.getfixturevalue("postgres_cluster").new_database())
    yield url
    close_pools(url)


@pytest.fixture
def database_url(backend, request, monkeypatch):
    """On PostgreSQL, the URL of an empty database, which every app the test makes uses
    (ITHEALTH_DATABASE_URL); on SQLite, None."""
    if backend != "postgresql":
        monkeypatch.delenv("ITHEALTH_DATABASE_URL", raising=False)
        return None
    url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("ITHEALTH_DATABASE_URL", url)
    return url


@pytest.fixture
def db(tmp_path, database_url):
    """A real database with the schema applied: a SQLite file, or PostgreSQL."""
    database = connect(database_url or tmp_path / "test.sqlite")
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def db_target(tmp_path, database_url):
    """Where the test's database is, for tests that open several connections to it: a migrated
    SQLite file's path, or a PostgreSQL URL."""
    return migrated(database_url or str(tmp_path / "shared.sqlite"))


@pytest.fixture
def app(tmp_path, database_url):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "DATABASE": str(tmp_path / "app.sqlite")})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- a throwaway Redis, for the render queue, health and scale-out tests ---------------------


@pytest.fixture(scope="module")
def redis_server():
    from .redis_server import start_redis

    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def queue_url(redis_server):
    """An empty Redis for one test; the app goes back to the in-process render pool after it."""
    from assessment.report.queue import configure_queue

    redis_server.flush()
    yield redis_server.url
    configure_queue(None)
