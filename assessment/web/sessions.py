"""The session cookie: Flask's signed cookie, with less signing.

Measured on the wizard (benchmarks/bench_wizard.py), opening and re-signing the cookie took about
a quarter of the processor time of a small page. Four savings, same cookie, same security:
- the signing serializer is built once per set of keys, not once per request;
- an unchanged permanent session is re-signed at most once an hour instead of on every response,
  so its expiry (the owner's idle limit, 30 days unless configured) still slides with use, to
  the hour;
- static files (stylesheet, script, fonts) never open the session at all;
- a cookie already verified by this process is not verified again: the exact signed string is
  looked up with what it held and when it was signed (its age is still checked every time).
"""

from __future__ import annotations

import copy
import time
from datetime import timedelta

from flask import Flask, Request, g
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..support.config import session_seconds
from .memo import Memo

REFRESH_AFTER = 60 * 60  # seconds before an unchanged permanent cookie is signed afresh


class CookieSession(SecureCookieSession):
    signed_at: float | None = None  # when the cookie it was read from was signed


class CookieSessionInterface(SecureCookieSessionInterface):
    session_class = CookieSession

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}
        # signed cookie -> (its data, when it was signed); only for the current keys, since a new
        # serializer (a new key) starts it afresh.
        self._verified: Memo[str, tuple[dict, float]] = Memo(10_000)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}  # a new key replaces the old one
            self._verified = Memo(10_000)
        return serializer

    def open_session(self, app: Flask, request: Request) -> CookieSession | None:
        if request.path.startswith(app.static_url_path + "/"):
            return self.session_class()  # empty and untouched: the cookie is left as it is
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get(value)
        if known is None:
            try:
                data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            known = self._verified.keep(value, (data, signed.timestamp()))
        data, signed_at = known
        if time.time() - signed_at > max_age:
            return self.session_class()
        session = self.session_class(_copy(data))
        session.signed_at = signed_at
        return session

    def save_session(self, app: Flask, session, response) -> None:
        if g.get("leave_session_cookie"):
            response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def should_set_cookie(self, app: Flask, session) -> bool:
        if session.modified:
            return True
        if not session.permanent or not app.config["SESSION_REFRESH_EACH_REQUEST"]:
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or time.time() - signed_at >= REFRESH_AFTER


def leave_cookie() -> None:
    """Send no session cookie with this response, whatever the page did to the session: for a
    form posted from another site, whose request came without our cookie (SameSite=Lax), so that
    any cookie this response set would replace the visitor's session."""
    g.leave_session_cookie = True


def _copy(data: dict) -> dict:
    """A copy the page may change: deep where a value is a container (flash messages are a list
    changed in place), since the remembered data must stay what the cookie says."""
    if any(isinstance(v, (list, dict)) for v in data.values()):
        return copy.deepcopy(data)
    return dict(data)


def init_app(app: Flask) -> None:
    # The cookie lasts the owner's idle limit since it was last used (the hourly re-signing
    # above slides it); a member's shorter idle limit is kept on the server (auth/access.py).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=session_seconds(app.config))
    app.session_interface = CookieSessionInterface()
