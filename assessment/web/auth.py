"""Members of a firm: sign in and out, two-step sign-in (TOTP), invites and the members page.

Sign-in sessions live on the server: signing in records a row in `logins` (only the SHA-256 of
its token is stored; the token itself sits in the signed session cookie). Flask-Login finds the
member only through a live row of an active member, so signing out (the row is deleted) or
disabling a member (all their rows are deleted) ends those sessions even for someone who kept a
copy of the cookie.

A sign-in that still owes its second factor (or, when the firm requires it, its enrolment) loads a
user whose `is_authenticated` is False, so `member_required` and Flask-Login's own
`login_required` both send it to the right step instead of letting it in.

For other blueprints: `member_required`, `admin_required`, `current_firm_id()`, and
`flask_login.current_user` with `.id, .firm_id, .role, .is_admin, .name, .email, .firm_name`.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, ValidationError

from ..storage import accounts
from ..storage.accounts import AccountError, InviteInvalid, Login, Member
from ..support import inputs
from ..support.audit import audit, typed_email
from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/account")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"

SESSION_TOKEN = "login_token"
SESSION_NEXT = "after_sign_in"
WRONG = "The email or password is not right. Check both and try again."
DISABLED = ("This account has been disabled. Ask an admin at your firm to enable it again.")
RATE_LIMITED = ("Too many sign-in attempts from your network. Wait five minutes, then try "
                "again.")
INVITE_RATE_LIMITED = ("Too many tries from your network. Wait five minutes, then try again.")
ROLE_LABELS = {"admin": "Admin", "consultant": "Consultant"}
# Links in the workspace menu, shown only when their endpoint exists (blueprints land one by one).
NAV = (("workspace.clients", "Clients", False), ("workspace.branding", "Branding", True),
       ("workspace.prices", "Prices", True), ("workspace.settings", "Settings", True),
       ("auth.members", "Members", True),
       ("auth.account", "Your account", False))


# ---- the signed-in member --------------------------------------------------------------------

class User(UserMixin):
    """The member behind this request's live sign-in."""

    def __init__(self, login: Login, token: str):
        member = login.member
        self.id = member.id
        self.firm_id = member.firm_id
        self.role = member.role
        self.name = member.name
        self.email = member.email
        self.firm_name = member.firm_name
        self.totp_enabled = member.totp_enabled
        self.firm_require_totp = member.firm_require_totp
        self.second_factor_ok = login.second_factor_ok
        self._token = token

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def pending_step(self) -> str | None:
        """The endpoint this sign-in must pass before it counts, or None when it is complete."""
        if self.totp_enabled and not self.second_factor_ok:
            return "auth.second_factor"
        if self.firm_require_totp and not self.totp_enabled:
            return "auth.totp_setup"
        return None

    @property
    def is_authenticated(self) -> bool:
        return self.pending_step is None

    def __repr__(self) -> str:  # never the token
        return f"<User {self.id} firm {self.firm_id} {self.role}>"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    token = session.get(SESSION_TOKEN)
    if not token:
        return None
    login = accounts.login_for_token(get_db(), token, max_age_seconds=_lifetime())
    if login is None or str(login.member.id) != user_id:
        return None
    return User(login, token)


@login_manager.unauthorized_handler
def unauthorized():
    user = _signed_in_user()
    if user is not None and user.pending_step:
        return redirect(url_for(user.pending_step), 303)
    if request.is_json or request.accept_mimetypes.best == "application/json":
        response = jsonify(error="signin", message="Your sign-in has ended. Sign in again, "
                                                   "then repeat what you were doing.")
        response.status_code = 401
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.login", next=_safe_next(target)), 303)


def _signed_in_user() -> User | None:
    """The loaded user, complete or still owing a step; None when nobody is signed in."""
    user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def signed_in_member() -> User | None:
    """The member signed in on this browser (their sign-in complete or not), or None."""
    return _signed_in_user()


def member_required(view):
    """A signed-in, active member whose sign-in is complete (second factor done if needed)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        user = _signed_in_user()
        if user is None or not user.is_authenticated:
            if any(name.endswith("_id") for name in kwargs):
                # An address naming a firm's object says nothing to a stranger, not even that
                # it exists: the same 404 another firm's member gets.
                audit("access_denied", reason="not signed in")
                return render_template(
                    "error.html", title="Page not found",
                    message="There is nothing here you can see. If you work with clients, sign "
                            "in first.", sign_in=True), 404
            return login_manager.unauthorized()
        return view(*args, **kwargs)
    return wrapped


def admin_required(view):
    """As member_required, and the member is an admin of their firm (403 otherwise)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            audit("access_denied", reason="not an admin", member=current_user.id)
            return render_template(
                "error.html", title="Only admins can do this",
                message="This page is for your firm's admins. Ask one of them if you need "
                        "something changed here."), 403
        return view(*args, **kwargs)
    return member_required(wrapped)


def current_firm_id() -> int:
    """The signed-in member's firm: every query a view makes is scoped to it."""
    user = _signed_in_user()
    if user is None or not user.is_authenticated:
        abort(login_manager.unauthorized())
    return user.firm_id


def workspace_nav() -> list[dict]:
    """The workspace menu for the signed-in member: only endpoints that exist and they may use."""
    user = _signed_in_user()
    if user is None or not user.is_authenticated:
        return []
    views = current_app.view_functions
    return [{"label": label, "url": url_for(endpoint), "current": request.endpoint == endpoint}
            for endpoint, label, admin_only in NAV
            if endpoint in views and (user.is_admin or not admin_only)]


# ---- helpers ---------------------------------------------------------------------------------

def _lifetime() -> int:
    return int(current_app.permanent_session_lifetime.total_seconds())


def _home_url() -> str:
    endpoint = current_app.config.get("HOME_ENDPOINT", "workspace.clients")
    if endpoint not in current_app.view_functions:
        endpoint = "auth.account"
    return url_for(endpoint)


def _safe_next(target: str | None) -> str | None:
    """A local path to return to after sign-in, or None for anything else: another site, or a
    control character such as a line break, which the Location header cannot carry."""
    if not target or len(target) > 2000 or "\\" in target or not target.startswith("/") \
            or target.startswith("//") or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if parts.path.startswith(url_for("auth.login")) or parts.path.startswith("/static/"):
        return None
    return target.rstrip("?") or None


def _after_sign_in() -> str:
    return _safe_next(session.pop(SESSION_NEXT, None)) or _home_url()


def _begin_session(member: Member, *, second_factor_ok: bool = False,
                   next_url: str | None = None) -> User:
    """A fresh session for this member: the old one (and its server-side sign-in) is ended first,
    so the cookie before and after differ and the old one is worth nothing."""
    db = get_db()
    accounts.end_login(db, session.get(SESSION_TOKEN))
    next_url = next_url or session.get(SESSION_NEXT)
    session.clear()
    token = accounts.start_login(db, member.id, second_factor_ok=second_factor_ok,
                                 max_age_seconds=_lifetime())
    user = User(Login(member=member, second_factor_ok=second_factor_ok, created_at=""), token)
    login_user(user)
    session[SESSION_TOKEN] = token
    if _safe_next(next_url):
        session[SESSION_NEXT] = next_url
    return user


def _step_or_home(user: User):
    if user.pending_step:
        return redirect(url_for(user.pending_step), 303)
    return redirect(_after_sign_in(), 303)


def _rate_limited(form: str = "sign_in") -> bool:
    """True when this address has used up its tries at `form` ("sign_in", which its second step
    shares, or "invite") in the window; counted in the database, so across every worker."""
    limit = int(current_app.config.get("SIGNIN_RATE_LIMIT", 20))
    window = int(current_app.config.get("SIGNIN_RATE_WINDOW", 300))
    key = f"{form}:{request.remote_addr or 'unknown'}"
    if accounts.rate_limit_hit(get_db(), key, limit, window):
        audit(f"{form}_rate_limited")
        return True
    return False


def _too_many(template: str, message: str = RATE_LIMITED, **context):
    response = current_app.make_response(
        (render_template(template, too_many=message, **context), 429))
    response.headers["Retry-After"] = str(int(current_app.config.get("SIGNIN_RATE_WINDOW", 300)))
    return response


def _problem(title: str, message: str, status: int):
    return render_template("error.html", title=title, message=message), status


# ---- forms -----------------------------------------------------------------------------------

def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _no_spaces(value):
    return "".join(value.split()) if isinstance(value, str) else value


class SignInForm(FlaskForm):
    email = EmailField("Email address", filters=[_strip], validators=[
        DataRequired("Enter your email address."),
        Length(max=inputs.EMAIL_MAX, message="Enter your email address like name@example.com.")])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password."),
        Length(max=inputs.PASSWORD_MAX, message="Enter your password as you set it.")])


class CodeForm(FlaskForm):
    code = StringField("6-digit code", filters=[_no_spaces], validators=[
        DataRequired("Enter the 6-digit code from your authenticator app."),
        Length(min=6, max=6, message="Enter the 6 digits your authenticator app shows, like "
                                     "123456.")])

    def validate_code(self, field):
        if not (field.data or "").isdigit():
            raise ValidationError("The code is 6 digits, like 123456. Enter only the digits.")


class AcceptInviteForm(FlaskForm):
    name = StringField("Your name", filters=[_strip], validators=[
        DataRequired("Enter your name, as colleagues and clients will see it."),
        Length(max=inputs.NAME_MAX, message=f"Keep your name under {inputs.NAME_MAX} "
                                              "characters.")])
    email = EmailField("Email address", filters=[_strip], validators=[
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
        problem = inputs.password_problem(field.data or "", self.email.data or "")
        if problem:
            raise ValidationError(problem)


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


# ---- sign in and out -------------------------------------------------------------------------

@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    user = _signed_in_user()
    if user is not None and request.method == "GET":
        return _step_or_home(user)
    form = SignInForm()
    next_url = _safe_next(request.args.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", form=form, title="Sign in")
    if _rate_limited():
        return _too_many("auth/login.html", form=form, title="Sign in")
    if form.validate_on_submit():
        result = accounts.verify_sign_in(get_db(), form.email.data, form.password.data)
        if result.ok:
            audit("sign_in", member=result.member.id, firm=result.member.firm_id)
            return _step_or_home(_begin_session(result.member, next_url=next_url))
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


@bp.route("/two-step", methods=["GET", "POST"])
def second_factor():
    user = _signed_in_user()
    if user is None:
        return login_manager.unauthorized()
    if user.pending_step != "auth.second_factor":
        return _step_or_home(user)
    form = CodeForm()
    if request.method == "GET":
        return render_template("auth/second_factor.html", form=form, title="Enter your code")
    if _rate_limited():
        return _too_many("auth/second_factor.html", form=form, title="Enter your code")
    if form.validate_on_submit():
        outcome = accounts.verify_totp(get_db(), user.firm_id, user.id, form.code.data)
        if outcome == "ok":
            member = accounts.get_user(get_db(), user.firm_id, user.id)
            audit("second_factor_passed", member=user.id)
            return _step_or_home(_begin_session(member, second_factor_ok=True))
        audit("second_factor_failed", member=user.id, reason=outcome)
        form.code.errors.append("That code is not right, or was used already. Wait for the "
                                "next code in your authenticator app and enter it.")
    return render_template("auth/second_factor.html", form=form, title="Enter your code"), 400


@bp.route("/two-step/setup", methods=["GET", "POST"])
def totp_setup():
    user = _signed_in_user()
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
    if _rate_limited():
        return _too_many("auth/totp_setup.html", **context)
    if form.validate_on_submit():
        if accounts.confirm_totp(get_db(), user.firm_id, user.id, form.code.data):
            member = accounts.get_user(get_db(), user.firm_id, user.id)
            audit("two_step_enabled", member=user.id)
            new_user = _begin_session(member, second_factor_ok=True)
            flash("Two-step sign-in is on. From now on you will enter a code from your app "
                  "after your password.", "success")
            if not user.firm_require_totp:  # turned on by choice, from the account page
                return redirect(url_for("auth.account"), 303)
            return _step_or_home(new_user)
        form.code.errors.append("That code does not match. Check the app shows "
                                f"{accounts.TOTP_ISSUER} for {user.email}, then enter the "
                                "code it shows now.")
    return render_template("auth/totp_setup.html", **context), 400


@bp.get("/")
@member_required
def account():
    return render_template("auth/account.html", title="Your account",
                           role_label=ROLE_LABELS.get(current_user.role, current_user.role))


# ---- invites ---------------------------------------------------------------------------------

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
    # Each try can tell whether an email is registered (the account is made only if not), so
    # tries are limited like sign-ins.
    if _rate_limited("invite"):
        return _too_many("auth/accept_invite.html", INVITE_RATE_LIMITED, **context)
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
            member = accounts.get_user(db, invite["firm_id"], user_id)
            audit("invite_accepted", member=user_id, firm=invite["firm_id"])
            flash(f"Welcome to {member.firm_name}. You are signed in.", "success")
            return _step_or_home(_begin_session(member))
    return render_template("auth/accept_invite.html", **context), 400


# ---- members (admins) ------------------------------------------------------------------------

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


def init_app(app: Flask) -> None:
    # current_user goes to templates as Flask-Login's lazy proxy, not through its context
    # processor, which looks the user up for every page: the owner's wizard never needs one.
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    app.register_blueprint(bp)
    app.jinja_env.globals["workspace_nav"] = workspace_nav
