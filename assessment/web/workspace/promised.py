"""The promises a client's next assessment asks first: each agreed action's questions, fresh
(never copied from the last assessment), with what was promised above them ("Last quarter you
agreed: ..., owner ..., due ... Is it done now?"). The answers are saved like the interview's;
finishing the assessment then proves or disproves each promise (core.promises)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...core.actions import PARTY_LABELS, Action
from ...core.progress import progress
from ...core.scoring import score
from ...storage import bank_of, stored_answers
from .. import dates
from ..promise_checks import Plan, grouped, plan, promises_section
from ..promise_checks import promised_questions as client_promises
from ..auth import current_firm_id, member_required
from ..db import get_db
from ..section_page import SectionPage
from .common import SOURCE, assessment_or_404, bp, client_or_404, waiting


def promised_questions(client_id: int) -> list[tuple[Action, str]]:
    """(action, question id) for every promise the next assessment checks, in due order."""
    return client_promises(get_db(), current_firm_id(), client_id, dates.today())


def first_page(record: dict) -> str | None:
    """Where a new assessment of this client starts: the promises page when there are
    promises to check, else None (the usual first question)."""
    if record["closed_at"] is not None or not promised_questions(record["client_id"]):
        return None
    return url_for("workspace.promises", assessment_id=record["id"])


def _page(record: dict, asked: list[tuple[Action, str]]) -> tuple[SectionPage, Plan]:
    bank = bank_of(get_db(), record)
    mine = stored_answers(get_db(), record["id"], SOURCE)
    effective = stored_answers(get_db(), record["id"])
    answers = {qid: s.answer for qid, s in effective.items() if s.answer}
    groups = plan(bank, asked, answers)
    return SectionPage(bank, promises_section(bank, groups), mine, score(bank, answers),
                       notes=True, verify=True, interview=True), groups


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
    page, planned = _page(record, asked)
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
    groups = grouped(planned, page.views)
    return render_template("workspace/promises.html", title="Promises to check first",
                           page=page, groups=groups, assessment=record, client=client,
                           parties=PARTY_LABELS,
                           progress=progress(page.bank, page.result, waiting(assessment_id))
                           ), status
