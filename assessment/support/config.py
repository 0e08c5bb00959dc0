"""Configuration: defaults, then instance/config.py, then ITHEALTH_* environment variables, then
the mapping a test passes. The README lists every variable."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from .private_files import create_file, make_folder

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRET_FILE = "secret_key"


def defaults(instance_path: str) -> dict:
    return {
        "SECRET_KEY": None,
        # Old keys, newest first, whose session cookies are still accepted while a new key is
        # rolled out (ITHEALTH_SECRET_KEY_FALLBACKS=old1,old2).
        "SECRET_KEY_FALLBACKS": [],
        "DATABASE": os.path.join(instance_path, "it-health.sqlite"),
        # postgresql://... to keep everything in PostgreSQL instead (several web instances on
        # one database); without it, the SQLite file above.
        "DATABASE_URL": None,
        "BANK_DIR": str(PROJECT_ROOT / "questions"),
        "REPORT_DIR": os.path.join(instance_path, "reports"),  # rendered PDFs, by content hash
        # A CSRF token lives as long as the session: an owner who leaves a page open overnight
        # must not lose answers to an expired token.
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,  # set ITHEALTH_SESSION_COOKIE_SECURE=true behind HTTPS
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 30,
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        # Report renders run in worker processes of their own, beside each web process.
        "REPORT_WORKERS": 1,
        "REPORT_TIMEOUT": 60,  # seconds one render may take
        "REPORT_MEMORY_MB": 1024,  # address-space limit of a render worker
        "REPORT_QUEUE_LIMIT": 50,  # renders waiting before new ones get the "busy" page
        # redis://... to render on a shared queue, consumed by `flask renders work` on any
        # machine, instead of in worker processes beside each web process.
        "RENDER_QUEUE": None,
        "REPORT_QUEUE_WAIT": 300,  # seconds a web process waits for a queued render at most
        "AUDIT_LOG": None,  # a file for the audit lines; standard error when unset
        "TRUSTED_PROXIES": 0,  # reverse proxies in front of the app whose X-Forwarded-* to trust
    }


def database(config: Mapping) -> str:
    """The database the app uses: the PostgreSQL URL when one is set, else the SQLite file."""
    return config.get("DATABASE_URL") or config["DATABASE"]


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which variable to set and how."""


MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def check_secret_key(config: Mapping) -> None:
    """Past one machine (a PostgreSQL database or a shared render queue) every web instance and
    render consumer needs the same key: one that made its own in instance/ would sign users out
    whenever the load balancer sends them to another machine, and its renders would be refused."""
    if config.get("SECRET_KEY"):
        return
    shared = [f"ITHEALTH_{name}" for name in ("DATABASE_URL", "RENDER_QUEUE") if config.get(name)]
    if shared:
        raise ConfigError(
            f"ITHEALTH_SECRET_KEY is not set, but {' and '.join(shared)} is: every machine of "
            "the installation must sign sessions with the same key. Make one with\n"
            f"    {MAKE_A_KEY}\n"
            "and set ITHEALTH_SECRET_KEY to it on every web instance and render machine.")


def key_fallbacks(value: object) -> list[str]:
    """ITHEALTH_SECRET_KEY_FALLBACKS: comma-separated old keys (or a list, from a config file)."""
    if not value:
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def instance_secret(instance_path: str) -> str:
    """The secret key kept in instance/secret_key, created on first start (readable by us only)."""
    path = Path(instance_path) / SECRET_FILE
    make_folder(path.parent)
    try:
        fd = create_file(path)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()
