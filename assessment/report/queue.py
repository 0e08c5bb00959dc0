"""Where renders run: the in-process pool (the default) or a shared queue, Huey on Redis.

Without ITHEALTH_RENDER_QUEUE each web process renders in its own pool of worker processes
(pool.py). With ITHEALTH_RENDER_QUEUE=redis://host:port/db, web processes on any number of
machines put renders on one Redis queue and `flask --app app renders work` renders them, in the
same kind of worker pool: the same time and memory limits per render, the same idle priority.
The page to render is self-contained (fonts by file name, images inline), so a consumer never
reads the database.

One report, one render, whichever web instance asks: jobs are keyed by the report's content hash
(cache.cache_key). The state of a job lives in Redis under `it-health:render:`, every key with an
expiry:

    html:<key>    the page to render, until it is rendered
    claim:<key>   taken (SET NX) by whoever puts the job on the queue, so nobody puts it twice
    lease:<key>   held by the consumer rendering it, renewed every second
    tries:<key>   how many times a consumer has started it
    pdf:<key>     the finished PDF, which every waiting web process copies into its own cache
    error:<key>   why the render failed (a time or memory limit, a broken page)

Never lost: Huey takes a job off the list when a consumer picks it up, so a consumer killed in
the middle of a render takes the job with it. Every web process waiting for a key looks each
second; a job that has no PDF, no error, no lease and no place on the list has lost its consumer,
and the waiter puts it back (once, however many wait: a guard key per try decides), up to
MAX_TRIES starts. A failed render (time or memory limit) is not retried: it would fail again.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from .pool import DEFAULT_QUEUE_LIMIT, RenderBusy, RenderError, get_pool

PREFIX = "it-health:render:"
HUEY_NAME = "it-health-renders"
TASK_NAME = "render_report"
LEASE_SECONDS = 5  # a lease not renewed for this long means its consumer is gone
RENEW_SECONDS = 1
POLL_SECONDS = 0.1  # how often a web process looks for the renders it waits for
ORPHAN_CHECKS = 2  # a job must be missing this many looks in a row, a second apart, to be lost
MAX_TRIES = 3
PDF_SECONDS = 3600  # a finished PDF stays in Redis this long, for the other web instances
ERROR_SECONDS = 300
DEFAULT_WAIT = 300.0  # seconds a web process waits for a job before calling it failed

log = logging.getLogger(__name__)


def _name(kind: str, key: str) -> str:
    return f"{PREFIX}{kind}:{key}"


def make_huey(url: str):
    """The Huey of the render queue and its one task. Web processes and consumers make them the
    same way, so both sides agree on the queue's name and the task's."""
    from huey import RedisHuey

    huey = RedisHuey(HUEY_NAME, url=url, results=False, utc=True)
    task = huey.task(name=TASK_NAME)(lambda key: render_job(huey.storage.conn, key))
    return huey, task


def render_job(redis, key: str) -> None:
    """The consumer's side of one job: take the lease, render in the pool, hand the PDF back."""
    if redis.exists(_name("pdf", key)):
        redis.delete(_name("claim", key))
        return
    lease = json.dumps({"started": time.time(), "by": f"{socket.gethostname()}:{os.getpid()}"})
    if not redis.set(_name("lease", key), lease, nx=True, ex=LEASE_SECONDS):
        return  # another consumer is rendering it (a job put back while it was only slow)
    redis.incr(_name("tries", key))
    done = threading.Event()

    def renew() -> None:
        while not done.wait(RENEW_SECONDS):
            redis.set(_name("lease", key), lease, xx=True, ex=LEASE_SECONDS)

    threading.Thread(target=renew, name=f"lease-{key[:8]}", daemon=True).start()
    try:
        html = redis.get(_name("html", key))
        if html is None:
            raise RenderError("the report's page was no longer on the queue; ask for it again")
        pdf = get_pool().render(html.decode("utf-8"))
    except RenderError as error:
        log.warning("render %s failed: %s", key[:16], error)
        with redis.pipeline() as pipe:
            pipe.set(_name("error", key), str(error), ex=ERROR_SECONDS)
            pipe.delete(_name("claim", key))
            pipe.execute()
    else:
        with redis.pipeline() as pipe:
            pipe.set(_name("pdf", key), pdf, ex=PDF_SECONDS)
            pipe.delete(_name("html", key), _name("claim", key), _name("tries", key))
            pipe.incr(f"{PREFIX}rendered")
            pipe.execute()
        log.info("rendered %s: %d bytes", key[:16], len(pdf))
    finally:
        done.set()
        redis.delete(_name("lease", key))


@dataclass
class _Waiter:
    key: str
    html: str
    future: Future
    deadline: float
    missing: int = 0  # looks in a row that found the job nowhere
    next_check: float = field(default_factory=time.monotonic)


class RedisRenderQueue:
    """The web side: `submit(html, key=...)` returns a Future like RenderPool.submit, resolved
    with the PDF when a consumer has rendered it (or with RenderError)."""

    def __init__(self, url: str, limit: int = DEFAULT_QUEUE_LIMIT, wait: float = DEFAULT_WAIT):
        self.huey, self.task = make_huey(url)
        self.redis = self.huey.storage.conn
        self.limit = limit
        self.timeout = wait  # how long the cache may wait for one job (read as the pool's)
        self._waiters: dict[str, _Waiter] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- the queue ----------------------------------------------------------------------------

    def pending(self) -> int:
        return self.huey.pending_count()

    def _queued_keys(self) -> set[str]:
        keys = set()
        for data in self.huey.storage.enqueued_items():
            task = self.huey.deserialize_task(data)
            if task.args:
                keys.add(task.args[0])
        return keys

    def _enqueue(self, key: str) -> None:
        self.huey.enqueue(self.task.s(key))

    def submit(self, html: str, timeout: float | None = None, key: str | None = None) -> Future:
        """Put the render of `key` on the queue unless it is there, running or done already.
        Raises RenderBusy when the queue is full, RenderError when Redis cannot be reached."""
        if key is None:
            raise ValueError("a queued render needs its report's key")
        if self._closed:
            raise RenderError("the render queue client was closed")
        with self._lock:
            waiter = self._waiters.get(key)
            if waiter is not None:
                return waiter.future
        from redis.exceptions import RedisError

        try:
            self.redis.delete(_name("error", key))  # asking again is trying again
            if not self.redis.exists(_name("pdf", key)):
                self._put(key, html)
        except RedisError as error:
            raise RenderError(f"the render queue cannot be reached: {error}") from None
        future: Future = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            waiter = self._waiters.setdefault(
                key, _Waiter(key, html, future, time.monotonic() + self.timeout))
            self._start_watching()
        self._wake.set()
        return waiter.future

    def _put(self, key: str, html: str) -> None:
        if self.redis.exists(_name("claim", key)):
            return  # queued or rendering for someone else already: wait for it too
        if self.limit is not None and self.pending() >= self.limit:
            raise RenderBusy(f"{self.pending()} reports are waiting to be rendered")
        if not self.redis.set(_name("claim", key), "1", nx=True, ex=int(self.timeout) + 60):
            return
        with self.redis.pipeline() as pipe:
            pipe.set(_name("html", key), html.encode("utf-8"), ex=int(self.timeout) + 60)
            pipe.delete(_name("tries", key))
            pipe.execute()
        self._enqueue(key)

    def _put_back(self, waiter: _Waiter) -> None:
        """The job of `waiter` has lost its consumer: put it back, unless another waiter has
        already done so for this try, or it has been started MAX_TRIES times."""
        key = waiter.key
        tries = int(self.redis.get(_name("tries", key)) or 0)
        if tries >= MAX_TRIES:
            self.redis.set(_name("error", key), f"the render was started {tries} times and "
                           "never finished", ex=ERROR_SECONDS)
            return
        if self.redis.set(_name("requeued", f"{key}:{tries}"), "1", nx=True, ex=ERROR_SECONDS):
            log.warning("render %s lost its consumer (try %d); putting it back", key[:16], tries)
            ttl = int(self.timeout) + 60
            with self.redis.pipeline() as pipe:
                pipe.set(_name("html", key), waiter.html.encode("utf-8"), ex=ttl)
                pipe.set(_name("claim", key), "1", ex=ttl)
                pipe.execute()
            self._enqueue(key)

    # -- watching -----------------------------------------------------------------------------

    def _start_watching(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._watch, name="render-queue-watch",
                                            daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop watching; renders still awaited here fail (the jobs stay on the queue)."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            waiters, self._waiters = list(self._waiters.values()), {}
        for waiter in waiters:
            waiter.future.set_exception(RenderError("the render queue client was closed"))
        self.huey.storage.conn.close()

    def _watch(self) -> None:
        while not self._closed:
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            with self._lock:
                waiters = list(self._waiters.values())
            if not waiters:
                continue
            try:
                self._look(waiters)
            except Exception:  # Redis away for a moment: look again next time  # noqa: BLE001
                log.exception("looking at the render queue failed")
                time.sleep(1)

    def _finish(self, waiter: _Waiter, pdf: bytes | None = None, error: str | None = None):
        with self._lock:
            self._waiters.pop(waiter.key, None)
        if error is not None:
            waiter.future.set_exception(RenderError(error))
        else:
            waiter.future.set_result(pdf)

    def _look(self, waiters: list[_Waiter]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for waiter in waiters:
                pipe.get(_name("pdf", waiter.key))
                pipe.get(_name("error", waiter.key))
                pipe.get(_name("lease", waiter.key))
            found = pipe.execute()
        now = time.monotonic()
        queued = None
        for index, waiter in enumerate(waiters):
            pdf, error, lease = found[3 * index:3 * index + 3]
            if pdf is not None:
                self._finish(waiter, pdf=pdf)
            elif error is not None:
                self._finish(waiter, error=error.decode("utf-8", "replace"))
            elif now > waiter.deadline:
                self._finish(waiter, error=f"no render consumer finished the report within "
                                           f"{self.timeout:g} seconds")
            elif lease is not None:
                waiter.missing = 0
                if getattr(waiter.future, "started_at", None) is None:
                    started = float(json.loads(lease)["started"])
                    waiter.future.started_at = now - max(0.0, time.time() - started)
            elif now >= waiter.next_check:
                waiter.next_check = now + RENEW_SECONDS
                queued = self._queued_keys() if queued is None else queued
                waiter.missing = 0 if waiter.key in queued else waiter.missing + 1
                if waiter.missing >= ORPHAN_CHECKS:
                    waiter.missing = 0
                    waiter.future.started_at = None  # back to "queued" for the progress page
                    self._put_back(waiter)


_queue: RedisRenderQueue | None = None
_settings: dict = {"url": None, "limit": DEFAULT_QUEUE_LIMIT, "wait": DEFAULT_WAIT}
_lock = threading.Lock()


def configure_queue(url: str | None, limit: int | None = None, wait: float | None = None) -> None:
    """Use the Redis queue at `url` for renders (None: the in-process pool)."""
    global _queue
    with _lock:
        _settings["url"] = url or None
        if limit is not None:
            _settings["limit"] = limit
        if wait is not None:
            _settings["wait"] = wait
        _queue = None


def get_renderer():
    """What renders reports for this process: the Redis queue when one is configured, else the
    in-process pool. Both have `submit(html, key=...) -> Future` and `timeout`."""
    global _queue
    if not _settings["url"]:
        return get_pool()
    with _lock:
        if _queue is None:
            _queue = RedisRenderQueue(_settings["url"], _settings["limit"], _settings["wait"])
        return _queue


def queue_status(url: str) -> dict:
    """Jobs waiting on the list, being rendered (live leases), and rendered since Redis began."""
    huey, _ = make_huey(url)
    redis = huey.storage.conn
    rendering = sum(1 for _ in redis.scan_iter(match=f"{PREFIX}lease:*", count=500))
    return {"waiting": huey.pending_count(), "rendering": rendering,
            "rendered": int(redis.get(f"{PREFIX}rendered") or 0)}


def run_consumer(url: str, workers: int) -> None:
    """Render jobs from the queue at `url` until stopped (SIGINT finishes the renders under way,
    SIGTERM stops at once: a job it takes along is put back by its waiters)."""
    huey, _ = make_huey(url)
    get_pool().warm_up()
    log.info("rendering reports from the queue with %d worker(s)", workers)
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                    check_worker_health=True)
    consumer.run()


if hasattr(os, "register_at_fork"):
    def _forget_queue_in_child():  # a forked web worker makes its own connections and watcher
        global _queue
        _queue = None

    os.register_at_fork(after_in_child=_forget_queue_in_child)
