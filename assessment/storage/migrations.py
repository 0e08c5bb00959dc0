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
    """Apply pending migrations under the write lock, so concurrent starts apply them once.
    On PostgreSQL, their mirror in postgres_migrations.py (same names, same schema)."""
    if db.engine == "postgresql":
        from .postgres_migrations import migrate as migrate_postgresql

        return migrate_postgresql(db)
    if not migrations.pending(db):
        return []
    with write(db):
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    return pending


@migrations()
def workspace_tables(db: Database) -> None:
    # A firm is the tenant: every client, member, assessment and logo belongs to exactly one.
    db["firms"].create(
        {"id": int, "name": str, "primary_colour": str, "accent_colour": str,
         "contact_line": str, "disclaimer": str, "logo": bytes, "logo_type": str,
         "require_totp": int, "created_at": str, "updated_at": str},
        pk="id", not_null={"name", "created_at", "updated_at"},
        defaults={"require_totp": 0, "contact_line": "", "disclaimer": ""},
    )
    db["users"].create(
        {"id": int, "firm_id": int, "email": str, "name": str, "role": str,
         "password_hash": str, "totp_secret": str, "totp_enabled": int, "active": int,
         "failed_logins": int, "locked_until": str, "created_at": str, "last_login_at": str},
        pk="id", not_null={"firm_id", "email", "name", "role", "password_hash", "created_at"},
        defaults={"totp_enabled": 0, "active": 1, "failed_logins": 0},
        foreign_keys=[("firm_id", "firms", "id")],
    )
    db["users"].create_index(["email"], unique=True)
    # One row per signed-in browser: sign-out deletes it, disabling a member deletes them all,
    # so an old session cookie is refused on the server, not only forgotten by the browser.
    db["logins"].create(
        {"token_hash": str, "user_id": int, "second_factor_ok": int, "created_at": str,
         "last_seen_at": str},
        pk="token_hash", not_null={"user_id", "created_at", "last_seen_at"},
        defaults={"second_factor_ok": 0}, foreign_keys=[("user_id", "users", "id")],
    )
    db["invites"].create(
        {"token_hash": str, "firm_id": int, "role": str, "created_by": int, "created_at": str,
         "expires_at": str, "used_at": str, "used_by": int},
        pk="token_hash", not_null={"firm_id", "role", "created_by", "created_at", "expires_at"},
        foreign_keys=[("firm_id", "firms", "id"), ("created_by", "users", "id")],
    )
    db["rate_limits"].create({"key": str, "window_start": str, "count": int}, pk="key",
                             not_null={"window_start", "count"})
    db["clients"].create(
        {"id": int, "firm_id": int, "name": str, "sector": str, "size": str, "contacts": str,
         "notes": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"firm_id", "name", "created_at", "updated_at"},
        defaults={"sector": "", "size": "", "contacts": "", "notes": ""},
        foreign_keys=[("firm_id", "firms", "id")],
    )
    db["clients"].create_index(["firm_id", "name"])
    # A one-time link a firm gives an owner who assessed alone, to hand the assessment over.
    db["claim_links"].create(
        {"token_hash": str, "firm_id": int, "client_id": int, "created_by": int,
         "created_at": str, "expires_at": str, "used_at": str, "assessment_id": str},
        pk="token_hash", not_null={"firm_id", "created_by", "created_at", "expires_at"},
        foreign_keys=[("firm_id", "firms", "id"), ("client_id", "clients", "id"),
                      ("created_by", "users", "id"), ("assessment_id", "assessments", "id")],
    )
    db["assessments"].transform(add_foreign_keys=[("firm_id", "firms", "id"),
                                                  ("client_id", "clients", "id")])
    db["assessments"].add_column("title", str)
    db["assessments"].add_column("shared_at", str)  # when an owner handed it to a firm


@migrations()
def accounts_totp_counter(db: Database) -> None:
    # The last TOTP time step a member signed in with, so one code cannot be used twice.
    db["users"].add_column("totp_last_counter", int)


@migrations()
def assessments_closed_by_firm(db: Database) -> None:
    # When the firm finished the assessment: from then on its client's link only reads it, until
    # the firm reopens it (which clears this).
    db["assessments"].add_column("closed_at", str)


@migrations()
def links_that_end(db: Database) -> None:
    # Every link a firm hands out can be listed, cancelled and replaced. A client's
    # self-assessment link is the assessment's resume token: when it was made, until when it
    # opens the assessment, whether it was cancelled, and when the client first opened it.
    for column in ("link_created_at", "link_expires_at", "link_cancelled_at", "link_opened_at"):
        db["assessments"].add_column(column, str)
    # Claim links and invites get a public reference for the buttons that act on them (their
    # key is the token's hash, which stays out of pages), and a cancellation time.
    import secrets

    for table in ("claim_links", "invites"):
        db[table].add_column("ref", str)
        db[table].add_column("cancelled_at", str)
        for (token_hash,) in db.execute(f"SELECT token_hash FROM {table}").fetchall():  # nosec B608
            db.execute(f"UPDATE {table} SET ref = ? WHERE token_hash = ?",  # nosec B608
                       [secrets.token_urlsafe(9), token_hash])
        db[table].create_index(["ref"], unique=True)


@migrations()
def archive_and_delete(db: Database) -> None:
    # Archived clients and assessments leave the lists (and the trend) but keep everything;
    # deleting removes them for good. The PDFs rendered for an assessment are recorded by their
    # cache key, so that deleting it removes those files too.
    db["clients"].add_column("archived_at", str)
    db["assessments"].add_column("archived_at", str)
    db["report_renders"].create({"assessment_id": str, "key": str, "created_at": str},
                                pk=("assessment_id", "key"), not_null={"created_at"})


@migrations()
def notes_shown_to_client(db: Database) -> None:
    # A consultant's note is private to the firm unless marked to be shown to the client.
    db["answers"].add_column("note_shared", int, not_null_default=0)


@migrations()
def firm_price_list(db: Database) -> None:
    # A firm's own figures for the plan's cost bands (JSON), used in its clients' reports;
    # none: the shipped price list.
    db["firms"].add_column("price_list", str)


@migrations()
def firm_time_zone(db: Database) -> None:
    # The time zone the firm's workspace shows times in (an IANA name such as Europe/Paris);
    # none: UTC. Stored times stay UTC.
    db["firms"].add_column("time_zone", str)


SHOWN_BEFORE = ("UPDATE assessments SET link_shown_at = updated_at WHERE EXISTS "
                "(SELECT 1 FROM answers WHERE answers.assessment_id = assessments.id)")


@migrations()
def private_link_shown(db: Database) -> None:
    # When the owner was first shown "keep this link" after saving a page: shown once per
    # assessment, whichever browser they use. One already answered was shown it.
    db["assessments"].add_column("link_shown_at", str)
    db.execute(SHOWN_BEFORE)


@migrations()
def purged_renders(db: Database) -> None:
    # The cache keys of the PDFs of deleted assessments. Each web instance keeps its own report
    # cache; every instance removes the files under these keys from its own, so "deleted for
    # good" holds on every machine, not only the one that took the request.
    db["purged_renders"].create({"key": str, "purged_at": str}, pk="key",
                                not_null={"purged_at"})


@migrations()
def email_checks(db: Database) -> None:
    # The latest check from outside of each assessment's email domain (SPF, DMARC, DKIM): the
    # domain looked up, pending | done | failed, the outcome (enforced | partial | missing, none
    # when it could not be checked), what was found (JSON), when it started and ended.
    db["email_checks"].create(
        {"assessment_id": str, "domain": str, "status": str, "outcome": str, "found": str,
         "started_at": str, "checked_at": str},
        pk="assessment_id", not_null={"domain", "status", "started_at"},
        foreign_keys=[("assessment_id", "assessments", "id")],
    )


@migrations()
def handoffs(db: Database) -> None:
    # A private link an owner gives whoever runs their IT to answer one section (storage/
    # handoffs.py): only its token's hash is kept; ref names it on the owner's buttons; queries
    # holds the owner's questions about answers (JSON); answered_at when the section was sent back.
    db["handoffs"].create(
        {"token_hash": str, "ref": str, "assessment_id": str, "section_id": str,
         "recipient": str, "created_at": str, "expires_at": str, "cancelled_at": str,
         "last_used_at": str, "answered_at": str, "queries": str},
        pk="token_hash", not_null={"ref", "assessment_id", "section_id", "created_at",
                                   "expires_at"},
        defaults={"recipient": "", "queries": "{}"},
        foreign_keys=[("assessment_id", "assessments", "id")],
    )
    db["handoffs"].create_index(["ref"], unique=True)
    db["handoffs"].create_index(["assessment_id", "section_id"])
