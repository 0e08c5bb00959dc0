"""The owner's anonymous session: which assessment this browser is working on.

No accounts: an assessment is reached through the browser session, or through its private resume
link (a `secrets.token_urlsafe(32)` token stored only as a SHA-256 hash), which is exchanged for a
session and never kept in a URL after that.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import g, session

from ..storage import NotFound, find_by_resume_hash, get_assessment
from .db import get_db


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_resume_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def begin(assessment_id: str, token: str) -> None:
    """Start a fresh session for this assessment (a new session id: no fixation)."""
    g.pop("owner_assessment", None)
    session.clear()
    session.permanent = True
    session["assessment_id"] = assessment_id
    session["resume_token"] = token


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
        return get_assessment(get_db(), assessment_id)
    except NotFound:
        session.clear()
        return None


def from_token(token: str | None) -> dict | None:
    if not token or len(token) > 200:
        return None
    return find_by_resume_hash(get_db(), hash_token(token))
