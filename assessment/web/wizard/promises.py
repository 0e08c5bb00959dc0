"""The page of what a firm's client agreed last time, asked before the sections of their
self-assessment: "Agreed last time: ... Who does it: your IT provider (Sam at Acme IT); due ...
Is it done now?" Asked afresh (a self-assessment link starts empty) and saved as the owner's
answers like any section; when the firm finishes the assessment, the answers prove each
promise or not (core.promises), exactly as the interview's do. Which promises, and the page's
questions: agreed.py."""

from __future__ import annotations

from flask import flash, redirect, render_template, request

from ...core.progress import progress
from ...storage import accounts
from .. import owner
from ..db import get_db
from ..promise_checks import grouped
from .agreed import asked_first, page_of
from .common import SOURCE, bp, seen
from .links import landing_of
from .sections import page_assessment, private_link_once

# Who does it, as the business reads it.
WHO = {"provider": "your IT provider", "client": "your business", "vendor": "another vendor"}


@bp.route("/promises", methods=["GET", "POST"])
def promises():
    assessment, away = page_assessment()
    if away:
        return away
    if request.method == "POST" and owner.read_only(assessment):
        flash("Nothing was saved. " + owner.read_only(assessment), "warning")
        return redirect(landing_of(assessment), 303)
    asked = asked_first(assessment)
    if not asked:  # finished meanwhile, or nothing promised: the questions as usual
        return redirect(landing_of(assessment), 303)
    page, planned = page_of(assessment, asked)
    status = 200
    if request.method == "POST":
        if page.save(request.form, assessment["id"], source=SOURCE):
            private_link_once(assessment["id"])
            flash("Saved your answers about what was agreed. Now the rest of the assessment.",
                  "success")
            return redirect(landing_of(assessment, promises_first=False), 303)
        status = 422 if page.errors else 409
    firm = accounts.get_firm(get_db(), assessment["firm_id"])
    return render_template("wizard/promises.html", title="What was agreed last time",
                           page=page, groups=grouped(planned, page.views), who=WHO,
                           firm=firm["name"] if firm else "your IT consultant",
                           progress=progress(page.bank, seen(assessment).result)), status
