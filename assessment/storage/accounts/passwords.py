"""Passwords: hashed with argon2id (argon2-cffi's defaults) and rehashed on sign-in when those
defaults change. Every check goes through this module's hasher, the check against no account
too, so that `use_password_hasher` changes them all."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
# Unknown emails are checked against this, so a wrong email costs as long as a wrong password.
_dummy_hash = _hasher.hash(secrets.token_urlsafe(16))


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash and check passwords with these argon2 parameters from now on. Only the tests call it
    (cheap parameters, so a sign-in costs milliseconds); the app keeps the library's defaults."""
    global _hasher, _dummy_hash
    _hasher = hasher
    _dummy_hash = hasher.hash(secrets.token_urlsafe(16))


def password_hasher() -> PasswordHasher:
    """The hasher in use (the tests keep the app's to give it back to one test)."""
    return _hasher


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_against_nothing(password: str) -> None:
    """Spend what a check costs, where there is no account (or no check) to make: an unknown
    email, a locked account, a password too long to be anyone's."""
    check_password(_dummy_hash, password)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True
