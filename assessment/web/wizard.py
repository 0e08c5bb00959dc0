"""The owner's self-assessment: start, sections, hub, review, results, resume. No account.

Every step is POST, then redirect (303) to a GET page that shows what is saved, so Back, refresh
and resume never lose or repeat an answer.
"""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from ..core.figures import currency_symbol, show_answer
from ..core.progress import progress, unstarted
from ..core.scoring import score
from ..core.viewpoint import BUSINESS
from ..storage import (
    accounts,
    assessment_view,
    bank_of,
    create_assessment,
    export_assessment,
    get_assessment,
    set_status,
    stored_answers,
)
from ..storage import clients as store
from ..storage.clients import self_link_refusal
from . import branded, email_checks, handoff, owner, renders, reports, section_page, sessions
from .auth import signed_in_member
from .db import current_bank, get_db
from .section_page import SectionPage, figure_checks
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


def read_only(assessment) -> str | None:
    """Why this browser may read but not change the assessment, or None when it may."""
    if _shared(assessment):
        return ("This assessment was shared with a firm: you can read it here, and changes are "
                "made with them.")
    if assessment["closed_at"] is not None:
        firm = accounts.get_firm(get_db(), assessment["firm_id"]) if assessment["firm_id"] \
            else None
        name = firm["name"] if firm else "The firm"
        return (f"{name} has finished this assessment, so its answers can no longer be changed "
                f"here. If something needs changing, ask {name} to reopen it.")
    return None


@bp.app_template_global()
def questionnaire():
    """Progress of an assessment not started on the current bank: how many questions and how
    long, as the pages that invite someone to start say."""
    return unstarted(current_bank())


def _owner_answers(assessment):
    """What the business typed itself: the answers its section pages edit."""
    return stored_answers(get_db(), assessment["id"], SOURCE)


def _seen(assessment):
    """What the assessment says to the business (viewpoint.py): the answers that count, the
    consultant's where they gave one, so every page shows the score the firm's report has."""
    return assessment_view(get_db(), assessment, BUSINESS)


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
    if owner.current() is not None and request.form.get("confirm") != "new":
        # Another one is open in this browser: say which, and how to come back to it, first.
        return redirect(url_for("wizard.start_again"), 303)
    token, token_hash = owner.new_resume_token()
    bank = current_bank()
    assessment_id = create_assessment(get_db(), bank, resume_token_hash=token_hash)
    owner.begin(assessment_id, token)
    return redirect(_next_url(bank), 303)


@bp.get("/start-again")
def start_again():
    """Before a new assessment replaces the open one in this browser: the open one's private
    link, to keep, and the choice."""
    assessment = owner.current()
    if assessment is None:
        return redirect(url_for("public.landing"), 303)
    return render_template("wizard/start_again.html", title="Start a new assessment?",
                           current=summary(assessment), resume_url=_resume_url())


def summary(assessment: dict) -> dict:
    """What a person needs to recognise an assessment: whose, when, how far, from which firm."""
    db = get_db()
    bank = bank_of(db, assessment)
    seen = _seen(assessment)
    state = progress(bank, seen.result)
    firm = accounts.get_firm(db, assessment["firm_id"]) if assessment["firm_id"] else None
    return {"id": assessment["id"], "business": seen.business_name,
            "started": assessment["created_at"], "updated": assessment["updated_at"],
            "finished": assessment["status"] == "finished", "done": state.done,
            "total": state.total, "firm": firm["name"] if firm else None,
            "shared": _shared(assessment), "next": _landing_of(assessment)}


def open_summary() -> dict | None:
    """The summary of the assessment open in this browser, for pages that offer to go back to
    it (the landing page, "page not found"); None when none is, or it cannot be read."""
    try:
        assessment = owner.current()
        return summary(assessment) if assessment is not None else None
    except Exception:  # a page about something else must not fail for this
        return None


def _resume_url() -> str:
    return url_for("wizard.resume", token=session.get("resume_token", ""), _external=True)


def _landing_of(assessment: dict) -> str:
    """Where opening an assessment lands: its results once finished, else the first question
    still to answer, else the review page."""
    if assessment["status"] == "finished":
        return url_for("wizard.results")
    bank = bank_of(get_db(), assessment)
    where = progress(bank, _seen(assessment).result).next_open()
    if where is None:
        return url_for("wizard.review")
    section, question = where
    return url_for("wizard.section", section_id=section.id, _anchor=f"q-{question.id}")


@bp.get("/resume/<token>")
def resume(token: str):
    """Open the assessment of a private link. A link is something any page elsewhere can send a
    browser to, so it opens nothing in place of an open assessment or beside a member's sign-in
    without asking first (wizard.switch). A firm's self-assessment link first shows who sent
    it and why (branded.welcome), and changes nothing until its button is pressed."""
    assessment, away = _link_or_refusal(token)
    if away:
        return away
    current = owner.current()
    if (current is None or current["id"] != assessment["id"]) and \
            branded.shows_welcome(assessment, signed_in_member()):
        welcome = branded.welcome(assessment, token)
        if welcome is not None:
            return welcome
    return _open_link(assessment, token, current)


@bp.post("/resume/<token>")
def resume_open(token: str):
    """The welcome page's button: open the link's assessment, asking first as a link does."""
    assessment, away = _link_or_refusal(token)
    if away:
        return away
    return _open_link(assessment, token, owner.current())


def _link_or_refusal(token: str):
    """The assessment a link opens, or the page that says why it opens none."""
    assessment = owner.find_link(token)
    if assessment is None:
        return None, (render_template("wizard/resume_invalid.html",
                                      title="This link does not open an assessment"), 404)
    refusal = self_link_refusal(assessment)
    if refusal is not None:
        firm = accounts.get_firm(get_db(), assessment["firm_id"])
        return None, (render_template("wizard/link_ended.html",
                                      title="This link no longer works", reason=refusal,
                                      firm=firm["name"] if firm else None,
                                      expired_on=assessment["link_expires_at"]), 410)
    return assessment, None


def _open_link(assessment: dict, token: str, current: dict | None):
    if current is not None and current["id"] == assessment["id"]:
        owner.begin(assessment["id"], token)  # the same one: nothing to ask
    elif current is not None or signed_in_member() is not None:
        session["pending_resume"] = token  # kept out of the address bar while we ask
        return redirect(url_for("wizard.switch"), 303)
    else:
        _open(assessment, token)
    return redirect(_landing_of(assessment), 303)


def _open(assessment: dict, token: str) -> None:
    owner.begin(assessment["id"], token)
    if assessment["link_created_at"] and not assessment["link_opened_at"]:
        store.self_link_opened(get_db(), assessment["id"])  # the firm sees it was opened


@bp.route("/switch", methods=["GET", "POST"])
def switch():
    """Asked when a link would open an assessment while another is open in this browser, or a
    firm member is signed in on it: what is open now, what the link opens, and the choice."""
    token = session.get("pending_resume")
    target = owner.from_token(token)
    current = owner.current()
    member = signed_in_member()
    if target is None:
        session.pop("pending_resume", None)
        return redirect(url_for("wizard.hub") if current else url_for("public.landing"), 303)
    if request.method == "POST":
        session.pop("pending_resume", None)
        if request.form.get("decision") == "open":
            _open(target, token)  # a member stays signed in
            return redirect(_landing_of(target), 303)
        if current is not None:
            flash("Nothing changed: your assessment is still open.", "success")
            return redirect(url_for("wizard.hub"), 303)
        if member is not None:
            return redirect(url_for("workspace.clients"), 303)
        return redirect(url_for("public.landing"), 303)
    own_firm = member is not None and target["firm_id"] == member.firm_id
    return render_template(
        "wizard/switch.html", title="Open a different assessment?", target=summary(target),
        current=summary(current) if current else None, member=member, own_firm=own_firm,
        resume_url=_resume_url() if current else None,
        workspace_url=url_for("workspace.assessment", assessment_id=target["id"])
        if own_firm else None)


@bp.get("/none")
def no_session():
    return render_template("wizard/no_session.html", title="No assessment open in this browser")


@bp.get("/")
def hub():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    bank = bank_of(get_db(), assessment)
    state = progress(bank, _seen(assessment).result)
    return render_template("wizard/hub.html", title="Your assessment", progress=state,
                           assessment=assessment, resume_url=_resume_url(),
                           read_only=read_only(assessment))


def _section_page(assessment, section_id: str) -> SectionPage:
    bank = bank_of(get_db(), assessment)
    section = bank.section_by_id.get(section_id)
    if section is None:
        abort(404)
    stored = _owner_answers(assessment)
    return SectionPage(bank, section, stored, score(bank, _answers(stored)))


def _render_section(page: SectionPage, assessment: dict, status: int = 200,
                    notice: str | None = None, resume_token: str | None = None):
    bank = page.bank
    ids = [s.id for s in bank.sections]
    # After a submission the valid answers are saved: count them, not the page's starting point.
    saved = page.result if status == 200 else score(bank, _answers(_owner_answers(assessment)))
    seen = _seen(assessment)
    state = progress(bank, seen.result)
    email_checks.show(page, assessment, seen)  # what the email domain check found
    handoff.annotate(page, assessment)  # a section handed to the IT provider, and its answers
    page.checks = figure_checks(bank, page.section, saved)
    if status == 200 and not read_only(assessment):
        branded.prefill(page, assessment)  # what the firm's record holds, for the client to check
    return render_template(
        "wizard/section.html", title=page.section.title, page=page,
        position=ids.index(page.section.id) + 1, count=len(ids), progress=state,
        notice=notice, resume_token=resume_token or session.get("resume_token", ""),
        read_only=read_only(assessment)), status


WRONG_PAGE = ("This page was for another assessment than the one open in this browser now, so "
              "nothing was saved. Open your assessment again from its private link.")


@bp.route("/section/<section_id>", methods=["GET", "POST"])
def section(section_id: str):
    if request.method == "POST":
        restored = _restore_from_page()
        if restored is not None:
            return restored
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    page = _section_page(assessment, section_id)
    if request.method == "GET":
        return _render_section(page, assessment)
    if read_only(assessment):
        flash("Nothing was saved. " + read_only(assessment), "warning")
        return redirect(url_for("wizard.section", section_id=section_id), 303)

    before = {v.question.id for v in page.views if v.shown}
    if not page.save(request.form, assessment["id"], source=SOURCE):
        return _render_section(page, assessment, 422 if page.errors else 409)
    branded.keep_cleared(page, assessment, request.form)
    email_checks.saved(page, assessment)  # a new email domain: checked in the background
    _private_link_once(assessment["id"])
    if _seen(assessment).result.complete:
        reports.prerender_soon(assessment)

    for category, line in page.notices():  # figures read from what was typed; answers not kept
        flash(line, category)

    # From a Change link of the check-answers page: back there, as it is the owner's way on.
    back = {"back": "review"} if request.form.get("back") == "review" else {}

    # Answers may have revealed follow-up questions on this page (without JavaScript they were
    # not visible yet): come back to them instead of moving on.
    after = _section_page(assessment, section_id)
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
    return redirect(_next_url(page.bank, section_id), 303)


def _restore_from_page():
    """A Save pressed on one of our section pages (its CSRF token checked) names its assessment
    in the form. With nothing open in this browser (the session ended, or was never opened here:
    see handle_csrf_error), that press opens it; a page of another assessment than the open one
    saves nothing. Returns a response to send instead of saving, or None to go on."""
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


def _private_link_once(assessment_id: str) -> None:
    """Right after the first page is saved, once per assessment (recorded with it, so a
    second browser does not say "shown here once" again): the private link, to keep."""
    if store.private_link_shown(get_db(), assessment_id):
        flash(_resume_url(), "private-link")


@bp.post("/answer")
def autosave():
    """Save one answer as it changes (JavaScript). Idempotent by client key, versioned."""
    assessment = owner.current()
    if assessment is None:
        return jsonify(error="session", message="Your session has ended. Press Save at the "
                                                "bottom of the page to keep your answers."), 401
    if read_only(assessment):
        return jsonify(error="read_only", message="Not saved. " + read_only(assessment)), 403
    bank = bank_of(get_db(), assessment)
    before = _answers(_owner_answers(assessment))
    reply, status = section_page.autosave(bank, assessment["id"], json_body(), source=SOURCE,
                                          symbol=currency_symbol(bank, before))
    if status == 200:
        email_checks.autosaved(request.get_json()["question"], assessment)
        result = score(bank, _answers(_owner_answers(assessment)))
        state = progress(bank, _seen(assessment).result)
        if state.complete:
            reports.prerender_soon(assessment)
        reply["progress"] = {"done": state.done, "total": state.total, "percent": state.percent,
                             "time_left": state.time_left}
        question = bank.question_by_id[request.get_json()["question"]]
        reply["checks"] = [{"key": c.key, "message": c.message}  # of the page saved from
                           for c in figure_checks(bank, bank.section_of[question.id], result)]
    return jsonify(reply), status


@bp.get("/review")
def review():
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    bank = bank_of(get_db(), assessment)
    stored = _owner_answers(assessment)
    seen = _seen(assessment)
    result = seen.result
    symbol = currency_symbol(bank, seen.answers)
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
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    if read_only(assessment) and assessment["status"] != "finished":
        flash("Nothing was changed. " + read_only(assessment), "warning")
        return redirect(url_for("wizard.review"), 303)
    bank = bank_of(get_db(), assessment)
    state = progress(bank, _seen(assessment).result)
    if not state.complete:  # the check-answers page lists them, each a link: the one notice
        return redirect(url_for("wizard.review", _anchor="unanswered"), 303)
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
    seen = _seen(assessment)
    # Where the firm took part, an answer may be theirs: not "You answered".
    return render_template("wizard/results.html", title="Your results", result=seen.result,
                           consultant_led=seen.consultant_led, sources=seen.source_of,
                           bank=bank, assessment=assessment,
                           business=seen.business_name, resume_url=_resume_url())


def _not_finished(assessment):
    """Before the assessment is finished there is no report to give: to check answers, which
    says why at its top, above what is missing (or with the Finish button below)."""
    if assessment["status"] == "finished":
        return None
    bank = bank_of(get_db(), assessment)
    state = progress(bank, _seen(assessment).result)
    if state.complete:
        flash("Your report is made when you finish: press Finish and see your results at the "
              "bottom of this page.", "info")
        return redirect(url_for("wizard.review"), 303)
    flash("Your report is made when you finish. The questions below still need an answer first.",
          "info")
    return redirect(url_for("wizard.review"), 303)  # the top: this message, then the list


def _finished_or_redirect():
    """The open assessment once finished (its report exists only then), or where to go instead."""
    assessment, away = _assessment_or_redirect()
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
    assessment, away = _assessment_or_redirect()
    if away:
        return away
    # A consultant's note is the firm's own unless marked to be shown to the client.
    data = export_assessment(get_db(), assessment["id"], viewer=BUSINESS)
    return Response(json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition":
                             'attachment; filename="it-health-answers.json"'})


@bp.post("/leave")
def leave():
    """Forget the assessment in this browser (on a shared computer); the link still opens it.
    A member signed in on this browser stays signed in."""
    owner.forget()
    flash("This browser no longer has your assessment open. Your private link still opens it.",
          "success")
    return redirect(url_for("public.landing"), 303)


def from_another_site() -> bool:
    """True when the browser says this request came from a page of another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin:
        return origin.rstrip("/") != request.host_url.rstrip("/")
    return False


@bp.app_template_global()
def back_to() -> str | None:
    """"review" on a section page opened from a Change link of the check-answers page (or sent
    from one): saving it goes back there."""
    if request.args.get("back") == "review":
        return "review"
    try:
        return "review" if request.form.get("back") == "review" else None
    except RequestEntityTooLarge:  # a form too large to read (too_large, below)
        return None


def too_large():
    """A question page sent with more than the server accepts (a huge paste, with the boxes'
    own limits bypassed) cannot be read, so nothing on it was saved: the owner stays on that
    page, with every answer saved so far and a message that says what happened and what to do.
    None for any other request (the plain "too large" page)."""
    if request.endpoint == "wizard.autosave":
        return jsonify(error="too_large", message="That answer is too long to save. Shorten it "
                                                  "and try again."), 413
    if request.endpoint != "wizard.section" or request.method != "POST":
        return None
    assessment = owner.current()
    section_id = (request.view_args or {}).get("section_id")
    if assessment is None or section_id not in bank_of(get_db(), assessment).section_by_id:
        return None
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _render_section(
        _section_page(assessment, section_id), assessment, 413,
        notice=f"This page sent more than the {limit // 1024 // 1024} MB we accept at once, so "
               "nothing on it was saved this time. Your answers saved until now are below: "
               "shorten any very long answer, check the others and press Save again.")


def handle_csrf_error(error: CSRFError):
    """An expired token or session must not eat the answers on the page: show them again with a
    fresh token, so one more press of Save keeps them. This never opens or switches an
    assessment (a page elsewhere can post here without a token): with nothing open, the page of
    the assessment the form names is shown, unsaved, and only pressing Save on it opens it.
    A form sent from another site changes nothing at all, not even the session cookie."""
    if from_another_site():
        sessions.leave_cookie()
        return render_template("error.html", title="Nothing was changed",
                               message="A page on another site sent a form here. Nothing was "
                                       "saved and nothing was changed. If you meant to do "
                                       "something here, go to the home page and do it from "
                                       "there."), 400
    if request.endpoint == "wizard.resume_open":  # the welcome page again, for another press
        assessment = owner.from_token((request.view_args or {}).get("token"))
        welcome = branded.welcome(
            assessment, request.view_args["token"], status=400,
            notice="That did not go through (the page had expired), so nothing has changed "
                   "yet. Press the button again to go on.") if assessment is not None else None
        if welcome is not None:
            return welcome
    if request.endpoint == "wizard.section" and request.method == "POST":
        token = request.form.get("resume")
        current = owner.current()
        if current is not None:
            page = _section_page(current, request.view_args["section_id"])
            if not token or owner.holds(token):  # a form of another assessment: not kept
                page.keep_submitted(request.form)
            return _render_section(
                page, current, 400,
                notice="Your session had expired, so this page is not saved yet. Your answers "
                       "are still below: check them and press Save again.")
        named = owner.from_token(token)
        if named is not None:
            page = _section_page(named, request.view_args["section_id"])
            page.keep_submitted(request.form)
            return _render_section(
                page, named, 400, resume_token=token,
                notice="Your session had ended, so this page is not saved yet, and no "
                       "assessment is open in this browser now. If this is your assessment, "
                       "check your answers below and press Save again to open it here and save "
                       "them.")
    if request.endpoint == "wizard.autosave":
        return jsonify(error="session", message="Your session has expired. Press Save at the "
                                                "bottom of the page to keep your answers."), 400
    return render_template("error.html", title="Please try that again",
                           message="This form had expired. Go back, reload the page and try "
                                   "again."), 400
