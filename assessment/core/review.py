"""What a quarterly review (QBR) of one client says, built from its actions, their events, the
scores its finished assessments ended with, the period and today. Pure: records and dates in,
a ReviewContent out; the workspace shows it, the review pack prints it, and a locked review keeps
it as JSON (to_json/from_json give back exactly what was kept), so what was said at the meeting
never changes afterwards.

The figures are core.actions' own (measure, measure_by_party, projection), taken over the
promises of the period: agreed actions whose original due date falls in or before the period
end, less those already proven or closed before it began (the last review reported them).
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, timedelta
from typing import Any, Union, get_args, get_origin, get_type_hints

from .actions import (
    LABELS,
    OPEN,
    PARTY_LABELS,
    Action,
    Event,
    Measures,
    Status,
    measure,
    measure_by_party,
    projection,
)
from .costs import CURRENCIES

SNAPSHOT_FORMAT = 1
DEFAULT_PERIOD_DAYS = 90  # a quarter: the period a new review suggests
AHEAD_DAYS = 90  # "the next 90 days" after the period
MAX_PERIOD_DAYS = 366  # a review covers at most a year
MAX_HEADLINE = 300
MAX_NOTES = 500  # what the last page of the pack has room for
# The years a period may fall in: anything else is a typing slip (and the year 9999 leaves no
# room for the 90 days after the period that the pack looks ahead to).
FIRST_YEAR, LAST_YEAR = 2000, 2999
SEVERITY_ORDER = {"existential": 0, "serious": 1}
# Statuses a promise can be closed with before a period starts, and so not be the period's.
_CLOSED = (Status.VERIFIED, Status.DROPPED, Status.RISK_ACCEPTED)


def period_problem(start: date, end: date) -> str | None:
    """Why a review cannot cover start..end, in words for the consultant; None when it can."""
    if end < start:
        return ("The period ends before it starts. Put the first day of the period in "
                "“From” and the last day in “To”.")
    if (end - start).days >= MAX_PERIOD_DAYS:
        return ("A review covers at most a year. Choose a shorter period: a quarter "
                f"({DEFAULT_PERIOD_DAYS} days) is usual.")
    if end.year > LAST_YEAR or start.year < FIRST_YEAR:
        return (f"Choose dates between {FIRST_YEAR} and {LAST_YEAR}: a review looks back over "
                "a quarter or so of the client's roadmap.")
    return None


def default_period(today: date) -> tuple[date, date]:
    """The last 90 days, ending today."""
    return today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today


# ---- the records a review is made of ----------------------------------------------------------

@dataclass(frozen=True)
class FinishedScore:
    """The score a finished assessment of the client ended with, and the day it was finished."""

    assessment: str
    on: date
    score: int


def finished_scores_of(rows: Iterable[Mapping[str, Any]]) -> list[FinishedScore]:
    """Stored rows (id, finished_at as stored time text, final_score) as FinishedScore, oldest
    first; rows without a score or a finishing time are left out."""
    scores = [FinishedScore(assessment=str(row["id"]),
                            on=date.fromisoformat(str(row["finished_at"])[:10]),
                            score=int(row["final_score"]))
              for row in rows if row.get("final_score") is not None and row.get("finished_at")]
    return sorted(scores, key=lambda s: s.on)


@dataclass(frozen=True)
class SlipRow:
    """A promise that fell due and was not proven done: part of why the score is short of
    what the plan projected."""

    action_id: int
    title: str
    party: str
    score_gain: int
    status: str
    status_label: str


@dataclass(frozen=True)
class ScoreLine:
    """The score now (the latest finished in or before the period end) against last time (the
    one before it) and against what the plan projected for now."""

    last: int | None = None
    last_on: date | None = None
    now: int | None = None
    now_on: date | None = None
    projected: int | None = None
    slipped: tuple[SlipRow, ...] = ()

    @property
    def gap(self) -> int | None:
        """How far the score reached is short of the plan's (negative: above it)."""
        if self.projected is None or self.now is None:
            return None
        return self.projected - self.now


@dataclass(frozen=True)
class PromiseRow:
    """One promise of the period: what was promised, by whom, for when, and what came of it."""

    action_id: int
    title: str
    party: str
    person: str
    original_due: date
    due: date | None
    pushes: int
    status: str
    status_label: str
    done_on: date | None  # verified on, or claimed done on
    days_late: int  # against the original due date: when done, or by the review's day


@dataclass(frozen=True)
class Scorecard:
    """Promises kept, on time and slippage, for one party ("all" for everyone)."""

    party: str
    label: str
    promises: int = 0
    kept: int = 0
    on_time: int = 0
    late: int = 0
    claimed: int = 0
    overdue: int = 0
    moved: int = 0  # past the date first agreed, deferred to a date still to come
    pushes: int = 0
    pushed_twice: int = 0
    days_late: int = 0

    @classmethod
    def of(cls, party: str, label: str, measures: Measures) -> Scorecard:
        return cls(party=party, label=label, promises=measures.promises, kept=measures.kept,
                   on_time=measures.on_time, late=measures.late, claimed=measures.claimed,
                   overdue=measures.overdue, moved=measures.moved, pushes=measures.pushes,
                   pushed_twice=measures.pushed_twice, days_late=measures.days_late)


@dataclass(frozen=True)
class ChangeRow:
    """Something the period brought: a new finding (a new proposed action), a regression, or a
    claimed "done" the assessment did not confirm."""

    action_id: int
    title: str
    party: str
    kind: str  # new, regressed or not_confirmed
    on: date | None
    severity: str
    status: str
    status_label: str


CHANGE_LABELS = {"regressed": "Regressed: was verified, fails again",
                 "not_confirmed": "Claimed done, not confirmed by the assessment",
                 "new": "New finding"}


@dataclass(frozen=True)
class DecisionRow:
    """A proposed action waiting for a decision: agree, defer, or accept the risk."""

    action_id: int
    title: str
    why: str
    party: str
    person: str
    due: date | None  # as the plan suggests it
    severity: str
    cost_low: int | None
    cost_high: int | None
    currency: str | None
    score_gain: int


@dataclass(frozen=True)
class UpcomingRow:
    """Open work due in the next 90 days after the period (or overdue already)."""

    action_id: int
    title: str
    party: str
    person: str
    due: date
    status: str
    status_label: str
    overdue: bool


@dataclass(frozen=True)
class RiskRow:
    """A risk someone accepted instead of acting, and until when."""

    action_id: int
    title: str
    party: str
    accepted_by: str
    accepted_until: date | None


@dataclass(frozen=True)
class SpendRow:
    """An action whose actual cost was entered, against the range the plan gave."""

    action_id: int
    title: str
    cost_low: int | None
    cost_high: int | None
    actual: int
    currency: str | None


@dataclass(frozen=True)
class ReviewContent:
    """Everything a review shows; a locked review keeps it as JSON. Dates are dates, lists are
    tuples, and nothing here is computed again from the roadmap once it is kept."""

    client_name: str
    period_start: date
    period_end: date
    as_of: date  # the day the figures were taken (the period end, or today if sooner)
    scores: ScoreLine
    totals: Scorecard
    by_party: tuple[Scorecard, ...]
    promised: tuple[PromiseRow, ...]
    changes: tuple[ChangeRow, ...]
    decisions: tuple[DecisionRow, ...]
    next_90_days: tuple[UpcomingRow, ...]
    accepted_risks: tuple[RiskRow, ...]
    spend: tuple[SpendRow, ...]
    headline_draft: str
    headline: str = ""  # the consultant's words; the draft until they edit it
    notes: str = ""
    next_review: date | None = None
    format: int = SNAPSHOT_FORMAT
    currency: str | None = None  # the spend's, when every row has the same one
    party_labels: dict[str, str] = field(default_factory=lambda: dict(PARTY_LABELS))

    @property
    def promises_line(self) -> str:
        """"7 of 9 promises kept", or what there is to say when none fell due."""
        return promises_line(self.totals)

    @property
    def shown_headline(self) -> str:
        return self.headline or self.headline_draft

    @property
    def spend_totals(self) -> tuple[int, int, int]:
        """Planned low, planned high and actual, over the actions with an actual cost."""
        return (sum(r.cost_low or 0 for r in self.spend), sum(r.cost_high or 0 for r in self.spend),
                sum(r.actual for r in self.spend))

    def with_words(self, *, headline: str, notes: str, next_review: date | None
                   ) -> ReviewContent:
        """The content with the consultant's headline (empty: the draft), notes and next
        review date."""
        return replace(self, headline=headline.strip(), notes=notes.strip(),
                       next_review=next_review)

    def to_json(self) -> str:
        return json.dumps(_plain(self), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ReviewContent:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError("not a review snapshot of a format this version reads")
        built = _build(cls, data)
        assert isinstance(built, ReviewContent)
        return built


def promises_line(card: Scorecard) -> str:
    if not card.promises:
        return "No promise fell due in this period"
    word = "promise" if card.promises == 1 else "promises"
    return f"{card.kept} of {card.promises} {word} kept"


def headline_draft(card: Scorecard, scores: ScoreLine) -> str:
    """"7 of 9 promises kept; score 58 → 66, the plan said 70"."""
    line = promises_line(card)
    if scores.now is None:
        return f"{line}; no finished assessment to score it yet"
    if scores.last is None:
        return f"{line}; score {scores.now}"
    said = f", the plan said {scores.projected}" if scores.projected is not None else ""
    return f"{line}; score {scores.last} → {scores.now}{said}"


def money(amount: int, currency: str | None) -> str:
    """£1,200 (the sign of the currency, when it has one)."""
    return f"{CURRENCIES.get(currency or '', '')}{amount:,}"


def cost_range_text(low: int | None, high: int | None, currency: str | None) -> str:
    """£500 to £1,500; "" when no cost was given."""
    if low is None and high is None:
        return ""
    if low is None or high is None or low == high:
        return money(low if low is not None else high or 0, currency)
    return f"{money(low, currency)} to {money(high, currency)}"


# ---- building it ------------------------------------------------------------------------------

def build_review(*, client_name: str, actions: Sequence[Action],
                 events: Mapping[int, Sequence[Event]] | None,
                 scores: Sequence[FinishedScore], period_start: date, period_end: date,
                 today: date) -> ReviewContent:
    """The review of `actions` (the client's, as they stand today) for the period. `events`:
    each action's events in the period, by action id (None when not known: then nothing is
    reported as new, and regressions are read from the statuses)."""
    as_of = min(period_end, today)
    stored = [a for a in actions if a.id is not None]
    changed_on = _last_change(stored, events)
    promised = [a for a in stored if _promise_of_period(a, period_start, period_end,
                                                         changed_on.get(a.id or 0))]
    promised.sort(key=lambda a: (a.original_due or date.max, a.title.casefold(), a.id or 0))
    totals = Scorecard.of("all", "Everyone", measure(promised, as_of))
    by_party = tuple(Scorecard.of(party, PARTY_LABELS[party], measures)
                     for party, measures in measure_by_party(promised, as_of).items())
    score_line = _score_line(stored, scores, period_end)
    spend = _spend(stored)
    return ReviewContent(
        client_name=client_name, period_start=period_start, period_end=period_end, as_of=as_of,
        scores=score_line, totals=totals, by_party=by_party,
        promised=tuple(_promise_row(a, as_of) for a in promised),
        changes=_changes(stored, events, period_start, period_end),
        decisions=_decisions(stored),
        next_90_days=_upcoming(stored, period_end, as_of),
        accepted_risks=tuple(
            RiskRow(action_id=a.id or 0, title=a.title, party=a.party, accepted_by=a.accepted_by,
                    accepted_until=a.accepted_until)
            for a in sorted((a for a in stored if a.status is Status.RISK_ACCEPTED),
                            key=lambda a: (a.accepted_until or date.max, a.title.casefold()))),
        spend=spend, currency=_one_currency(spend),
        headline_draft=headline_draft(totals, score_line))


def _last_change(actions: Sequence[Action], events: Mapping[int, Sequence[Event]] | None
                 ) -> dict[int, date]:
    """The day each action last moved to the status it has (among the events given)."""
    if events is None:
        return {}
    found: dict[int, date] = {}
    for action in actions:
        days = [e.on for e in events.get(action.id or 0, ())
                if e.to_status is action.status and e.from_status is not action.status]
        if days:
            found[action.id or 0] = max(days)
    return found


def _promise_of_period(action: Action, start: date, end: date, changed_on: date | None) -> bool:
    """Agreed, due (by its original or its current date) by the period end, and not closed
    before the period began."""
    if action.original_due is None:
        return False
    due = min(action.original_due, action.due or action.original_due)
    if due > end:
        return False
    if action.status is Status.VERIFIED:
        return action.verified_on is None or action.verified_on >= start
    if action.status in _CLOSED:
        # Dropped or accepted: shown when that happened in the period (its event is there).
        return changed_on is not None and changed_on >= start
    return True


def _promise_row(action: Action, as_of: date) -> PromiseRow:
    assert action.original_due is not None
    done_on = action.verified_on if action.status is Status.VERIFIED else (
        action.done_on if action.status is Status.DONE else None)
    until = done_on or (as_of if action.status in OPEN else None)
    days_late = max(0, (until - action.original_due).days) if until else 0
    return PromiseRow(action_id=action.id or 0, title=action.title, party=action.party,
                      person=action.person, original_due=action.original_due, due=action.due,
                      pushes=action.pushes, status=action.status.value,
                      status_label=LABELS[action.status], done_on=done_on, days_late=days_late)


def _score_line(actions: Sequence[Action], scores: Sequence[FinishedScore], end: date
                ) -> ScoreLine:
    upto = sorted((s for s in scores if s.on <= end), key=lambda s: s.on)
    if not upto:
        return ScoreLine()
    now = upto[-1]
    last = upto[-2] if len(upto) > 1 else None
    if last is None:
        return ScoreLine(now=now.score, now_on=now.on)
    # What the plan said since the last assessment: its score plus the gain of every promise
    # that fell due after it (the earlier ones are in that score already).
    since = [a for a in actions if a.original_due is not None and a.original_due > last.on]
    plan = projection(since, before=last.score, reached=now.score, as_of=end)
    return ScoreLine(last=last.score, last_on=last.on, now=now.score, now_on=now.on,
                     projected=plan.projected,
                     slipped=tuple(SlipRow(action_id=a.id or 0, title=a.title, party=a.party,
                                           score_gain=a.score_gain, status=a.status.value,
                                           status_label=LABELS[a.status])
                                   for a in plan.slipped))


def _changes(actions: Sequence[Action], events: Mapping[int, Sequence[Event]] | None,
             start: date, end: date) -> tuple[ChangeRow, ...]:
    rows: dict[tuple[int, str], ChangeRow] = {}
    for action in actions:
        kinds: dict[str, date | None] = {}
        if events is None:
            if action.status is Status.REGRESSED:
                kinds["regressed"] = None
            elif action.status is Status.NOT_CONFIRMED:
                kinds["not_confirmed"] = None
        else:
            for event in events.get(action.id or 0, ()):
                if not start <= event.on <= end:
                    continue
                if event.from_status is None:
                    kinds["new"] = event.on
                elif event.to_status in (Status.REGRESSED, Status.NOT_CONFIRMED) \
                        and event.from_status is not event.to_status:
                    kinds[event.to_status.value] = event.on
        for kind, on in kinds.items():
            rows[(action.id or 0, kind)] = ChangeRow(
                action_id=action.id or 0, title=action.title, party=action.party, kind=kind,
                on=on, severity=action.severity, status=action.status.value,
                status_label=LABELS[action.status])
    order = {"regressed": 0, "not_confirmed": 1, "new": 2}
    return tuple(sorted(rows.values(), key=lambda r: (
        order[r.kind], SEVERITY_ORDER.get(r.severity, 9), r.title.casefold(), r.action_id)))


def _decisions(actions: Sequence[Action]) -> tuple[DecisionRow, ...]:
    waiting = sorted((a for a in actions if a.status is Status.PROPOSED), key=lambda a: (
        SEVERITY_ORDER.get(a.severity, 9), -a.score_gain, a.title.casefold(), a.id or 0))
    return tuple(DecisionRow(action_id=a.id or 0, title=a.title, why=a.why, party=a.party,
                             person=a.person, due=a.due, severity=a.severity,
                             cost_low=a.cost_low, cost_high=a.cost_high, currency=a.currency,
                             score_gain=a.score_gain) for a in waiting)


def _upcoming(actions: Sequence[Action], end: date, as_of: date) -> tuple[UpcomingRow, ...]:
    horizon = end + timedelta(days=AHEAD_DAYS)
    due = sorted((a for a in actions if a.status in OPEN and a.due is not None
                  and a.due <= horizon), key=lambda a: (a.due, a.title.casefold(), a.id or 0))
    return tuple(UpcomingRow(action_id=a.id or 0, title=a.title, party=a.party,
                             person=a.person, due=a.due, status=a.status.value,
                             status_label=LABELS[a.status], overdue=a.due < as_of)
                 for a in due if a.due is not None)


def _spend(actions: Sequence[Action]) -> tuple[SpendRow, ...]:
    return tuple(SpendRow(action_id=a.id or 0, title=a.title, cost_low=a.cost_low,
                          cost_high=a.cost_high, actual=a.actual_cost, currency=a.currency)
                 for a in sorted(actions, key=lambda a: (a.title.casefold(), a.id or 0))
                 if a.actual_cost is not None)


def _one_currency(rows: Sequence[SpendRow]) -> str | None:
    currencies = {r.currency for r in rows if r.currency}
    return currencies.pop() if len(currencies) == 1 else None


# ---- JSON, both ways --------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _build(kind: type, data: Mapping[str, Any]) -> Any:
    hints = get_type_hints(kind)
    values = {f.name: _value(hints[f.name], data[f.name]) for f in fields(kind)
              if f.name in data}
    return kind(**values)


def _value(hint: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = [arg for arg in get_args(hint) if arg is not type(None)]
        return _value(inner[0], raw)
    if origin is tuple:
        return tuple(_value(get_args(hint)[0], item) for item in raw)
    if origin is dict:
        return {str(k): v for k, v in raw.items()}
    if hint is date:
        return date.fromisoformat(raw)
    if is_dataclass(hint):
        return _build(hint, raw)  # type: ignore[arg-type]
    return raw
