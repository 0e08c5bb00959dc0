"""Members of a firm: sign in and out, two-step sign-in (TOTP), invites and the members page.

Sign-in sessions live on the server: signing in records a row in `logins` (only the SHA-256 of
its token is stored; the token itself sits in the signed session cookie). Flask-Login finds the
member only through a live row of an active member, so signing out (the row is deleted) or
disabling a member (all their rows are deleted) ends those sessions even for someone who kept a
copy of the cookie.

A sign-in that still owes its second factor (or, when the firm requires it, its enrolment) loads a
user whose `is_authenticated` is False, so `member_required` and Flask-Login's own
`login_required` both send it to the right step instead of letting it in.

For other blueprints: `member_required`, `admin_required`, `current_firm_id()`, `signed_in_member()`
and `flask_login.current_user` with `.id, .firm_id, .role, .is_admin, .name, .email, .firm_name`.

One blueprint ("auth") over the modules here: access (who is signed in, the decorators, and the
end of a sign-in left unused past the idle limit), sign_in, account (the member's own page and
password), two_step and members.
"""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from . import account, members, sign_in, two_step
from .access import (
    admin_required,
    bp,
    current_firm_id,
    login_manager,
    member_required,
    signed_in_member,
    workspace_nav,
)

# The modules are imported for the routes they add to bp.
__all__ = ["account", "admin_required", "bp", "current_firm_id", "init_app", "member_required",
           "members", "sign_in", "signed_in_member", "two_step"]


def init_app(app: Flask) -> None:
    # current_user goes to templates as Flask-Login's lazy proxy, not through its context
    # processor, which looks the user up for every page: the owner's wizard never needs one.
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    app.register_blueprint(bp)
    app.jinja_env.globals["workspace_nav"] = workspace_nav
