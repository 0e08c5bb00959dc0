"""The member's own account page: who they are, two-step sign-in, and changing their password,
which signs out every other browser of theirs and keeps this one."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ...storage import accounts
from ...storage.accounts import AccountError
from ...support import inputs
from ...support.audit import audit
from ..db import get_db
from .access import ROLE_LABELS, SESSION_TOKEN, bp, member_required

WRONG_CURRENT = ("That is not your current password. Type the password you signed in with; "
                 "after 5 wrong tries in a row your account pauses for a minute.")
LOCKED = ("Your account is paused after several wrong passwords. Wait a minute, then type your "
          "current password again.")


class PasswordForm(FlaskForm):
    current = PasswordField("Your current password", validators=[
        DataRequired("Type your current password, to show it is you."),
        Length(max=inputs.PASSWORD_MAX, message="Type your current password as you set it.")])
    new = PasswordField("New password", validators=[DataRequired("Choose a new password.")])
    confirm = PasswordField("Type the new password again", validators=[
        DataRequired("Type the new password again, to be sure it is what you meant."),
        EqualTo("new", "The two new passwords are not the same. Type them again.")])

    def validate_new(self, field):
        problem = inputs.password_problem(field.data or "", current_user.email,
                                          name=current_user.name)
        if problem:
            raise ValidationError(problem)


def _account_page(form: PasswordForm | None = None, status: int = 200):
    return render_template("auth/account.html", title="Your account",
                           role_label=ROLE_LABELS.get(current_user.role, current_user.role),
                           password_form=form or PasswordForm()), status


@bp.get("/")
@member_required
def account():
    return _account_page()


@bp.post("/password")
@member_required
def change_password():
    """Change one's own password: the current one first (counted like a sign-in's), then the
    new one twice. Every other sign-in of this member ends; this browser stays signed in."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            outcome = accounts.change_password(
                get_db(), current_user.firm_id, current_user.id, form.current.data,
                form.new.data, keep_token=session.get(SESSION_TOKEN))
        except AccountError as error:
            form.new.errors.append(error.message)
        else:
            if outcome == "ok":
                audit("password_changed", member=current_user.id)
                flash("Your password is changed. You are still signed in here; every other "
                      "browser where you were signed in is now signed out.", "success")
                return redirect(url_for("auth.account"), 303)
            audit("password_change_refused", member=current_user.id, reason=outcome)
            form.current.errors.append(LOCKED if outcome == "locked" else WRONG_CURRENT)
    return _account_page(form, 400)
