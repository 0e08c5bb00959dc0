"""Pages anyone can see: the landing page."""

from __future__ import annotations

from flask import Blueprint, render_template

from .db import current_bank

bp = Blueprint("public", __name__)


@bp.get("/")
def landing():
    bank = current_bank()
    sections = [s for s in bank.sections if s.kind == "scored"]
    return render_template("landing.html", sections=sections,
                           question_count=sum(len(s.questions) for s in bank.sections))
