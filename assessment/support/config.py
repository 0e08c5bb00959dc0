"""Configuration: defaults, then instance/config.py, then ITHEALTH_* environment variables, then
the mapping a test passes. The README lists every variable."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .private_files import create_file, make_folder

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRET_FILE = "secret_key"


@dataclass(frozen=True)
class RenderSettings:
    """How reports are rendered, and the one place their defaults are set: the app's settings
    (REPORT_WORKERS ... REPORT_QUEUE_WAIT below) start from these, and so do the render pool
    (report/pool.py) and the render queue (report/queue.py) when nothing configures them."""

    # Report renders run in worker processes of their own, beside each web process.
    workers: int = 1
    timeout: float = 60  # seconds one render may take before its worker is replaced
    memory_mb: int | None = 1024  # address-space limit of a render worker
    queue_limit: int | None = 50  # renders waiting before new ones get the "busy" page
    queue_wait: float = 300  # seconds a web process waits for a queued render at most
    # Each web machine's folder of rendered PDFs (REPORT_DIR) is a cache: the least recently
    # read PDFs go once it holds more than this, and any not read for this many days.
    cache_mb: int = 1024
    cache_days: int = 30


RENDER_DEFAULTS = RenderSettings()


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
        # How long a browser session lasts since it was last used, in seconds; unset, the
        # owner's idle limit below. A member's sign-in also ends after MEMBER_IDLE_HOURS unused.
        "PERMANENT_SESSION_LIFETIME": None,
        # An owner's assessment stays open in their browser this long unused (their private
        # link opens it again after that).
        "OWNER_IDLE_DAYS": 30,
        # A firm member's sign-in ends after this long with no request: a workspace left open
        # on a shared or lost computer does not stay signed in for the cookie's whole life.
        "MEMBER_IDLE_HOURS": 12,
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        "REPORT_WORKERS": RENDER_DEFAULTS.workers,
        "REPORT_TIMEOUT": RENDER_DEFAULTS.timeout,
        "REPORT_MEMORY_MB": RENDER_DEFAULTS.memory_mb,
        "REPORT_QUEUE_LIMIT": RENDER_DEFAULTS.queue_limit,
        # redis://... to render on a shared queue, consumed by `flask renders work` on any
        # machine, instead of in worker processes beside each web process.
        "RENDER_QUEUE": None,
        "REPORT_QUEUE_WAIT": RENDER_DEFAULTS.queue_wait,
        "REPORT_CACHE_MB": RENDER_DEFAULTS.cache_mb,
        "REPORT_CACHE_DAYS": RENDER_DEFAULTS.cache_days,
        "AUDIT_LOG": None,  # a file for the audit lines; standard error when unset
        "TRUSTED_PROXIES": 0,  # reverse proxies in front of the app whose X-Forwarded-* to trust
    }


def session_seconds(config: Mapping) -> float:
    """How long a browser session lasts unused: PERMANENT_SESSION_LIFETIME when set (seconds,
    or a timedelta), else OWNER_IDLE_DAYS."""
    lifetime = config.get("PERMANENT_SESSION_LIFETIME")
    if lifetime is not None:
        return lifetime.total_seconds() if hasattr(lifetime, "total_seconds") \
            else float(lifetime)
    return float(config["OWNER_IDLE_DAYS"]) * 24 * 60 * 60


def member_idle_seconds(config: Mapping) -> float:
    """How long a member's sign-in may go unused before it ends."""
    return float(config["MEMBER_IDLE_HOURS"]) * 60 * 60


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
