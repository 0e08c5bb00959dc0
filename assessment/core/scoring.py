"""Scoring: answers + bank -> result. Pure: no Flask, no SQLite, no I/O.

The method is stated in docs/scoring.md, precisely enough to re-implement; in short:
- a question applies when its `show_if` holds (hidden questions leave the denominator, except
  `scored_when_hidden` ones hidden by answered gateways, which earn 0);
- an applicable scored question that is answered earns a share of its points (0 to 1), "Not sure"
  earns 0, N/A and unanswered leave the denominator;
- section score = 100 * sum(weight * share) / sum(weight) over the questions that count;
- overall score = weighted mean of the section scores, by section weight (in a 2.0 bank a
  section weighs what its counted questions weigh, so it is the weighted mean of every answer);
- all of it in exact fractions; a score is shown as a whole number rounded half up, and the band
  is taken from that whole number;
- with nothing scored counted there is no overall score and no band yet;
- each critical finding caps the band by its severity (bank.yaml `severities`), and serious
  findings of several different weaknesses together cap it further; from bank 2.2 a finding
  may stand only for some businesses (`only_if`) or be worse for some (`stronger`);
- the plan (plan.py) makes the triggered recommendations into steps: every find out for one
  party in one first-week step, related fixes joined, ordered by risk removed and placed in the
  phases as far as the business's size allows; what does not fit waits past 90 days;
- the projected score after a phase counts a question as fixed once every action on it is done by
  then, at the answer those actions produce; finding out is not fixing, and the past cannot be
  fixed, so neither raises a projection.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from fractions import Fraction
from functools import reduce
from typing import NamedTuple

from .bank import Answer, AnswerError, Bank, Question
from .bank.models import (
    NOT_APPLICABLE,
    NOT_SURE,
    Band,
    Contradiction,
    Recommendation,
    Section,
    Workstream,
)
from .costs import CostExposure, cost_exposure
from .plan import (
    LATER,
    PHASES,
    SEVERITY_ORDER,
    Candidate,
    Placement,
    Step,
    candidate_key,
    is_find_out,
    phase_capacity,
    place,
)
from .plan import effort_points as _effort_points
from .what_if import ScoreRange, Unknowns, Walked, unknowns_of

ZERO, ONE, HALF = Fraction(0), Fraction(1), Fraction(1, 2)
# A ratio of the bank's numbers (scores and weights with a few decimals) is recovered exactly
# from its float; no real ratio in a bank has a denominator anywhere near this.
EXACT_DENOMINATOR = 10**6


def whole(value: Fraction | None) -> int | None:
    """A score from 0 to 1 as a whole number from 0 to 100, rounded half up."""
    return None if value is None else math.floor(100 * value + HALF)


def _whole_ratio(part: int, total: int) -> int:
    """whole(part / total) for whole numbers, without building a fraction."""
    return (200 * part + total) // (2 * total)


def exact(number: float) -> Fraction:
    return Fraction(number).limit_denominator(EXACT_DENOMINATOR)


class Outcome(NamedTuple):
    """What became of one question: shown or not, answered how, and what it earns."""

    question: Question
    section_id: str
    index: int  # position in the bank, for a stable order
    applicable: bool
    answer: Answer | None
    tokens: frozenset[str]
    share: Fraction | None  # 0..1 of the question's points, None when it does not count

    @property
    def counts(self) -> bool:
        return self.share is not None

    @property
    def answer_label(self) -> str:
        return self.question.describe(self.answer)


class SectionScore(NamedTuple):
    section: Section
    weight: float
    score: int | None  # 0..100, None when nothing in it counts
    applicable: int
    answered: int
    not_sure: int


class Finding(NamedTuple):
    """A critical finding: an answer (or not knowing) that leaves the business exposed now."""

    outcome: Outcome
    title: str
    severity: str | None  # existential or serious; None in a 1.x bank
    actions: tuple[Action, ...]  # the actions that deal with it, in plan order
    # What it does to the business, in the bank's words for this finding as it stands (the
    # rule's, its lesser finding's, "Not sure"'s or a `stronger` entry's); None when the bank
    # has none (before 2.1).
    why_it_matters: str | None = None
    # Its root cause (critical.weakness, bank 2.2, else the question id): findings of one
    # weakness count once towards escalation.
    weakness: str = ""

    @property
    def not_sure(self) -> bool:
        return self.outcome.answer is not None and self.outcome.answer.state == NOT_SURE


class Action(NamedTuple):
    """A recommendation triggered by an answer, placed in the plan."""

    outcome: Outcome
    recommendation: Recommendation
    severity: str | None  # of the critical finding it deals with; None when it deals with none
    fixes_finding: bool
    find_out: bool  # triggered by "Not sure" alone: it finds out, it does not fix
    gain_units: int  # what its question gains once all its actions are done, in bank units
    unit_worth: Fraction  # overall points (0 to 100) one bank unit is worth in its section
    phase: int  # position in PHASES, or LATER
    step: Step  # the step of the plan it is part of

    @property
    def gain(self) -> Fraction:
        """Overall points its question gains once all its actions are done (0 for a "find
        out" or a question about the past)."""
        return self.unit_worth * self.gain_units

    @property
    def id(self) -> str:
        return f"{self.outcome.question.id}:{self.recommendation.id}"

    @property
    def days(self) -> int | None:
        return PHASES[self.phase] if self.phase < LATER else None


class Phase(NamedTuple):
    days: int
    actions: tuple[Action, ...]
    projected_score: int | None
    projected_band: Band | None
    effort: int  # effort points its steps take
    capacity: int | None  # effort points the phase holds; None when the bank sets none
    steps: tuple[Step, ...] = ()  # in reading order
    # Where "Not sure" answers remain: the score after this phase if every unknown turned out
    # the worst and the best it could be (hidden follow-ups counted); None when nothing is
    # unknown.
    projected_range: ScoreRange | None = None


class WorkstreamPlan(NamedTuple):
    workstream: Workstream
    steps: tuple[Step, ...]  # in reading order, those after 90 days included


class Result(NamedTuple):
    """Everything the answers come to."""

    bank_id: str
    bank_version: str
    bank_hash: str
    score: int | None
    band: Band | None
    uncapped_band: Band | None
    sections: tuple[SectionScore, ...]
    outcomes: tuple[Outcome, ...]
    critical_findings: tuple[Finding, ...]  # worst severity first, then bank order
    not_sure: tuple[Outcome, ...]
    actions: tuple[Action, ...]  # in plan order: risk removed first
    roadmap: tuple[Phase, ...]
    later: tuple[Action, ...]  # what does not fit in the last phase
    provider_questions: tuple[str, ...]
    profile: dict[str, object]
    costs: CostExposure | None
    unanswered: tuple[Outcome, ...]
    steps: tuple[Step, ...] = ()  # the plan in reading order, those after 90 days included
    workstreams: tuple[WorkstreamPlan, ...] = ()
    # Today's score if every unknown were the worst or the best answer; None when none is.
    score_range: ScoreRange | None = None
    # More than a third of the scored weight is unknown: the score is provisional.
    provisional: bool = False
    unknowns: Unknowns | None = None
    # Why steps wait past 90 days: "limit" or "room" (plan.Placement.waits); None when none do.
    later_reason: str | None = None
    bank_title: str = ""  # the question set's name, for the report's method page
    # Answers that do not agree (bank 2.2 `contradictions` whose `when` holds), in bank order:
    # named to the owner to check; they never change the score, the band or the findings.
    contradictions: tuple[Contradiction, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unanswered

    @property
    def capped(self) -> bool:
        return self.band != self.uncapped_band


NO_TOKENS: frozenset[str] = frozenset()


class _Effect(NamedTuple):
    """What one answer to one question does, worked out once per bank and answer.

    Points are whole numbers of the bank's unit (see _unit): weight * share * unit is a whole
    number for every answer, so the walk adds integers and stays exact."""

    outcome: Outcome
    seen: tuple[Answer, frozenset[str]]  # what later show_if conditions compare against
    weight: int  # added to the section's denominator; 0 when the answer does not count
    points: int  # weight * share earned
    not_sure: bool
    recommendations: tuple[Recommendation, ...]  # triggered, in bank order
    steps: tuple[tuple[Recommendation, int, int, int], ...]  # (each, effort points, its bank
    # order, the earliest phase of its timeframe)
    effort: int  # effort points of all of them together (at least 1)
    gain: int  # weight * (target share - share): what its fixes add; 0 when nothing can
    stake: int  # for ordering: the gain, or for "Not sure" the whole weight at stake
    finding: _Matched | None  # the critical finding the answer makes, before the other
    # answers are looked at (see _standing)
    asked: tuple[str, ...]
    profile: tuple[str, object] | None


_MEMO_LIMIT = 256  # distinct answers remembered per question (free text could be endless)


class _Matched(NamedTuple):
    """The critical finding an answer makes by its tokens alone: the rule's own, its lesser
    finding or "Not sure"."""

    title: str
    severity: str | None
    why_it_matters: str | None
    kind: str  # "when" (the rule's own: the one `stronger` can make worse), "lesser", not_sure
    weakness: str


class _Step:
    """One question's part of the scoring, worked out once per bank."""

    __slots__ = ("question", "id", "section_id", "index", "weight", "unit", "optional",
                 "condition", "gates", "referenced", "hidden", "hidden_open", "hidden_weight",
                 "unanswered", "effects", "bank", "rec_order", "rule_looks_around")

    def __init__(self, bank: Bank, q: Question, section_id: str, index: int, referenced: bool,
                 unit: int, rec_order: dict[tuple[str, str], int]):
        self.question, self.id, self.index, self.section_id = q, q.id, index, section_id
        self.weight, self.unit, self.bank, self.rec_order = exact(q.weight), unit, bank, rec_order
        self.optional = bank.is_optional(q)
        self.condition = q.show_if
        self.gates = frozenset(q.condition_refs)  # the questions its show_if looks at
        self.referenced = referenced  # a later condition looks at this answer
        # A question `scored_when_hidden` counts as earning nothing while its show_if hides it,
        # once its gateways are answered: hidden by answers, what it asks about does not exist.
        # While a gateway is still open it is hidden like any other (hidden_open): nothing is
        # known yet, and an empty assessment must not score 0.
        counts_hidden = q.scored_when_hidden and q.scored
        self.hidden = Outcome(q, section_id, index, False, None, NO_TOKENS,
                              ZERO if counts_hidden else None)
        self.hidden_open = Outcome(q, section_id, index, False, None, NO_TOKENS, None)
        self.hidden_weight = self._units(ONE) if counts_hidden else 0
        # Its critical finding depends on other answers too (critical.only_if, stronger).
        self.rule_looks_around = bool(q.critical and q.critical.condition_refs)
        self.unanswered = Outcome(q, section_id, index, True, None, NO_TOKENS, None)
        self.effects: dict[Answer, _Effect] = {}

    def effect(self, answer: Answer) -> _Effect:
        try:
            known = self.effects.get(answer)
        except TypeError:  # an unhashable value: worked out, not remembered
            return self._work_out(answer)
        if known is None:
            known = self._work_out(answer)
            if len(self.effects) < _MEMO_LIMIT:
                self.effects[answer] = known  # a race between threads adds the same effect
        return known

    def _work_out(self, answer: Answer) -> _Effect:
        q, state = self.question, answer.state
        share = None
        if state == "answered":
            tokens = q.kind.answer_tokens(q, answer.value)
            if q.scored:
                share = exact(q.kind.points(q, answer.value))
        elif state == NOT_SURE:
            tokens = frozenset({NOT_SURE})
            share = ZERO if q.scored else None
        else:
            tokens = frozenset({NOT_APPLICABLE})
        outcome = Outcome(q, self.section_id, self.index, True, answer, tokens, share)
        triggered = tuple(r for r in q.recommendations if not tokens.isdisjoint(r.when))
        counted = share is not None
        target = _target(q, triggered) if counted and state == "answered" else None
        gain = self._units(max(target - share, ZERO)) if target is not None else 0
        steps = tuple((r, _effort_points(self.bank, r), self.rec_order[q.id, r.id],
                       PHASES.index(r.timeframe)) for r in triggered)
        return _Effect(
            outcome=outcome,
            seen=(answer, tokens),
            weight=self._units(ONE) if counted else 0,
            points=self._units(share) if counted else 0,
            not_sure=state == NOT_SURE,
            recommendations=triggered,
            steps=steps,
            effort=sum(points for _, points, _, _ in steps) or 1,
            gain=gain,
            stake=self._units(ONE) if state == NOT_SURE and counted else gain,
            finding=_matched_finding(q, tokens),
            asked=tuple(f.text for f in q.ask_provider if not tokens.isdisjoint(f.when)),
            profile=(q.feeds, answer.value) if q.feeds and state == "answered" else None,
        )


    def _units(self, share: Fraction) -> int:
        """weight * share in whole units of the bank (exact by construction of the unit)."""
        units = self.weight * share * self.unit
        assert units.denominator == 1, (self.id, share)  # noqa: S101 (_unit guarantees it)
        return units.numerator


def _share_denominator(q: Question) -> int:
    """A whole number n such that every share an answer to q can earn is a multiple of 1/n."""
    if q.type == "scale":
        return int(q.max - q.min)
    if q.type == "multi":
        scores = [exact(c.score) for c in q.choices if c.score > 0]
        common = reduce(math.lcm, (f.denominator for f in scores), 1)
        step = Fraction(reduce(math.gcd, (int(f * common) for f in scores)), common)
        return (step / exact(q.kind.available(q))).denominator
    options = q.bands if q.type == "number" else q.choices
    best = max(exact(o.score) for o in options)
    return reduce(math.lcm, ((exact(o.score) / best).denominator for o in options), 1)


def _unit(bank: Bank) -> int:
    """The bank's unit of points: weight * share * unit is a whole number for every answer of
    every question, so a walk over the answers adds whole numbers, exactly and fast."""
    return reduce(math.lcm, (exact(q.weight).denominator * _share_denominator(q)
                             for q in bank.questions if q.scored), 1)


def _target(q: Question, triggered: tuple[Recommendation, ...]) -> Fraction | None:
    """The share a question reaches once its triggered recommendations are done: the best
    answer, or the answer named by `fixes_to` (the highest, when several say)."""
    if not triggered or q.looks_back:
        return None
    return max(ONE if r.fixes_to is None else exact(q.kind.points(q, _fixed_value(q, r.fixes_to)))
               for r in triggered)


def _fixed_value(q: Question, token: str):
    """A value of the question that stands for the answer token `token` (a choice or band)."""
    for band in q.bands:
        if band.id == token:
            return band.up_to if band.up_to is not None else (q.max or 1e12)
    return token


def _matched_finding(q: Question, tokens: frozenset[str]) -> _Matched | None:
    """The finding the answer's tokens make; its lesser and "Not sure" findings share the
    rule's weakness (one root cause, however it shows)."""
    rule = q.critical
    if rule is None:
        return None
    weakness = rule.weakness or q.id  # without one, the finding is a weakness of its own
    if not tokens.isdisjoint(rule.when):
        return _Matched(rule.finding, rule.severity, rule.why_it_matters, "when", weakness)
    if rule.lesser is not None and not tokens.isdisjoint(rule.lesser.when):
        lesser = rule.lesser
        return _Matched(lesser.finding, lesser.severity, lesser.why_it_matters, "lesser",
                        weakness)
    unsure = rule.not_sure
    if NOT_SURE in tokens and unsure is not None and unsure.severity is not None:
        return _Matched(unsure.finding, unsure.severity, unsure.why_it_matters, NOT_SURE,
                        weakness)
    return None


def _standing(q: Question, matched: _Matched | None, lookup) -> _Matched | None:
    """The finding as it stands given the other answers (bank 2.2): none where the rule's
    only_if (or for the lesser finding, its own) does not hold; the rule's own finding made
    worse by the first `stronger` entry whose condition holds."""
    rule = q.critical
    if matched is None or rule is None:
        return matched
    if rule.only_if is not None and not rule.only_if.evaluate(lookup):
        return None
    if matched.kind == "lesser" and rule.lesser.only_if is not None and \
            not rule.lesser.only_if.evaluate(lookup):
        return None
    if matched.kind == "when":
        for entry in rule.stronger:
            if entry.condition.evaluate(lookup):
                return matched._replace(
                    title=entry.finding or matched.title, severity=entry.severity,
                    why_it_matters=entry.why_it_matters or matched.why_it_matters)
    return matched


class _Plan(NamedTuple):
    sections: tuple[tuple[Section, Fraction, tuple[_Step, ...]], ...]
    by_questions: bool  # a section weighs what its counted questions weigh (bank `overall`)
    unit: int  # see _unit
    effort_scale: int  # a multiple of every question's effort points (see _actions)
    asked: tuple[str, ...]  # provider questions every business is asked
    caps: dict[str | None, int]  # severity -> rank of the band it caps at
    escalations: tuple[tuple[str, int, int], ...]  # (severity, count, band rank)
    rank: dict[str, int]  # band id -> rank (0 is the worst)


_PLANS: dict[str, _Plan] = {}


def _plan(bank: Bank) -> _Plan:
    """Everything about a bank that does not depend on the answers, built on first use."""
    plan = _PLANS.get(bank.hash)
    if plan is not None:
        return plan
    referenced = {ref for q in bank.questions for ref in q.condition_refs}
    referenced |= {ref for q in bank.questions for r in q.recommendations
                   for ref in r.condition_refs}
    referenced |= {ref for q in bank.questions if q.critical for ref in q.critical.condition_refs}
    index = {q.id: i for i, q in enumerate(bank.questions)}
    rank = {band.id: i for i, band in enumerate(bank.bands)}
    caps: dict[str | None, int] = {rule.id: rank[rule.caps_at] for rule in bank.severities}
    if bank.critical_cap is not None:
        caps[None] = rank[bank.critical_cap]
    unit = _unit(bank)
    rec_order = {(q.id, r.id): i for i, (q, r) in enumerate(
        (q, r) for q in bank.questions for r in q.recommendations)}
    most_effort = max((sum(_effort_points(bank, r) for r in q.recommendations)
                       for q in bank.questions), default=1)
    plan = _Plan(
        sections=tuple(
            (section, exact(bank.section_weights[section.id]),
             tuple(_Step(bank, q, section.id, index[q.id], q.id in referenced, unit, rec_order)
                   for q in section.questions))
            for section in bank.sections),
        by_questions=bank.overall == "questions",
        unit=unit,
        effort_scale=math.lcm(*range(1, most_effort + 1)),
        asked=tuple(p.text for p in bank.provider_questions),
        caps=caps,
        escalations=tuple((rule.id, rule.escalate.count, rank[rule.escalate.caps_at])
                          for rule in bank.severities if rule.escalate),
        rank=rank,
    )
    if len(_PLANS) > 32:
        _PLANS.clear()
    _PLANS[bank.hash] = plan
    return plan


class _Tally(NamedTuple):
    """One section's sums after the walk, in the bank's units."""

    weight: Fraction  # section weight (bank.yaml), used when sections have fixed weights
    counted: int  # sum of the weights of the questions that count
    earned: int


def score(bank: Bank, answers: Mapping[str, Answer]) -> Result:
    """Score the answers against the bank (one pass over the questions, in bank order)."""
    plan = _plan(bank)
    seen: dict[str, tuple[Answer, frozenset[str]]] = {}
    lookup = seen.get  # a hidden or unanswered question is None to a condition
    tallies: list[_Tally] = []
    sections: list[SectionScore] = []
    walked: list[Outcome] = []
    triggered: list[tuple[int, _Effect]] = []  # (section position, effect)
    asked = list(plan.asked)
    not_sure: list[Outcome] = []
    unanswered: list[Outcome] = []
    profile: dict[str, object] = {}
    gates = _Gates()

    for position, (section, weight, steps) in enumerate(plan.sections):
        counted = earned = 0
        applicable = answered = unsure = 0
        for step in steps:
            if step.condition is not None and not step.condition.evaluate(lookup):
                if gates.settled(step):
                    walked.append(step.hidden)
                    counted += step.hidden_weight
                else:
                    walked.append(step.hidden_open)
                continue
            applicable += 1
            answer = answers.get(step.id)
            if answer is None:
                gates.still_open(step)
                walked.append(step.unanswered)
                if not step.optional:
                    unanswered.append(step.unanswered)
                continue
            effect = step.effect(answer)
            gates.answered(step, answer)
            if step.rule_looks_around:
                effect = effect._replace(finding=_standing(step.question, effect.finding,
                                                           lookup))
            walked.append(effect.outcome)
            if step.referenced:
                seen[step.id] = effect.seen
            answered += 1
            counted += effect.weight
            earned += effect.points
            if effect.recommendations or effect.finding:
                triggered.append((position, effect))
            if effect.not_sure:
                unsure += 1
                not_sure.append(effect.outcome)
            if effect.asked:
                asked.extend(effect.asked)
            if effect.profile:
                profile[effect.profile[0]] = effect.profile[1]
        tallies.append(_Tally(weight, counted, earned))
        sections.append(SectionScore(section, float(weight),
                                     _whole_ratio(earned, counted) if counted else None,
                                     applicable, answered, unsure))

    overall = _overall(plan, tallies, [t.earned for t in tallies])
    uncapped = bank.band_for(overall) if overall is not None else None
    actions, findings, placement = _actions(bank, plan, tallies, triggered, profile, lookup)
    steps = placement.steps
    unknowns = None
    if not_sure:
        unknowns = unknowns_of(
            bank, answers, walked, not_sure, walk=lambda world: _walk(plan, world),
            overall=lambda counted, points: _overall(
                plan, [t._replace(counted=c) for t, c in zip(tallies, counted, strict=True)],
                points))
    roadmap = _roadmap(bank, plan, tallies, triggered, actions, findings, profile, steps,
                       unknowns)
    return Result(
        bank_id=bank.id,
        bank_version=bank.version,
        bank_hash=bank.hash,
        score=overall,
        band=_capped(bank, plan, uncapped, findings),
        uncapped_band=uncapped,
        sections=tuple(sections),
        outcomes=tuple(walked),
        critical_findings=findings,
        not_sure=tuple(not_sure),
        actions=actions,
        roadmap=roadmap,
        later=tuple(a for a in actions if a.phase == LATER),
        provider_questions=tuple(dict.fromkeys(asked)),
        profile=profile,
        costs=cost_exposure(profile),
        unanswered=tuple(unanswered),
        steps=steps,
        workstreams=_workstreams(steps),
        score_range=unknowns.range_after({}) if unknowns else None,
        provisional=bool(unknowns and unknowns.provisional),
        unknowns=unknowns,
        later_reason=placement.waits,
        bank_title=bank.title,
        contradictions=_contradictions(bank, walked),
    )


def _contradictions(bank: Bank, walked: list[Outcome]) -> tuple[Contradiction, ...]:
    """The bank's contradictions that hold on the final answers, in bank order. A condition
    reads the answers as show_if does (a question hidden or unanswered compares false), and
    may look at any question: every answer is in by now."""
    if not bank.contradictions:
        return ()
    seen = {o.question.id: (o.answer, o.tokens) for o in walked
            if o.applicable and o.answer is not None}
    return tuple(c for c in bank.contradictions if c.when.evaluate(seen.get))


def _walk(plan: _Plan, answers: Mapping[str, Answer]) -> Walked:
    """The sums of score()'s walk alone, for the what-if worlds of what_if.py."""
    seen: dict[str, tuple[Answer, frozenset[str]]] = {}
    lookup = seen.get
    counted_all, earned_all, weights, open_ids = [], [], {}, []
    gates = _Gates()
    for _, _, steps in plan.sections:
        counted = earned = 0
        for step in steps:
            if step.condition is not None and not step.condition.evaluate(lookup):
                if step.hidden_weight and gates.settled(step):
                    counted += step.hidden_weight
                    weights[step.id] = step.hidden_weight
                continue
            answer = answers.get(step.id)
            if answer is None:
                gates.still_open(step)
                open_ids.append(step.id)
                continue
            effect = step.effect(answer)
            gates.answered(step, answer)
            if step.referenced:
                seen[step.id] = effect.seen
            counted += effect.weight
            earned += effect.points
            if effect.weight:
                weights[step.id] = effect.weight
        counted_all.append(counted)
        earned_all.append(earned)
    return Walked(counted_all, earned_all, weights, tuple(open_ids))


class _Gates:
    """Which gateways are still open during a walk, for `scored_when_hidden`.

    A question hidden by its show_if is settled when every question its show_if looks at is
    settled: answered with a value or "Not sure", or itself hidden while settled. An unanswered
    gateway is open, and so is N/A (like no answer, it says nothing about what follows), and so
    is a question hidden while a gateway of its own is open. Only questions that a later
    condition looks at are tracked."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open: set[str] = set()

    def settled(self, hidden: _Step) -> bool:
        """Whether this hidden question is hidden by answers (else it waits on a gateway); a
        hidden question that is referenced passes its openness on."""
        if not (hidden.hidden_weight or hidden.referenced):
            return True  # nothing depends on it
        if self.open.isdisjoint(hidden.gates):
            return True
        if hidden.referenced:
            self.open.add(hidden.id)
        return False

    def still_open(self, step: _Step) -> None:
        if step.referenced:
            self.open.add(step.id)

    def answered(self, step: _Step, answer: Answer) -> None:
        if step.referenced and answer.state == NOT_APPLICABLE:
            self.open.add(step.id)


def _overall(plan: _Plan, tallies: list[_Tally], earned: list[int]) -> int | None:
    """The overall score as shown: the weighted mean of the section scores over the sections in
    which anything counts (with `overall: questions`, of every counted answer)."""
    if plan.by_questions:
        total = sum(t.counted for t in tallies if t.weight)
        return _whole_ratio(sum(e for t, e in zip(tallies, earned, strict=True) if t.weight),
                            total) if total else None
    weight_sum = weighted = ZERO
    for tally, points in zip(tallies, earned, strict=True):
        if tally.counted and tally.weight:
            weight_sum += tally.weight
            weighted += tally.weight * Fraction(points, tally.counted)
    return whole(weighted / weight_sum) if weight_sum else None


def _worth(plan: _Plan, tallies: list[_Tally]) -> list[Fraction]:
    """Per section: the overall points (0 to 100) one unit of earned points is worth."""
    if plan.by_questions:
        total = sum(t.counted for t in tallies if t.weight)
        return [Fraction(100, total) if total and t.weight else ZERO for t in tallies]
    weight_sum = sum((t.weight for t in tallies if t.counted and t.weight), ZERO)
    return [100 * t.weight / weight_sum / t.counted if t.counted and weight_sum else ZERO
            for t in tallies]


def _actions(bank: Bank, plan: _Plan, tallies, triggered, profile, lookup) -> tuple[
        tuple[Action, ...], tuple[Finding, ...], Placement]:
    """Every triggered recommendation that fits the business, made into the plan's steps
    (plan.py) and listed in reading order."""
    worth = _worth(plan, tallies)
    candidates = []
    about: dict[str, tuple[_Effect, int]] = {}  # candidate id -> (effect, section position)
    severity_of: dict[str, str | None] = {}
    for position, effect in triggered:
        q = effect.outcome.question
        severity = effect.finding.severity if effect.finding else None
        if effect.finding:
            severity_of[q.id] = severity
        # Points per effort point: what the question gains at its target (for a "find out",
        # what is at stake), over the effort of everything it takes to get there. With
        # `overall: questions` a unit is worth the same in every section, so the units
        # themselves order exactly; effort_scale is a multiple of every effort sum.
        if plan.by_questions:
            value = effect.stake * (plan.effort_scale // effect.effort)
        else:
            value = worth[position] * effect.stake / effect.effort
        for r, points, order, _ in effect.steps:
            if r.only_if is not None and not r.only_if.evaluate(lookup):
                continue
            c = Candidate(q, r, candidate_key(bool(effect.finding), severity, r, value, order),
                          points, bool(effect.finding) and not is_find_out(r))
            candidates.append(c)
            about[c.id] = (effect, position)
    placement = place(bank, candidates, profile.get("staff_count"), severity_of)
    actions = []
    for step in placement.steps:
        for part in step.parts:
            effect, position = about[part]
            q = effect.outcome.question
            r = next(r for r, _, _, _ in effect.steps if f"{q.id}:{r.id}" == part)
            finding = effect.finding
            gain = 0 if effect.not_sure or q.looks_back else effect.gain
            actions.append(Action(effect.outcome, r, finding.severity if finding else None,
                                  finding is not None, is_find_out(r), gain, worth[position],
                                  step.phase, step))
    by_question: dict[str, list[Action]] = {}
    for action in actions:
        by_question.setdefault(action.outcome.question.id, []).append(action)
    findings = [Finding(effect.outcome, effect.finding.title, effect.finding.severity,
                        tuple(by_question.get(effect.outcome.question.id, ())),
                        effect.finding.why_it_matters, effect.finding.weakness)
                for _, effect in triggered if effect.finding]
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.outcome.index))
    return tuple(actions), tuple(findings), placement


def _workstreams(steps: tuple[Step, ...]) -> tuple[WorkstreamPlan, ...]:
    """The plan by workstream, in the order each first appears in reading order."""
    grouped: dict[str, list[Step]] = {}
    streams: dict[str, Workstream] = {}
    for step in steps:
        grouped.setdefault(step.workstream.id, []).append(step)
        streams[step.workstream.id] = step.workstream
    return tuple(WorkstreamPlan(streams[key], tuple(mine)) for key, mine in grouped.items())


def _capped(bank: Bank, plan: _Plan, band: Band | None, findings) -> Band | None:
    """The band, lowered to what the standing critical findings allow. Escalation counts
    weaknesses, not findings: findings that share a root cause count once."""
    if band is None or not findings:
        return band
    rank = plan.rank[band.id]
    counts = Counter(severity for severity, _ in {(f.severity, f.weakness) for f in findings})
    for severity in counts:
        rank = min(rank, plan.caps[severity])
    for severity, count, cap in plan.escalations:
        if counts[severity] >= count:
            rank = min(rank, cap)
    return bank.bands[rank]


def _roadmap(bank, plan, tallies, triggered, actions, findings, profile, steps,
             unknowns) -> tuple[Phase, ...]:
    """Each phase's steps and the score the business would honestly reach after it. A question
    counts as fixed once all of its actions are done by then (phases are cumulative); it then
    earns the share its actions bring it to. "Find out" and look-back actions fix nothing."""
    done_by: dict[str, int] = {}  # question id -> phase by which all its actions are done
    for action in actions:
        qid = action.outcome.question.id
        done_by[qid] = max(done_by.get(qid, 0), action.phase)
    effects = {effect.outcome.question.id: (position, effect) for position, effect in triggered}
    capacity = phase_capacity(bank, profile.get("staff_count"))
    earned = [t.earned for t in tallies]
    fixed: set[str] = set()
    gains: dict[str, tuple[int, int]] = {}  # question id -> (section position, units gained)
    phases = []
    for phase, days in enumerate(PHASES):
        for qid, by in done_by.items():
            position, effect = effects[qid]
            if by == phase and effect.gain and not effect.not_sure:
                fixed.add(qid)
                earned[position] += effect.gain
                gains[qid] = (position, effect.gain)
        projected = _overall(plan, tallies, earned)
        standing = [f for f in findings if f.outcome.question.id not in fixed]
        band = bank.band_for(projected) if projected is not None else None
        mine = tuple(a for a in actions if a.phase == phase)
        mine_steps = tuple(s for s in steps if s.phase == phase)
        phases.append(Phase(days, mine, projected, _capped(bank, plan, band, standing),
                            sum(s.effort_points for s in mine_steps), capacity, mine_steps,
                            unknowns.range_after(dict(gains)) if unknowns else None))
    return tuple(phases)


def parse_answer(q: Question, raw: object) -> Answer:
    """One raw answer (from JSON or a form) -> Answer, or AnswerError saying how to fix it.

    A raw answer is the value itself, or {"state": "not_sure"} / {"state": "na"}, or
    {"value": ...}; "Not sure" and N/A are refused where the bank does not allow them.
    """
    if isinstance(raw, dict):
        state = raw.get("state", "answered")
        if state == NOT_SURE:
            if not q.not_sure:
                raise AnswerError("'Not sure' is not an option for this question.")
            return Answer.not_sure()
        if state == NOT_APPLICABLE:
            if not q.na:
                raise AnswerError("'Does not apply' is not an option for this question.")
            return Answer.na()
        if state != "answered" or "value" not in raw:
            raise AnswerError("Give a 'value', or a 'state' of 'not_sure' or 'na'.")
        raw = raw["value"]
    return Answer("answered", q.kind.parse(q, raw))


def parse_answers(bank: Bank, raw: Mapping[str, object]) -> tuple[dict[str, Answer], list[str]]:
    """Parse a mapping of question id -> raw answer; returns answers and readable errors."""
    answers, errors = {}, []
    for question_id, value in raw.items():
        q = bank.question_by_id.get(question_id)
        if q is None:
            errors.append(f"answers.{question_id}: no question with this id in bank "
                          f"{bank.id} {bank.version}")
            continue
        try:
            answers[question_id] = parse_answer(q, value)
        except AnswerError as error:
            errors.append(f"answers.{question_id}: {error}{_ids_to_use(q)}")
    return answers, errors


def _ids_to_use(q: Question) -> str:
    """For a file, where the form's options are not on screen: the choice ids it accepts."""
    if not q.choices:
        return ""
    ids = ", ".join(c.id for c in q.choices)
    extra = [f'{{"state": "{state}"}}' for state, allowed in
             ((NOT_SURE, q.not_sure), (NOT_APPLICABLE, q.na)) if allowed]
    many = "a list of" if q.kind.name == "multi" else "one of"
    return f" Use {many}: {ids}" + (f"; or {' or '.join(extra)}." if extra else ".")


def result_to_dict(result: Result) -> dict:
    """The result as plain JSON data (docs/scoring.md, "The result as JSON")."""
    def band(b):
        return None if b is None else {"id": b.id, "label": b.label}

    def action(a: Action) -> dict:
        r = a.recommendation
        return {"id": a.id, "question": a.outcome.question.id, "title": r.title, "text": r.text,
                "priority": r.priority, "effort": r.effort, "timeframe": r.timeframe,
                "who": r.who, "cost": r.cost, "done_when": r.done_when,
                "phase_days": a.days, "fixes_critical": a.fixes_finding,
                "severity": a.severity, "find_out": a.find_out,
                "gain": float(round(a.gain, 2)), "per_person": r.per_person,
                "workstream": a.step.workstream.id, "step": a.step.id,
                "number": a.step.number}

    def score_range(r: ScoreRange | None):
        return None if r is None else {"low": r.low, "high": r.high}

    def step(s: Step) -> dict:
        return {"id": s.id, "number": s.number, "title": s.title, "text": s.text,
                "done_when": s.done_when, "who": s.who, "workstream": s.workstream.id,
                "covers": list(s.covers), "phase_days": s.days, "find_out": s.find_out,
                "asks": s.asks, "effort": s.effort, "cost": s.cost,
                "per_person": s.per_person, "fixes_critical": s.fixes_finding,
                "severity": s.severity}

    return {
        "bank": {"id": result.bank_id, "version": result.bank_version, "hash": result.bank_hash},
        "score": result.score,
        "band": band(result.band),
        "uncapped_band": band(result.uncapped_band),
        "complete": result.complete,
        "unanswered": [o.question.id for o in result.unanswered],
        "sections": [
            {"id": s.section.id, "title": s.section.title, "weight": s.weight,
             "score": s.score, "applicable": s.applicable, "answered": s.answered,
             "not_sure": s.not_sure}
            for s in result.sections if s.section.kind == "scored"
        ],
        "critical_findings": [
            {"question": f.outcome.question.id, "finding": f.title, "severity": f.severity,
             "answer": f.outcome.answer_label, "weakness": f.weakness,
             "why_it_matters": f.why_it_matters} for f in result.critical_findings
        ],
        "not_sure": [o.question.id for o in result.not_sure],
        "provisional": result.provisional,
        "score_range": score_range(result.score_range),
        "recommendations": [action(a) for a in result.actions],
        "steps": [step(s) for s in result.steps],
        "workstreams": [
            {"id": w.workstream.id, "title": w.workstream.title, "lead": w.workstream.lead,
             "steps": [s.id for s in w.steps],
             "recommendations": [part for s in w.steps for part in s.parts]}
            for w in result.workstreams
        ],
        "roadmap": [
            {"days": p.days, "projected_score": p.projected_score,
             "projected_band": band(p.projected_band),
             "projected_range": score_range(p.projected_range),
             "effort_points": p.effort, "capacity": p.capacity,
             "recommendations": [s.id for s in p.steps]}
            for p in result.roadmap
        ],
        "later": [s.id for s in result.steps if s.days is None],
        "provider_questions": list(result.provider_questions),
        "costs": None if result.costs is None else {
            key: (round(value, 2) if isinstance(value, float) else value)
            for key, value in result.costs._asdict().items()
        },
        "contradictions": [{"id": c.id, "text": c.text, "questions": list(c.questions)}
                           for c in result.contradictions],
    }
