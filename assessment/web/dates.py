"""Dates as pages show them. Times are stored in UTC (ISO 8601). The workspace shows them in the
firm's time zone (a firm setting; UTC until an admin sets one), saying which ("14:05 CET");
owners' pages show them in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from flask import Flask, g, has_request_context, request

from ..support.zones import zone_of

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Pages that belong to a firm's members, where the firm's time zone applies.
MEMBER_BLUEPRINTS = ("workspace", "auth")


def zone() -> tzinfo:
    """The zone this request's pages show times in: the signed-in member's firm's on the
    workspace's pages, else UTC. Looked up once per request."""
    if not has_request_context():
        return UTC
    if "time_zone" not in g:
        g.time_zone = _member_zone()
    return g.time_zone


def _member_zone() -> tzinfo:
    if request.blueprint not in MEMBER_BLUEPRINTS:
        return UTC
    from ..storage import accounts
    from .auth import signed_in_member
    from .db import get_db

    member = signed_in_member()
    if member is None or not member.is_authenticated:
        return UTC
    return zone_of(accounts.firm_time_zone(get_db(), member.firm_id))


def abbreviation(moment: datetime) -> str:
    """"CET", "UTC", or "UTC+03" where the zone has no letters for it."""
    name = moment.tzname() or "UTC"
    return f"UTC{name}" if name[:1] in "+-" else name


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(iso: str | None, where: tzinfo | None = None) -> datetime | None:
    """The stored time in the zone of this page (or `where`)."""
    moment = _parse(iso)
    return moment.astimezone(where or zone()) if moment else None


def _day(moment: datetime) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def day(iso: str | None) -> str:
    """"3 Mar 2025": reads the same in every country, where 03-04 does not."""
    moment = local(iso)
    return _day(moment) if moment else ""


def day_time(iso: str | None) -> str:
    """"3 Mar 2025, 14:05 CET"."""
    moment = local(iso)
    if moment is None:
        return ""
    return f"{_day(moment)}, {moment:%H:%M} {abbreviation(moment)}"


def today() -> date:
    """Today's date where this page's times are shown (the firm's zone in the workspace): what
    "due", "overdue" and "in 30 days" are counted from."""
    return datetime.now(zone()).date()


def firm_today(firm_id: int) -> date:
    """Today where a firm works, on any page (an owner's too): "overdue" and "due" then mean
    there what they mean on the firm's own pages."""
    from ..storage import accounts
    from .db import get_db

    return datetime.now(zone_of(accounts.firm_time_zone(get_db(), firm_id))).date()


def date_day(value: date | None) -> str:
    """A calendar date (a due date) as "15 Oct 2026"; "" for none."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}" if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["date_day"] = date_day
    app.jinja_env.filters["day_time"] = day_time
