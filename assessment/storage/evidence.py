"""Evidence that a roadmap action is done: links, and files kept in the database (every app
server has them; nothing is under the static folder). Every function takes the firm id and
finds nothing of another firm's. support/evidence_files.py decides what a file may be."""

from __future__ import annotations

import hashlib

from .db import Row, Store
from .times import stamp

_LISTED = "id, action_id, kind, name, url, content_type, size, sha256, added_by, created_at"


def _action_is_firms(db: Store, firm_id: int, action_id: int) -> bool:
    return db.one("SELECT 1 FROM actions WHERE id = ? AND firm_id = ?",
                  [action_id, firm_id]) is not None


def add_link(db: Store, firm_id: int, action_id: int, *, name: str, url: str,
             added_by: str) -> int | None:
    """A link kept as evidence; its id, or None when the action is not the firm's."""
    with db.write():
        if not _action_is_firms(db, firm_id, action_id):
            return None
        return db.insert("action_evidence", {
            "firm_id": firm_id, "action_id": action_id, "kind": "link", "name": name,
            "url": url, "added_by": added_by, "created_at": stamp()})


def add_file(db: Store, firm_id: int, action_id: int, *, name: str, content_type: str,
             body: bytes, added_by: str) -> int | None:
    """A file kept as evidence (checked by support.evidence_files first); its id, or None
    when the action is not the firm's."""
    with db.write():
        if not _action_is_firms(db, firm_id, action_id):
            return None
        return db.insert("action_evidence", {
            "firm_id": firm_id, "action_id": action_id, "kind": "file", "name": name,
            "content_type": content_type, "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(), "body": body, "added_by": added_by,
            "created_at": stamp()})


def action_evidence(db: Store, firm_id: int, action_id: int) -> list[Row]:
    """The action's evidence, oldest first, without the files' contents."""
    return db.rows(f"SELECT {_LISTED} FROM action_evidence "  # nosec B608 (a constant)
                   "WHERE action_id = ? AND firm_id = ? ORDER BY id", [action_id, firm_id])


def evidence_file(db: Store, firm_id: int, evidence_id: int) -> Row | None:
    """One file of evidence with its contents, or None (not the firm's, or a link)."""
    return db.one("SELECT * FROM action_evidence WHERE id = ? AND firm_id = ? "
                  "AND kind = 'file'", [evidence_id, firm_id])
