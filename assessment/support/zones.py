"""Time zones by name, one answer for every layer: the ones a firm can choose, and the zone a
stored name stands for (the workspace's pages, and the digest the command line sends, count
"today" and "overdue" the same way)."""

from __future__ import annotations

from datetime import UTC, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Old or technical names left out of the list a firm chooses from ("Etc/GMT+5" means UTC-5).
_LEFT_OUT = ("Etc/", "posix/", "right/", "SystemV/")


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The time zones a firm can choose: UTC, then every "Area/City" name, sorted."""
    names = {n for n in available_timezones() if "/" in n and not n.startswith(_LEFT_OUT)}
    return ("UTC", *sorted(names))


def valid_zone(name: str | None) -> bool:
    return bool(name) and name in zone_names()


def zone_of(name: str | None) -> tzinfo:
    """The zone by its name; UTC for none, or a name this machine does not know."""
    if not valid_zone(name):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
