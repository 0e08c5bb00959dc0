"""The living roadmap's actions and their events (core/actions.py decides; this keeps).

Every function takes the firm id and finds or changes nothing of another firm's. A change is
saved with its event in one transaction, and only if the action is still as the decision saw
it (its status), so two people moving one action at once cannot both win; events are only
ever added, never changed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import date

from ..core.actions import Action, Decision, Event, Status, expire_accepted_risks
from ..core.promises import Sync
from .db import Row, Store
from .times import stamp

_DATES = ("due", "original_due", "agreed_on", "done_on", "verified_on", "accepted_until")
_COLUMNS = [f.name for f in fields(Action) if f.name != "id"]


def _to_row(action: Action) -> dict:
    row = asdict(action)
    row.pop("id")
    for name in _DATES:
        row[name] = row[name].isoformat() if row[name] else None
    row["status"] = action.status.value
    row["questions"] = json.dumps(list(action.questions))
    return row


def _to_action(row: Row) -> Action:
    values = {name: row[name] for name in _COLUMNS}
    for name in _DATES:
        values[name] = date.fromisoformat(values[name]) if values[name] else None
    values["status"] = Status(values["status"])
    values["questions"] = tuple(json.loads(values["questions"] or "[]"))
    for name in ("why", "workstream", "person", "finding", "severity", "ticket", "notes",
                 "accepted_by"):
        values[name] = values[name] or ""
    return Action(id=row["id"], **values)


def event_row(firm_id: int, action_id: int, event: Event) -> dict:
    return {"action_id": action_id, "firm_id": firm_id, "at": stamp(), "who": event.who,
            "on_date": event.on.isoformat(),
            "from_status": event.from_status.value if event.from_status else None,
            "to_status": event.to_status.value, "reason": event.reason,
            "due_before": event.due_before.isoformat() if event.due_before else None,
            "due_after": event.due_after.isoformat() if event.due_after else None,
            "assessment_id": event.assessment}


def add_action(db: Store, firm_id: int, action: Action, *, who: str, on: date) -> int:
    """A new action for one of the firm's clients, with the event that made it; its id.
    ValueError when the client is not the firm's."""
    with db.write():
        if db.one("SELECT 1 FROM clients WHERE id = ? AND firm_id = ?",
                  [action.client_id, firm_id]) is None:
            raise ValueError("no such client in this firm")
        moment = stamp()
        action_id = db.insert("actions", {**_to_row(action), "firm_id": firm_id,
                                          "created_at": moment, "updated_at": moment})
        db.insert("action_events", event_row(firm_id, action_id, Event(
            who=who, on=on, from_status=None, to_status=action.status,
            assessment=action.from_assessment)))
        return action_id


def get_action(db: Store, firm_id: int, action_id: int) -> Action | None:
    row = db.one("SELECT * FROM actions WHERE id = ? AND firm_id = ?", [action_id, firm_id])
    return _to_action(row) if row else None


def client_actions(db: Store, firm_id: int, client_id: int) -> list[Action]:
    """The client's actions, soonest due first (those without a date last)."""
    rows = db.rows("SELECT * FROM actions WHERE firm_id = ? AND client_id = ? "
                   "ORDER BY due IS NULL, due, id", [firm_id, client_id])
    return [_to_action(row) for row in rows]


def save_decision(db: Store, firm_id: int, decision: Decision) -> bool:
    """Keep a decision made by core.actions.decide (or the next assessment): the action's new
    state and its event, together. False, with nothing written, when the action is not the
    firm's or was moved meanwhile (its status is no longer the event's `from`)."""
    action, event = decision.action, decision.event
    if action.id is None or event.from_status is None:
        raise ValueError("a decision about a stored action")
    row = _to_row(action)
    changes = {name: row[name] for name in _COLUMNS}
    with db.write():
        # Column names come from the Action dataclass, never from the caller.
        changed = db.execute(
            f"UPDATE actions SET {', '.join(f'{name} = :{name}' for name in changes)}, "  # nosec B608
            "updated_at = :updated_at WHERE id = :id AND firm_id = :firm_id "
            "AND status = :was", {**changes, "updated_at": stamp(), "id": action.id,
                                   "firm_id": firm_id, "was": event.from_status.value})
        if changed != 1:
            return False
        db.insert("action_events", event_row(firm_id, action.id, event))
        return True


def action_events(db: Store, firm_id: int, action_id: int) -> list[Event]:
    """The action's history, oldest first."""
    rows = db.rows("SELECT * FROM action_events WHERE action_id = ? AND firm_id = ? ORDER BY id",
                   [action_id, firm_id])
    return [Event(who=row["who"], on=date.fromisoformat(row["on_date"]),
                  from_status=Status(row["from_status"]) if row["from_status"] else None,
                  to_status=Status(row["to_status"]), reason=row["reason"] or "",
                  due_before=date.fromisoformat(row["due_before"]) if row["due_before"] else None,
                  due_after=date.fromisoformat(row["due_after"]) if row["due_after"] else None,
                  assessment=row["assessment_id"])
            for row in rows]


def current_actions(db: Store, firm_id: int, client_id: int, today: date) -> list[Action]:
    """The client's actions as they stand today: any accepted risk whose date has passed is
    first brought back as proposed (and that move kept as an event), so every page, export,
    digest and review sees the same roadmap."""
    actions = client_actions(db, firm_id, client_id)
    expired = expire_accepted_risks(actions, today)
    if not expired:
        return actions
    for decision in expired:
        save_decision(db, firm_id, decision)
    return client_actions(db, firm_id, client_id)


def expire_firm_risks(db: Store, firm_id: int, today: date) -> int:
    """Bring back every accepted risk of the firm whose date has passed (the digest and the
    portfolio run this first); how many came back."""
    rows = db.rows("SELECT * FROM actions WHERE firm_id = ? AND status = ? "
                   "AND accepted_until < ?",
                   [firm_id, Status.RISK_ACCEPTED.value, today.isoformat()])
    expired = expire_accepted_risks([_to_action(row) for row in rows], today)
    return sum(save_decision(db, firm_id, decision) for decision in expired)


def finished_scores(db: Store, firm_id: int, client_id: int | None = None) -> list[Row]:
    """The scores the firm finished its clients' assessments with, oldest first: rows of
    client_id, id, finished_at, final_score (archived assessments left out)."""
    sql = ("SELECT client_id, id, finished_at, final_score FROM assessments "
           "WHERE firm_id = ? AND closed_at IS NOT NULL AND final_score IS NOT NULL "
           "AND archived_at IS NULL")
    params: list = [firm_id]
    if client_id is not None:
        sql += " AND client_id = ?"
        params.append(client_id)
    return db.rows(sql + " ORDER BY finished_at, id", params)


def record_final_score(db: Store, firm_id: int, assessment_id: str, score: int | None) -> None:
    """The score the firm finished an assessment with (None when it is reopened)."""
    with db.write():
        db.execute("UPDATE assessments SET final_score = ? WHERE id = ? AND firm_id = ?",
                   [score, assessment_id, firm_id])


def keep_sync(db: Store, firm_id: int, sync: Sync, *, assessment_id: str, on: date) -> None:
    """What a finished assessment does to the client's roadmap (core.promises.sync), kept in
    one transaction: the actions it proves or disproves, the new ones, and on each action it
    found again an event naming it (once, however often it is finished)."""
    with db.write():
        for decision in sync.decisions:
            save_decision(db, firm_id, decision)
        for action in sync.new:
            add_action(db, firm_id, action, who="assessment", on=on)
        for action, _step in sync.linked:
            if action.id is None or db.one(
                    "SELECT 1 FROM action_events WHERE action_id = ? AND firm_id = ? "
                    "AND assessment_id = ?", [action.id, firm_id, assessment_id]):
                continue
            db.insert("action_events", event_row(firm_id, action.id, Event(
                who="assessment", on=on, from_status=action.status, to_status=action.status,
                reason="found again by the assessment: still to do", assessment=assessment_id)))
