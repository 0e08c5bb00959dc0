"""Security headers on every response (a nonce-based Content-Security-Policy and friends), the
CSRF token templates put in forms, and what a form refused by the CSRF check is told."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, g, render_template, request, session
from flask_wtf.csrf import generate_csrf

from . import sessions
from .memo import Memo, cached_url_for

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
    "microphone", "payment", "usb"))


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


# Signed CSRF tokens already handed out, by (secret key, the session's raw token). Flask-WTF signs
# the token afresh for every page, which cost a small page about 8% of its time. With no time
# limit on tokens (config.py) a signature never goes stale, so one per raw token is enough; the
# check of a submitted token is Flask-WTF's, unchanged.
_SIGNED: Memo[tuple[str, str], str] = Memo(10_000)


def csrf_token() -> str:
    """generate_csrf(), reusing the signature this session's token was given before."""
    if current_app.config["WTF_CSRF_TIME_LIMIT"] is not None:
        return generate_csrf()
    key = (current_app.secret_key, session.get("csrf_token"))
    signed = _SIGNED.get(key)
    if signed is None or key[1] is None:
        signed = generate_csrf()  # first: it puts the raw token in a new session
        _SIGNED.keep((current_app.secret_key, session["csrf_token"]), signed)
    else:
        g.csrf_token = signed  # where generate_csrf keeps it for the rest of the request
    return signed


def json_body():
    """The request's JSON document, or None when there is none we can read: not JSON, broken
    JSON, or nested so deep that the parser gives up (RecursionError, not a ValueError)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def from_another_site() -> bool:
    """True when the browser says this request came from a page of another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin:
        return origin.rstrip("/") != request.host_url.rstrip("/")
    return False


def navigated_from_another_site() -> bool:
    """True when the browser says a page of another site sent it to this address (a link
    followed there, or its redirect): Sec-Fetch-Site "cross-site", or, from a browser that does
    not send that header, a Referer of another origin. An address typed or pasted (no Referer,
    Sec-Fetch-Site "none") and a link on one of our own pages or of the same site are not."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site.strip().lower() == "cross-site"
    referrer = request.headers.get("Referer")
    if not referrer:
        return False
    try:
        parts = urlsplit(referrer)
    except ValueError:  # not an address at all: nothing says it was ours
        return True
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin != request.host_url.rstrip("/").lower()


def refused_from_another_site(message: str):
    """A form sent from another site changes nothing at all, not even the session cookie."""
    sessions.leave_cookie()
    return render_template("error.html", title="Nothing was changed", message=message), 400


def form_expired():
    """A form whose CSRF token had expired, with nothing on it that a page could show again."""
    return render_template("error.html", title="Please try that again",
                           message="This form had expired. Go back, reload the page and try "
                                   "again."), 400


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
    # No page here uses these: denied to our pages and to anything injected into or framed by one.
    response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
    # A window of another site that opened ours, or that ours opened, gets no handle on it.
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
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
    # Flask-WTF offers its csrf_token both as a global and from a context processor, and the
    # context wins: ours replaces it in both places.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["url_for"] = cached_url_for
    app.context_processor(lambda: {"csrf_token": csrf_token})
