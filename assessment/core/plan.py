"""The plan: triggered recommendations -> steps, workstreams and phases. Pure: no Flask, no I/O.

A consultant's rules, stated in docs/scoring.md (step 6) and applied here in this order:
1. Finding out comes first and in one go: every "find out" for one party (the IT provider, or the
   owner's own checks) becomes one step in the first week, listing what to ask.
2. Related work is one step: recommendations a bank step `absorbs`, and several fixes of one
   question that the bank `combine`s (training topics, computer settings), are one step with one
   effort and one cost. A step is read after the steps it comes `after` (a backup before its
   restore test).
3. Steps are ordered by risk removed: fixes for critical findings first (worst severity first),
   then by priority, then by timeframe (by when it should be done), then by points gained per
   effort point, then bank order. A step that another
   one needs first takes the place of the step that needs it.
4. Phases fill in that order: each step goes in the current phase while it has room (critical
   fixes always in the first), else in the next. So no step is placed after a lower-risk step,
   and spare room is used before a later phase is opened. The first 90 days hold at most the
   bank's step limit for the business's size; what does not fit waits, summarised by workstream.
5. Steps are numbered in reading order: phase by phase, the find-out steps first, then each
   workstream's steps together (workstreams in the order of their most urgent step).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .bank import Bank
from .bank.models import (
    NOT_SURE,
    PRIORITY_ORDER,
    SEVERITY_ORDER,
    CombinedStep,
    Question,
    Recommendation,
    Workstream,
)

PHASES = (30, 60, 90)
LATER = len(PHASES)  # the phase position of steps that wait until after the last phase
COST_ORDER = {None: -1, "none": 0, "low": 1, "medium": 2, "high": 3}
EFFORT_BY_POINTS = ("low", "medium", "high")
EFFORT_RANK = {"low": 1, "medium": 2, "high": 3}  # position in EFFORT_BY_POINTS, from 1
# A find-out meeting with more questions than this takes two sittings' worth of effort.
MEETING_QUESTIONS = 5
FIND_OUT_TITLES = {
    "provider": "One meeting with your IT provider: {n} question{s} to ask",
    "owner": "Your own checks: {n} thing{s} to find out",
}
FIND_OUT_TEXTS = {
    "provider": "Ask your IT provider these in one meeting in the first week, and ask for the "
                "answers in writing. Until you have them, plan as if each answer is the worst "
                "one. Then look at the plan again with what you learned.",
    "owner": "Find these out yourself in the first week, from your staff, your papers and "
             "your advisers. Then look at the plan again with what you learned.",
}
FIND_OUT_DONE = {
    "provider": "You have a written answer to each question.",
    "owner": "You have an answer to each one, written down.",
}


def is_find_out(r: Recommendation) -> bool:
    """A recommendation that finds out rather than fixes: triggered by "Not sure" alone."""
    return set(r.when) == {NOT_SURE}


class Candidate(NamedTuple):
    """One triggered recommendation before it is placed: what the scoring knows of it."""

    question: Question
    recommendation: Recommendation
    key: tuple  # risk order (smaller first)
    points: int  # effort points
    fixes_finding: bool
    # question:recommendation, and is_find_out(recommendation): made once per answer by the
    # scoring (placing reads them many times over)
    id: str
    find_out: bool


class Step(NamedTuple):
    """One piece of work in the plan: one or more recommendations done as one."""

    id: str  # the id of its lead recommendation (question:recommendation)
    number: int  # position in reading order, from 1
    title: str
    text: str
    done_when: str
    who: str
    workstream: Workstream
    parts: tuple[str, ...]  # ids of the recommendations it covers, the lead first
    phase: int  # position in PHASES, or LATER
    find_out: bool
    asks: str | None  # for a find-out step: provider or owner
    effort: str  # low, medium or high
    effort_points: int
    cost: str | None  # the highest cost band among its parts
    per_person: bool  # some part of its cost grows with the number of people
    fixes_finding: bool
    severity: str | None
    risk: tuple  # its place in the risk order (smaller first), as candidate_key makes it

    @property
    def days(self) -> int | None:
        return PHASES[self.phase] if self.phase < LATER else None

    @property
    def covers(self) -> tuple[str, ...]:
        return self.parts[1:]


class Placement(NamedTuple):
    steps: tuple[Step, ...]  # in reading order
    # Why the first step after 90 days waits: "limit" (the 90 days hold as many steps as the
    # business's size allows) or "room" (the last phase had no room left for it); None when
    # nothing waits.
    waits: str | None = None


def step_limit(bank: Bank, staff: object) -> int | None:
    """How many named steps the first 90 days hold for a business of this size."""
    if bank.plan is None or not bank.plan.steps:
        return None
    size = staff if isinstance(staff, (int, float)) else bank.plan.default_staff
    for row in bank.plan.steps:
        if row.up_to is None or size <= row.up_to:
            return row.steps
    return bank.plan.steps[-1].steps


def steps_per_phase(limit: int | None) -> int | None:
    """Steps spread over the phases: no phase takes more than its share of the limit, except the
    first month's critical fixes and find-outs, which wait for nothing."""
    return -(-limit // len(PHASES)) if limit is not None else None


def phase_capacity(bank: Bank, staff: object) -> int | None:
    """The effort points one phase holds for a business of this size (bank.yaml `plan`)."""
    if bank.plan is None:
        return None
    size = staff if isinstance(staff, (int, float)) else bank.plan.default_staff
    for row in bank.plan.capacity:
        if row.up_to is None or size <= row.up_to:
            return row.points
    return bank.plan.capacity[-1].points


def effort_points(bank: Bank, r: Recommendation) -> int:
    return bank.plan.effort_points[r.effort] if bank.plan else 1


def _ref(question: Question, ref: str) -> str:
    """A reference to a recommendation, as written in the bank, as a full id."""
    return ref if ":" in ref else f"{question.id}:{ref}"


class _Group:
    """Recommendations that become one step (union-find over candidate ids)."""

    def __init__(self, ids: Iterable[str]):
        self.parent = {i: i for i in ids}

    def find(self, i: str) -> str:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def place(bank: Bank, candidates: Sequence[Candidate], staff: object,
          severity_of: dict[str, str | None]) -> Placement:
    """Turn triggered recommendations into numbered steps placed in phases (see the module's
    docstring for the rules). `severity_of` maps a question id to the severity of its standing
    critical finding."""
    find_outs = [c for c in candidates if c.find_out]
    fixes = [c for c in candidates if not c.find_out]
    groups = _Group(c.id for c in fixes)
    combined: dict[str, CombinedStep] = {}  # candidate id -> the combined wording it joins
    by_question: dict[str, list[Candidate]] = {}
    for c in fixes:
        by_question.setdefault(c.question.id, []).append(c)
    for mine in by_question.values():
        q = mine[0].question
        if q.combine is None:
            continue
        members = [c for c in mine if not q.combine.of or c.recommendation.id in q.combine.of]
        if len(members) >= 2:
            for c in members:
                groups.join(members[0].id, c.id)
                combined[c.id] = q.combine
    absorbed: set[str] = set()
    for c in fixes:
        for ref in c.recommendation.absorbs:
            other = _ref(c.question, ref)
            if other in groups.parent:  # a fix that is triggered too
                groups.join(c.id, other)
                absorbed.add(other)
    members_of: dict[str, list[Candidate]] = {}
    for c in fixes:
        members_of.setdefault(groups.find(c.id), []).append(c)

    drafts = []
    for members in members_of.values():
        members.sort(key=lambda c: c.key)
        absorbers = [c for c in members if c.id not in absorbed and c.recommendation.absorbs]
        lead = absorbers[0] if absorbers else members[0]
        # An absorbing step's own words cover the rest; else a combined question's words.
        wording = None if absorbers else combined.get(lead.id)
        parts = [lead, *[c for c in members if c is not lead]]
        drafts.append(_draft(bank, parts, wording, severity_of))
    meetings = _find_out_steps(bank, find_outs)
    return _schedule(bank, meetings, _order(drafts, groups), staff)


class _Draft(NamedTuple):
    key: tuple
    lead: Candidate
    parts: tuple[Candidate, ...]
    wording: CombinedStep | None
    points: int
    fixes_finding: bool
    severity: str | None
    workstream: Workstream


def _draft(bank: Bank, parts: list[Candidate], wording: CombinedStep | None,
           severity_of: dict[str, str | None]) -> _Draft:
    lead = parts[0]
    findings = [c for c in parts if c.fixes_finding]
    severities = [severity_of.get(c.question.id) for c in findings]
    return _Draft(
        key=min(c.key for c in parts),
        lead=lead,
        parts=tuple(parts),
        wording=wording,
        points=max(c.points for c in parts),
        fixes_finding=bool(findings),
        severity=min(severities, key=lambda s: SEVERITY_ORDER[s]) if findings else None,
        workstream=bank.workstream_of(lead.question, lead.recommendation),
    )


def _order(drafts: list[_Draft], groups: _Group) -> list[list[_Draft]]:
    """Risk order, in bundles placed together. A step that another needs first takes on the
    urgency of the step that needs it (a backup is as urgent as the restore test that depends
    on it), is read before it, and goes in the same phase."""
    root_of = {groups.find(c.id): d for d in drafts for c in d.parts}
    needs: dict[int, list[_Draft]] = {}
    for d in drafts:
        before = []
        for c in d.parts:
            for ref in c.recommendation.after:
                other = _ref(c.question, ref)
                if other in groups.parent:
                    prior = root_of[groups.find(other)]
                    if prior is not d and prior not in before:
                        before.append(prior)
        needs[id(d)] = before
    urgency = {id(d): d.key for d in drafts}
    changed = True
    while changed:  # the bank refuses cycles in `after`, so this settles
        changed = False
        for d in drafts:
            for prior in needs[id(d)]:
                if urgency[id(d)] < urgency[id(prior)]:
                    urgency[id(prior)] = urgency[id(d)]
                    changed = True
    drafts = sorted(drafts, key=lambda d: urgency[id(d)])
    bundles: list[list[_Draft]] = []
    placed: set[int] = set()

    def visit(d: _Draft, bundle: list[_Draft]) -> None:
        if id(d) in placed:
            return
        placed.add(id(d))
        for prior in sorted(needs[id(d)], key=lambda p: urgency[id(p)]):
            visit(prior, bundle)
        bundle.append(d._replace(key=urgency[id(d)]))

    for d in drafts:
        if urgency[id(d)] < d.key:
            continue  # made urgent by a step that needs it: placed with that step
        bundle: list[_Draft] = []
        visit(d, bundle)
        if bundle:
            bundles.append(bundle)
    return bundles


def _find_out_steps(bank: Bank, find_outs: list[Candidate]) -> list[_Draft]:
    """One step per party asked, its questions in risk order."""
    parties: dict[str, list[Candidate]] = {}
    for c in sorted(find_outs, key=lambda c: c.key):
        parties.setdefault(c.recommendation.asks or "provider", []).append(c)
    steps = []
    for party in ("provider", "owner"):
        mine = parties.get(party)
        if not mine:
            continue
        points = 1 if len(mine) <= MEETING_QUESTIONS else 2
        steps.append(_Draft(key=mine[0].key, lead=mine[0], parts=tuple(mine), wording=None,
                            points=points, fixes_finding=False, severity=None,
                            workstream=Workstream(id="find_out", title="Find out first",
                                                  lead="owner")))
    return steps


def _schedule(bank: Bank, meetings: list[_Draft], bundles: list[list[_Draft]],
              staff: object) -> Placement:
    capacity = phase_capacity(bank, staff)
    limit = step_limit(bank, staff)
    left = [capacity] * len(PHASES) if capacity is not None else None
    used = [0] * len(PHASES)  # steps in each phase
    phase_of: list[tuple[_Draft, int]] = []
    for meeting in meetings:  # the first week, whatever else the month holds
        if left is not None:
            left[0] -= meeting.points
        used[0] += 1
        phase_of.append((meeting, 0))
    per_phase = steps_per_phase(limit)
    current = 0
    waits = None
    for bundle in bundles:
        points, count = sum(d.points for d in bundle), len(bundle)
        if limit is not None and sum(used) + count > limit:
            phase = LATER
            waits = waits or "limit"
        elif left is None:  # a 1.x bank: the timeframe decides
            phase = PHASES.index(bundle[-1].lead.recommendation.timeframe)
        elif any(d.fixes_finding for d in bundle) and current == 0:
            phase = 0  # a critical finding is dealt with this month, room or not
        else:
            while current < LATER and used[current] and (
                    left[current] < points
                    or (per_phase is not None and used[current] + count > per_phase)):
                current += 1
            phase = current
            if phase == LATER:
                waits = waits or "room"
        if phase < LATER:
            used[phase] += count
            if left is not None:
                left[phase] -= points
        phase_of.extend((d, phase) for d in bundle)
    return _number(phase_of)._replace(waits=waits)


def _number(phase_of: list[tuple[_Draft, int]]) -> Placement:
    """Steps in reading order, numbered: by phase, find-outs first, each workstream together in
    the order of its most urgent step, and within a workstream in plan order."""
    position = {id(d): i for i, (d, _) in enumerate(phase_of)}
    first_of: dict[tuple[int, str], int] = {}
    for d, phase in phase_of:
        first_of.setdefault((phase, d.workstream.id), position[id(d)])
    ordered = sorted(phase_of, key=lambda item: (
        item[1], item[0].workstream.id != "find_out",
        first_of[(item[1], item[0].workstream.id)], position[id(item[0])]))
    return Placement(tuple(_step(d, phase, number)
                           for number, (d, phase) in enumerate(ordered, start=1)))


def _step(d: _Draft, phase: int, number: int) -> Step:
    lead = d.lead.recommendation
    find_out = d.workstream.id == "find_out"
    if find_out:
        party = lead.asks or "provider"
        n = len(d.parts)
        title = FIND_OUT_TITLES[party].format(n=n, s="" if n == 1 else "s")
        text, done_when, who = FIND_OUT_TEXTS[party], FIND_OUT_DONE[party], "owner"
    elif d.wording is not None:
        party = None
        title, text, done_when = d.wording.title, d.wording.text, d.wording.done_when
        who = lead.who or ""
    else:
        party = None
        title, text, done_when, who = lead.title, lead.text, lead.done_when or "", lead.who or ""
    cost = max((c.recommendation.cost for c in d.parts), key=COST_ORDER.__getitem__)
    return Step(
        id=d.lead.id, number=number, title=title, text=text, done_when=done_when, who=who,
        workstream=d.workstream, parts=tuple(c.id for c in d.parts), phase=phase,
        find_out=find_out, asks=party,
        effort=EFFORT_BY_POINTS[min(len(EFFORT_BY_POINTS), _effort_rank(d)) - 1],
        effort_points=d.points, cost=cost,
        per_person=any(c.recommendation.per_person for c in d.parts),
        fixes_finding=d.fixes_finding, severity=d.severity, risk=d.key,
    )


def _effort_rank(d: _Draft) -> int:
    """The effort word of a step: its largest part's, or medium for a long find-out list."""
    if d.workstream.id == "find_out":
        return 1 if d.points == 1 else 2
    return max(EFFORT_RANK[c.recommendation.effort] for c in d.parts)


def candidate_key(fixes_finding: bool, severity: str | None, r: Recommendation, value,
                  order: int) -> tuple:
    """The risk order of one recommendation (smaller first)."""
    return (0 if fixes_finding else 1, SEVERITY_ORDER[severity], PRIORITY_ORDER[r.priority],
            r.timeframe, -value, order)
