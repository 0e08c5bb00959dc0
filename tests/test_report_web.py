"""The report on the web: both variants on the owner's and the consultant's routes, the browser
page (back link, fonts as cached files, its size), compressed text responses, and a download
pressed while the PDF is still being rendered (the preparing page, its status JSON, its reload).

Renders go to a stand-in pool whose renders finish when a test says so, so nothing here waits
for WeasyPrint; tests/e2e/test_report.py does the same in a browser with real renders. The tests
through the app run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import threading
import time
from concurrent.futures import Future
from dataclasses import replace
from datetime import date

import pytest

from assessment import create_app
from assessment.core.scoring import parse_answer, parse_answers, score
from assessment.report import ReportCache, ReportInput, cache_key, render_html
from assessment.report.html import font_version
from assessment.storage import clients as store
from assessment.storage import create_assessment, save_answer, set_status

from .conftest import FIXTURES
from .workspace_fixtures import make_member, sign_in

pytestmark = pytest.mark.both_backends

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ANSWERS = json.loads((FIXTURES / "well_run_managed.json").read_text())["answers"]


class HeldPool:
    """Stands in for the render pool: each render is a Future that a test finishes (with the HTML
    it was given, as 'PDF' bytes, or with an error)."""

    def __init__(self, *, auto: bool = False):
        self.auto = auto
        self.jobs: list[tuple[Future, str]] = []
        self.timeout = 5.0

    def submit(self, html: str, timeout=None, key=None) -> Future:
        future: Future = Future()
        self.jobs.append((future, html))
        if self.auto:
            self.finish()
        return future

    def start(self) -> None:
        for future, _ in self.jobs:
            if not future.running() and not future.done():
                future.set_running_or_notify_cancel()
                future.started_at = time.monotonic()

    def finish(self, error: Exception | None = None) -> None:
        self.start()
        for future, html in self.jobs:
            if not future.done():
                if error is None:
                    future.set_result(b"%PDF-held " + html.encode())
                else:
                    future.set_exception(error)


@pytest.fixture
def app(tmp_path, database_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE": str(tmp_path / "app.sqlite"),
                      "REPORT_DIR": str(tmp_path / "reports")})
    app.extensions["report_cache"] = ReportCache(tmp_path / "reports", pool=HeldPool(auto=True))
    return app


def pool_of(app) -> HeldPool:
    return app.extensions["report_cache"]._pool


def hold_renders(app) -> HeldPool:
    pool = HeldPool()
    app.extensions["report_cache"]._pool = pool
    return pool


def owner_with_answers(app, *, finished: bool):
    """A test client with a self-assessment open holding the whole well-run answer set."""
    from assessment.web import owner
    from assessment.web.db import current_bank, get_db

    with app.app_context():
        db, bank = get_db(), current_bank()
        token, token_hash = owner.new_resume_token()
        assessment_id = create_assessment(db, bank, resume_token_hash=token_hash)
        for qid, raw in ANSWERS.items():
            save_answer(db, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], raw))
        if finished:
            set_status(db, assessment_id, "finished")
    client = app.test_client()
    assert client.get(f"/assessment/resume/{token}").status_code == 303
    return client


def finished_owner(app):
    return owner_with_answers(app, finished=True)


def consultant(app):
    """A signed-in consultant and the id of their client's finished interview."""
    from assessment.web.db import current_bank, get_db

    member = make_member(app)
    client = app.test_client()
    assert sign_in(client, member["email"], member["password"]).status_code == 303
    with app.app_context():
        db, bank = get_db(), current_bank()
        client_id = store.create_client(db, member["firm_id"], name="Harbour Dental")
        assessment_id = store.start_client_assessment(
            db, bank, member["firm_id"], client_id, mode="interview",
            created_by=member["user_id"])
        for qid, raw in ANSWERS.items():
            save_answer(db, assessment_id, qid, base_version=0, source="consultant",
                        answer=parse_answer(bank.question_by_id[qid], raw))
        set_status(db, assessment_id, "finished")
    return client, assessment_id


# ---------------------------------------------------------------- the two variants


def test_owner_downloads_either_variant_and_the_leadership_one_by_default(app):
    owner = finished_owner(app)
    default = owner.get("/assessment/report.pdf")
    leadership = owner.get("/assessment/report.pdf?variant=leadership")
    full = owner.get("/assessment/report.pdf?variant=full")
    for response in (default, leadership, full):
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
    assert default.data == leadership.data
    assert b"Leadership report" in default.data and b"Full report" not in default.data
    assert b"Full report" in full.data
    page = owner.get("/assessment/report?variant=full").get_data(as_text=True)
    assert "Full report" in page
    assert "Leadership report" in owner.get("/assessment/report").get_data(as_text=True)


def test_consultant_downloads_either_variant(app):
    member, assessment_id = consultant(app)
    base = f"/workspace/assessments/{assessment_id}"
    full = member.get(f"{base}/report.pdf?variant=full")
    assert full.status_code == 200 and b"Full report" in full.data
    assert b"Leadership report" in member.get(f"{base}/report.pdf").data
    assert "Full report" in member.get(f"{base}/report?variant=full").get_data(as_text=True)
    page = member.get(base).get_data(as_text=True)
    assert f'href="{base}/report.pdf?variant=full"' in page, "no full report link"
    assert f'href="{base}/report.pdf"' in page


@pytest.mark.parametrize("query", ["variant=everything", "variant=", "variant=FULL",
                                   "variant=full&variant=leadership"])
def test_any_other_variant_is_a_400_that_says_which_there_are(app, query):
    owner = finished_owner(app)
    for path in ("/assessment/report.pdf", "/assessment/report"):
        response = owner.get(f"{path}?{query}")
        assert response.status_code == 400 and response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "There is no such report" in page and "variant=full" in page
    assert not pool_of(app).jobs, "a refused variant started a render"


# ---------------------------------------------------------------- the browser page


def test_browser_page_links_back_loads_fonts_from_files_and_is_small(app):
    owner = finished_owner(app)
    response = owner.get("/assessment/report?variant=full")
    page = response.get_data(as_text=True)
    nav = re.search(r'<nav class="screen-nav".*?</nav>', page, re.S).group(0)
    assert 'href="/assessment/results"' in nav and "Back to your results" in nav
    assert 'href="/assessment/report.pdf?variant=full"' in nav
    assert 'href="/assessment/report"' in nav  # the leadership report
    assert "data:font" not in page
    fonts = re.findall(r"url\('([^']+)'\) format\('opentype'\)", page)
    assert len(fonts) == 4
    assert all(f.startswith(f"/static/report-fonts/{font_version()}/") for f in fonts)
    assert len(response.data) < 250_000
    font = owner.get(fonts[0])
    assert font.status_code == 200 and font.mimetype == "font/otf"
    assert font.data.startswith(b"OTTO")
    assert font.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Set-Cookie" not in font.headers


def test_consultant_page_links_back_to_the_assessment(app):
    member, assessment_id = consultant(app)
    page = member.get(f"/workspace/assessments/{assessment_id}/report").get_data(as_text=True)
    nav = re.search(r'<nav class="screen-nav".*?</nav>', page, re.S).group(0)
    assert f'href="/workspace/assessments/{assessment_id}"' in nav
    assert "Back to the assessment" in nav
    assert f'href="/workspace/assessments/{assessment_id}/report?variant=full"' in nav


@pytest.mark.parametrize("path", ["/static/report-fonts/0000000000000000/Inter-Regular.otf",
                                  "/static/report-fonts/{v}/OFL.txt",
                                  "/static/report-fonts/{v}/..%2Freport.css",
                                  "/static/report-fonts/{v}/Inter-Regular.ttf"])
def test_only_the_current_fonts_are_served(app, path):
    response = app.test_client().get(path.format(v=font_version()))
    assert response.status_code == 404


def test_render_html_stays_compatible_and_escapes_the_links(bank):
    raw = json.loads((FIXTURES / "well_run_managed.json").read_text())["answers"]
    report = ReportInput(result=score(bank, parse_answers(bank, raw)[0]),
                         assessed_on=date(2025, 3, 12))
    standalone = render_html(report)
    assert "data:font/otf;base64," in standalone and "<nav class=\"screen-nav\"" not in standalone
    page = render_html(report, back=('/x?a=1&b="2"', "Back <home>"), links=[("/p", "PDF")],
                       font_base="/fonts/v1/")
    assert '<a class="screen-back" href="/x?a=1&amp;b=&#34;2&#34;">' in page
    assert "Back &lt;home&gt;" in page
    assert "url('/fonts/v1/Inter-Bold.otf')" in page
    for bad in ("/f')/", "/fonts", "/a b/", "javascript:x/", "/x/</style>/"):
        with pytest.raises(ValueError):
            render_html(report, font_base=bad)


# ---------------------------------------------------------------- compression


def test_text_pages_are_gzipped_for_a_client_that_accepts_it(app):
    owner = finished_owner(app)
    response = owner.get("/assessment/report", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    page = gzip.decompress(response.data).decode("utf-8")
    assert "<!DOCTYPE html>" in page
    # the CSP nonce of this response is the one in the (compressed) page
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in page
    assert "Content-Encoding" not in owner.get("/assessment/report").headers
    static = owner.get("/static/app.css", headers={"Accept-Encoding": "gzip, br"})
    assert static.headers["Content-Encoding"] == "br"  # streamed: brotli, as it streams


def test_pdfs_and_pages_with_a_csrf_token_are_not_compressed(app):
    owner = finished_owner(app)
    pdf = owner.get("/assessment/report.pdf", headers={"Accept-Encoding": "gzip"})
    assert pdf.mimetype == "application/pdf" and "Content-Encoding" not in pdf.headers
    landing = owner.get("/", headers={"Accept-Encoding": "gzip"})
    assert 'name="csrf_token"' in landing.get_data(as_text=True)
    assert "Content-Encoding" not in landing.headers


# ---------------------------------------------------------------- download while rendering


def test_download_while_rendering_shows_progress_then_delivers_the_pdf(app):
    owner = finished_owner(app)
    pool = hold_renders(app)
    started = time.monotonic()
    response = owner.get("/assessment/report.pdf?variant=full", headers=BROWSER)
    assert time.monotonic() - started < 2, "the browser waited for the render"
    assert response.status_code == 202 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Preparing your report" in page and "<progress" in page
    assert re.search(r'<noscript><meta http-equiv="refresh" content="3;url=/assessment/'
                     r'report.pdf\?variant=full&amp;waiting=1"></noscript>', page)
    assert 'data-status-url="/assessment/report.pdf?variant=full&amp;status=json"' in page
    assert re.search(r'<script src="/static/report-wait.js" nonce="[^"]+" defer>', page)
    assert len(pool.jobs) == 1

    status = owner.get("/assessment/report.pdf?variant=full&status=json")
    assert status.mimetype == "application/json"
    assert status.json["state"] == "queued" and status.json["percent"] == 0
    pool.start()
    status = owner.get("/assessment/report.pdf?variant=full&status=json").json
    assert status["state"] == "rendering" and status["step"] == "Laying out the pages"
    # the reload of the page without JavaScript: still preparing
    again = owner.get("/assessment/report.pdf?variant=full&waiting=1", headers=BROWSER)
    assert again.status_code == 202 and len(pool.jobs) == 1, "the render started twice"

    pool.finish()
    status = owner.get("/assessment/report.pdf?variant=full&status=json").json
    assert status == {"state": "ready", "percent": 100, "step": "Your report is ready",
                      "pdf": "/assessment/report.pdf?variant=full"}
    ready = owner.get("/assessment/report.pdf?variant=full&waiting=1", headers=BROWSER)
    assert ready.status_code == 200 and "Your report is ready" in ready.get_data(as_text=True)
    assert ('<meta http-equiv="refresh" content="0;url=/assessment/report.pdf?variant=full">'
            in ready.get_data(as_text=True))
    pdf = owner.get("/assessment/report.pdf?variant=full", headers=BROWSER)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert b"Full report" in pdf.data and len(pool.jobs) == 1


def test_finish_prerenders_the_leadership_report_only(app):
    from .workspace_fixtures import csrf_token

    client = owner_with_answers(app, finished=False)
    pool = hold_renders(app)
    review = client.get("/assessment/review").get_data(as_text=True)
    finished = client.post("/assessment/finish", data={"csrf_token": csrf_token(review)})
    assert finished.status_code == 303
    assert [b"Leadership report" in html.encode() for _, html in pool.jobs] == [True]


def test_the_check_answers_page_of_a_complete_assessment_starts_the_report(app):
    """Download straight after Finish should find the report ready: the render starts as soon
    as the owner looks over a complete set of answers, and Finish does not start it again."""
    from .workspace_fixtures import csrf_token

    client = owner_with_answers(app, finished=False)
    pool = hold_renders(app)
    review = client.get("/assessment/review").get_data(as_text=True)
    assert len(pool.jobs) == 1, "the complete answers' report starts rendering at once"
    assert client.post("/assessment/finish",
                       data={"csrf_token": csrf_token(review)}).status_code == 303
    assert len(pool.jobs) == 1, "Finish finds the same report already rendering"


def test_status_request_answers_as_soon_as_the_render_is_done(app):
    owner = finished_owner(app)
    pool = hold_renders(app)
    owner.get("/assessment/report.pdf", headers=BROWSER)
    threading.Timer(0.2, pool.finish).start()
    started = time.monotonic()
    status = owner.get("/assessment/report.pdf?status=json").json
    assert status["state"] == "ready"
    assert 0.15 < time.monotonic() - started < 0.9


def test_a_render_that_ends_within_the_grace_downloads_at_once(app):
    owner = finished_owner(app)
    pool = hold_renders(app)
    threading.Timer(0.1, pool.finish).start()
    response = owner.get("/assessment/report.pdf", headers=BROWSER)
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_a_client_that_does_not_ask_for_html_waits_for_the_pdf(app):
    owner = finished_owner(app)
    pool = hold_renders(app)
    threading.Timer(0.7, pool.finish).start()
    response = owner.get("/assessment/report.pdf", headers={"Accept": "*/*"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_a_failed_render_is_said_and_pressing_download_again_retries(app):
    from assessment.report import RenderError

    owner = finished_owner(app)
    pool = hold_renders(app)
    assert owner.get("/assessment/report.pdf", headers=BROWSER).status_code == 202
    pool.finish(RenderError("out of memory"))
    status = owner.get("/assessment/report.pdf?status=json").json
    assert status["state"] == "failed" and "memory" not in json.dumps(status)
    assert owner.get("/assessment/report.pdf?waiting=1", headers=BROWSER).status_code == 503
    assert len(pool.jobs) == 1, "a poll or reload retried a failed render"
    assert owner.get("/assessment/report.pdf", headers=BROWSER).status_code == 202
    assert len(pool.jobs) == 2
    pool.finish()
    assert owner.get("/assessment/report.pdf").mimetype == "application/pdf"


# ---------------------------------------------------------------- renders in other processes


def report_for(bank) -> ReportInput:
    return ReportInput(result=score(bank, parse_answers(bank, ANSWERS)[0]),
                       assessed_on=date(2025, 3, 12))


def test_a_render_in_another_process_is_seen_and_waited_for(bank, tmp_path):
    pool = HeldPool(auto=True)
    cache = ReportCache(tmp_path, pool=pool)
    report = report_for(bank)
    key = cache_key(report)
    marker = tmp_path / f"{key}.rendering"
    marker.write_text(json.dumps({"pid": os.getppid(), "started": time.time() - 1,
                                  "expected": 4.0}))
    status = cache.ask(report)
    assert status.state == "pending" and status.stage == "rendering"
    assert 0.2 < status.fraction < 0.3 and not pool.jobs, "rendered twice"
    assert cache.prerender(report) is None and not pool.jobs, "rendered twice"

    def other_process_finishes():
        cache.path(key).write_bytes(b"%PDF-elsewhere")
        marker.unlink()

    threading.Timer(0.2, other_process_finishes).start()
    assert cache.get_or_render(report) == b"%PDF-elsewhere" and not pool.jobs


def test_a_dead_or_old_marker_is_ignored(bank, tmp_path):
    report = report_for(bank)
    key = cache_key(report)
    marker = tmp_path / f"{key}.rendering"
    for data in ({"pid": 2 ** 22 + 12345, "started": time.time()},  # no such process
                 {"pid": os.getppid(), "started": time.time() - 3600},  # far too old
                 "not json"):
        marker.write_text(data if isinstance(data, str) else json.dumps(data))
        pool = HeldPool()  # a process of its own sharing the folder
        cache = ReportCache(tmp_path, pool=pool)
        status = cache.ask(report)
        assert status.state == "pending" and status.stage == "queued" and len(pool.jobs) == 1
        assert json.loads(marker.read_text())["pid"] == os.getpid()
    pool.finish()
    status = cache.ask(report)
    assert status.state == "ready" and status.pdf.startswith(b"%PDF-held")
    assert not marker.exists()


def test_render_times_set_the_expected_time(bank, tmp_path):
    pool = HeldPool()
    cache = ReportCache(tmp_path, pool=pool)
    full = replace(report_for(bank), full=True)
    assert cache.expected_seconds(True) == 5.0
    cache.prerender(full)
    pool.start()
    pool.jobs[0][0].started_at -= 2.0
    pool.finish()
    assert 1.9 < cache.expected_seconds(True) < 2.5
    assert cache.expected_seconds(False) == 3.0
