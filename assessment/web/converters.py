"""URL converters, registered before any route: `<int:...>` only matches ids SQLite can hold."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

SQLITE_MAX_INTEGER = 2**63 - 1  # SQLite integers are signed 64-bit


class SQLiteIntegerConverter(IntegerConverter):
    """An id past SQLite's range is the normal 404, not an OverflowError from the query (a 500)
    on every page that takes an id."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > SQLITE_MAX_INTEGER:
            # NotFound, not werkzeug's ValidationError: that one becomes a 405 where a route of
            # the same pattern takes another method (a client's page and its update).
            raise NotFound()
        return number


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = SQLiteIntegerConverter
