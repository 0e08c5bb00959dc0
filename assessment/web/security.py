"""Security headers on every response: a nonce-based Content-Security-Policy and friends."""

from __future__ import annotations

import secrets

from flask import Flask, g, request


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def json_body():
    """The request's JSON document, or None when there is none we can read: not JSON, broken
    JSON, or nested so deep that the parser gives up (RecursionError, not a ValueError)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def set_headers(response):
    nonce = csp_nonce()
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; font-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin keeps the Referer for our own CSRF checks and sends nothing elsewhere.
    response.headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not request.path.startswith("/static/"):
        # Answers and reports are private: never kept by a shared cache or the back-forward cache
        # of a shared computer.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
