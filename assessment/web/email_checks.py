"""Running the email domain check off the request path, and what pages say about it.

When the email domain is saved (the owner's wizard or the consultant's interview), `start` marks
a check as pending and hands it to a daemon thread with its own database connection; the page
never waits for DNS. One thread at most per assessment in this process: a domain changed while
its check runs is checked again once that run ends. A reload of the page shows the result.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app

from ..core.bank import Bank, Question
from ..core.viewpoint import CHECK, CONSULTANT, AssessmentView
from ..storage import NotFound, Store, bank_of, connect, get_assessment
from ..storage.email_checks import (
    EmailCheck,
    checked_questions,
    domain_to_check,
    forget,
    latest,
    mark_pending,
    record,
    set_answers,
)
from ..support.config import database
from ..support.email_check import DOMAIN_QUESTION, look_up
from .dates import day
from .db import get_db

log = logging.getLogger(__name__)
RECHECK_AFTER = timedelta(days=1)  # a result older than this is looked up again on a save
RETRY_AFTER = timedelta(seconds=30)  # a check that could not be made, tried again on a save
PENDING_FOR = timedelta(minutes=1)  # a pending check older than this was lost: start again

_lock = threading.Lock()
_running: dict[str, threading.Thread] = {}
_again: set[str] = set()


def _age(iso: str | None) -> timedelta:
    if not iso:
        return timedelta.max
    try:
        return datetime.now(UTC) - datetime.fromisoformat(iso)
    except ValueError:
        return timedelta.max


def _due(last: EmailCheck | None, domain: str) -> bool:
    if last is None or last.domain != domain:
        return True
    if last.pending:
        return _age(last.started_at) > PENDING_FOR
    if last.result is None or not last.result.checked:
        return _age(last.checked_at) > RETRY_AFTER
    return _age(last.checked_at) > RECHECK_AFTER


def applies(bank: Bank) -> bool:
    """The bank asks for the email domain and has a question the check answers."""
    return DOMAIN_QUESTION in bank.question_by_id and bool(checked_questions(bank))


def start(db: Store, assessment: dict) -> None:
    """After the email domain may have changed: start a check of the domain now given, unless
    the latest check is of that domain and recent (or still running). No domain (or not a
    domain): no check, and no answers from an old one. Never raises: the page goes on."""
    try:
        bank = bank_of(db, assessment)
        if not applies(bank):
            return
        assessment_id = assessment["id"]
        domain = domain_to_check(db, assessment_id)
        last = latest(db, assessment_id)
        if domain is None:
            if last is not None:
                forget(db, bank, assessment_id)
            return
        if not _due(last, domain):
            return
        mark_pending(db, assessment_id, domain)
        if last is not None and last.domain != domain:
            set_answers(db, bank, assessment_id, None)  # the old domain's finding is not this one's
        _launch(database(current_app.config), current_app.config.get("DNS_SERVER"),
                assessment_id)
    except Exception:  # the answers are saved; the check is a bonus
        log.exception("could not start the email domain check")


def _launch(target: str, server: str | None, assessment_id: str) -> None:
    with _lock:
        _again.add(assessment_id)
        if assessment_id in _running:
            return
        thread = threading.Thread(target=_work, args=(target, server, assessment_id),
                                  name="email-domain-check", daemon=True)
        _running[assessment_id] = thread
    thread.start()


def _work(target: str, server: str | None, assessment_id: str) -> None:
    db = None
    try:
        db = connect(target)
        while True:
            with _lock:
                if assessment_id not in _again:
                    _running.pop(assessment_id, None)
                    return
                _again.discard(assessment_id)
            try:
                _check_once(db, server, assessment_id)
            except NotFound:
                continue  # deleted meanwhile
            except Exception:
                log.exception("the email domain check failed")
    finally:
        with _lock:
            _running.pop(assessment_id, None)
        if db is not None:
            db.close()


def _check_once(db: Store, server: str | None, assessment_id: str) -> None:
    assessment = get_assessment(db, assessment_id)
    bank = bank_of(db, assessment)
    domain = domain_to_check(db, assessment_id)
    if domain is None:
        forget(db, bank, assessment_id)
        return
    result = look_up(domain, server=str(server) if server else None)
    if domain_to_check(db, assessment_id) != domain:
        return  # changed while we looked: the save that changed it asked for another run
    record(db, bank, assessment_id, result)


def wait(timeout: float = 10.0) -> bool:
    """Wait for the checks running in this process to end (tests, and the command line);
    True when none is left."""
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while True:
        with _lock:
            threads = list(_running.values())
        if not threads:
            return True
        left = (deadline - datetime.now(UTC)).total_seconds()
        if left <= 0:
            return False
        threads[0].join(left)


@dataclass(frozen=True)
class CheckNotice:
    """What a page says beside a question the check answers."""

    state: str  # pending | done | failed
    text: str
    differs: str = ""  # the owner's own, differing answer, said plainly


def notice_for(db: Store, assessment: dict, q: Question, seen: AssessmentView, *,
               interview: bool = False) -> CheckNotice | None:
    """The notice beside `q` on the owner's page (interview: the consultant's), or None when
    the check has nothing to say about it."""
    if q.check is None or DOMAIN_QUESTION not in bank_of(db, assessment).question_by_id:
        return None
    last = latest(db, assessment["id"])
    if last is None:
        return None
    domain = last.domain
    shown = domain  # as looked up: "example.com" for "Jo@Example.com"
    if last.pending:
        return CheckNotice("pending", f"Checking {shown}’s public email settings… Reload the "
                                      "page in a moment to see what was found.")
    result = last.result
    if result is None or not result.checked:
        reason = result.reason if result else "no answer from the DNS servers"
        whose = "the answers given count" if interview else "your own answer counts"
        return CheckNotice("failed", f"Could not check {shown} ({reason}); {whose}.")
    found = q.describe(seen.answers[q.id]) if seen.source_of.get(q.id) == CHECK else \
        q.choice_by_id[q.check.answers[result.outcome]].label
    lead = (f"We checked {shown}’s public email settings on {day(last.checked_at)}: "
            f"{result.summary()}.")
    counts = seen.source_of.get(q.id)
    if counts == CHECK:
        tail = f"This counts as {'the' if interview else 'your'} answer: {found}."
    elif counts == CONSULTANT:
        tail = (f"The check found: {found}; your answer counts over it." if interview else
                f"The check found: {found}; your consultant’s answer counts.")
    else:
        tail = f"The check found: {found}."
    differs = ""
    mine = seen.owner_answers.get(q.id)
    if mine and counts == CHECK:
        who = "The client answered" if interview else "You answered"
        differs = f"{who} “{mine}”; the check found “{found}”, and that counts."
    return CheckNotice("done", f"{lead} {tail}", differs)


def notices(db: Store, assessment: dict, questions, seen: AssessmentView, *,
            interview: bool = False) -> dict[str, CheckNotice]:
    """The notices of the questions on a page, by question id; none when the bank has no
    check."""
    out = {}
    for q in questions:
        if q.check is not None:
            found = notice_for(db, assessment, q, seen, interview=interview)
            if found is not None:
                out[q.id] = found
    return out


def show(page, assessment: dict, seen: AssessmentView, *, interview: bool = False) -> None:
    """Put the check's notice beside each question of a section page it answers. Opening such a
    page with a domain never checked (an answer copied from an earlier assessment, say) starts
    its check."""
    db = get_db()
    views = [v for v in page.views if v.question.check is not None]
    if not views:
        return
    last = latest(db, assessment["id"])
    domain = domain_to_check(db, assessment["id"])
    if domain is not None and (last is None or last.domain != domain) and \
            assessment["closed_at"] is None:
        start(db, assessment)
    found = notices(db, assessment, [v.question for v in views], seen, interview=interview)
    for view in views:
        view.outside_check = found.get(view.question.id)


def saved(page, assessment: dict) -> None:
    """After a section page was saved: the domain on it may be new."""
    if any(v.question.id == DOMAIN_QUESTION for v in page.views):
        start(get_db(), assessment)


def autosaved(question_id: str, assessment: dict) -> None:
    """After one answer was saved from the page script."""
    if question_id == DOMAIN_QUESTION:
        start(get_db(), assessment)
