"""Pages anyone can see: the landing page, and the owner's side of a firm's claim link."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..core.scoring import score
from ..storage import bank_of, stored_answers
from ..storage import clients as store
from . import owner, wizard
from .db import current_bank, get_db

bp = Blueprint("public", __name__)


@bp.get("/")
def landing():
    bank = current_bank()
    sections = [s for s in bank.sections if s.kind == "scored"]
    return render_template("landing.html", sections=sections,
                           question_count=sum(len(s.questions) for s in bank.sections),
                           open_assessment=wizard.open_summary())




@bp.get("/claim/<token>")
def claim(token: str):
    """Show the owner exactly what the firm would receive, and ask."""
    link = store.open_claim_link(get_db(), token)
    if link is None:
        return render_template("public/claim_invalid.html",
                               title="This link cannot be used"), 404
    assessment = owner.current()
    if assessment is None:
        return render_template("public/claim_no_assessment.html", link=link,
                               title=f"Share your assessment with {link['firm_name']}")
    if assessment["firm_id"] is not None:
        return render_template("public/claim_already.html", link=link,
                               title="This assessment is already shared")
    stored = stored_answers(get_db(), assessment["id"], "owner")
    bank = bank_of(get_db(), assessment)
    result = score(bank, {q: s.answer for q, s in stored.items() if s.answer})
    return render_template("public/claim.html", link=link, token=token, result=result,
                           bank=bank, notes=[s for s in stored.values() if s.note],
                           business=_business(stored),
                           title=f"Share your assessment with {link['firm_name']}")


@bp.post("/claim/<token>")
def claim_confirm(token: str):
    link = store.open_claim_link(get_db(), token)
    assessment = owner.current()
    if link is None or assessment is None:
        return render_template("public/claim_invalid.html",
                               title="This link cannot be used"), 404
    if request.form.get("decision") != "share":
        flash("Nothing was shared.", "success")
        return redirect(url_for("wizard.hub"), 303)
    stored = stored_answers(get_db(), assessment["id"], "owner")
    client_id = store.claim(get_db(), token, assessment["id"],
                            _business(stored) or "Owner's self-assessment")
    if client_id is None:
        return render_template("public/claim_invalid.html",
                               title="This link cannot be used"), 409
    flash(f"Shared with {link['firm_name']}. You can still read your answers and results "
          "through your private link.", "success")
    return redirect(url_for("wizard.hub"), 303)


def _business(stored) -> str:
    answer = stored.get("profile.business_name")
    return answer.answer.value if answer and answer.answer else ""
