"""Signing in and out: the password step, a fresh session for each sign-in (the old one ended),
and the limit on tries from one network."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ...storage import accounts
from ...storage.accounts import Login, Member
from ...support import inputs
from ...support.audit import audit, typed_email
from ..db import get_db
from .access import (
    SESSION_NEXT,
    SESSION_TOKEN,
    User,
    bp,
    safe_next,
    session_lifetime,
    signed_in_member,
)

WRONG = "The email or password is not right. Check both and try again."
DISABLED = ("This account has been disabled. Ask an admin at your firm to enable it again.")
RATE_LIMITED = ("Too many sign-in attempts from your network. Wait five minutes, then try "
                "again.")


def _home_url() -> str:
    endpoint = current_app.config.get("HOME_ENDPOINT", "workspace.clients")
    if endpoint not in current_app.view_functions:
        endpoint = "auth.account"
    return url_for(endpoint)


def _after_sign_in() -> str:
    return safe_next(session.pop(SESSION_NEXT, None)) or _home_url()


def begin_session(member: Member, *, second_factor_ok: bool = False,
                   next_url: str | None = None) -> User:
    """A fresh session for this member: the old one (and its server-side sign-in) is ended first,
    so the cookie before and after differ and the old one is worth nothing."""
    db = get_db()
    accounts.end_login(db, session.get(SESSION_TOKEN))
    next_url = next_url or session.get(SESSION_NEXT)
    session.clear()
    token = accounts.start_login(db, member.id, second_factor_ok=second_factor_ok,
                                 max_age_seconds=session_lifetime())
    user = User(Login(member=member, second_factor_ok=second_factor_ok, created_at=""), token)
    login_user(user)
    session[SESSION_TOKEN] = token
    if safe_next(next_url):
        session[SESSION_NEXT] = next_url
    return user


def step_or_home(user: User):
    if user.pending_step:
        return redirect(url_for(user.pending_step), 303)
    return redirect(_after_sign_in(), 303)


def rate_limited(form: str = "sign_in") -> bool:
    """True when this address has used up its tries at `form` ("sign_in", which its second step
    shares, or "invite") in the window; counted in the database, so across every worker."""
    limit = int(current_app.config.get("SIGNIN_RATE_LIMIT", 20))
    window = int(current_app.config.get("SIGNIN_RATE_WINDOW", 300))
    key = f"{form}:{request.remote_addr or 'unknown'}"
    if accounts.rate_limit_hit(get_db(), key, limit, window):
        audit(f"{form}_rate_limited")
        return True
    return False


def too_many(template: str, message: str = RATE_LIMITED, **context):
    response = current_app.make_response(
        (render_template(template, too_many=message, **context), 429))
    response.headers["Retry-After"] = str(int(current_app.config.get("SIGNIN_RATE_WINDOW", 300)))
    return response


def trimmed(value):
    return value.strip() if isinstance(value, str) else value


class SignInForm(FlaskForm):
    email = EmailField("Email address", filters=[trimmed], validators=[
        DataRequired("Enter your email address."),
        Length(max=inputs.EMAIL_MAX, message="Enter your email address like name@example.com.")])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password."),
        Length(max=inputs.PASSWORD_MAX, message="Enter your password as you set it.")])


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    user = signed_in_member()
    if user is not None and request.method == "GET":
        return step_or_home(user)
    form = SignInForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", form=form, title="Sign in")
    if rate_limited():
        return too_many("auth/login.html", form=form, title="Sign in")
    if form.validate_on_submit():
        result = accounts.verify_sign_in(get_db(), form.email.data, form.password.data)
        if result.ok:
            audit("sign_in", member=result.member.id, firm=result.member.firm_id)
            return step_or_home(begin_session(result.member, next_url=next_url))
        if result.status == "disabled":
            audit("sign_in_refused", reason="disabled", member=result.member.id)
            form.email.errors.append(DISABLED)
        else:
            typed = typed_email(form.email.data)
            audit("sign_in_failed", reason=result.status, **typed)
            if result.status == "locked":
                audit("account_locked", **typed)
            form.email.errors.append(WRONG)
    return render_template("auth/login.html", form=form, title="Sign in"), 400


@bp.post("/sign-out")
def logout():
    accounts.end_login(get_db(), session.get(SESSION_TOKEN))
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"), 303)
