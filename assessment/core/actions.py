"""The living roadmap's rules: an action's states and the moves between them, what the next
assessment proves, and how promises kept are measured. Pure: records and dates in, decisions out;
storage keeps what is decided here, the web asks here before it changes anything.

An action starts as a step of an assessment's plan (proposed). Agreeing it makes it a promise:
its due date is then frozen as the original due date, so a later deferral moves the due date but
never the promise, and every push is counted. Only the next assessment proves a promise: its
questions answered and no longer raising the finding (verified), a claimed "done" that they
contradict (not confirmed), a verified action failing again (regressed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

PARTIES = ("provider", "client", "vendor")
PARTY_LABELS = {"provider": "IT provider", "client": "Your business", "vendor": "Other vendor"}


class Status(StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    IN_PROGRESS = "in_progress"
    DONE = "done"  # claimed done; the next assessment says whether it is
    VERIFIED = "verified"
    BLOCKED = "blocked"
    DEFERRED = "deferred"
    RISK_ACCEPTED = "risk_accepted"
    DROPPED = "dropped"
    NOT_CONFIRMED = "not_confirmed"
    REGRESSED = "regressed"


LABELS = {
    Status.PROPOSED: "Proposed", Status.AGREED: "Agreed", Status.IN_PROGRESS: "In progress",
    Status.DONE: "Done (not yet checked)", Status.VERIFIED: "Verified",
    Status.BLOCKED: "Blocked", Status.DEFERRED: "Deferred",
    Status.RISK_ACCEPTED: "Risk accepted", Status.DROPPED: "Dropped",
    Status.NOT_CONFIRMED: "Not confirmed", Status.REGRESSED: "Regressed",
}

# Work still to do (or to be proven): what "overdue" and the next 90 days are made of.
OPEN = frozenset({Status.AGREED, Status.IN_PROGRESS, Status.BLOCKED, Status.DEFERRED,
                  Status.NOT_CONFIRMED, Status.REGRESSED})
# Where a promise can be claimed done from.
CLAIMABLE = OPEN
# What the next assessment looks at: everything not closed.
CHECKED = OPEN | {Status.DONE, Status.PROPOSED}

# The moves people make. The next assessment's moves (verified, not confirmed, regressed) and an
# accepted risk coming back when its date passes are the system's alone.
BY_HAND: Mapping[Status, frozenset[Status]] = {
    Status.PROPOSED: frozenset({Status.AGREED, Status.DEFERRED, Status.RISK_ACCEPTED,
                                Status.DROPPED}),
    Status.AGREED: frozenset({Status.IN_PROGRESS, Status.DONE, Status.BLOCKED, Status.DEFERRED,
                              Status.RISK_ACCEPTED, Status.DROPPED}),
    Status.IN_PROGRESS: frozenset({Status.DONE, Status.BLOCKED, Status.DEFERRED,
                                   Status.RISK_ACCEPTED, Status.DROPPED}),
    Status.BLOCKED: frozenset({Status.IN_PROGRESS, Status.DONE, Status.DEFERRED,
                               Status.RISK_ACCEPTED, Status.DROPPED}),
    Status.DEFERRED: frozenset({Status.AGREED, Status.IN_PROGRESS, Status.DONE, Status.BLOCKED,
                                Status.DEFERRED, Status.RISK_ACCEPTED, Status.DROPPED}),
    Status.DONE: frozenset({Status.IN_PROGRESS}),  # a claim taken back
    Status.NOT_CONFIRMED: frozenset({Status.IN_PROGRESS, Status.DONE, Status.DEFERRED,
                                     Status.RISK_ACCEPTED, Status.DROPPED}),
    Status.REGRESSED: frozenset({Status.IN_PROGRESS, Status.DONE, Status.DEFERRED,
                                 Status.RISK_ACCEPTED, Status.DROPPED}),
    Status.RISK_ACCEPTED: frozenset({Status.AGREED, Status.DROPPED}),
    Status.DROPPED: frozenset({Status.PROPOSED}),
    Status.VERIFIED: frozenset(),
}
# What a business owner may do through their private link, to their own actions only.
BY_OWNER = frozenset({Status.DONE})


class MoveRefused(ValueError):
    """A move the rules do not allow, or one missing what it needs; the message says which,
    in words for the person who tried it."""


@dataclass(frozen=True)
class Action:
    id: int | None
    client_id: int
    title: str
    why: str
    workstream: str
    party: str  # provider, client or vendor
    status: Status = Status.PROPOSED
    person: str = ""  # who does it, by name
    due: date | None = None
    original_due: date | None = None  # frozen when agreed: the promise
    pushes: int = 0
    cost_low: int | None = None
    cost_high: int | None = None
    currency: str | None = None
    score_gain: int = 0
    questions: tuple[str, ...] = ()  # whose answers prove it done
    finding: str = ""  # the plan step's lead recommendation: one open action per finding
    severity: str = ""  # of the critical finding it deals with: existential, serious or ""
    ticket: str = ""
    notes: str = ""
    from_assessment: str | None = None
    agreed_on: date | None = None
    done_on: date | None = None  # claimed
    verified_on: date | None = None
    verified_by: str | None = None  # the assessment that proved it
    accepted_by: str = ""  # who accepted the risk
    accepted_until: date | None = None
    actual_cost: int | None = None

    @property
    def promised(self) -> bool:
        return self.original_due is not None

    @property
    def finds_out(self) -> bool:
        """A promise to find answers out (ask the provider, check the papers), not to change
        anything: kept when its questions are answered for sure (core.promises.FIND_OUT)."""
        return self.finding.startswith("find_out:")

    @property
    def label(self) -> str:
        return LABELS[self.status]


@dataclass(frozen=True)
class Move:
    """What someone asks for: the state to move to, and what that state needs."""

    to: Status
    due: date | None = None
    reason: str = ""
    person: str = ""
    until: date | None = None


@dataclass(frozen=True)
class Event:
    """One change of an action, as it is kept (append-only)."""

    who: str
    on: date
    from_status: Status | None
    to_status: Status
    reason: str = ""
    due_before: date | None = None
    due_after: date | None = None
    assessment: str | None = None


@dataclass(frozen=True)
class Decision:
    action: Action
    event: Event


def parse_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise MoveRefused(f"“{value}” is not a state an action can move to; choose one of: "
                          + ", ".join(LABELS[s] for s in Status) + ".") from None


def decide(action: Action, move: Move, *, who: str, today: date,
           owner: bool = False) -> Decision:
    """The action after `move` by `who` (a member, or with owner=True the business owner through
    their link), and the event that records it. MoveRefused when the rules forbid it."""
    if owner:
        if action.party != "client":
            raise MoveRefused("This action is for your IT provider or another vendor to do; "
                              "only they can change it.")
        if move.to not in BY_OWNER or action.status not in CLAIMABLE:
            raise MoveRefused("From your link you can mark your own agreed actions as done; "
                              "ask your consultant for any other change.")
    elif move.to not in BY_HAND.get(action.status, frozenset()):
        if move.to in (Status.VERIFIED, Status.NOT_CONFIRMED, Status.REGRESSED):
            raise MoveRefused("Only the next assessment can mark an action "
                              f"“{LABELS[move.to]}”: its answers prove it, not a click.")
        raise MoveRefused(f"An action that is “{action.label}” cannot be moved to "
                          f"“{LABELS[move.to]}”.")
    changed = _apply(action, move, today)
    return Decision(changed, Event(who=who, on=today, from_status=action.status,
                                   to_status=move.to, reason=move.reason.strip(),
                                   due_before=action.due, due_after=changed.due))


def _apply(action: Action, move: Move, today: date) -> Action:
    reason = move.reason.strip()
    if move.to is Status.AGREED:
        due = move.due or action.due
        if due is None:
            raise MoveRefused("Give a due date to agree this action.")
        if action.original_due is None and due < today:
            raise MoveRefused("The due date of a new promise cannot be in the past.")
        person = move.person.strip() or action.person
        if not person:  # a promise nobody is named to keep is not one
            raise MoveRefused("Name the person who does it, to agree this action (for "
                              "example “Sam at Acme IT”).")
        return replace(action, status=Status.AGREED, due=due,
                       original_due=action.original_due or due,
                       agreed_on=action.agreed_on or today, person=person,
                       accepted_by="", accepted_until=None)
    if move.to is Status.DEFERRED:
        if move.due is None:
            raise MoveRefused("Give the new due date to defer this action.")
        if not reason:
            raise MoveRefused("Say why it is deferred: the review shows every push and why.")
        if action.due is not None and move.due <= action.due:
            raise MoveRefused("A deferral moves the due date later; to bring it forward, "
                              "agree it again with the earlier date.")
        return replace(action, status=Status.DEFERRED, due=move.due,
                       pushes=action.pushes + (1 if action.promised else 0))
    if move.to is Status.RISK_ACCEPTED:
        if not move.person.strip():
            raise MoveRefused("Name the person who accepts the risk.")
        if move.until is None or move.until <= today:
            raise MoveRefused("Give the date until which the risk is accepted (after today); "
                              "it comes back for a decision then.")
        return replace(action, status=Status.RISK_ACCEPTED, accepted_by=move.person.strip(),
                       accepted_until=move.until)
    if move.to in (Status.DROPPED, Status.BLOCKED) and not reason:
        word = "dropped" if move.to is Status.DROPPED else "blocked"
        raise MoveRefused(f"Say why it is {word}.")
    if move.to is Status.DONE:
        return replace(action, status=Status.DONE, done_on=today)
    if move.to is Status.IN_PROGRESS and action.status is Status.DONE:
        return replace(action, status=Status.IN_PROGRESS, done_on=None)
    if move.to is Status.PROPOSED:  # a dropped action taken up again: no promise yet
        return replace(action, status=Status.PROPOSED, due=None, original_due=None, pushes=0,
                       agreed_on=None)
    return replace(action, status=move.to)


# ---- what the system decides -----------------------------------------------------------------

def expire_accepted_risks(actions: Iterable[Action], today: date) -> list[Decision]:
    """Accepted risks whose date has passed come back as proposed, for a new decision."""
    decided = []
    for action in actions:
        if (action.status is Status.RISK_ACCEPTED and action.accepted_until is not None
                and action.accepted_until < today):
            back = replace(action, status=Status.PROPOSED, accepted_by="", accepted_until=None)
            decided.append(Decision(back, Event(
                who="system", on=today, from_status=action.status, to_status=Status.PROPOSED,
                reason=f"the risk was accepted until {action.accepted_until.isoformat()} "
                       f"by {action.accepted_by}")))
    return decided


@dataclass(frozen=True)
class Evidence:
    """What a finished assessment says about the questions actions rest on."""

    assessment: str
    on: date
    answered: frozenset[str]  # questions answered for sure (not "not sure", not skipped)
    raising: frozenset[str]  # recommendation ids the assessment still triggers

    def proves(self, action: Action) -> bool | None:
        """True when every question of the action is answered and its finding is gone; False
        when the finding is still raised; None when the assessment cannot tell (a question not
        answered for sure, or none to look at)."""
        if not action.questions:
            return None
        if action.finding in self.raising:
            return False
        if not set(action.questions) <= self.answered:
            return None
        return True


def check_promises(actions: Iterable[Action], evidence: Evidence) -> list[Decision]:
    """Each action the assessment proves or disproves, moved: verified (its questions now
    pass), not confirmed (claimed done, but they fail), regressed (verified before, failing
    now). An action it cannot tell about stays as it is."""
    decided = []
    for action in actions:
        proved = evidence.proves(action)
        to: Status | None = None
        if proved is True and action.status in CHECKED:
            to = Status.VERIFIED
        elif proved is False and action.status is Status.DONE:
            to = Status.NOT_CONFIRMED
        elif proved is False and action.status is Status.VERIFIED:
            to = Status.REGRESSED
        if to is None:
            continue
        if to is Status.VERIFIED:
            changed = replace(action, status=to, verified_on=evidence.on,
                              verified_by=evidence.assessment)
        else:
            changed = replace(action, status=to)
        decided.append(Decision(changed, Event(
            who="assessment", on=evidence.on, from_status=action.status, to_status=to,
            assessment=evidence.assessment)))
    return decided


def questions_to_ask_first(actions: Iterable[Action]) -> list[tuple[Action, str]]:
    """The promised actions' questions, each once, in due order: what the next assessment asks
    before anything else."""
    asked: set[str] = set()
    first = []
    promised = [a for a in actions if a.promised and a.status in (OPEN | {Status.DONE})]
    for action in sorted(promised, key=lambda a: (a.original_due or date.max, a.title)):
        for question in action.questions:
            if question not in asked:
                asked.add(question)
                first.append((action, question))
    return first


# ---- measured, not claimed ------------------------------------------------------------------

@dataclass(frozen=True)
class Measures:
    """Promises kept, on time, and slippage, for one party or all. A promise is an agreed
    action; it counts once the date first agreed has come, or once it is proven. Counted by the
    original date, not the current one: deferring a promise moves its work, never takes it out
    of the count (else pushing every date would keep the record clean)."""

    promises: int = 0  # agreed and due (by the original date) by the day measured, or verified
    kept: int = 0  # verified
    on_time: int = 0  # verified by the original due date
    late: int = 0  # verified after it
    claimed: int = 0  # done, not yet proven
    overdue: int = 0  # past the (current) due date, not done
    moved: int = 0  # past the original date, deferred to a date still to come
    pushes: int = 0
    pushed_twice: int = 0  # actions pushed two or more times
    days_late: int = 0  # verified late or still overdue, counted against the original date
    planned_spend: tuple[int, int] = (0, 0)
    actual_spend: int = 0


def measure(actions: Iterable[Action], as_of: date) -> Measures:
    counts = {"promises": 0, "kept": 0, "on_time": 0, "late": 0, "claimed": 0, "overdue": 0,
              "moved": 0, "pushes": 0, "pushed_twice": 0, "days_late": 0, "actual_spend": 0}
    low = high = 0
    for action in actions:
        if not action.promised or action.status in (Status.DROPPED, Status.RISK_ACCEPTED):
            continue
        assert action.original_due is not None
        counts["pushes"] += action.pushes
        counts["pushed_twice"] += action.pushes >= 2
        low += action.cost_low or 0
        high += action.cost_high or 0
        counts["actual_spend"] += action.actual_cost or 0
        verified = action.status is Status.VERIFIED and action.verified_on is not None
        if not verified and action.original_due > as_of:
            continue  # not due yet
        counts["promises"] += 1
        if verified:
            assert action.verified_on is not None
            counts["kept"] += 1
            late_by = (action.verified_on - action.original_due).days
            if late_by <= 0:
                counts["on_time"] += 1
            else:
                counts["late"] += 1
                counts["days_late"] += late_by
        elif action.status is Status.DONE:
            counts["claimed"] += 1
        else:
            counts["overdue" if (action.due or action.original_due) <= as_of else "moved"] += 1
            counts["days_late"] += max(0, (as_of - action.original_due).days)
    return Measures(planned_spend=(low, high), **counts)


def measure_by_party(actions: Iterable[Action], as_of: date) -> dict[str, Measures]:
    listed = list(actions)
    return {party: measure([a for a in listed if a.party == party], as_of)
            for party in PARTIES}


@dataclass(frozen=True)
class Projection:
    """The score the plan projected for the review against the score reached, and the slipped
    promises that explain the gap (each with the gain it was expected to bring)."""

    before: int | None
    projected: int | None
    reached: int | None
    slipped: tuple[Action, ...] = field(default_factory=tuple)

    @property
    def gap(self) -> int | None:
        if self.projected is None or self.reached is None:
            return None
        return self.projected - self.reached


def projection(actions: Iterable[Action], *, before: int | None, reached: int | None,
               as_of: date) -> Projection:
    """What the plan said: the score before, plus the expected gain of every promise due by
    `as_of` (capped at 100). The slipped ones are those due and not verified."""
    due = [a for a in actions if a.promised and a.original_due is not None
           and a.original_due <= as_of and a.status not in (Status.DROPPED,)]
    projected = None if before is None else min(100, before + sum(a.score_gain for a in due))
    slipped = tuple(sorted((a for a in due if a.status is not Status.VERIFIED),
                           key=lambda a: -a.score_gain))
    return Projection(before=before, projected=projected, reached=reached, slipped=slipped)
