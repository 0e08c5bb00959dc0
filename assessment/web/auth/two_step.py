"""Two-step sign-in (TOTP): the code after the password, and setting it up, by choice or
because the firm requires it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ...storage import accounts
from ...support.audit import audit
from ..db import get_db
from .access import bp, login_manager, signed_in_member
from .sign_in import begin_session, rate_limited, step_or_home, too_many


def _no_spaces(value):
    return "".join(value.split()) if isinstance(value, str) else value


class CodeForm(FlaskForm):
    code = StringField("6-digit code", filters=[_no_spaces], validators=[
        DataRequired("Enter the 6-digit code from your authenticator app."),
        Length(min=6, max=6, message="Enter the 6 digits your authenticator app shows, like "
                                     "123456.")])

    def validate_code(self, field):
        if not (field.data or "").isdigit():
            raise ValidationError("The code is 6 digits, like 123456. Enter only the digits.")


@bp.route("/two-step", methods=["GET", "POST"])
def second_factor():
    user = signed_in_member()
    if user is None:
        return login_manager.unauthorized()
    if user.pending_step != "auth.second_factor":
        return step_or_home(user)
    form = CodeForm()
    if request.method == "GET":
        return render_template("auth/second_factor.html", form=form, title="Enter your code")
    if rate_limited():
        return too_many("auth/second_factor.html", form=form, title="Enter your code")
    if form.validate_on_submit():
        outcome = accounts.verify_totp(get_db(), user.firm_id, user.id, form.code.data)
        if outcome == "ok":
            member = accounts.get_user(get_db(), user.firm_id, user.id)
            audit("second_factor_passed", member=user.id)
            return step_or_home(begin_session(member, second_factor_ok=True))
        audit("second_factor_failed", member=user.id, reason=outcome)
        form.code.errors.append("That code is not right, or was used already. Wait for the "
                                "next code in your authenticator app and enter it.")
    return render_template("auth/second_factor.html", form=form, title="Enter your code"), 400


@bp.route("/two-step/setup", methods=["GET", "POST"])
def totp_setup():
    user = signed_in_member()
    if user is None:
        return login_manager.unauthorized()
    if user.pending_step == "auth.second_factor":  # never re-enrol on a password alone
        return redirect(url_for("auth.second_factor"), 303)
    if user.totp_enabled:
        return render_template("auth/totp_setup.html", title="Two-step sign-in", enabled=True)
    form = CodeForm()
    secret = accounts.start_totp(get_db(), user.firm_id, user.id)
    if secret is None:  # turned on meanwhile, in another window
        return redirect(url_for("auth.totp_setup"), 303)
    context = {"title": "Set up two-step sign-in", "enabled": False, "form": form,
               "secret": secret, "uri": accounts.totp_uri(secret, user.email),
               "required": user.firm_require_totp}
    if request.method == "GET":
        return render_template("auth/totp_setup.html", **context)
    if rate_limited():
        return too_many("auth/totp_setup.html", **context)
    if form.validate_on_submit():
        if accounts.confirm_totp(get_db(), user.firm_id, user.id, form.code.data):
            member = accounts.get_user(get_db(), user.firm_id, user.id)
            audit("two_step_enabled", member=user.id)
            new_user = begin_session(member, second_factor_ok=True)
            flash("Two-step sign-in is on. From now on you will enter a code from your app "
                  "after your password.", "success")
            if not user.firm_require_totp:  # turned on by choice, from the account page
                return redirect(url_for("auth.account"), 303)
            return step_or_home(new_user)
        form.code.errors.append("That code does not match. Check the app shows "
                                f"{accounts.TOTP_ISSUER} for {user.email}, then enter the "
                                "code it shows now.")
    return render_template("auth/totp_setup.html", **context), 400
