"""The portfolio across the firm's clients, and a client's roadmap exported (CSV, JSON)."""

from __future__ import annotations

import csv
import io
import json

from flask import render_template

from ...core.actions import Action
from ...storage import actions as action_store
from ...storage import portfolio as store
from ...storage.times import stamp
from .. import dates
from ..auth import current_firm_id, member_required
from ..db import get_db
from .common import bp, client_or_404
from .exports import download, spreadsheet_cell

# The columns of the roadmap's exports, in order (the CSV's header; the JSON has these and
# the full list of events).
FIELDS = ("id", "title", "question", "questions", "party", "person", "status", "due",
          "original_due", "pushes", "verified_by", "verified_on", "why", "workstream",
          "severity", "cost_low", "cost_high", "currency", "score_gain", "ticket", "notes",
          "agreed_on", "done_on", "accepted_by", "accepted_until")


@bp.get("/portfolio")
@member_required
def portfolio():
    firm_id, today = current_firm_id(), dates.today()
    # Accepted risks whose date has passed are back for a decision before anything is counted.
    action_store.expire_firm_risks(get_db(), firm_id, today)
    rows = store.portfolio(get_db(), firm_id, today)
    return render_template("workspace/portfolio.html", title="Portfolio", rows=rows,
                           today=today, overdue=sum(r["overdue"] for r in rows),
                           behind=sum(1 for r in rows if r["overdue"]))


def _roadmap(client_id: int) -> tuple[dict, list[dict]]:
    """The client (404 for another firm's) and its actions as the exports give them: every
    field, and every event."""
    client = client_or_404(client_id)
    firm_id = current_firm_id()
    actions = action_store.current_actions(get_db(), firm_id, client_id, dates.today())
    events = store.client_events(get_db(), firm_id, client_id)
    return client, [_exported(action, events.get(action.id or 0, [])) for action in actions]


def _exported(action: Action, events: list[dict]) -> dict:
    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": action.id, "title": action.title,
        "question": action.questions[0] if action.questions else None,
        "questions": list(action.questions), "party": action.party, "person": action.person,
        "status": action.status.value, "due": iso(action.due),
        "original_due": iso(action.original_due), "pushes": action.pushes,
        "verified_by": action.verified_by, "verified_on": iso(action.verified_on),
        "why": action.why, "workstream": action.workstream, "severity": action.severity,
        "cost_low": action.cost_low, "cost_high": action.cost_high,
        "currency": action.currency, "score_gain": action.score_gain,
        "ticket": action.ticket, "notes": action.notes, "agreed_on": iso(action.agreed_on),
        "done_on": iso(action.done_on), "accepted_by": action.accepted_by,
        "accepted_until": iso(action.accepted_until),
        "events": [{"at": e["at"], "on": e["on_date"], "who": e["who"],
                    "from": e["from_status"], "to": e["to_status"], "reason": e["reason"] or "",
                    "due_before": e["due_before"], "due_after": e["due_after"],
                    "assessment": e["assessment_id"]} for e in events],
    }


@bp.get("/clients/<int:client_id>/roadmap.json")
@member_required
def roadmap_json(client_id: int):
    client, actions = _roadmap(client_id)
    data = {"client": {"id": client["id"], "name": client["name"], "sector": client["sector"],
                       "size": client["size"]},
            "exported_at": stamp(), "actions": actions}
    return download(json.dumps(data, indent=2, ensure_ascii=False), "application/json",
                     f"client-{client_id}-roadmap.json")


@bp.get("/clients/<int:client_id>/roadmap.csv")
@member_required
def roadmap_csv(client_id: int):
    _, actions = _roadmap(client_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*FIELDS, "events", "last_change_at", "last_change"])
    for action in actions:
        cells = [" ".join(value) if name == "questions" else value
                 for name, value in ((n, action[n]) for n in FIELDS)]
        last = action["events"][-1] if action["events"] else None
        writer.writerow([spreadsheet_cell(c) if isinstance(c, str) else ("" if c is None else c)
                         for c in (*cells, len(action["events"]),
                                   last["at"] if last else None,
                                   _change(last) if last else None)])
    return download(out.getvalue(), "text/csv", f"client-{client_id}-roadmap.csv")


def _change(event: dict) -> str:
    """"agreed to deferred by ana@acme.example: licences late"."""
    moved = f"{event['from']} to {event['to']}" if event["from"] else f"made {event['to']}"
    reason = f": {event['reason']}" if event["reason"] else ""
    return f"{moved} by {event['who']}{reason}"
