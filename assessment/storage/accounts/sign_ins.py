"""Signing in: the password check with its per-account lockout, and the server-side sign-ins
(one row per signed-in browser) it starts. A sign-in token is `secrets.token_urlsafe(32)`, and
only its SHA-256 hash is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ...support.inputs import PASSWORD_MAX, normalise_email, password_problem
from ...support.tokens import hash_token, new_token
from ..db import Row, Store
from .. import times
from .errors import AccountError
from .members import MEMBER_SQL, Member, member_of
from .passwords import check_against_nothing, check_password, hash_password, needs_rehash

LOCK_AFTER = 5  # failures before the first lock
LOCK_FIRST_SECONDS = 60  # doubled for each further failure ...
LOCK_MAX_SECONDS = 60 * 60  # ... up to an hour
LOGIN_MAX_AGE_SECONDS = 60 * 60 * 24 * 30


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
    last_seen_at: str = ""  # when this sign-in was last used (touch_login), for the idle limit


def lock_seconds(failures: int) -> int:
    """How long the account is locked after this many failures in a row (0: not locked)."""
    if failures < LOCK_AFTER:
        return 0
    return min(LOCK_FIRST_SECONDS * 2 ** min(failures - LOCK_AFTER, 16), LOCK_MAX_SECONDS)


def locked(row: Row, moment: datetime) -> bool:
    """Whether the member's row (with its locked_until) is locked at this moment."""
    return bool(row["locked_until"]) and not times.passed(row["locked_until"], moment)


def record_failure(db: Store, user_id: int, moment: datetime) -> None:
    """One more failure in a row (a wrong password or code), locking the account from
    LOCK_AFTER on."""
    with db.write():
        # Counted in the UPDATE itself, so that failures arriving at once (through several web
        # instances on PostgreSQL) each count.
        row = db.one("UPDATE users SET failed_logins = coalesce(failed_logins, 0) + 1 "
                     "WHERE id = ? RETURNING failed_logins", [user_id])
        if row is None:
            return
        seconds = lock_seconds(row["failed_logins"])
        until = times.stamp(moment + timedelta(seconds=seconds)) if seconds else None
        db.execute("UPDATE users SET locked_until = ? WHERE id = ?", [until, user_id])


def verify_sign_in(db: Store, email: str, password: str, *,
                   now: datetime | None = None) -> SignIn:
    """Check an email and password, keeping the per-account lockout in the database.

    After LOCK_AFTER failures in a row the account is locked for a minute, doubling for each
    further failure up to an hour. While locked, even the right password is refused (status
    "locked"); attempts during a lock are not counted. A success clears the count and rehashes
    the password if the hashing parameters have changed.
    """
    moment = now if now is not None else times.now()
    row = db.one("SELECT id, password_hash, active, failed_logins, locked_until FROM users "
                 "WHERE email = ?", [normalise_email(email)])
    if row is None or len(password or "") > PASSWORD_MAX:
        check_against_nothing(password or "")
        return SignIn("wrong")
    if locked(row, moment):
        check_against_nothing(password)  # same cost as a real check
        return SignIn("locked")
    if not check_password(row["password_hash"], password):
        record_failure(db, row["id"], moment)
        return SignIn("wrong")
    changes: dict[str, object] = {"failed_logins": 0, "locked_until": None}
    if needs_rehash(row["password_hash"]):
        changes["password_hash"] = hash_password(password)
    if row["active"]:
        changes["last_login_at"] = times.stamp(moment)
    with db.write():
        # Only if no parallel failure has locked the account meanwhile (stored times compare
        # in SQL as the times they are: storage/times.py). Column names are this function's own.
        if db.execute(f"UPDATE users SET {', '.join(f'{c} = ?' for c in changes)} "  # nosec B608
                      "WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?)",
                      [*changes.values(), row["id"], times.stamp(moment)]) == 0:
            gone = db.one("SELECT id FROM users WHERE id = ?", [row["id"]]) is None
            return SignIn("wrong" if gone else "locked")
    found = db.one(MEMBER_SQL + " WHERE users.id = ?", [row["id"]])
    if found is None:  # deleted in between
        return SignIn("wrong")
    member = member_of(found)
    return SignIn("ok" if member.active else "disabled", member)


def start_login(db: Store, user_id: int, *, second_factor_ok: bool = False,
                now: datetime | None = None,
                max_age_seconds: int = LOGIN_MAX_AGE_SECONDS) -> str:
    """Record a new sign-in and return its token (only the hash is stored). Expired sign-ins of
    the same member are cleared on the way."""
    moment = now if now is not None else times.now()
    token = new_token()
    started = times.stamp(moment)
    with db.write():
        db.execute("DELETE FROM logins WHERE user_id = ? AND created_at < ?",
                   [user_id, times.stamp(moment - timedelta(seconds=max_age_seconds))])
        db.execute("INSERT INTO logins (token_hash, user_id, second_factor_ok, created_at, "
                   "last_seen_at) VALUES (?, ?, ?, ?, ?)",
                   [hash_token(token), user_id, int(bool(second_factor_ok)), started, started])
    return token


def login_for_token(db: Store, token: str | None, *, now: datetime | None = None,
                    max_age_seconds: int = LOGIN_MAX_AGE_SECONDS) -> Login | None:
    """The live sign-in for this token, of an active member, or None."""
    if not token or len(token) > 200:
        return None
    row = db.one("""
        SELECT users.id, users.firm_id, users.email, users.name, users.role, users.active,
               users.totp_enabled, users.created_at, users.last_login_at,
               firms.name AS firm_name, firms.require_totp AS firm_require_totp,
               logins.second_factor_ok, logins.created_at AS login_created_at,
               logins.last_seen_at
        FROM logins JOIN users ON users.id = logins.user_id
             JOIN firms ON firms.id = users.firm_id
        WHERE logins.token_hash = ? AND users.active = 1
    """, [hash_token(token)])
    if row is None:
        return None
    moment = now if now is not None else times.now()
    if times.parse(row["login_created_at"]) < moment - timedelta(seconds=max_age_seconds):
        return None
    return Login(member=member_of(row), second_factor_ok=bool(row["second_factor_ok"]),
                 created_at=row["login_created_at"], last_seen_at=row["last_seen_at"])


def idle_too_long(login: Login, idle_seconds: float, *, now: datetime | None = None) -> bool:
    """Whether this sign-in has gone unused for longer than `idle_seconds`."""
    moment = now if now is not None else times.now()
    seen = login.last_seen_at or login.created_at
    return bool(seen) and times.parse(seen) < moment - timedelta(seconds=idle_seconds)


def touch_login(db: Store, token: str, *, now: datetime | None = None,
                unless_within_seconds: float = 0) -> bool:
    """Record that this sign-in was used now (its idle time starts again). With
    `unless_within_seconds`, a sign-in used that recently is left as it is, so that a member
    clicking through pages costs a write a minute, not one per page. True when it was written."""
    moment = now if now is not None else times.now()
    recent = times.stamp(moment - timedelta(seconds=unless_within_seconds))
    with db.write():
        return db.execute("UPDATE logins SET last_seen_at = ? WHERE token_hash = ? AND "
                          "last_seen_at <= ?", [times.stamp(moment), hash_token(token),
                                                recent]) == 1


def end_login(db: Store, token: str | None) -> None:
    """Sign out: this sign-in stops working everywhere, whoever holds its cookie."""
    if not token:
        return
    with db.write():
        db.execute("DELETE FROM logins WHERE token_hash = ?", [hash_token(token)])


def end_other_logins(db: Store, firm_id: int, user_id: int, keep_token: str | None) -> int:
    """End every sign-in of a member but the one of `keep_token` (this browser's); returns how
    many ended (0 for another firm's member)."""
    with db.write():
        return db.execute("DELETE FROM logins WHERE user_id = (SELECT id FROM users WHERE id = ? "
                          "AND firm_id = ?) AND token_hash <> ?",
                          [user_id, firm_id, hash_token(keep_token or "")])


def change_password(db: Store, firm_id: int, user_id: int, current: str, new: str, *,
                    keep_token: str | None, now: datetime | None = None) -> str:
    """A member changes their own password: "ok" (changed, and every other sign-in of theirs
    ended; this browser's, `keep_token`, stays), "wrong" (the current password is not right:
    counted like a wrong password at sign-in, so this form cannot be used to guess it) or
    "locked" (too many wrong passwords lately; nothing checked). Raises AccountError("new", ...)
    for a new password that cannot be used. Nothing is changed unless "ok"."""
    moment = now if now is not None else times.now()
    row = db.one("SELECT users.id, users.email, users.name, users.password_hash, "
                 "users.locked_until FROM users WHERE id = ? AND firm_id = ? AND active = 1",
                 [user_id, firm_id])
    if row is None or len(current or "") > PASSWORD_MAX:
        check_against_nothing(current or "")
        return "wrong"
    if locked(row, moment):
        check_against_nothing(current)  # same cost as a real check
        return "locked"
    if not check_password(row["password_hash"], current):
        record_failure(db, row["id"], moment)
        return "wrong"
    problem = password_problem(new, row["email"], name=row["name"])
    if problem is None and check_password(row["password_hash"], new):
        problem = "Choose a new password, not the one you have now."
    if problem:
        raise AccountError("new", problem)
    password_hash = hash_password(new)  # slow: outside the write lock
    with db.write():
        db.execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL "
                   "WHERE id = ? AND firm_id = ?", [password_hash, user_id, firm_id])
        db.execute("DELETE FROM logins WHERE user_id = ? AND token_hash <> ?",
                   [user_id, hash_token(keep_token or "")])
    return "ok"


def end_all_logins(db: Store, firm_id: int, user_id: int) -> int:
    """End every sign-in of a member; returns how many ended (0 for another firm's member)."""
    with db.write():
        return db.execute("DELETE FROM logins WHERE user_id = (SELECT id FROM users WHERE id = ? "
                          "AND firm_id = ?)", [user_id, firm_id])
