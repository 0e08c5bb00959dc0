"""Rendered PDFs on disk, keyed by a hash of everything that goes into them.

The key covers: the answers and the computed result, the bank (id, version, hash), the business
name, date, notes, verification marks and owner answers, the branding (the logo by its SHA-256),
the price list the plan's costs are worked out with, the template version (a hash of
report_templates/ and this package's code) and the WeasyPrint version. Change any of them and
the key changes, so a stale PDF is never served; leave them alone and a repeat download is a
file read.

Files are `<key>.pdf`, written to a temporary file in the same folder and moved into place with
os.replace, so a reader never sees half a file.

The cache answers one question about a report, `ask`: is it ready (here is the PDF), pending
(being rendered, and how far it has got) or failed (and why)? Asking starts the render when
nothing is rendering it. What renders is a Renderer: the pool of worker processes beside this
one (pool.py) or the shared queue (queue.py).

One render per report, in one place per scope:
- in this process, the cache keeps the render of each key it started (`_inflight`);
- in every process sharing the folder, a marker `<key>.rendering` (the process id and start
  time), removed once the PDF is in place, says a render is under way, so a download that
  reaches another web process waits for that render instead of starting a second one;
- on a shared queue, across machines, the queue's claim on the key (queue.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import statistics
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

from ..core.scoring import result_to_dict
from ..support.config import RENDER_DEFAULTS
from ..support.private_files import make_folder, tighten
from .html import render_print_html, template_version
from .models import ReportInput
from .pool import RenderBusy, RenderDelayed, RenderError
from .queue import get_renderer

KEY_FORMAT = 1
# How long a render is expected to take before any has been timed here, for progress figures.
EXPECTED_SECONDS = {False: 3.0, True: 5.0}  # by `full`
TIMINGS_KEPT = 9  # recent render times per variant; their median is the expectation
FAILURE_REMEMBERED = 300.0  # seconds a failed render is reported as failed rather than retried
MARKER_MAX_AGE = 900.0  # seconds after which a marker is stale whatever its process
POLL_SECONDS = 0.05  # how often a wait for another process's render looks at the folder
EVICT_SECONDS = 600.0  # how often a process looks for PDFs to evict, at most
RECENT_SECONDS = 60.0  # a PDF read or written this recently is never evicted

log = logging.getLogger(__name__)


def _remove(path: str) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


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


class Renderer(Protocol):
    """What turns a report's page into PDF bytes: RenderPool (worker processes beside this one)
    or RedisRenderQueue (the shared queue), or a stand-in in tests."""

    timeout: float  # seconds one render may take: how long a render elsewhere is waited for

    def submit(self, html: str, *, key: str) -> Future:
        """Start rendering and return at once. The Future gives the PDF bytes or RenderError,
        and has `started_at` (time.monotonic()) once the render has begun. Raises RenderBusy
        when too many renders wait already (nothing was queued), RenderError when it cannot
        start at all."""
        ...


@dataclass(frozen=True)
class RenderStatus:
    """The cache's answer about one report.

    state: "ready" (`pdf` holds it; `cached`: it was on disk already, nothing was rendered or
    waited for), "pending" (being rendered: `stage` is "queued", waiting for a free render
    worker, or "rendering", with `elapsed` seconds so far and `expected` seconds, how long a
    render of this variant has recently taken, 0 when unknown), or "failed" (`error` says why;
    `busy`: the renders waiting were too many, so this one was not even queued; `delayed`: it
    is queued, but no render consumer is running).
    """

    state: str
    key: str = ""
    pdf: bytes | None = field(default=None, repr=False)
    cached: bool = False
    stage: str | None = None
    elapsed: float = 0.0
    expected: float = 0.0
    error: str | None = None
    busy: bool = False
    delayed: bool = False  # queued, but no render consumer is running to make it

    @property
    def fraction(self) -> float:
        """An estimate of how much of the render is done, from 0 to 1; never 1 until ready."""
        if self.state == "ready":
            return 1.0
        if self.stage != "rendering" or self.expected <= 0:
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


class _Render:
    """A render this process started: its Future, and `settled` once the PDF is stored (or the
    failure recorded)."""

    __slots__ = ("future", "submitted", "settled")

    def __init__(self, future: Future):
        self.future = future
        self.submitted = time.monotonic()
        self.settled = threading.Event()


class ReportCache:
    """PDFs in `directory`, rendered on demand (or in the background) by `pool`, any Renderer,
    else by the process's renderer: the in-process pool, or the shared render queue when one is
    configured (queue.py)."""

    def __init__(self, directory: str | os.PathLike, pool: Renderer | None = None,
                 render_html: Callable[[ReportInput], str] = render_print_html, *,
                 max_mb: float = RENDER_DEFAULTS.cache_mb,
                 max_days: float = RENDER_DEFAULTS.cache_days):
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.max_age = max_days * 86400
        self._next_sweep = 0.0
        self.directory = Path(directory)
        # Firms' reports, with private notes: the service account's alone.
        make_folder(self.directory)
        tighten(self.directory)
        self._pool = pool
        self._render_html = render_html
        self._inflight: dict[str, _Render] = {}
        self._failed: dict[str, tuple[float, str]] = {}  # key -> (time.monotonic(), why)
        self._timings: dict[bool, deque[float]] = {}  # full -> recent render seconds
        self._lock = threading.Lock()
        self.renders = 0  # renders this cache has started (tests and benchmarks read it)

    @property
    def renderer(self) -> Renderer:
        """What renders: the one given, else the process's renderer (pool or queue)."""
        return self._pool or get_renderer()

    def path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("not a cache key")
        return self.directory / f"{key}.pdf"

    def _marker(self, key: str) -> Path:
        return self.path(key).with_suffix(".rendering")

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            pdf = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            os.utime(path)  # read now: the eviction below keeps the recently read
        except OSError:
            pass  # removed meanwhile (evicted, or its assessment deleted): we have the bytes
        return pdf

    # -- eviction -----------------------------------------------------------------------------

    def evict(self, *, now: float | None = None) -> list[str]:
        """Remove the PDFs not read for `max_days`, then the least recently read until the
        folder holds at most `max_bytes` (down to nine tenths, so it is not done at every
        render); and temporary files left by a process that died mid-write. Returns the keys
        removed. A PDF is made again when someone asks for it."""
        moment = time.time() if now is None else now
        pdfs = []
        for entry in os.scandir(self.directory):
            try:
                info = entry.stat()
            except FileNotFoundError:
                continue
            if entry.name.startswith(".tmp-"):
                if moment - info.st_mtime > 3600:
                    _remove(entry.path)
            elif entry.name.endswith(".pdf"):
                pdfs.append((info.st_mtime, info.st_size, entry.path))
        pdfs.sort()  # least recently read first
        removed, total = [], sum(size for _, size, _ in pdfs)
        for read_at, size, path in pdfs:
            if moment - read_at < RECENT_SECONDS:
                continue  # just written or read: perhaps being downloaded now
            too_old = moment - read_at > self.max_age
            too_big = total > (self.max_bytes if not removed else self.max_bytes * 0.9)
            if not (too_old or too_big):
                continue
            if _remove(path):
                removed.append(Path(path).stem)
                total -= size
        return removed

    def _evict_now_and_then(self) -> None:
        """Evict at most once every EVICT_SECONDS per process, after a PDF is stored."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + EVICT_SECONDS
        try:
            self.evict()
        except OSError as error:
            log.warning("could not evict old PDFs from %s: %s", self.directory, error)

    def _store(self, key: str, pdf: bytes) -> None:
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pdf)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path(key))
            self._evict_now_and_then()
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
        return RenderStatus("pending", key, stage="rendering", elapsed=age, expected=expected)

    # -- the one question ---------------------------------------------------------------------

    def ask(self, report: ReportInput, *, wait: float | None = 0.0, retry_failed: bool = True,
            on_render: Callable[[str], None] | None = None) -> RenderStatus:
        """Where the report's PDF stands: ready, pending or failed (RenderStatus).

        Unless it is on disk, or being rendered here or in another process, asking starts its
        render; a render that failed lately is started again only when `retry_failed`. Then
        the answer waits up to `wait` seconds for the render to be over (None: until it is; a
        render in another process is waited for as long as a render may take, then rendered
        here). `on_render(key)` is called first when the PDF is not on disk, so the caller can
        record which PDFs it makes."""
        key = cache_key(report)
        pdf = self.get(key)
        if pdf is not None:
            return RenderStatus("ready", key, pdf=pdf, cached=True)
        if on_render is not None:
            on_render(key)
        deadline = None if wait is None else time.monotonic() + wait
        patience: float | None = None  # when a wait for another process's render gives up
        status = self._status(key, report.full)
        if status is None or (status.state == "failed" and retry_failed):
            status = self._start(key, report)
        while status.state == "pending":
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return status
            with self._lock:
                render = self._inflight.get(key)
            if render is not None:
                render.settled.wait(remaining)
            elif remaining is not None:  # another process renders it: look now and then
                time.sleep(min(POLL_SECONDS, remaining))
            else:
                patience = patience or time.monotonic() + 2 * self.renderer.timeout + 10
                if time.monotonic() > patience:  # it takes too long there: render it here
                    status = self._start(key, report)
                    continue
                time.sleep(POLL_SECONDS)
            # Nothing renders it any more without a PDF or a failure to show (another process
            # stopped): start it, as asking for a report nobody renders does.
            status = self._status(key, report.full) or self._start(key, report)
        return status

    def _status(self, key: str, full: bool) -> RenderStatus | None:
        """Where `key` stands now, in this process or any other sharing the folder; None when
        it is neither on disk nor being rendered, nor failed lately."""
        pdf = self.get(key)
        if pdf is not None:
            return RenderStatus("ready", key, pdf=pdf)
        with self._lock:
            render = self._inflight.get(key)
        if render is not None:
            expected = self.expected_seconds(full)
            started = getattr(render.future, "started_at", None)
            if started is None and not render.future.done():
                return RenderStatus("pending", key, stage="queued", expected=expected)
            since = started or render.submitted
            return RenderStatus("pending", key, stage="rendering",
                                elapsed=time.monotonic() - since, expected=expected)
        elsewhere = self._elsewhere(key)
        if elsewhere is not None:
            return elsewhere
        failed = self._failed.get(key)
        if failed is not None and time.monotonic() - failed[0] < FAILURE_REMEMBERED:
            return RenderStatus("failed", key, error=failed[1])
        return None

    def _start(self, key: str, report: ReportInput) -> RenderStatus:
        """Start the render of `key` (or join the one running here) and say where it stands;
        failed when the renderer refuses it."""
        try:
            self._render(key, report)
        except RenderBusy as busy:
            return RenderStatus("failed", key, error=str(busy), busy=True)
        except RenderDelayed as delayed:
            return RenderStatus("failed", key, error=str(delayed), delayed=True)
        except RenderError as error:
            return RenderStatus("failed", key, error=str(error))
        return self._status(key, report.full) or RenderStatus("pending", key, stage="queued")

    def _render(self, key: str, report: ReportInput) -> _Render:
        """The render of `key` in this process: the one already running, or a new one."""
        with self._lock:
            render = self._inflight.get(key)
            if render is not None:
                return render
            html = self._render_html(report)
            expected = self.expected_seconds(report.full)
            render = _Render(self.renderer.submit(html, key=key))
            self._inflight[key] = render
            self._failed.pop(key, None)
            self.renders += 1
            self._write_marker(key, expected)

        def done(f: Future) -> None:
            try:
                if f.cancelled():
                    raise RenderError("cancelled")
                self._store(key, f.result())
                started = getattr(f, "started_at", None) or render.submitted
                self._note_timing(report.full, time.monotonic() - started)
            except BaseException as error:  # noqa: BLE001 (remembered, said to whoever asks)
                self._failed[key] = (time.monotonic(), str(error))
            finally:
                self._drop_marker(key)
                with self._lock:
                    self._inflight.pop(key, None)
                render.settled.set()

        render.future.add_done_callback(done)
        return render

    # -- for callers that want the PDF or nothing ---------------------------------------------

    def prerender(self, report: ReportInput) -> Future | None:
        """Start rendering in the background unless the PDF is already cached or being rendered
        by another process; returns at once. Raises RenderBusy or RenderError when the renderer
        refuses it."""
        key = cache_key(report)
        if self.path(key).exists() or self._elsewhere(key) is not None:
            return None
        return self._render(key, report).future

    def get_or_render(self, report: ReportInput) -> bytes:
        """The PDF, waited for as long as its render takes; RenderBusy or RenderError when it
        cannot be had."""
        status = self.ask(report, wait=None)
        if status.pdf is None:
            raise (RenderBusy if status.busy else RenderError)(status.error or "no PDF")
        return status.pdf
