"""The owner's self-assessment: start, sections, hub, review, results, resume. No account.

Every step is POST, then redirect (303) to a GET page that shows what is saved, so Back, refresh
and resume never lose or repeat an answer.
"""

from __future__ import annotations

import json

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template,
                   request, session, url_for)
from flask_wtf.csrf import CSRFError

from ..progress import progress
from ..scoring import score
from ..storage import (bank_of, create_assessment, export_assessment, get_assessment, set_status,
                       stored_answers)
from . import owner, reports
from .db import current_bank, get_db
from . import section_page
from .section_page import SectionPage
from .security import json_body

bp = Blueprint("wizard", __name__, url_prefix="/assessment")
SOURCE = "owner"


def _assessment_or_redirect():
    assessment = owner.current()
    if assessment is None:
        # Friendly, and a 404: without its session nobody learns anything about an assessment.
        return None, (render_template("wizard/no_session.html",
                                      title="No assessment open in this browser"), 404)
    return assessment, None


def _shared(assessment) -> bool:
    """Handed to a firm through a claim link: the owner keeps reading, the firm edits."""
    return assessment["shared_at"] is not None


def _owner_answers(assessment):
    return stored_answers(get_db(), assessment["id"], SOURCE)


def _answers(stored):
    return {qid: s.answer for qid, s in stored.items() if s.answer}


def _next_url(bank, section_id: str | None = None) -> str:
    ids = [s.id for s in bank.sections]
    if section_id is None:
        return url_for("wizard.section", section_id=ids[0])
    position = ids.index(section_id)
    if position + 1 < len(ids):
        return url_for("wizard.section", section_id=ids[position + 1])
    return url_for("wizard.review")


@bp.post("/start")
def start():
    token, token_hash = owner.new_resume_token()
    bank = current_bank()
    assessment_id = create_assessment(get_db(), bank, resume_token_hash=token_hash)
    owner.begin(assessment_id, token)
    return redirect(_next_url(bank), 303)


@bp.get("/resume/<token>")
def resume(token: str):
    assessment = owner.from_token(token)
    if assessment is None:
        return render_template("wizard/resume_invalid.html",
                               title="This link does not open an assessment"), 404
    owner.begin(assessment["id"], token)
    bank = bank_of(get_db(), assessment)
    where = progress(bank, score(bank, _answers(_owner_answers(assessment)))).next_open()
    if where is None:
        return redirect(url_for("wizard.review"), 303)
    section, question = where
    return redirect(url_for("wizard.section", section_id=section.id,
                            _anchor=f"q-{question.id}"), 303)


@bp.get("/none")
def no_session():
    return render_template("wizard/no_session.html", title="No assessment open in this browser")


@bp.get("/")
def hub():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    bank = bank_of(get_db(), assessment)
    state = progress(bank, score(bank, _answers(_owner_answers(assessment))))
    resume_url = url_for("wizard.resume", token=session.get("resume_token", ""), _external=True)
    return render_template("wizard/hub.html", title="Your assessment", progress=state,
                           assessment=assessment, resume_url=resume_url)


def _section_page(assessment, section_id: str) -> SectionPage:
    bank = bank_of(get_db(), assessment)
    section = bank.section_by_id.get(section_id)
    if section is None:
        abort(404)
    stored = _owner_answers(assessment)
    return SectionPage(bank, section, stored, score(bank, _answers(stored)))


def _render_section(page: SectionPage, status: int = 200, notice: str | None = None):
    bank = page.bank
    ids = [s.id for s in bank.sections]
    # After a submission the valid answers are saved: count them, not the page's starting point.
    saved = page.result if status == 200 else score(bank, _answers(
        stored_answers(get_db(), owner.current()["id"], SOURCE)))
    state = progress(bank, saved)
    return render_template(
        "wizard/section.html", title=page.section.title, page=page,
        position=ids.index(page.section.id) + 1, count=len(ids), progress=state,
        notice=notice, resume_token=session.get("resume_token", ""),
        read_only=_shared(owner.current() or {"shared_at": None})), status


@bp.route("/section/<section_id>", methods=["GET", "POST"])
def section(section_id: str):
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    page = _section_page(assessment, section_id)
    if request.method == "GET":
        return _render_section(page)
    if _shared(assessment):
        flash("This assessment now belongs to the firm you shared it with: you can read it here, "
              "and changes are made with them.", "warning")
        return redirect(url_for("wizard.section", section_id=section_id), 303)

    before = {v.question.id for v in page.views if v.shown}
    if not page.save(request.form, assessment["id"], source=SOURCE):
        return _render_section(page, 422 if page.errors else 409)

    # Answers may have revealed follow-up questions on this page (without JavaScript they were
    # not visible yet): come back to them instead of moving on.
    after = _section_page(assessment, section_id)
    revealed = [v for v in after.views
                if v.shown and v.question.id not in before and v.stored is None
                and not after.bank.is_optional(v.question)]
    if revealed:
        flash("Your answers added a few more questions to this page.", "info")
        return redirect(url_for("wizard.section", section_id=section_id,
                                _anchor=f"q-{revealed[0].question.id}"), 303)
    if request.form.get("then") == "hub":
        flash(f"Saved “{page.section.title}”.", "success")
        return redirect(url_for("wizard.hub"), 303)
    return redirect(_next_url(page.bank, section_id), 303)


@bp.post("/answer")
def autosave():
    """Save one answer as it changes (JavaScript). Idempotent by client key, versioned."""
    assessment = owner.current()
    if assessment is None:
        return jsonify(error="session", message="Your session has ended. Press Save at the "
                                                "bottom of the page to keep your answers."), 401
    if _shared(assessment):
        return jsonify(error="read_only", message="This assessment was shared with a firm; "
                                                  "changes are made with them."), 403
    bank = bank_of(get_db(), assessment)
    reply, status = section_page.autosave(bank, assessment["id"], json_body(), source=SOURCE)
    if status == 200:
        state = progress(bank, score(bank, _answers(_owner_answers(assessment))))
        reply["progress"] = {"done": state.done, "total": state.total, "percent": state.percent}
    return jsonify(reply), status


@bp.get("/review")
def review():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    bank = bank_of(get_db(), assessment)
    stored = _owner_answers(assessment)
    result = score(bank, _answers(stored))
    return render_template("wizard/review.html", title="Check your answers", bank=bank,
                           result=result, stored=stored, progress=progress(bank, result),
                           assessment=assessment)


@bp.post("/finish")
def finish():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    bank = bank_of(get_db(), assessment)
    state = progress(bank, score(bank, _answers(_owner_answers(assessment))))
    if not state.complete:
        left = state.total - state.done
        flash(f"{left} question{'s' if left != 1 else ''} still need an answer. "
              "“Not sure” is a fine answer.", "error")
        return redirect(url_for("wizard.review"), 303)
    if assessment["status"] != "finished":
        set_status(get_db(), assessment["id"], "finished")
    reports.prerender(get_assessment(get_db(), assessment["id"]))  # as now finished
    return redirect(url_for("wizard.results"), 303)


@bp.get("/results")
def results():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    if assessment["status"] != "finished":
        return redirect(url_for("wizard.review"), 303)
    bank = bank_of(get_db(), assessment)
    stored = _owner_answers(assessment)
    result = score(bank, _answers(stored))
    return render_template("wizard/results.html", title="Your results", result=result,
                           bank=bank, assessment=assessment,
                           business=_business_name(stored))


def _business_name(stored) -> str:
    answer = stored.get("profile.business_name")
    return answer.answer.value if answer and answer.answer else ""


@bp.get("/report.pdf")
def report_pdf():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    return reports.pdf_response(assessment)


@bp.get("/report")
def report_html():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    return reports.html_response(assessment)


@bp.get("/answers.json")
def answers_json():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    data = export_assessment(get_db(), assessment["id"])
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition":
                             'attachment; filename="it-health-answers.json"'})


@bp.post("/leave")
def leave():
    """Forget the assessment in this browser (on a shared computer); the link still opens it."""
    session.clear()
    flash("This browser no longer has your assessment open. Your private link still opens it.",
          "success")
    return redirect(url_for("public.landing"), 303)


def handle_csrf_error(error: CSRFError):
    """An expired token or session must not eat the answers on the page: show them again with a
    fresh token, so one more press of Save keeps them."""
    if request.endpoint == "wizard.section" and request.method == "POST":
        assessment = owner.current() or owner.from_token(request.form.get("resume"))
        if assessment is not None:
            if owner.current() is None:
                owner.begin(assessment["id"], request.form.get("resume", ""))
            page = _section_page(assessment, request.view_args["section_id"])
            page.keep_submitted(request.form)
            return _render_section(
                page, 400,
                notice="Your session had expired, so this page is not saved yet. Your answers "
                       "are still below: check them and press Save again.")
    if request.endpoint == "wizard.autosave":
        return jsonify(error="session", message="Your session has expired. Press Save at the "
                                                "bottom of the page to keep your answers."), 400
    return render_template("error.html", title="Please try that again",
                           message="This form had expired. Go back, reload the page and try "
                                   "again."), 400
