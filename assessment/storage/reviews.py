"""Quarterly reviews (QBR) of a client: a draft while it is prepared, then locked for good with
the snapshot of what it said (core.review's JSON) and its PDF. Every function takes the firm id
and finds or changes nothing of another firm's. Every change is made only `WHERE status =
'draft'`, in the statement itself, so a locked review is never changed again by anything here,
and of two people locking one review at once only the first wins."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date

from ..core.actions import Event, Status
from .db import Row, Store
from .times import stamp

DRAFT = "draft"
LOCKED = "locked"
# What lists and pages need; the PDF is read only to be served.
_LISTED = ("id, client_id, period_start, period_end, headline, notes, next_review, status, "
           "created_by, created_at, updated_at, locked_at, locked_by, pdf_sha256")


def create_review(db: Store, firm_id: int, client_id: int, period_start: date,
                  period_end: date, created_by: int) -> int:
    """A new draft review of one of the firm's clients; its id. ValueError when the client is
    not the firm's."""
    with db.write():
        if db.one("SELECT 1 FROM clients WHERE id = ? AND firm_id = ?",
                  [client_id, firm_id]) is None:
            raise ValueError("no such client in this firm")
        moment = stamp()
        return db.insert("reviews", {
            "firm_id": firm_id, "client_id": client_id,
            "period_start": period_start.isoformat(), "period_end": period_end.isoformat(),
            "headline": "", "notes": "", "status": DRAFT, "created_by": created_by,
            "created_at": moment, "updated_at": moment})


def get_review(db: Store, firm_id: int, review_id: int) -> Row | None:
    """One of the firm's reviews with its snapshot (None while a draft), without the PDF."""
    return db.one(f"SELECT {_LISTED}, snapshot FROM reviews "  # nosec B608 (a constant)
                  "WHERE id = ? AND firm_id = ?", [review_id, firm_id])


def client_reviews(db: Store, firm_id: int, client_id: int) -> list[Row]:
    """The client's reviews, the latest period first."""
    return db.rows(f"SELECT {_LISTED} FROM reviews "  # nosec B608 (a constant)
                   "WHERE firm_id = ? AND client_id = ? "
                   "ORDER BY period_end DESC, id DESC", [firm_id, client_id])


def update_draft(db: Store, firm_id: int, review_id: int, *, headline: str, notes: str,
                 next_review: date | None) -> bool:
    """Save a draft's headline (empty: the drafted one), notes and next review date. False,
    with nothing changed, when the review is locked or not the firm's."""
    with db.write():
        return db.execute(
            "UPDATE reviews SET headline = ?, notes = ?, next_review = ?, updated_at = ? "
            "WHERE id = ? AND firm_id = ? AND status = ?",
            [headline, notes, next_review.isoformat() if next_review else None, stamp(),
             review_id, firm_id, DRAFT]) == 1


def lock_review(db: Store, firm_id: int, review_id: int, snapshot_json: str, pdf_bytes: bytes,
                locked_by: str) -> bool:
    """Lock a draft for good with its snapshot and PDF. False, with nothing changed, when it is
    locked already (the first lock stands) or not the firm's."""
    moment = stamp()
    with db.write():
        return db.execute(
            "UPDATE reviews SET status = ?, snapshot = ?, pdf = ?, pdf_sha256 = ?, "
            "locked_at = ?, locked_by = ?, updated_at = ? "
            "WHERE id = ? AND firm_id = ? AND status = ?",
            [LOCKED, snapshot_json, pdf_bytes, hashlib.sha256(pdf_bytes).hexdigest(), moment,
             locked_by, moment, review_id, firm_id, DRAFT]) == 1


def review_pdf(db: Store, firm_id: int, review_id: int) -> bytes | None:
    """The PDF a locked review keeps, exactly as it was stored; None for a draft or another
    firm's."""
    row = db.one("SELECT pdf FROM reviews WHERE id = ? AND firm_id = ? AND status = ?",
                 [review_id, firm_id, LOCKED])
    if row is None or row["pdf"] is None:
        return None
    return bytes(row["pdf"])


def period_events(db: Store, firm_id: int, client_id: int, start: date, end: date
                  ) -> dict[int, list[Event]]:
    """The events of the client's actions from `start` to `end` (days, both included), by
    action id, oldest first: what a review reads new findings, regressions and closings from."""
    rows = db.rows(
        "SELECT e.action_id, e.who, e.on_date, e.from_status, e.to_status, e.reason, "
        "e.assessment_id FROM action_events e "
        "JOIN actions a ON a.id = e.action_id AND a.firm_id = e.firm_id "
        "WHERE e.firm_id = ? AND a.client_id = ? AND e.on_date >= ? AND e.on_date <= ? "
        "ORDER BY e.action_id, e.id",
        [firm_id, client_id, start.isoformat(), end.isoformat()])
    found: dict[int, list[Event]] = defaultdict(list)
    for row in rows:
        found[int(row["action_id"])].append(Event(
            who=row["who"], on=date.fromisoformat(row["on_date"]),
            from_status=Status(row["from_status"]) if row["from_status"] else None,
            to_status=Status(row["to_status"]), reason=row["reason"] or "",
            assessment=row["assessment_id"]))
    return dict(found)
