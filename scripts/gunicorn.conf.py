"""gunicorn settings for `make serve`. Every value can be overridden by environment variables
(see docs/operations.md)."""

import multiprocessing
import os

# Threads share a process's SQLite connection pool and the GIL; a few per process and one
# process per core measured best for the wizard on small machines (benchmarks/bench_wizard.py).
bind = os.environ.get("ITHEALTH_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("ITHEALTH_WEB_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("ITHEALTH_WEB_THREADS", 4))
timeout = 90  # a report render may take a while on a first download
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("ITHEALTH_ACCESS_LOG", "-")
# Resume, claim and invite links carry a token in their path: the access log writes "…" instead.
logger_class = "assessment.web.access_log.RedactingLogger"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
errorlog = "-"
# gunicorn's runtime control socket sits at one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn),
# so two instances on one machine (a rolling restart, the tests, the benchmarks) would take it
# from each other. Nothing here uses it.
control_socket_disable = True

# Prometheus metrics across workers (docs/operations.md, "Health, readiness and metrics"): with
# PROMETHEUS_MULTIPROC_DIR set, the workers keep their metrics in files there. Those of a former
# run are removed at start (only the metric files), and a dead worker's live gauges at its exit.
_METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if _METRICS_DIR:
        from pathlib import Path

        folder = Path(_METRICS_DIR)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink()


def child_exit(server, worker):
    if _METRICS_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
