"""The owner's private roadmap links: one per client, made by a firm member, opened by the
business owner without an account to see their roadmap and update their own actions.

Only the SHA-256 hash of a link's token is kept, so a copy of the database opens nothing; its
`ref` names it in the workspace's forms without being able to open it. One link per client is
live at a time: making a new one cancels the old. A link works for a year, unless cancelled.

The owner's comment on an action is kept as one of the action's events (the same history the
consultant reads), with the status unchanged: from and to are the action's current status.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from ..support.tokens import hash_token, new_token
from .db import Row, Store
from .times import parse, passed, stamp, stamp_in

LINK_DAYS = 365
# Without a locked review, "done since last review" looks back this far.
NO_REVIEW_DAYS = 90
MAX_COMMENT = 2000


def create_link(db: Store, firm_id: int, client_id: int, created_by: int | None) -> str:
    """A new private link to the client's roadmap; the client's earlier link, if any, stops
    working. Returns the token (shown once, never kept). LookupError when the client is not
    the firm's."""
    token = new_token()
    made = stamp()
    with db.write():
        # Two members pressing at once still leave one live link.
        db.lock(f"roadmap_link:{firm_id}:{client_id}")
        if db.one("SELECT 1 FROM clients WHERE id = ? AND firm_id = ?",
                  [client_id, firm_id]) is None:
            raise LookupError("no such client in this firm")
        db.execute("UPDATE roadmap_links SET cancelled_at = ? WHERE firm_id = ? AND "
                   "client_id = ? AND cancelled_at IS NULL", [made, firm_id, client_id])
        db.insert("roadmap_links", {
            "firm_id": firm_id, "client_id": client_id, "ref": secrets.token_urlsafe(9),
            "token_hash": hash_token(token), "created_by": created_by, "created_at": made,
            "expires_at": stamp_in(days=LINK_DAYS)})
    return token


def cancel_link(db: Store, firm_id: int, ref: str) -> bool:
    """The link stops working at once; False when it was cancelled already (or is not the
    firm's)."""
    with db.write():
        return db.execute("UPDATE roadmap_links SET cancelled_at = ? WHERE firm_id = ? AND "
                          "ref = ? AND cancelled_at IS NULL", [stamp(), firm_id, ref]) == 1


def link_by_ref(db: Store, firm_id: int, ref: str) -> Row | None:
    """One of the firm's links by its public name, whatever its state."""
    if not ref or len(ref) > 100:
        return None
    return db.one("SELECT * FROM roadmap_links WHERE firm_id = ? AND ref = ?", [firm_id, ref])


def live_link_for(db: Store, firm_id: int, client_id: int) -> Row | None:
    """The client's link that works now (when made, by whom, until when), or None."""
    row = db.one("SELECT * FROM roadmap_links WHERE firm_id = ? AND client_id = ? AND "
                 "cancelled_at IS NULL AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
                 [firm_id, client_id, stamp()])
    return row


def link_for_token(db: Store, token: str | None) -> Row | None:
    """The link of this token with its client's name, whether or not it still works; None for
    a token that was never a link."""
    if not token or len(token) > 200:
        return None
    return db.one("SELECT l.*, c.name AS client_name FROM roadmap_links l "
                  "JOIN clients c ON c.id = l.client_id AND c.firm_id = l.firm_id "
                  "WHERE l.token_hash = ?", [hash_token(token)])


def is_live(row: Row) -> bool:
    return not row["cancelled_at"] and not passed(row["expires_at"])


def find_by_token(db: Store, token: str | None) -> Row | None:
    """The link of this token if it works now (not cancelled, not expired), else None."""
    row = link_for_token(db, token)
    return row if row is not None and is_live(row) else None


def last_review_on(db: Store, firm_id: int, client_id: int) -> date | None:
    """The day (UTC) the client's latest locked review was locked, or None."""
    row = db.one("SELECT MAX(locked_at) AS locked_at FROM reviews WHERE firm_id = ? AND "
                 "client_id = ? AND status = 'locked' AND locked_at IS NOT NULL",
                 [firm_id, client_id])
    return parse(row["locked_at"]).date() if row and row["locked_at"] else None


def done_since(db: Store, firm_id: int, client_id: int, today: date) -> tuple[date, bool]:
    """From when "done since last review" counts, and whether that is a review's day (else it
    is NO_REVIEW_DAYS ago)."""
    reviewed = last_review_on(db, firm_id, client_id)
    if reviewed is not None:
        return reviewed, True
    return today - timedelta(days=NO_REVIEW_DAYS), False


def add_comment(db: Store, firm_id: int, action_id: int, *, who: str, on: date,
                status: str, text: str) -> bool:
    """A comment on an action, kept as an event that changes nothing: its from and to are the
    action's status as the commenter saw it. False, with nothing written, when the action is
    not the firm's or its status has changed meanwhile."""
    if not text or len(text) > MAX_COMMENT:
        raise ValueError("a comment of 1 to 2,000 characters")
    with db.write():
        if db.one("SELECT 1 FROM actions WHERE id = ? AND firm_id = ? AND status = ?",
                  [action_id, firm_id, status]) is None:
            return False
        db.insert("action_events", {
            "firm_id": firm_id, "action_id": action_id, "at": stamp(), "who": who,
            "on_date": on.isoformat(), "from_status": status, "to_status": status,
            "reason": text})
        return True


def comments_by(db: Store, firm_id: int, client_id: int, who: str) -> dict[int, list[Row]]:
    """The comments `who` left on the client's actions (events that changed no status), oldest
    first, by action id."""
    rows = db.rows("SELECT e.action_id, e.at, e.reason FROM action_events e "
                   "JOIN actions a ON a.id = e.action_id AND a.firm_id = e.firm_id "
                   "WHERE e.firm_id = ? AND a.client_id = ? AND e.who = ? "
                   "AND e.from_status = e.to_status AND e.reason <> '' ORDER BY e.id",
                   [firm_id, client_id, who])
    found: dict[int, list[Row]] = {}
    for row in rows:
        found.setdefault(row["action_id"], []).append(row)
    return found


def evidence_of(db: Store, firm_id: int, client_id: int) -> dict[int, list[Row]]:
    """The evidence listed for the client's actions (names and links, never the files'
    contents), oldest first, by action id."""
    rows = db.rows("SELECT v.id, v.action_id, v.kind, v.name, v.url, v.size, v.added_by, "
                   "v.created_at FROM action_evidence v "
                   "JOIN actions a ON a.id = v.action_id AND a.firm_id = v.firm_id "
                   "WHERE v.firm_id = ? AND a.client_id = ? ORDER BY v.id",
                   [firm_id, client_id])
    found: dict[int, list[Row]] = {}
    for row in rows:
        found.setdefault(row["action_id"], []).append(row)
    return found
