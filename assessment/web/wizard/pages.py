"""The owner's pages around the questions: start, the overview, check answers, finish, the
results and their downloads, and leaving this browser.

Every step is POST, then redirect (303) to a GET page that shows what is saved, so Back, refresh
and resume never lose or repeat an answer.
"""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for

from ...core.figures import currency_symbol, show_answer
from ...core.progress import progress, unstarted
from ...core.viewpoint import BUSINESS
from ...storage import bank_of, create_assessment, export_assessment, get_assessment, set_status
from ...support.audit import audit
from .. import owner, renders, reports
from ..db import current_bank, get_db
from .common import bp, owner_answers, seen
from . import agreed
from .links import resume_url
from .sections import next_url


@bp.app_template_global()
def questionnaire():
    """Progress of an assessment not started on the current bank: how many questions and how
    long, as the pages that invite someone to start say."""
    return unstarted(current_bank())


@bp.post("/start")
def start():
    if owner.current() is not None and request.form.get("confirm") != "new":
        # Another one is open in this browser: say which, and how to come back to it, first.
        return redirect(url_for("wizard.start_again"), 303)
    token, token_hash = owner.new_resume_token()
    bank = current_bank()
    assessment_id = create_assessment(get_db(), bank, resume_token_hash=token_hash)
    owner.begin(assessment_id, token)
    return redirect(next_url(bank), 303)


@bp.get("/none")
def no_session():
    return render_template("wizard/no_session.html", title="No assessment open in this browser")


@bp.get("/")
def hub():
    assessment, away = owner.current_or_refusal()
    if away:
        return away
    bank = bank_of(get_db(), assessment)
    state = progress(bank, seen(assessment).result)
    return render_template("wizard/hub.html", title="Your assessment", progress=state,
                           assessment=assessment, resume_url=resume_url(),
                           read_only=owner.read_only(assessment),
                           promises=agreed.waiting(assessment))


@bp.get("/review")
def review():
    assessment, away = owner.current_or_refusal()
    if away:
        return away
    bank = bank_of(get_db(), assessment)
    stored = owner_answers(assessment)
    view = seen(assessment)
    result = view.result
    symbol = currency_symbol(bank, view.answers)
    if result.complete and assessment["status"] != "finished":
        # Start the report now: Finish is a click away, and the download after it should not
        # wait for the render (the same answers give the same report, rendered once).
        reports.prerender(assessment)
    return render_template("wizard/review.html", title="Check your answers", bank=bank,
                           result=result, stored=stored, progress=progress(bank, result),
                           assessment=assessment,
                           answer_text=lambda o: show_answer(o.question, o.answer, symbol))


@bp.post("/finish")
def finish():
    assessment, away = owner.current_or_refusal()
    if away:
        return away
    if owner.read_only(assessment) and assessment["status"] != "finished":
        flash("Nothing was changed. " + owner.read_only(assessment), "warning")
        return redirect(url_for("wizard.review"), 303)
    bank = bank_of(get_db(), assessment)
    state = progress(bank, seen(assessment).result)
    if not state.complete:  # the check-answers page lists them, each a link: the one notice
        return redirect(url_for("wizard.review", _anchor="unanswered"), 303)
    if assessment["status"] != "finished":
        set_status(get_db(), assessment["id"], "finished")
    reports.prerender(get_assessment(get_db(), assessment["id"]))  # as now finished
    return redirect(url_for("wizard.results"), 303)


@bp.get("/results")
def results():
    assessment, away = owner.current_or_refusal()
    if away:
        return away
    if assessment["status"] != "finished":
        return redirect(url_for("wizard.review"), 303)
    bank = bank_of(get_db(), assessment)
    view = seen(assessment)
    # Where the firm took part, an answer may be theirs: not "You answered".
    return render_template("wizard/results.html", title="Your results", result=view.result,
                           consultant_led=view.consultant_led, sources=view.source_of,
                           bank=bank, assessment=assessment,
                           business=view.business_name, resume_url=resume_url())


def _not_finished(assessment):
    """Before the assessment is finished there is no report to give: to check answers, which
    says why at its top, above what is missing (or with the Finish button below)."""
    if assessment["status"] == "finished":
        return None
    bank = bank_of(get_db(), assessment)
    state = progress(bank, seen(assessment).result)
    if state.complete:
        flash("Your report is made when you finish: press Finish and see your results at the "
              "bottom of this page.", "info")
        return redirect(url_for("wizard.review"), 303)
    flash("Your report is made when you finish. The questions below still need an answer first.",
          "info")
    return redirect(url_for("wizard.review"), 303)  # the top: this message, then the list


def _finished_or_redirect():
    """The open assessment once finished (its report exists only then), or where to go instead."""
    assessment, away = owner.current_or_refusal()
    return assessment, away or _not_finished(assessment)


@bp.get("/report.pdf")
def report_pdf():
    assessment, away = _finished_or_redirect()
    if away:
        return away
    response = reports.pdf_response(assessment)
    renders.remember(assessment)  # deleting the assessment removes the file too
    return response


@bp.get("/report")
def report_html():
    assessment, away = _finished_or_redirect()
    if away:
        return away
    return reports.html_response(assessment)


@bp.get("/answers.json")
def answers_json():
    assessment, away = owner.current_or_refusal()
    if away:
        return away
    # A consultant's note is the firm's own unless marked to be shown to the client.
    data = export_assessment(get_db(), assessment["id"], viewer=BUSINESS)
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition":
                             'attachment; filename="it-health-answers.json"'})


@bp.post("/link/replace")
def replace_link():
    """A new private link in place of the old one (lost, or sent to someone it should not
    have been): the old one stops at once, in every browser that had it open; this browser
    keeps the assessment open, and its overview shows the new link to copy."""
    assessment, away = owner.current_or_refusal()
    if away:
        return away
    if assessment["link_created_at"]:  # a firm's self-assessment link: the firm replaces it
        flash("This link was sent to you by the firm you work with, so only they can replace "
              "it. Ask them for a new one.", "warning")
        return redirect(url_for("wizard.hub", _anchor="resume-heading"), 303)
    if owner.replace_link() is None:  # replaced meanwhile in another browser: that one counts
        return redirect(url_for("wizard.hub"), 303)
    audit("link_replaced", kind="owner", assessment=assessment["id"])
    flash("Your private link is replaced: the old one no longer works, here or in any other "
          "browser that had it open. Copy the new one below and keep it private.", "success")
    return redirect(url_for("wizard.hub", _anchor="resume-heading"), 303)


@bp.post("/leave")
def leave():
    """Forget the assessment in this browser (on a shared computer); the link still opens it.
    A member signed in on this browser stays signed in."""
    owner.forget()
    flash("This browser no longer has your assessment open. Your private link still opens it.",
          "success")
    return redirect(url_for("public.landing"), 303)
