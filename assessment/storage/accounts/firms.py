"""Firms, the tenants: a name no other firm has, two-step sign-in for all or not, branding, and
the firm's own price list and time zone."""

from __future__ import annotations

import json
from typing import Any

from ...support.inputs import clean_name, name_problem, name_skeleton
from ..db import Row, Store
from ..times import now, stamp
from .errors import AccountError

FIRM_NAME_MAX = 200
FIRM_NAME_TAKEN = "Another firm already has this name. Choose a different one."
BRANDING_FIELDS = ("primary_colour", "accent_colour", "contact_line", "disclaimer")


def firm_name_problem(name: str | None) -> str | None:
    return name_problem(name, what="the firm's name", limit=FIRM_NAME_MAX)


def create_firm(db: Store, name: str) -> int:
    """A new firm. Raises AccountError when the name is empty, too long, holds a hidden or
    look-alike character, or reads as another firm's."""
    problem = firm_name_problem(name)
    if problem:
        raise AccountError("firm", problem)
    name = clean_name(name)
    moment = stamp()
    with db.write():
        db.lock("firm names")  # the name is checked and taken in one step, on any engine
        if find_firm_by_name(db, name):
            raise AccountError("firm", FIRM_NAME_TAKEN)
        return db.insert("firms", {"name": name, "created_at": moment, "updated_at": moment,
                                   "require_totp": 0})


def get_firm(db: Store, firm_id: int) -> Row | None:
    return db.one("SELECT id, name, require_totp FROM firms WHERE id = ?", [firm_id])


def find_firm_by_name(db: Store, name: str, *, other_than: int | None = None) -> Row | None:
    """The oldest firm (other than `other_than`) whose name reads as this one, or None.

    Names are compared by their skeleton (support/inputs.py: case, accents, spacing and
    look-alike letters set aside), in Python because SQL cannot fold them: a firm name is
    unique this way, so nobody can pass for another firm on reports ("Alpha Advіsory" with a
    Cyrillic "і") or join it by mistake."""
    key = name_skeleton(name)
    for firm in db.rows("SELECT id, name, require_totp FROM firms ORDER BY id"):
        if firm["id"] != other_than and name_skeleton(firm["name"]) == key:
            return firm
    return None


def set_require_totp(db: Store, firm_id: int, required: bool) -> bool:
    """Make two-step sign-in mandatory (or optional) for every member of the firm."""
    with db.write():
        return db.execute("UPDATE firms SET require_totp = ?, updated_at = ? WHERE id = ?",
                          [int(bool(required)), stamp(), firm_id]) == 1


def firm_branding(db: Store, firm_id: int) -> Row | None:
    """The firm's name, colours, contact line, disclaimer and logo (re-encoded PNG bytes)."""
    return db.one("SELECT id, name, primary_colour, accent_colour, contact_line, disclaimer, "
                  "logo, logo_type, updated_at FROM firms WHERE id = ?", [firm_id])


def firm_look(db: Store, firm_id: int) -> Row | None:
    """What a client's pages show of the firm: name, colours, contact line, whether it has a
    logo and when the branding last changed (without the logo's bytes)."""
    row = db.one("SELECT id, name, primary_colour, accent_colour, contact_line, updated_at, "
                 "logo IS NOT NULL AS has_logo FROM firms WHERE id = ?", [firm_id])
    return {**row, "has_logo": bool(row["has_logo"])} if row else None


def update_branding(db: Store, firm_id: int, *, name: str, logo: bytes | None | Any = ...,
                    **fields: str) -> bool:
    """Save the firm's branding. Values are checked by the caller (support/branding.py), except
    the name: AccountError on "name" when it cannot be kept or reads as another firm's.
    `logo=...` leaves the logo alone, None removes it."""
    problem = firm_name_problem(name)
    if problem:
        raise AccountError("name", problem)
    changes: dict[str, Any] = {"name": clean_name(name),
                               **{k: fields[k] for k in BRANDING_FIELDS if k in fields}}
    if logo is not ...:
        changes["logo"] = logo
        changes["logo_type"] = "image/png" if logo else None
    changes["updated_at"] = stamp()
    with db.write():
        db.lock("firm names")
        if find_firm_by_name(db, name, other_than=firm_id):
            raise AccountError("name", FIRM_NAME_TAKEN)
        # Column names come from BRANDING_FIELDS and this function, never from the caller.
        return db.execute(
            f"UPDATE firms SET {', '.join(f'{k} = :{k}' for k in changes)} WHERE id = :id",  # nosec B608
            {**changes, "id": firm_id}) == 1


def firm_price_list(db: Store, firm_id: int) -> dict | None:
    """The firm's own figures for the plan's cost bands, as saved by `set_firm_price_list`
    ({"currency", "bands": {"low": [low, high], ...}, "saved_on"}), or None: the shipped list.
    A stored value that is not valid JSON is None too (the form checks it on the way in)."""
    row = db.one("SELECT price_list FROM firms WHERE id = ?", [firm_id])
    if row is None or not row["price_list"]:
        return None
    try:
        value = json.loads(row["price_list"])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def set_firm_price_list(db: Store, firm_id: int, currency: str | None = None,
                        bands: dict[str, tuple[float, float]] | None = None) -> bool:
    """Save the firm's own figures for one currency (checked by the caller), or with no
    figures go back to the shipped price list. False when there is no such firm."""
    moment = now()
    value = None if not bands else json.dumps(
        {"currency": currency, "bands": {band: [float(low), float(high)]
                                         for band, (low, high) in bands.items()},
         "saved_on": moment.date().isoformat()}, sort_keys=True)
    with db.write():
        return db.execute("UPDATE firms SET price_list = ?, updated_at = ? WHERE id = ?",
                          [value, stamp(moment), firm_id]) == 1


def firm_time_zone(db: Store, firm_id: int) -> str | None:
    """The name of the time zone the firm's workspace shows times in, or None: UTC."""
    row = db.one("SELECT time_zone FROM firms WHERE id = ?", [firm_id])
    return row["time_zone"] if row and row["time_zone"] else None


def set_firm_time_zone(db: Store, firm_id: int, name: str | None) -> bool:
    """Save the firm's time zone (a name checked by the caller); None goes back to UTC."""
    with db.write():
        return db.execute("UPDATE firms SET time_zone = ?, updated_at = ? WHERE id = ?",
                          [name or None, stamp(), firm_id]) == 1
