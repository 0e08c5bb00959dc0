"""Firms (the tenants), their members, sign-in sessions, invites, two-step sign-in and rate limits.

One function per operation, each taking the Database first. Every function that takes a member id
also takes the firm id and finds or changes nothing (None or False) for another firm's member.

Passwords are hashed with argon2id (argon2-cffi's defaults) and rehashed on sign-in when those
defaults change. Sign-in tokens and invite tokens are `secrets.token_urlsafe(32)` and only their
SHA-256 hash is stored. Nothing here logs a password, a token or a TOTP secret.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database

from ..support.inputs import (
    PASSWORD_MAX,
    email_problem,
    name_problem,
    normalise_email,
    password_problem,
)
from ..support.tokens import hash_token, new_token
from .db import write

ROLES = ("admin", "consultant")
FIRM_NAME_MAX = 200
FIRM_NAME_TAKEN = "Another firm already has this name. Choose a different one."
LOCK_AFTER = 5  # failures before the first lock
LOCK_FIRST_SECONDS = 60  # doubled for each further failure ...
LOCK_MAX_SECONDS = 60 * 60  # ... up to an hour
INVITE_DAYS = 7
# An invite link must not tell its holder whether an address is registered (in any firm): this
# says what to check without saying which it was.
INVITE_EMAIL_REFUSED = ("We could not create the account with these details. Check that the "
                        "email address is your own and typed correctly; if you already have an "
                        "account, sign in with it instead.")
LOGIN_MAX_AGE_SECONDS = 60 * 60 * 24 * 30
TOTP_ISSUER = "IT Health Assessment"

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
# Unknown emails are checked against this, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """Input that cannot be accepted; `field` names the form field or CLI option it is about."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class InviteInvalid(LookupError):
    """The invite link is wrong, used or expired (the caller does not say which)."""


@dataclass(frozen=True)
class Member:
    id: int
    firm_id: int
    email: str
    name: str
    role: str
    active: bool
    totp_enabled: bool
    firm_name: str
    firm_require_totp: bool
    created_at: str
    last_login_at: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt. `status` is ok, wrong, locked or disabled; callers show
    one message for wrong and locked, so neither reveals whether an account exists."""

    status: str
    member: Member | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Login:
    """A live server-side sign-in: the member and whether this login passed the TOTP step."""

    member: Member
    second_factor_ok: bool
    created_at: str


# ---- helpers ---------------------------------------------------------------------------------

def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None



def _one(db: Database, sql: str, params: list) -> dict | None:
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


_MEMBER_SQL = """
    SELECT users.id, users.firm_id, users.email, users.name, users.role, users.active,
           users.totp_enabled, users.created_at, users.last_login_at,
           firms.name AS firm_name, firms.require_totp AS firm_require_totp
    FROM users JOIN firms ON firms.id = users.firm_id
"""


def _member(row: dict) -> Member:
    return Member(id=row["id"], firm_id=row["firm_id"], email=row["email"], name=row["name"],
                  role=row["role"], active=bool(row["active"]),
                  totp_enabled=bool(row["totp_enabled"]), firm_name=row["firm_name"],
                  firm_require_totp=bool(row["firm_require_totp"]),
                  created_at=row["created_at"], last_login_at=row["last_login_at"])


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash and check passwords with these argon2 parameters from now on. Only the tests call it
    (cheap parameters, so a sign-in costs milliseconds); the app keeps the library's defaults."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# ---- firms -----------------------------------------------------------------------------------

def create_firm(db: Database, name: str) -> int:
    """A new firm. Raises AccountError when the name is empty, too long or another firm's."""
    name = (name or "").strip()
    if not name:
        raise AccountError("firm", "Enter the firm's name.")
    if len(name) > FIRM_NAME_MAX:
        raise AccountError("firm", f"Keep the firm's name under {FIRM_NAME_MAX} characters.")
    stamp = _stamp(_now(None))
    with write(db):
        db.lock("firm names")  # the name is checked and taken in one step, on any engine
        if find_firm_by_name(db, name):
            raise AccountError("firm", FIRM_NAME_TAKEN)
        return db["firms"].insert({"name": name, "created_at": stamp, "updated_at": stamp,
                                   "require_totp": 0}).last_pk


def get_firm(db: Database, firm_id: int) -> dict | None:
    return _one(db, "SELECT id, name, require_totp FROM firms WHERE id = ?", [firm_id])


def _firm_name_key(name: str) -> str:
    return " ".join((name or "").split()).casefold()


def find_firm_by_name(db: Database, name: str, *, other_than: int | None = None) -> dict | None:
    """The oldest firm (other than `other_than`) with this name, or None.

    Names are compared ignoring case and spacing, in Python because SQLite's lower() only folds
    ASCII: a firm name is unique this way, so nobody can pass for another firm on reports or
    join it by mistake."""
    key = _firm_name_key(name)
    for firm in db.query("SELECT id, name, require_totp FROM firms ORDER BY id"):
        if firm["id"] != other_than and _firm_name_key(firm["name"]) == key:
            return firm
    return None


def set_require_totp(db: Database, firm_id: int, required: bool) -> bool:
    """Make two-step sign-in mandatory (or optional) for every member of the firm."""
    with write(db):
        cursor = db.execute("UPDATE firms SET require_totp = ?, updated_at = ? WHERE id = ?",
                            [int(bool(required)), _stamp(_now(None)), firm_id])
        return cursor.rowcount == 1


# ---- members ---------------------------------------------------------------------------------

def create_user(db: Database, firm_id: int, email: str, name: str, password: str,
                role: str = "consultant") -> int:
    """Add a member to a firm. Raises AccountError naming the field for any input problem,
    including an email that another member (of any firm) already uses."""
    email = normalise_email(email)
    for field, problem in (("email", email_problem(email)), ("name", name_problem(name)),
                           ("password", password_problem(password, email))):
        if problem:
            raise AccountError(field, problem)
    if role not in ROLES:
        raise AccountError("role", f"Choose one of: {', '.join(ROLES)}.")
    password_hash = hash_password(password)  # slow: outside the write lock
    with write(db):
        db.lock("member emails")
        if db.execute("SELECT 1 FROM firms WHERE id = ?", [firm_id]).fetchone() is None:
            raise AccountError("firm", "No such firm.")
        if db.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
            raise AccountError("email", "A member with this email address already exists. "
                                        "Use another address, or sign in with this one.")
        return db["users"].insert({
            "firm_id": firm_id, "email": email, "name": name.strip(), "role": role,
            "password_hash": password_hash, "active": 1, "totp_enabled": 0,
            "failed_logins": 0, "created_at": _stamp(_now(None))}).last_pk


def get_user(db: Database, firm_id: int, user_id: int) -> Member | None:
    row = _one(db, _MEMBER_SQL + " WHERE users.id = ? AND users.firm_id = ?", [user_id, firm_id])
    return _member(row) if row else None


def find_user_by_email(db: Database, email: str) -> Member | None:
    row = _one(db, _MEMBER_SQL + " WHERE users.email = ?", [normalise_email(email)])
    return _member(row) if row else None


def list_members(db: Database, firm_id: int) -> list[Member]:
    return [_member(row) for row in db.query(
        _MEMBER_SQL + " WHERE users.firm_id = ? ORDER BY users.active DESC, lower(users.name), "
                      "users.id", [firm_id])]


def set_active(db: Database, firm_id: int, user_id: int, active: bool) -> bool:
    """Enable or disable a member. Disabling ends all their sign-ins at once. False (and nothing
    changed) for a member of another firm."""
    with write(db):
        cursor = db.execute("UPDATE users SET active = ? WHERE id = ? AND firm_id = ?",
                            [int(bool(active)), user_id, firm_id])
        if cursor.rowcount != 1:
            return False
        if not active:
            db.execute("DELETE FROM logins WHERE user_id = ?", [user_id])
        return True


# ---- sign-in, lockout ------------------------------------------------------------------------

def lock_seconds(failures: int) -> int:
    """How long the account is locked after this many failures in a row (0: not locked)."""
    if failures < LOCK_AFTER:
        return 0
    return min(LOCK_FIRST_SECONDS * 2 ** min(failures - LOCK_AFTER, 16), LOCK_MAX_SECONDS)


def _locked(row: dict, moment: datetime) -> bool:
    until = _parse(row["locked_until"])
    return until is not None and until > moment


def _record_failure(db: Database, user_id: int, moment: datetime) -> None:
    with write(db):
        # Counted in the UPDATE itself, so that failures arriving at once (through several web
        # instances on PostgreSQL) each count.
        row = _one(db, "UPDATE users SET failed_logins = coalesce(failed_logins, 0) + 1 "
                       "WHERE id = ? RETURNING failed_logins", [user_id])
        if row is None:
            return
        failures = row["failed_logins"]
        seconds = lock_seconds(failures)
        until = _stamp(moment + timedelta(seconds=seconds)) if seconds else None
        db.execute("UPDATE users SET locked_until = ? WHERE id = ?", [until, user_id])


def verify_sign_in(db: Database, email: str, password: str, *,
                   now: datetime | None = None) -> SignIn:
    """Check an email and password, keeping the per-account lockout in the database.

    After LOCK_AFTER failures in a row the account is locked for a minute, doubling for each
    further failure up to an hour. While locked, even the right password is refused (status
    "locked"); attempts during a lock are not counted. A success clears the count and rehashes
    the password if the hashing parameters have changed.
    """
    moment = _now(now)
    row = _one(db, "SELECT id, password_hash, active, failed_logins, locked_until FROM users "
                   "WHERE email = ?", [normalise_email(email)])
    if row is None or len(password or "") > PASSWORD_MAX:
        _check(_DUMMY_HASH, password or "")
        return SignIn("wrong")
    if _locked(row, moment):
        _check(_DUMMY_HASH, password)  # same cost as a real check
        return SignIn("locked")
    if not _check(row["password_hash"], password):
        _record_failure(db, row["id"], moment)
        return SignIn("wrong")
    new_hash = None
    if _needs_rehash(row["password_hash"]):
        new_hash = hash_password(password)
    changes = {"failed_logins": 0, "locked_until": None}
    if new_hash:
        changes["password_hash"] = new_hash
    if row["active"]:
        changes["last_login_at"] = _stamp(moment)
    with write(db):
        # Only if no parallel failure has locked the account meanwhile (stamps compare as text).
        # Column names are this function's own.
        if db.execute(f"UPDATE users SET {', '.join(f'{c} = ?' for c in changes)} "  # nosec B608
                      "WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?)",
                      [*changes.values(), row["id"], _stamp(moment)]).rowcount == 0:
            gone = _one(db, "SELECT id FROM users WHERE id = ?", [row["id"]]) is None
            return SignIn("wrong" if gone else "locked")
    member = _member(_one(db, _MEMBER_SQL + " WHERE users.id = ?", [row["id"]]))
    return SignIn("ok" if member.active else "disabled", member)


def _check(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def set_password(db: Database, firm_id: int, user_id: int, password: str) -> bool:
    """Give a member a new password and end all their sign-ins. False for another firm's member."""
    member = get_user(db, firm_id, user_id)
    if member is None:
        return False
    problem = password_problem(password, member.email)
    if problem:
        raise AccountError("password", problem)
    password_hash = hash_password(password)
    with write(db):
        cursor = db.execute("UPDATE users SET password_hash = ?, failed_logins = 0, "
                            "locked_until = NULL WHERE id = ? AND firm_id = ?",
                            [password_hash, user_id, firm_id])
        db.execute("DELETE FROM logins WHERE user_id = ?", [user_id])
        return cursor.rowcount == 1


# ---- server-side sign-in sessions ------------------------------------------------------------

def start_login(db: Database, user_id: int, *, second_factor_ok: bool = False,
                now: datetime | None = None,
                max_age_seconds: int = LOGIN_MAX_AGE_SECONDS) -> str:
    """Record a new sign-in and return its token (only the hash is stored). Expired sign-ins of
    the same member are cleared on the way."""
    moment = _now(now)
    token = new_token()
    stamp = _stamp(moment)
    with write(db):
        db.execute("DELETE FROM logins WHERE user_id = ? AND created_at < ?",
                   [user_id, _stamp(moment - timedelta(seconds=max_age_seconds))])
        db["logins"].insert({"token_hash": hash_token(token), "user_id": user_id,
                             "second_factor_ok": int(bool(second_factor_ok)),
                             "created_at": stamp, "last_seen_at": stamp})
    return token


def login_for_token(db: Database, token: str | None, *, now: datetime | None = None,
                    max_age_seconds: int = LOGIN_MAX_AGE_SECONDS) -> Login | None:
    """The live sign-in for this token, of an active member, or None."""
    if not token or len(token) > 200:
        return None
    row = _one(db, """
        SELECT users.id, users.firm_id, users.email, users.name, users.role, users.active,
               users.totp_enabled, users.created_at, users.last_login_at,
               firms.name AS firm_name, firms.require_totp AS firm_require_totp,
               logins.second_factor_ok, logins.created_at AS login_created_at
        FROM logins JOIN users ON users.id = logins.user_id
             JOIN firms ON firms.id = users.firm_id
        WHERE logins.token_hash = ? AND users.active = 1
    """, [hash_token(token)])
    if row is None:
        return None
    if _parse(row["login_created_at"]) < _now(now) - timedelta(seconds=max_age_seconds):
        return None
    return Login(member=_member(row), second_factor_ok=bool(row["second_factor_ok"]),
                 created_at=row["login_created_at"])


def end_login(db: Database, token: str | None) -> None:
    """Sign out: this sign-in stops working everywhere, whoever holds its cookie."""
    if not token:
        return
    with write(db):
        db.execute("DELETE FROM logins WHERE token_hash = ?", [hash_token(token)])


def end_all_logins(db: Database, firm_id: int, user_id: int) -> int:
    """End every sign-in of a member; returns how many ended (0 for another firm's member)."""
    with write(db):
        return db.execute("DELETE FROM logins WHERE user_id = (SELECT id FROM users WHERE id = ? "
                          "AND firm_id = ?)", [user_id, firm_id]).rowcount


def mark_second_factor(db: Database, token: str) -> None:
    with write(db):
        db.execute("UPDATE logins SET second_factor_ok = 1, last_seen_at = ? WHERE token_hash = ?",
                   [_stamp(_now(None)), hash_token(token)])


# ---- invites ---------------------------------------------------------------------------------

def create_invite(db: Database, firm_id: int, created_by: int, role: str = "consultant", *,
                  now: datetime | None = None, days: int = INVITE_DAYS) -> str:
    """A one-time invite link token, valid for `days`; only its hash is stored."""
    if role not in ROLES:
        raise AccountError("role", f"Choose one of: {', '.join(ROLES)}.")
    moment = _now(now)
    token = new_token()
    with write(db):
        if db.execute("SELECT 1 FROM users WHERE id = ? AND firm_id = ?",
                      [created_by, firm_id]).fetchone() is None:
            raise AccountError("created_by", "Not a member of this firm.")
        db["invites"].insert({"token_hash": hash_token(token), "firm_id": firm_id, "role": role,
                              "created_by": created_by, "created_at": _stamp(moment),
                              "expires_at": _stamp(moment + timedelta(days=days)),
                              "ref": secrets.token_urlsafe(9)})
    return token


def invite_for_token(db: Database, token: str | None, *,
                     now: datetime | None = None) -> dict | None:
    """The open (unused, unexpired, not cancelled) invite for this token with its firm's name,
    or None."""
    if not token or len(token) > 200:
        return None
    row = _one(db, "SELECT invites.firm_id, invites.role, invites.expires_at, invites.used_at, "
                   "invites.cancelled_at, firms.name AS firm_name FROM invites "
                   "JOIN firms ON firms.id = invites.firm_id WHERE invites.token_hash = ?",
               [hash_token(token)])
    if row is None or row["used_at"] or row["cancelled_at"] or \
            _parse(row["expires_at"]) <= _now(now):
        return None
    return row


def invite_state(row: dict, *, now: datetime | None = None) -> str:
    """active, used, expired or cancelled."""
    if row["cancelled_at"]:
        return "cancelled"
    if row["used_at"]:
        return "used"
    if _parse(row["expires_at"]) <= _now(now):
        return "expired"
    return "active"


def list_invites(db: Database, firm_id: int, *, now: datetime | None = None) -> list[dict]:
    """Every invite the firm made, newest first, with its state and who used it."""
    rows = db.query(
        "SELECT invites.ref, invites.role, invites.created_at, invites.expires_at, "
        "invites.used_at, invites.cancelled_at, maker.name AS created_by, "
        "joined.name AS used_by FROM invites JOIN users maker ON maker.id = invites.created_by "
        "LEFT JOIN users joined ON joined.id = invites.used_by "
        "WHERE invites.firm_id = ? ORDER BY invites.created_at DESC", [firm_id])
    return [{**row, "state": invite_state(row, now=now)} for row in rows]


def open_invites(db: Database, firm_id: int, *, now: datetime | None = None) -> list[dict]:
    return [row for row in list_invites(db, firm_id, now=now) if row["state"] == "active"]


def invite_by_ref(db: Database, firm_id: int, ref: str) -> dict | None:
    return _one(db, "SELECT ref, role, created_at, expires_at, used_at, cancelled_at FROM "
                    "invites WHERE firm_id = ? AND ref = ?", [firm_id, ref])


def cancel_invite(db: Database, firm_id: int, ref: str) -> bool:
    """The invite link stops working; False when it is another firm's, used or cancelled."""
    with write(db):
        return db.execute("UPDATE invites SET cancelled_at = ? WHERE firm_id = ? AND ref = ? "
                          "AND used_at IS NULL AND cancelled_at IS NULL",
                          [_stamp(_now(None)), firm_id, ref]).rowcount == 1


def accept_invite(db: Database, token: str, email: str, name: str, password: str, *,
                  now: datetime | None = None) -> int:
    """Use an invite: create the member and mark the invite used, in one transaction. Raises
    InviteInvalid for a wrong, used or expired link and AccountError for a field problem."""
    moment = _now(now)
    email = normalise_email(email)
    for field, problem in (("email", email_problem(email)), ("name", name_problem(name)),
                           ("password", password_problem(password, email))):
        if problem:
            raise AccountError(field, problem)
    if invite_for_token(db, token, now=moment) is None:
        raise InviteInvalid()
    password_hash = hash_password(password)
    with write(db):
        db.lock("member emails")  # and the invite is used once
        invite = _one(db, "SELECT firm_id, role FROM invites WHERE token_hash = ? AND used_at IS "
                          "NULL AND cancelled_at IS NULL AND expires_at > ?",
                      [hash_token(token), _stamp(moment)])
        if invite is None:
            raise InviteInvalid()
        if db.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
            raise AccountError("email", INVITE_EMAIL_REFUSED)
        user_id = db["users"].insert({
            "firm_id": invite["firm_id"], "email": email, "name": name.strip(),
            "role": invite["role"], "password_hash": password_hash, "active": 1,
            "totp_enabled": 0, "failed_logins": 0, "created_at": _stamp(moment)}).last_pk
        db.execute("UPDATE invites SET used_at = ?, used_by = ? WHERE token_hash = ?",
                   [_stamp(moment), user_id, hash_token(token)])
    return user_id


# ---- two-step sign-in (TOTP) -----------------------------------------------------------------

def totp_uri(secret: str, email: str, issuer: str = TOTP_ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def start_totp(db: Database, firm_id: int, user_id: int) -> str | None:
    """The secret to enrol with: the pending one if enrolment was started, else a new one. None
    for another firm's member or one who already has two-step sign-in on."""
    with write(db):
        db.lock(f"member {user_id}")  # two tabs enrolling at once get the same secret
        row = _one(db, "SELECT totp_secret, totp_enabled FROM users WHERE id = ? AND firm_id = ?",
                   [user_id, firm_id])
        if row is None or row["totp_enabled"]:
            return None
        if row["totp_secret"]:
            return row["totp_secret"]
        secret = pyotp.random_base32()
        db.execute("UPDATE users SET totp_secret = ?, totp_last_counter = NULL WHERE id = ?",
                   [secret, user_id])
        return secret


def _matching_counter(secret: str, code: str, moment: datetime) -> int | None:
    """The time step (-1, 0 or +1 around now) whose code matches, or None."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(moment)
    found = None
    for counter in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            found = counter
    return found


def confirm_totp(db: Database, firm_id: int, user_id: int, code: str, *,
                 now: datetime | None = None) -> bool:
    """Finish enrolment: turn two-step sign-in on if the code matches the pending secret."""
    moment = _now(now)
    row = _one(db, "SELECT totp_secret, totp_enabled FROM users WHERE id = ? AND firm_id = ?",
               [user_id, firm_id])
    if row is None or row["totp_enabled"] or not row["totp_secret"]:
        return False
    counter = _matching_counter(row["totp_secret"], code, moment)
    if counter is None:
        _record_failure(db, user_id, moment)
        return False
    with write(db):
        return db.execute("UPDATE users SET totp_enabled = 1, totp_last_counter = ? "
                          "WHERE id = ? AND firm_id = ? AND totp_enabled = 0",
                          [counter, user_id, firm_id]).rowcount == 1


def verify_totp(db: Database, firm_id: int, user_id: int, code: str, *,
                now: datetime | None = None) -> str:
    """Check a sign-in code: "ok", "wrong" or "locked". A code is accepted once (a replay of the
    same or an earlier time step is refused); failures count towards the account lockout."""
    moment = _now(now)
    row = _one(db, "SELECT totp_secret, totp_enabled, totp_last_counter, locked_until "
                   "FROM users WHERE id = ? AND firm_id = ?", [user_id, firm_id])
    if row is None or not row["totp_enabled"] or not row["totp_secret"]:
        return "wrong"
    if _locked(row, moment):
        return "locked"
    counter = _matching_counter(row["totp_secret"], code, moment)
    if counter is not None:
        with write(db):
            if db.execute("UPDATE users SET totp_last_counter = ?, failed_logins = 0, "
                          "locked_until = NULL WHERE id = ? AND (totp_last_counter IS NULL OR "
                          "totp_last_counter < ?)", [counter, user_id, counter]).rowcount == 1:
                return "ok"
    _record_failure(db, user_id, moment)
    return "wrong"


def reset_totp(db: Database, firm_id: int, user_id: int) -> bool:
    """Turn a member's two-step sign-in off (a lost phone) and end their sign-ins. False for
    another firm's member."""
    with write(db):
        cursor = db.execute("UPDATE users SET totp_enabled = 0, totp_secret = NULL, "
                            "totp_last_counter = NULL WHERE id = ? AND firm_id = ?",
                            [user_id, firm_id])
        if cursor.rowcount != 1:
            return False
        db.execute("DELETE FROM logins WHERE user_id = ?", [user_id])
        return True


# ---- rate limits -----------------------------------------------------------------------------

def rate_limit_hit(db: Database, key: str, limit: int, window_seconds: int, *,
                   now: datetime | None = None) -> bool:
    """Count one attempt under `key` in a fixed window; True when it goes over `limit` (refuse
    it). Windows that have ended are cleared on the way."""
    moment = _now(now)
    start_cutoff = _stamp(moment - timedelta(seconds=window_seconds))
    with write(db):
        # One statement starts a window or counts one more in it: attempts arriving at once
        # (through several web instances on PostgreSQL) each count.
        count = _one(db, "INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1) "
                         "ON CONFLICT (key) DO UPDATE SET "
                         "count = CASE WHEN rate_limits.window_start <= ? THEN 1 "
                         "ELSE rate_limits.count + 1 END, "
                         "window_start = CASE WHEN rate_limits.window_start <= ? "
                         "THEN excluded.window_start ELSE rate_limits.window_start END "
                         "RETURNING count",
                     [key, _stamp(moment), start_cutoff, start_cutoff])["count"]
        db.execute("DELETE FROM rate_limits WHERE window_start < ?",
                   [_stamp(moment - timedelta(days=1))])
    return count > limit


BRANDING_FIELDS = ("primary_colour", "accent_colour", "contact_line", "disclaimer")


def firm_branding(db: Database, firm_id: int) -> dict | None:
    """The firm's name, colours, contact line, disclaimer and logo (re-encoded PNG bytes)."""
    return _one(db, "SELECT id, name, primary_colour, accent_colour, contact_line, disclaimer, "
                    "logo, logo_type, updated_at FROM firms WHERE id = ?", [firm_id])


def firm_look(db: Database, firm_id: int) -> dict | None:
    """What a client's pages show of the firm: name, colours, contact line, whether it has a
    logo and when the branding last changed (without the logo's bytes)."""
    row = _one(db, "SELECT id, name, primary_colour, accent_colour, contact_line, updated_at, "
                   "logo IS NOT NULL AS has_logo FROM firms WHERE id = ?", [firm_id])
    return {**row, "has_logo": bool(row["has_logo"])} if row else None


def update_branding(db: Database, firm_id: int, *, name: str, logo: bytes | None | object = ...,
                    **fields: str) -> bool:
    """Save the firm's branding. Values are checked by the caller (support/branding.py), except
    that the name must not be another firm's (AccountError on "name"); `logo=...` leaves the
    logo alone, None removes it."""
    changes = {"name": name, **{k: fields[k] for k in BRANDING_FIELDS if k in fields}}
    if logo is not ...:
        changes["logo"] = logo
        changes["logo_type"] = "image/png" if logo else None
    changes["updated_at"] = _stamp(_now(None))
    with write(db):
        db.lock("firm names")
        if find_firm_by_name(db, name, other_than=firm_id):
            raise AccountError("name", FIRM_NAME_TAKEN)
        # Column names come from BRANDING_FIELDS and this function, never from the caller.
        cursor = db.execute(
            f"UPDATE firms SET {', '.join(f'{k} = :{k}' for k in changes)} WHERE id = :id",  # nosec B608
            {**changes, "id": firm_id})
        return cursor.rowcount == 1


def firm_price_list(db: Database, firm_id: int) -> dict | None:
    """The firm's own figures for the plan's cost bands, as saved by `set_firm_price_list`
    ({"currency", "bands": {"low": [low, high], ...}, "saved_on"}), or None: the shipped list.
    A stored value that is not valid JSON is None too (the form checks it on the way in)."""
    row = _one(db, "SELECT price_list FROM firms WHERE id = ?", [firm_id])
    if row is None or not row["price_list"]:
        return None
    try:
        value = json.loads(row["price_list"])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def set_firm_price_list(db: Database, firm_id: int, currency: str | None = None,
                        bands: dict[str, tuple[float, float]] | None = None) -> bool:
    """Save the firm's own figures for one currency (checked by the caller), or with no
    figures go back to the shipped price list. False when there is no such firm."""
    moment = _now(None)
    value = None if not bands else json.dumps(
        {"currency": currency, "bands": {band: [float(low), float(high)]
                                         for band, (low, high) in bands.items()},
         "saved_on": moment.date().isoformat()}, sort_keys=True)
    with write(db):
        cursor = db.execute("UPDATE firms SET price_list = ?, updated_at = ? WHERE id = ?",
                            [value, _stamp(moment), firm_id])
        return cursor.rowcount == 1


def firm_time_zone(db: Database, firm_id: int) -> str | None:
    """The name of the time zone the firm's workspace shows times in, or None: UTC."""
    row = _one(db, "SELECT time_zone FROM firms WHERE id = ?", [firm_id])
    return row["time_zone"] if row and row["time_zone"] else None


def set_firm_time_zone(db: Database, firm_id: int, name: str | None) -> bool:
    """Save the firm's time zone (a name checked by the caller); None goes back to UTC."""
    with write(db):
        cursor = db.execute("UPDATE firms SET time_zone = ?, updated_at = ? WHERE id = ?",
                            [name or None, _stamp(_now(None)), firm_id])
        return cursor.rowcount == 1
