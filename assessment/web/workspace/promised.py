"""The promises a client's next assessment asks first: each agreed action's questions, fresh
(never copied from the last assessment), with what was promised above them ("Last quarter you
agreed: ..., owner ..., due ... Is it done now?"). The answers are saved like the interview's;
finishing the assessment then proves or disproves each promise (core.promises)."""

from __future__ import annotations

import hashlib

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...core.actions import PARTY_LABELS, Action, questions_to_ask_first
from ...core.bank import Bank, Question, Section
from ...core.progress import progress
from ...core.scoring import score
from ...storage import actions, bank_of, stored_answers
from .. import dates
from ..auth import current_firm_id, member_required
from ..db import get_db
from ..section_page import SectionPage
from .common import SOURCE, assessment_or_404, bp, client_or_404, waiting


def promised_questions(client_id: int) -> list[tuple[Action, str]]:
    """(action, question id) for every promise the next assessment checks, in due order."""
    return questions_to_ask_first(actions.current_actions(get_db(), current_firm_id(),
                                                          client_id, dates.today()))


def first_page(record: dict) -> str | None:
    """Where a new assessment of this client starts: the promises page when there are
    promises to check, else None (the usual first question)."""
    if record["closed_at"] is not None or not promised_questions(record["client_id"]):
        return None
    return url_for("workspace.promises", assessment_id=record["id"])


def _promises_section(bank: Bank, asked: list[tuple[Action, str]]) -> Section:
    questions: list[Question] = []
    for _, qid in asked:
        question = bank.question_by_id.get(qid)
        if question is not None and question not in questions:
            questions.append(question)
    key = hashlib.sha256(",".join(q.id for q in questions).encode()).hexdigest()[:16]
    # Built from questions the bank has already checked; a page's id only, never stored.
    return Section.model_construct(id=f"promises-{key}", title="Promises to check first",
                                   intro="", kind="scored", workstream=None,
                                   questions=tuple(questions))


def _page(record: dict, asked: list[tuple[Action, str]]) -> SectionPage:
    bank = bank_of(get_db(), record)
    mine = stored_answers(get_db(), record["id"], SOURCE)
    effective = stored_answers(get_db(), record["id"])
    answers = {qid: s.answer for qid, s in effective.items() if s.answer}
    return SectionPage(bank, _promises_section(bank, asked), mine, score(bank, answers),
                       notes=True, verify=True, interview=True)


@bp.route("/assessments/<assessment_id>/promises", methods=["GET", "POST"])
@member_required
def promises(assessment_id: str):
    record = assessment_or_404(assessment_id)
    client = client_or_404(record["client_id"])
    asked = promised_questions(record["client_id"])
    if not asked:
        flash(f"{client['name']} has no agreed actions to check: nothing was promised yet.",
              "info")
        return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)
    page = _page(record, asked)
    status = 200
    if request.method == "POST":
        if record["closed_at"] is not None:
            flash("Nothing was saved: this assessment is finished. Reopen it to change answers.",
                  "warning")
            return redirect(url_for("workspace.promises", assessment_id=assessment_id), 303)
        if page.save(request.form, assessment_id, source=SOURCE, answered_by=current_user.id):
            flash("Saved the answers to the promises. Now the rest of the assessment.",
                  "success")
            first = page.bank.sections[0]
            return redirect(url_for("workspace.interview", assessment_id=assessment_id,
                                    section_id=first.id), 303)
        status = 422 if page.errors else 409
    views = {view.question.id: view for view in page.views}
    groups: list[tuple[Action, list]] = []
    for action, qid in asked:
        if qid not in views:
            continue  # not asked of this business any more (an earlier answer hides it)
        if groups and groups[-1][0] is action:
            groups[-1][1].append(views[qid])
        else:
            groups.append((action, [views[qid]]))
    return render_template("workspace/promises.html", title="Promises to check first",
                           page=page, groups=groups, assessment=record, client=client,
                           parties=PARTY_LABELS,
                           progress=progress(page.bank, page.result, waiting(assessment_id))
                           ), status
