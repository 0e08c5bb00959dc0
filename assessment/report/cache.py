"""Rendered PDFs on disk, keyed by a hash of everything that goes into them.

The key covers: the answers and the computed result, the bank (id, version, hash), the business
name, date, notes, verification marks and owner answers, the branding (the logo by its SHA-256),
the price list the plan's costs are worked out with, the template version (a hash of
report_templates/ and this package's code) and the WeasyPrint version. Change any of them and
the key changes, so a stale PDF is never served; leave them alone and a repeat download is a
file read.

Files are `<key>.pdf`, written to a temporary file in the same folder and moved into place with
os.replace, so a reader never sees half a file.

A render in progress is known two ways: in this process by its Future, and in every process
sharing the folder by a marker `<key>.rendering` (the process id and start time), removed once
the PDF is in place. So a download that reaches another web process than the one that started
the render waits for that render instead of starting a second one, and `status(key)` can say
how far a render has got wherever it runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from ..core.scoring import result_to_dict
from .html import render_print_html, template_version
from .models import ReportInput
from .pool import RenderError, RenderPool
from .queue import get_renderer

KEY_FORMAT = 1
# How long a render is expected to take before any has been timed here, for progress figures.
EXPECTED_SECONDS = {False: 3.0, True: 5.0}  # by `full`
TIMINGS_KEPT = 9  # recent render times per variant; their median is the expectation
FAILURE_REMEMBERED = 300.0  # seconds a failed render is reported as failed rather than retried
MARKER_MAX_AGE = 900.0  # seconds after which a marker is stale whatever its process
POLL_SECONDS = 0.05  # how often a wait for another process's render looks at the folder


def _plain(value):
    if isinstance(value, tuple):
        return list(value)
    return value


def cache_key(report: ReportInput) -> str:
    result, brand = report.result, report.branding
    logo = brand.logo_png_or_jpeg
    payload = {
        "format": KEY_FORMAT,
        "bank": [result.bank_id, result.bank_version, result.bank_hash],
        "answers": [[o.question.id, o.answer.state, _plain(o.answer.value)]
                    for o in result.outcomes if o.answer is not None],
        "result": result_to_dict(result),
        "business_name": report.business_name,
        "assessed_on": report.assessed_on.isoformat(),
        "notes": dict(sorted(report.notes.items())),
        "verified": None if report.verified is None else dict(sorted(report.verified.items())),
        "owner_answers": dict(sorted(report.owner_answers.items())),
        "full": report.full,
        "private_notes": sorted(report.private_notes),
        "by_provider": sorted(report.by_provider),
        "by_check": sorted(report.by_check),
        "branding": {
            "firm_name": brand.firm_name, "primary": brand.primary, "accent": brand.accent,
            "contact": brand.contact, "disclaimer": brand.disclaimer,
            "logo": None if logo is None else hashlib.sha256(logo).hexdigest(),
        },
        "prices": report.prices.model_dump(mode="json"),
        "templates": template_version(),
        "weasyprint": version("weasyprint"),
    }
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RenderStatus:
    """Where the PDF of one key stands.

    state: "ready" (on disk), "queued" (waiting for a free render worker), "rendering", "failed"
    (the last render failed; `error` says why) or "none" (neither on disk nor being rendered).
    `elapsed` is how long it has been rendering and `expected` how long a render of this
    variant has recently taken, both in seconds (0 when unknown).
    """

    state: str
    elapsed: float = 0.0
    expected: float = 0.0
    error: str | None = None

    @property
    def in_progress(self) -> bool:
        return self.state in ("queued", "rendering")

    @property
    def fraction(self) -> float:
        """An estimate of how much of the render is done, from 0 to 1; never 1 until ready."""
        if self.state == "ready":
            return 1.0
        if self.state != "rendering" or self.expected <= 0:
            return 0.0
        return min(0.95, self.elapsed / self.expected)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ReportCache:
    """PDFs in `directory`, rendered on demand (or in the background) by a RenderPool, or by
    the shared render queue when one is configured (queue.py)."""

    def __init__(self, directory: str | os.PathLike, pool: RenderPool | None = None,
                 render_html: Callable[[ReportInput], str] = render_print_html):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._pool = pool
        self._render_html = render_html
        self._inflight: dict[str, Future] = {}
        self._submitted: dict[str, float] = {}  # key -> time.monotonic() of submission
        self._failed: dict[str, tuple[float, str]] = {}  # key -> (time.monotonic(), why)
        self._timings: dict[bool, deque[float]] = {}  # full -> recent render seconds
        self._lock = threading.Lock()
        self.renders = 0  # renders this cache has started (tests and benchmarks read it)

    @property
    def pool(self):
        """What renders: the pool given, else the process's renderer (pool or queue)."""
        return self._pool or get_renderer()

    def path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("not a cache key")
        return self.directory / f"{key}.pdf"

    def _marker(self, key: str) -> Path:
        return self.path(key).with_suffix(".rendering")

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def _store(self, key: str, pdf: bytes) -> None:
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pdf)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path(key))
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise

    # -- how long renders take ----------------------------------------------------------------

    def expected_seconds(self, full: bool) -> float:
        """The median of this variant's recent render times here, or a first guess."""
        timings = self._timings.get(bool(full))
        return statistics.median(timings) if timings else EXPECTED_SECONDS[bool(full)]

    def _note_timing(self, full: bool, seconds: float) -> None:
        self._timings.setdefault(bool(full), deque(maxlen=TIMINGS_KEPT)).append(seconds)

    # -- markers: renders in progress in any process ------------------------------------------

    def _write_marker(self, key: str, expected: float) -> None:
        data = json.dumps({"pid": os.getpid(), "started": time.time(), "expected": expected})
        try:
            fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".rendering")
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(data)
            os.replace(temp, self._marker(key))
        except OSError:  # a missing marker only means other processes cannot see this render
            pass

    def _drop_marker(self, key: str) -> None:
        try:
            self._marker(key).unlink()
        except OSError:
            pass

    def _elsewhere(self, key: str) -> RenderStatus | None:
        """The render of `key` another process is running, from its marker; None if none is."""
        try:
            data = json.loads(self._marker(key).read_text(encoding="ascii"))
            pid, started = int(data["pid"]), float(data["started"])
            expected = float(data.get("expected") or 0)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        age = time.time() - started
        if pid == os.getpid() or not 0 <= age < MARKER_MAX_AGE or not _process_alive(pid):
            return None  # ours would be in _inflight; an old one or a dead process's is stale
        return RenderStatus("rendering", elapsed=age, expected=expected)

    # -- starting, asking, waiting ------------------------------------------------------------

    def _start(self, key: str, report: ReportInput) -> Future:
        """The Future of the render for `key`: one already running, or a new one."""
        with self._lock:
            future = self._inflight.get(key)
            if future is not None:
                return future
            html = self._render_html(report)
            expected = self.expected_seconds(report.full)
            future = self.pool.submit(html, key=key)
            self._inflight[key] = future
            self._submitted[key] = time.monotonic()
            self._failed.pop(key, None)
            self.renders += 1
            self._write_marker(key, expected)

        def done(f: Future) -> None:
            try:
                if not f.cancelled() and f.exception() is None:
                    self._store(key, f.result())
                    started = getattr(f, "started_at", None) or self._submitted.get(key)
                    if started is not None:
                        self._note_timing(report.full, time.monotonic() - started)
                else:
                    error = f.exception() if not f.cancelled() else RenderError("cancelled")
                    self._failed[key] = (time.monotonic(), str(error))
            finally:
                self._drop_marker(key)
                with self._lock:
                    self._inflight.pop(key, None)
                    self._submitted.pop(key, None)

        future.add_done_callback(done)
        return future

    def status(self, key: str, full: bool = False) -> RenderStatus:
        """Where the PDF of `key` stands, in this process or any other sharing the folder."""
        if self.path(key).exists():
            return RenderStatus("ready")
        expected = self.expected_seconds(full)
        with self._lock:
            future = self._inflight.get(key)
            submitted = self._submitted.get(key)
        if future is not None:
            started = getattr(future, "started_at", None)
            if started is None and not future.done():
                return RenderStatus("queued", expected=expected)
            since = started or submitted or time.monotonic()
            return RenderStatus("rendering", elapsed=time.monotonic() - since, expected=expected)
        elsewhere = self._elsewhere(key)
        if elsewhere is not None:
            return elsewhere
        failed = self._failed.get(key)
        if failed is not None and time.monotonic() - failed[0] < FAILURE_REMEMBERED:
            return RenderStatus("failed", error=failed[1])
        return RenderStatus("none", expected=expected)

    def ensure(self, report: ReportInput, *, retry_failed: bool = True) -> RenderStatus:
        """Make sure the PDF is on disk or on its way: start a render unless one is running (here
        or in another process). A render that failed lately is started again only when
        `retry_failed`. Returns at once with the status."""
        key = cache_key(report)
        status = self.status(key, report.full)
        if status.state == "none" or (status.state == "failed" and retry_failed):
            self._start(key, report)
            status = self.status(key, report.full)
        return status

    def wait(self, key: str, timeout: float, full: bool = False) -> RenderStatus:
        """The status of `key` once its render is over, or after `timeout` seconds at most."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                future = self._inflight.get(key)
            if future is not None:
                try:
                    future.exception(timeout=max(0.0, deadline - time.monotonic()))
                except FutureTimeout:
                    pass
                # the PDF is written by the Future's callback: it may still be on its way
                while self._inflight.get(key) is future and time.monotonic() < deadline:
                    time.sleep(0.005)
            status = self.status(key, full)
            remaining = deadline - time.monotonic()
            if not status.in_progress or remaining <= 0:
                return status
            if future is None:  # another process renders: look at the folder now and then
                time.sleep(min(POLL_SECONDS, remaining))

    def prerender(self, report: ReportInput) -> Future | None:
        """Start rendering in the background unless the PDF is already cached or being rendered
        by another process; returns at once."""
        key = cache_key(report)
        if self.path(key).exists() or self._elsewhere(key) is not None:
            return None
        return self._start(key, report)

    def get_or_render(self, report: ReportInput) -> bytes:
        key = cache_key(report)
        cached = self.get(key)
        if cached is not None:
            return cached
        if key not in self._inflight and self._elsewhere(key) is not None:
            # Another process renders it: wait for its file rather than render it twice.
            limit = 2 * float(getattr(self.pool, "timeout", 60.0)) + 10
            self.wait(key, limit, report.full)
            cached = self.get(key)
            if cached is not None:
                return cached
        pdf = self._start(key, report).result()
        if not self.path(key).exists():  # the callback may still be writing; make sure
            self._store(key, pdf)
        return pdf
