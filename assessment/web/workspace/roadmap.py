"""A client's living roadmap in the workspace: its actions grouped (overdue, due in 30 days,
later, awaiting decision, done, accepted risk), an action's page, its moves and evidence."""

from __future__ import annotations
