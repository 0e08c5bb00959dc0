"""The owner's anonymous session: which assessment this browser is working on.

No accounts: an assessment is reached through the browser session, or through its private resume
link (a `secrets.token_urlsafe(32)` token stored only as a SHA-256 hash), which is exchanged for a
session and never kept in a URL after that.

Opening an assessment changes only the owner's keys of the session: a firm member signed in on
the same browser stays signed in. Which assessment is open changes only on a form of our own
(CSRF-checked) or a link opened while nothing else is open; views ask first otherwise.
"""

from __future__ import annotations

import hmac

from flask import g, session

from ..storage import NotFound, find_by_resume_hash, get_assessment
from ..storage.clients import self_link_refusal
from ..support.tokens import hash_token, new_token
from .db import get_db

# The session keys that belong to the owner's side; a member's sign-in keys are never touched.
OWNER_KEYS = ("assessment_id", "resume_token", "pending_resume", "link_shown")



def new_resume_token() -> tuple[str, str]:
    token = new_token()
    return token, hash_token(token)


def begin(assessment_id: str, token: str) -> None:
    """Open this assessment in this browser, in place of any other (the caller has asked)."""
    forget()
    session.permanent = True
    session["assessment_id"] = assessment_id
    session["resume_token"] = token


def forget() -> None:
    """Close the owner's assessment in this browser; a member's sign-in stays."""
    g.pop("owner_assessment", None)
    for key in OWNER_KEYS:
        session.pop(key, None)


def holds(token: str | None) -> bool:
    """True when this browser's open assessment is the one this token opens."""
    mine = session.get("resume_token")
    return bool(token and mine) and hmac.compare_digest(str(token).encode(), str(mine).encode())


def current() -> dict | None:
    """The assessment of this browser's session, if it still exists (read once per request)."""
    if "owner_assessment" not in g:
        g.owner_assessment = _current()
    return g.owner_assessment


def _current() -> dict | None:
    assessment_id = session.get("assessment_id")
    if not assessment_id:
        return None
    try:
        assessment = get_assessment(get_db(), assessment_id)
    except NotFound:
        forget()
        return None
    # Opened with a link the firm has since cancelled or replaced: no longer open here.
    token = session.get("resume_token") or ""
    if assessment["link_cancelled_at"] or not hmac.compare_digest(
            hash_token(token), assessment["resume_token_hash"] or ""):
        forget()
        return None
    return assessment


def from_token(token: str | None) -> dict | None:
    """The assessment this link opens now, or None (also for a cancelled or expired one)."""
    found = find_link(token)
    return found if found is not None and self_link_refusal(found) is None else None


def find_link(token: str | None) -> dict | None:
    """The assessment of this token, whether or not its link still opens it."""
    if not token or len(token) > 200:
        return None
    return find_by_resume_hash(get_db(), hash_token(token))
