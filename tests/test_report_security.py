"""Hostile input cannot reach anything: no markup, no file read, no network request, no
attachment. And the one URL fetcher serves only data: URLs and the product's own assets."""

from __future__ import annotations

import http.server
import subprocess
import threading
from datetime import date
from typing import ClassVar

import pytest
from pypdf import PdfReader

from assessment.core.scoring import parse_answers, score
from assessment.report import RenderPool, ReportInput, render_html, render_print_html

from .tools import tool


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self):
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: red }")

    do_POST = do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def listener():
    """A loopback HTTP server that records every request it receives."""
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Recorder.requests
    server.shutdown()
    server.server_close()


def hostile_strings(port: int) -> list[str]:
    return [
        '<img src="file:///etc/passwd">',
        '<link rel=attachment href="file:///etc/passwd">',
        f"<style>@import url(http://127.0.0.1:{port}/import.css);</style>",
        f"@import url(http://127.0.0.1:{port}/at-import.css);",
        f'<p style="background:url(http://127.0.0.1:{port}/x)">styled</p>',
        f'<img src="http://127.0.0.1:{port}/img.png"><svg><image href="file:///etc/hostname"/></svg>',
        "</style></head><body><script>alert(1)</script>",
    ]


@pytest.fixture(scope="module")
def hostile(bank, listener):
    port, _ = listener
    strings = hostile_strings(port)
    answers, errors = parse_answers(bank, {"profile.business_name": strings[0],
                                           "backup.automatic": "daily"})
    assert not errors
    result = score(bank, answers)
    notes = {o.question.id: " ".join(strings) for o in result.outcomes}
    return strings, ReportInput(result=result, business_name=" ".join(strings),
                                assessed_on=date(2025, 1, 1), notes=notes,
                                verified={q: True for q in notes},
                                owner_answers={"backup.automatic": strings[2]})


@pytest.fixture(scope="module")
def hostile_pdf(hostile, tmp_path_factory):
    pool = RenderPool(workers=1, timeout=120)
    try:
        pdf = pool.render(render_print_html(hostile[1]))
    finally:
        pool.shutdown()
    path = tmp_path_factory.mktemp("hostile") / "hostile.pdf"
    path.write_bytes(pdf)
    return path


def test_hostile_text_is_escaped_in_the_html(hostile):
    _, report = hostile
    for html in (render_print_html(report), render_html(report)):
        assert "<img src=\"file" not in html
        assert "<link rel=attachment" not in html
        assert "<script>" not in html
        assert "style=\"background:url" not in html
        assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html


def test_hostile_input_renders_a_pdf_with_none_of_it(hostile_pdf, listener):
    _, requests = listener
    assert requests == [], f"the renderer made requests: {requests}"
    reader = PdfReader(hostile_pdf)
    root = reader.trailer["/Root"]
    names = root.get("/Names")
    assert names is None or "/EmbeddedFiles" not in names.get_object()
    assert all(not page.images for page in reader.pages), "no image was loaded"
    raw = hostile_pdf.read_bytes()
    assert b"/EmbeddedFile" not in raw and b"/FileAttachment" not in raw
    assert b"/URI (file:" not in raw and b"/URI (http://127.0.0.1" not in raw


def test_hostile_text_appears_as_text(hostile_pdf):
    text = subprocess.run([tool("pdftotext", "poppler-utils"), "-raw", str(hostile_pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    assert '<img src="file:///etc/passwd">' in " ".join(text.split())


# ---------------------------------------------------------------- the URL fetcher


@pytest.fixture(scope="module")
def fetcher():
    from assessment.report.fetcher import ReportURLFetcher

    return ReportURLFetcher()


def test_fetcher_serves_data_urls(fetcher):
    response = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello"
    response = fetcher("data:image/png,%89PNG")
    assert response.read() == b"\x89PNG"
    assert response.content_type == "image/png"


def test_fetcher_serves_the_product_assets(fetcher):
    from assessment.report.fetcher import TEMPLATES_DIR

    response = fetcher.fetch((TEMPLATES_DIR / "fonts" / "Inter-Regular.otf").as_uri())
    assert response.read()[:4] == b"OTTO"
    css = fetcher.fetch((TEMPLATES_DIR / "report.css").as_uri())
    assert css.content_type == "text/css"


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "file://evil.example/share/report.css",
    "http://127.0.0.1/",
    "https://127.0.0.1/x.css",
    "ftp://127.0.0.1/x",
    "gopher://127.0.0.1/x",
    "FILE:///etc/passwd",
])
def test_fetcher_refuses_files_outside_the_assets_and_any_network(fetcher, url, listener):
    from assessment.report.fetcher import FetchRefused

    with pytest.raises(FetchRefused):
        fetcher.fetch(url)


def test_fetcher_refuses_path_traversal_out_of_report_templates(fetcher, tmp_path):
    from assessment.report.fetcher import TEMPLATES_DIR, FetchRefused

    escapes = [
        TEMPLATES_DIR.as_uri() + "/../requirements.txt",
        TEMPLATES_DIR.as_uri() + "/fonts/../../app.py",
        TEMPLATES_DIR.as_uri() + "/%2e%2e/requirements.txt",
        TEMPLATES_DIR.as_uri() + "/report.html",  # inside, but a template, not an asset
    ]
    link = TEMPLATES_DIR / "fonts" / "link-for-test.css"
    target = tmp_path / "secret.css"
    target.write_text("secret")
    try:
        link.symlink_to(target)
        escapes.append(link.as_uri())
        for url in escapes:
            with pytest.raises(FetchRefused):
                fetcher.fetch(url)
    finally:
        link.unlink(missing_ok=True)


def test_fetcher_follows_no_redirects_and_is_one_class(fetcher):
    from weasyprint.urls import URLFetcher

    from assessment.report import engine

    assert isinstance(fetcher, URLFetcher)
    assert not any(type(h).__name__ == "HTTPRedirectHandler" for h in fetcher.handlers)
    eng = engine.PdfEngine()
    assert type(eng.fetcher) is type(fetcher)
    assert engine.PDF_OPTIONS["presentational_hints"] is False
    assert engine.PDF_OPTIONS["attachments"] is None
