"""Renders on the shared queue: Huey on a real redis-server, consumed by a real
`flask --app app renders work` process, with the web side's cache as the app uses it."""

from __future__ import annotations

import io
import json
import logging
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from assessment.core.scoring import parse_answers, score
from assessment.report import RenderBusy, RenderError, ReportCache, ReportInput, cache_key
from assessment.report.queue import (
    PREFIX,
    RedisRenderQueue,
    configure_queue,
    make_huey,
    queue_status,
    write_heartbeat,
)

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "the-deployment-secret"  # ITHEALTH_SECRET_KEY of the consumers and web instances here
QUEUE_LOG = "assessment.report.queue"


@pytest.fixture
def web_queue(queue_url):
    """Makes the queue clients of the test's web instances, and closes them after it."""
    made = []

    def make(**options) -> RedisRenderQueue:
        made.append(RedisRenderQueue(queue_url, secret=SECRET, **options))
        return made[-1]

    yield make
    for queue in made:
        queue.close()


class Consumer:
    """`flask --app app renders work` in a process of its own, with no database of the web's:
    its own throwaway SQLite file, and no PostgreSQL URL."""

    def __init__(self, url: str, folder: Path, *extra_env: tuple[str, str]):
        self.log = folder / f"consumer-{time.monotonic_ns()}.log"
        env = {k: v for k, v in os.environ.items() if k != "ITHEALTH_DATABASE_URL"}
        env.update({"ITHEALTH_RENDER_QUEUE": url,
                    "ITHEALTH_DATABASE": str(folder / "consumer-only.sqlite"),
                    "ITHEALTH_SECRET_KEY": SECRET, **dict(extra_env)})
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([FLASK, "--app", "app", "renders", "work",
                                             "--workers", "1"], cwd=ROOT, env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while b"rendering reports from the queue" not in self.log.read_bytes():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the consumer did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def consumer(queue_url, tmp_path):
    started = Consumer(queue_url, tmp_path)
    yield started
    started.stop()


def report_of(bank, fixture: str, **changes) -> ReportInput:
    answers, errors = parse_answers(bank, json.loads((FIXTURES / fixture).read_text())["answers"])
    assert not errors
    report = ReportInput(result=score(bank, answers), business_name="Harbour Street Dental",
                         assessed_on=date(2026, 3, 12))
    return replace(report, **changes)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_report_is_rendered_by_the_consumer_and_lands_in_the_web_cache(
        bank, queue_url, consumer, tmp_path):
    configure_queue(queue_url, secret=SECRET)
    report = report_of(bank, "single_critical_exposure.json")
    web = ReportCache(tmp_path / "web")
    pdf = web.get_or_render(report)
    assert pdf.startswith(b"%PDF")
    assert "Harbour Street Dental" in text_of(pdf)
    assert web.get(cache_key(report)) == pdf, "the PDF came back to the web tier's own cache"
    assert queue_status(queue_url) == {"waiting": 0, "rendering": 0, "rendered": 1}
    env = {k: v for k, v in os.environ.items() if k != "ITHEALTH_DATABASE_URL"}
    env.update(ITHEALTH_RENDER_QUEUE=queue_url, ITHEALTH_DATABASE=str(tmp_path / "cli.sqlite"),
               ITHEALTH_SECRET_KEY=SECRET)
    run = subprocess.run([FLASK, "--app", "app", "renders", "status"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    lines = run.stdout.splitlines()
    assert lines[0] == "waiting: 0  rendering: 0  rendered so far: 1", run.stderr
    assert "live consumers: 1" in lines, run.stdout  # the consumer's heartbeat
    assert any(f"pid {consumer.process.pid} " in line for line in lines), run.stdout
    # Each of the consumer's lines is written once (not by Flask's handler and the root's both).
    assert consumer.log.read_text().count("rendering reports from the queue") == 1


def test_the_same_report_asked_for_by_two_web_instances_is_rendered_once(
        bank, queue_url, web_queue, consumer, tmp_path):
    report = report_of(bank, "well_run_managed.json")
    # Two web instances: their own queue clients, their own cache folders.
    first = ReportCache(tmp_path / "one", pool=web_queue())
    second = ReportCache(tmp_path / "two", pool=web_queue())
    first.prerender(report)
    second.prerender(report)
    key = cache_key(report)
    assert first.ask(report, wait=60).state == "ready"
    assert second.ask(report, wait=60).state == "ready"
    assert first.get(key) == second.get(key)
    assert queue_status(queue_url)["rendered"] == 1
    # A third instance asking later copies the finished PDF from Redis: no new render.
    third = ReportCache(tmp_path / "three", pool=web_queue())
    assert third.get_or_render(report) == first.get(key)
    assert queue_status(queue_url)["rendered"] == 1


def test_a_full_queue_turns_new_renders_away_but_still_joins_queued_ones(bank, queue_url, web_queue,
                                                                            tmp_path):
    queue = web_queue(limit=2)
    # A heartbeat as a live consumer writes it, with no consumer taking jobs: they stay on the
    # list (with no heartbeat at all the report would be "delayed": test_queue_outages.py).
    write_heartbeat(queue.redis, 1, time.time(), name=f"{PREFIX}consumer:stand-in")
    cache = ReportCache(tmp_path / "web", pool=queue)
    reports = [report_of(bank, "well_run_managed.json", business_name=f"Firm {n}")
               for n in range(3)]
    cache.prerender(reports[0])
    cache.prerender(reports[1])
    assert queue.pending() == 2
    refused = cache.ask(reports[2])
    assert refused.state == "failed" and refused.busy
    assert queue.pending() == 2, "nothing was queued for the refused report"
    # Another instance asking for a report already queued joins it rather than being refused.
    other = ReportCache(tmp_path / "other", pool=web_queue(limit=2))
    joined = other.ask(reports[0])
    assert joined.state == "pending" and joined.stage == "queued"
    assert queue.pending() == 2


def test_a_consumer_killed_mid_render_is_replaced_and_the_pdf_still_arrives(
        bank, queue_url, web_queue, tmp_path):
    report = report_of(bank, "break_fix_untested_backups.json", full=True)
    key = cache_key(report)
    cache = ReportCache(tmp_path / "web", pool=web_queue())
    doomed = Consumer(queue_url, tmp_path)
    try:
        cache.prerender(report)
        from redis import Redis

        redis = Redis.from_url(queue_url)
        deadline = time.monotonic() + 60
        while not redis.exists(f"{PREFIX}lease:{key}"):
            assert time.monotonic() < deadline, "the consumer never started the render"
            time.sleep(0.01)
        while cache.ask(report).stage != "rendering":  # the web side sees it start
            assert time.monotonic() < deadline, cache.ask(report)
            time.sleep(0.01)
        doomed.kill()  # mid-render: the job went with it
    finally:
        doomed.stop()
    assert not cache.path(key).exists()
    replacement = Consumer(queue_url, tmp_path)  # as a supervisor would restart it
    try:
        status = cache.ask(report, wait=120)
    finally:
        replacement.stop()
    assert status.state == "ready", status
    assert "Harbour Street Dental" in text_of(cache.get(key))
    assert queue_status(queue_url)["rendered"] == 1
    assert redis.exists(f"{PREFIX}requeued:{key}:1"), "the first try's job was put back"
    assert not redis.exists(f"{PREFIX}requeued:{key}:2"), "and only once"


def test_the_consumer_keeps_the_per_render_time_limit(bank, queue_url, web_queue, tmp_path):
    slow = Consumer(queue_url, tmp_path, ("ITHEALTH_REPORT_TIMEOUT", "0.05"))
    try:
        cache = ReportCache(tmp_path / "web", pool=web_queue())
        with pytest.raises(RenderError, match="longer than 0.05 seconds"):
            cache.get_or_render(report_of(bank, "break_fix_untested_backups.json", full=True))
    finally:
        slow.stop()


def test_renders_work_without_a_queue_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ITHEALTH_RENDER_QUEUE", "ITHEALTH_DATABASE_URL")}
    env["ITHEALTH_DATABASE"] = str(tmp_path / "x.sqlite")
    run = subprocess.run([FLASK, "--app", "app", "renders", "work"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "ITHEALTH_RENDER_QUEUE=redis://" in run.stderr
    assert "Traceback" not in run.stderr
    env["ITHEALTH_RENDER_QUEUE"] = "postgresql://localhost/x"
    env["ITHEALTH_SECRET_KEY"] = SECRET  # with a queue set, the app does not start without one
    run = subprocess.run([FLASK, "--app", "app", "renders", "status"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "must be a Redis URL" in run.stderr


def test_an_unreachable_queue_is_a_render_error_not_a_crash(bank, tmp_path):
    from .postgres_cluster import free_port

    queue = RedisRenderQueue(f"redis://127.0.0.1:{free_port()}/0", secret=SECRET)
    cache = ReportCache(tmp_path / "web", pool=queue)
    status = cache.ask(report_of(bank, "well_run_managed.json"))
    assert status.state == "failed" and "cannot be reached" in status.error


def test_a_full_queue_shows_the_busy_page_and_the_answers_stay(queue_url, tmp_path):
    from assessment import create_app

    from .test_report_web import finished_owner

    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE": str(tmp_path / "app.sqlite"),
                      "REPORT_DIR": str(tmp_path / "reports"),
                      "RENDER_QUEUE": queue_url, "REPORT_QUEUE_LIMIT": 0})
    client = finished_owner(app)
    page = client.get("/assessment/report.pdf", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "120"
    text = page.get_data(as_text=True)
    assert "Too many reports are being made right now" in text
    assert "Your answers are safe" in text
    assert 'href="/assessment/report.pdf">Try the download again' in text
    assert 'href="/assessment/results">Back to your results' in text
    assert client.get("/assessment/report.pdf").status_code == 503  # a download tool too
    status = client.get("/assessment/report.pdf?status=json").get_json()
    assert status["state"] == "busy" and "few minutes" in status["message"]
    assert client.get("/assessment/results").status_code == 200


def test_the_in_process_pool_turns_renders_away_when_its_queue_is_full():
    from assessment.report import RenderPool

    pool = RenderPool(workers=1, queue_limit=1)
    try:
        pool.warm_up()
        first = pool.submit("<p>one</p>" * 3000)
        deadline = time.monotonic() + 60
        while getattr(first, "started_at", None) is None and not first.done():
            assert time.monotonic() < deadline
            time.sleep(0.001)
        pool.submit("<p>two</p>")  # the one worker is busy: this one waits
        with pytest.raises(RenderBusy, match="waiting to be rendered"):
            pool.submit("<p>three</p>")
        assert first.result(120).startswith(b"%PDF")
    finally:
        pool.shutdown()


# -- Redis is a trust boundary: nothing read from it runs code or is served unverified ---------

class _TouchOnUnpickle:
    """A pickle whose loading creates `path`: what an attacker with access to Redis could push."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.path),)


def refusals(caplog, what: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == QUEUE_LOG and r.levelno == logging.WARNING
            and r.getMessage().startswith(f"refused {what}")]


def wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_pickle_pushed_onto_the_queue_is_never_unpickled(bank, queue_url, web_queue, tmp_path,
                                                           caplog):
    from redis import Redis

    caplog.set_level(logging.WARNING, logger=QUEUE_LOG)
    proof = tmp_path / "the-payload-works"
    pickle.loads(pickle.dumps(_TouchOnUnpickle(proof)))  # noqa: S301 (the test's own payload)
    assert proof.exists(), "the crafted pickle does run code when unpickled"
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_TouchOnUnpickle(marker))
    queue = web_queue()
    redis = Redis.from_url(queue_url)
    redis.lpush(queue.huey.storage.queue_key, payload)

    # The web side reads the list (as a waiter's look does): the item is skipped, logged once.
    assert queue._queued_keys() == set()
    assert queue._queued_keys() == set()
    assert not marker.exists()
    logged = refusals(caplog, "a queue message")
    assert len(logged) == 1 and "not a signed render queue message" in logged[0], logged
    assert "unpickled" not in caplog.text and "Path" not in caplog.text, "no message body logged"
    assert queue_status(queue_url)["waiting"] == 1

    # A consumer takes it off the list and drops it, without unpickling it.
    consumer = Consumer(queue_url, tmp_path)
    try:
        wait_for(lambda: redis.llen(queue.huey.storage.queue_key) == 0, "never taken off")
        wait_for(lambda: b"refused a queue message" in consumer.log.read_bytes(), "not logged")
        assert not marker.exists()
        assert consumer.process.poll() is None, "the consumer carries on"
        # A real render submitted afterwards still completes.
        cache = ReportCache(tmp_path / "web", pool=queue)
        pdf = cache.get_or_render(report_of(bank, "well_run_managed.json"))
        assert pdf.startswith(b"%PDF")
    finally:
        consumer.stop()
    assert not marker.exists()
    assert b"Traceback" not in consumer.log.read_bytes()


def test_a_message_signed_with_another_key_is_refused(queue_url, web_queue, tmp_path, caplog):
    from redis import Redis

    caplog.set_level(logging.WARNING, logger=QUEUE_LOG)
    redis = Redis.from_url(queue_url)
    key = "f" * 64
    redis.set(f"{PREFIX}html:{key}", "<p>forged job</p>")  # would be rendered if it were accepted
    forger, task = make_huey(queue_url, "not-the-deployment-secret")
    forger.enqueue(task.s(key))
    queue = web_queue()
    assert queue._queued_keys() == set(), "the web side does not take it for a queued job"
    logged = refusals(caplog, "a queue message")
    assert len(logged) == 1 and "HMAC does not verify" in logged[0], logged
    consumer = Consumer(queue_url, tmp_path)
    try:
        wait_for(lambda: redis.llen(queue.huey.storage.queue_key) == 0, "never taken off")
        wait_for(lambda: b"refused a queue message" in consumer.log.read_bytes(), "not logged")
        # A genuine message whose page was put in Redis by someone else: the page is refused.
        ours, our_task = make_huey(queue_url, SECRET)
        other = "e" * 64
        redis.set(f"{PREFIX}html:{other}", "<p>forged page</p>")
        ours.enqueue(our_task.s(other))
        wait_for(lambda: redis.exists(f"{PREFIX}error:{other}"), "the forged page was not refused")
        assert b"integrity check" in redis.get(f"{PREFIX}error:{other}")
        assert not redis.exists(f"{PREFIX}pdf:{other}")
        assert b"refused a page to render from Redis for report eeeeeeee" in \
            consumer.log.read_bytes()
    finally:
        consumer.stop()
    assert b"HMAC does not verify" in consumer.log.read_bytes()
    assert b"forged page" not in consumer.log.read_bytes()
    assert not redis.exists(f"{PREFIX}pdf:{key}") and not redis.exists(f"{PREFIX}lease:{key}")
    assert redis.exists(f"{PREFIX}html:{key}"), "the forged job was never started"
    assert queue_status(queue_url)["rendered"] == 0
    # And a message that does verify decodes to the task, as the consumer reads it.
    assert ours.deserialize_task(ours.serialize_task(our_task.s(key))).args == (key,)


def test_a_pdf_changed_in_redis_is_refused_not_served(bank, queue_url, web_queue, consumer,
                                                      tmp_path, caplog):
    from redis import Redis

    caplog.set_level(logging.WARNING, logger=QUEUE_LOG)
    redis = Redis.from_url(queue_url)
    report = report_of(bank, "well_run_managed.json")
    key = cache_key(report)
    genuine = ReportCache(tmp_path / "one", pool=web_queue()).get_or_render(report)
    assert redis.exists(f"{PREFIX}seal:{key}"), "the consumer sealed the PDF it stored"
    forged = b"%PDF-1.7 forged report " + os.urandom(8).hex().encode()

    # The bytes replaced, the seal kept: another instance refuses them.
    redis.set(f"{PREFIX}pdf:{key}", forged)
    second = ReportCache(tmp_path / "two", pool=web_queue())
    with pytest.raises(RenderError, match="integrity check"):
        second.get_or_render(report)
    assert second.get(key) is None, "nothing reached the instance's cache"
    assert not redis.exists(f"{PREFIX}pdf:{key}"), "the bad value was deleted"
    logged = refusals(caplog, "a finished PDF")
    assert logged == [f"refused a finished PDF from Redis for report {key[:16]}: its seal does "
                      "not verify"], logged

    # Forged bytes with no seal at all: refused the same way.
    redis.set(f"{PREFIX}pdf:{key}", forged)
    third = ReportCache(tmp_path / "three", pool=web_queue())
    with pytest.raises(RenderError, match="integrity check"):
        third.get_or_render(report)
    assert third.get(key) is None
    assert "has no seal" in refusals(caplog, "a finished PDF")[-1]
    assert forged.decode() not in caplog.text, "the content is never logged"

    # Asking again renders the report again, sealed, and it is served.
    wait_for(lambda: third.ask(report, retry_failed=False).state == "failed",
             "the failure was not recorded")
    assert third.get_or_render(report).startswith(b"%PDF")
    assert text_of(third.get(key)) == text_of(genuine)
    assert queue_status(queue_url)["rendered"] == 2
