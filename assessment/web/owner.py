"""The owner's anonymous session: which assessment this browser is working on.

No accounts: an assessment is reached through the browser session, or through its private resume
link (a `secrets.token_urlsafe(32)` token stored only as a SHA-256 hash), which is exchanged for a
session and never kept in a URL after that.

Opening an assessment changes only the owner's keys of the session: a firm member signed in on
the same browser stays signed in. Which assessment is open changes only on a form of our own
(CSRF-checked) or a link opened while nothing else is open; views ask first otherwise.

A browser keeps an assessment open only while the link it holds still opens it: once that link
is replaced (by the owner, or by the firm that sent it), cancelled or expired, the browser's next
page says the link no longer works, in every browser that had it.
"""

from __future__ import annotations

import hmac

from flask import g, render_template, session

from ..storage import NotFound, accounts, find_by_resume_hash, get_assessment
from ..storage.assessments import replace_resume_link
from ..storage.clients import self_link_refusal
from ..support.tokens import hash_token, new_token
from .db import get_db

# The session keys that belong to the owner's side; a member's sign-in keys are never touched.
LINK_ENDED = "link_ended"  # why the open assessment closed, until a page has said so
OWNER_KEYS = ("assessment_id", "resume_token", "pending_resume", "link_shown", LINK_ENDED)


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
    # Opened with a link that has since been cancelled, has expired or was replaced: no longer
    # open here, and the next page of the owner's says so (link_ended_page) instead of showing
    # the assessment, in every browser that had it open.
    token = session.get("resume_token") or ""
    ended = self_link_refusal(assessment)
    if ended is None and not hmac.compare_digest(hash_token(token),
                                                 assessment["resume_token_hash"] or ""):
        ended = "replaced"
    if ended is not None:
        forget()
        session[LINK_ENDED] = {"reason": ended, "firm_id": assessment["firm_id"],
                               "own": assessment["link_created_at"] is None,
                               "expired_on": assessment["link_expires_at"]}
        return None
    return assessment


def link_ended(*, keep: bool = False) -> dict | None:
    """Why the assessment this browser had open closed (its link was cancelled, expired or
    replaced): None when it did not, or a page has said so already. Said once, unless `keep`
    (a reply that is not a page, such as an autosave's)."""
    current()  # finds out, if this request has not yet
    return session.get(LINK_ENDED) if keep else session.pop(LINK_ENDED, None)


def link_ended_page(ended: dict):
    """The page a link that no longer works opens on: why, and whom to ask; nothing of the
    assessment itself (410: it is gone for this link, not missing)."""
    firm = accounts.get_firm(get_db(), ended["firm_id"]) if ended.get("firm_id") else None
    return render_template("wizard/link_ended.html", title="This link no longer works",
                           reason=ended.get("reason"), firm=firm["name"] if firm else None,
                           own_link=bool(ended.get("own")),
                           expired_on=ended.get("expired_on")), 410


def replace_link() -> str | None:
    """A new private link for the assessment open here, in place of the old one, which stops
    at once in every browser that had it open; this browser keeps it open with the new one.
    Returns the new token, or None when the open assessment's link is a firm's (theirs to
    replace) or was replaced meanwhile elsewhere."""
    assessment = current()
    if assessment is None or assessment["link_created_at"]:
        return None
    token, token_hash = new_resume_token()
    if not replace_resume_link(get_db(), assessment["id"], hash_token(session["resume_token"]),
                               token_hash):
        return None
    begin(assessment["id"], token)
    return token


def from_token(token: str | None) -> dict | None:
    """The assessment this link opens now, or None (also for a cancelled or expired one)."""
    found = find_link(token)
    return found if found is not None and self_link_refusal(found) is None else None


def find_link(token: str | None) -> dict | None:
    """The assessment of this token, whether or not its link still opens it."""
    if not token or len(token) > 200:
        return None
    return find_by_resume_hash(get_db(), hash_token(token))


def current_or_refusal():
    """(the open assessment, None), or (None, the page that says none is open, or that the link
    it was opened with no longer works) to send."""
    assessment = current()
    if assessment is None:
        ended = link_ended()
        if ended is not None:
            return None, link_ended_page(ended)
        # Friendly, and a 404: without its session nobody learns anything about an assessment.
        return None, (render_template("wizard/no_session.html",
                                      title="No assessment open in this browser"), 404)
    return assessment, None


def shared_with_firm(assessment: dict) -> bool:
    """Handed to a firm through a claim link: the owner keeps reading, the firm edits."""
    return assessment["shared_at"] is not None


def read_only(assessment: dict) -> str | None:
    """Why this browser may read but not change the assessment, or None when it may."""
    if shared_with_firm(assessment):
        return ("This assessment was shared with a firm: you can read it here, and changes are "
                "made with them.")
    if assessment["closed_at"] is not None:
        firm = accounts.get_firm(get_db(), assessment["firm_id"]) if assessment["firm_id"] \
            else None
        name = firm["name"] if firm else "The firm"
        return (f"{name} has finished this assessment, so its answers can no longer be changed "
                f"here. If something needs changing, ask {name} to reopen it.")
    return None
