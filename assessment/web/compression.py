"""Compressed responses (Flask-Compress): pages, stylesheets, scripts, JSON and the report's
fonts go out as zstd, brotli or gzip, whichever the browser asks for first of those it accepts.

Not compressed:
- PDFs and images: already compressed, so it would cost time for nothing (only the types in
  MIMETYPES are);
- a page that carries a CSRF token (a form). The token stays the same for the whole session, and
  compressing it beside text an attacker could put in the page through its address lets someone
  who watches the sizes of the encrypted responses guess it one character at a time (BREACH).
  The nonce of the Content-Security-Policy needs no such care: it is new on every response;
- a range request (its byte ranges count in the uncompressed file).

Streamed responses (static files) are compressed as they stream (zstd, brotli or deflate:
Flask-Compress does not stream gzip).
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_compress import Compress

MIMETYPES = ["text/html", "text/css", "text/plain", "text/csv", "text/javascript",
             "application/javascript", "application/json", "image/svg+xml", "font/otf"]

compress = Compress()


def _compress(response):
    if "csrf_token" in g or request.range is not None or response.status_code == 206:
        return response
    return compress.after_request(response)


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config["COMPRESS_REGISTER"] = False  # our own hook, below, decides what may be compressed
    compress.init_app(app)
    app.after_request(_compress)
