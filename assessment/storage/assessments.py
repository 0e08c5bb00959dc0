"""Assessments and their answers: one function per operation, each taking the database.

Saving an answer is one small write transaction that returns the new version. A write names the
version it was based on; if the stored answer has moved on since, it is refused with the current
answer (the caller tells the user, nothing is overwritten). A write carrying a client key that
was already applied changes nothing and returns the same version. A save first touches its
assessment's row, which on PostgreSQL holds every other save of that assessment until it commits:
the version it then reads is the latest, as on SQLite, where writers take turns.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from ..core.bank import Answer, Bank, bank_from_snapshot
from ..core.viewpoint import (
    FIRM,
    PRECEDENCE,
    SOURCES,
    AssessmentView,
    Record,
    counting,
    for_viewer,
    view,
)
from .db import Row, Store
from .times import stamp

KEEP: Any = object()  # "leave this field as it is" in save_answer
ANSWER_COLUMNS = ("assessment_id", "question_id", "source", "state", "value", "note", "verified",
                  "reconfirm", "answered_by", "version", "updated_at", "note_shared")


class NotFound(LookupError):
    """No such assessment (or not one the caller may see)."""


class Conflict(Exception):
    """The answer changed since the writer last saw it."""

    def __init__(self, current: StoredAnswer | None):
        self.current = current
        super().__init__("the answer was changed elsewhere since this page was loaded")


@dataclass(frozen=True)
class StoredAnswer:
    question_id: str
    source: str
    answer: Answer | None
    note: str
    verified: bool
    reconfirm: bool
    answered_by: int | None
    version: int
    updated_at: str
    note_shared: bool = False  # a consultant's note marked to be shown to the client


@dataclass(frozen=True)
class Saved:
    version: int
    replayed: bool  # True when the client key had been applied before


def new_id() -> str:
    """A new assessment id. Never one starting with "-": a command line would read it as an
    option (`flask assess export -x...` failed about once in 64 ids)."""
    while True:
        ident = secrets.token_urlsafe(12)
        if not ident.startswith("-"):
            return ident


def remember_bank(db: Store, bank: Bank) -> None:
    if db.one("SELECT 1 FROM banks WHERE hash = ?", [bank.hash]) is None:
        db.execute("INSERT INTO banks (hash, bank_id, version, snapshot, created_at) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                   [bank.hash, bank.id, bank.version, bank.snapshot, stamp()])


def create_assessment(db: Store, bank: Bank, *, mode: str = "self",
                      firm_id: int | None = None, client_id: int | None = None,
                      created_by: int | None = None, copied_from: str | None = None,
                      resume_token_hash: str | None = None) -> str:
    assessment_id = new_id()
    made = stamp()
    with db.write():
        remember_bank(db, bank)
        db.execute("INSERT INTO assessments (id, bank_hash, status, mode, firm_id, client_id, "
                   "created_by, copied_from, resume_token_hash, created_at, updated_at) "
                   "VALUES (?, ?, 'in_progress', ?, ?, ?, ?, ?, ?, ?, ?)",
                   [assessment_id, bank.hash, mode, firm_id, client_id, created_by, copied_from,
                    resume_token_hash, made, made])
    return assessment_id


def get_assessment(db: Store, assessment_id: str) -> Row:
    row = db.one("SELECT * FROM assessments WHERE id = ?", [assessment_id])
    if row is None:
        raise NotFound(assessment_id)
    return row


def find_by_resume_hash(db: Store, token_hash: str) -> Row | None:
    return db.one("SELECT * FROM assessments WHERE resume_token_hash = ?", [token_hash])


def replace_resume_link(db: Store, assessment_id: str, old_hash: str, new_hash: str) -> bool:
    """An owner's new private link in place of the old one (named by its hash, so that of two
    browsers replacing it at once only one succeeds). Never a firm's self-assessment link: the
    firm replaces that one (clients.replace_self_link). False when nothing was changed."""
    with db.write():
        return db.execute("UPDATE assessments SET resume_token_hash = ? WHERE id = ? AND "
                          "resume_token_hash = ? AND link_created_at IS NULL",
                          [new_hash, assessment_id, old_hash]) == 1


_BANKS: dict[str, Bank] = {}


def bank_of(db: Store, assessment: Row) -> Bank:
    """The bank this assessment was answered against, whatever questions/ says today. Banks
    are immutable and named by their hash, so each is rebuilt from its snapshot only once."""
    bank_hash = assessment["bank_hash"]
    bank = _BANKS.get(bank_hash)
    if bank is None:
        row = db.one("SELECT snapshot FROM banks WHERE hash = ?", [bank_hash])
        if row is None:
            raise LookupError(f"no bank {bank_hash} is stored")
        bank = bank_from_snapshot(row["snapshot"])
        if len(_BANKS) > 16:
            _BANKS.clear()
        _BANKS[bank_hash] = bank
    return bank


def _to_stored(row: Row) -> StoredAnswer:
    answer = None
    if row["state"] is not None:
        value = json.loads(row["value"]) if row["value"] is not None else None
        answer = Answer(row["state"], tuple(value) if isinstance(value, list) else value)
    return StoredAnswer(row["question_id"], row["source"], answer, row["note"] or "",
                        bool(row["verified"]), bool(row["reconfirm"]), row["answered_by"],
                        row["version"], row["updated_at"], bool(row.get("note_shared")))


def _row(db: Store, assessment_id: str, question_id: str, source: str) -> Row | None:
    return db.one("SELECT * FROM answers WHERE assessment_id = ? AND question_id = ? AND "
                  "source = ?", [assessment_id, question_id, source])


def save_answer(db: Store, assessment_id: str, question_id: str, *, base_version: int,
                answer: Answer | None = KEEP, note: str = KEEP, verified: bool = KEEP,
                source: str = "owner", client_key: str | None = None,
                answered_by: int | None = None, note_shared: bool = KEEP) -> Saved:
    """Store one answer (and/or its note and verified flag); returns the new version.

    base_version is the version the writer last saw (0 for a question never saved). Raises
    Conflict when the stored version differs, NotFound when the assessment does not exist.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")

    def applied_before(db: Store) -> Saved | None:
        done = db.one("SELECT version, assessment_id, question_id FROM answer_writes "
                      "WHERE client_key = ?", [client_key])
        if done is None:
            return None
        if (done["assessment_id"], done["question_id"]) != (assessment_id, question_id):
            raise ValueError("this client key was used for another answer")
        return Saved(done["version"], replayed=True)

    # Run by whichever thread commits the batch this save joins (storage.db.write_together).
    def save(db: Store) -> Saved:
        if client_key is not None and (saved := applied_before(db)):
            return saved
        saved_at = stamp()
        # First, so a missing assessment is told apart; undone with the job if the save fails.
        # It also locks the assessment's row until the commit (see the top of this module).
        if db.execute("UPDATE assessments SET updated_at = ? WHERE id = ?",
                      [saved_at, assessment_id]) == 0:
            raise NotFound(assessment_id)
        row = _row(db, assessment_id, question_id, source)
        current = row["version"] if row else 0
        if current != base_version:
            # On PostgreSQL the same request, sent again, may have committed while this one
            # waited for the row: that is a replay, not a conflict.
            if client_key is not None and (saved := applied_before(db)):
                raise _Replayed(saved)
            raise Conflict(_to_stored(row) if row else None)
        new = dict(row) if row else {
            "assessment_id": assessment_id, "question_id": question_id, "source": source,
            "state": None, "value": None, "note": "", "verified": 0, "reconfirm": 0,
            "note_shared": 0,
        }
        if answer is not KEEP:
            new["state"] = answer.state if answer else None
            new["value"] = json.dumps(answer.value) if answer and answer.value is not None \
                else None
            new["reconfirm"] = 0
        if note is not KEEP:
            new["note"] = note
        if verified is not KEEP:
            new["verified"] = int(bool(verified))
        if note_shared is not KEEP:
            new["note_shared"] = int(bool(note_shared))
        new.update(version=current + 1, updated_at=saved_at, answered_by=answered_by)
        db.execute(
            "INSERT INTO answers (assessment_id, question_id, source, state, value, note, "
            "verified, reconfirm, answered_by, version, updated_at, note_shared) "
            "VALUES (:assessment_id, :question_id, :source, :state, :value, :note, :verified, "
            ":reconfirm, :answered_by, :version, :updated_at, :note_shared) "
            "ON CONFLICT (assessment_id, question_id, source) DO UPDATE SET state = :state, "
            "value = :value, note = :note, verified = :verified, reconfirm = :reconfirm, "
            "answered_by = :answered_by, version = :version, updated_at = :updated_at, "
            "note_shared = :note_shared",
            {key: new[key] for key in ANSWER_COLUMNS})
        if client_key is not None:
            db.execute("INSERT INTO answer_writes (client_key, assessment_id, question_id, "
                       "version, created_at) VALUES (?, ?, ?, ?, ?)",
                       [client_key, assessment_id, question_id, current + 1, saved_at])
        return Saved(current + 1, replayed=False)

    try:
        return db.write_together(save)
    except _Replayed as replayed:  # its job's changes were undone
        return replayed.saved


class _Replayed(Exception):
    def __init__(self, saved: Saved):
        self.saved = saved


def stored_answers(db: Store, assessment_id: str,
                   source: str | None = None) -> dict[str, StoredAnswer]:
    """Answers by question id: one source's, or without a source the answer that counts (the
    best-placed source's, viewpoint.SOURCES)."""
    rows = db.rows("SELECT * FROM answers WHERE assessment_id = ?", [assessment_id])
    # Best-placed source first: a later row replaces it only where it holds no answer.
    rows = sorted(rows, key=lambda row: -PRECEDENCE[row["source"]])
    out: dict[str, StoredAnswer] = {}
    for row in rows:
        if source is not None and row["source"] != source:
            continue
        stored = _to_stored(row)
        if source is None and row["question_id"] in out and out[row["question_id"]].answer:
            continue
        out[row["question_id"]] = stored
    return out


def answers_for_scoring(db: Store, assessment_id: str) -> dict[str, Answer]:
    return {qid: s.answer for qid, s in stored_answers(db, assessment_id).items() if s.answer}


def set_status(db: Store, assessment_id: str, status: str) -> None:
    changed = stamp()
    with db.write():
        if db.execute(
                "UPDATE assessments SET status = ?, updated_at = ?, finished_at = ? WHERE id = ?",
                [status, changed, changed if status == "finished" else None, assessment_id]) == 0:
            raise NotFound(assessment_id)


def records_of(db: Store, assessment_id: str) -> list[Record]:
    """Every source's answer, note and marks, as viewpoint.view takes them."""
    rows = db.rows("SELECT * FROM answers WHERE assessment_id = ? "
                   "ORDER BY question_id, source", [assessment_id])
    return [Record(s.question_id, s.source, s.answer, s.note, s.verified, s.note_shared)
            for s in map(_to_stored, rows)]


def assessment_view(db: Store, assessment: Row, viewer: str) -> AssessmentView:
    """What the assessment says to this viewer (viewpoint.py decides; this reads what it needs)."""
    return view(bank_of(db, assessment), records_of(db, assessment["id"]), viewer=viewer,
                firm_involved=assessment["firm_id"] is not None,
                finished=assessment["status"] == "finished")


def export_assessment(db: Store, assessment_id: str, viewer: str = FIRM) -> dict:
    """An assessment with its answers as plain JSON data: the answers file format (the answers
    that count) plus every record this viewer may hold, notes and their sharing included, so a
    report rendered from it (`flask report render`) is the one the web gives."""
    assessment = get_assessment(db, assessment_id)
    bank = bank_of(db, assessment)
    records = for_viewer(records_of(db, assessment_id), viewer)
    versions = {(s.question_id, s.source): (s.version, s.updated_at)
                for s in map(_to_stored, db.rows(
                    "SELECT * FROM answers WHERE assessment_id = ?", [assessment_id]))}
    return {
        "bank": bank.id,
        "bank_version": bank.version,
        "bank_hash": bank.hash,
        "assessment": {k: assessment[k] for k in ("id", "status", "mode", "created_at",
                                                  "updated_at", "finished_at")}
        | {"firm": assessment["firm_id"] is not None},
        "answers": {qid: _raw(r.answer) for qid, r in counting(records).items()
                    if r.answer is not None},  # counting() holds answered records only
        "records": [
            {"question_id": r.question_id, "source": r.source,
             "answer": _raw(r.answer) if r.answer else None, "note": r.note,
             "note_shared": r.note_shared, "verified": r.verified,
             "version": versions[r.question_id, r.source][0],
             "updated_at": versions[r.question_id, r.source][1]}
            for r in sorted(records, key=lambda r: (r.source != "owner", r.question_id))
        ],
    }


def _raw(answer: Answer) -> Any:
    if answer.state != "answered":
        return {"state": answer.state}
    return list(answer.value) if isinstance(answer.value, tuple) else answer.value
