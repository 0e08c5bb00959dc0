"""The report cache's one question, ask(): ready with the PDF, pending, or failed (busy when the
renderer turned the render away), with stand-in renderers; and the render settings, defined once
for the app, the pool and the queue."""

from __future__ import annotations

import inspect
import json
from concurrent.futures import Future
from datetime import date

import pytest

from assessment.core.scoring import parse_answers, score
from assessment.report import RenderBusy, RenderError, RenderPool, ReportCache, ReportInput
from assessment.report.queue import RedisRenderQueue
from assessment.support.config import RENDER_DEFAULTS, defaults

from .conftest import FIXTURES


class Refusing:
    """A renderer that refuses the first `refusals` renders with `error`, then renders."""

    timeout = 5.0

    def __init__(self, error: Exception, refusals: int = 1):
        self.error, self.refusals, self.renders = error, refusals, 0

    def submit(self, html: str, timeout=None, key=None) -> Future:
        if self.refusals:
            self.refusals -= 1
            raise self.error
        self.renders += 1
        future: Future = Future()
        future.set_running_or_notify_cancel()
        future.set_result(b"%PDF-stand-in")
        return future


@pytest.fixture
def report(bank) -> ReportInput:
    raw = json.loads((FIXTURES / "well_run_managed.json").read_text())["answers"]
    return ReportInput(result=score(bank, parse_answers(bank, raw)[0]),
                       assessed_on=date(2025, 3, 12))


def test_a_full_queue_is_a_busy_failure_and_asking_again_tries_again(report, tmp_path):
    renderer = Refusing(RenderBusy("50 reports are waiting to be rendered"))
    cache = ReportCache(tmp_path, pool=renderer)
    refused = cache.ask(report)
    assert refused.state == "failed" and refused.busy and "waiting" in refused.error
    assert not list(tmp_path.glob("*.rendering")), "nothing is under way"
    again = cache.ask(report, retry_failed=False)  # nothing was remembered as failed
    assert again.state == "ready" and again.pdf == b"%PDF-stand-in" and not again.cached
    cached = cache.ask(report)
    assert cached.state == "ready" and cached.cached and renderer.renders == 1


def test_get_or_render_raises_what_the_renderer_said(report, tmp_path):
    cache = ReportCache(tmp_path, pool=Refusing(RenderBusy("too many")))
    with pytest.raises(RenderBusy, match="too many"):
        cache.get_or_render(report)
    cache = ReportCache(tmp_path, pool=Refusing(RenderError("the queue cannot be reached")))
    with pytest.raises(RenderError, match="cannot be reached") as raised:
        cache.get_or_render(report)
    assert not isinstance(raised.value, RenderBusy)
    assert cache.get_or_render(report) == b"%PDF-stand-in"


def test_on_render_hears_of_every_render_but_not_of_a_cached_pdf(report, tmp_path):
    cache = ReportCache(tmp_path, pool=Refusing(RenderError("no"), refusals=0))
    heard: list[str] = []
    first = cache.ask(report, on_render=heard.append)
    assert first.state == "ready" and heard == [first.key]
    assert cache.ask(report, on_render=heard.append).cached and heard == [first.key]


def test_render_settings_are_defined_once(tmp_path):
    config = defaults(str(tmp_path))
    assert (config["REPORT_WORKERS"], config["REPORT_TIMEOUT"], config["REPORT_MEMORY_MB"],
            config["REPORT_QUEUE_LIMIT"], config["REPORT_QUEUE_WAIT"]) == (
        RENDER_DEFAULTS.workers, RENDER_DEFAULTS.timeout, RENDER_DEFAULTS.memory_mb,
        RENDER_DEFAULTS.queue_limit, RENDER_DEFAULTS.queue_wait)
    pool = RenderPool()  # workers start on the first render: none here
    assert (pool.workers, pool.timeout, pool.memory_mb, pool.queue_limit) == (
        RENDER_DEFAULTS.workers, RENDER_DEFAULTS.timeout, RENDER_DEFAULTS.memory_mb,
        RENDER_DEFAULTS.queue_limit)
    queue = inspect.signature(RedisRenderQueue).parameters
    assert queue["limit"].default == RENDER_DEFAULTS.queue_limit
    assert queue["wait"].default == RENDER_DEFAULTS.queue_wait
