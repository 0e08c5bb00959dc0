"""The render worker: a separate process that imports WeasyPrint once and renders many reports.

Started by pool.py with the "spawn" method (a fresh interpreter per worker, never a fork of a
threaded web process). The memory limit is applied first thing, before WeasyPrint is imported,
so everything the worker ever allocates counts against it.
"""

from __future__ import annotations

import gc
import logging
import os
import resource

RENDER_NICENESS = 10


def apply_memory_limit(limit_bytes: int | None) -> None:
    if limit_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))


def main(conn, memory_limit_bytes: int | None) -> None:
    """Serve ("render", html) requests on `conn` until told to stop (None) or the pipe closes."""
    try:
        apply_memory_limit(memory_limit_bytes)
        # Renders yield the processor to web requests: an owner's page must not wait behind a
        # 20-page PDF (benchmarks/bench_load.py measures the effect). SCHED_IDLE runs a render
        # only on processor time nobody else wants; where it is not available, a high nice.
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except (AttributeError, OSError):
            os.nice(RENDER_NICENESS)
        from .engine import PdfEngine

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        engine = PdfEngine()
    except BaseException as error:  # noqa: BLE001 (reported, then the pool replaces us)
        conn.send(("fatal", f"{type(error).__name__}: {error}"))
        return
    # Everything loaded so far lives as long as the worker: keep it out of the collector's way.
    gc.collect()
    gc.freeze()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        kind, payload = job
        try:
            if kind != "render":
                raise ValueError(f"unknown job {kind!r}")
            # A render allocates hundreds of thousands of short-lived objects; the cyclic collector
            # would walk them again and again (about a tenth of the render time). Collect once,
            # after the answer is on its way, instead.
            gc.disable()
            try:
                pdf = engine.render(payload)
            finally:
                gc.enable()
            conn.send(("ok", pdf))
            pdf = None
            gc.collect()
        except (BrokenPipeError, ConnectionResetError):
            return  # the pool went away mid-render (the app stopped): nobody to answer
        except MemoryError:
            conn.send(("error", "the report needed more memory than a render may use"))
            return  # a fresh worker is cleaner than one that hit its limit
        except Exception as error:  # noqa: BLE001 (one bad report must not stop the worker)
            conn.send(("error", f"{type(error).__name__}: {error}"))
