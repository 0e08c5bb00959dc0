"""/healthz, /readyz and /metrics, and the render consumers' heartbeats (`renders status`).

The database checks run on SQLite and on PostgreSQL; the queue checks on a real redis-server
(tests/redis_server.py)."""

from __future__ import annotations

import pytest

from assessment.report.queue import live_consumers, start_heartbeat
from assessment.storage import connect
from assessment.storage.migrations import LEDGER
from assessment.support.config import database

from .postgres_cluster import free_port

pytestmark = pytest.mark.both_backends


def _redis(url):
    from redis import Redis

    return Redis.from_url(url)


def _no_cookie(response):
    assert not response.headers.getlist("Set-Cookie"), response.headers.getlist("Set-Cookie")
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_healthz_answers_without_a_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "ok\n"
    _no_cookie(response)


def test_readyz_is_200_on_a_fresh_app(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data(as_text=True) == "ready\n"
    _no_cookie(response)


def test_readyz_names_the_database_when_it_cannot_be_reached(app, client, backend, tmp_path):
    if backend == "postgresql":
        app.config["DATABASE_URL"] = f"postgresql://it@127.0.0.1:{free_port()}/none"
    else:
        app.config["DATABASE"] = str(tmp_path / "no-such-folder" / "it-health.sqlite")
    response = client.get("/readyz")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert text == "not ready: database\n"
    assert "127.0.0.1" not in text and "no-such-folder" not in text
    assert not (tmp_path / "no-such-folder").exists(), "the check created the database"
    _no_cookie(response)


def test_readyz_names_the_migrations_when_the_schema_is_behind(app, client, backend):
    db = connect(database(app.config))
    table = LEDGER[db.engine]
    try:
        db.execute(f"DELETE FROM {table} WHERE name = 'handoffs'")  # nosec B608 (a test)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_data(as_text=True) == "not ready: migrations\n"
    finally:
        db.execute(f"INSERT INTO {table} (migration_set, name, applied_at) "  # nosec B608
                   "VALUES ('it_health', 'handoffs', '2026-01-01T00:00:00')")
        db.close()
    assert client.get("/readyz").status_code == 200


def test_readyz_wants_a_live_render_consumer(app, client, queue_url):
    app.config["RENDER_QUEUE"] = queue_url
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "not ready: render consumers\n"
    beating = start_heartbeat(_redis(queue_url), workers=2)
    try:
        response = client.get("/readyz")
        assert response.status_code == 200, response.get_data(as_text=True)
    finally:
        beating.set()


def test_readyz_names_the_queue_when_redis_does_not_answer(app, client):
    app.config["RENDER_QUEUE"] = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "not ready: render queue\n"


def test_a_heartbeat_is_live_then_gone(queue_url):
    redis = _redis(queue_url)
    beating = start_heartbeat(redis, workers=3)
    consumers = live_consumers(redis)
    assert len(consumers) == 1 and consumers[0]["workers"] == 3
    beating.set()
    import time

    deadline = time.monotonic() + 10
    while live_consumers(redis):
        assert time.monotonic() < deadline, "the heartbeat was not removed at the stop"
        time.sleep(0.05)


def test_renders_status_lists_live_consumers(app, queue_url):
    import os

    app.config["RENDER_QUEUE"] = queue_url
    beating = start_heartbeat(_redis(queue_url), workers=2)
    try:
        result = app.test_cli_runner().invoke(args=["renders", "status"])
    finally:
        beating.set()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "waiting: 0  rendering: 0  rendered so far: 0"
    assert "live consumers: 1" in lines
    assert any(f"pid {os.getpid()}" in line and "2 worker(s)" in line for line in lines), lines


def test_metrics_are_private(app, client):
    assert client.get("/metrics").status_code == 404  # no token configured: not there at all
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    app.config["METRICS_TOKEN"] = "scrape-token-4471"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics",
                      headers={"Authorization": "Bearer wrong-token"}).status_code == 404
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-4471"})
    assert response.status_code == 200
    _no_cookie(response)


def test_metrics_count_requests_by_endpoint_never_by_path(app, client):
    app.config["METRICS_TOKEN"] = "scrape-token-4471"
    secret = "resume-token-that-must-not-leak-93"
    client.get(f"/assessment/resume/{secret}")
    client.get("/healthz")
    body = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-4471"}) \
        .get_data(as_text=True)
    assert 'ithealth_http_requests_total{endpoint="wizard.resume",method="GET"' in body
    assert 'ithealth_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' \
        in body
    assert "ithealth_http_request_duration_seconds_bucket" in body
    assert "ithealth_db_pool_connections_in_use" in body
    assert secret not in body and "/assessment" not in body and "scrape-token" not in body


def test_metrics_read_the_render_queue(app, client, queue_url):
    app.config.update(METRICS_TOKEN="t0k3n", RENDER_QUEUE=queue_url)
    beating = start_heartbeat(_redis(queue_url), workers=1)
    try:
        body = client.get("/metrics", headers={"Authorization": "Bearer t0k3n"}) \
            .get_data(as_text=True)
    finally:
        beating.set()
    assert "ithealth_render_queue_up 1.0" in body
    assert "ithealth_render_consumers_live 1.0" in body
    assert "ithealth_renders_queued 0.0" in body
    assert queue_url not in body
