"""A firm's clients, their assessments, claim links and copies. Every function that takes an id
also takes the firm id, and finds nothing (None or False) for another firm's object."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence

from ..core.bank import Bank
from ..support.inputs import clean_name
from ..support.tokens import hash_token, new_token
from .assessments import create_assessment, stored_answers
from .db import Row, Store
from .times import passed, stamp, stamp_in

CLIENT_FIELDS = ("name", "sector", "size", "contacts", "notes")
CLAIM_DAYS = 14
SELF_LINK_DAYS = 30  # a client's self-assessment link opens the assessment this long


def link_state(*, cancelled_at: str | None, used_at: str | None,
               expires_at: str | None) -> str:
    """active, used, expired or cancelled: what a page says about an issued link."""
    if cancelled_at:
        return "cancelled"
    if used_at:
        return "used"
    if passed(expires_at):
        return "expired"
    return "active"


def _kept(fields: dict[str, str]) -> dict[str, str]:
    """The client's details as stored: the name in composed form (NFC), so one name typed two
    ways is one name (the form refuses hidden characters before this)."""
    return {k: clean_name(v) if k == "name" else v for k, v in fields.items()}


def create_client(db: Store, firm_id: int, **fields: str) -> int:
    fields = _kept(fields)
    made = stamp()
    with db.write():
        return db.insert("clients", {"firm_id": firm_id, "created_at": made, "updated_at": made,
                                     **{k: fields.get(k, "") for k in CLIENT_FIELDS}})


def update_client(db: Store, firm_id: int, client_id: int, **fields: str) -> bool:
    changes = _kept({k: fields[k] for k in CLIENT_FIELDS if k in fields})
    with db.write():
        # Column names come from CLIENT_FIELDS, never from the caller; values are parameters.
        return db.execute(
            f"UPDATE clients SET {', '.join(f'{k} = :{k}' for k in changes)}, updated_at = :at "  # nosec B608
            "WHERE id = :id AND firm_id = :firm", {**changes, "at": stamp(), "id": client_id,
                                                   "firm": firm_id}) == 1


def get_client(db: Store, firm_id: int, client_id: int) -> Row | None:
    return db.one("SELECT * FROM clients WHERE id = ? AND firm_id = ?", [client_id, firm_id])


def list_clients(db: Store, firm_id: int, *, archived: bool | None = False) -> list[Row]:
    """Clients with their number of assessments and the date of the latest, newest first:
    those not archived (archived=False), only archived ones (True) or all (None)."""
    where = {False: " AND c.archived_at IS NULL", True: " AND c.archived_at IS NOT NULL",
             None: ""}[archived]
    return db.rows(
        "SELECT c.*, count(a.id) AS assessments, max(a.updated_at) AS last_activity "
        "FROM clients c LEFT JOIN assessments a ON a.client_id = c.id AND a.firm_id = c.firm_id "
        f"WHERE c.firm_id = ?{where} GROUP BY c.id "  # nosec B608: one of three fixed strings
        "ORDER BY coalesce(max(a.updated_at), c.updated_at) DESC",
        [firm_id])


def client_assessments(db: Store, firm_id: int, client_id: int, *,
                       archived: bool | None = None) -> list[Row]:
    """A client's assessments, oldest first: all (archived=None), those not archived (False) or
    only archived ones (True)."""
    where = {False: " AND archived_at IS NULL", True: " AND archived_at IS NOT NULL",
             None: ""}[archived]
    return db.rows(
        f"SELECT * FROM assessments WHERE firm_id = ? AND client_id = ?{where} "  # nosec B608
        "ORDER BY created_at", [firm_id, client_id])


def set_client_archived(db: Store, firm_id: int, client_id: int, archived: bool) -> bool:
    with db.write():
        return db.execute("UPDATE clients SET archived_at = ? WHERE id = ? AND firm_id = ?",
                          [stamp() if archived else None, client_id, firm_id]) == 1


def set_assessment_archived(db: Store, firm_id: int, assessment_id: str,
                            archived: bool) -> bool:
    with db.write():
        return db.execute("UPDATE assessments SET archived_at = ? WHERE id = ? AND firm_id = ?",
                          [stamp() if archived else None, assessment_id, firm_id]) == 1


def remember_render(db: Store, assessment_id: str, key: str) -> None:
    """Record that a PDF of this assessment is cached under this key (deleting removes it)."""
    with db.write():
        db.execute("INSERT INTO report_renders (assessment_id, key, created_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (assessment_id, key) DO NOTHING", [assessment_id, key, stamp()])


def _delete_assessments(db: Store, ids: list[str], also: Sequence[str] = ()) -> list[str]:
    """Inside a write: remove these assessments with their answers, links and render records,
    and mark the cache keys of their rendered PDFs (and `also`: the keys they have now) as
    purged, so that every instance removes those files; returns the keys, for the caller to
    remove from its own cache once committed."""
    keys: list[str] = list(also)
    for assessment_id in ids:
        keys += [row["key"] for row in db.rows(
            "SELECT key FROM report_renders WHERE assessment_id = ?", [assessment_id])]
        db.execute("UPDATE assessments SET copied_from = NULL WHERE copied_from = ?",
                   [assessment_id])
        for table in ("report_renders", "answer_writes", "answers", "claim_links",
                      "email_checks", "handoffs"):
            db.execute(f"DELETE FROM {table} WHERE assessment_id = ?",  # nosec B608
                       [assessment_id])
        db.execute("DELETE FROM assessments WHERE id = ?", [assessment_id])
    purged = stamp()
    for key in sorted(set(keys)):
        db.execute("INSERT INTO purged_renders (key, purged_at) VALUES (?, ?) "
                   "ON CONFLICT (key) DO UPDATE SET purged_at = excluded.purged_at",
                   [key, purged])
    return keys


def purged_since(db: Store, since: str | None) -> tuple[list[str], str | None]:
    """The cache keys purged after `since` (all of them for None), and the latest time seen."""
    rows = db.rows("SELECT key, purged_at FROM purged_renders"
                   + (" WHERE purged_at > ?" if since else "") + " ORDER BY purged_at",
                   [since] if since else [])
    return [row["key"] for row in rows], (rows[-1]["purged_at"] if rows else since)


def delete_assessment(db: Store, firm_id: int, assessment_id: str,
                      keys: Sequence[str] = ()) -> list[str] | None:
    """Delete one of the firm's assessments for good. Returns the cache keys of its rendered
    PDFs (with `keys`, those its reports have now), all marked purged, or None (and nothing
    changed) when it is not the firm's."""
    with db.write():
        if firm_assessment(db, firm_id, assessment_id) is None:
            return None
        return _delete_assessments(db, [assessment_id], keys)


def delete_client(db: Store, firm_id: int, client_id: int,
                  keys: Sequence[str] = ()) -> list[str] | None:
    """Delete one of the firm's clients for good, with every assessment, answer, note and link
    of it. Returns the cache keys of the PDFs rendered for it, or None when it is not the
    firm's."""
    with db.write():
        if get_client(db, firm_id, client_id) is None:
            return None
        ids = [a["id"] for a in client_assessments(db, firm_id, client_id)]
        purged = _delete_assessments(db, ids, keys)
        db.execute("DELETE FROM claim_links WHERE client_id = ? AND firm_id = ?",
                   [client_id, firm_id])
        # The client's roadmap goes with it: evidence and events first (they name its actions).
        mine = "SELECT id FROM actions WHERE client_id = ? AND firm_id = ?"
        for table in ("action_evidence", "action_events"):
            db.execute(f"DELETE FROM {table} WHERE action_id IN ({mine})",  # nosec B608
                       [client_id, firm_id])
        for table in ("actions", "reviews", "roadmap_links"):
            db.execute(f"DELETE FROM {table} WHERE client_id = ? AND firm_id = ?",  # nosec B608
                       [client_id, firm_id])
        db.execute("DELETE FROM clients WHERE id = ? AND firm_id = ?", [client_id, firm_id])
        return purged


def firm_assessment(db: Store, firm_id: int, assessment_id: str) -> Row | None:
    return db.one("SELECT * FROM assessments WHERE id = ? AND firm_id = ?",
                  [assessment_id, firm_id])


def start_client_assessment(db: Store, bank: Bank, firm_id: int, client_id: int, *,
                            mode: str, created_by: int, resume_token_hash: str | None = None,
                            copy_from: str | None = None,
                            fresh: Collection[str] = ()) -> str:
    """A new assessment for a client: an interview, or a self-assessment link for the client.
    With copy_from, the effective answers and notes of that (same firm's) assessment are
    copied and marked to be re-confirmed, except the `fresh` questions (a promise's: asked
    again, never pre-filled)."""
    with db.write():
        assessment_id = create_assessment(db, bank, mode=mode, firm_id=firm_id,
                                          client_id=client_id, created_by=created_by,
                                          copied_from=copy_from,
                                          resume_token_hash=resume_token_hash)
        if resume_token_hash is not None:
            db.execute("UPDATE assessments SET link_created_at = ?, link_expires_at = ? "
                       "WHERE id = ?", [stamp(), stamp_in(days=SELF_LINK_DAYS), assessment_id])
        if copy_from is not None:
            copied = stamp()
            # The answer that counted (viewpoint.SOURCES decides whose), with its note, to be
            # re-confirmed; scores are never copied.
            for qid, stored in stored_answers(db, copy_from).items():
                if qid in fresh:
                    continue
                db.execute(
                    "INSERT INTO answers (assessment_id, question_id, source, state, value, "
                    "note, verified, reconfirm, answered_by, version, updated_at) "
                    "SELECT ?, question_id, 'consultant', state, value, note, 0, 1, NULL, 1, ? "
                    "FROM answers WHERE assessment_id = ? AND question_id = ? AND source = ?",
                    [assessment_id, copied, copy_from, qid, stored.source])
    return assessment_id


def close_assessment(db: Store, firm_id: int, assessment_id: str) -> bool:
    """The firm finishes an assessment: finished, and read-only to its client until reopened."""
    closed = stamp()
    with db.write():
        return db.execute(
            "UPDATE assessments SET status = 'finished', finished_at = ?, closed_at = ?, "
            "updated_at = ? WHERE id = ? AND firm_id = ?",
            [closed, closed, closed, assessment_id, firm_id]) == 1


def reopen_assessment(db: Store, firm_id: int, assessment_id: str) -> bool:
    """In progress again, and open to changes through its client's link."""
    with db.write():
        return db.execute(
            "UPDATE assessments SET status = 'in_progress', finished_at = NULL, closed_at = NULL, "
            "updated_at = ? WHERE id = ? AND firm_id = ?",
            [stamp(), assessment_id, firm_id]) == 1


_SELF_LINK = ("id = ? AND firm_id = ? AND mode = 'self' AND shared_at IS NULL AND "
              "resume_token_hash IS NOT NULL")


def cancel_self_link(db: Store, firm_id: int, assessment_id: str) -> bool:
    """The client's link stops opening the assessment, also in a browser that has it open."""
    with db.write():
        return db.execute(f"UPDATE assessments SET link_cancelled_at = ? WHERE {_SELF_LINK} "  # nosec B608
                          "AND link_cancelled_at IS NULL",
                          [stamp(), assessment_id, firm_id]) == 1


def replace_self_link(db: Store, firm_id: int, assessment_id: str, token_hash: str) -> bool:
    """A new link for the same assessment (answers kept); the old one stops working."""
    with db.write():
        return db.execute(
            f"UPDATE assessments SET resume_token_hash = ?, link_created_at = ?, "  # nosec B608
            f"link_expires_at = ?, link_cancelled_at = NULL, link_opened_at = NULL "
            f"WHERE {_SELF_LINK}",
            [token_hash, stamp(), stamp_in(days=SELF_LINK_DAYS), assessment_id, firm_id]) == 1


def self_link_opened(db: Store, assessment_id: str) -> None:
    """Note when a client first opened their link (shown on the client's page)."""
    with db.write():
        db.execute("UPDATE assessments SET link_opened_at = ? WHERE id = ? AND "
                   "link_created_at IS NOT NULL AND link_opened_at IS NULL",
                   [stamp(), assessment_id])


def private_link_shown(db: Store, assessment_id: str) -> bool:
    """Record that the owner was shown "keep this link"; True only the first time, so it is
    shown once per assessment in whichever browser they use."""
    with db.write():
        return db.execute("UPDATE assessments SET link_shown_at = ? WHERE id = ? AND "
                          "link_shown_at IS NULL", [stamp(), assessment_id]) == 1


def self_link_refusal(assessment: Row) -> str | None:
    """Why a firm's self-assessment link no longer opens its assessment ("cancelled" or
    "expired"), or None when it does (an owner's own private link never ends)."""
    if assessment.get("link_cancelled_at"):
        return "cancelled"
    if passed(assessment.get("link_expires_at")):
        return "expired"
    return None


def self_link_state(a: Row) -> str:
    """As link_state, and "finished" for a link that still opens an assessment the firm has
    finished: the client can only view it."""
    state = link_state(cancelled_at=a["link_cancelled_at"], used_at=None,
                       expires_at=a["link_expires_at"])
    return "finished" if state == "active" and a["closed_at"] else state


def client_links(db: Store, firm_id: int, client_id: int) -> list[Row]:
    """Every link issued for this client, newest first: self-assessment links (one per
    self-assessment) and links for the owner to share their own assessment, with their state."""
    rows = []
    for a in db.rows(
            "SELECT a.id, a.created_at, a.link_created_at, a.link_expires_at, "
            "a.link_cancelled_at, a.link_opened_at, a.closed_at, u.name AS created_by "
            "FROM assessments a LEFT JOIN users u ON u.id = a.created_by "
            "WHERE a.firm_id = ? AND a.client_id = ? AND a.mode = 'self' AND "
            "a.shared_at IS NULL AND a.resume_token_hash IS NOT NULL", [firm_id, client_id]):
        rows.append({"kind": "self", "ref": a["id"], "created_at": a["link_created_at"]
                     or a["created_at"], "expires_at": a["link_expires_at"],
                     "created_by": a["created_by"], "opened_at": a["link_opened_at"],
                     "assessment_id": a["id"], "assessment_started": a["created_at"],
                     "state": self_link_state(a)})
    rows += claim_links(db, firm_id, client_id)
    return sorted(rows, key=lambda r: r["created_at"], reverse=True)


def claim_links(db: Store, firm_id: int, client_id: int | None) -> list[Row]:
    """The claim links made for this client (None: those for a new client), with their state."""
    where = "l.client_id = ?" if client_id is not None else "l.client_id IS NULL"
    params = [firm_id] + ([client_id] if client_id is not None else [])
    return [{"kind": "claim", "ref": r["ref"], "created_at": r["created_at"],
             "expires_at": r["expires_at"], "created_by": r["created_by"],
             "used_at": r["used_at"], "assessment_id": r["assessment_id"],
             "state": link_state(cancelled_at=r["cancelled_at"], used_at=r["used_at"],
                                 expires_at=r["expires_at"])}
            for r in db.rows(
                "SELECT l.ref, l.created_at, l.expires_at, l.used_at, l.cancelled_at, "
                "l.assessment_id, u.name AS created_by FROM claim_links l LEFT JOIN users u ON "
                f"u.id = l.created_by WHERE l.firm_id = ? AND {where} "  # nosec B608
                "ORDER BY l.created_at DESC", params)]


def claim_link_by_ref(db: Store, firm_id: int, ref: str) -> Row | None:
    return db.one("SELECT * FROM claim_links WHERE firm_id = ? AND ref = ?", [firm_id, ref])


def cancel_claim_link(db: Store, firm_id: int, ref: str) -> bool:
    with db.write():
        return db.execute("UPDATE claim_links SET cancelled_at = ? WHERE firm_id = ? AND ref = ? "
                          "AND used_at IS NULL AND cancelled_at IS NULL",
                          [stamp(), firm_id, ref]) == 1


def create_claim_link(db: Store, firm_id: int, created_by: int,
                      client_id: int | None = None) -> str:
    """A one-time link an owner opens to hand their own assessment to this firm."""
    if client_id is not None and get_client(db, firm_id, client_id) is None:
        raise LookupError("no such client in this firm")
    token = new_token()
    with db.write():
        db.execute("INSERT INTO claim_links (token_hash, firm_id, client_id, created_by, "
                   "created_at, expires_at, ref) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [hash_token(token), firm_id, client_id, created_by, stamp(),
                    stamp_in(days=CLAIM_DAYS), secrets.token_urlsafe(9)])
    return token


def open_claim_link(db: Store, token: str) -> Row | None:
    """The unused, unexpired claim link with its firm's name, or None."""
    row = db.one("SELECT l.*, f.name AS firm_name, c.name AS client_name FROM claim_links l "
                 "JOIN firms f ON f.id = l.firm_id LEFT JOIN clients c ON c.id = l.client_id "
                 "WHERE l.token_hash = ?", [hash_token(token or "")])
    if row is None or row["used_at"] or row["cancelled_at"] or passed(row["expires_at"]):
        return None
    return row


def claim(db: Store, token: str, assessment_id: str, new_client_name: str) -> int | None:
    """Attach an owner's unshared assessment to the link's firm, once. Returns the client id,
    or None when the link or the assessment cannot be used (nothing is changed then)."""
    with db.write():
        db.lock("claims")  # a link is used once, an assessment claimed once, on any engine
        link = open_claim_link(db, token)
        assessment = db.one("SELECT * FROM assessments WHERE id = ?", [assessment_id])
        if link is None or assessment is None or assessment["firm_id"] is not None:
            return None
        client_id = link["client_id"]
        if client_id is None:
            client_id = create_client(db, link["firm_id"], name=new_client_name)
        shared = stamp()
        db.execute("UPDATE assessments SET firm_id = ?, client_id = ?, shared_at = ?, "
                   "updated_at = ? WHERE id = ? AND firm_id IS NULL",
                   [link["firm_id"], client_id, shared, shared, assessment_id])
        db.execute("UPDATE claim_links SET used_at = ?, assessment_id = ? WHERE token_hash = ?",
                   [shared, assessment_id, link["token_hash"]])
    return client_id
