"""The owner's section pages: each shows a section's questions with what is saved, saves a
submitted page (then says what was revealed, contradicts or was skipped), and autosaves one
answer at a time from the page script."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ...core.figures import currency_symbol
from ...core.progress import progress
from ...core.scoring import score
from ...storage import bank_of
from ...storage import clients as store
from .. import branded, email_checks, handoff, owner, reports, section_page
from ..db import get_db
from ..section_page import SectionPage, figure_checks
from ..security import json_body
from .common import SOURCE, answers_of, bp, owner_answers, seen
from .links import resume_url, summary

WRONG_PAGE = ("This page was for another assessment than the one open in this browser now, so "
              "nothing was saved. Open your assessment again from its private link.")


def next_url(bank, section_id: str | None = None) -> str:
    """The first section, or the one after `section_id`, or after the last the review page."""
    ids = [s.id for s in bank.sections]
    if section_id is None:
        return url_for("wizard.section", section_id=ids[0])
    position = ids.index(section_id)
    if position + 1 < len(ids):
        return url_for("wizard.section", section_id=ids[position + 1])
    return url_for("wizard.review")


def section_page_for(assessment, section_id: str) -> SectionPage:
    bank = bank_of(get_db(), assessment)
    section = bank.section_by_id.get(section_id)
    if section is None:
        abort(404)
    stored = owner_answers(assessment)
    return SectionPage(bank, section, stored, score(bank, answers_of(stored)))


def render_section(page: SectionPage, assessment: dict, status: int = 200,
                   notice: str | None = None, resume_token: str | None = None):
    bank = page.bank
    ids = [s.id for s in bank.sections]
    # After a submission the valid answers are saved: count them, not the page's starting point.
    saved = page.result if status == 200 else score(bank, answers_of(owner_answers(assessment)))
    view = seen(assessment)
    state = progress(bank, view.result)
    email_checks.show(page, assessment, view)  # what the email domain check found
    handoff.annotate(page, assessment)  # a section handed to the IT provider, and its answers
    page.checks = figure_checks(bank, page.section, saved)
    read_only = owner.read_only(assessment)
    if status == 200 and not read_only:
        branded.prefill(page, assessment)  # what the firm's record holds, for the client to check
    return render_template(
        "wizard/section.html", title=page.section.title, page=page,
        position=ids.index(page.section.id) + 1, count=len(ids), progress=state,
        notice=notice, resume_token=resume_token or session.get("resume_token", ""),
        read_only=read_only), status


def page_assessment():
    """(the assessment a question page works on, None), or (None, the response to send
    instead): a Save from one of our pages may first open its assessment, or be refused
    (restore_from_page); then the open assessment, or the page that says none is."""
    if request.method == "POST":
        restored = restore_from_page()
        if restored is not None:
            return None, restored
    return owner.current_or_refusal()


@bp.route("/section/<section_id>", methods=["GET", "POST"])
def section(section_id: str):
    assessment, away = page_assessment()
    if away:
        return away
    page = section_page_for(assessment, section_id)
    if request.method == "GET":
        return render_section(page, assessment)
    if owner.read_only(assessment):
        flash("Nothing was saved. " + owner.read_only(assessment), "warning")
        return redirect(url_for("wizard.section", section_id=section_id), 303)

    before = {v.question.id for v in page.views if v.shown}
    if not page.save(request.form, assessment["id"], source=SOURCE):
        return render_section(page, assessment, 422 if page.errors else 409)
    branded.keep_cleared(page, assessment, request.form)
    email_checks.saved(page, assessment)  # a new email domain: checked in the background
    private_link_once(assessment["id"])
    if seen(assessment).result.complete:
        reports.prerender_soon(assessment)

    for category, line in page.notices():  # figures read from what was typed; answers not kept
        flash(line, category)
    return _after_save(page, assessment, before)


def _after_save(page: SectionPage, assessment: dict, before: set[str]):
    """Where a saved page goes: back to questions its answers revealed or to figures that
    contradict each other, back to the check-answers page it came from, else on."""
    section_id = page.section.id
    # From a Change link of the check-answers page: back there, as it is the owner's way on.
    back = {"back": "review"} if request.form.get("back") == "review" else {}

    # Answers may have revealed follow-up questions on this page (without JavaScript they were
    # not visible yet): come back to them instead of moving on.
    after = section_page_for(assessment, section_id)
    revealed = [v for v in after.views
                if v.shown and v.question.id not in before and v.stored is None
                and not after.bank.is_optional(v.question)]
    if revealed:
        flash("Your answers added a few more questions to this page.", "info")
        return redirect(url_for("wizard.section", section_id=section_id, **back,
                                _anchor=f"q-{revealed[0].question.id}"), 303)
    # Figures this save made contradict each other: back to them, where the page says which.
    shown = set(request.form.getlist("checked"))
    if any(c.key not in shown for c in figure_checks(after.bank, after.section, after.result)):
        return redirect(url_for("wizard.section", section_id=section_id, **back,
                                _anchor="checks"), 303)
    if back:
        return redirect(url_for("wizard.review", _anchor=f"rs-{section_id}"), 303)
    skipped = sum(1 for v in after.views if v.shown and not (v.stored and v.stored.answer)
                  and not after.bank.is_optional(v.question))
    if skipped:
        flash(f"You skipped {skipped} question{'s' if skipped != 1 else ''} on "
              f"“{page.section.title}”. You can come back to "
              f"{'them' if skipped != 1 else 'it'} from your overview, or when you check your "
              "answers.", "info")
    if request.form.get("then") == "hub":
        flash(f"Saved “{page.section.title}”.", "success")
        return redirect(url_for("wizard.hub"), 303)
    return redirect(next_url(page.bank, section_id), 303)


def restore_from_page():
    """A Save pressed on one of our section pages (its CSRF token checked) names its assessment
    in the form. With nothing open in this browser (the session ended, or was never opened here:
    see unsaved.handle_csrf_error), that press opens it; a page of another assessment than the
    open one saves nothing. Returns a response to send instead of saving, or None to go on."""
    token = request.form.get("resume")
    if not token:
        return None
    if owner.current() is None:
        found = owner.from_token(token)
        if found is not None:
            owner.begin(found["id"], token)
        return None
    if not owner.holds(token):
        return render_template("error.html", title="Nothing was saved", message=WRONG_PAGE,
                               open_assessment=summary(owner.current())), 409
    return None


def private_link_once(assessment_id: str) -> None:
    """Right after the first page is saved, once per assessment (recorded with it, so a
    second browser does not say "shown here once" again): the private link, to keep."""
    if store.private_link_shown(get_db(), assessment_id):
        flash(resume_url(), "private-link")


@bp.post("/answer")
def autosave():
    """Save one answer as it changes (JavaScript). Idempotent by client key, versioned."""
    assessment = owner.current()
    if assessment is None and owner.link_ended(keep=True) is not None:
        return jsonify(error="link_ended", message="Not saved: the link this assessment was "
                                                   "opened with no longer works. Reload the "
                                                   "page to see why."), 410
    if assessment is None:
        return jsonify(error="session", message="Your session has ended. Press Save at the "
                                                "bottom of the page to keep your answers."), 401
    if owner.read_only(assessment):
        return jsonify(error="read_only",
                       message="Not saved. " + owner.read_only(assessment)), 403
    bank = bank_of(get_db(), assessment)
    before = answers_of(owner_answers(assessment))
    reply, status = section_page.autosave(bank, assessment["id"], json_body(), source=SOURCE,
                                          symbol=currency_symbol(bank, before))
    if status == 200:
        email_checks.autosaved(request.get_json()["question"], assessment)
        result = score(bank, answers_of(owner_answers(assessment)))
        state = progress(bank, seen(assessment).result)
        if state.complete:
            reports.prerender_soon(assessment)
        reply["progress"] = {"done": state.done, "total": state.total, "percent": state.percent,
                             "time_left": state.time_left}
        question = bank.question_by_id[request.get_json()["question"]]
        reply["checks"] = [{"key": c.key, "message": c.message}  # of the page saved from
                           for c in figure_checks(bank, bank.section_of[question.id], result)]
    return jsonify(reply), status


@bp.app_template_global()
def back_to() -> str | None:
    """"review" on a section page opened from a Change link of the check-answers page (or sent
    from one): saving it goes back there."""
    if request.args.get("back") == "review":
        return "review"
    try:
        return "review" if request.form.get("back") == "review" else None
    except RequestEntityTooLarge:  # a form too large to read (unsaved.too_large)
        return None
