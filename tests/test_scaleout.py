"""Past one machine, for real: two gunicorn instances on different ports over one PostgreSQL,
one Redis and one render consumer (`flask --app app renders work`), as a load balancer would
spread one browser's requests over two machines. Each instance has its own report folder and
its own (never created) SQLite path, so whatever they share goes through PostgreSQL and Redis.

The tests run in order on one set-up: the last two kill an instance and the consumer."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.client import HTTPConnection, HTTPException
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from pypdf import PdfReader

from assessment.core.bank import load_bank
from assessment.core.scoring import parse_answer
from assessment.report.queue import PREFIX, queue_status
from assessment.storage import (
    accounts,
    connect,
    create_assessment,
    save_answer,
    set_status,
    stored_answers,
)
from assessment.web.owner import new_resume_token

from .conftest import FIXTURES, QUESTIONS
from .postgres_cluster import free_port
from .redis_server import start_redis
from .test_render_queue import Consumer
from .workspace_fixtures import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SECRET = "one-secret-for-every-instance"


class Instance:
    """One web instance: gunicorn with the shipped settings, in a process group of its own so
    that kill -9 takes the master and its workers at once, as a machine going down would."""

    def __init__(self, name: str, folder: Path, env: dict):
        self.name, self.folder, self.port = name, folder / name, free_port()
        self.folder.mkdir(exist_ok=True)
        self.env = {**env, "PORT": str(self.port), "ITHEALTH_WEB_WORKERS": "2",
                    "ITHEALTH_WEB_THREADS": "4",
                    "ITHEALTH_REPORT_DIR": str(self.folder / "reports"),
                    "ITHEALTH_DATABASE": str(self.folder / "never.sqlite"),
                    "ITHEALTH_ACCESS_LOG": str(self.folder / "access.log")}
        self.process: subprocess.Popen | None = None

    def start(self) -> Instance:
        log = open(self.folder / "server.log", "ab")
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "scripts/gunicorn.conf.py", "app:app"], cwd=ROOT, env=self.env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/")
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                pass
            assert self.process.poll() is None, (self.folder / "server.log").read_text()
            assert time.monotonic() < deadline, "the instance did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the whole instance: no graceful anything."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def reports(self) -> list[Path]:
        return sorted((self.folder / "reports").glob("*.pdf"))


class Browser:
    """One browser: its cookies go to whichever instance it talks to (cookies are per host, not
    per port, so this is what a load balancer in front of the two would see)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, instance: Instance, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = HTTPConnection("127.0.0.1", instance.port, timeout=60)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        return response.status, dict(response.headers), data

    def get(self, instance: Instance, path: str, **headers) -> tuple[int, dict, bytes]:
        return self.request(instance, "GET", path, headers=headers)

    def token(self, instance: Instance, path: str) -> str:
        status, _, page = self.get(instance, path)
        assert status == 200, (path, status)
        return CSRF.search(page.decode()).group(1)

    def post_form(self, instance: Instance, path: str, fields: dict) -> tuple[int, dict, bytes]:
        return self.request(instance, "POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def sign_in(self, instance: Instance, email: str, password: str) -> int:
        token = self.token(instance, "/account/sign-in")
        return self.post_form(instance, "/account/sign-in", {
            "csrf_token": token, "email": email, "password": password})[0]

    def autosave(self, instance: Instance, token: str, question: str, answer, base: int
                 ) -> tuple[int, dict]:
        body = json.dumps({"question": question, "answer": answer, "base_version": base,
                           "client_key": uuid.uuid4().hex}).encode()
        status, _, data = self.request(instance, "POST", "/assessment/answer", body,
                                       {"Content-Type": "application/json",
                                        "X-CSRFToken": token})
        return status, json.loads(data) if data.startswith(b"{") else {}


@pytest.fixture(scope="module")
def stack(postgres_cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scaleout")
    database_url = postgres_cluster.new_database("scaleout")
    redis = start_redis()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITHEALTH_")}
    env.update({"ITHEALTH_DATABASE_URL": database_url, "ITHEALTH_RENDER_QUEUE": redis.url,
                "ITHEALTH_SECRET_KEY": SECRET})
    parts = {"database_url": database_url, "redis": redis, "folder": folder}
    try:
        parts["consumer"] = Consumer(redis.url, folder, ("ITHEALTH_SECRET_KEY", SECRET))
        parts["a"] = Instance("a", folder, env).start()
        parts["b"] = Instance("b", folder, env).start()
        yield parts
    finally:
        for name in ("a", "b", "consumer"):
            if name in parts:
                parts[name].stop()
        redis.stop()


def member(stack, firm: str, email: str) -> None:
    """A firm with one admin, straight into PostgreSQL."""
    db = connect(stack["database_url"])
    try:
        accounts.create_user(db, accounts.create_firm(db, firm), email, "Member", PASSWORD,
                             "admin")
    finally:
        db.close()


def finished_owner(stack, business_name: str) -> str:
    """An owner's finished assessment with the reference break-fix answers, straight into
    PostgreSQL; returns its private link's token."""
    bank = load_bank(QUESTIONS)
    answers = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
    answers["profile.business_name"] = business_name
    db = connect(stack["database_url"])
    try:
        token, token_hash = new_resume_token()
        aid = create_assessment(db, bank, resume_token_hash=token_hash)
        for qid, raw in answers.items():
            save_answer(db, aid, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], raw))
        set_status(db, aid, "finished")
    finally:
        db.close()
    return token


def wait_until_ready(browser: Browser, instance: Instance, path: str) -> None:
    deadline = time.monotonic() + 180
    while True:
        status, _, data = browser.get(instance, f"{path}{'&' if '?' in path else '?'}status=json",
                                      Accept="application/json")
        assert status == 200, data
        reply = json.loads(data)
        if reply["state"] == "ready":
            return
        assert reply["state"] in ("none", "queued", "rendering"), reply
        assert time.monotonic() < deadline, reply
        time.sleep(0.2)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_both_instances_are_ready_with_the_consumer_running(stack):
    probe = Browser()
    for name in ("a", "b"):
        status, headers, data = probe.get(stack[name], "/readyz")
        assert (status, data) == (200, b"ready\n"), (name, status, data)
        assert "set-cookie" not in {key.lower() for key in headers}, name


def test_an_owner_starts_on_one_instance_and_resumes_on_the_other(stack):
    a, b = stack["a"], stack["b"]
    owner = Browser()
    token = owner.token(a, "/")
    status, headers, _ = owner.post_form(a, "/assessment/start", {"csrf_token": token})
    assert status == 303
    section = headers["Location"]
    token = owner.token(a, section)
    assert owner.autosave(a, token, "profile.business_name", "Quayside Bakery", 0)[0] == 200
    # The next request lands on the other machine: the same assessment, the answer in it.
    status, _, page = owner.get(b, section)
    assert status == 200 and "Quayside Bakery" in page.decode()
    # And the private link, opened in another browser on the other instance, finds it too.
    status, _, hub = owner.get(a, "/assessment/")
    link = re.search(r"/assessment/resume/([A-Za-z0-9_-]{20,})", hub.decode())
    assert link, "the hub shows the private link"
    phone = Browser()
    status, headers, _ = phone.get(b, link.group(0))
    assert status == 303
    status, _, page = phone.get(b, section)
    assert status == 200 and "Quayside Bakery" in page.decode()


def test_a_consultant_signed_in_through_one_instance_acts_through_the_other(stack):
    a, b = stack["a"], stack["b"]
    member(stack, "Northgate IT", "ana@northgate.example")
    consultant = Browser()
    assert consultant.sign_in(a, "ana@northgate.example", PASSWORD) == 303
    token = consultant.token(b, "/workspace/")  # signed in on the other instance too
    status, headers, _ = consultant.post_form(b, "/workspace/clients", {
        "csrf_token": token, "name": "Harbour Dental"})
    assert status == 303
    status, _, page = consultant.get(a, headers["Location"])
    assert status == 200 and "Harbour Dental" in page.decode()


def test_a_lockout_counted_on_one_instance_holds_on_the_other(stack):
    a, b = stack["a"], stack["b"]
    member(stack, "Lockout Ltd", "lee@lockout.example")
    attacker = Browser()
    for _ in range(5):
        assert attacker.sign_in(a, "lee@lockout.example", "not the password") == 400
    lee = Browser()
    assert lee.sign_in(b, "lee@lockout.example", PASSWORD) == 400, \
        "the right password is refused on the other instance while locked"
    assert lee.get(a, "/workspace/")[0] == lee.get(b, "/workspace/")[0] == 303  # not signed in
    db = connect(stack["database_url"])
    try:
        row = db.one("SELECT failed_logins, locked_until FROM users WHERE email = ?",
                     ["lee@lockout.example"])
    finally:
        db.close()
    assert row["failed_logins"] == 5 and row["locked_until"]


def test_a_report_asked_for_on_one_instance_is_rendered_by_the_consumer_and_downloaded_on_the_other(
        stack):
    a, b = stack["a"], stack["b"]
    owner = Browser()
    token = finished_owner(stack, "Dockside Printing")
    assert owner.get(a, f"/assessment/resume/{token}")[0] == 303
    before = queue_status(stack["redis"].url)["rendered"]
    status, _, page = owner.get(a, "/assessment/report.pdf", Accept="text/html")
    assert status in (200, 202)  # the preparing page (or, at once, the PDF)
    wait_until_ready(owner, b, "/assessment/report.pdf")
    status, headers, pdf = owner.get(b, "/assessment/report.pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert "Dockside Printing" in pdf_text(pdf)
    assert queue_status(stack["redis"].url)["rendered"] == before + 1, "rendered once, by the " \
                                                                       "consumer"
    assert len(b.reports()) == 1, "the PDF came back into the other instance's own cache"


def test_kill_9_of_one_instance_during_saves_loses_no_acknowledged_answer(stack):
    a, b = stack["a"], stack["b"]
    owner = Browser()
    token = owner.token(a, "/")
    status, headers, _ = owner.post_form(a, "/assessment/start", {"csrf_token": token})
    section = headers["Location"]
    token = owner.token(a, section)
    questions = ["profile.staff_count", "profile.downtime_cost_per_hour", "profile.annual_revenue"]
    acknowledged: dict[str, tuple[int, int]] = {}  # question -> (value, version)
    in_flight: dict[str, int] = {}
    stop = threading.Event()

    def saver(question: str) -> None:
        version, value = 0, 1000
        while not stop.is_set():
            value += 1
            in_flight[question] = value
            try:
                status, reply = owner.autosave(a, token, question, value, version)
            except (OSError, HTTPException):
                return  # the instance is gone, mid-reply perhaps
            if status == 200:
                version = reply["version"]
                acknowledged[question] = (value, version)

    threads = [threading.Thread(target=saver, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while sum(v[1] for v in acknowledged.values()) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    a.kill()
    stop.set()
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) == len(questions), "every saver had answers acknowledged"
    # Read back through the other instance's database: every acknowledged answer is there (or
    # the one sent after it, whose reply the kill cut off).
    db = connect(stack["database_url"])
    try:
        aid = db.one("SELECT id FROM assessments ORDER BY created_at DESC LIMIT 1")["id"]
        stored = stored_answers(db, aid)
    finally:
        db.close()
    for question, (value, version) in acknowledged.items():
        kept = stored[question]
        assert kept.version >= version, question
        assert kept.answer.value in (value, in_flight[question]), (question, kept.answer, value)
        assert kept.version <= version + 1
    # The owner carries on through the other instance.
    status, _, page = owner.get(b, section)
    assert status == 200
    a.start()  # the machine comes back, for the next test


def test_kill_9_of_the_consumer_mid_render_still_delivers_the_pdf(stack):
    a, b = stack["a"], stack["b"]
    owner = Browser()
    token = finished_owner(stack, "Millbrook Joinery")
    assert owner.get(b, f"/assessment/resume/{token}")[0] == 303
    from redis import Redis

    redis = Redis.from_url(stack["redis"].url)
    status, _, _ = owner.get(b, "/assessment/report.pdf?variant=full", Accept="text/html")
    assert status == 202
    deadline = time.monotonic() + 120
    while not any(redis.scan_iter(match=f"{PREFIX}lease:*")):
        assert time.monotonic() < deadline, "the consumer never started the render"
        time.sleep(0.01)
    stack["consumer"].kill()  # mid-render
    stack["consumer"] = Consumer(stack["redis"].url, stack["folder"],  # as systemd would
                                 ("ITHEALTH_SECRET_KEY", SECRET))
    wait_until_ready(owner, a, "/assessment/report.pdf?variant=full")
    status, headers, pdf = owner.get(a, "/assessment/report.pdf?variant=full")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert "Millbrook Joinery" in pdf_text(pdf)
    assert any(redis.scan_iter(match=f"{PREFIX}requeued:*")), "the lost job was put back"


def test_a_rolling_restart_signs_nobody_out_and_loses_no_answer(stack):
    """The upgrade procedure of docs/operations.md: restart one instance, wait for its
    /readyz, then the other, while an owner keeps answering through whichever is up and a
    consultant stays signed in."""
    a, b = stack["a"], stack["b"]
    member(stack, "Rolling IT", "rio@rolling.example")
    consultant = Browser()
    assert consultant.sign_in(a, "rio@rolling.example", PASSWORD) == 303
    owner = Browser()
    token = owner.token(a, "/")
    status, headers, _ = owner.post_form(a, "/assessment/start", {"csrf_token": token})
    section = headers["Location"]
    token = owner.token(a, section)
    version = 0
    saved = []
    for restarting, serving in ((a, b), (b, a)):
        restarting.stop()  # SIGTERM: gunicorn finishes what it has, as systemctl restart does
        status, _, probe = Browser().get(serving, "/readyz")
        assert (status, probe) == (200, b"ready\n")
        for value in (11, 12):  # answers keep being saved through the instance that is up
            status, reply = owner.autosave(serving, token, "profile.staff_count",
                                           value + len(saved), version)
            assert status == 200, reply
            version = reply["version"]
            saved.append(value + len(saved))
        restarting.start()
        deadline = time.monotonic() + 60
        while Browser().get(restarting, "/readyz")[0] != 200:  # back in the balancer's list
            assert time.monotonic() < deadline, "the restarted instance never became ready"
            time.sleep(0.2)
        # The restarted instance knows the same browsers: nobody was signed out.
        status, _, page = owner.get(restarting, section)
        assert status == 200 and f'value="{saved[-1]}"' in page.decode()
        assert consultant.get(restarting, "/workspace/")[0] == 200
    db = connect(stack["database_url"])
    try:
        aid = db.one("SELECT id FROM assessments ORDER BY created_at DESC LIMIT 1")["id"]
        assert stored_answers(db, aid)["profile.staff_count"].answer.value == saved[-1]
    finally:
        db.close()
