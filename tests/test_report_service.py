"""The report as a service: the render pool's limits, the cache, and the download header."""

from __future__ import annotations

import io
import re
from concurrent.futures import Future
from dataclasses import replace
from datetime import date

import pytest
from PIL import Image

from assessment.core.scoring import parse_answers, score
from assessment.report import (
    Branding,
    RenderError,
    RenderPool,
    RenderTimeout,
    ReportCache,
    ReportInput,
    cache_key,
    content_disposition,
    render_print_html,
)

ANSWERS = {"profile.business_name": "Harbour Street Dental", "backup.automatic": "weekly",
           "backup.restore_tested": "never"}


def report_for(bank, **changes) -> ReportInput:
    answers, errors = parse_answers(bank, {**ANSWERS, **changes})
    assert not errors
    return ReportInput(result=score(bank, answers), business_name="Harbour Street Dental",
                       assessed_on=date(2025, 3, 12))


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), colour).save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------- download header


def test_content_disposition_survives_quotes_and_line_breaks():
    header = content_disposition('a"b\r\nX: 1')
    assert "\r" not in header and "\n" not in header
    assert header.isascii() and header.isprintable()
    fallback = re.search(r'filename="([^"]*)"', header).group(1)
    assert '"' not in fallback and "\\" not in fallback
    assert header.count('"') == 2, "only the quotes around the fallback name"
    assert "filename*=UTF-8''IT%20health%20report%20-%20a%22b%20X%3A%201.pdf" in header
    assert header.startswith("attachment; ")


def test_content_disposition_encodes_non_ascii_names():
    header = content_disposition("Café Zoë & Søn / Ltd")
    assert header.isascii()
    assert 'filename="IT health report - Cafe Zoe & Sn - Ltd.pdf"' in header
    assert "filename*=UTF-8''IT%20health%20report%20-%20Caf%C3%A9%20Zo%C3%AB%20&%20S%C3%B8n" \
           "%20-%20Ltd.pdf" in header


def test_content_disposition_for_an_empty_name():
    assert "Your%20business.pdf" in content_disposition("  \t ")


# ---------------------------------------------------------------- the cache


class CountingPool:
    """Stands in for the render pool: counts renders and returns the HTML as 'PDF' bytes."""

    def __init__(self):
        self.renders = 0

    def submit(self, html: str, timeout=None, key=None) -> Future:
        self.renders += 1
        future: Future = Future()
        future.set_result(b"%PDF-fake " + str(len(html)).encode())
        return future


def test_an_unchanged_report_is_served_from_the_cache(bank, tmp_path):
    pool = CountingPool()
    cache = ReportCache(tmp_path, pool=pool)
    report = report_for(bank)
    first = cache.get_or_render(report)
    again = cache.get_or_render(report_for(bank))  # equal input, built anew
    assert first == again
    assert pool.renders == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"{cache_key(report)}.pdf"]


@pytest.mark.parametrize("change", ["answer", "colour", "logo", "logo_bytes", "name", "note"])
def test_any_change_renders_anew(bank, tmp_path, change):
    pool = CountingPool()
    cache = ReportCache(tmp_path, pool=pool)
    base = replace(report_for(bank), branding=Branding(logo_png_or_jpeg=png("#ff0000")))
    cache.get_or_render(base)
    changed = {
        "answer": lambda: replace(report_for(bank, **{"backup.automatic": "daily"}),
                                  branding=base.branding),
        "colour": lambda: replace(base, branding=replace(base.branding, primary="#aa3300")),
        "logo": lambda: replace(base, branding=replace(base.branding, logo_png_or_jpeg=None)),
        "logo_bytes": lambda: replace(base, branding=replace(base.branding,
                                                             logo_png_or_jpeg=png("#00ff00"))),
        "name": lambda: replace(base, business_name="Harbour Street Dental Ltd"),
        "note": lambda: replace(base, notes={"backup.automatic": "Checked."}),
    }[change]()
    assert cache_key(changed) != cache_key(base)
    cache.get_or_render(changed)
    assert pool.renders == 2
    cache.get_or_render(changed)
    assert pool.renders == 2


def test_prerender_starts_in_the_background_and_the_download_uses_it(bank, tmp_path):
    pool = CountingPool()
    cache = ReportCache(tmp_path, pool=pool)
    report = report_for(bank)
    future = cache.prerender(report)
    assert future is not None
    future.result()
    assert cache.prerender(report) is None  # already on disk
    cache.get_or_render(report)
    assert pool.renders == 1


def test_the_cache_key_covers_template_and_weasyprint_versions(bank, monkeypatch):
    from assessment.report import cache as cache_module

    report = report_for(bank)
    key = cache_key(report)
    monkeypatch.setattr(cache_module, "template_version", lambda: "another")
    assert cache_key(report) != key
    monkeypatch.undo()
    monkeypatch.setattr(cache_module, "version", lambda name: "999.0")
    assert cache_key(report) != key


def test_cache_writes_are_atomic_files_named_by_key(bank, tmp_path):
    cache = ReportCache(tmp_path, pool=CountingPool())
    report = report_for(bank)
    pdf = cache.get_or_render(report)
    assert cache.get(cache_key(report)) == pdf
    assert not list(tmp_path.glob(".tmp-*"))
    with pytest.raises(ValueError):
        cache.path("../../etc/passwd")


# ---------------------------------------------------------------- the render pool


@pytest.fixture(scope="module")
def small_html(bank):
    return render_print_html(report_for(bank))


def test_a_real_render_through_the_cache_then_a_fast_repeat(bank, tmp_path):
    pool = RenderPool(workers=1, timeout=120)
    try:
        cache = ReportCache(tmp_path, pool=pool)
        report = report_for(bank)
        pdf = cache.get_or_render(report)
        assert pdf.startswith(b"%PDF-")
        assert cache.get_or_render(report) == pdf
        assert cache.renders == 1
    finally:
        pool.shutdown()


def test_a_render_past_the_time_limit_is_stopped_and_the_pool_recovers(small_html):
    pool = RenderPool(workers=1, timeout=120)
    try:
        pool.warm_up()
        first_pid = pool.worker_pids()[0]
        with pytest.raises(RenderTimeout, match="longer than 0.01 seconds"):
            pool.render(small_html, timeout=0.01)
        assert pool.render(small_html).startswith(b"%PDF-")
        assert pool.worker_pids()[0] != first_pid, "the stuck worker was replaced"
        assert pool.started_workers == 2
    finally:
        pool.shutdown()


def test_workers_run_under_a_memory_limit(small_html):
    pool = RenderPool(workers=1, timeout=120, memory_mb=900)
    try:
        pool.warm_up()
        pid = pool.worker_pids()[0]
        with open(f"/proc/{pid}/limits", encoding="ascii") as handle:
            limits = handle.read()
        line = next(line for line in limits.splitlines() if line.startswith("Max address space"))
        assert str(900 * 1024 * 1024) in line
    finally:
        pool.shutdown()


def test_a_worker_that_cannot_get_its_memory_fails_cleanly():
    pool = RenderPool(workers=1, timeout=30, memory_mb=40)
    try:
        with pytest.raises(RenderError):
            pool.render("<p>hello</p>")
    finally:
        pool.shutdown()


def test_render_errors_do_not_break_the_pool(small_html):
    pool = RenderPool(workers=1, timeout=120)
    try:
        futures = [pool.submit(small_html) for _ in range(2)]
        assert all(f.result().startswith(b"%PDF-") for f in futures)
        pool.shutdown()
        with pytest.raises(RenderError):
            pool.submit(small_html)
    finally:
        pool.shutdown()


def test_importing_the_report_package_does_not_import_weasyprint():
    import subprocess
    import sys

    code = ("import sys, assessment.report, assessment.cli.reports; "
            "print('weasyprint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
