"""The owner's private roadmap link: their actions and score trend, without an account.

`/roadmap/<token>` is one page, made for a phone first: the business's and the firm's names,
the score trend, what waits on the owner, what waits on their IT provider (or another vendor),
and what was done since the last quarterly review. The token is the key: only its hash is kept
(storage/roadmap_links.py), and a link that was cancelled, replaced or has expired opens
nothing and says only that it no longer works.

Through the link the owner may update their own actions (party "client") and nothing else:
mark one done (core.actions.decide with owner=True decides), comment on it, attach evidence.
Any other field a form sends (a due date, a person, another status) is never read, so dates
and promises stay as the firm agreed them.
"""

from __future__ import annotations

import unicodedata

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from ..core.actions import (
    OPEN,
    PARTY_LABELS,
    Action,
    Move,
    MoveRefused,
    Status,
    decide,
)
from ..storage import evidence
from ..storage import actions as action_store
from ..storage import roadmap_links as links
from ..support.audit import audit
from ..support.evidence_files import (
    MAX_BYTES,
    UPLOAD_REQUEST_BYTES,
    UploadRefused,
    check_upload,
    link_problem,
)
from . import branded, dates
from .auth.sign_in import rate_limited
from .db import get_db
from .security import form_expired, from_another_site, refused_from_another_site

bp = Blueprint("roadmap_link", __name__)

OWNER = "Owner (private link)"  # who the owner's changes are recorded as
MAX_LABEL = 120
GONE = ("This link no longer works. Ask your consultant for a new one if you still need "
        "to see your roadmap.")
# What the owner can still add to: their own actions that are open, or claimed done (evidence
# of a claim is what the next assessment's checking is helped by).
COMMENTABLE = OPEN | {Status.DONE}
SHOWN_POINTS = 8  # the score trend shows the latest few assessments


class Refusal(Exception):
    """A post the owner cannot make; the page is shown again with this message and what they
    typed."""

    def __init__(self, message: str, status: int, field: str | None = None):
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


# ---- the link --------------------------------------------------------------------------------

@bp.url_value_preprocessor
def _room_for_evidence(endpoint: str | None, values: dict | None) -> None:
    # A file of evidence may be up to 10 MB, more than other forms may send; set before the
    # CSRF check reads the form.
    if endpoint == "roadmap_link.add_evidence":
        request.max_content_length = UPLOAD_REQUEST_BYTES


@bp.after_request
def _private(response):
    # The page is the owner's alone: never indexed, never kept by a cache. The Referer policy
    # stays the app's "same-origin": nothing (so not the token in this address) goes to another
    # site, while our own forms keep the Referer the CSRF check asks for over HTTPS.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _ended(title: str, message: str, status: int):
    return render_template("roadmap_link/ended.html", title=title, message=message), status


def _link_or_refusal(token: str):
    """(link row, None) for a link that works now, or (None, a response saying it does not,
    with nothing of the roadmap in it)."""
    db = get_db()
    row = links.link_for_token(db, token)
    if row is None:
        if rate_limited("roadmap_link"):  # guessing tokens: counted like sign-in tries
            response = current_app.make_response(_ended(
                "Too many tries", "There were too many tries with links that do not work "
                                  "from here. Wait a few minutes and try again.", 429))
            response.headers["Retry-After"] = str(
                int(current_app.config.get("SIGNIN_RATE_WINDOW", 300)))
            return None, response
        return None, _ended("Page not found",
                            "This link does not open anything. Check that the whole link was "
                            "copied, or ask your consultant for a new one.", 404)
    if not links.is_live(row):
        audit("roadmap_link_refused", reason="cancelled" if row["cancelled_at"] else "expired")
        return None, _ended("This link no longer works", GONE, 410)
    return row, None


# ---- the page --------------------------------------------------------------------------------

def _trend(link) -> dict:
    """The client's finished assessments' scores, oldest first: the latest few as (label,
    score), and the change from the one before the latest."""
    rows = action_store.finished_scores(get_db(), link["firm_id"], link["client_id"])
    points = [(_month(row["finished_at"]), int(row["final_score"])) for row in rows]
    points = points[-SHOWN_POINTS:]
    change = None
    if len(points) > 1:
        (was_on, was), (_, now) = points[-2], points[-1]
        change = {"was": was, "now": now, "since": was_on, "by": now - was}
    return {"points": points, "change": change}


def _month(iso: str | None) -> str:
    moment = dates.local(iso)
    return f"{dates.MONTHS[moment.month - 1]} {moment.year}" if moment else ""


def _groups(link, today: date) -> dict:
    db = get_db()
    actions = action_store.current_actions(db, link["firm_id"], link["client_id"], today)
    since, reviewed = links.done_since(db, link["firm_id"], link["client_id"], today)

    def done_on(action: Action) -> date | None:
        return action.verified_on if action.status is Status.VERIFIED else action.done_on

    done = [a for a in actions if a.status in (Status.VERIFIED, Status.DONE)
            and (done_on(a) or date.min) >= since]
    done.sort(key=lambda a: done_on(a) or date.min, reverse=True)
    yours = [a for a in actions if a.party == "client" and a.status in OPEN]
    theirs = [a for a in actions if a.party != "client" and a.status in OPEN]
    own_ids = {a.id for a in actions if a.party == "client" and a.status in COMMENTABLE}
    return {"yours": yours, "theirs": theirs, "done": done, "since": since,
            "reviewed": reviewed, "done_on": done_on,
            "comments": links.comments_by(db, link["firm_id"], link["client_id"], OWNER),
            "evidence": links.evidence_of(db, link["firm_id"], link["client_id"]),
            "commentable": own_ids}


def _page(token: str, link, *, status: int = 200, problem: dict | None = None):
    """The owner's page; `problem` (a refused post) names the action and form, the message,
    and what was typed, to show again."""
    today = dates.firm_today(link["firm_id"])
    look = branded.look_of(link["firm_id"])
    return render_template(
        "roadmap_link/view.html", title=f"{link['client_name']}: your IT roadmap", link=link,
        token=token, firm_brand=look, today=today, trend=_trend(link),
        party_labels=PARTY_LABELS, problem=problem or {}, max_comment=links.MAX_COMMENT,
        max_label=MAX_LABEL, **_groups(link, today)), status


@bp.get("/roadmap/<token>")
def view(token: str):
    link, away = _link_or_refusal(token)
    if away:
        return away
    return _page(token, link)


# ---- the owner's updates ---------------------------------------------------------------------

def _own_action(link, action_id: int) -> Action:
    """The action, if it is one of this link's client's (else 404: another client's action,
    even of the same firm, is not there for this link)."""
    action = action_store.get_action(get_db(), link["firm_id"], action_id)
    if action is None or action.client_id != link["client_id"]:
        audit("access_denied", reason="no such action for this roadmap link", action=action_id)
        abort(404)
    return action


def _may_add_to(action: Action) -> None:
    """Comments and evidence: on the owner's own actions that are open or claimed done."""
    if action.party != "client":
        raise Refusal("This action is for your IT provider or another vendor to do; only they "
                      "can change it. Ask your consultant if something is wrong with it.", 403)
    if action.status not in COMMENTABLE:
        raise Refusal("This action is not open any more, so nothing can be added to it here; "
                      "ask your consultant.", 403)


def _refused(token: str, link, action_id: int, form: str, refusal: Refusal, **typed):
    return _page(token, link, status=refusal.status, problem={
        "action": action_id, "form": form, "message": refusal.message,
        "field": refusal.field, **typed})


def _back(token: str, action_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("roadmap_link.view", token=token, _anchor=f"action-{action_id}"),
                    303)


@bp.post("/roadmap/<token>/actions/<int:action_id>/done")
def mark_done(token: str, action_id: int):
    """The owner says one of their actions is done: claimed, until the next assessment checks
    it. Only the move to done is read from the form; nothing else it sends counts."""
    link, away = _link_or_refusal(token)
    if away:
        return away
    action = _own_action(link, action_id)
    if action.party == "client" and action.status is Status.DONE:  # pressed twice
        flash(f"“{action.title}” was marked done already.", "info")
        return redirect(url_for("roadmap_link.view", token=token,
                                _anchor=f"action-{action_id}"), 303)
    try:
        decision = decide(action, Move(Status.DONE), who=OWNER,
                          today=dates.firm_today(link["firm_id"]), owner=True)
    except MoveRefused as refused:
        return _refused(token, link, action_id, "done", Refusal(str(refused), 403))
    if not action_store.save_decision(get_db(), link["firm_id"], decision):
        return _refused(token, link, action_id, "done", Refusal(
            "This action was changed by someone else a moment ago, so nothing was saved. Here "
            "it is as it stands now.", 409))
    audit("action_moved", action=action_id, to=Status.DONE.value, by="owner link")
    return _back(token, action_id, f"Marked done: “{action.title}”. Your consultant sees it "
                                   "now; the next assessment checks it.")


@bp.post("/roadmap/<token>/actions/<int:action_id>/comment")
def comment(token: str, action_id: int):
    link, away = _link_or_refusal(token)
    if away:
        return away
    action = _own_action(link, action_id)
    text = (request.form.get("comment") or "").strip()
    try:
        _may_add_to(action)
        problem = _comment_problem(text)
        if problem:
            raise Refusal(problem, 422, "comment")
        if not links.add_comment(get_db(), link["firm_id"], action_id, who=OWNER,
                                 on=dates.firm_today(link["firm_id"]), status=action.status.value,
                                 text=text):
            raise Refusal("This action was changed by someone else a moment ago, so your "
                          "comment is not saved yet. It is below: check it and send it again.",
                          409, "comment")
    except Refusal as refusal:
        return _refused(token, link, action_id, "comment", refusal, comment=text)
    audit("action_commented", action=action_id, by="owner link")
    return _back(token, action_id, "Your comment is saved. Your consultant sees it with the "
                                   "action.")


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _comment_problem(text: str) -> str | None:
    if not text:
        return "Write your comment first."
    if len(text) > links.MAX_COMMENT:
        return (f"Keep the comment under {links.MAX_COMMENT:,} characters (it has "
                f"{len(text):,}); shorten it, or send it in two parts.")
    # Control characters and the bidi controls that reorder text are refused; the rest of
    # what people type (accents, a non-breaking space, emoji joined with zero-width joiners)
    # is kept as typed.
    if any((unicodedata.category(ch) == "Cc" and ch not in "\n\r\t") or ch in BIDI_CONTROLS
           for ch in text):
        return ("The comment holds a control character that cannot be shown; type it again "
                "without it (pasting from another program can bring one in).")
    return None


@bp.post("/roadmap/<token>/actions/<int:action_id>/evidence")
def add_evidence(token: str, action_id: int):
    """A file, a link, or both, as evidence that the action is done. Each is checked first;
    when one is refused, nothing is saved."""
    link, away = _link_or_refusal(token)
    if away:
        return away
    action = _own_action(link, action_id)
    url = (request.form.get("url") or "").strip()
    label = (request.form.get("label") or "").strip()
    upload = request.files.get("file")
    try:
        _may_add_to(action)
        checked, body = None, b""
        if upload is not None and upload.filename:
            body = upload.read()
            try:
                checked = check_upload(upload.filename, body)
            except UploadRefused as refused:
                status = 413 if len(body) > MAX_BYTES else 400
                raise Refusal(str(refused), status, "file") from None
        if url:
            problem = link_problem(url)
            if problem:
                raise Refusal(problem, 400, "url")
            if len(label) > MAX_LABEL:
                raise Refusal(f"Keep the link's name under {MAX_LABEL} characters.", 400,
                              "label")
            if any(not ch.isprintable() for ch in label):
                raise Refusal("Use letters, numbers and punctuation only in the link's name.",
                              400, "label")
        if checked is None and not url:
            raise Refusal("Choose a file, or enter a link, to add as evidence.", 400, "file")
    except Refusal as refusal:
        return _refused(token, link, action_id, "evidence", refusal, url=url, label=label)
    db, firm = get_db(), link["firm_id"]
    added = []
    if checked is not None:
        evidence.add_file(db, firm, action_id, name=checked.name,
                          content_type=checked.content_type, body=body, added_by=OWNER)
        added.append(f"the file “{checked.name}”")
    if url:
        evidence.add_link(db, firm, action_id, name=label or url[:MAX_LABEL], url=url,
                          added_by=OWNER)
        added.append("the link")
    audit("evidence_added", action=action_id, by="owner link", kinds=len(added))
    return _back(token, action_id, f"Added {' and '.join(added)} as evidence for "
                                   f"“{action.title}”. Your consultant sees it with the action.")


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """More than a file of the limit can be: the form cannot be read, so nothing on it was
    saved; the page says so, for the owner to pick a smaller file."""
    token = (request.view_args or {}).get("token", "")
    link, away = _link_or_refusal(token)
    if away:
        return away
    action_id = (request.view_args or {}).get("action_id")
    if request.endpoint == "roadmap_link.add_evidence" and action_id is not None:
        return _refused(token, link, action_id, "evidence", Refusal(
            "The file is larger than 10 MB, the limit, so nothing was saved. Send a smaller "
            "file (a PDF of the key page, a screenshot) or a link to where it is kept.", 413,
            "file"))
    if request.endpoint == "roadmap_link.comment" and action_id is not None:
        return _refused(token, link, action_id, "comment", Refusal(
            f"That comment was far too long to read, so nothing was saved. Keep it under "
            f"{links.MAX_COMMENT:,} characters.", 413, "comment"))
    return _ended("That was too large", "What you sent is larger than we accept. Go back "
                                        "and try again.", 413)


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    """An expired form keeps what the owner typed (shown again, unsaved); a form from another
    site changes nothing at all."""
    if from_another_site():
        return refused_from_another_site("A page on another site sent a form here. Nothing was "
                                         "saved and nothing was changed.")
    args = request.view_args or {}
    if "token" not in args or "action_id" not in args:
        return form_expired()
    link, away = _link_or_refusal(args["token"])
    if away:
        return away
    form = {"roadmap_link.mark_done": "done", "roadmap_link.comment": "comment"}.get(
        request.endpoint or "", "evidence")
    try:
        typed = {"comment": (request.form.get("comment") or "").strip(),
                 "url": (request.form.get("url") or "").strip(),
                 "label": (request.form.get("label") or "").strip()}
    except RequestEntityTooLarge:
        typed = {}
    return _refused(args["token"], link, args["action_id"], form, Refusal(
        "This page had expired, so nothing was saved yet. What you typed is below: check it "
        "and send it again (a file has to be chosen again).", 400), **typed)
