"""A bank's scoring rules, worked out once per bank, and what each answer does under them.

Everything here depends on the bank alone (or on one question and one answer), never on a whole
set of answers: score.py walks the answers over it. Points are whole numbers of the bank's unit
(see unit_of), so the walk adds integers and stays exact; sums become scores and bands at the end
(overall, capped).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from fractions import Fraction
from functools import reduce
from typing import NamedTuple, cast

from ..bank import Answer, Bank, Question
from ..bank.models import NOT_APPLICABLE, NOT_SURE, Band, Recommendation, Section
from ..bank.types import MultipleChoice
from ..plan import effort_points, is_find_out
from .result import Outcome

ZERO, ONE, HALF = Fraction(0), Fraction(1), Fraction(1, 2)
# A ratio of the bank's numbers (scores and weights with a few decimals) is recovered exactly
# from its float; no real ratio in a bank has a denominator anywhere near this.
EXACT_DENOMINATOR = 10**6
NO_TOKENS: frozenset[str] = frozenset()
MEMO_LIMIT = 256  # distinct answers remembered per question (free text could be endless)
RULES_KEPT = 32  # banks whose rules are kept (an installation scores against a handful)


def whole(value: Fraction | None) -> int | None:
    """A score from 0 to 1 as a whole number from 0 to 100, rounded half up."""
    return None if value is None else math.floor(100 * value + HALF)


def whole_ratio(part: int, total: int) -> int:
    """whole(part / total) for whole numbers, without building a fraction."""
    return (200 * part + total) // (2 * total)


def exact(number: float) -> Fraction:
    return Fraction(number).limit_denominator(EXACT_DENOMINATOR)


class Matched(NamedTuple):
    """The critical finding an answer makes by its tokens alone: the rule's own, its lesser
    finding or "Not sure"."""

    title: str
    severity: str | None
    why_it_matters: str | None
    kind: str  # "when" (the rule's own: the one `stronger` can make worse), "lesser", not_sure
    weakness: str


class Effect(NamedTuple):
    """What one answer to one question does, worked out once per bank and answer."""

    outcome: Outcome
    seen: tuple[Answer, frozenset[str]]  # what later show_if conditions compare against
    weight: int  # added to the section's denominator; 0 when the answer does not count
    points: int  # weight * share earned
    not_sure: bool
    recommendations: tuple[Recommendation, ...]  # triggered, in bank order
    # Each of them with its effort points, its bank order, its id (question:recommendation)
    # and whether it finds out rather than fixes (plan.is_find_out).
    steps: tuple[tuple[Recommendation, int, int, str, bool], ...]
    effort: int  # effort points of all of them together (at least 1)
    gain: int  # weight * (target share - share): what its fixes add; 0 when nothing can
    stake: int  # for ordering: the gain, or for "Not sure" the whole weight at stake
    finding: Matched | None  # the critical finding the answer makes, before the other
    # answers are looked at (score.standing)
    asked: tuple[str, ...]
    profile: tuple[str, object] | None


class QuestionRule:
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
        self.effects: dict[Answer, Effect] = {}

    def effect(self, answer: Answer) -> Effect:
        try:
            known = self.effects.get(answer)
        except TypeError:  # an unhashable value: worked out, not remembered
            return self._work_out(answer)
        if known is None:
            known = self._work_out(answer)
            if len(self.effects) < MEMO_LIMIT:
                self.effects[answer] = known  # a race between threads adds the same effect
        return known

    def _work_out(self, answer: Answer) -> Effect:
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
        gain = 0
        if share is not None and state == "answered":
            target = _target(q, triggered)
            if target is not None:
                gain = self._units(max(target - share, ZERO))
        steps = tuple((r, effort_points(self.bank, r), self.rec_order[q.id, r.id],
                       f"{q.id}:{r.id}", is_find_out(r)) for r in triggered)
        counted = share is not None
        return Effect(
            outcome=outcome,
            seen=(answer, tokens),
            weight=self._units(ONE) if counted else 0,
            points=self._units(share) if share is not None else 0,
            not_sure=state == NOT_SURE,
            recommendations=triggered,
            steps=steps,
            effort=sum(step[1] for step in steps) or 1,
            gain=gain,
            stake=self._units(ONE) if state == NOT_SURE and counted else gain,
            finding=_matched_finding(q, tokens),
            asked=tuple(f.text for f in q.ask_provider if not tokens.isdisjoint(f.when)),
            profile=(q.feeds, answer.value) if q.feeds and state == "answered" else None,
        )

    def _units(self, share: Fraction) -> int:
        """weight * share in whole units of the bank (exact by construction of the unit)."""
        units = self.weight * share * self.unit
        assert units.denominator == 1, (self.id, share)  # noqa: S101 (unit_of guarantees it)
        return units.numerator


def _share_denominator(q: Question) -> int:
    """A whole number n such that every share an answer to q can earn is a multiple of 1/n."""
    if q.type == "scale":
        assert q.min is not None and q.max is not None  # noqa: S101 (the loader checks it)
        return int(q.max - q.min)
    if isinstance(q.kind, MultipleChoice):
        scores = [exact(c.score) for c in q.choices if c.score > 0]
        common = reduce(math.lcm, (f.denominator for f in scores), 1)
        step = Fraction(reduce(math.gcd, (int(f * common) for f in scores)), common)
        return (step / exact(q.kind.available(q))).denominator
    options = q.bands if q.type == "number" else q.choices
    best = max(exact(o.score) for o in options)
    return reduce(math.lcm, ((exact(o.score) / best).denominator for o in options), 1)


def unit_of(bank: Bank) -> int:
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


def _fixed_value(q: Question, token: str) -> str | float:
    """A value of the question that stands for the answer token `token` (a choice or band)."""
    for band in q.bands:
        if band.id == token:
            return band.up_to if band.up_to is not None else (q.max or 1e12)
    return token


def _matched_finding(q: Question, tokens: frozenset[str]) -> Matched | None:
    """The finding the answer's tokens make; its lesser and "Not sure" findings share the
    rule's weakness (one root cause, however it shows)."""
    rule = q.critical
    if rule is None:
        return None
    weakness = rule.weakness or q.id  # without one, the finding is a weakness of its own
    if not tokens.isdisjoint(rule.when):
        return Matched(rule.finding, rule.severity, rule.why_it_matters, "when", weakness)
    if rule.lesser is not None and not tokens.isdisjoint(rule.lesser.when):
        lesser = rule.lesser
        return Matched(lesser.finding, lesser.severity, lesser.why_it_matters, "lesser",
                       weakness)
    unsure = rule.not_sure
    if NOT_SURE in tokens and unsure is not None and unsure.severity is not None:
        # From bank 2.0 the loader makes a "Not sure" with a severity state its finding.
        return Matched(cast(str, unsure.finding), unsure.severity, unsure.why_it_matters,
                       NOT_SURE, weakness)
    return None


class BankRules(NamedTuple):
    """Everything about a bank that does not depend on the answers."""

    sections: tuple[tuple[Section, Fraction, tuple[QuestionRule, ...]], ...]
    weights: tuple[Fraction, ...]  # each section's weight (bank.yaml), in section order
    weighted: tuple[int, ...]  # the positions of the sections whose weight is not 0
    by_questions: bool  # a section weighs what its counted questions weigh (bank `overall`)
    unit: int  # see unit_of
    effort_scale: int  # a multiple of every question's effort points (see roadmap.py)
    asked: tuple[str, ...]  # provider questions every business is asked
    caps: dict[str | None, int]  # severity -> rank of the band it caps at
    escalations: tuple[tuple[str, int, int], ...]  # (severity, count, band rank)
    rank: dict[str, int]  # band id -> rank (0 is the worst)


_RULES: dict[str, BankRules] = {}


def rules_of(bank: Bank) -> BankRules:
    """The bank's rules, built on first use and kept by the bank's hash."""
    rules = _RULES.get(bank.hash)
    if rules is not None:
        return rules
    referenced = {ref for q in bank.questions for ref in q.condition_refs}
    referenced |= {ref for q in bank.questions for r in q.recommendations
                   for ref in r.condition_refs}
    referenced |= {ref for q in bank.questions if q.critical for ref in q.critical.condition_refs}
    index = {q.id: i for i, q in enumerate(bank.questions)}
    rank = {band.id: i for i, band in enumerate(bank.bands)}
    caps: dict[str | None, int] = {rule.id: rank[rule.caps_at] for rule in bank.severities}
    if bank.critical_cap is not None:
        caps[None] = rank[bank.critical_cap]
    unit = unit_of(bank)
    rec_order = {(q.id, r.id): i for i, (q, r) in enumerate(
        (q, r) for q in bank.questions for r in q.recommendations)}
    most_effort = max((sum(effort_points(bank, r) for r in q.recommendations)
                       for q in bank.questions), default=1)
    sections = tuple(
        (section, exact(bank.section_weights[section.id]),
         tuple(QuestionRule(bank, q, section.id, index[q.id], q.id in referenced, unit,
                            rec_order)
               for q in section.questions))
        for section in bank.sections)
    rules = BankRules(
        sections=sections,
        weights=tuple(weight for _, weight, _ in sections),
        weighted=tuple(i for i, (_, weight, _) in enumerate(sections) if weight),
        by_questions=bank.overall == "questions",
        unit=unit,
        effort_scale=math.lcm(*range(1, most_effort + 1)),
        asked=tuple(p.text for p in bank.provider_questions),
        caps=caps,
        escalations=tuple((rule.id, rule.escalate.count, rank[rule.escalate.caps_at])
                          for rule in bank.severities if rule.escalate),
        rank=rank,
    )
    if len(_RULES) > RULES_KEPT:
        _RULES.clear()
    _RULES[bank.hash] = rules
    return rules


def overall(rules: BankRules, counted: Sequence[int], earned: Sequence[int]) -> int | None:
    """The overall score as shown, from each section's counted and earned units: the weighted
    mean of the section scores over the sections in which anything counts (with `overall:
    questions`, of every counted answer)."""
    weights = rules.weights
    if rules.by_questions:
        total = sum([counted[i] for i in rules.weighted])
        return whole_ratio(sum([earned[i] for i in rules.weighted]), total) if total else None
    weight_sum = weighted = ZERO
    for weight, count, points in zip(weights, counted, earned, strict=True):
        if count and weight:
            weight_sum += weight
            weighted += weight * Fraction(points, count)
    return whole(weighted / weight_sum) if weight_sum else None


def worth(rules: BankRules, counted: Sequence[int]) -> list[Fraction]:
    """Per section: the overall points (0 to 100) one unit of earned points is worth."""
    weights = rules.weights
    if rules.by_questions:
        total = sum([counted[i] for i in rules.weighted])
        return [Fraction(100, total) if total and w else ZERO for w in weights]
    weight_sum = sum((w for w, c in zip(weights, counted, strict=True) if c and w), ZERO)
    return [100 * w / weight_sum / c if c and weight_sum else ZERO
            for w, c in zip(weights, counted, strict=True)]


def capped(bank: Bank, rules: BankRules, band: Band | None,
           findings: Iterable[tuple[str | None, str]]) -> Band | None:
    """The band, lowered to what the standing critical findings (severity, weakness) allow.
    Escalation counts weaknesses, not findings: findings that share a root cause count once."""
    standing = set(findings)
    if band is None or not standing:
        return band
    rank = rules.rank[band.id]
    counts = Counter(severity for severity, _ in standing)
    for severity in counts:
        rank = min(rank, rules.caps[severity])
    for severity, count, cap in rules.escalations:
        if counts[severity] >= count:
            rank = min(rank, cap)
    return bank.bands[rank]
