"""TLS to PostgreSQL and Redis, set up exactly as docs/operations.md ("Encryption in transit")
says: a private certificate authority, a server that refuses plain connections, a password (a
Redis ACL user), and the documented connection URLs. The app, the render consumer and the
command line connect through them; a client without the authority's certificate is refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from .postgres_cluster import bin_dir, free_port
from .redis_server import redis_binary

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
SECRET = "tls-test-secret-key"
PASSWORD = "s3cret-over-tls"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A private certificate authority, and a server certificate it signed for localhost (the
    name the clients check, as they would check db.internal)."""
    folder = tmp_path_factory.mktemp("tls")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=IT Health test CA", "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr", cwd=folder)
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt",
            cwd=folder)
    # Another authority, for the client that must be refused.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=Someone else", "-keyout", "other.key", "-out", "other.crt", cwd=folder)
    return folder


def run_flask(*args: str, env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([FLASK, "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def app_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ITHEALTH_DATABASE_URL", "ITHEALTH_RENDER_QUEUE")}
    env.update(ITHEALTH_SECRET_KEY=SECRET, ITHEALTH_DATABASE=str(tmp_path / "app.sqlite"),
               **settings)
    return env


# ---- PostgreSQL --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def postgres_tls(certificates):
    """A PostgreSQL cluster with ssl on and a pg_hba.conf that takes TCP connections over TLS
    only ("hostssl"), with a password (scram-sha-256)."""
    binaries = bin_dir()
    if binaries is None:
        pytest.fail("PostgreSQL's server binaries are missing: make test installs them")
    # Not under pytest's folder: the server's user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="it-health-pg-tls-"))
    data = folder / "data"
    owner = None
    if os.geteuid() == 0:  # initdb refuses root: the cluster runs as Debian's postgres user
        import pwd
        owner = pwd.getpwnam("postgres")
    as_owner = ({"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": [], "cwd": folder}
                if owner else {})
    for name in ("server.crt", "server.key"):  # the key must be the server user's, 0600
        target = folder / name
        target.write_bytes((certificates / name).read_bytes())
        target.chmod(0o600)
        if owner:
            os.chown(target, owner.pw_uid, owner.pw_gid)
    if owner:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    subprocess.run([str(binaries / "initdb"), "--pgdata", str(data), "--username", "postgres",
                    "--auth-local", "trust", "--auth-host", "scram-sha-256", "--encoding",
                    "UTF8", "--locale", "C.UTF-8", "--no-sync"],
                   check=True, capture_output=True, **as_owner)
    (data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "hostssl all all 127.0.0.1/32 scram-sha-256\n")  # no "host" line: plain TCP is refused
    port = free_port()
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
               f"-c ssl=on -c ssl_cert_file={folder / 'server.crt'} "
               f"-c ssl_key_file={folder / 'server.key'}")
    subprocess.run([str(binaries / "pg_ctl"), "--pgdata", str(data), "--log",
                    str(folder / "log"), "--options", options, "--wait", "start"],
                   check=True, capture_output=True, **as_owner)
    with psycopg.connect(host=str(folder), port=port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f"ALTER USER postgres PASSWORD '{PASSWORD}'")
        conn.execute("CREATE DATABASE it_health")
    yield port
    subprocess.run([str(binaries / "pg_ctl"), "--pgdata", str(data), "--mode", "immediate",
                    "--wait", "stop"], capture_output=True, **as_owner)
    shutil.rmtree(folder, ignore_errors=True)


def test_the_app_uses_postgresql_over_verified_tls(postgres_tls, certificates, tmp_path):
    url = (f"postgresql://postgres:{PASSWORD}@localhost:{postgres_tls}/it_health"
           f"?sslmode=verify-full&sslrootcert={certificates / 'ca.crt'}")
    env = app_env(tmp_path, ITHEALTH_DATABASE_URL=url)

    init = run_flask("db", "init", env=env)
    assert init.returncode == 0, init.stderr
    assert "Database ready at postgresql://postgres:***@localhost" in init.stdout
    with psycopg.connect(url) as conn:  # the connection the app made was encrypted
        assert conn.info.pgconn.ssl_in_use
    backup = run_flask("db", "backup", str(tmp_path / "over-tls.dump"), env=env)
    assert backup.returncode == 0, backup.stderr  # pg_dump takes the same URL

    # A client that does not trust the server's authority is refused, without the password.
    other = url.replace("ca.crt", "other.crt")
    refused = run_flask("db", "init", env=app_env(tmp_path, ITHEALTH_DATABASE_URL=other))
    assert refused.returncode != 0
    assert "certificate verify failed" in refused.stderr
    assert PASSWORD not in refused.stdout + refused.stderr

    # The server takes no plain TCP connection at all.
    plain = url.split("?")[0] + "?sslmode=disable"
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain, connect_timeout=5)


# ---- Redis ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def redis_tls(certificates, tmp_path_factory):
    """Redis listening on TLS only (port 0 turns plain TCP off), with the default user off and
    one ACL user for the app, which may not run the dangerous commands (CONFIG, FLUSHALL,
    KEYS, DEBUG, ...)."""
    binary = redis_binary()
    if binary is None:
        pytest.fail("redis-server is missing: make test installs it")
    folder = tmp_path_factory.mktemp("redis-tls")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(certificates / "server.crt"),
         "--tls-key-file", str(certificates / "server.key"),
         "--tls-ca-cert-file", str(certificates / "ca.crt"), "--tls-auth-clients", "no",
         "--user", "default", "off",
         "--user", "it-health", "on", f">{PASSWORD}", "~*", "&*", "+@all", "-@dangerous",
         "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield port
    process.terminate()
    process.wait(10)


def test_the_queue_runs_over_tls_with_an_acl_user(redis_tls, certificates, tmp_path):
    url = (f"rediss://it-health:{PASSWORD}@localhost:{redis_tls}/0"
           f"?ssl_ca_certs={certificates / 'ca.crt'}")
    env = app_env(tmp_path, ITHEALTH_RENDER_QUEUE=url)
    consumer_log = tmp_path / "consumer.log"
    with open(consumer_log, "wb") as log:
        consumer = subprocess.Popen([FLASK, "--app", "app", "renders", "work", "--workers", "1"],
                                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while b"rendering reports from the queue" not in consumer_log.read_bytes():
            assert consumer.poll() is None, consumer_log.read_text()
            assert time.monotonic() < deadline, "the consumer did not start"
            time.sleep(0.1)

        status = run_flask("renders", "status", env=env)
        assert status.returncode == 0, status.stderr
        assert "live consumers: 1" in status.stdout.splitlines(), status.stdout

        # The web side: ready, because Redis answers over TLS and the consumer's heartbeat is
        # there.
        from assessment import create_app

        os.environ["ITHEALTH_RENDER_QUEUE"] = url  # what create_app reads, as in production
        try:
            app = create_app({"TESTING": True, "SECRET_KEY": SECRET,
                              "DATABASE": str(tmp_path / "web.sqlite"),
                              "REPORT_DIR": str(tmp_path / "reports")})
        finally:
            del os.environ["ITHEALTH_RENDER_QUEUE"]
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 200, ready.get_data(as_text=True)
    finally:
        consumer.terminate()
        consumer.wait(30)

    # Without the authority's certificate the client refuses the server, and says so without
    # the password.
    other = url.replace("ca.crt", "other.crt")
    refused = run_flask("renders", "status", env=app_env(tmp_path, ITHEALTH_RENDER_QUEUE=other))
    assert refused.returncode != 0
    assert "certificate verify failed" in (refused.stdout + refused.stderr).lower()
    assert PASSWORD not in refused.stdout + refused.stderr
