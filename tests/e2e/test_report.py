"""The report in a real browser: the in-browser report on a phone and a desktop (no sideways
scrolling, the link back, the page's size, fonts from their cached files), and pressing Download
while the PDF is still being rendered (right after Finish, with and without JavaScript): a
"Preparing your report" page or the PDF at once, never a blank wait, and then the PDF.

One live server (and database) serves the whole module; renders are real (WeasyPrint in the
render pool), except where a test slows them down on purpose to be sure to see the preparing page.
"""

from __future__ import annotations

import io
import re
import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from wizard_helpers import load_answers, make_finished_assessment, path_of

pytestmark = pytest.mark.e2e

ANSWERS = load_answers("break_fix_untested_backups")
FONT_PATH = re.compile(r"/static/report-fonts/[0-9a-f]{16}/Inter-[A-Za-z]+\.otf$")


class SlowPool:
    """The real render pool, with every render starting `delay` seconds late: long enough for
    the preparing page to be certain."""

    timeout = 120.0

    def __init__(self, delay: float):
        from assessment.report import get_pool

        self.pool = get_pool()
        self.delay = delay

    def submit(self, html: str, timeout=None, key=None) -> Future:
        future: Future = Future()

        def run():
            time.sleep(self.delay)
            future.set_running_or_notify_cancel()
            future.started_at = time.monotonic()
            try:
                future.set_result(self.pool.render(html))
            except BaseException as error:  # noqa: BLE001 (handed to the waiting request)
                future.set_exception(error)

        threading.Thread(target=run, daemon=True).start()
        return future


@pytest.fixture
def slow_renders(live_server, tmp_path):
    """Renders of this test start 3 s late, into a cache of their own."""
    from assessment.report import ReportCache

    extensions = live_server.app.extensions
    before = extensions.get("report_cache")
    extensions["report_cache"] = ReportCache(tmp_path / "reports", pool=SlowPool(3.0))
    yield
    if before is None:
        extensions.pop("report_cache", None)
    else:
        extensions["report_cache"] = before


def read_pdf(path: str) -> PdfReader:
    with open(path, "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-"), "the download is not a PDF"
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 3
    return reader


# --- the in-browser report -----------------------------------------------------------


@pytest.mark.parametrize("variant", ["", "?variant=full"])
def test_browser_report_fits_a_phone_and_links_back(live_server, phone_page, screenshot,
                                                    assert_no_axe_violations, variant):
    page = phone_page
    page.goto(live_server.url + make_finished_assessment(live_server.app, ANSWERS))
    fonts = []
    page.on("response", lambda r: fonts.append(r) if "/static/report-fonts/" in r.url else None)
    response = page.goto(live_server.url + "/assessment/report" + variant)
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")

    # No sideways scrolling at 390 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The page is small (fonts are files of their own) and went out compressed.
    body = response.body()
    assert len(body) < 250_000, f"the report page is {len(body)} bytes"
    assert response.headers.get("content-encoding") in ("zstd", "br", "gzip")
    assert b"data:font" not in body
    # Inter came from its cached files.
    loaded = page.evaluate("Array.from(document.fonts).filter(f => f.status === 'loaded')"
                           ".map(f => f.family)")
    assert "Inter" in loaded
    assert fonts and all(FONT_PATH.search(path_of(r.url)) for r in fonts)
    assert all(r.status == 200 for r in fonts)
    assert all("immutable" in r.headers["cache-control"] for r in fonts)
    screenshot(page, f"report-phone{variant.replace('?variant=', '-') or '-leadership'}")
    assert_no_axe_violations(page, ".screen-nav")

    back = page.get_by_role("link", name="Back to your results")
    expect(back).to_be_visible()
    back.click()
    page.wait_for_url(re.compile(r"/assessment/results$"))


def test_browser_report_on_a_desktop(live_server, page, screenshot):
    page.goto(live_server.url + make_finished_assessment(live_server.app, ANSWERS))
    page.goto(live_server.url + "/assessment/report")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    nav = page.locator(".screen-nav")
    expect(nav.get_by_role("link", name="Download as PDF")).to_have_attribute(
        "href", "/assessment/report.pdf")
    expect(nav.get_by_role("link", name="See the full report")).to_have_attribute(
        "href", "/assessment/report?variant=full")
    screenshot(page, "report-desktop")


# --- download without a blank wait ---------------------------------------------------


def test_download_right_after_finish_shows_progress_or_the_pdf_then_the_pdf(live_server, page,
                                                                           tmp_path):
    page.goto(live_server.url + make_finished_assessment(live_server.app, ANSWERS, finish=False))
    page.goto(live_server.url + "/assessment/review")
    with page.expect_navigation():
        page.get_by_role("button", name="Finish and see your results").click()
    assert path_of(page.url) == "/assessment/results"

    first: list[Any] = []
    page.on("response", lambda r: first.append((time.monotonic(), r))
            if path_of(r.url) == "/assessment/report.pdf" and not first else None)
    pressed = time.monotonic()
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("link", name="Download the report (PDF)").click()
    download = download_info.value
    took = time.monotonic() - pressed
    answered, response = first[0]
    assert answered - pressed < 2.0, "pressing Download left the browser waiting"
    if response.status == 202:  # the preparing page came first
        assert "text/html" in response.headers["content-type"]
        expect(page.get_by_role("heading", level=1)).to_have_text("Your report is ready")
    else:
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
    path = tmp_path / "report.pdf"
    download.save_as(path)
    read_pdf(str(path))
    print(f"\nDownload pressed right after Finish: first answer "
          f"{response.status} after {answered - pressed:.2f} s, PDF after {took:.2f} s")


def test_preparing_page_with_javascript_shows_progress_then_downloads(live_server, page,
                                                                     slow_renders, tmp_path,
                                                                     screenshot):
    page.goto(live_server.url + make_finished_assessment(live_server.app, ANSWERS))
    page.goto(live_server.url + "/assessment/results")
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("link", name=re.compile("Download the full report")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Preparing your report")
        progress = page.locator("progress")
        expect(progress).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("Waiting for a free moment")
        screenshot(page, "report-preparing")
        expect(page.get_by_role("status")).to_have_text("Laying out the pages", timeout=10_000)
    download = download_info.value
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report is ready")
    assert progress.get_attribute("value") == "100"
    path = tmp_path / "full.pdf"
    download.save_as(path)
    reader = read_pdf(str(path))
    assert "full report" in reader.pages[0].extract_text().lower()


def test_preparing_page_without_javascript_reloads_itself_then_downloads(live_server, nojs_page,
                                                                         slow_renders, tmp_path):
    page = nojs_page
    page.goto(live_server.url + make_finished_assessment(live_server.app, ANSWERS))
    page.goto(live_server.url + "/assessment/results")
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("link", name="Download the report (PDF)").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Preparing your report")
    download = download_info.value
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report is ready")
    path = tmp_path / "report.pdf"
    download.save_as(path)
    read_pdf(str(path))
