"""Invites: a one-time link an admin gives someone to join the firm as a member, valid for
INVITE_DAYS. The token is `secrets.token_urlsafe(32)`; only its SHA-256 hash is stored, and a
public `ref` names the invite on the admin's buttons."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from ...support.inputs import clean_name, normalise_email
from ...support.tokens import hash_token, new_token
from .. import times
from ..db import Row, Store
from .errors import AccountError, InviteInvalid
from .members import check_details, check_role
from .passwords import hash_password

INVITE_DAYS = 7


def create_invite(db: Store, firm_id: int, created_by: int, role: str = "consultant", *,
                  now: datetime | None = None, days: int = INVITE_DAYS) -> str:
    """A one-time invite link token, valid for `days`; only its hash is stored."""
    check_role(role)
    moment = now if now is not None else times.now()
    token = new_token()
    with db.write():
        if db.one("SELECT 1 FROM users WHERE id = ? AND firm_id = ?",
                  [created_by, firm_id]) is None:
            raise AccountError("created_by", "Not a member of this firm.")
        db.execute("INSERT INTO invites (token_hash, firm_id, role, created_by, created_at, "
                   "expires_at, ref) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [hash_token(token), firm_id, role, created_by, times.stamp(moment),
                    times.stamp(moment + timedelta(days=days)), secrets.token_urlsafe(9)])
    return token


def invite_for_token(db: Store, token: str | None, *,
                     now: datetime | None = None) -> Row | None:
    """The open (unused, unexpired, not cancelled) invite for this token with its firm's name,
    or None."""
    if not token or len(token) > 200:
        return None
    row = db.one("SELECT invites.firm_id, invites.role, invites.expires_at, invites.used_at, "
                 "invites.cancelled_at, firms.name AS firm_name FROM invites "
                 "JOIN firms ON firms.id = invites.firm_id WHERE invites.token_hash = ?",
                 [hash_token(token)])
    if row is None or invite_state(row, now=now) != "active":
        return None
    return row


def invite_state(row: Row, *, now: datetime | None = None) -> str:
    """active, used, expired or cancelled."""
    if row["cancelled_at"]:
        return "cancelled"
    if row["used_at"]:
        return "used"
    if times.passed(row["expires_at"], now):
        return "expired"
    return "active"


def list_invites(db: Store, firm_id: int, *, now: datetime | None = None) -> list[Row]:
    """Every invite the firm made, newest first, with its state and who used it."""
    rows = db.rows(
        "SELECT invites.ref, invites.role, invites.created_at, invites.expires_at, "
        "invites.used_at, invites.cancelled_at, maker.name AS created_by, "
        "invites.used_by AS used_by_id, joined.name AS used_by FROM invites "
        "JOIN users maker ON maker.id = invites.created_by "
        "LEFT JOIN users joined ON joined.id = invites.used_by "
        "WHERE invites.firm_id = ? ORDER BY invites.created_at DESC", [firm_id])
    return [{**row, "state": invite_state(row, now=now)} for row in rows]


def invite_by_ref(db: Store, firm_id: int, ref: str) -> Row | None:
    return db.one("SELECT ref, role, created_at, expires_at, used_at, cancelled_at FROM "
                  "invites WHERE firm_id = ? AND ref = ?", [firm_id, ref])


def cancel_invite(db: Store, firm_id: int, ref: str) -> bool:
    """The invite link stops working; False when it is another firm's, used or cancelled."""
    with db.write():
        return db.execute("UPDATE invites SET cancelled_at = ? WHERE firm_id = ? AND ref = ? "
                          "AND used_at IS NULL AND cancelled_at IS NULL",
                          [times.stamp(), firm_id, ref]) == 1


def accept_invite(db: Store, token: str, email: str, name: str, password: str, *,
                  now: datetime | None = None) -> int | None:
    """Use an invite: create the member and mark the invite used, in one transaction. Raises
    InviteInvalid for a wrong, used or expired link and AccountError for a field problem.

    An address that already has an account (in any firm) creates nothing, yet the invite is
    used all the same and None is returned: whoever holds the link learns nothing from how it
    went, nor from the link afterwards, about which addresses are registered. The password is
    hashed either way, so both take as long."""
    moment = now if now is not None else times.now()
    email = normalise_email(email)
    check_details(email, name, password)
    if invite_for_token(db, token, now=moment) is None:
        raise InviteInvalid()
    password_hash = hash_password(password)
    with db.write():
        db.lock("member emails")  # and the invite is used once
        invite = db.one("SELECT firm_id, role FROM invites WHERE token_hash = ? AND used_at IS "
                        "NULL AND cancelled_at IS NULL AND expires_at > ?",
                        [hash_token(token), times.stamp(moment)])
        if invite is None:
            raise InviteInvalid()
        user_id = None
        if db.one("SELECT 1 FROM users WHERE email = ?", [email]) is None:
            user_id = db.insert("users", {
                "firm_id": invite["firm_id"], "email": email, "name": clean_name(name),
                "role": invite["role"], "password_hash": password_hash, "active": 1,
                "totp_enabled": 0, "failed_logins": 0, "created_at": times.stamp(moment)})
        db.execute("UPDATE invites SET used_at = ?, used_by = ? WHERE token_hash = ?",
                   [times.stamp(moment), user_id, hash_token(token)])
    return user_id
