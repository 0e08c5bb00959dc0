"""A firm's members: each an admin or a consultant, signing in with an email address (unique
across firms) and a password."""

from __future__ import annotations

from dataclasses import dataclass

from ...support.inputs import (clean_name, email_problem, name_problem, normalise_email,
                               password_problem)
from ..db import Row, Store
from ..times import stamp
from .errors import AccountError
from .passwords import hash_password

ROLES = ("admin", "consultant")

MEMBER_SQL = """
    SELECT users.id, users.firm_id, users.email, users.name, users.role, users.active,
           users.totp_enabled, users.created_at, users.last_login_at,
           firms.name AS firm_name, firms.require_totp AS firm_require_totp
    FROM users JOIN firms ON firms.id = users.firm_id
"""


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


def member_of(row: Row) -> Member:
    """A Member from a row with MEMBER_SQL's columns."""
    return Member(id=row["id"], firm_id=row["firm_id"], email=row["email"], name=row["name"],
                  role=row["role"], active=bool(row["active"]),
                  totp_enabled=bool(row["totp_enabled"]), firm_name=row["firm_name"],
                  firm_require_totp=bool(row["firm_require_totp"]),
                  created_at=row["created_at"], last_login_at=row["last_login_at"])


def check_details(email: str, name: str, password: str) -> None:
    """Raise AccountError naming the first field with a problem."""
    for field, problem in (("email", email_problem(email)), ("name", name_problem(name)),
                           ("password", password_problem(password, email, name=name))):
        if problem:
            raise AccountError(field, problem)


def check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError("role", f"Choose one of: {', '.join(ROLES)}.")


def create_user(db: Store, firm_id: int, email: str, name: str, password: str,
                role: str = "consultant") -> int:
    """Add a member to a firm. Raises AccountError naming the field for any input problem,
    including an email that another member (of any firm) already uses."""
    email = normalise_email(email)
    check_details(email, name, password)
    check_role(role)
    password_hash = hash_password(password)  # slow: outside the write lock
    with db.write():
        db.lock("member emails")
        if db.one("SELECT 1 FROM firms WHERE id = ?", [firm_id]) is None:
            raise AccountError("firm", "No such firm.")
        if db.one("SELECT 1 FROM users WHERE email = ?", [email]):
            raise AccountError("email", "A member with this email address already exists. "
                                        "Use another address, or sign in with this one.")
        return db.insert("users", {
            "firm_id": firm_id, "email": email, "name": clean_name(name), "role": role,
            "password_hash": password_hash, "active": 1, "totp_enabled": 0,
            "failed_logins": 0, "created_at": stamp()})


def get_user(db: Store, firm_id: int, user_id: int) -> Member | None:
    row = db.one(MEMBER_SQL + " WHERE users.id = ? AND users.firm_id = ?", [user_id, firm_id])
    return member_of(row) if row else None


def find_user_by_email(db: Store, email: str) -> Member | None:
    row = db.one(MEMBER_SQL + " WHERE users.email = ?", [normalise_email(email)])
    return member_of(row) if row else None


def list_members(db: Store, firm_id: int) -> list[Member]:
    return [member_of(row) for row in db.rows(
        MEMBER_SQL + " WHERE users.firm_id = ? ORDER BY users.active DESC, lower(users.name), "
                     "users.id", [firm_id])]


def set_active(db: Store, firm_id: int, user_id: int, active: bool) -> bool:
    """Enable or disable a member. Disabling ends all their sign-ins at once. False (and nothing
    changed) for a member of another firm."""
    with db.write():
        if db.execute("UPDATE users SET active = ? WHERE id = ? AND firm_id = ?",
                      [int(bool(active)), user_id, firm_id]) != 1:
            return False
        if not active:
            db.execute("DELETE FROM logins WHERE user_id = ?", [user_id])
        return True


def set_password(db: Store, firm_id: int, user_id: int, password: str) -> bool:
    """Give a member a new password and end all their sign-ins. False for another firm's member."""
    member = get_user(db, firm_id, user_id)
    if member is None:
        return False
    problem = password_problem(password, member.email)
    if problem:
        raise AccountError("password", problem)
    password_hash = hash_password(password)
    with db.write():
        changed = db.execute("UPDATE users SET password_hash = ?, failed_logins = 0, "
                             "locked_until = NULL WHERE id = ? AND firm_id = ?",
                             [password_hash, user_id, firm_id])
        db.execute("DELETE FROM logins WHERE user_id = ?", [user_id])
        return changed == 1
