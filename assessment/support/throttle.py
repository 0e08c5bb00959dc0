"""One log line per kind of trouble per interval, however many requests meet it.

While Redis or the database is away every request meets the same failure; a line for each
would bury the one that says what is wrong (and fill the journal). The first time a kind of
trouble is met it is logged; after that, at most once per interval, saying how many more times
it was met meanwhile.
"""

from __future__ import annotations

import threading
import time


class Throttle:
    def __init__(self, interval: float = 60.0):
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def allow(self, kind: str) -> int | None:
        """None while `kind` was logged less than `interval` seconds ago (the line is held
        back and counted); else how many lines of this kind were held back since the last one
        (the caller logs now)."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.interval:
                self._held[kind] = self._held.get(kind, 0) + 1
                return None
            self._last[kind] = now
            return self._held.pop(kind, 0)

    def clear(self, kind: str) -> None:
        """The trouble is over: the next time it happens is logged at once."""
        with self._lock:
            self._last.pop(kind, None)
            self._held.pop(kind, None)


def held_note(held: int) -> str:
    """What a throttled line adds about the lines held back before it."""
    return f" ({held} more like it since the last such line)" if held else ""
