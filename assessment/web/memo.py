"""What the web layer works out once and keeps for the life of the process.

Every cache here is keyed by everything its value depends on, so a remembered value is always the
one that would be worked out again; Memo only bounds how many it keeps.
"""

from __future__ import annotations

from typing import TypeVar

from flask import request, url_for

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """A dict that forgets everything when it is full. Its keys are few in practice (banks,
    sessions, links); the limit is the guard for when they are not."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def keep(self, key: K, value: V) -> V:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


# Building an address took a section page 7% of its time, for six links that are the same on
# every request.
_URLS: Memo[tuple, str] = Memo(10_000)


def cached_url_for(endpoint: str, **values) -> str:
    """url_for for templates, remembering each address by endpoint, arguments, mount point and
    (for a relative endpoint) blueprint. Full addresses are built every time: they depend on the
    request's host."""
    if values.get("_external"):
        return url_for(endpoint, **values)
    blueprint = request.blueprint if endpoint.startswith(".") else None
    try:
        key = (endpoint, blueprint, request.script_root, *sorted(values.items()))
        return _URLS[key]
    except TypeError:  # a value that cannot be a key
        return url_for(endpoint, **values)
    except KeyError:
        return _URLS.keep(key, url_for(endpoint, **values))
