"""Firms (the tenants), their members, sign-ins, invites, two-step sign-in and rate limits: one
module each, their names gathered here (`accounts.create_firm(db, ...)`).

One function per operation, each taking the store first. Every function that takes a member id
also takes the firm id and finds or changes nothing (None or False) for another firm's member.
Sign-in tokens and invite tokens are `secrets.token_urlsafe(32)` and only their SHA-256 hash is
stored. Nothing here logs a password, a token or a TOTP secret.
"""

from .errors import AccountError, InviteInvalid
from .firms import (
    BRANDING_FIELDS,
    FIRM_NAME_MAX,
    FIRM_NAME_TAKEN,
    create_firm,
    find_firm_by_name,
    firm_branding,
    firm_look,
    firm_price_list,
    firm_time_zone,
    get_firm,
    set_firm_price_list,
    set_firm_time_zone,
    set_require_totp,
    update_branding,
)
from .invites import (
    INVITE_DAYS,
    accept_invite,
    cancel_invite,
    create_invite,
    invite_by_ref,
    invite_for_token,
    invite_state,
    list_invites,
)
from .members import (
    ROLES,
    Member,
    create_user,
    find_user_by_email,
    get_user,
    list_members,
    set_active,
    set_password,
)
from .passwords import hash_password, password_hasher, use_password_hasher
from .rate_limits import rate_limit_hit
from .sign_ins import (
    LOCK_AFTER,
    LOCK_FIRST_SECONDS,
    LOCK_MAX_SECONDS,
    LOGIN_MAX_AGE_SECONDS,
    Login,
    SignIn,
    change_password,
    end_all_logins,
    end_login,
    end_other_logins,
    idle_too_long,
    lock_seconds,
    login_for_token,
    start_login,
    touch_login,
    verify_sign_in,
)
from .two_step import (TOTP_ISSUER, confirm_totp, reset_totp, seal_two_step_secrets, start_totp,
                       totp_uri, verify_totp)

__all__ = [
    "BRANDING_FIELDS", "FIRM_NAME_MAX", "FIRM_NAME_TAKEN", "INVITE_DAYS",
    "LOCK_AFTER", "LOCK_FIRST_SECONDS", "LOCK_MAX_SECONDS", "LOGIN_MAX_AGE_SECONDS", "ROLES",
    "TOTP_ISSUER", "AccountError", "InviteInvalid", "Login", "Member", "SignIn", "accept_invite",
    "cancel_invite", "change_password", "confirm_totp", "create_firm", "create_invite",
    "create_user", "end_all_logins", "end_login", "end_other_logins", "find_firm_by_name",
    "find_user_by_email", "firm_branding", "firm_look", "firm_price_list", "firm_time_zone",
    "get_firm", "get_user", "hash_password", "idle_too_long", "invite_by_ref", "invite_for_token",
    "password_hasher",
    "invite_state", "list_invites", "list_members", "lock_seconds", "login_for_token",
    "rate_limit_hit", "reset_totp", "set_active", "set_firm_price_list", "set_firm_time_zone",
    "set_password", "set_require_totp", "seal_two_step_secrets", "start_login", "start_totp",
    "touch_login", "totp_uri", "update_branding", "use_password_hasher", "verify_sign_in",
    "verify_totp",
]
