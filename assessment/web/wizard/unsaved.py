"""A request that could not be saved keeps what the owner typed: a section page sent with an
expired token or session, or larger than the server accepts, is shown again with the answers
on it and a message that says what happened and what to do."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_wtf.csrf import CSRFError

from ...storage import bank_of
from .. import branded, owner
from ..db import get_db
from ..security import form_expired, from_another_site, refused_from_another_site
from .sections import render_section, section_page_for


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
    return render_section(
        section_page_for(assessment, section_id), assessment, 413,
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
        return refused_from_another_site(
            "A page on another site sent a form here. Nothing was saved and nothing was "
            "changed. If you meant to do something here, go to the home page and do it from "
            "there.")
    if request.endpoint == "wizard.resume_open":  # the welcome page again, for another press
        welcome = _welcome_again()
        if welcome is not None:
            return welcome
    if request.endpoint == "wizard.section" and request.method == "POST":
        kept = _section_again()
        if kept is not None:
            return kept
    if request.endpoint == "wizard.autosave":
        return jsonify(error="session", message="Your session has expired. Press Save at the "
                                                "bottom of the page to keep your answers."), 400
    return form_expired()


def _welcome_again():
    assessment = owner.from_token((request.view_args or {}).get("token"))
    if assessment is None:
        return None
    return branded.welcome(
        assessment, request.view_args["token"], status=400,
        notice="That did not go through (the page had expired), so nothing has changed "
               "yet. Press the button again to go on.")


def _section_again():
    """The section page with what was submitted on it, unsaved; None when no assessment is open
    and the form names none that its link still opens."""
    token = request.form.get("resume")
    current = owner.current()
    if current is not None:
        page = section_page_for(current, request.view_args["section_id"])
        if not token or owner.holds(token):  # a form of another assessment: not kept
            page.keep_submitted(request.form)
        return render_section(
            page, current, 400,
            notice="Your session had expired, so this page is not saved yet. Your answers "
                   "are still below: check them and press Save again.")
    named = owner.from_token(token)
    if named is None:
        return None
    page = section_page_for(named, request.view_args["section_id"])
    page.keep_submitted(request.form)
    return render_section(
        page, named, 400, resume_token=token,
        notice="Your session had ended, so this page is not saved yet, and no "
               "assessment is open in this browser now. If this is your assessment, "
               "check your answers below and press Save again to open it here and save "
               "them.")
