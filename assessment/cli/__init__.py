"""Every command-line tool (`flask --app app COMMAND`), one module per command group.

Every error names the file and the field it is about and exits non-zero; no tracebacks.
"""

from __future__ import annotations

from flask import Flask

from .assess import assess_cli, email_check_command
from .bank import bank_cli
from .db import db_cli
from .reports import renders_cli, report_cli
from .roadmap import roadmap_cli
from .users import users_cli


def init_app(app: Flask) -> None:
    for group in (bank_cli, db_cli, assess_cli, users_cli, report_cli, renders_cli,
                  roadmap_cli):
        app.cli.add_command(group)
    app.cli.add_command(email_check_command)
