"""Rendered PDFs on disk, keyed by a hash of everything that goes into them.

The key covers: the answers and the computed result, the bank (id, version, hash), the business
name, date, notes, verification marks and owner answers, the branding (the logo by its SHA-256),
the template version (a hash of report_templates/ and this package's code) and the WeasyPrint
version. Change any of them and the key changes, so a stale PDF is never served; leave them alone
and a repeat download is a file read.

Files are `<key>.pdf`, written to a temporary file in the same folder and moved into place with
os.replace, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from importlib.metadata import version
from pathlib import Path

from ..scoring import result_to_dict
from .html import render_print_html, template_version
from .models import ReportInput
from .pool import RenderPool, get_pool

KEY_FORMAT = 1


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
        "branding": {
            "firm_name": brand.firm_name, "primary": brand.primary, "accent": brand.accent,
            "contact": brand.contact, "disclaimer": brand.disclaimer,
            "logo": None if logo is None else hashlib.sha256(logo).hexdigest(),
        },
        "templates": template_version(),
        "weasyprint": version("weasyprint"),
    }
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class ReportCache:
    """PDFs in `directory`, rendered on demand (or in the background) by a RenderPool."""

    def __init__(self, directory: str | os.PathLike, pool: RenderPool | None = None,
                 render_html: Callable[[ReportInput], str] = render_print_html):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._pool = pool
        self._render_html = render_html
        self._inflight: dict[str, Future] = {}
        self._lock = threading.Lock()
        self.renders = 0  # renders this cache has started (tests and benchmarks read it)

    @property
    def pool(self) -> RenderPool:
        return self._pool or get_pool()

    def path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("not a cache key")
        return self.directory / f"{key}.pdf"

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

    def _start(self, key: str, report: ReportInput) -> Future:
        """The Future of the render for `key`: one already running, or a new one."""
        with self._lock:
            future = self._inflight.get(key)
            if future is not None:
                return future
            html = self._render_html(report)
            future = self.pool.submit(html)
            self._inflight[key] = future
            self.renders += 1

        def done(f: Future) -> None:
            try:
                if not f.cancelled() and f.exception() is None:
                    self._store(key, f.result())
            finally:
                with self._lock:
                    self._inflight.pop(key, None)

        future.add_done_callback(done)
        return future

    def prerender(self, report: ReportInput) -> Future | None:
        """Start rendering in the background unless the PDF is already cached; returns at once."""
        key = cache_key(report)
        if self.path(key).exists():
            return None
        return self._start(key, report)

    def get_or_render(self, report: ReportInput) -> bytes:
        key = cache_key(report)
        cached = self.get(key)
        if cached is not None:
            return cached
        pdf = self._start(key, report).result()
        if not self.path(key).exists():  # the callback may still be writing; make sure
            self._store(key, pdf)
        return pdf
