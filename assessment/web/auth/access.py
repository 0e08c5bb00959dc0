"""Who is signed in, and what they may see: the member behind a request's live sign-in, the
decorators views use (`member_required`, `admin_required`), `current_firm_id()` that scopes every
query, and the workspace menu."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, logout_user

from ...storage import accounts
from ...storage.accounts import Login
from ...support.audit import audit
from ...support.config import member_idle_seconds
from ..db import get_db

bp = Blueprint("auth", __name__, url_prefix="/account")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"
SESSION_TOKEN = "login_token"
SESSION_NEXT = "after_sign_in"
# A sign-in's last use is written at most this often (seconds): its idle time is measured to the
# minute, at one small write a minute per member instead of one per page.
TOUCH_EVERY = 60
ROLE_LABELS = {"admin": "Admin", "consultant": "Consultant"}
# Links in the workspace menu, shown only when their endpoint exists (blueprints land one by one).
NAV = (("workspace.clients", "Clients", False), ("workspace.portfolio", "Portfolio", False),
       ("workspace.branding", "Branding", True),
       ("workspace.prices", "Prices", True), ("workspace.settings", "Settings", True),
       ("auth.members", "Members", True),
       ("auth.account", "Your account", False))


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
    db = get_db()
    login = accounts.login_for_token(db, token, max_age_seconds=session_lifetime())
    if login is None or str(login.member.id) != user_id:
        return None
    if accounts.idle_too_long(login, member_idle_seconds(current_app.config)):
        # Unused past the member's idle limit: this sign-in ends here, whoever holds the cookie.
        accounts.end_login(db, token)
        g.sign_in_ended = "idle"
        audit("signed_out_idle", member=login.member.id)
        return None
    if accounts.idle_too_long(login, TOUCH_EVERY):
        accounts.touch_login(db, token, unless_within_seconds=TOUCH_EVERY)
    return User(login, token)


def idle_message() -> str:
    return (f"You were signed out because your workspace was not used for "
            f"{_duration(member_idle_seconds(current_app.config))}. Sign in again to carry on.")


def _duration(seconds: float) -> str:
    hours, minutes = seconds / 3600, round(seconds / 60)
    if hours >= 1 and hours == int(hours):
        return f"{int(hours)} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# Pages of the auth blueprint anyone may open; its others, and the workspace, need a member.
OPEN_ENDPOINTS = frozenset({"auth.login", "auth.accept_invite"})


@bp.before_app_request
def end_idle_sign_in():
    """A member's first request after their idle limit signs them out, and says why: a member's
    page sends them to the sign-in page with the message; any other page (an owner's) carries on
    without the sign-in, the message on it."""
    if SESSION_TOKEN not in session or request.blueprint == "health":  # probes: no cookie
        return None
    signed_in_member()  # loads the sign-in, ending it if it was idle too long
    if g.get("sign_in_ended") != "idle":
        return None
    logout_user()
    for key in (SESSION_TOKEN, SESSION_NEXT):
        session.pop(key, None)
    member_page = request.blueprint == "workspace" or (
        request.blueprint == "auth" and request.endpoint not in OPEN_ENDPOINTS)
    if member_page and (request.is_json or request.accept_mimetypes.best == "application/json"):
        response = jsonify(error="signin", message=idle_message())
        response.status_code = 401
        return response
    flash(idle_message(), "info")
    if member_page:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.login", next=safe_next(target)), 303)
    return None


@login_manager.unauthorized_handler
def unauthorized():
    user = signed_in_member()
    if user is not None and user.pending_step:
        return redirect(url_for(user.pending_step), 303)
    if request.is_json or request.accept_mimetypes.best == "application/json":
        response = jsonify(error="signin", message="Your sign-in has ended. Sign in again, "
                                                   "then repeat what you were doing.")
        response.status_code = 401
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.login", next=safe_next(target)), 303)


def signed_in_member() -> User | None:
    """The member signed in on this browser (their sign-in complete or not), or None."""
    user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def member_required(view):
    """A signed-in, active member whose sign-in is complete (second factor done if needed)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        user = signed_in_member()
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
    user = signed_in_member()
    if user is None or not user.is_authenticated:
        abort(login_manager.unauthorized())
    return user.firm_id


def workspace_nav() -> list[dict]:
    """The workspace menu for the signed-in member: only endpoints that exist and they may use."""
    user = signed_in_member()
    if user is None or not user.is_authenticated:
        return []
    views = current_app.view_functions
    return [{"label": label, "url": url_for(endpoint), "current": request.endpoint == endpoint}
            for endpoint, label, admin_only in NAV
            if endpoint in views and (user.is_admin or not admin_only)]


def session_lifetime() -> int:
    return int(current_app.permanent_session_lifetime.total_seconds())


def safe_next(target: str | None) -> str | None:
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
