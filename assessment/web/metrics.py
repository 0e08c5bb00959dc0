"""Prometheus metrics, served at /metrics to a scraper that has ITHEALTH_METRICS_TOKEN
(web/health.py).

Recorded by every request: `ithealth_http_requests_total{endpoint,method,status}` and
`ithealth_http_request_duration_seconds{endpoint}`. The label is the Flask endpoint name
(`wizard.resume`), never the path: a token in a path never becomes a label.

Read when scraped (cached for CACHE_SECONDS, each source with a short timeout):
- `ithealth_db_pool_connections_in_use`, `ithealth_db_pool_requests_waiting`: the PostgreSQL
  connection pool (0 on SQLite, which has no pool);
- with a render queue: `ithealth_renders_queued`, `ithealth_renders_running`,
  `ithealth_renders_failed` (failures still on record: the last few minutes),
  `ithealth_renders_oldest_waiting_seconds`, `ithealth_render_consumers_live`,
  `ithealth_render_queue_up` (0 when Redis did not answer).

Several gunicorn workers: with PROMETHEUS_MULTIPROC_DIR set (an empty folder, the same for
every worker, emptied at each start), prometheus_client keeps the request metrics in files there
and any worker answers for all of them; the pool gauges are then kept the same way, each worker
writing its own every few seconds and the scrape adding up the live ones. Without it, each
worker counts only its own requests, and a scrape sees whichever worker answered it.
"""

from __future__ import annotations

import os
import threading
import time

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

CACHE_SECONDS = 5.0
QUEUE_TIMEOUT = 1.0
POOL_EVERY = 5.0  # seconds between a worker's pool readings in multiprocess mode
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


REQUESTS = Counter("ithealth_http_requests", "HTTP requests answered, by Flask endpoint.",
                   ["endpoint", "method", "status"], registry=None)
LATENCY = Histogram("ithealth_http_request_duration_seconds",
                    "Time to answer a request, by Flask endpoint.", ["endpoint"], registry=None,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
POOL_IN_USE = Gauge("ithealth_db_pool_connections_in_use",
                    "PostgreSQL connections taken from the pool.", registry=None,
                    multiprocess_mode="livesum")
POOL_WAITING = Gauge("ithealth_db_pool_requests_waiting",
                     "Requests waiting for a PostgreSQL connection.", registry=None,
                     multiprocess_mode="livesum")


def _pool_stats() -> dict[str, int]:
    import sys

    postgres = sys.modules.get("assessment.storage.postgres")  # loaded only for a URL
    return postgres.pool_stats() if postgres is not None else {"in_use": 0, "waiting": 0}


def _read_pool() -> None:
    stats = _pool_stats()
    POOL_IN_USE.set(stats["in_use"])
    POOL_WAITING.set(stats["waiting"])


_pool_reader: dict[str, int] = {}


def _start_pool_reader() -> None:
    """Multiprocess mode: this worker writes its pool gauges every POOL_EVERY seconds."""
    if _pool_reader.get("pid") == os.getpid():
        return
    _pool_reader["pid"] = os.getpid()

    def read() -> None:
        while True:
            try:
                _read_pool()
            except Exception:  # noqa: BLE001, S110 - a reading missed is taken next time
                pass
            time.sleep(POOL_EVERY)

    threading.Thread(target=read, name="metrics-pool", daemon=True).start()


class LiveCollector:
    """What is read at scrape time: the render queue in Redis (cached), and in single-process
    mode the pool of this process."""

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._read_at = 0.0
        self._queue: dict | None = None

    def _queue_health(self) -> dict | None:
        url = self.app.config.get("RENDER_QUEUE")
        if not url:
            return None
        with self._lock:
            if time.monotonic() - self._read_at > CACHE_SECONDS:
                from ..report.queue import queue_health

                try:
                    self._queue = queue_health(url, QUEUE_TIMEOUT)
                except Exception:  # noqa: BLE001 - Redis away: said by render_queue_up
                    self._queue = {}
                self._read_at = time.monotonic()
            return self._queue

    def collect(self):
        if not multiprocess():
            stats = _pool_stats()
            yield GaugeMetricFamily("ithealth_db_pool_connections_in_use",
                                    "PostgreSQL connections taken from the pool.",
                                    value=stats["in_use"])
            yield GaugeMetricFamily("ithealth_db_pool_requests_waiting",
                                    "Requests waiting for a PostgreSQL connection.",
                                    value=stats["waiting"])
        status = self._queue_health()
        if status is None:
            return
        yield GaugeMetricFamily("ithealth_render_queue_up", "1 when Redis answered.",
                                value=1 if status else 0)
        if not status:
            return
        for name, text, value in (
                ("renders_queued", "Renders waiting on the queue.", status["waiting"]),
                ("renders_running", "Renders being rendered now.", status["rendering"]),
                ("renders_failed", "Failed renders still on record (the last minutes).",
                 status["failed"]),
                ("renders_oldest_waiting_seconds", "Age of the oldest waiting render.",
                 status["oldest_waiting"] or 0),
                ("render_consumers_live", "Render consumers with a live heartbeat.",
                 len(status["consumers"]))):
            yield GaugeMetricFamily(f"ithealth_{name}", text, value=value)


def _registry(app: Flask) -> CollectorRegistry:
    registry = app.extensions.get("metrics_registry")
    if registry is None:
        registry = CollectorRegistry()
        if multiprocess():
            from prometheus_client import multiprocess as mp

            mp.MultiProcessCollector(registry)
        else:
            for metric in (REQUESTS, LATENCY):
                registry.register(metric)
        registry.register(LiveCollector(app))
        app.extensions["metrics_registry"] = registry
    return registry


def exposition(app: Flask) -> tuple[bytes, str]:
    return generate_latest(_registry(app)), CONTENT_TYPE_LATEST


def _started() -> None:
    g.metrics_started = time.perf_counter()
    if multiprocess():
        _start_pool_reader()


def _answered(response):
    endpoint = request.endpoint or "none"  # "none": no route matched (a 404)
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    # First among the before_request functions, so even a request another one answers early
    # (the bank being fixed) is timed.
    app.before_request_funcs.setdefault(None, []).insert(0, _started)
    app.after_request(_answered)
