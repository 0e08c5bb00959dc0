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

Cheap to set up (docs/testing.md says what each part costs):
- passwords are hashed with cheap argon2 parameters for the whole run (a sign-in costs a
  fraction of a millisecond instead of a third of a second); `app_password_hasher` gives a test
  the app's own hasher back, for the test that checks the app's real parameters;
- the shipped bank is read once per session: every app made with the shipped questions folder
  shares that one (immutable) bank;
- a database starts as a copy of a migrated template (a SQLite file, or a PostgreSQL database
  made with CREATE DATABASE ... TEMPLATE) instead of being migrated afresh;
- apps made one after another with the same render settings keep the one render pool and its
  warm worker instead of starting a new one each;
- each pytest-xdist worker has its own PostgreSQL server, report folder and ports; the
  scheduler keeps a module's tests on one engine together, so its module-scoped fixtures are
  made once per engine, and starts the longest modules first.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pytest
from argon2 import PasswordHasher

import assessment
import assessment.report
from assessment import create_app
from assessment.core.bank import load_bank
from assessment.report import get_pool
from assessment.storage import accounts, connect, migrate
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


# ---- passwords: cheap argon2 for the run -----------------------------------------------------

# The hasher the app itself uses (argon2-cffi's defaults), kept for the test of those parameters.
APP_PASSWORD_HASHER = accounts.password_hasher()
# The cheapest parameters argon2 allows: what is tested is the app's handling of passwords, not
# the cost of a hash, and at the real cost every sign-in of the suite takes a third of a second.
CHEAP_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
accounts.use_password_hasher(CHEAP_PASSWORD_HASHER)


@pytest.fixture
def app_password_hasher():
    """The app's real password hasher (argon2-cffi's default parameters) for this test only."""
    accounts.use_password_hasher(APP_PASSWORD_HASHER)
    yield APP_PASSWORD_HASHER
    accounts.use_password_hasher(CHEAP_PASSWORD_HASHER)


# ---- one shipped bank per session ------------------------------------------------------------

@functools.cache
def shipped_bank():
    return load_bank(QUESTIONS)


def _load_bank_once(directory, *args, **kwargs):
    """create_app's load_bank: the shipped folder is read once per session (a Bank is frozen,
    so sharing it cannot leak one test's changes into another); any other folder every time."""
    if not args and not kwargs and Path(directory).resolve() == QUESTIONS:
        return shipped_bank()
    return load_bank(directory, *args, **kwargs)


# create_app looks load_bank up in its own module at each call. If that module stops using the
# name, this fails here rather than quietly reading the bank for every app again.
assert assessment.load_bank is load_bank, "create_app no longer calls assessment.load_bank"
assessment.load_bank = _load_bank_once


@pytest.fixture(scope="session")
def bank():
    """The shipped bank, loaded once."""
    return shipped_bank()


# ---- one warm render pool --------------------------------------------------------------------

# create_app's configure_pool keeps a running pool with the same settings and nothing waiting
# (report/pool.py), so apps made one after another share one warm render worker.


class DefaultPool:
    """The process's default render pool (the one the apps use), looked up at each render: a
    test that shuts it down or makes an app with other settings leaves the next render a new
    one rather than a closed one. `timeout` is per render, as RenderPool's."""

    def __init__(self, timeout: float):
        self.timeout = timeout

    def submit(self, html: str, timeout: float | None = None):
        return get_pool().submit(html, self.timeout if timeout is None else timeout)

    def render(self, html: str, timeout: float | None = None) -> bytes:
        return self.submit(html, timeout).result()


@pytest.fixture(scope="session")
def render_pool():
    """For tests of rendered PDFs: the render pool the apps use, already warm after the first
    render, instead of a pool (and its worker start-up) of each module's own. Renders may take
    up to three minutes (the longest reference reports on a busy machine)."""
    return DefaultPool(timeout=180)


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


@pytest.fixture(scope="session", autouse=True)
def _report_folder(tmp_path_factory):
    """An app that names no report folder keeps its PDFs in this session's own (each
    pytest-xdist worker's its own), never in the project's instance/reports."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ITHEALTH_REPORT_DIR", str(tmp_path_factory.mktemp("reports")))
        yield


# ---- two workers (pytest-xdist) --------------------------------------------------------------

# The modules that take longest (measured with --durations; docs/testing.md), longest first.
# The scheduler hands them out first, so that the two workers finish at about the same time
# rather than one starting the longest module when the other has nothing left to do. A module
# missing here still runs, after these.
LONGEST_FIRST = (
    "tests/test_report_pdf.py",
    "tests/e2e/test_wizard.py",
    "tests/test_fuzz_forms.py",
    "tests/e2e/test_workspace.py",
    "tests/test_plan_properties.py",
    "tests/test_one_truth.py",
    "tests/test_durability.py",
    "tests/e2e/test_owner_path.py",
    "tests/test_render_queue.py",
    "tests/e2e/test_report.py",
    "tests/e2e/test_trust.py",
    "tests/test_scaleout.py",
    "tests/test_scoring_properties.py",
    "tests/test_report_cli.py",
    "tests/test_report_service.py",
    "tests/test_no_secrets.py",
    "tests/test_email_check.py",
    "tests/test_report_fonts.py",
    "tests/test_report_pdfua.py",
)


def _module_and_engine(nodeid: str) -> str:
    """A module's tests on one engine: `tests/test_x.py` or `tests/test_x.py[postgresql]`."""
    module, _, rest = nodeid.partition("::")
    params = rest.rpartition("[")[2].rstrip("]").split("-") if rest.endswith("]") else []
    return f"{module}[postgresql]" if "postgresql" in params else module


def pytest_collection_modifyitems(config, items):
    # Stable: within a module the order stays pytest's own (grouped by engine).
    def rank(item):
        module = item.nodeid.partition("::")[0]
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Each work unit is one module on one engine: its module-scoped fixtures (a live server, a
    module's database, rendered PDFs) are made once per engine, and a both_backends module's two
    halves can run on the two workers at once. Units go out in collection order (longest
    first, above), not xdist's order by number of tests."""
    if config.getoption("dist") not in ("load", "loadscope"):
        return None  # another mode asked for by name (--dist each, say): xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class ModuleAndEngine(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _module_and_engine(nodeid)

    config.option.loadscopereorder = False
    return ModuleAndEngine(config, log)


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
def _sqlite_template(tmp_path_factory):
    """A SQLite file migrated once for the session, copied for each test's database."""
    return Path(migrated(str(tmp_path_factory.mktemp("template") / "migrated.sqlite")))


@pytest.fixture
def fresh_sqlite(_sqlite_template):
    """fresh_sqlite(path) -> str: a migrated, empty SQLite database at `path`, a copy of the
    session's template (owner-only, as the app makes its files)."""
    def make(path):
        shutil.copy(_sqlite_template, path)  # copy() keeps the template's owner-only mode
        return str(path)

    return make


@pytest.fixture(scope="session")
def _postgres_template(postgres_cluster):
    """A migrated PostgreSQL database that new databases are copied from. PostgreSQL copies a
    template only while nobody is connected to it, so its connection pool is closed here."""
    url = migrated(postgres_cluster.new_database(prefix="it_health_template"))
    close_pools(url)
    return url


@pytest.fixture(scope="session")
def _postgres_database(postgres_cluster, _postgres_template):
    return postgres_cluster.new_database(template=_postgres_template)


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
    cluster = request.getfixturevalue("postgres_cluster")
    url = migrated(cluster.new_database(template=request.getfixturevalue("_postgres_template")))
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
def db(tmp_path, database_url, fresh_sqlite):
    """A real database with the schema applied: a SQLite file, or PostgreSQL."""
    database = connect(database_url or fresh_sqlite(tmp_path / "test.sqlite"))
    migrate(database)  # already up to date: this checks it, as the app does when it starts
    yield database
    database.close()


@pytest.fixture
def db_target(tmp_path, database_url, fresh_sqlite):
    """Where the test's database is, for tests that open several connections to it: a migrated
    SQLite file's path, or a PostgreSQL URL."""
    return migrated(database_url or fresh_sqlite(tmp_path / "shared.sqlite"))


@pytest.fixture
def app(tmp_path, database_url, fresh_sqlite):
    sqlite_file = tmp_path / "app.sqlite"
    if database_url is None:
        fresh_sqlite(sqlite_file)
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "DATABASE": str(sqlite_file)})


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
