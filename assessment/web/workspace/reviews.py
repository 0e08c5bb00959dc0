"""Quarterly reviews (QBR) of a client: prepared, decided, locked, and their review pack PDF.

A review is a draft while the consultant prepares it: what was promised comes from the roadmap
as it stands (core.review), proposed actions are decided on its page (agree, defer, or accept
the risk, through core.actions.decide like every other move), and the headline is drafted from
the figures until someone edits it. Locking keeps the content of that moment as a snapshot and
renders the review pack from it once; both stay as they are for good (storage/reviews.py never
changes a locked review), so later moves of actions change neither. Corrections go in a new
review.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ...core import review as qbr
from ...core.actions import Move, MoveRefused, Status, decide
from ...core.review import ReviewContent
from ...report import RenderBusy, RenderError
from ...report.pool import RenderDelayed
from ...report.review_pack import pack_disposition, render_pack
from ...storage import actions as action_store
from ...storage import reviews as store
from ...support.audit import audit
from .. import dates
from ..auth import current_firm_id, member_required
from ..db import get_db
from ..reports import branding_of
from .common import bp, client_or_404

# The moves a review decides on a proposed action, and what the page calls them.
DECISIONS = {Status.AGREED.value: "Agree", Status.DEFERRED.value: "Defer",
             Status.RISK_ACCEPTED.value: "Decline: accept the risk"}
MAX_PERSON = 200
MAX_REASON = 500
RETRY_SECONDS = 120
DATE_EXAMPLE = "2026-10-15"


def parse_day(text: str | None) -> date | None:
    """A date as a date field sends it (YYYY-MM-DD); None when empty; ValueError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) != 10 or text[4] != "-" or text[7] != "-":  # not a week date (2026-W01-1)
        raise ValueError(text)
    return date.fromisoformat(text)


def _date_field(label: str, what: str, *, required: bool):
    """A date box (the browser's date picker where it has one), checked here with a message
    that says how to write it."""
    def check(form, field):
        try:
            field.parsed = parse_day(field.data)
        except ValueError:
            raise ValidationError(f"Enter {what} as a date, like {DATE_EXAMPLE}.") from None

    validators = [DataRequired(f"Enter {what}.")] if required else []
    return StringField(label, validators=[*validators, check], render_kw={"type": "date"})


class StartReviewForm(FlaskForm):
    period_start = _date_field("From (the first day of the period)",
                               "the first day of the period", required=True)
    period_end = _date_field("To (the last day of the period)",
                             "the last day of the period", required=True)


class ReviewWordsForm(FlaskForm):
    headline = TextAreaField("Headline (drafted from the figures; change it as you like)",
                             validators=[Length(max=qbr.MAX_HEADLINE, message=(
                                 f"Keep the headline under {qbr.MAX_HEADLINE} characters: it "
                                 "is the first line of the pack."))])
    notes = TextAreaField("Notes (printed in the review pack)", validators=[Length(
        max=qbr.MAX_NOTES, message=f"Keep the notes under {qbr.MAX_NOTES} characters: that is "
                                   "what the review pack has room for.")])
    next_review = _date_field("Next review (optional)", "the date of the next review",
                              required=False)


# ---- looking things up (every lookup scoped to the member's firm) ---------------------------

def _review_or_404(client: dict, review_id: int) -> dict:
    """The firm's review of this client: another firm's, or another client's under this
    client's address, is 404."""
    review = store.get_review(get_db(), current_firm_id(), review_id)
    if review is None or review["client_id"] != client["id"]:
        audit("access_denied", reason="no such review of this client", client=client["id"],
              review=review_id, member=current_user.id)
        abort(404)
    return review


def _period(review: dict) -> tuple[date, date]:
    return date.fromisoformat(review["period_start"]), date.fromisoformat(review["period_end"])


def _content(client: dict, review: dict) -> ReviewContent:
    """A locked review's snapshot; a draft's content built now from the roadmap as it stands,
    with its headline, notes and next review date."""
    if review["status"] == store.LOCKED:
        return ReviewContent.from_json(review["snapshot"])
    db, firm = get_db(), current_firm_id()
    start, end = _period(review)
    today = dates.today()
    built = qbr.build_review(
        client_name=client["name"],
        actions=action_store.current_actions(db, firm, client["id"], today),
        events=store.period_events(db, firm, client["id"], start, end),
        scores=qbr.finished_scores_of(action_store.finished_scores(db, firm, client["id"])),
        period_start=start, period_end=end, today=today)
    return built.with_words(headline=review["headline"] or "", notes=review["notes"] or "",
                            next_review=parse_day(review["next_review"]))


def _who() -> str:
    return current_user.name or current_user.email


# ---- the client's reviews --------------------------------------------------------------------

@bp.get("/clients/<int:client_id>/reviews")
@member_required
def reviews(client_id: int):
    client = client_or_404(client_id)
    start, end = qbr.default_period(dates.today())
    form = StartReviewForm(data={"period_start": start.isoformat(),
                                 "period_end": end.isoformat()})
    return _reviews_page(client, form)


def _reviews_page(client: dict, form: StartReviewForm, status: int = 200):
    return render_template("workspace/reviews.html", title=f"Reviews: {client['name']}",
                           client=client, form=form,
                           reviews=[{**row, "start": _period(row)[0], "end": _period(row)[1],
                                     "next": parse_day(row["next_review"])}
                                    for row in store.client_reviews(get_db(), current_firm_id(),
                                                                    client["id"])]), status


@bp.post("/clients/<int:client_id>/reviews")
@member_required
def start_review(client_id: int):
    client = client_or_404(client_id)
    form = StartReviewForm()
    if form.validate():
        start, end = form.period_start.parsed, form.period_end.parsed
        problem = qbr.period_problem(start, end)
        if problem is None:
            review_id = store.create_review(get_db(), current_firm_id(), client_id, start, end,
                                            current_user.id)
            audit("review_started", client=client_id, review=review_id, member=current_user.id)
            flash("Review started. Decide the proposed actions, check the headline, then lock "
                  "it.", "success")
            return redirect(url_for("workspace.review", client_id=client_id,
                                    review_id=review_id), 303)
        form.period_end.errors = [problem]
    return _reviews_page(client, form, 422)


# ---- one review ------------------------------------------------------------------------------

@bp.get("/clients/<int:client_id>/reviews/<int:review_id>")
@member_required
def review(client_id: int, review_id: int):
    client = client_or_404(client_id)
    found = _review_or_404(client, review_id)
    return _review_page(client, found)


def _review_page(client: dict, found: dict, *, words: ReviewWordsForm | None = None,
                 refused: dict | None = None, notice: str | None = None, status: int = 200):
    """The preparation page of a draft (or a locked review's snapshot, read-only). `refused`:
    a decision that was refused, to show again with its message and what was typed."""
    content = _content(client, found)
    if words is None and found["status"] == store.DRAFT:
        words = ReviewWordsForm(data={"headline": content.shown_headline,
                                      "notes": content.notes,
                                      "next_review": content.next_review.isoformat()
                                      if content.next_review else ""})
    return render_template("workspace/review.html",
                           title=f"Review: {client['name']}", client=client, review=found,
                           c=content, words=words, refused=refused, notice=notice,
                           locked=found["status"] == store.LOCKED,
                           parties=content.party_labels, change_labels=qbr.CHANGE_LABELS,
                           cost=qbr.cost_range_text, money=qbr.money,
                           today=dates.today()), status


@bp.post("/clients/<int:client_id>/reviews/<int:review_id>")
@member_required
def update_review(client_id: int, review_id: int):
    client = client_or_404(client_id)
    found = _review_or_404(client, review_id)
    if found["status"] == store.LOCKED:
        return _locked_refusal(client, found, "Nothing was saved: this review is locked.")
    form = ReviewWordsForm()
    if form.validate():
        start, end = _period(found)
        next_review = form.next_review.parsed
        if next_review is not None and next_review <= end:
            form.next_review.errors = [
                f"The next review comes after this one's period: choose a date after "
                f"{dates.date_day(end)}."]
        else:
            headline = (form.headline.data or "").strip()
            draft = _content(client, {**found, "headline": ""}).headline_draft
            # Left as drafted, the headline keeps following the figures until the review is
            # locked; only words someone changed are kept as theirs.
            if headline == draft:
                headline = ""
            if store.update_draft(get_db(), current_firm_id(), review_id, headline=headline,
                                  notes=(form.notes.data or "").strip(),
                                  next_review=next_review):
                flash("Saved the headline, notes and next review date.", "success")
                return redirect(url_for("workspace.review", client_id=client_id,
                                        review_id=review_id) + "#words", 303)
            return _locked_refusal(client, _review_or_404(client, review_id),
                                   "Nothing was saved: someone locked this review meanwhile.")
    return _review_page(client, found, words=form, status=422)


def _locked_refusal(client: dict, found: dict, said: str):
    audit("review_change_refused", reason="locked", review=found["id"], member=current_user.id)
    return _review_page(client, found, notice=(
        f"{said} A locked review stays as it was locked; corrections go in a new review."),
        status=409)


@bp.post("/clients/<int:client_id>/reviews/<int:review_id>/decide")
@member_required
def review_decide(client_id: int, review_id: int):
    client = client_or_404(client_id)
    found = _review_or_404(client, review_id)
    if found["status"] == store.LOCKED:
        return _locked_refusal(client, found, "Nothing was decided: this review is locked. "
                                              "Decide on the client's roadmap instead.")
    typed = {name: (request.form.get(name) or "").strip()
             for name in ("action", "to", "due", "reason", "person", "until")}
    action = None
    if typed["action"].isdigit():
        action = action_store.get_action(get_db(), current_firm_id(), int(typed["action"]))
    if action is None or action.client_id != client_id:
        audit("access_denied", reason="decide: no such action of this client",
              client=client_id, member=current_user.id)
        abort(404)
    try:
        move = _move(typed)
        decision = decide(action, move, who=_who(), today=dates.today())
    except MoveRefused as refusal:
        return _review_page(client, found, refused={**typed, "message": str(refusal)},
                            status=400)
    if not action_store.save_decision(get_db(), current_firm_id(), decision):
        return _review_page(client, found, refused={
            **typed, "message": "Someone changed this action meanwhile, so nothing was "
                                "saved. Here it is as it stands now: decide again."},
            status=409)
    audit("action_moved", action=action.id, to=move.to.value, review=review_id,
          member=current_user.id)
    flash(_decided_words(decision.action), "success")
    return redirect(url_for("workspace.review", client_id=client_id, review_id=review_id)
                    + "#decisions", 303)


def _move(typed: dict[str, str]) -> Move:
    """The move the form asks for; MoveRefused (its message for the consultant) when the
    form itself is wrong."""
    if typed["to"] not in DECISIONS:
        raise MoveRefused("Choose what to do with the action: agree it, defer it, or decline "
                          "it and accept the risk.")
    if len(typed["person"]) > MAX_PERSON:
        raise MoveRefused(f"Keep the person's name under {MAX_PERSON} characters.")
    if len(typed["reason"]) > MAX_REASON:
        raise MoveRefused(f"Keep the reason under {MAX_REASON} characters.")
    days = {}
    for name, what in (("due", "the due date"), ("until", "the date the risk is accepted "
                                                         "until")):
        try:
            days[name] = parse_day(typed[name])
        except ValueError:
            raise MoveRefused(f"Enter {what} as a date, like {DATE_EXAMPLE}.") from None
    to = Status(typed["to"])
    return Move(to=to, due=days["due"], reason=typed["reason"], person=typed["person"],
                until=days["until"])


def _decided_words(action) -> str:
    if action.status is Status.AGREED:
        return (f"Agreed: “{action.title}”, due {dates.date_day(action.due)}, "
                f"by {action.person}.")
    if action.status is Status.DEFERRED:
        return f"Deferred: “{action.title}”, now due {dates.date_day(action.due)}."
    return (f"Risk accepted by {action.accepted_by} until "
            f"{dates.date_day(action.accepted_until)}: “{action.title}”.")


@bp.post("/clients/<int:client_id>/reviews/<int:review_id>/lock")
@member_required
def lock_review(client_id: int, review_id: int):
    client = client_or_404(client_id)
    found = _review_or_404(client, review_id)
    if found["status"] == store.LOCKED:
        return _locked_refusal(client, found, "It was locked already.")
    content = _content(client, found)
    try:
        pdf = render_pack(content, branding_of(get_db(), current_firm_id()), draft=False)
    except RenderError as error:
        return _not_now(client, found, error, "so the review is not locked. Nothing changed")
    if not store.lock_review(get_db(), current_firm_id(), review_id, content.to_json(), pdf,
                             _who()):
        return _locked_refusal(client, _review_or_404(client, review_id),
                               "Someone else locked it first; theirs is kept.")
    audit("review_locked", client=client_id, review=review_id, member=current_user.id,
          bytes=len(pdf))
    flash("Locked. The review and its pack are kept as they are now, for good.", "success")
    return redirect(url_for("workspace.review", client_id=client_id, review_id=review_id), 303)


@bp.get("/clients/<int:client_id>/reviews/<int:review_id>.pdf")
@member_required
def review_pdf(client_id: int, review_id: int):
    client = client_or_404(client_id)
    found = _review_or_404(client, review_id)
    draft = found["status"] != store.LOCKED
    if draft:
        try:
            pdf = render_pack(_content(client, found), branding_of(get_db(), current_firm_id()),
                              draft=True)
        except RenderError as error:
            return _not_now(client, found, error, "Nothing is lost")
    else:
        kept = store.review_pdf(get_db(), current_firm_id(), review_id)
        if kept is None:  # locked, so it has one; only a row changed by hand has not
            abort(404)
        pdf = kept
    audit("review_pack_download", client=client_id, review=review_id, draft=draft,
          member=current_user.id, bytes=len(pdf))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": pack_disposition(client["name"], _period(found)[1], draft=draft),
        "Cache-Control": "no-store"})


def _not_now(client: dict, found: dict, error: RenderError, consequence: str) -> Response:
    """503: the pack could not be rendered now; say why in words, and what to do."""
    if isinstance(error, RenderBusy):
        why = "Too many reports are being made right now"
    elif isinstance(error, RenderDelayed):
        why = "The service that lays out reports is not running just now"
    else:
        why = "The review pack could not be made just now"
    back = url_for("workspace.review", client_id=client["id"], review_id=found["id"])
    page = render_template("error.html", title="The review pack could not be made",
                           message=f"{why}, {consequence}. Please try again in a few minutes.",
                           actions=[(back, "Back to the review", True)])
    return Response(page, status=503, mimetype="text/html",
                    headers={"Retry-After": str(RETRY_SECONDS)})

