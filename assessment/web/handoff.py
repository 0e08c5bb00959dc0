"""Ask the one who knows: an owner hands one section to whoever runs their IT.

The owner's side (their browser's open assessment): make a private link for a section (shown
once; only its hash is kept; it works for 30 days), make a new one in its place, cancel it, and
query an answer the provider gave, which the provider sees next time they open the link.

The provider's side (`/answer-for/<token>`): one plain page with the business's name and that
section's questions, the owner's wording with the technical wording beneath, a note per question,
autosave and version conflicts as on the owner's pages (section_page.py), and "Send the answers"
when done. Their answers are saved as the "provider" source, which counts over the owner's
(viewpoint.py). The page shows nothing else of the assessment: not the owner's answers (they
would anchor the provider), not the other sections, not the owner's private link. Opening it
never changes which assessment the browser has open, nor signs anyone in.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError

from ..core.figures import currency_symbol, show_answer
from ..core.viewpoint import BUSINESS, PROVIDER
from ..storage import (
    NotFound,
    assessment_view,
    bank_of,
    get_assessment,
    handoffs,
    stored_answers,
)
from ..storage.clients import self_link_refusal
from ..support.audit import audit
from . import owner, section_page
from .answer_fields import widget_for
from .auth.sign_in import rate_limited
from .db import get_db
from .section_page import SectionPage
from .security import form_expired, from_another_site, json_body, refused_from_another_site

bp = Blueprint("handoff", __name__)

ENDED = {
    "cancelled": "The person who sent it cancelled this link.",
    "expired": "This link has expired.",
    "closed": "The assessment this link was for can no longer be changed.",
}


def _parts():
    return current_app.jinja_env.get_template("handoff/_parts.html").module


# ---- the owner's side ------------------------------------------------------------------------

def _owner_section(section_id: str):
    """The open assessment and the section, or a response to send instead."""
    assessment, away = owner.current_or_refusal()
    if away:
        return None, None, away
    section = bank_of(get_db(), assessment).section_by_id.get(section_id)
    if section is None:
        abort(404)
    return assessment, section, None


def _back(section_id: str):
    if request.form.get("back") == "hub":
        return redirect(url_for("wizard.hub", _anchor=f"s-{section_id}"), 303)
    return redirect(url_for("wizard.section", section_id=section_id), 303)


def _refused_read_only(assessment, section_id: str):
    reason = owner.read_only(assessment)
    if reason:
        flash("Nothing was changed. " + reason, "warning")
        return _back(section_id)
    return None


@bp.route("/assessment/section/<section_id>/hand-off", methods=["GET", "POST"])
def start(section_id: str):
    """"Ask whoever runs your IT to answer this section": what happens, who it is for, the button;
    pressed, the link, shown once."""
    assessment, section, away = _owner_section(section_id)
    if away:
        return away
    row = handoffs.handoffs_of(get_db(), assessment["id"]).get(section_id)
    error, recipient = None, ""
    if request.method == "POST":
        refused = _refused_read_only(assessment, section_id)
        if refused:
            return refused
        recipient = (request.form.get("recipient") or "").strip()
        error = handoffs.text_problem(recipient, handoffs.MAX_RECIPIENT)
        if error is None:
            replaced = handoffs.state(row) is not None
            token = handoffs.create_handoff(get_db(), assessment["id"], section_id, recipient)
            audit("link_replaced" if replaced else "link_created", kind="handoff",
                  assessment=assessment["id"], section=section_id)
            return _show_link(assessment, section, token, replaced=replaced)
    return render_template("handoff/start.html", title=f"Ask whoever runs your IT: {section.title}",
                           section=section, row=row, state=handoffs.state(row), error=error,
                           recipient=recipient, read_only=owner.read_only(assessment),
                           questions=_asked(assessment, section)), 422 if error else 200


@bp.post("/assessment/section/<section_id>/hand-off/replace")
def replace(section_id: str):
    """"Copy a new link": the old one stops working; who it is for and open queries carry
    over."""
    assessment, section, away = _owner_section(section_id)
    if away:
        return away
    refused = _refused_read_only(assessment, section_id)
    if refused:
        return refused
    token = handoffs.create_handoff(get_db(), assessment["id"], section_id)
    audit("link_replaced", kind="handoff", assessment=assessment["id"], section=section_id)
    return _show_link(assessment, section, token, replaced=True)


@bp.post("/assessment/section/<section_id>/hand-off/cancel")
def cancel(section_id: str):
    assessment, section, away = _owner_section(section_id)
    if away:
        return away
    if handoffs.cancel_handoff(get_db(), assessment["id"], section_id):
        audit("link_cancelled", kind="handoff", assessment=assessment["id"], section=section_id)
        flash(f"Cancelled: the link for “{section.title}” no longer works. Answers your IT "
              "provider gave are kept.", "success")
    else:
        flash("That link was cancelled already.", "info")
    return _back(section_id)


def _show_link(assessment: dict, section, token: str, *, replaced: bool = False):
    row = handoffs.handoff_for_token(get_db(), token)
    return render_template("handoff/link.html", title="The link for whoever runs your IT",
                           section=section, row=row, replaced=replaced,
                           link=url_for("handoff.answer", token=token, _external=True),
                           business=assessment_view(get_db(), assessment, BUSINESS)
                           .business_name)


@bp.route("/assessment/section/<section_id>/hand-off/query/<question_id>",
          methods=["GET", "POST"])
def query(section_id: str, question_id: str):
    """The owner disagrees with, or wonders about, an answer the provider gave: a short message
    they see next time they open the link, which then waits for them again."""
    assessment, section, away = _owner_section(section_id)
    if away:
        return away
    q = next((q for q in section.questions if q.id == question_id), None)
    if q is None:
        abort(404)
    db = get_db()
    row = handoffs.handoffs_of(db, assessment["id"]).get(section_id)
    theirs = stored_answers(db, assessment["id"], PROVIDER).get(question_id)
    error, text = None, handoffs.open_queries(row).get(question_id, "")
    if request.method == "POST":
        refused = _refused_read_only(assessment, section_id)
        if refused:
            return refused
        text = (request.form.get("query") or "").strip()
        error = "Write your question first." if not text else handoffs.text_problem(
            text, handoffs.MAX_QUERY, lines=True)
        if error is None:
            if handoffs.ask(db, assessment["id"], section_id, question_id, text):
                audit("handoff_query", assessment=assessment["id"], section=section_id)
                flash("Your question is with the link: whoever runs your IT sees it next time they "
                      "open it. Send them the link again if they have finished.", "success")
                return redirect(url_for("wizard.section", section_id=section_id,
                                        _anchor=f"q-{question_id}"), 303)
            error = ("The link for this section has expired or was cancelled. Make a new link "
                     "first, then ask.")
    bank = bank_of(db, assessment)
    symbol = currency_symbol(bank, assessment_view(db, assessment, BUSINESS).answers)
    return render_template(
        "handoff/query.html", title="Ask whoever runs your IT about an answer", section=section,
        question=q, text=text, error=error, row=row,
        theirs=show_answer(q, theirs.answer, symbol) if theirs and theirs.answer else None,
        note=theirs.note if theirs else ""), 422 if error else 200


def annotate(page: SectionPage, assessment: dict) -> None:
    """The owner's section page: its hand-off (page.handoff, for the panel), and on each
    question what the provider answered, the owner's own answer where it differs, an open
    query, or for questions owners rarely know, the offer to hand the section over."""
    db = get_db()
    row = handoffs.handoffs_of(db, assessment["id"]).get(page.section.id)
    state = handoffs.state(row)
    read_only = owner.read_only(assessment)
    page.handoff = {"row": row, "state": state,
                    "offer": page.section.kind == "scored" and not read_only}
    provider = stored_answers(db, assessment["id"], PROVIDER)
    if not provider and not any(v.question.owners_rarely_know for v in page.views):
        return
    seen = assessment_view(db, assessment, BUSINESS)
    symbol = currency_symbol(page.bank, seen.answers)
    queries = handoffs.open_queries(row)
    parts = _parts()
    for view in page.views:
        q = view.question
        theirs = provider.get(q.id)
        counts = seen.source_of.get(q.id) == PROVIDER and theirs is not None
        # A check from outside that is under way or found the answer says what to do already:
        # no second notice telling the owner to ask someone.
        checked = getattr(view.outside_check, "state", "failed") != "failed"
        if not counts and (not q.owners_rarely_know or checked):
            continue
        # Macros of an autoescaped template: their output is escaped HTML already.
        view.handoff = parts.owner_question(
            q, answer=show_answer(q, theirs.answer, symbol) if counts else None,
            note=theirs.note if theirs else "",
            yours=seen.owner_answers.get(q.id) if counts else None,
            query=queries.get(q.id), state=state, offer=page.handoff["offer"],
            section_id=page.section.id)


def annotate_interview(page: SectionPage, record: dict) -> None:
    """The consultant's interview: the answer the business's IT provider gave through a
    hand-off, beside the client's own."""
    provider = stored_answers(get_db(), record["id"], PROVIDER)
    if not provider:
        return
    parts = _parts()
    for view in page.views:
        theirs = provider.get(view.question.id)
        if theirs is None or theirs.answer is None:
            continue
        view.handoff = parts.interview_said(view.question.describe(theirs.answer),
                                            theirs.note, view.question.id)
        if view.stored is None:  # start from the answer that counts now
            view.value = widget_for(view.question).shown(section_page.raw_of(theirs.answer))


@bp.app_template_global()
def handoff_states(assessment: dict) -> dict[str, dict]:
    """For the overview: each section's live hand-off, by section id."""
    try:
        rows = handoffs.handoffs_of(get_db(), assessment["id"])
    except Exception:  # a list of sections must not fail for this
        return {}
    return {sid: {"row": row, "state": handoffs.state(row)} for sid, row in rows.items()
            if handoffs.state(row)}


@bp.app_template_global()
def handoffs_waiting(assessment: dict) -> list[str]:
    """The sections still waiting for the IT provider, for the check-answers page."""
    return [sid for sid, h in handoff_states(assessment).items()
            if h["state"] in ("waiting", "expired")]


def _asked(assessment: dict, section) -> list:
    """The questions of the section that apply, for the owner to see what will be asked."""
    bank = bank_of(get_db(), assessment)
    applies = {o.question.id for o in assessment_view(get_db(), assessment, BUSINESS)
               .result.outcomes if o.applicable}
    return [q for q in section.questions if q.id in applies and q.id in bank.question_by_id]


# ---- the provider's side ---------------------------------------------------------------------

def _too_many():
    response = current_app.make_response((render_template(
        "handoff/ended.html", title="Too many tries", reason=None,
        message="There were too many tries with links that do not work from here. Wait a few "
                "minutes and try again."), 429))
    response.headers["Retry-After"] = str(int(current_app.config.get("SIGNIN_RATE_WINDOW", 300)))
    return response


def _link(token: str):
    """(hand-off, assessment, section) of a link that opens its section now, or a response
    that says why it does not, with nothing of the assessment in it."""
    db = get_db()
    row = handoffs.handoff_for_token(db, token)
    if row is None:
        if rate_limited("handoff"):  # guessing tokens: counted like sign-in tries
            return None, None, None, _too_many()
        return None, None, None, (render_template(
            "handoff/ended.html", title="This link does not open anything", reason=None,
            message="Check that the whole link was copied, or ask whoever sent it for a new "
                    "one."), 404)
    reason = handoffs.refusal(row)
    assessment, section = None, None
    if reason is None:
        try:
            assessment = get_assessment(db, row["assessment_id"])
        except NotFound:
            reason = "cancelled"
    if reason is None and (owner.read_only(assessment) or self_link_refusal(assessment)):
        reason = "closed"
    if reason is None:
        section = bank_of(db, assessment).section_by_id.get(row["section_id"])
        if section is None:
            reason = "closed"
    if reason is not None:
        audit("handoff_refused", reason=reason)
        return None, None, None, (render_template(
            "handoff/ended.html", title="This link no longer works", reason=reason,
            message=ENDED[reason] + " Ask whoever sent it for a new one if there is still "
                                    "something to answer."), 410)
    return row, assessment, section, None


def _provider_page(row: dict, assessment: dict, section) -> SectionPage:
    db = get_db()
    bank = bank_of(db, assessment)
    seen = assessment_view(db, assessment, BUSINESS)
    page = SectionPage(bank, section, stored_answers(db, assessment["id"], PROVIDER),
                       seen.result, notes=True)
    page.symbol = currency_symbol(bank, seen.answers)
    return page


def _annotate_provider(page: SectionPage, row: dict, business: str) -> None:
    parts = _parts()
    queries = handoffs.open_queries(row)
    for view in page.views:
        view.handoff = parts.provider_question(view.question, queries.get(view.question.id),
                                               business)
        view.handoff_after = parts.provider_note(view)


def _render_provider(page: SectionPage, row: dict, assessment: dict, status: int = 200,
                     notice: str | None = None):
    business = assessment_view(get_db(), assessment, BUSINESS).business_name
    _annotate_provider(page, row, business or "The business")
    answered = bool(row["answered_at"])
    done = sum(1 for v in page.views if v.shown and v.stored and v.stored.answer)
    total = sum(1 for v in page.views if v.shown)
    return render_template(
        "handoff/answer.html", title=f"{page.section.title}: questions for you", page=page,
        row=row, business=business, answered=answered, notice=notice, done=done, total=total,
        token=request.view_args["token"],
        queries=handoffs.open_queries(row)), status


@bp.route("/answer-for/<token>", methods=["GET", "POST"])
def answer(token: str):
    row, assessment, section, away = _link(token)
    if away:
        return away
    page = _provider_page(row, assessment, section)
    if request.method == "GET":
        if not row["last_used_at"]:
            audit("link_used", kind="handoff", assessment=assessment["id"],
                  section=row["section_id"])
        handoffs.mark_used(get_db(), row["token_hash"])
        return _render_provider(page, row, assessment)
    if row["answered_at"]:
        return _render_provider(page, row, assessment, 409, notice=(
            "These answers were sent already, so nothing was changed. If the business asks "
            "you something about them, this page shows their question and you can answer "
            "again."))
    if not page.save(request.form, assessment["id"], source=PROVIDER):
        return _render_provider(page, row, assessment, 422 if page.errors else 409)
    handoffs.mark_used(get_db(), row["token_hash"])
    if request.form.get("then") == "send":
        missing = [v for v in _provider_page(row, assessment, section).views
                   if v.shown and not (v.stored and v.stored.answer)
                   and not page.bank.is_optional(v.question)]
        if missing and request.form.get("confirm") != "send":
            flash(f"Saved. {len(missing)} question{'s are' if len(missing) != 1 else ' is'} "
                  "still without an answer: answer, or choose “Not sure”, then send. To send "
                  "as it is, press “Send anyway”.", "warning")
            return redirect(url_for("handoff.answer", token=token, unsent="1"), 303)
        handoffs.mark_answered(get_db(), row["token_hash"])
        audit("handoff_answered", assessment=assessment["id"], section=row["section_id"])
        return redirect(url_for("handoff.answer", token=token), 303)
    flash("Saved. Press “Send the answers” when you have finished.", "success")
    return redirect(url_for("handoff.answer", token=token), 303)


@bp.post("/answer-for/<token>/answer")
def autosave(token: str):
    """One answer or note, saved as it changes (the page script): the owner's contract."""
    row, assessment, section, away = _link(token)
    if away:
        status = away[1] if isinstance(away, tuple) else away.status_code
        return jsonify(error="link", message="This link no longer works, so this was not "
                                             "saved."), status
    if row["answered_at"]:
        return jsonify(error="sent", message="Not saved: these answers were sent already."), 409
    data = json_body()
    if not isinstance(data, dict) or data.get("question") not in {q.id for q in
                                                                  section.questions}:
        return jsonify(error="invalid", message="That question is not part of this page."), 404
    bank = bank_of(get_db(), assessment)
    seen = assessment_view(get_db(), assessment, BUSINESS)
    reply, status = section_page.autosave(bank, assessment["id"], data, source=PROVIDER,
                                          symbol=currency_symbol(bank, seen.answers))
    if status == 200:
        handoffs.mark_used(get_db(), row["token_hash"])
    return jsonify(reply), status


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    """An expired page keeps what the provider typed (shown again, unsaved); a form from
    another site changes nothing at all."""
    if from_another_site():
        return refused_from_another_site("A page on another site sent a form here. Nothing was "
                                         "saved and nothing was changed.")
    if request.endpoint == "handoff.autosave":
        return jsonify(error="session", message="This page has expired. Press Save at the "
                                                "bottom of the page to keep your answers."), 400
    if request.endpoint == "handoff.answer":
        row, assessment, section, away = _link(request.view_args["token"])
        if away:
            return away
        page = _provider_page(row, assessment, section)
        page.keep_submitted(request.form)
        return _render_provider(page, row, assessment, 400, notice=(
            "This page had expired, so it is not saved yet. Your answers are still below: "
            "check them and press Save again."))
    return form_expired()
