"""`flask --app app roadmap ...`: the roadmap's reminders."""

from __future__ import annotations

from flask.cli import AppGroup

roadmap_cli = AppGroup("roadmap", help="The living roadmap: reminders of due actions.")
