"""An action's own details (who does it, the ticket, notes, what it really cost) changed by
hand: the columns and the event that records the change, in one transaction. The event's from
and to are the action's status as it is (a detail is not a move), so the history shows every
edit beside the moves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..core.actions import Event, Status
from .actions import event_row
from .db import Store
from .times import stamp

EDITABLE = ("person", "ticket", "notes", "actual_cost")


def save_details(db: Store, firm_id: int, action_id: int, changes: Mapping[str, object], *,
                 who: str, on: date, reason: str) -> bool:
    """Set the changed details of one of the firm's actions and add the event saying what
    changed; False, with nothing written, when the action is not the firm's."""
    unknown = set(changes) - set(EDITABLE)
    if unknown or not changes:
        raise ValueError(f"details to change: some of {', '.join(EDITABLE)}")
    names = [name for name in EDITABLE if name in changes]  # column names from EDITABLE only
    with db.write():
        # The status comes back from the UPDATE itself, which holds the row until the commit:
        # the event names the status the action had when it was changed.
        updated = db.rows(
            f"UPDATE actions SET {', '.join(f'{name} = :{name}' for name in names)}, "  # nosec B608
            "updated_at = :updated_at WHERE id = :id AND firm_id = :firm_id RETURNING status",
            {**{name: changes[name] for name in names}, "updated_at": stamp(),
             "id": action_id, "firm_id": firm_id})
        if not updated:
            return False
        status = Status(updated[0]["status"])
        db.insert("action_events", event_row(firm_id, action_id, Event(
            who=who, on=on, from_status=status, to_status=status, reason=reason)))
        return True
