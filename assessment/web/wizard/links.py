"""The owner's private links: opening an assessment from its link (after a firm's welcome page,
or asking first when another is open or a member is signed in), starting again beside an open
one, and the summary a person recognises an assessment by."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for

from ...core.progress import progress
from ...storage import accounts, bank_of
from ...storage import clients as store
from ...storage.clients import self_link_refusal
from .. import branded, owner
from ..auth import signed_in_member
from ..db import get_db
from ..security import navigated_from_another_site
from .agreed import waiting
from .common import bp, seen


@bp.get("/start-again")
def start_again():
    """Before a new assessment replaces the open one in this browser: the open one's private
    link, to keep, and the choice."""
    assessment = owner.current()
    if assessment is None:
        return redirect(url_for("public.landing"), 303)
    return render_template("wizard/start_again.html", title="Start a new assessment?",
                           current=summary(assessment), resume_url=resume_url())


def summary(assessment: dict) -> dict:
    """What a person needs to recognise an assessment: whose, when, how far, from which firm."""
    db = get_db()
    bank = bank_of(db, assessment)
    view = seen(assessment)
    state = progress(bank, view.result)
    firm = accounts.get_firm(db, assessment["firm_id"]) if assessment["firm_id"] else None
    return {"id": assessment["id"], "business": view.business_name,
            "started": assessment["created_at"], "updated": assessment["updated_at"],
            "finished": assessment["status"] == "finished", "done": state.done,
            "total": state.total, "firm": firm["name"] if firm else None,
            "shared": owner.shared_with_firm(assessment), "next": landing_of(assessment)}


def open_summary() -> dict | None:
    """The summary of the assessment open in this browser, for pages that offer to go back to
    it (the landing page, "page not found"); None when none is, or it cannot be read."""
    try:
        assessment = owner.current()
        return summary(assessment) if assessment is not None else None
    except Exception:  # a page about something else must not fail for this
        return None


def resume_url() -> str:
    return url_for("wizard.resume", token=session.get("resume_token", ""), _external=True)


def landing_of(assessment: dict, *, promises_first: bool = True) -> str:
    """Where opening an assessment lands: its results once finished, else what was agreed last
    time while some of it is unanswered (a firm's client with promises), else the first
    question still to answer, else the review page."""
    if assessment["status"] == "finished":
        return url_for("wizard.results")
    if promises_first and waiting(assessment):
        return url_for("wizard.promises")
    bank = bank_of(get_db(), assessment)
    where = progress(bank, seen(assessment).result).next_open()
    if where is None:
        return url_for("wizard.review")
    section, question = where
    return url_for("wizard.section", section_id=section.id, _anchor=f"q-{question.id}")


@bp.get("/resume/<token>")
def resume(token: str):
    """Open the assessment of a private link. A link is something any page elsewhere can send a
    browser to, so it opens nothing in place of an open assessment or beside a member's sign-in
    without asking first (wizard.switch), nor, followed from another site, even with nothing
    open (wizard/open_confirm.html, whose button is resume_open). A firm's self-assessment
    link first shows who sent it and why (branded.welcome), and changes nothing until its
    button is pressed."""
    assessment, away = _link_or_refusal(token)
    if away:
        return away
    current = owner.current()
    if (current is None or current["id"] != assessment["id"]) and \
            branded.shows_welcome(assessment, signed_in_member()):
        welcome = branded.welcome(assessment, token)
        if welcome is not None:
            return welcome
    if current is None and signed_in_member() is None and navigated_from_another_site():
        # Nothing open to lose, yet a page elsewhere may be planting its own assessment here,
        # for the visitor to type their answers into: asked first, like a switch.
        return render_template("wizard/open_confirm.html", title="Open this assessment?",
                               target=summary(assessment))
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
    return redirect(landing_of(assessment), 303)


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
            return redirect(landing_of(target), 303)
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
        resume_url=resume_url() if current else None,
        workspace_url=url_for("workspace.assessment", assessment_id=target["id"])
        if own_firm else None)
