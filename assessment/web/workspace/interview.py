"""An assessment in the workspace: starting one (an interview, or from the last finished one),
its page, the consultant's interview and its autosave, its reports, finishing and reopening."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from collections import Counter

from ...core import promises
from ...core.actions import Status
from ...core.progress import progress
from ...core.scoring import score
from ...core.viewpoint import FIRM
from ...storage import actions, assessment_view, bank_of, stored_answers
from ...storage import clients as store
from ...support.audit import audit
from .. import dates, email_checks, handoff, renders, reports, section_page
from . import promised
from ..answer_fields import widget_for
from ..auth import current_firm_id, member_required
from ..dates import day_time
from ..db import current_bank, get_db
from ..section_page import SectionPage, raw_of
from ..security import json_body
from .common import (
    SOURCE,
    assessment_or_404,
    bp,
    client_or_404,
    last_finished,
    member_names,
    scored,
    waiting,
)


@bp.post("/clients/<int:client_id>/interview")
@member_required
def start_interview(client_id: int):
    client_or_404(client_id)
    assessment_id = store.start_client_assessment(
        get_db(), current_bank(), current_firm_id(), client_id, mode="interview",
        created_by=current_user.id)
    # The promises first, when there are any; else straight to the first question, as an owner
    # pressing Start gets.
    promises_page = promised.first_page(assessment_or_404(assessment_id))
    if promises_page:
        return redirect(promises_page, 303)
    first = current_bank().sections[0]
    return redirect(url_for("workspace.interview", assessment_id=assessment_id,
                            section_id=first.id, _anchor=f"q-{first.questions[0].id}"), 303)


@bp.post("/clients/<int:client_id>/renew")
@member_required
def renew(client_id: int):
    """A new assessment that starts from the answers of the latest finished one; each copied
    answer waits to be re-confirmed before it counts."""
    client_or_404(client_id)
    source = last_finished(client_id)
    if source is None:
        flash("There is no finished assessment to start from. Finish one first, or start an "
              "interview.", "error")
        return redirect(url_for("workspace.client", client_id=client_id), 303)
    # A promise's questions are asked afresh, never copied: the answer proves the promise.
    fresh = {qid for _, qid in promised.promised_questions(client_id)}
    assessment_id = store.start_client_assessment(
        get_db(), current_bank(), current_firm_id(), client_id, mode="interview",
        created_by=current_user.id, copy_from=source["id"], fresh=fresh)
    flash(f"Started from the {KINDS[kind_of(source)]} finished "
          f"{day_time(source['finished_at'] or source['updated_at'])}. Each copied answer waits "
          "to be re-confirmed before it counts: press “Still true” beside it, or “All still "
          "true” for a whole section." + (
              f" The {len(fresh)} question{'s' if len(fresh) != 1 else ''} that prove last "
              "time's promises are asked afresh, first." if fresh else ""), "success")
    return redirect(promised.first_page(assessment_or_404(assessment_id))
                    or url_for("workspace.assessment", assessment_id=assessment_id), 303)


KINDS = {"interview": "interview", "self": "client self-assessment",
         "shared": "owner's own assessment"}


def kind_of(record: dict) -> str:
    return "interview" if record["mode"] == "interview" else "shared" if record["shared_at"] \
        else "self"


@bp.get("/assessments/<assessment_id>")
@member_required
def assessment(assessment_id: str):
    record = assessment_or_404(assessment_id)
    client = client_or_404(record["client_id"])
    bank, stored, result = scored(record)
    owner_answers = stored_answers(get_db(), assessment_id, "owner")
    copied = store.firm_assessment(get_db(), current_firm_id(), record["copied_from"]) \
        if record["copied_from"] else None
    return render_template("workspace/assessment.html", title=f"Assessment for {client['name']}",
                           assessment=record, client=client, bank=bank, result=result,
                           progress=progress(bank, result, waiting(assessment_id)),
                           owner_answers=owner_answers, copied=copied, names=member_names(),
                           final=finished_by_firm(record),
                           promises_url=None if finished_by_firm(record)
                           else promised.first_page(record),
                           fresh=not any(s.answer for s in stored.values()))


def finished_by_firm(record: dict) -> bool:
    """Finished in the workspace (Finish pressed; for an interview, finished at all): its score
    is final and its reports are what the client gets."""
    return record["status"] == "finished" and bool(record["closed_at"]
                                                   or record["mode"] == "interview")


def _interview_page(record: dict, section_id: str) -> SectionPage:
    bank = bank_of(get_db(), record)
    section = bank.section_by_id.get(section_id)
    if section is None:
        abort(404)
    mine = stored_answers(get_db(), record["id"], SOURCE)
    effective = stored_answers(get_db(), record["id"])
    answers = {qid: s.answer for qid, s in effective.items() if s.answer}
    page = SectionPage(bank, section, mine, score(bank, answers), notes=True, verify=True,
                       interview=True,
                       client_answers=stored_answers(get_db(), record["id"], "owner"))
    for view in page.views:  # start from the client's answer where the consultant has none
        theirs = page.client_answers.get(view.question.id)
        if theirs and theirs.answer:
            view.client_said = view.question.describe(theirs.answer)
            mine = view.stored.answer if view.stored else None
            view.differs = mine is not None and mine != theirs.answer
            if view.stored is None:
                view.value = widget_for(view.question).shown(raw_of(theirs.answer))
    handoff.annotate_interview(page, record)  # what the client's IT provider answered
    return page


@bp.route("/assessments/<assessment_id>/interview/<section_id>", methods=["GET", "POST"])
@member_required
def interview(assessment_id: str, section_id: str):
    record = assessment_or_404(assessment_id)
    if request.method == "POST" and record["closed_at"] is not None:
        flash("Nothing was saved. " + FINISHED, "warning")
        return redirect(url_for("workspace.interview", assessment_id=assessment_id,
                                section_id=section_id), 303)
    page = _interview_page(record, section_id)
    ids = [s.id for s in page.bank.sections]
    status = 200
    if request.method == "POST":
        # Copied answers ticked "Still true", or all of the page's ("All still true").
        every = request.form.get("then") == "confirm_all"
        before = waiting(assessment_id)
        confirm = True if every else frozenset(request.form.getlist("confirm"))
        if page.save(request.form, assessment_id, source=SOURCE, answered_by=current_user.id,
                     confirm=confirm):
            email_checks.saved(page, record)  # a new email domain: checked in the background
            _prerender_when_complete(record)
            confirmed = len(before - waiting(assessment_id))
            if confirmed:
                flash(f"Re-confirmed {confirmed} copied answer{'s' if confirmed != 1 else ''} "
                      f"on “{page.section.title}”.", "success")
            position = ids.index(section_id)
            if request.form.get("then") in ("next", "confirm_all") and position + 1 < len(ids):
                return redirect(url_for("workspace.interview", assessment_id=assessment_id,
                                        section_id=ids[position + 1]), 303)
            flash(f"Saved “{page.section.title}”.", "success")
            return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)
        status = 422 if page.errors else 409
    email_checks.show(page, record, assessment_view(get_db(), record, FIRM), interview=True)
    return render_template("workspace/interview.html", title=page.section.title, page=page,
                           assessment=record, client=client_or_404(record["client_id"]),
                           finished_notice=FINISHED,
                           position=ids.index(section_id) + 1, count=len(ids),
                           progress=progress(page.bank, page.result, waiting(assessment_id)),
                           waits_here=[v for v in page.views if v.shown and v.stored
                                       and v.stored.reconfirm and v.stored.answer]), status


def _prerender_when_complete(record: dict) -> None:
    """Start the report once every answer is in, so it is ready when the firm finishes."""
    bank, _, result = scored(record)
    if progress(bank, result, waiting(record["id"])).complete:
        reports.prerender_soon(record)


# Finished means finished for everyone: once the firm has finished an assessment (closed_at),
# the firm's answers no more change than the client's until someone reopens it (which the audit
# log records), so the report stays what was agreed. A client's own Finish on their link does
# not lock the firm out: reviewing their answers is the firm's next step.
FINISHED = ("This assessment is finished, so its answers can no longer change. Reopen it to "
            "change them (reopening is recorded).")


@bp.post("/assessments/<assessment_id>/answer")
@member_required
def autosave(assessment_id: str):
    """The interview's autosave: the same contract as the owner's (idempotent, versioned)."""
    record = assessment_or_404(assessment_id)
    if record["closed_at"] is not None:
        return jsonify(error="finished", message="Not saved. " + FINISHED), 403
    reply, status = section_page.autosave(bank_of(get_db(), record), assessment_id, json_body(),
                                          source=SOURCE, answered_by=current_user.id)
    if status == 200:
        email_checks.autosaved(request.get_json()["question"], record)
        bank, _, result = scored(record)
        state = progress(bank, result, waiting(assessment_id))
        reply["progress"] = {"done": state.done, "total": state.total, "percent": state.percent,
                             "waiting": state.waiting}
        if state.complete:
            reports.prerender_soon(record)
    return jsonify(reply), status


@bp.get("/assessments/<assessment_id>/report.pdf")
@member_required
def report_pdf(assessment_id: str):
    record = assessment_or_404(assessment_id)
    response = reports.pdf_response(record)
    renders.remember(record)
    return response


@bp.get("/assessments/<assessment_id>/report")
@member_required
def report_html(assessment_id: str):
    return reports.html_response(assessment_or_404(assessment_id))


@bp.post("/assessments/<assessment_id>/finish")
@member_required
def finish(assessment_id: str):
    record = assessment_or_404(assessment_id)
    bank, _, result = scored(record)
    state = progress(bank, result, waiting(assessment_id))
    if not state.complete:
        flash(f"{state.left} question{'s' if state.left != 1 else ''} still need an answer"
              + (f", {state.waiting} of them copied from the last assessment and waiting to be "
                 "re-confirmed" if state.waiting else "") + ".", "error")
    else:
        store.close_assessment(get_db(), current_firm_id(), assessment_id)
        audit("assessment_finished", assessment=assessment_id, member=current_user.id)
        made = roadmap_after_finish(record, result)
        reports.prerender(assessment_or_404(assessment_id))
        renders.remember(assessment_or_404(assessment_id))
        flash("The assessment is finished. Its report is ready." + (
            " The client's link now only shows it: their answers can no longer change."
            if record["mode"] == "self" else "") + made, "success")
    return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)


def roadmap_after_finish(record: dict, result) -> str:
    """The finished assessment's score kept for the portfolio and reviews, and its effect on
    the client's roadmap (core.promises): the promises it proves or disproves, and its plan's
    steps as proposed actions (those already open linked, not made again). What it did, in
    words for the flash."""
    db, firm = get_db(), current_firm_id()
    actions.record_final_score(db, firm, record["id"], result.score)
    today = dates.today()
    known = actions.current_actions(db, firm, record["client_id"], today)
    sync = promises.sync(result, known, client_id=record["client_id"],
                         assessment_id=record["id"], today=today,
                         prices=reports.prices_of(db, firm))
    actions.keep_sync(db, firm, sync, assessment_id=record["id"], on=today)
    counts = Counter(d.event.to_status for d in sync.decisions)
    said = [plural(counts[status], *words) for status, words in (
        (Status.VERIFIED, ("promise verified", "promises verified")),
        (Status.NOT_CONFIRMED, ("claimed done but not confirmed",) * 2),
        (Status.REGRESSED, ("verified before and failing again",) * 2)) if counts[status]]
    if sync.new:
        said.append(plural(len(sync.new), "new proposed action", "new proposed actions"))
    return f" On the client's roadmap: {', '.join(said)}." if said else ""


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@bp.post("/assessments/<assessment_id>/reopen")
@member_required
def reopen(assessment_id: str):
    """Undo Finish: in progress again, and the client's link can change answers again."""
    record = assessment_or_404(assessment_id)
    if record["closed_at"] is None and record["status"] != "finished":
        flash("The assessment is open already.", "info")
    else:
        store.reopen_assessment(get_db(), current_firm_id(), assessment_id)
        actions.record_final_score(get_db(), current_firm_id(), assessment_id, None)
        audit("assessment_reopened", assessment=assessment_id, member=current_user.id)
        flash("Reopened. " + ("The client can change their answers through their link again; "
                              "finish it again when you have reviewed them."
                              if record["mode"] == "self" and record["resume_token_hash"]
                              else "Finish it again when it is ready."), "success")
    return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)
