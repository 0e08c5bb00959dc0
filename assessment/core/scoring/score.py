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
- the plan (roadmap.py, placed by core/plan.py) makes the triggered recommendations into steps:
  every find out for one party in one first-week step, related fixes joined, ordered by risk
  removed and placed in the phases as far as the business's size allows; what does not fit
  waits past 90 days;
- the projected score after a phase counts a question as fixed once every action on it is done by
  then, at the answer those actions produce; finding out is not fixing, and the past cannot be
  fixed, so neither raises a projection.

score() walks the answers once, in bank order, and works out the scores, the band and each
question's outcome at once; the plan and the what-if worlds wait until they are read (result.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..bank import Answer, Bank, Question
from ..bank.models import NOT_APPLICABLE, Contradiction
from ..costs import cost_exposure
from ..what_if import Unknowns, Walked, unknowns_of
from .result import Outcome, Planned, Result, SectionScore
from .roadmap import Triggered, plan_of
from .rules import BankRules, Matched, QuestionRule, capped, overall, rules_of, whole_ratio

Lookup = Callable[[str], Any]


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

    def settled(self, hidden: QuestionRule) -> bool:
        """Whether this hidden question is hidden by answers (else it waits on a gateway); a
        hidden question that is referenced passes its openness on."""
        if not (hidden.hidden_weight or hidden.referenced):
            return True  # nothing depends on it
        if self.open.isdisjoint(hidden.gates):
            return True
        if hidden.referenced:
            self.open.add(hidden.id)
        return False

    def still_open(self, rule: QuestionRule) -> None:
        if rule.referenced:
            self.open.add(rule.id)

    def answered(self, rule: QuestionRule, answer: Answer) -> None:
        if rule.referenced and answer.state == NOT_APPLICABLE:
            self.open.add(rule.id)


def standing(q: Question, matched: Matched | None, lookup: Lookup) -> Matched | None:
    """The finding as it stands given the other answers (bank 2.2): none where the rule's
    only_if (or for the lesser finding, its own) does not hold; the rule's own finding made
    worse by the first `stronger` entry whose condition holds."""
    rule = q.critical
    if matched is None or rule is None:
        return matched
    if rule.only_if is not None and not rule.only_if.evaluate(lookup):
        return None
    lesser = rule.lesser
    if matched.kind == "lesser" and lesser is not None and lesser.only_if is not None and \
            not lesser.only_if.evaluate(lookup):
        return None
    if matched.kind == "when":
        for entry in rule.stronger:
            if entry.condition.evaluate(lookup):
                return matched._replace(
                    title=entry.finding or matched.title, severity=entry.severity,
                    why_it_matters=entry.why_it_matters or matched.why_it_matters)
    return matched


def score(bank: Bank, answers: Mapping[str, Answer]) -> Result:
    """Score the answers against the bank (one pass over the questions, in bank order)."""
    rules = rules_of(bank)
    seen: dict[str, tuple[Answer, frozenset[str]]] = {}
    lookup = seen.get  # a hidden or unanswered question is None to a condition
    counted_all: list[int] = []
    earned_all: list[int] = []
    sections: list[SectionScore] = []
    walked: list[Outcome] = []
    triggered: list[Triggered] = []
    asked = list(rules.asked)
    not_sure: list[Outcome] = []
    unanswered: list[Outcome] = []
    profile: dict[str, object] = {}
    gates = _Gates()

    for position, (section, weight, questions) in enumerate(rules.sections):
        counted = earned = 0
        applicable = answered = unsure = 0
        for rule in questions:
            if rule.condition is not None and not rule.condition.evaluate(lookup):
                if gates.settled(rule):
                    walked.append(rule.hidden)
                    counted += rule.hidden_weight
                else:
                    walked.append(rule.hidden_open)
                continue
            applicable += 1
            answer = answers.get(rule.id)
            if answer is None:
                gates.still_open(rule)
                walked.append(rule.unanswered)
                if not rule.optional:
                    unanswered.append(rule.unanswered)
                continue
            effect = rule.effect(answer)
            gates.answered(rule, answer)
            finding = effect.finding
            if rule.rule_looks_around:
                finding = standing(rule.question, finding, lookup)
            walked.append(effect.outcome)
            if rule.referenced:
                seen[rule.id] = effect.seen
            answered += 1
            counted += effect.weight
            earned += effect.points
            if effect.recommendations or finding:
                triggered.append(Triggered(position, effect, finding))
            if effect.not_sure:
                unsure += 1
                not_sure.append(effect.outcome)
            if effect.asked:
                asked.extend(effect.asked)
            if effect.profile:
                profile[effect.profile[0]] = effect.profile[1]
        counted_all.append(counted)
        earned_all.append(earned)
        sections.append(SectionScore(section, float(weight),
                                     whole_ratio(earned, counted) if counted else None,
                                     applicable, answered, unsure))

    score_now = overall(rules, counted_all, earned_all)
    uncapped = bank.band_for(score_now) if score_now is not None else None
    band = capped(bank, rules, uncapped, ((t.finding.severity, t.finding.weakness)
                                          for t in triggered if t.finding))
    deferred = _Deferred(bank, rules, answers, walked, not_sure, counted_all, earned_all,
                         triggered, profile, lookup)
    return Result(
        bank_id=bank.id,
        bank_version=bank.version,
        bank_hash=bank.hash,
        score=score_now,
        band=band,
        uncapped_band=uncapped,
        sections=tuple(sections),
        outcomes=tuple(walked),
        not_sure=tuple(not_sure),
        provider_questions=tuple(dict.fromkeys(asked)),
        profile=profile,
        costs=cost_exposure(profile),
        unanswered=tuple(unanswered),
        bank_title=bank.title,
        contradictions=_contradictions(bank, walked),
        deferred=deferred,
    )


class _Deferred:
    """What score() knows after its walk, kept for the parts of the result worked out when they
    are first read: the what-if worlds of the "Not sure" answers, and the plan."""

    __slots__ = ("bank", "rules", "answers", "walked", "not_sure", "counted", "earned",
                 "triggered", "profile", "lookup")

    def __init__(self, bank: Bank, rules: BankRules, answers: Mapping[str, Answer],
                 walked: list[Outcome], not_sure: list[Outcome], counted: list[int],
                 earned: list[int], triggered: list[Triggered], profile: dict[str, object],
                 lookup: Lookup):
        self.bank, self.rules, self.answers = bank, rules, answers
        self.walked, self.not_sure = walked, not_sure
        self.counted, self.earned = counted, earned
        self.triggered, self.profile, self.lookup = triggered, profile, lookup

    def unknowns(self) -> Unknowns | None:
        if not self.not_sure:
            return None
        rules = self.rules
        return unknowns_of(self.bank, self.answers, self.walked, self.not_sure,
                           walk=lambda world: _walk(rules, world),
                           overall=lambda counted, points: overall(rules, counted, points))

    def plan(self, unknowns: Unknowns | None) -> Planned:
        return plan_of(self.bank, self.rules, self.counted, self.earned, self.triggered,
                       self.profile, self.lookup, unknowns)


def _contradictions(bank: Bank, walked: list[Outcome]) -> tuple[Contradiction, ...]:
    """The bank's contradictions that hold on the final answers, in bank order. A condition
    reads the answers as show_if does (a question hidden or unanswered compares false), and
    may look at any question: every answer is in by now."""
    if not bank.contradictions:
        return ()
    seen = {o.question.id: (o.answer, o.tokens) for o in walked
            if o.applicable and o.answer is not None}
    return tuple(c for c in bank.contradictions if c.when.evaluate(seen.get))


def _walk(rules: BankRules, answers: Mapping[str, Answer]) -> Walked:
    """The sums of score()'s walk alone, for the what-if worlds of what_if.py."""
    seen: dict[str, tuple[Answer, frozenset[str]]] = {}
    lookup = seen.get
    counted_all: list[int] = []
    earned_all: list[int] = []
    weights: dict[str, int] = {}
    open_ids: list[str] = []
    gates = _Gates()
    for _, _, questions in rules.sections:
        counted = earned = 0
        for rule in questions:
            if rule.condition is not None and not rule.condition.evaluate(lookup):
                if rule.hidden_weight and gates.settled(rule):
                    counted += rule.hidden_weight
                    weights[rule.id] = rule.hidden_weight
                continue
            answer = answers.get(rule.id)
            if answer is None:
                gates.still_open(rule)
                open_ids.append(rule.id)
                continue
            effect = rule.effect(answer)
            gates.answered(rule, answer)
            if rule.referenced:
                seen[rule.id] = effect.seen
            counted += effect.weight
            earned += effect.points
            if effect.weight:
                weights[rule.id] = effect.weight
        counted_all.append(counted)
        earned_all.append(earned)
    return Walked(counted_all, earned_all, weights, tuple(open_ids))
