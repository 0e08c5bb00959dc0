"""A small pool of render worker processes with a wall-clock limit and a memory limit per render.

- Each worker is a separate process started with "spawn"; it imports WeasyPrint once and keeps
  its parsed stylesheet and fonts for every render (see worker.py, engine.py).
- A render that runs past `timeout` seconds gets its worker killed (SIGKILL) and replaced; the
  caller gets RenderTimeout. A worker that dies (for instance at its RLIMIT_AS memory limit) is
  replaced too; the caller gets RenderError. Either way the pool keeps working.
- In the parent, one small thread per worker only hands jobs over a pipe and waits for the
  answer; no rendering ever happens in a thread of the web process.
- `submit()` returns a concurrent.futures.Future at once (for background pre-rendering);
  `render()` waits for it. With `queue_limit` jobs already waiting, `submit()` raises RenderBusy
  instead: the web layer then shows its "busy" page rather than a wait nobody would sit out.
  Once a worker takes the job, the Future's `started_at` is the time.monotonic() it began (so
  a caller can tell waiting in the queue from rendering).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace

from ..support.config import RENDER_DEFAULTS, RenderSettings
from . import worker

START_TIMEOUT = 60.0  # seconds for a new worker to import WeasyPrint and load the fonts


class RenderError(RuntimeError):
    """A report could not be rendered."""


class RenderTimeout(RenderError):
    """A render took longer than the pool's wall-clock limit; its worker was replaced."""


class RenderBusy(RenderError):
    """Too many renders are waiting already; nothing was queued. Try again in a few minutes."""


class RenderDelayed(RenderError):
    """The render is queued, but no render consumer is running to take it: it is made when one
    starts. Said at once, rather than after waiting for a consumer that is not there."""


@dataclass
class _Job:
    html: str
    future: Future
    timeout: float


class _Slot:
    """One worker process and the parent-side thread that feeds it."""

    def __init__(self, pool: RenderPool, number: int):
        self.pool = pool
        self.number = number
        self.process = None
        self.conn = None
        self.pid: int | None = None
        self.thread = threading.Thread(target=self._loop, name=f"report-render-{number}",
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _spawn(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        memory = self.pool.memory_mb * 1024 * 1024 if self.pool.memory_mb else None
        process = ctx.Process(target=worker.main, args=(child, memory),
                              name=f"report-worker-{self.number}", daemon=True)
        process.start()
        child.close()
        if not parent.poll(START_TIMEOUT):
            process.kill()
            process.join()
            raise RenderError("a render worker did not start in time")
        try:
            kind, detail = parent.recv()
        except EOFError:
            process.join()
            raise RenderError("a render worker exited while starting") from None
        if kind != "ready":
            process.join()
            raise RenderError(f"a render worker could not start: {detail}")
        self.process, self.conn, self.pid = process, parent, detail
        self.pool._started += 1

    def _kill(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self.pool._note_peak(self.pid)
        if self.conn is not None:
            self.conn.close()
        self.process = self.conn = self.pid = None

    def _loop(self) -> None:
        while True:
            job = self.pool._jobs.get()
            if job is None:
                self._stop()
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            job.future.started_at = time.monotonic()  # read by the cache for progress figures
            try:
                job.future.set_result(self._run(job))
            except BaseException as error:  # noqa: BLE001 (handed to the caller)
                job.future.set_exception(error)

    def _run(self, job: _Job) -> bytes:
        if self.process is None or not self.process.is_alive():
            self._kill()
            self._spawn()
        self.pool._note_peak(self.pid)
        try:
            self.conn.send(("render", job.html))
            ready = self.conn.poll(job.timeout)
        except (BrokenPipeError, OSError):
            ready = None
        if ready is False:
            self._kill()
            raise RenderTimeout(f"the report took longer than {job.timeout:g} seconds to render; "
                                f"the render was stopped")
        try:
            if ready is None:
                raise EOFError
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            self._kill()
            raise RenderError("the render worker stopped unexpectedly (it may have run out of "
                              "memory); the render was abandoned") from None
        self.pool._note_peak(self.pid)
        if kind == "ok":
            return payload
        if not self.process.is_alive():
            self._kill()
        raise RenderError(f"the report could not be rendered: {payload}")

    def _stop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        if self.process is not None:
            self.process.join(5)
        self._kill()


def _vm_hwm_kb(pid: int | None) -> int:
    """Peak resident memory of a live process, from /proc (0 when unknown)."""
    if not pid:
        return 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RenderPool:
    """Renders in worker processes beside this one; a Renderer for the cache (cache.py).
    `timeout` is the wall-clock limit of one render, `memory_mb` the address space of a worker
    (RLIMIT_AS, not resident memory), `queue_limit` the renders that may wait for a worker."""

    def __init__(self, workers: int = RENDER_DEFAULTS.workers,
                 timeout: float = RENDER_DEFAULTS.timeout,
                 memory_mb: int | None = RENDER_DEFAULTS.memory_mb,
                 queue_limit: int | None = RENDER_DEFAULTS.queue_limit):
        if workers < 1:
            raise ValueError("a render pool needs at least one worker")
        self.workers = workers
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.queue_limit = queue_limit
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._slots: list[_Slot] = []
        self._lock = threading.Lock()
        self._closed = False
        self._started = 0  # worker processes started so far (replacements included)
        self._peak_kb = 0

    @property
    def started_workers(self) -> int:
        return self._started

    def worker_pids(self) -> list[int]:
        return [slot.pid for slot in self._slots if slot.pid]

    def _note_peak(self, pid: int | None) -> None:
        self._peak_kb = max(self._peak_kb, _vm_hwm_kb(pid))

    def peak_rss_mb(self) -> float:
        """The highest resident memory any worker reached, as far as the pool has seen."""
        for pid in self.worker_pids():
            self._note_peak(pid)
        return self._peak_kb / 1024

    def _ensure_started(self) -> None:
        with self._lock:
            if self._closed:
                raise RenderError("the render pool has been shut down")
            while len(self._slots) < self.workers:
                slot = _Slot(self, len(self._slots))
                self._slots.append(slot)
                slot.start()

    def idle(self) -> bool:
        """No render waiting for a worker."""
        return self._jobs.qsize() == 0

    def submit(self, html: str, timeout: float | None = None, key: str | None = None) -> Future:
        """Queue a render and return at once; the Future gives the PDF bytes or RenderError.
        `key` (the report's content hash) is for the shared queue's deduplication; a pool's
        caller (the cache) already runs one render per key. Raises RenderBusy when full."""
        self._ensure_started()
        if self.queue_limit is not None and self._jobs.qsize() >= self.queue_limit:
            raise RenderBusy(f"{self._jobs.qsize()} reports are waiting to be rendered")
        future: Future = Future()
        self._jobs.put(_Job(html, future, self.timeout if timeout is None else timeout))
        return future

    def render(self, html: str, timeout: float | None = None) -> bytes:
        return self.submit(html, timeout).result()

    def warm_up(self) -> None:
        """Start every worker now rather than on the first render."""
        # Starting a worker (WeasyPrint and fonts) may take longer than one render may.
        futures = [self.submit("<p>warm-up</p>", timeout=max(self.timeout, START_TIMEOUT))
                   for _ in range(self.workers)]
        for future in futures:
            future.result()

    def shutdown(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            slots = list(self._slots)
        for _ in slots:
            self._jobs.put(None)
        for slot in slots:
            slot.thread.join(10)


_default: RenderPool | None = None
_default_lock = threading.Lock()
_settings: RenderSettings = RENDER_DEFAULTS


def configure_pool(workers: int | None = None, timeout: float | None = None,
                   memory_mb: int | None = None, queue_limit: int | None = None) -> None:
    """Set the default pool's size and limits (those not given stay as they are); takes effect
    when the pool is next created."""
    global _default, _settings
    given = {"workers": workers, "timeout": timeout, "memory_mb": memory_mb,
             "queue_limit": queue_limit}
    wanted = replace(_settings, **{key: value for key, value in given.items()
                                   if value is not None})
    with _default_lock:
        # A running pool with these settings and nothing waiting is kept, with its warm
        # workers (WeasyPrint and its fonts take seconds to load): an app made again in the
        # same process changes nothing.
        if (wanted == _settings and _default is not None and not _default._closed
                and _default.idle()):
            return
        _settings = wanted
        if _default is not None:
            _default.shutdown()
            _default = None


def get_pool() -> RenderPool:
    global _default
    with _default_lock:
        if _default is None or _default._closed:
            _default = RenderPool(_settings.workers, _settings.timeout, _settings.memory_mb,
                                  _settings.queue_limit)
        return _default


def shutdown_pool() -> None:
    global _default
    with _default_lock:
        if _default is not None:
            _default.shutdown()
            _default = None


atexit.register(shutdown_pool)

# Never inherit a pool across fork(): a child process (a gunicorn worker forked after the app was
# loaded, say) starts its own.
if hasattr(os, "register_at_fork"):
    def _forget_pool_in_child():
        global _default
        _default = None

    os.register_at_fork(after_in_child=_forget_pool_in_child)
