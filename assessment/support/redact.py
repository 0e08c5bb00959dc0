"""Secrets out of everything the app prints or logs.

`redact(text)` takes a URL, a connection string or any message that may hold one (a driver's
error, a traceback) and replaces the password in it by `***`, keeping what tells an operator what
is wrong: scheme, user, host, port, database. It knows

- a password in a URL's user part: `postgresql://user:***@host/db`, `redis://:***@host:6379/0`,
  whatever the scheme (`postgres://`, `rediss://`, ...);
- secret query parameters and keywords: `?password=***`, `&sslpassword=***`,
  `access_token=***`, and a libpq keyword string `host=db password=*** dbname=x` (quoted
  values too);
- `'password': '***'` as a dict or JSON prints it.

Ordinary text passes through unchanged. `RedactingFilter` does the same to log records (the
message and the text of their exception), and `redact_logs` puts it on the app's loggers and
handlers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"

# What names a secret: password, passwd, pwd, sslpassword, pgpassword, requirepass, token,
# access_token, secret, secret_key, api_key, apikey, passphrase, credentials.
_SECRET_NAME = (r"[A-Za-z0-9_.-]*(?:pass(?:word|wd|phrase)?(?![a-z])|pwd|token|secret|"
                r"api[_-]?key|credentials?)[A-Za-z0-9_.-]*")

# scheme://user:password@ (the password runs to the last "@" of the URL, so one with an "@" in
# it is hidden whole).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*):"
                           r"(?P<secret>[^\s'\"]*)@")
# name=value in a query string or a keyword connection string; a value may be quoted.
_KEYWORD = re.compile(r"(?P<head>(?<![A-Za-z0-9_.-])" + _SECRET_NAME + r"\s*=\s*)"
                      r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;'\"#,)]+)",
                      re.IGNORECASE)
# 'password': 'value' (a dict's or a JSON object's print).
_MAPPING = re.compile(r"(?P<head>(?P<q>['\"])" + _SECRET_NAME + r"(?P=q)\s*:\s*)"
                      r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,}]+)",
                      re.IGNORECASE)


def _masked(match: re.Match) -> str:
    secret = match.group("secret")
    quote = secret[0] if secret[:1] in ("'", '"') and len(secret) > 1 else ""
    return f"{match.group('head')}{quote}{MASK}{quote}"


def redact(text: object) -> str:
    """`text` (a URL, a connection string, an error, anything: str() of it) without the
    passwords and tokens in it."""
    text = str(text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    text = _KEYWORD.sub(_masked, text)
    return _MAPPING.sub(_masked, text)


def has_password(url: str) -> bool:
    """Whether a URL or connection string holds a password (`redact` would change it)."""
    return redact(url) != url


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, exception text and stack without secrets; lets every record
    through. On a handler it sees every record that handler writes, from any logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_it_health_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format: leave it to the handler to report  # noqa: BLE001
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._it_health_redacted = True
        return True


REDACTING_FILTER = RedactingFilter()

# Loggers whose records may carry a URL or a driver's error: the app's own, the web servers',
# the drivers' and the render queue's.
LOGGERS = ("", "assessment", "werkzeug", "gunicorn.error", "gunicorn.access", "huey",
           "huey.consumer", "psycopg", "psycopg.pool", "redis", "it_health.audit")


def _handlers(loggers: Iterable[logging.Logger]) -> list[logging.Handler]:
    found: list[logging.Handler] = []
    for logger in loggers:
        current: logging.Logger | None = logger
        while current is not None:
            found.extend(h for h in current.handlers if h not in found)
            current = current.parent if current.propagate else None
    if logging.lastResort is not None:
        found.append(logging.lastResort)
    return found


def redact_logs(*extra: logging.Logger) -> None:
    """Put the redacting filter on the loggers above (for their own records) and on every
    handler their records reach (for the records of their children). Adding it again changes
    nothing."""
    loggers = [logging.getLogger(name) for name in LOGGERS] + list(extra)
    for logger in loggers:
        logger.addFilter(REDACTING_FILTER)
    for handler in _handlers(loggers):
        handler.addFilter(REDACTING_FILTER)
