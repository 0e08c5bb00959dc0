"""Hand-off links: an owner hands one section of their assessment to whoever runs their IT.

A link opens one section of one assessment, for 30 days, to answer as the business's IT provider
(answers saved with source "provider"). Only the SHA-256 hash of its token is kept; its `ref` is
the public name the owner's buttons use. One link per section is live at a time: making a new
one cancels the old. The owner may query an answer (a short message per question, shown to the
provider next time they open the link), which reopens the hand-off: it waits for them again.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from ..support.tokens import hash_token, new_token
from .db import Row, Store
from .times import now, passed, stamp, stamp_in

HANDOFF_DAYS = 30
MAX_RECIPIENT = 100  # characters of "who it is for"
MAX_QUERY = 1000  # characters of a query


def queries_of(row: Row | None) -> dict[str, dict]:
    """The owner's queries of a hand-off, by question id: {"text", "asked_at", "open"}."""
    if not row or not row.get("queries"):
        return {}
    try:
        found = json.loads(row["queries"])
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def open_queries(row: Row | None) -> dict[str, str]:
    """The queries the provider has not answered yet (sent the section since), by question id."""
    return {qid: q.get("text", "") for qid, q in queries_of(row).items() if q.get("open")}


def refusal(row: Row, at: datetime | None = None) -> str | None:
    """Why a hand-off link no longer opens its section ("cancelled" or "expired"), at `at` (now),
    or None."""
    if row["cancelled_at"]:
        return "cancelled"
    if passed(row["expires_at"], at):
        return "expired"
    return None


def state(row: Row | None) -> str | None:
    """What the owner's pages say of a section's hand-off: "waiting" (for the provider),
    "answered" (sent back, no query open), "expired" (before it was answered), or None (there
    is none, or it was cancelled)."""
    if row is None or row["cancelled_at"]:
        return None
    if row["answered_at"]:
        return "answered"
    return "expired" if refusal(row) else "waiting"


def create_handoff(db: Store, assessment_id: str, section_id: str,
                   recipient: str = "") -> str:
    """A new link for this section; any earlier one stops working, and its open queries and
    who it was for carry over when `recipient` is empty. Returns the token (shown once)."""
    token = new_token()
    made = stamp()
    with db.write():
        db.lock(f"handoff:{assessment_id}")
        before = latest(db, assessment_id, section_id)
        queries = {}
        if before is not None and not before["cancelled_at"]:
            queries = {qid: q for qid, q in queries_of(before).items() if q.get("open")}
            recipient = recipient or before["recipient"] or ""
        db.execute("UPDATE handoffs SET cancelled_at = ? WHERE assessment_id = ? AND "
                   "section_id = ? AND cancelled_at IS NULL", [made, assessment_id, section_id])
        db.execute("INSERT INTO handoffs (token_hash, ref, assessment_id, section_id, recipient, "
                   "created_at, expires_at, queries) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [hash_token(token), secrets.token_urlsafe(9), assessment_id, section_id,
                    recipient, made, stamp_in(days=HANDOFF_DAYS),
                    json.dumps(queries, ensure_ascii=False)])
    return token


def latest(db: Store, assessment_id: str, section_id: str) -> Row | None:
    """The section's newest hand-off link, whatever its state."""
    return db.one("SELECT * FROM handoffs WHERE assessment_id = ? AND section_id = ? "
                  "ORDER BY created_at DESC, cancelled_at IS NULL DESC LIMIT 1",
                  [assessment_id, section_id])


def handoffs_of(db: Store, assessment_id: str) -> dict[str, Row]:
    """Each section's newest hand-off link that was not cancelled, by section id."""
    out: dict[str, Row] = {}
    for row in db.rows("SELECT * FROM handoffs WHERE assessment_id = ? AND "
                       "cancelled_at IS NULL ORDER BY created_at", [assessment_id]):
        out[row["section_id"]] = row
    return out


def handoff_for_token(db: Store, token: str | None) -> Row | None:
    """The hand-off link of this token, whether or not it still opens its section."""
    if not token or len(token) > 200:
        return None
    return db.one("SELECT * FROM handoffs WHERE token_hash = ?", [hash_token(token)])


def cancel_handoff(db: Store, assessment_id: str, section_id: str) -> bool:
    """The section's live link stops working at once; answers already given stay."""
    with db.write():
        return db.execute("UPDATE handoffs SET cancelled_at = ? WHERE assessment_id = ? AND "
                          "section_id = ? AND cancelled_at IS NULL",
                          [stamp(), assessment_id, section_id]) > 0


def mark_used(db: Store, token_hash: str) -> None:
    with db.write():
        db.execute("UPDATE handoffs SET last_used_at = ? WHERE token_hash = ?",
                   [stamp(), token_hash])


def mark_answered(db: Store, token_hash: str) -> bool:
    """The provider sent the section back: answered, and every open query answered with it."""
    moment = now()
    with db.write():
        row = db.one("SELECT * FROM handoffs WHERE token_hash = ?", [token_hash])
        if row is None or refusal(row, moment):
            return False
        db.lock(f"handoff:{row['assessment_id']}")
        queries = {qid: {**q, "open": False} for qid, q in queries_of(row).items()}
        return db.execute("UPDATE handoffs SET answered_at = ?, last_used_at = ?, queries = ? "
                          "WHERE token_hash = ? AND cancelled_at IS NULL",
                          [stamp(moment), stamp(moment), json.dumps(queries, ensure_ascii=False),
                           token_hash]) == 1


def ask(db: Store, assessment_id: str, section_id: str, question_id: str, text: str) -> bool:
    """The owner's query about one answer, for the provider to see next time they open the
    section's link (which waits for them again). False when the section has no live link."""
    moment = now()
    with db.write():
        db.lock(f"handoff:{assessment_id}")
        row = db.one("SELECT * FROM handoffs WHERE assessment_id = ? AND section_id = ? AND "
                     "cancelled_at IS NULL ORDER BY created_at DESC LIMIT 1",
                     [assessment_id, section_id])
        if row is None or refusal(row, moment):
            return False
        queries = queries_of(row)
        queries[question_id] = {"text": text, "asked_at": stamp(moment), "open": True}
        return db.execute("UPDATE handoffs SET queries = ?, answered_at = NULL "
                          "WHERE token_hash = ?", [json.dumps(queries, ensure_ascii=False),
                                                   row["token_hash"]]) == 1


def text_problem(text: str, limit: int, *, lines: bool = False) -> str | None:
    """What is wrong with a short text typed by someone (a name, a query), or None."""
    if len(text) > limit:
        return f"Keep it under {limit:,} characters."
    allowed = "\n\r\t" if lines else ""
    if any(not ch.isprintable() and ch not in allowed for ch in text):
        return "Use letters, numbers and punctuation only."
    return None
