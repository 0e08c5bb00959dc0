"""Schema changes, in order. Add a new function at the end; never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from .db import write

migrations = Migrations("it_health")


@migrations()
def core_tables(db: Database) -> None:
    # Each bank an assessment was answered against, kept whole so old results never change.
    db["banks"].create(
        {"hash": str, "bank_id": str, "version": str, "snapshot": str, "created_at": str},
        pk="hash", not_null={"bank_id", "version", "snapshot", "created_at"},
    )
    db["assessments"].create(
        {
            "id": str,
            "bank_hash": str,
            "status": str,  # in_progress | finished
            "mode": str,  # self | interview
            "resume_token_hash": str,
            "firm_id": int,
            "client_id": int,
            "created_by": int,
            "copied_from": str,
            "created_at": str,
            "updated_at": str,
            "finished_at": str,
        },
        pk="id",
        not_null={"bank_hash", "status", "mode", "created_at", "updated_at"},
        foreign_keys=[("bank_hash", "banks", "hash"), ("copied_from", "assessments", "id")],
        defaults={"status": "in_progress", "mode": "self"},
    )
    db["assessments"].create_index(["resume_token_hash"], unique=True)
    db["assessments"].create_index(["firm_id", "client_id"])
    # One row per question per source (owner or consultant): the owner's answer stays on record
    # beside the consultant's. Scores are never stored: the value is a choice id or a number.
    db["answers"].create(
        {
            "assessment_id": str,
            "question_id": str,
            "source": str,  # owner | consultant
            "state": str,  # answered | not_sure | na, or NULL for a note without an answer
            "value": str,  # JSON
            "note": str,
            "verified": int,
            "reconfirm": int,  # copied from an earlier assessment, not confirmed yet
            "answered_by": int,
            "version": int,
            "updated_at": str,
        },
        pk=("assessment_id", "question_id", "source"),
        not_null={"version", "updated_at", "verified", "reconfirm"},
        defaults={"verified": 0, "reconfirm": 0, "note": ""},
        foreign_keys=[("assessment_id", "assessments", "id")],
    )
    # Client keys of answer writes already applied, so a replayed request changes nothing.
    db["answer_writes"].create(
        {"client_key": str, "assessment_id": str, "question_id": str, "version": int,
         "created_at": str},
        pk="client_key",
        foreign_keys=[("assessment_id", "assessments", "id")],
    )


def migrate(db: Database) -> list[str]:
    """Apply pending migrations under the write lock, so concurrent starts apply them once."""
    if not migrations.pending(db):
        return []
    with write(db):
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    return pending
