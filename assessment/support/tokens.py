"""Secret links and sign-in tokens: how they are made and how they are kept.

A token is `secrets.token_urlsafe(32)` (256 bits); only its SHA-256 is stored, so a copy of the
database or a backup opens nothing. An unsalted hash is enough here: the token is random, not
a password someone chose.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
