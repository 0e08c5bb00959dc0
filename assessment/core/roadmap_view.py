"""What the roadmap's screens show, worked out without the web: a client's actions grouped the
way a consultant works through them (what is late first, what waits for a decision, what is
done), the filters by party and severity, what a change of an action's details says in its
history, and the short words a row and the summary line are made of. Pure: actions and dates
in, groups and words out; core/actions.py decides what an action may do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .actions import OPEN, PARTIES, PARTY_LABELS, Action, Measures, Status
from .prices import CostRange, range_text
from .severity import label as severity_label

SOON_DAYS = 30  # "due in 30 days": what to chase at this month's catch-up


@dataclass(frozen=True)
class Group:
    key: str  # also the id of its heading on the page
    title: str
    hint: str  # one line under the heading: what is in it, and what to do with it
    empty: str  # said when nothing is in it
    actions: tuple[Action, ...]


# In the order a consultant goes through them: what is late, what is next, what waits for the
# client's word, then what is finished or put aside.
_GROUPS = (
    ("overdue", "Overdue", "Agreed, past the due date and not done yet.", "Nothing is overdue."),
    ("soon", f"Due in the next {SOON_DAYS} days", "Agreed and due soon.",
     f"Nothing is due in the next {SOON_DAYS} days."),
    ("later", "Later", "Agreed, due after that (or with no date yet).", "Nothing is due later."),
    ("awaiting", "Awaiting a decision",
     "Proposed by an assessment: agree a date, defer, accept the risk or drop it.",
     "No action is waiting for a decision."),
    ("done", "Done",
     "Claimed done (the next assessment checks it) or verified by an assessment.",
     "Nothing is done yet."),
    ("accepted", "Accepted risks",
     "Not to be done for now: someone accepted the risk until a date; it comes back then.",
     "No risk is accepted."),
    ("dropped", "Dropped", "Decided against, with the reason in each one's history.",
     "Nothing is dropped."),
)
GROUP_KEYS = tuple(key for key, *_ in _GROUPS)


def group_key(action: Action, today: date) -> str:
    """Which group of the roadmap an action is shown in, today."""
    if action.status in OPEN:
        if action.due is not None and action.due < today:
            return "overdue"
        if action.due is not None and action.due <= today + timedelta(days=SOON_DAYS):
            return "soon"
        return "later"
    return {Status.PROPOSED: "awaiting", Status.DONE: "done", Status.VERIFIED: "done",
            Status.RISK_ACCEPTED: "accepted", Status.DROPPED: "dropped"}[action.status]


_SEVERITY_RANK = {"existential": 0, "serious": 1}


def _order(key: str):
    """How each group is sorted: the most pressing first."""
    if key in ("overdue", "soon", "later"):
        return lambda a: (a.due is None, a.due or date.max, a.title.lower(), a.id or 0)
    if key == "awaiting":  # the worst findings and the biggest gains first
        return lambda a: (_SEVERITY_RANK.get(a.severity, 2), -a.score_gain, a.title.lower(),
                          a.id or 0)
    if key == "done":  # the latest first
        return lambda a: (-(a.verified_on or a.done_on or date.min).toordinal(),
                          a.title.lower(), a.id or 0)
    if key == "accepted":  # the first to come back first
        return lambda a: (a.accepted_until or date.max, a.title.lower(), a.id or 0)
    return lambda a: (a.title.lower(), a.id or 0)


def grouped(actions: Iterable[Action], today: date) -> list[Group]:
    """Every group, in order, each with its actions sorted (a group may be empty)."""
    members: dict[str, list[Action]] = {key: [] for key in GROUP_KEYS}
    for action in actions:
        members[group_key(action, today)].append(action)
    return [Group(key, title, hint, empty, tuple(sorted(members[key], key=_order(key))))
            for key, title, hint, empty in _GROUPS]


# ---- filters ---------------------------------------------------------------------------------

SEVERITIES = {"existential": severity_label("existential"),
              "serious": severity_label("serious")}


class FilterRefused(ValueError):
    """A filter value the roadmap does not know; the message lists the ones it does."""


@dataclass(frozen=True)
class Filters:
    party: str = ""  # "" for every party
    severity: str = ""  # "" for every action

    @property
    def active(self) -> bool:
        return bool(self.party or self.severity)

    def keeps(self, action: Action) -> bool:
        return ((not self.party or action.party == self.party)
                and (not self.severity or action.severity == self.severity))

    def apply(self, actions: Iterable[Action]) -> list[Action]:
        return [a for a in actions if self.keeps(a)]

    def query(self) -> dict[str, str]:
        """The filters as the roadmap's address carries them (only those set)."""
        return {name: value for name, value in (("party", self.party),
                                                ("severity", self.severity)) if value}


def valid_filters_text() -> str:
    parties = ", ".join(f"“{p}” ({PARTY_LABELS[p]})" for p in PARTIES)
    severities = ", ".join(f"“{s}” ({words})" for s, words in SEVERITIES.items())
    return (f"The party can be {parties}; the severity can be {severities}. Leave either out "
            "to see every action.")


def parse_filters(args: Mapping[str, str]) -> Filters:
    """The filters of a roadmap address (?party=provider&severity=serious); an empty value is
    no filter. FilterRefused, naming the valid values, for any other value."""
    party = (args.get("party") or "").strip()
    severity = (args.get("severity") or "").strip()
    wrong = [f"“{value[:40]}” is not a {what}" for value, what, known in (
        (party, "party", PARTIES), (severity, "severity", SEVERITIES)) if value
        and value not in known]
    if wrong:
        raise FilterRefused(f"{' and '.join(wrong)} the roadmap can filter by. "
                            + valid_filters_text())
    return Filters(party, severity)


# ---- the words of a row and of the summary ---------------------------------------------------

def times(count: int) -> str:
    """"once", "twice", "3 times": how often an action was pushed."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def promise_moved(action: Action) -> bool:
    """True when the action is due on another day than first promised (the row says both)."""
    return action.original_due is not None and action.due != action.original_due


def gain_text(action: Action) -> str:
    """"+6 points" of score expected when it is done; "" when none is expected."""
    if action.score_gain <= 0:
        return ""
    return f"+{action.score_gain} point{'s' if action.score_gain != 1 else ''}"


def cost_text(action: Action) -> str:
    """"£200–£600"; "" when no cost is known."""
    if action.cost_low is None and action.cost_high is None:
        return ""
    low = action.cost_low if action.cost_low is not None else action.cost_high
    high = action.cost_high if action.cost_high is not None else action.cost_low
    assert low is not None and high is not None
    return range_text(CostRange(low, high, action.currency or "other"))


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def summary_line(measures: Measures) -> str:
    """"7 of 9 promises kept, 6 on time; 2 overdue; 3 pushes": the roadmap's top line."""
    if not measures.promises:
        line = "No promise is due yet"
    else:
        line = (f"{measures.kept} of {_count(measures.promises, 'promise', 'promises')} kept, "
                f"{measures.on_time} on time; {measures.overdue} overdue")
    parts = [line]
    if measures.moved:
        parts.append(f"{measures.moved} moved to a later date")
    if measures.claimed:
        parts.append(f"{measures.claimed} claimed done, not yet checked")
    parts.append(_count(measures.pushes, "push", "pushes"))
    return "; ".join(parts)


# ---- an action's page ------------------------------------------------------------------------

# What each move is called on an action's page, as what the consultant does.
MOVE_WORDS = {
    Status.AGREED: "Agree it (a promise, with a due date)",
    Status.IN_PROGRESS: "Mark it in progress",
    Status.DONE: "Mark it done (the next assessment checks it)",
    Status.BLOCKED: "Mark it blocked",
    Status.DEFERRED: "Defer it to a later date",
    Status.RISK_ACCEPTED: "Accept the risk until a date",
    Status.DROPPED: "Drop it",
    Status.PROPOSED: "Take it up again (back to proposed)",
}


def moves_from(action: Action, allowed: Iterable[Status]) -> list[tuple[Status, str]]:
    """The moves offered on an action's page, in the order of the states, with their words."""
    chosen = set(allowed)
    return [(status, MOVE_WORDS[status]) for status in Status
            if status in chosen and status in MOVE_WORDS]


@dataclass(frozen=True)
class DetailChange:
    changes: dict[str, object]  # column -> new value, only what changed
    reason: str  # for the action's history: "ticket set to INC-1042; notes changed"


def detail_changes(action: Action, *, person: str, ticket: str, notes: str,
                   actual_cost: int | None) -> DetailChange:
    """What an edit of the action's person, ticket, notes and actual cost changes, and the
    words its history keeps (a note's text is not repeated there, only that it changed)."""
    changes: dict[str, object] = {}
    said = []
    for name, words, old, new in (("person", "person", action.person, person),
                                  ("ticket", "ticket", action.ticket, ticket)):
        if new != old:
            changes[name] = new
            said.append(f"{words} set to {new}" if new else f"{words} cleared")
    if notes != action.notes:
        changes["notes"] = notes
        said.append("notes changed" if notes else "notes cleared")
    if actual_cost != action.actual_cost:
        changes["actual_cost"] = actual_cost
        said.append(f"actual cost set to {actual_cost:,}" if actual_cost is not None
                    else "actual cost cleared")
    return DetailChange(changes, "; ".join(said))


# ---- evidence --------------------------------------------------------------------------------

FILE_KINDS = {"application/pdf": "PDF", "image/png": "PNG picture",
              "image/jpeg": "JPEG picture", "text/plain": "text file", "text/csv": "CSV file"}


def file_size(size: int | None) -> str:
    """"840 KB", "2.4 MB": a file's size as its list shows it."""
    size = size or 0
    if size < 1024 * 1024:
        return f"{max(1, -(-size // 1024))} KB"
    return f"{size / 1024 / 1024:.1f} MB"
