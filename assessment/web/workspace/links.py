"""Links the firm hands out: a client's self-assessment link (shown once, only its hash kept;
cancelled or replaced here) and claim links, through which an owner shares their own
assessment with the firm."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ...storage import clients as store
from ...support.audit import audit
from .. import owner
from ..auth import current_firm_id, member_required
from ..db import current_bank, get_db
from .common import assessment_or_404, bp, client_or_404


@bp.post("/clients/<int:client_id>/self-assessment")
@member_required
def send_self_assessment(client_id: int):
    """A self-assessment for the client to fill in with the owner wizard; the link is shown once
    (only its hash is kept), so the consultant copies it now or makes a new one later."""
    client_or_404(client_id)
    token, token_hash = owner.new_resume_token()
    assessment_id = store.start_client_assessment(
        get_db(), current_bank(), current_firm_id(), client_id, mode="self",
        created_by=current_user.id, resume_token_hash=token_hash)
    audit("link_created", kind="self", assessment=assessment_id, member=current_user.id)
    return _show_link(client_id, url_for("wizard.resume", token=token, _external=True),
                      expires=assessment_or_404(assessment_id)["link_expires_at"])


@bp.post("/assessments/<assessment_id>/link/cancel")
@member_required
def cancel_self_link(assessment_id: str):
    record = assessment_or_404(assessment_id)
    if store.cancel_self_link(get_db(), current_firm_id(), assessment_id):
        audit("link_cancelled", kind="self", assessment=assessment_id, member=current_user.id)
        flash("Cancelled: the link no longer opens the assessment, also where it is open "
              "already. The answers are kept; replace the link to give the client a new one.",
              "success")
    else:
        flash("That link was cancelled already, or there is none.", "info")
    return redirect(url_for("workspace.client", client_id=record["client_id"],
                            _anchor="links"), 303)


@bp.post("/assessments/<assessment_id>/link/replace")
@member_required
def replace_self_link(assessment_id: str):
    """A new link to the same assessment, answers kept; the old one stops working."""
    record = assessment_or_404(assessment_id)
    token, token_hash = owner.new_resume_token()
    if not store.replace_self_link(get_db(), current_firm_id(), assessment_id, token_hash):
        flash("This assessment has no client link to replace.", "error")
        return redirect(url_for("workspace.client", client_id=record["client_id"]), 303)
    audit("link_replaced", kind="self", assessment=assessment_id, member=current_user.id)
    return _show_link(record["client_id"],
                      url_for("wizard.resume", token=token, _external=True),
                      expires=assessment_or_404(assessment_id)["link_expires_at"],
                      replaced=True)


@bp.post("/clients/<int:client_id>/claim-link")
@member_required
def claim_link(client_id: int):
    client_or_404(client_id)
    return _new_claim_link(client_id)


@bp.post("/claim-link")
@member_required
def claim_link_new_client():
    return _new_claim_link(None)


def _new_claim_link(client_id: int | None, replaced: bool = False):
    token = store.create_claim_link(get_db(), current_firm_id(), current_user.id, client_id)
    audit("link_created", kind="claim", client=client_id, member=current_user.id)
    link = url_for("public.claim", token=token, _external=True)
    expires = store.open_claim_link(get_db(), token)["expires_at"]
    if client_id is None:
        return render_template("workspace/link.html", title="Link for an owner", link=link,
                               kind="claim", client=None, expires=expires, replaced=replaced)
    return _show_link(client_id, link, kind="claim", expires=expires, replaced=replaced)


def _claim_link_or_404(ref: str) -> dict:
    link = store.claim_link_by_ref(get_db(), current_firm_id(), ref)
    if link is None:
        audit("access_denied", reason="no such claim link in this firm", member=current_user.id)
        abort(404)
    return link


def _back_from(link: dict):
    if link["client_id"] is None:
        return redirect(url_for("workspace.clients", _anchor="owner-links"), 303)
    return redirect(url_for("workspace.client", client_id=link["client_id"], _anchor="links"),
                    303)


@bp.post("/claim-links/<link_id>/cancel")
@member_required
def cancel_claim_link(link_id: str):
    link = _claim_link_or_404(link_id)
    if store.cancel_claim_link(get_db(), current_firm_id(), link_id):
        audit("link_cancelled", kind="claim", member=current_user.id)
        flash("Cancelled: the link for the owner no longer works.", "success")
    else:
        flash("That link was used or cancelled already.", "info")
    return _back_from(link)


@bp.post("/claim-links/<link_id>/replace")
@member_required
def replace_claim_link(link_id: str):
    """Cancel a link for an owner that is not used yet and make a new one in its place."""
    link = _claim_link_or_404(link_id)
    if link["used_at"]:
        flash("That link was used already: the owner's assessment is with you.", "info")
        return _back_from(link)
    store.cancel_claim_link(get_db(), current_firm_id(), link_id)
    audit("link_replaced", kind="claim", member=current_user.id)
    return _new_claim_link(link["client_id"], replaced=True)


def _show_link(client_id: int, link: str, kind: str = "self", expires: str | None = None,
               replaced: bool = False):
    return render_template("workspace/link.html", title="Link for your client", link=link,
                           kind=kind, client=client_or_404(client_id), expires=expires,
                           replaced=replaced)
