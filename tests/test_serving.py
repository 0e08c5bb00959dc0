"""Production serving: gunicorn starts from the shipped config, and its access log never holds
the private tokens of resume, claim and invite links. On SQLite and on PostgreSQL (the server
inherits ITHEALTH_DATABASE_URL, which `database_url` sets for the PostgreSQL half)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from assessment.web.access_log import redact

from .conftest import ROOT
from .tools import gunicorn_path

pytestmark = pytest.mark.both_backends


def test_redact_hides_tokens_in_secret_paths():
    assert redact("/assessment/resume/abcDEF-123_x") == "/assessment/resume/…"
    assert redact("/claim/tok?x=1") == "/claim/…?x=1"
    assert redact("/account/invite/tok") == "/account/invite/…"
    assert redact("/assessment/section/backup") == "/assessment/section/backup"
    # The owner's roadmap link, not the workspace's roadmap pages.
    assert redact('"GET /roadmap/tok/actions/4/done HTTP/1.1"') == (
        '"GET /roadmap/…/actions/4/done HTTP/1.1"')
    assert redact("/workspace/clients/5/roadmap/bulk") == "/workspace/clients/5/roadmap/bulk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_with_the_shipped_config(tmp_path, database_url):
    gunicorn = gunicorn_path()
    port = free_port()
    env = {**os.environ, "PORT": str(port), "ITHEALTH_DATABASE": str(tmp_path / "s.sqlite"),
           "ITHEALTH_SECRET_KEY": "serve-test", "ITHEALTH_WEB_WORKERS": "1"}
    log = tmp_path / "out.log"
    with open(log, "w") as out:
        server = subprocess.Popen([str(gunicorn), "-c", "scripts/gunicorn.conf.py", "app:app"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            # The first answer may take a few seconds on a loaded machine (the worker is still
            # importing the app): a slow answer is waited for, not taken as a failure.
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                        assert r.status == 200
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.1)
            else:
                pytest.fail("gunicorn did not answer: " + log.read_text())
            secret = "SecretResumeToken1234567890abcdefghijklmn"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/assessment/resume/{secret}",
                                       timeout=5)
            except urllib.error.HTTPError as error:
                assert error.code == 404
        finally:
            server.terminate()
            server.wait(10)
    # The engine asked for is the one that served.
    assert (tmp_path / "s.sqlite").exists() == (database_url is None)
    text = log.read_text()
    assert re.search(r'"GET /assessment/resume/… ?"? 404', text) or \
        '"GET /assessment/resume/…" 404' in text, text
    assert secret not in text
