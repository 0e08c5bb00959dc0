"""The latest email domain check of each assessment (table email_checks), and the answers it
gives: when the outcome is known, the choice it stands for is saved as the `check` source's
answer of every question the check answers (viewpoint.py then decides which answer counts, for
every page, report and export alike); when it could not check, the check gives no answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import cast

from ..core.bank import Answer, Bank, Question
from ..core.viewpoint import CHECK, PRECEDENCE
from ..support.email_check import (
    CHECK_BY,
    DOMAIN_QUESTION,
    CheckResult,
    DomainError,
    normalise_domain,
)
from .assessments import Conflict, save_answer
from .db import Store
from .times import stamp

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class EmailCheck:
    """The latest check of an assessment's email domain."""

    domain: str
    status: str  # pending | done | failed
    result: CheckResult | None  # None while pending
    started_at: str
    checked_at: str | None

    @property
    def pending(self) -> bool:
        return self.status == PENDING


def checked_questions(bank: Bank) -> tuple[Question, ...]:
    """The questions the email domain check answers (their `check.by`)."""
    return tuple(q for q in bank.questions if q.check is not None and q.check.by == CHECK_BY)


def typed_domain(db: Store, assessment_id: str) -> str | None:
    """The email domain as the answer that counts has it (as typed), or None."""
    rows = db.rows("SELECT source, state, value FROM answers WHERE assessment_id = ? "
                   "AND question_id = ?", [assessment_id, DOMAIN_QUESTION])
    rows = [r for r in rows if r["state"] == "answered" and r["value"] is not None]
    if not rows:
        return None
    best = max(rows, key=lambda r: PRECEDENCE.get(r["source"], -1))
    value = json.loads(best["value"])
    return value if isinstance(value, str) else None


def domain_to_check(db: Store, assessment_id: str) -> str | None:
    """The domain to look up (normalised), or None when there is none or it is not a domain."""
    typed = typed_domain(db, assessment_id)
    if not typed:
        return None
    try:
        return normalise_domain(typed)
    except DomainError:
        return None


def latest(db: Store, assessment_id: str) -> EmailCheck | None:
    row = db.one("SELECT * FROM email_checks WHERE assessment_id = ?", [assessment_id])
    if row is None:
        return None
    result = CheckResult.from_data(json.loads(row["found"])) if row["found"] else None
    return EmailCheck(domain=row["domain"], status=row["status"], result=result,
                      started_at=row["started_at"], checked_at=row["checked_at"])


def _upsert(db: Store, assessment_id: str, domain: str, status: str, outcome: str | None,
            found: str | None, started_at: str, checked_at: str | None) -> None:
    db.execute(
        "INSERT INTO email_checks (assessment_id, domain, status, outcome, found, started_at, "
        "checked_at) VALUES (:id, :domain, :status, :outcome, :found, :started, :checked) "
        "ON CONFLICT (assessment_id) DO UPDATE SET domain = :domain, status = :status, "
        "outcome = :outcome, found = :found, started_at = :started, checked_at = :checked",
        {"id": assessment_id, "domain": domain, "status": status, "outcome": outcome,
         "found": found, "started": started_at, "checked": checked_at})


def mark_pending(db: Store, assessment_id: str, domain: str) -> None:
    """A check of `domain` has started: pages say "Checking <domain>…" until it ends."""
    with db.write():
        _upsert(db, assessment_id, domain, PENDING, None, None, stamp(), None)


def record(db: Store, bank: Bank, assessment_id: str, result: CheckResult) -> None:
    """Keep what the check found, and give (or take back) the check's answers."""
    with db.write():
        started = db.one("SELECT started_at FROM email_checks WHERE assessment_id = ?",
                         [assessment_id])
        checked = stamp()
        _upsert(db, assessment_id, result.domain, DONE if result.checked else FAILED,
                result.outcome, json.dumps(result.as_data()),
                started["started_at"] if started else checked, checked)
    set_answers(db, bank, assessment_id, result.outcome)


def forget(db: Store, bank: Bank, assessment_id: str) -> None:
    """No domain to check any more: no check, and no answers from it."""
    with db.write():
        db.execute("DELETE FROM email_checks WHERE assessment_id = ?", [assessment_id])
    set_answers(db, bank, assessment_id, None)


def set_answers(db: Store, bank: Bank, assessment_id: str, outcome: str | None) -> None:
    """The check's answer to each question it answers: the choice the outcome stands for, or
    none (outcome None)."""
    for q in checked_questions(bank):
        choices = cast(dict[str, str], q.check.answers if q.check else {})  # outcome -> choice
        wanted = Answer("answered", choices[outcome]) if outcome else None
        for _ in range(3):  # another save of the same answer in between: read it again
            row = db.one("SELECT state, value, version FROM answers WHERE "
                         "assessment_id = ? AND question_id = ? AND source = ?",
                         [assessment_id, q.id, CHECK])
            held = Answer(row["state"], json.loads(row["value"]) if row["value"] else None) \
                if row and row["state"] else None
            if held == wanted:
                break
            try:
                save_answer(db, assessment_id, q.id, base_version=row["version"] if row else 0,
                            answer=wanted, source=CHECK)
                break
            except Conflict:
                continue
