"""Structured audit lines: one JSON object per event, on the "it_health.audit" logger.

Who signed in or failed to, lockouts, access refused, report renders, backups. Values are JSON
encoded, so a name with a line break in it stays on one line; passwords, tokens and answers are
never passed here, and a typed email goes through `typed_email`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime

from flask import has_request_context, request

from ..support.private_files import create_file
from .inputs import email_problem

logger = logging.getLogger("it_health.audit")


# Ids are 16 characters of URL-safe base64; a link's secret token is 43. A value this long made
# of those characters may be a token pasted where an id goes: none of it is logged (a part of a
# token is still most of a secret).
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{24,}")
NOT_LOGGED = "(not logged: shaped like a secret link)"


def loggable(value: object) -> object:
    if isinstance(value, str) and _TOKEN_LIKE.search(value):
        return NOT_LOGGED
    return value


def audit(event: str, **fields: object) -> None:
    record: dict[str, object] = {"time": datetime.now(UTC).isoformat(timespec="seconds"),
                                 "event": event}
    if has_request_context():
        record["address"] = request.remote_addr
        # The route's pattern, not the path: resume, claim and invite paths carry secrets.
        record["route"] = (request.url_rule.rule if request.url_rule
                           else loggable(request.path))
    # A typed email is logged as typed_email() allows; every other value is checked.
    record.update({name: value if name == "email" else loggable(value)
                   for name, value in fields.items()})
    logger.info(json.dumps(record, ensure_ascii=False, default=str))


def typed_email(value: str | None) -> dict[str, object]:
    """Audit fields for what was typed into an email box: the address when it is a well-formed
    one, otherwise only that it was not. Anything else there may be a password typed into the
    wrong box, and the log must never hold one."""
    if email_problem(value or ""):
        return {"email_invalid": True}
    return {"email": value}


def configure(app) -> None:
    """Audit lines go to standard error (gunicorn and systemd collect them), or to the file
    named by ITHEALTH_AUDIT_LOG; not in tests unless a test captures them."""
    if logger.handlers or app.testing:
        return
    path = app.config.get("AUDIT_LOG")
    if path:
        # Email and network addresses are personal data: the file is the service user's only.
        try:
            os.close(create_file(path))
        except FileExistsError:
            pass
    handler = logging.FileHandler(path) if path else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
