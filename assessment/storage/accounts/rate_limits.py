"""Rate limits: attempts counted per key (an address, an account) in fixed windows, in the
database, so that every web instance counts them together."""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import times
from ..db import Store


def rate_limit_hit(db: Store, key: str, limit: int, window_seconds: int, *,
                   now: datetime | None = None) -> bool:
    """Count one attempt under `key` in a fixed window; True when it goes over `limit` (refuse
    it). Windows that have ended are cleared on the way."""
    moment = now if now is not None else times.now()
    start_cutoff = times.stamp(moment - timedelta(seconds=window_seconds))
    with db.write():
        # One statement starts a window or counts one more in it: attempts arriving at once
        # (through several web instances on PostgreSQL) each count.
        row = db.one("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1) "
                     "ON CONFLICT (key) DO UPDATE SET "
                     "count = CASE WHEN rate_limits.window_start <= ? THEN 1 "
                     "ELSE rate_limits.count + 1 END, "
                     "window_start = CASE WHEN rate_limits.window_start <= ? "
                     "THEN excluded.window_start ELSE rate_limits.window_start END "
                     "RETURNING count",
                     [key, times.stamp(moment), start_cutoff, start_cutoff])
        db.execute("DELETE FROM rate_limits WHERE window_start < ?",
                   [times.stamp(moment - timedelta(days=1))])
    return row is not None and row["count"] > limit
