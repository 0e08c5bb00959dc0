"""A firm's members: accepting an invite, and for admins the members page (invites, disabling
a member, resetting their two-step sign-in, requiring two-step sign-in for everyone)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, ValidationError

from ...storage import accounts
from ...storage.accounts import AccountError, InviteInvalid, Member
from ...support import inputs
from ...support.audit import audit
from ..db import get_db
from ..names import Name
from .access import ROLE_LABELS, admin_required, bp, current_firm_id
from .sign_in import rate_limited, too_many, trimmed

INVITE_RATE_LIMITED = ("Too many tries from your network. Wait five minutes, then try again.")
# What every accepted invite form is told, whether its address was new or already had an
# account: the same words, so that an invite link cannot be used to find out who is registered.
INVITE_DONE = ("Thank you: your invite link is now used. If this email address had no account "
               "here, yours is ready: sign in below with it and the password you chose. If it "
               "already had one, nothing was changed: sign in with that account's own "
               "password, or ask whoever invited you for a new link to join with another "
               "address.")


class AcceptInviteForm(FlaskForm):
    name = StringField("Your name", filters=[trimmed], validators=[
        DataRequired("Enter your name, as colleagues and clients will see it."),
        Name("your name")])
    email = EmailField("Email address", filters=[trimmed], validators=[
        DataRequired("Enter your email address; you will sign in with it.")])
    password = PasswordField("Password", validators=[DataRequired("Choose a password.")])
    confirm = PasswordField("Type the password again", validators=[
        DataRequired("Type the password again, to be sure it is what you meant."),
        EqualTo("password", "The two passwords are not the same. Type them again.")])

    def validate_email(self, field):
        problem = inputs.email_problem(field.data or "")
        if problem:
            raise ValidationError(problem)

    def validate_password(self, field):
        problem = inputs.password_problem(field.data or "", self.email.data or "",
                                          name=self.name.data or "")
        if problem:
            raise ValidationError(problem)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    db = get_db()
    invite = accounts.invite_for_token(db, token)
    if invite is None:
        return render_template("auth/invite_invalid.html",
                               title="This invite link does not work"), 404
    form = AcceptInviteForm()
    context = {"form": form, "invite": invite, "title": f"Join {invite['firm_name']}",
               "role_label": ROLE_LABELS.get(invite["role"], invite["role"])}
    if request.method == "GET":
        return render_template("auth/accept_invite.html", **context)
    # Tries are limited like sign-ins: each one costs a password hash, and uses the link.
    if rate_limited("invite"):
        return too_many("auth/accept_invite.html", INVITE_RATE_LIMITED, **context)
    if form.validate_on_submit():
        try:
            user_id = accounts.accept_invite(db, token, form.email.data, form.name.data,
                                             form.password.data)
        except InviteInvalid:
            return render_template("auth/invite_invalid.html",
                                   title="This invite link does not work"), 404
        except AccountError as error:
            getattr(form, error.field, form.email).errors.append(error.message)
        else:
            # One answer whatever the address: a new account and an address that already had
            # one look the same here (the same page, nobody signed in, the link used), so the
            # link cannot tell who is registered. The audit log, for the operator, says which.
            if user_id is None:
                audit("invite_refused", reason="email in use", firm=invite["firm_id"])
            else:
                audit("invite_accepted", member=user_id, firm=invite["firm_id"])
            flash(INVITE_DONE, "success")
            return redirect(url_for("auth.login"), 303)
    return render_template("auth/accept_invite.html", **context), 400


class InviteForm(FlaskForm):
    role = SelectField("Role", choices=[
        SelectChoice("consultant", "Consultant"), SelectChoice("admin", "Admin")],
                       default="consultant",
                       validate_choice=False, validators=[
                           AnyOf(accounts.ROLES, message="Choose Consultant or Admin.")])


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(("0", "1"), message="Use the buttons on the page.")])


class RequireTotpForm(FlaskForm):
    required = HiddenField(validators=[AnyOf(("0", "1"), message="Use the buttons on the page.")])


class ButtonForm(FlaskForm):
    """A button that only needs its CSRF token."""


def _render_members(invite_form: InviteForm | None = None, status: int = 200,
                    error: str | None = None):
    db = get_db()
    firm_id = current_firm_id()
    return render_template(
        "auth/members.html", title="Members", members=accounts.list_members(db, firm_id),
        invites=accounts.list_invites(db, firm_id), invite_form=invite_form or InviteForm(),
        role_labels=ROLE_LABELS, error=error,
        require_totp=current_user.firm_require_totp), status


def _member_or_404(user_id: int) -> Member:
    member = accounts.get_user(get_db(), current_firm_id(), user_id)
    if member is None:
        abort(404)
    return member


@bp.get("/members")
@admin_required
def members():
    return _render_members()


@bp.post("/members/invite")
@admin_required
def invite():
    form = InviteForm()
    if not form.validate_on_submit():
        return _render_members(form, 400)
    return _new_invite(form.role.data)


def _new_invite(role: str, replaced: bool = False):
    token = accounts.create_invite(get_db(), current_firm_id(), current_user.id, role)
    audit("invite_created", member=current_user.id, role=role)
    # Shown once, here; only its hash is stored, so it cannot be shown again.
    return render_template("auth/invite_created.html", title="Invite link ready",
                           url=url_for("auth.accept_invite", token=token, _external=True),
                           role_label=ROLE_LABELS[role], days=accounts.INVITE_DAYS,
                           expires=accounts.invite_for_token(get_db(), token)["expires_at"],
                           replaced=replaced)


def _invite_or_404(ref: str) -> dict:
    invite = accounts.invite_by_ref(get_db(), current_firm_id(), ref)
    if invite is None:
        audit("access_denied", reason="no such invite in this firm", member=current_user.id)
        abort(404)
    return invite


@bp.post("/members/invites/<invite_id>/cancel")
@admin_required
def cancel_invite(invite_id: str):
    _invite_or_404(invite_id)
    if accounts.cancel_invite(get_db(), current_firm_id(), invite_id):
        audit("invite_cancelled", member=current_user.id)
        flash("Cancelled: the invite link no longer works.", "success")
    else:
        flash("That invite was used or cancelled already.", "info")
    return redirect(url_for("auth.members", _anchor="invites"), 303)


@bp.post("/members/invites/<invite_id>/replace")
@admin_required
def replace_invite(invite_id: str):
    """Cancel an invite not used yet and make a new one for the same role."""
    invite = _invite_or_404(invite_id)
    if invite["used_at"]:
        flash("That invite was used already.", "info")
        return redirect(url_for("auth.members", _anchor="invites"), 303)
    accounts.cancel_invite(get_db(), current_firm_id(), invite_id)
    audit("invite_cancelled", member=current_user.id, replaced=True)
    return _new_invite(invite["role"], replaced=True)


@bp.post("/members/<int:user_id>/active")
@admin_required
def set_member_active(user_id: int):
    member = _member_or_404(user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        return _render_members(status=400, error="That did not work. Use the Disable or Enable "
                                                 "button next to the member.")
    active = form.active.data == "1"
    if member.id == current_user.id and not active:
        return _render_members(status=400, error="You cannot disable your own account. Ask "
                                                 "another admin to do it.")
    if not active and request.form.get("confirm") != "yes":
        # Disabling signs them out everywhere at once: asked first, on a page of its own.
        return render_template("auth/disable_confirm.html", member=member,
                               title=f"Disable {member.name}?")
    accounts.set_active(get_db(), current_firm_id(), member.id, active)
    audit("member_enabled" if active else "member_disabled", by=current_user.id,
          member=member.id)
    flash(f"{member.name} can sign in again." if active else
          f"{member.name} is disabled and signed out everywhere.", "success")
    return redirect(url_for("auth.members"), 303)


@bp.post("/members/<int:user_id>/reset-two-step")
@admin_required
def reset_member_totp(user_id: int):
    member = _member_or_404(user_id)
    if not ButtonForm().validate_on_submit():
        return _render_members(status=400, error="That did not work. Reload the page and try "
                                                 "again.")
    if member.id == current_user.id:
        return _render_members(status=400, error="You cannot reset your own two-step sign-in. "
                                                 "Ask another admin to do it.")
    accounts.reset_totp(get_db(), current_firm_id(), member.id)
    audit("two_step_reset", by=current_user.id, member=member.id)
    flash(f"{member.name}'s two-step sign-in was reset and they were signed out. They can set "
          "it up again after their next sign-in.", "success")
    return redirect(url_for("auth.members"), 303)


@bp.post("/members/two-step")
@admin_required
def require_totp():
    form = RequireTotpForm()
    if not form.validate_on_submit():
        return _render_members(status=400, error="That did not work. Use the button in the "
                                                 "two-step sign-in section.")
    required = form.required.data == "1"
    if required and not current_user.totp_enabled:
        return _render_members(status=400, error="Set up two-step sign-in for your own account "
                                                 "first (Your account, then Two-step sign-in), "
                                                 "so you are not locked out.")
    accounts.set_require_totp(get_db(), current_firm_id(), required)
    audit("two_step_policy", by=current_user.id, firm=current_firm_id(),
          required=required)
    flash("Everyone now needs two-step sign-in. Members without it set it up at their next "
          "sign-in." if required else "Two-step sign-in is now optional.", "success")
    return redirect(url_for("auth.members"), 303)
