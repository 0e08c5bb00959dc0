"""Dates as pages show them. Times are stored in UTC (ISO 8601) and shown in UTC, saying so."""

from __future__ import annotations

from datetime import datetime, UTC

from flask import Flask

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day(iso: str | None) -> str:
    """"3 Mar 2025": reads the same in every country, where 03-04 does not."""
    moment = _parse(iso)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}" if moment else ""


def day_time(iso: str | None) -> str:
    """"3 Mar 2025, 14:05 UTC"."""
    moment = _parse(iso)
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return f"{day(moment.isoformat())}, {moment:%H:%M} UTC"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["day_time"] = day_time
