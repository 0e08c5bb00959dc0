"""No secret in any output: `redact` on every form a password takes, then every command that
takes a URL or connects, run against a database or queue that is not there (or refuses the
password), with a planted password that must never show in stdout, stderr or the logs, while
the message still says what is wrong. And one key for the cluster: past one machine the app does
not start without ITHEALTH_SECRET_KEY, and old keys in ITHEALTH_SECRET_KEY_FALLBACKS still open
sessions."""

from __future__ import annotations

import logging
import os
import subprocess  # nosec B404
import sys
from pathlib import Path

import pytest
from flask import request

from assessment import create_app
from assessment.storage import describe
from assessment.support.config import ConfigError
from assessment.support.redact import MASK, RedactingFilter, has_password, redact

from .postgres_cluster import free_port
from .redis_server import start_redis

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
PLANTED = "Pl4nted-S3cret"


# ---- redact ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql://it_health:Pl4nted-S3cret@db.internal/it_health",
     "postgresql://it_health:***@db.internal/it_health"),
    ("postgres://u:Pl4nted-S3cret@127.0.0.1:5432/x?sslmode=require",
     "postgres://u:***@127.0.0.1:5432/x?sslmode=require"),
    ("postgresql://u:p%40Pl4nted-S3cret@h/d", "postgresql://u:***@h/d"),
    ("redis://:Pl4nted-S3cret@redis.internal:6379/0", "redis://:***@redis.internal:6379/0"),
    ("rediss://queue:Pl4nted-S3cret@redis.internal:6380/1",
     "rediss://queue:***@redis.internal:6380/1"),
    ("redis://:Pl4nted@S3cret@h:6379/0", "redis://:***@h:6379/0"),  # an "@" in the password
    ("redis://h:6379/0?password=Pl4nted-S3cret&db=1", "redis://h:6379/0?password=***&db=1"),
    ("unix:///run/redis.sock?db=0&password=Pl4nted-S3cret",
     "unix:///run/redis.sock?db=0&password=***"),
    ("postgresql://u@h/d?sslpassword=Pl4nted-S3cret&sslmode=verify-full",
     "postgresql://u@h/d?sslpassword=***&sslmode=verify-full"),
    ("https://api.example/x?access_token=Pl4nted-S3cret", "https://api.example/x?access_token=***"),
    ("host=db.internal port=5432 password=Pl4nted-S3cret dbname=it_health",
     "host=db.internal port=5432 password=*** dbname=it_health"),
    ("host=db password = 'Pl4nted S3cret\\'s' user=u", "host=db password = '***' user=u"),
    ("PGPASSWORD=Pl4nted-S3cret pg_dump", "PGPASSWORD=*** pg_dump"),
    ("{'password': 'Pl4nted-S3cret', 'host': 'h'}", "{'password': '***', 'host': 'h'}"),
    ('{"password": "Pl4nted-S3cret"}', '{"password": "***"}'),
    ('invalid URI query parameter: "bogus" in "postgresql://u:Pl4nted-S3cret@h/d?bogus=1"',
     'invalid URI query parameter: "bogus" in "postgresql://u:***@h/d?bogus=1"'),
])
def test_redact_hides_the_password_and_keeps_the_rest(text, expected):
    assert redact(text) == expected
    assert PLANTED not in expected and MASK in expected
    assert has_password(text)


@pytest.mark.parametrize("text", [
    "postgresql://it_health@db.internal:5432/it_health?sslmode=verify-full",
    "redis://127.0.0.1:6379/0",
    "/srv/it-health/instance/it-health.sqlite",
    "Database ready at postgresql://u@h/d (applied core_tables).",
    'connection to server at "127.0.0.1", port 1 failed: Connection refused',
    "Error 111 connecting to 127.0.0.1:1. Connection refused.",
    "Enter a password of at least 12 characters; passwords: 3, passes=2, author=Jane",
    "mail ana@northgate.example, see https://example.com:8443/path",
    "",
])
def test_redact_leaves_ordinary_text_alone(text):
    assert redact(text) == text
    assert not has_password(text)


def test_describe_shows_a_database_without_its_password():
    assert describe(f"postgresql://u:{PLANTED}@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert describe("/tmp/x.sqlite") == "/tmp/x.sqlite"


def test_the_filter_redacts_messages_arguments_and_tracebacks():
    logger = logging.getLogger("it_health.test_no_secrets")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("connecting to %s", f"redis://:{PLANTED}@h:1/0")
        try:
            raise RuntimeError(f"cannot connect to postgresql://u:{PLANTED}@h/d")
        except RuntimeError:
            logger.exception("startup failed")
    finally:
        logger.removeHandler(handler)
    joined = "\n".join(records)
    assert PLANTED not in joined
    assert "redis://:***@h:1/0" in joined and "postgresql://u:***@h/d" in joined
    assert "Traceback" in joined


# ---- every command that takes a URL or connects ----------------------------------------------

def closed_port_url(scheme: str = "postgresql") -> str:
    port = free_port()
    if scheme == "redis":
        return f"redis://:{PLANTED}@127.0.0.1:{port}/0"
    return f"postgresql://it_health:{PLANTED}@127.0.0.1:{port}/it_health"


def assert_clean(output: str, *, shows: str) -> None:
    assert PLANTED not in output, output
    assert shows in output, output
    assert "Traceback" not in output, output


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    for name in ("ITHEALTH_DATABASE_URL", "ITHEALTH_RENDER_QUEUE", "ITHEALTH_COPY_TO"):
        monkeypatch.delenv(name, raising=False)
    return create_app({"TESTING": True, "SECRET_KEY": "no-secrets",
                       "DATABASE": str(tmp_path / "source.sqlite")})


@pytest.fixture
def down_db_app(tmp_path, monkeypatch):
    """An app whose PostgreSQL is not there: create_app connects, so the CLI commands of this
    one are invoked with the URL changed after it started (as when the server goes away)."""
    monkeypatch.delenv("ITHEALTH_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "no-secrets",
                      "DATABASE": str(tmp_path / "app.sqlite")})
    app.config["DATABASE_URL"] = closed_port_url()
    return app


@pytest.mark.parametrize("args", [
    ["db", "init"],
    ["db", "backup", "backup.db"],
    ["db", "restore", "--yes", "backup.db"],
    ["assess", "export", "1"],
    ["users", "set-password", "--email", "ana@northgate.example", "--password-stdin"],
    ["users", "create", "--admin", "--firm", "Northgate", "--email", "ana@northgate.example",
     "--name", "Ana", "--password-stdin"],
])
def test_db_commands_on_an_unreachable_database_keep_the_password(down_db_app, args, caplog,
                                                                  tmp_path):
    caplog.set_level(logging.DEBUG)
    args = [str(tmp_path / a) if a == "backup.db" else a for a in args]
    result = down_db_app.test_cli_runner().invoke(
        args=args, input="a long enough password 123\n")
    assert result.exit_code == 1
    assert_clean(result.output + result.stderr, shows="127.0.0.1")
    assert "it_health:***@127.0.0.1" in result.stderr
    assert PLANTED not in caplog.text


def test_db_copy_refuses_a_password_on_the_command_line_and_says_how_to_pass_it(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(
        args=["db", "copy", "--to", closed_port_url()])
    assert result.exit_code == 2
    assert_clean(result.output + result.stderr, shows="ITHEALTH_COPY_TO")
    assert "--to -" in result.stderr and "nothing was copied" in result.stderr


@pytest.mark.parametrize("how", ["environment", "stdin"])
def test_db_copy_takes_the_url_from_the_environment_or_stdin_and_keeps_the_password(
        sqlite_app, monkeypatch, how, caplog):
    caplog.set_level(logging.DEBUG)
    url = closed_port_url()
    runner = sqlite_app.test_cli_runner()
    if how == "environment":
        monkeypatch.setenv("ITHEALTH_COPY_TO", url)
        result = runner.invoke(args=["db", "copy"])
    else:
        result = runner.invoke(args=["db", "copy", "--to", "-"], input=url + "\n")
    assert result.exit_code == 1
    assert_clean(result.output + result.stderr, shows="cannot connect to")
    assert "postgresql://it_health:***@127.0.0.1" in result.stderr
    assert "Connection refused" in result.stderr
    assert PLANTED not in caplog.text


def test_db_copy_with_a_url_it_cannot_parse_keeps_the_password(sqlite_app, monkeypatch):
    monkeypatch.setenv("ITHEALTH_COPY_TO", closed_port_url() + "?bogus=1")
    result = sqlite_app.test_cli_runner().invoke(args=["db", "copy"])
    assert result.exit_code == 1
    assert_clean(result.output + result.stderr, shows="bogus")


def test_db_copy_without_a_target_says_what_to_set(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(args=["db", "copy"])
    assert result.exit_code == 2 and "ITHEALTH_COPY_TO" in result.stderr


@pytest.mark.parametrize("command", ["status", "work"])
def test_renders_commands_with_redis_down_keep_the_password(sqlite_app, command, caplog):
    caplog.set_level(logging.DEBUG)
    sqlite_app.config["RENDER_QUEUE"] = closed_port_url("redis")
    result = sqlite_app.test_cli_runner().invoke(args=["renders", command])
    assert result.exit_code == 1
    assert_clean(result.output + result.stderr, shows="redis://:***@127.0.0.1")
    assert "Connection refused" in result.stderr
    assert PLANTED not in caplog.text


def test_renders_status_with_a_url_that_is_not_redis_keeps_the_password(sqlite_app):
    sqlite_app.config["RENDER_QUEUE"] = closed_port_url()
    result = sqlite_app.test_cli_runner().invoke(args=["renders", "status"])
    assert result.exit_code == 1
    assert_clean(result.output + result.stderr, shows="must be a Redis URL")


def test_the_queue_render_error_and_its_log_keep_the_password(caplog):
    from assessment.report.pool import RenderError
    from assessment.report.queue import RedisRenderQueue

    caplog.set_level(logging.DEBUG)
    create_app  # the app's filters are on the handlers once an app was made  # noqa: B018
    queue = RedisRenderQueue(closed_port_url("redis"), secret="no-secrets")
    try:
        with pytest.raises(RenderError) as raised:
            queue.submit("<html></html>", key="0" * 64)
    finally:
        queue.close()
    assert PLANTED not in str(raised.value) and "cannot be reached" in str(raised.value)
    assert PLANTED not in caplog.text


@pytest.fixture(scope="module")
def redis_with_password():
    server = start_redis()
    from redis import Redis

    Redis.from_url(server.url).config_set("requirepass", "the-right-one")
    yield server
    server.stop()


@pytest.mark.parametrize("command", ["status", "work"])
def test_renders_commands_with_a_wrong_redis_password_keep_it(sqlite_app, redis_with_password,
                                                              command, caplog):
    caplog.set_level(logging.DEBUG)
    sqlite_app.config["RENDER_QUEUE"] = f"redis://:{PLANTED}@127.0.0.1:{redis_with_password.port}/0"
    result = sqlite_app.test_cli_runner().invoke(args=["renders", command])
    assert result.exit_code == 1
    assert_clean(result.output + result.stderr, shows=f"127.0.0.1:{redis_with_password.port}")
    assert "redis://:***@" in result.stderr
    assert PLANTED not in caplog.text


def environment(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ITHEALTH_DATABASE_URL", "ITHEALTH_RENDER_QUEUE", "ITHEALTH_SECRET_KEY",
                        "ITHEALTH_COPY_TO")}
    env.update(variables)
    return env


def flask(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([FLASK, "--app", "app", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_startup_on_an_unreachable_database_keeps_the_password(tmp_path):
    """A real start (the app factory connects): the password is in neither stream."""
    env = environment(ITHEALTH_DATABASE=str(tmp_path / "x.sqlite"),
                      ITHEALTH_SECRET_KEY="no-secrets", ITHEALTH_DATABASE_URL=closed_port_url())
    for args in (["db", "init"], ["users", "create", "--help"]):
        run = flask(*args, env=env)
        assert run.returncode != 0
        assert PLANTED not in run.stdout + run.stderr
        assert "it_health:***@127.0.0.1" in run.stderr


def test_subprocess_commands_keep_the_password(tmp_path):
    base = environment(ITHEALTH_DATABASE=str(tmp_path / "x.sqlite"), ITHEALTH_SECRET_KEY="k")
    assert flask("db", "init", env=base).returncode == 0
    runs = [flask("db", "copy", "--to", closed_port_url(), env=base),
            flask("db", "copy", env={**base, "ITHEALTH_COPY_TO": closed_port_url()}),
            flask("db", "copy", "--to", "-", env=base, stdin=closed_port_url() + "\n"),
            flask("renders", "status", env={**base, "ITHEALTH_RENDER_QUEUE":
                                            closed_port_url("redis")}),
            flask("renders", "work", env={**base, "ITHEALTH_RENDER_QUEUE":
                                          closed_port_url("redis")})]
    for run in runs:
        assert run.returncode != 0
        assert PLANTED not in run.stdout + run.stderr, run.stderr
        assert "127.0.0.1" in run.stderr or "ITHEALTH_COPY_TO" in run.stderr, run.stderr
        assert "Traceback" not in run.stderr, run.stderr


# ---- one key for the cluster -----------------------------------------------------------------

@pytest.fixture
def no_key(monkeypatch):
    for name in ("ITHEALTH_SECRET_KEY", "ITHEALTH_SECRET_KEY_FALLBACKS", "ITHEALTH_DATABASE_URL",
                 "ITHEALTH_RENDER_QUEUE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("setting", [{"DATABASE_URL": closed_port_url()},
                                     {"RENDER_QUEUE": closed_port_url("redis")}])
def test_past_one_machine_the_app_does_not_start_without_a_key(no_key, tmp_path, setting):
    with pytest.raises(ConfigError) as raised:
        create_app({"TESTING": True, "DATABASE": str(tmp_path / "x.sqlite"), **setting})
    message = str(raised.value)
    assert "ITHEALTH_SECRET_KEY is not set" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert PLANTED not in message


def test_with_the_key_it_starts(no_key, tmp_path, monkeypatch):
    monkeypatch.setenv("ITHEALTH_SECRET_KEY", "the-cluster-key")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "x.sqlite"),
                      "RENDER_QUEUE": closed_port_url("redis")})
    assert app.secret_key == "the-cluster-key"


def test_with_a_database_url_and_the_key_it_starts(no_key, postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ITHEALTH_DATABASE_URL", postgres_url)
    monkeypatch.setenv("ITHEALTH_SECRET_KEY", "the-cluster-key")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "unused.sqlite")})
    assert app.secret_key == "the-cluster-key"
    assert not (tmp_path / "unused.sqlite").exists()


def test_the_cli_without_a_key_exits_non_zero_with_the_message(tmp_path):
    run = flask("db", "init", env=environment(ITHEALTH_DATABASE=str(tmp_path / "x.sqlite"),
                                              ITHEALTH_DATABASE_URL=closed_port_url()))
    assert run.returncode != 0
    assert "ITHEALTH_SECRET_KEY is not set, but ITHEALTH_DATABASE_URL is" in run.stderr
    assert "secrets.token_urlsafe(32)" in run.stderr
    assert PLANTED not in run.stdout + run.stderr


def session_cookie(key: str, data: dict) -> str:
    app = create_app({"TESTING": True, "SECRET_KEY": key, "DATABASE": ":memory:"})
    return app.session_interface.get_signing_serializer(app).dumps(data)


def opened_session(app, cookie: str) -> dict | None:
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        session = app.session_interface.open_session(app, request)
        return dict(session) if session is not None else None


def test_a_session_signed_with_an_old_key_opens_while_the_key_is_a_fallback(no_key, tmp_path,
                                                                             monkeypatch):
    cookie = session_cookie("the-old-key", {"kept": "yes"})
    monkeypatch.setenv("ITHEALTH_SECRET_KEY", "the-new-key")
    monkeypatch.setenv("ITHEALTH_SECRET_KEY_FALLBACKS", "an-older-key, the-old-key")
    rotating = create_app({"TESTING": True, "DATABASE": str(tmp_path / "x.sqlite")})
    assert rotating.config["SECRET_KEY_FALLBACKS"] == ["an-older-key", "the-old-key"]
    assert opened_session(rotating, cookie) == {"kept": "yes"}
    # ... and new cookies are signed with the new key.
    assert opened_session(rotating, session_cookie("the-new-key", {"n": 1})) == {"n": 1}

    monkeypatch.delenv("ITHEALTH_SECRET_KEY_FALLBACKS")
    rotated = create_app({"TESTING": True, "DATABASE": str(tmp_path / "x.sqlite")})
    assert rotated.config["SECRET_KEY_FALLBACKS"] == []
    assert opened_session(rotated, cookie) == {}
