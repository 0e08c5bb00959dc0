"""Times as storage keeps them: text in one form, UTC to the millisecond, always 29 characters
("2025-03-04T14:05:00.123+00:00"). One width and one offset make the order of the text the order
of the times, so SQL can compare and sort stored times (`expires_at > ?`, ORDER BY created_at)
with a parameter made by `stamp`. Python compares them as datetimes, through `parse`.

Older versions wrote some times to the second; migration `times_in_one_form` rewrote those in this
form, and `parse` reads either (a restored old backup is migrated before it is used).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime | None = None) -> str:
    """A time (now when not given; a naive one is taken as UTC) in the stored form."""
    moment = now() if moment is None else moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def stamp_in(*, days: float = 0, seconds: float = 0) -> str:
    """The stored form of a time this far from now (an expiry)."""
    return stamp(now() + timedelta(days=days, seconds=seconds))


def parse(text: str) -> datetime:
    """A stored time as a UTC datetime, whatever precision it was written with."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def passed(text: str | None, moment: datetime | None = None) -> bool:
    """Whether a stored time (an expiry, the end of a lock) is at or before `moment` (now);
    False when there is none."""
    if not text:
        return False
    return parse(text) <= (now() if moment is None else moment)
