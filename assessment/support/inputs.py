"""What a typed email, password or person's name must be: one answer, whoever asks (the sign-in
and invite forms, the firm's member pages, `flask users create`, the audit log)."""

from __future__ import annotations

import re

PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # argon2 takes any length; this only bounds the work one request can cause
NAME_MAX = 200
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_problem(email: str) -> str | None:
    email = normalise_email(email)
    if not email:
        return "Enter an email address."
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        return "Enter an email address like name@example.com."
    return None


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password cannot be used, or None. Length is counted in characters."""
    if not password:
        return "Enter a password."
    if len(password) < PASSWORD_MIN:
        return (f"Use at least {PASSWORD_MIN} characters; a few unrelated words make a long "
                "password that is easy to remember.")
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    if email and password.strip().lower() == normalise_email(email):
        return "Do not use your email address as your password."
    return None


def name_problem(name: str) -> str | None:
    name = (name or "").strip()
    if not name:
        return "Enter a name."
    if len(name) > NAME_MAX:
        return f"Keep the name under {NAME_MAX} characters."
    return None
