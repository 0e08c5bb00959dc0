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

    html:<key>    the page to render, until it is rendered (with its HMAC, checked before)
    claim:<key>   taken (SET NX) by whoever puts the job on the queue, so nobody puts it twice
    lease:<key>   held by the consumer rendering it, renewed every second
    tries:<key>   how many times a consumer has started it
    pdf:<key>     the finished PDF, which every waiting web process copies into its own cache
    seal:<key>    the PDF's HMAC, bound to its key, written with it: checked before it is used
    error:<key>   why the render failed (a time or memory limit, a broken page)

Never lost: Huey takes a job off the list when a consumer picks it up, so a consumer killed in
the middle of a render takes the job with it. Every web process waiting for a key looks each
second; a job that has no PDF, no error, no lease and no place on the list has lost its consumer,
and the waiter puts it back (once, however many wait: a guard key per try decides), up to
MAX_TRIES starts. A failed render (time or memory limit) is not retried: it would fail again.

Redis is a trust boundary (signed.py): jobs travel as JSON with an HMAC under a key derived from
the app's SECRET_KEY, never as pickles; a page is rendered, and a PDF served, only when its HMAC
verifies. Whatever fails is refused and logged at WARNING, without its content.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from ..support.config import RENDER_DEFAULTS
from ..support.redact import redact
from ..support.throttle import Throttle, held_note
from .pool import RenderBusy, RenderDelayed, RenderError, get_pool
from .signed import (
    Refused,
    SignedJsonSerializer,
    derive_key,
    pack_page,
    pdf_seal,
    pdf_verifies,
    unpack_page,
)

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

log = logging.getLogger(__name__)
# Redis away, or no consumer running, is met by every request: one line a minute says so.
TROUBLE_LOG_SECONDS = 60.0
_trouble = Throttle(TROUBLE_LOG_SECONDS)


def _name(kind: str, key: str) -> str:
    return f"{PREFIX}{kind}:{key}"


def make_huey(url: str, secret: str | bytes | None):
    """The Huey of the render queue and its one task. Web processes and consumers make them the
    same way, so both sides agree on the queue's name, the task's, and the key (derived from the
    app's SECRET_KEY) that signs its messages."""
    from huey import RedisHuey

    class SignedHuey(RedisHuey):
        """Reads only messages that verify: one that does not is logged and dropped."""

        def dequeue(self):
            data = self.storage.dequeue()
            if data is None:
                return None
            try:
                return self.deserialize_task(data)
            except Refused as why:
                _refused("a queue message", why)
                return None

        def _deserialize_all(self, messages):
            tasks = []
            for data in messages:
                try:
                    tasks.append(self.deserialize_task(data))
                except Refused as why:
                    _refused("a scheduled queue message", why)
            return tasks

    key = derive_key(secret)
    huey = SignedHuey(HUEY_NAME, url=url, results=False, utc=True,
                      serializer=SignedJsonSerializer(key))
    task = huey.task(name=TASK_NAME)(lambda report: render_job(huey.storage.conn, report, key))
    return huey, task


def _refused(what: str, why, key: str | None = None) -> None:
    """One WARNING line per refusal: what, why, the report key; never the content."""
    about = f" for report {key[:16]}" if key else ""
    log.warning("refused %s from Redis%s: %s", what, about, why)


def _pdf_ok(redis, key: str, secret_key: bytes) -> bool:
    """Whether Redis holds a finished PDF for `key` whose seal verifies."""
    pdf, seal = redis.mget(_name("pdf", key), _name("seal", key))
    return pdf is not None and pdf_verifies(secret_key, key, pdf, seal)


def render_job(redis, key: str, secret_key: bytes) -> None:
    """The consumer's side of one job: take the lease, render in the pool, hand the PDF back
    with its seal."""
    if _pdf_ok(redis, key, secret_key):
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
        stored = redis.get(_name("html", key))
        if stored is None:
            raise RenderError("the report's page was no longer on the queue; ask for it again")
        try:
            html = unpack_page(secret_key, key, stored)
        except Refused as why:
            _refused("a page to render", why, key)
            raise RenderError("the report's page on the queue failed its integrity check; "
                              "ask for it again") from None
        pdf = get_pool().render(html)
    except RenderError as error:
        log.warning("render %s failed: %s", key[:16], error)
        with redis.pipeline() as pipe:
            pipe.set(_name("error", key), str(error), ex=ERROR_SECONDS)
            pipe.delete(_name("claim", key))
            pipe.execute()
    else:
        with redis.pipeline() as pipe:
            pipe.set(_name("pdf", key), pdf, ex=PDF_SECONDS)
            pipe.set(_name("seal", key), pdf_seal(secret_key, key, pdf), ex=PDF_SECONDS)
            pipe.delete(_name("html", key), _name("claim", key), _name("tries", key))
            pipe.incr(f"{PREFIX}rendered")
            pipe.execute()
        log.info("rendered %s: %d bytes", key[:16], len(pdf))
    finally:
        done.set()
        redis.delete(_name("lease", key))


@dataclass(eq=False)  # each waiter is itself: several may wait for one key
class _Waiter:
    key: str
    html: str
    future: Future
    deadline: float
    missing: int = 0  # looks in a row that found the job nowhere
    next_check: float = field(default_factory=time.monotonic)


class RedisRenderQueue:
    """The web side, a Renderer for the cache (cache.py): `submit(html, key=...)` returns a
    Future like RenderPool.submit, resolved with the PDF when a consumer has rendered it (or
    with RenderError).

    One render per key across every web instance is the claim's doing (`claim:<key>` above);
    within this process the cache asks for a key once at a time. Each submit gets a Future of
    its own, watched until the job is over."""

    def __init__(self, url: str, limit: int | None = RENDER_DEFAULTS.queue_limit,
                 wait: float = RENDER_DEFAULTS.queue_wait, *, secret: str | bytes | None):
        self.huey, self.task = make_huey(url, secret)
        self._key = derive_key(secret)
        self.redis = self.huey.storage.conn
        self.limit = limit
        self.timeout = wait  # how long one job may be waited for (the Renderer's timeout)
        self._waiters: list[_Waiter] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._refused: set[str] = set()  # queue items already logged as refused, by digest

    # -- the queue ----------------------------------------------------------------------------

    def pending(self) -> int:
        return self.huey.pending_count()

    def _queued_keys(self) -> set[str]:
        """The report keys of the jobs on the list, read through the same verification as the
        consumer's: an item that does not verify is skipped (and logged once here; it stays on
        the list for a consumer to take off and drop)."""
        keys = set()
        for data in self.huey.storage.enqueued_items():
            try:
                task = self.huey.deserialize_task(data)
            except Refused as why:
                digest = hashlib.sha256(data).hexdigest()
                if digest not in self._refused:
                    if len(self._refused) > 1000:
                        self._refused.clear()
                    self._refused.add(digest)
                    _refused("a queue message", why)
                continue
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
        from redis.exceptions import RedisError

        try:
            self.redis.delete(_name("error", key))  # asking again is trying again
            if not self.redis.exists(_name("pdf", key)):
                self._put(key, html)  # a PDF there is checked (and maybe refused) by _look
                if not live_consumers(self.redis):
                    held = _trouble.allow("no consumer")
                    if held is not None:
                        log.warning("no render consumer is running: report %s waits on the "
                                    "queue until one starts (flask --app app renders work)%s",
                                    key[:16], held_note(held))
                    raise RenderDelayed("no render consumer is running; the report waits on "
                                        "the queue until one starts")
                _trouble.clear("no consumer")
        except RedisError as error:  # the download's failure is logged where it is shown
            raise RenderError(f"the render queue cannot be reached: {redact(error)}") from None
        future: Future = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            self._waiters.append(_Waiter(key, html, future, time.monotonic() + self.timeout))
            self._start_watching()
        self._wake.set()
        return future

    def _put(self, key: str, html: str) -> None:
        if self.redis.exists(_name("claim", key)):
            return  # queued or rendering for someone else already: wait for it too
        if self.limit is not None and self.pending() >= self.limit:
            raise RenderBusy(f"{self.pending()} reports are waiting to be rendered")
        if not self.redis.set(_name("claim", key), _queued_at(), nx=True,
                              ex=int(self.timeout) + 60):
            return
        with self.redis.pipeline() as pipe:
            pipe.set(_name("html", key), pack_page(self._key, key, html),
                     ex=int(self.timeout) + 60)
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
                pipe.set(_name("html", key), pack_page(self._key, key, waiter.html), ex=ttl)
                pipe.set(_name("claim", key), _queued_at(), ex=ttl)
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
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.future.set_exception(RenderError("the render queue client was closed"))
        self.huey.storage.conn.close()

    def _watch(self) -> None:
        while not self._closed:
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            with self._lock:
                waiters = list(self._waiters)
            if not waiters:
                continue
            try:
                self._look(waiters)
                _trouble.clear("watch")
            except Exception as error:  # Redis away for a moment: look again  # noqa: BLE001
                held = _trouble.allow("watch")
                if held is not None:
                    log.warning("looking at the render queue failed: %s%s",
                                redact(error), held_note(held))
                time.sleep(1)

    def _finish(self, waiter: _Waiter, pdf: bytes | None = None, error: str | None = None):
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        if error is not None:
            waiter.future.set_exception(RenderError(error))
        else:
            waiter.future.set_result(pdf)

    def _refuse_pdf(self, waiter: _Waiter, seal: bytes | None) -> None:
        """A PDF in Redis whose seal does not verify: delete it and fail the wait like a failed
        render (asking again renders it again)."""
        why = "it has no seal" if seal is None else "its seal does not verify"
        _refused("a finished PDF", why, waiter.key)
        self.redis.delete(_name("pdf", waiter.key), _name("seal", waiter.key))
        self._finish(waiter, error="the rendered report read back from the queue failed its "
                                   "integrity check; ask for it again")

    def _look(self, waiters: list[_Waiter]) -> None:
        with self.redis.pipeline() as pipe:  # one transaction: a PDF and its seal together
            for waiter in waiters:
                pipe.get(_name("pdf", waiter.key))
                pipe.get(_name("seal", waiter.key))
                pipe.get(_name("error", waiter.key))
                pipe.get(_name("lease", waiter.key))
            found = pipe.execute()
        now = time.monotonic()
        queued = None
        for index, waiter in enumerate(waiters):
            pdf, seal, error, lease = found[4 * index:4 * index + 4]
            if pdf is not None:
                if pdf_verifies(self._key, waiter.key, pdf, seal):
                    self._finish(waiter, pdf=pdf)
                else:
                    self._refuse_pdf(waiter, seal)
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
_settings: dict = {"url": None, "limit": RENDER_DEFAULTS.queue_limit,
                   "wait": RENDER_DEFAULTS.queue_wait, "secret": None}
_lock = threading.Lock()


def configure_queue(url: str | None, limit: int | None = None, wait: float | None = None,
                    secret: str | bytes | None = None) -> None:
    """Use the Redis queue at `url` for renders (None: the in-process pool). `secret` is the
    app's SECRET_KEY, from which the key that signs messages and PDFs is derived."""
    global _queue
    with _lock:
        _settings["url"] = url or None
        if secret is not None:
            _settings["secret"] = secret
        if limit is not None:
            _settings["limit"] = limit
        if wait is not None:
            _settings["wait"] = wait
        _queue = None


def get_renderer():
    """What renders reports for this process (a cache.Renderer): the Redis queue when one is
    configured, else the in-process pool."""
    global _queue
    if not _settings["url"]:
        return get_pool()
    with _lock:
        if _queue is None:
            _queue = RedisRenderQueue(_settings["url"], _settings["limit"], _settings["wait"],
                                      secret=_settings["secret"])
        return _queue


def queue_status(url: str) -> dict:
    """Jobs waiting on the list, being rendered (live leases), and rendered since Redis began.
    Counts only: it reads no message, so it needs no key."""
    from huey.storage import RedisStorage

    storage = RedisStorage(HUEY_NAME, url=url)
    redis = storage.conn
    rendering = sum(1 for _ in redis.scan_iter(match=f"{PREFIX}lease:*", count=500))
    return {"waiting": storage.queue_size(), "rendering": rendering,
            "rendered": int(redis.get(f"{PREFIX}rendered") or 0)}


def run_consumer(url: str, workers: int, secret: str | bytes | None = None) -> None:
    """Render jobs from the queue at `url` until stopped (SIGINT finishes the renders under way,
    SIGTERM stops at once: a job it takes along is put back by its waiters). `secret` defaults
    to the one configure_queue was given (the app factory passes the app's SECRET_KEY)."""
    huey, _ = make_huey(url, secret if secret is not None else _settings["secret"])
    get_pool().warm_up()
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                    check_worker_health=True)
    # The heartbeat before the "ready" line: a web instance that sees the line (or a person who
    # reads it and asks for a report) must also see a live consumer, or its report is told
    # "no consumer is running" for a consumer that is about to take it.
    beating = start_heartbeat(huey.storage.conn, workers)
    log.info("rendering reports from the queue with %d worker(s)", workers)
    try:
        consumer.run()
    finally:
        beating.set()


# -- consumer heartbeats and the age of the oldest waiting render ------------------------------
#
# Each `renders work` consumer keeps `consumer:<host>:<pid>` alive (JSON: host, pid, started,
# workers), renewed every HEARTBEAT_SECONDS with an expiry of CONSUMER_SECONDS: a consumer that
# is killed drops out of the list within that. The claim of a job holds the time it was put on
# the queue, so a claim with no lease is a render still waiting, and its value says since when.

CONSUMER_SECONDS = 15
HEARTBEAT_SECONDS = 5


def _queued_at() -> str:
    return f"{time.time():.3f}"


def consumer_name() -> str:
    return f"{PREFIX}consumer:{socket.gethostname()}:{os.getpid()}"


def write_heartbeat(redis, workers: int, started: float, name: str | None = None) -> None:
    beat = {"host": socket.gethostname(), "pid": os.getpid(), "started": started,
            "workers": workers}
    redis.set(name or consumer_name(), json.dumps(beat), ex=CONSUMER_SECONDS)


def start_heartbeat(redis, workers: int) -> threading.Event:
    """Write this consumer's heartbeat now and every HEARTBEAT_SECONDS from a daemon thread,
    until the returned event is set (then the key is deleted)."""
    name, started, stop = consumer_name(), time.time(), threading.Event()
    write_heartbeat(redis, workers, started, name)

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                write_heartbeat(redis, workers, started, name)
            except Exception:  # Redis away for a moment: try again next time  # noqa: BLE001
                log.warning("could not write the render consumer's heartbeat")
        try:
            redis.delete(name)
        except Exception:  # noqa: BLE001, S110  # it expires on its own
            pass

    threading.Thread(target=beat, name="render-consumer-heartbeat", daemon=True).start()
    return stop


def live_consumers(redis) -> list[dict]:
    """The consumers whose heartbeat has not expired: host, pid, workers, age (seconds since
    the consumer started), oldest first."""
    names = list(redis.scan_iter(match=f"{PREFIX}consumer:*", count=500))
    now, found = time.time(), []
    for value in (redis.mget(names) if names else []):
        try:
            beat = json.loads(value)
            found.append({"host": str(beat["host"]), "pid": int(beat["pid"]),
                          "workers": int(beat["workers"]),
                          "age": max(0.0, now - float(beat["started"]))})
        except (TypeError, ValueError, KeyError):
            continue  # expired between the scan and the read, or not ours
    return sorted(found, key=lambda beat: -beat["age"])


def oldest_waiting_age(redis) -> float | None:
    """Seconds since the oldest render still waiting (claimed, not leased) was put on the
    queue, or None when none waits. A job put back after losing its consumer counts from when
    it was put back."""
    claims = [name for name in redis.scan_iter(match=f"{PREFIX}claim:*", count=500)]
    if not claims:
        return None
    keys = [name.decode().removeprefix(f"{PREFIX}claim:") if isinstance(name, bytes)
            else name.removeprefix(f"{PREFIX}claim:") for name in claims]
    with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.get(_name("claim", key))
            pipe.exists(_name("lease", key))
        found = pipe.execute()
    now, ages = time.time(), []
    for index in range(len(keys)):
        value, leased = found[2 * index], found[2 * index + 1]
        try:
            queued = float(value)
        except (TypeError, ValueError):
            continue
        if not leased and queued > 1e9:  # an older web instance wrote "1": no time known
            ages.append(max(0.0, now - queued))
    return max(ages) if ages else None


def queue_health(url: str, timeout: float = 2.0) -> dict:
    """What the readiness check and the metrics read from Redis, with a short timeout: the
    counts of queue_status, the live consumers, and the oldest waiting render's age. Raises
    redis's RedisError when Redis does not answer in time."""
    from huey.storage import RedisStorage
    from redis import ConnectionPool, Redis

    pool = ConnectionPool.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    redis = Redis(connection_pool=pool)
    try:
        storage = RedisStorage(HUEY_NAME, connection_pool=pool)
        rendering = sum(1 for _ in redis.scan_iter(match=f"{PREFIX}lease:*", count=500))
        return {"waiting": storage.queue_size(), "rendering": rendering,
                "rendered": int(redis.get(f"{PREFIX}rendered") or 0),
                "failed": sum(1 for _ in redis.scan_iter(match=f"{PREFIX}error:*", count=500)),
                "consumers": live_consumers(redis), "oldest_waiting": oldest_waiting_age(redis)}
    finally:
        pool.disconnect()


if hasattr(os, "register_at_fork"):
    def _forget_queue_in_child():  # a forked web worker makes its own connections and watcher
        global _queue
        _queue = None

    os.register_at_fork(after_in_child=_forget_queue_in_child)
