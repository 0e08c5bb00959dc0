"""Secrets the database keeps but must not show to whoever reads a copy of it: two-step sign-in
(TOTP) secrets. They are sealed with Fernet (AES-128-CBC with an HMAC-SHA256, from the
`cryptography` package) under a key derived from the app's secret key, which is kept apart from
the database and its backups (docs/operations.md): a backup alone opens nobody's second step.

Rotating the secret key keeps them readable: the old keys (ITHEALTH_SECRET_KEY_FALLBACKS) still
open what they sealed, a value opened with an old key is sealed again with the new one when it
is next used, and `flask users reseal` does it for every stored secret at once.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "sealed:v1:"  # a stored value without it is from before sealing (read, then sealed)
_CONTEXT = b"it-health sealed secrets v1"


class SealError(ValueError):
    """A sealed value that none of the configured keys opens: the secret key was changed
    without keeping the old one as a fallback, or the value was altered."""


def _fernet(secret_key: str) -> Fernet:
    # A key of its own for this purpose (not the session signing key itself), made from it.
    digest = hashlib.sha256(_CONTEXT + b"\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


_primary: Fernet | None = None
_box: MultiFernet | None = None


def configure(secret_key: str, fallbacks: Sequence[str] = ()) -> None:
    """Seal with `secret_key`; open with it or any of `fallbacks` (newest first)."""
    global _primary, _box
    _primary = _fernet(secret_key)
    _box = MultiFernet([_primary, *(_fernet(key) for key in fallbacks if key)])


def _current() -> MultiFernet:
    if _box is None:
        raise RuntimeError("sealed.configure() was not called: create_app does it")
    return _box


def seal(plain: str) -> str:
    return PREFIX + _current().encrypt(plain.encode()).decode("ascii")


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def unseal(stored: str) -> str:
    """The plain value of a stored one (a value from before sealing is returned as it is)."""
    if not is_sealed(stored):
        return stored
    try:
        return _current().decrypt(stored[len(PREFIX):].encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        raise SealError("a sealed secret that no configured key opens") from None


def needs_resealing(stored: str) -> bool:
    """True for a value from before sealing, or sealed with an older key than the current."""
    if not is_sealed(stored):
        return True
    _current()
    assert _primary is not None
    try:
        _primary.decrypt(stored[len(PREFIX):].encode("ascii"))
        return False
    except (InvalidToken, ValueError):
        return True
