"""What account operations refuse."""

from __future__ import annotations


class AccountError(ValueError):
    """Input that cannot be accepted; `field` names the form field or CLI option it is about."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class InviteInvalid(LookupError):
    """The invite link is wrong, used or expired (the caller does not say which)."""
