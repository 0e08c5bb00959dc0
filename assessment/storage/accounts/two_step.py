"""Two-step sign-in: a TOTP code from the member's phone after the password. A code is accepted
once; wrong codes count towards the same lockout as wrong passwords. Nothing here logs a TOTP
secret, and the database holds each one sealed (support/sealed.py): a copy of it, or a backup,
opens nobody's second step."""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp

from ...support import sealed
from .. import times
from ..db import Store
from .sign_ins import locked, record_failure

TOTP_ISSUER = "IT Health Assessment"


def totp_uri(secret: str, email: str, issuer: str = TOTP_ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def start_totp(db: Store, firm_id: int, user_id: int) -> str | None:
    """The secret to enrol with: the pending one if enrolment was started, else a new one. None
    for another firm's member or one who already has two-step sign-in on."""
    with db.write():
        db.lock(f"member {user_id}")  # two tabs enrolling at once get the same secret
        row = db.one("SELECT totp_secret, totp_enabled FROM users WHERE id = ? AND firm_id = ?",
                     [user_id, firm_id])
        if row is None or row["totp_enabled"]:
            return None
        if row["totp_secret"]:
            return sealed.unseal(str(row["totp_secret"]))
        secret = pyotp.random_base32()
        db.execute("UPDATE users SET totp_secret = ?, totp_last_counter = NULL WHERE id = ?",
                   [sealed.seal(secret), user_id])
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


def confirm_totp(db: Store, firm_id: int, user_id: int, code: str, *,
                 now: datetime | None = None) -> bool:
    """Finish enrolment: turn two-step sign-in on if the code matches the pending secret."""
    moment = now if now is not None else times.now()
    row = db.one("SELECT totp_secret, totp_enabled FROM users WHERE id = ? AND firm_id = ?",
                 [user_id, firm_id])
    if row is None or row["totp_enabled"] or not row["totp_secret"]:
        return False
    counter = _matching_counter(sealed.unseal(row["totp_secret"]), code, moment)
    if counter is None:
        record_failure(db, user_id, moment)
        return False
    with db.write():
        return db.execute("UPDATE users SET totp_enabled = 1, totp_last_counter = ? "
                          "WHERE id = ? AND firm_id = ? AND totp_enabled = 0",
                          [counter, user_id, firm_id]) == 1


def verify_totp(db: Store, firm_id: int, user_id: int, code: str, *,
                now: datetime | None = None) -> str:
    """Check a sign-in code: "ok", "wrong" or "locked". A code is accepted once (a replay of the
    same or an earlier time step is refused); failures count towards the account lockout."""
    moment = now if now is not None else times.now()
    row = db.one("SELECT totp_secret, totp_enabled, totp_last_counter, locked_until "
                 "FROM users WHERE id = ? AND firm_id = ?", [user_id, firm_id])
    if row is None or not row["totp_enabled"] or not row["totp_secret"]:
        return "wrong"
    if locked(row, moment):
        return "locked"
    counter = _matching_counter(sealed.unseal(row["totp_secret"]), code, moment)
    if counter is not None:
        with db.write():
            if db.execute("UPDATE users SET totp_last_counter = ?, failed_logins = 0, "
                          "locked_until = NULL WHERE id = ? AND (totp_last_counter IS NULL OR "
                          "totp_last_counter < ?)", [counter, user_id, counter]) == 1:
                return "ok"
    record_failure(db, user_id, moment)
    return "wrong"


def reset_totp(db: Store, firm_id: int, user_id: int) -> bool:
    """Turn a member's two-step sign-in off (a lost phone) and end their sign-ins. False for
    another firm's member."""
    with db.write():
        if db.execute("UPDATE users SET totp_enabled = 0, totp_secret = NULL, "
                      "totp_last_counter = NULL WHERE id = ? AND firm_id = ?",
                      [user_id, firm_id]) != 1:
            return False
        db.execute("DELETE FROM logins WHERE user_id = ?", [user_id])
        return True


def seal_two_step_secrets(db: Store) -> int:
    """Seal every stored secret that is not sealed with the current key (from before sealing,
    or under a key being rotated out); how many were sealed. The app does it at start-up, so a
    secret stays plain or under an old key only until then."""
    done = 0
    for row in db.rows("SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL"):
        stored = str(row["totp_secret"])
        if not sealed.needs_resealing(stored):
            continue
        try:
            plain = sealed.unseal(stored)
        except sealed.SealError:
            continue  # under a key no longer configured: reset-two-step is the way back
        with db.write():
            # Only if unchanged meanwhile (another instance starting, or the member enrolling).
            done += db.execute("UPDATE users SET totp_secret = ? WHERE id = ? AND totp_secret = ?",
                               [sealed.seal(plain), row["id"], stored])
    return done
