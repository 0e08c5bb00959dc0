"""What an owner sees, and what the log says, when the render queue cannot do its work: no
consumer running (said at once, the report still queued), Redis away (one log line a minute,
not one per request)."""

from __future__ import annotations

import logging
import time

import pytest

from assessment import create_app
from assessment.report import queue as render_queue

from .postgres_cluster import free_port
from .test_report_web import finished_owner

QUEUE_LOG = "assessment.report.queue"


@pytest.fixture(autouse=True)
def fresh_throttles(monkeypatch):
    from assessment.web import reports

    monkeypatch.setattr(render_queue, "_trouble", render_queue.Throttle(60.0))
    monkeypatch.setattr(reports, "_failures", render_queue.Throttle(60.0))


def app_on(url: str, tmp_path):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "DATABASE": str(tmp_path / "app.sqlite"),
                       "REPORT_DIR": str(tmp_path / "reports"), "RENDER_QUEUE": url})


def test_with_no_consumer_running_the_owner_is_told_at_once_and_the_report_stays_queued(
        queue_url, redis_server, tmp_path, caplog):
    redis_server.flush()
    client = finished_owner(app_on(queue_url, tmp_path))
    caplog.set_level(logging.WARNING, logger=QUEUE_LOG)

    started = time.monotonic()
    page = client.get("/assessment/report.pdf", headers={"Accept": "text/html"})
    assert time.monotonic() - started < 10  # not the 300-second wait for a consumer
    assert page.status_code == 503 and page.headers["Retry-After"] == "300"
    text = page.get_data(as_text=True)
    assert "Reports are delayed" in text
    assert "your report is in the queue" in text and "Your answers are safe" in text
    status = client.get("/assessment/report.pdf?status=json").get_json()
    assert status["state"] == "delayed" and status["step"] == "Reports are delayed"
    assert render_queue.queue_status(queue_url)["waiting"] == 1  # made once a consumer starts

    client.get("/assessment/report.pdf", headers={"Accept": "text/html"})
    lines = [r.getMessage() for r in caplog.records if "no render consumer" in r.getMessage()]
    assert len(lines) == 1, lines  # three asks, one line
    assert "flask --app app renders work" in lines[0]


def test_with_redis_away_each_download_fails_politely_and_the_log_says_so_once(tmp_path, caplog):
    client = finished_owner(app_on(f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0",
                                   tmp_path))
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        page = client.get("/assessment/report.pdf", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert "Your answers are safe" in page.get_data(as_text=True)
    lines = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(lines) == 1, lines  # three downloads, one line
    assert "hunter2-secret" not in caplog.text
