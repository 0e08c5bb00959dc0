"""Scoring: answers + bank -> result. Pure: no Flask, no SQLite, no I/O.

The method is stated in docs/scoring.md; in short:
- a question applies when its `show_if` holds (hidden questions leave the denominator);
- an applicable scored question that is answered earns a share of its points (0 to 1), "Not sure"
  earns 0, N/A and unanswered leave the denominator;
- section score = 100 * sum(weight * share) / sum(weight) over the questions that count;
- overall score = weighted mean of the section scores, by section weight, over the sections in
  which anything counts;
- band = the highest band whose minimum the score reaches, capped at the rubric's `critical_cap`
  while any critical finding stands;
- the roadmap puts each triggered recommendation in its 30/60/90-day phase; the projected score
  after a phase counts every question whose triggered recommendations are all done by then as
  earning its full points.
"""

from __future__ import annotations

from bisect import bisect_left
from operator import itemgetter
from typing import NamedTuple
from collections.abc import Mapping

from .bank import Answer, AnswerError, Bank, Question
from .bank.models import (EFFORT_ORDER, NOT_APPLICABLE, NOT_SURE, PRIORITY_ORDER, Band,
                          Recommendation, Section)
from .costs import CostExposure, cost_exposure

PHASES = (30, 60, 90)


class Outcome(NamedTuple):
    """What became of one question: shown or not, answered how, and what it earns.

    A NamedTuple rather than a dataclass: one is built per question per scoring, and this is
    the hot path of every page that shows a score."""

    question: Question
    section_id: str
    index: int  # position in the bank, for a stable order
    applicable: bool
    answer: Answer | None
    tokens: frozenset[str]
    share: float | None  # 0..1 of the question's points, None when it does not count

    @property
    def counts(self) -> bool:
        return self.share is not None

    @property
    def answer_label(self) -> str:
        return self.question.describe(self.answer)


class SectionScore(NamedTuple):
    section: Section
    weight: float
    score: float | None  # 0..100, None when nothing in it counts
    applicable: int
    answered: int
    not_sure: int


class Action(NamedTuple):
    """A recommendation triggered by an answer."""

    outcome: Outcome
    recommendation: Recommendation

    @property
    def id(self) -> str:
        return f"{self.outcome.question.id}:{self.recommendation.id}"

    @property
    def sort_key(self) -> tuple:
        r = self.recommendation
        return (PRIORITY_ORDER[r.priority], EFFORT_ORDER[r.effort], self.outcome.index, self.id)


class Finding(NamedTuple):
    """A critical finding: an answer that leaves the business exposed right now."""

    outcome: Outcome
    title: str
    actions: tuple[Action, ...]


class Phase(NamedTuple):
    days: int
    actions: tuple[Action, ...]
    projected_score: float | None
    projected_band: Band | None


class Result(NamedTuple):
    """Everything the answers come to (a NamedTuple: cheap to build, one per scoring)."""

    bank_id: str
    bank_version: str
    bank_hash: str
    score: float | None
    band: Band | None
    uncapped_band: Band | None
    sections: tuple[SectionScore, ...]
    outcomes: tuple[Outcome, ...]
    critical_findings: tuple[Finding, ...]
    not_sure: tuple[Outcome, ...]
    actions: tuple[Action, ...]  # by priority, then effort, then bank order
    roadmap: tuple[Phase, ...]
    provider_questions: tuple[str, ...]
    profile: dict[str, object]
    costs: CostExposure | None
    unanswered: tuple[Outcome, ...]

    @property
    def complete(self) -> bool:
        return not self.unanswered

    @property
    def capped(self) -> bool:
        return self.band != self.uncapped_band


NOT_SURE_TOKENS = frozenset({NOT_SURE})
NA_TOKENS = frozenset({NOT_APPLICABLE})
NO_TOKENS: frozenset[str] = frozenset()


class _Effect(NamedTuple):
    """What one answer to one question does to a result.

    A question has a handful of possible answers, so each distinct answer is worked out once
    per bank (see _Step.remember) and scoring an assessment becomes a walk of lookups."""

    outcome: Outcome
    seen: tuple[Answer, frozenset[str]]  # what later show_if conditions compare against
    section: int  # position of its section in the bank
    weight: float  # added to the section's denominator; 0 when the answer does not count
    points: float  # weight * share earned
    gain: float  # weight * (1 - share): what following its recommendations would add
    not_sure: bool
    # Triggered recommendations as (phase key, rank, action): see _plan for the two keys.
    keyed: tuple[tuple[int, int, Action], ...]
    fixed_in: int | None  # phase position by which all of them are done; None when none
    asked: tuple[str, ...]  # provider questions the answer raises
    finding: Finding | None
    profile: tuple[str, object] | None  # (cost-model input, value)
    rare: bool  # any of not_sure, finding, asked or profile: most answers skip all four tests


_new = tuple.__new__  # builds a NamedTuple from a tuple without its Python-level __new__
_MEMO_LIMIT = 256  # distinct answers remembered per question (free text could be endless)


class _Step:
    """One question's part of the scoring, worked out once per bank (see _plan)."""

    __slots__ = ("question", "id", "section_id", "section", "index", "weight", "optional",
                 "rank_count", "condition", "referenced", "hidden", "unanswered", "effects",
                 "actions_by_token", "critical_when", "inert")

    def __init__(self, bank: Bank, q: Question, section_id: str, section: int, index: int,
                 ranks: dict[tuple[int, str], int], referenced: bool):
        self.rank_count = len(ranks)
        self.question, self.id, self.index = q, q.id, index
        self.section_id, self.section = section_id, section
        self.weight = q.weight
        self.optional = bank.is_optional(q)
        self.condition = q.show_if
        self.referenced = referenced  # a later show_if looks at this answer
        self.hidden = Outcome(q, section_id, index, False, None, NO_TOKENS, None)
        self.unanswered = Outcome(q, section_id, index, True, None, NO_TOKENS, None)
        actions: dict[str, list] = {}
        for r in q.recommendations:
            for token in r.when:
                actions.setdefault(token, []).append((ranks[index, r.id], r))
        self.actions_by_token = {t: tuple(v) for t, v in actions.items()}
        self.critical_when = frozenset(q.critical.when) if q.critical else NO_TOKENS
        # Business name, figures, notes: answers that score and trigger nothing, and differ from
        # one business to the next, so each new one must be cheap to work out.
        self.inert = not (q.recommendations or q.critical or q.ask_provider or q.weight > 0)
        self.effects: dict[Answer, _Effect] = {}
        for state in (NOT_SURE, NOT_APPLICABLE):
            self.remember(Answer(state))
        if q.type in ("single", "yesno"):
            for choice in q.choices:
                self.remember(Answer("answered", choice.id))

    def remember(self, answer: Answer) -> _Effect:
        """Work out an answer not in `effects` yet, and keep it there while there is room.
        Threads may race to add the same answer: harmless, both work out the same effect."""
        known = self._work_out(answer)
        if len(self.effects) < _MEMO_LIMIT:
            self.effects[answer] = known
        return known

    def _work_out(self, answer: Answer) -> _Effect:
        q, state = self.question, answer.state
        if self.inert and state == "answered":  # the short way, tuples built directly
            tokens = q.kind.answer_tokens(q, answer.value)
            profile = (q.feeds, answer.value) if q.feeds else None
            outcome = _new(Outcome, (q, self.section_id, self.index, True, answer, tokens, None))
            return _new(_Effect, (outcome, (answer, tokens), self.section, 0.0, 0.0, 0.0, False,
                                  (), None, (), None, profile, profile is not None))
        share, profile = None, None
        if state == "answered":
            tokens = q.kind.answer_tokens(q, answer.value)
            if self.weight > 0:
                share = q.kind.points(q, answer.value)
            if q.feeds:
                profile = (q.feeds, answer.value)
        elif state == NOT_SURE:
            tokens = NOT_SURE_TOKENS
            share = 0.0 if self.weight > 0 else None
        else:
            tokens = NA_TOKENS
        outcome = Outcome(q, self.section_id, self.index, True, answer, tokens, share)
        keyed, chosen = [], set()
        for token in tokens:
            for rank, r in self.actions_by_token.get(token, ()):
                if r.id not in chosen:
                    chosen.add(r.id)
                    keyed.append((rank, Action(outcome, r)))
        keyed.sort(key=_FIRST)
        phases = [PHASES.index(action.recommendation.timeframe) for _, action in keyed]
        critical = not self.critical_when.isdisjoint(tokens)
        counted = share is not None
        asked = tuple(f.text for f in q.ask_provider if not tokens.isdisjoint(f.when))
        return _Effect(
            outcome=outcome,
            seen=(answer, tokens),
            section=self.section,
            weight=self.weight if counted else 0.0,
            points=self.weight * share if counted else 0.0,
            gain=self.weight * (1.0 - share) if counted else 0.0,
            not_sure=state == NOT_SURE,
            keyed=tuple((phase * self.rank_count + rank, rank, action)
                        for phase, (rank, action) in zip(phases, keyed, strict=True)),
            fixed_in=max(phases) if phases else None,
            asked=asked,
            finding=Finding(outcome, q.critical.finding, tuple(map(_SECOND, keyed)))
            if critical else None,
            profile=profile,
            rare=bool(state == NOT_SURE or critical or asked or profile),
        )


class _Plan(NamedTuple):
    sections: tuple[tuple[Section, float, tuple[_Step, ...]], ...]  # with weight, in bank order
    weighted: tuple[tuple[int, float], ...]  # (position, weight) of sections that carry weight
    asked: tuple[str, ...]  # provider questions every business is asked
    cap: int  # rank of the band a critical finding caps the result at
    rank: dict[str, int]  # band id -> rank
    rank_count: int  # recommendations in the bank: every action's rank is below it


_PLANS: dict[str, _Plan] = {}


def _plan(bank: Bank) -> _Plan:
    """Everything about a bank that does not depend on the answers, built on first use."""
    plan = _PLANS.get(bank.hash)
    if plan is not None:
        return plan
    # Every recommendation's rank in the bank-wide order (priority, effort, bank order, id):
    # sorting a result's actions by one integer is much cheaper than by a tuple. Its phase key,
    # phase position * number of ranks + rank, sorts them by phase first, then rank.
    order = sorted((PRIORITY_ORDER[r.priority], EFFORT_ORDER[r.effort], index, r.id)
                   for index, q in enumerate(bank.questions) for r in q.recommendations)
    ranks = {(index, rid): rank for rank, (_, _, index, rid) in enumerate(order)}
    referenced = {ref for q in bank.questions for ref in q.condition_refs}
    index = {q.id: i for i, q in enumerate(bank.questions)}
    rank = {band.id: i for i, band in enumerate(bank.bands)}
    weights = [bank.section_weights[section.id] for section in bank.sections]
    plan = _Plan(
        sections=tuple(
            (section, weight, tuple(_Step(bank, q, section.id, position, index[q.id], ranks,
                                          q.id in referenced) for q in section.questions))
            for position, (section, weight) in enumerate(zip(bank.sections, weights,
                                                             strict=True))),
        weighted=tuple((i, weight) for i, weight in enumerate(weights) if weight > 0),
        asked=tuple(p.text for p in bank.provider_questions),
        cap=rank[bank.critical_cap],
        rank=rank,
        rank_count=len(ranks),
    )
    if len(_PLANS) > 32:
        _PLANS.clear()
    _PLANS[bank.hash] = plan
    return plan


def score(bank: Bank, answers: Mapping[str, Answer]) -> Result:
    """Score the answers against the bank (one pass over the questions, in bank order)."""
    plan = _plan(bank)
    seen: dict[str, tuple[Answer, frozenset[str]]] = {}
    lookup = seen.get  # a hidden or unanswered question is None to a condition
    # Per section: (weight that counts, points earned, applicable, answered, not sure,
    # points each phase's recommendations would add)
    totals: list[tuple[float, float, int, int, int, list[float]]] = []
    sections: list[SectionScore] = []
    walked: list[Outcome] = []
    keyed: list[tuple[int, int, Action]] = []
    findings: list[_Effect] = []
    asked = list(plan.asked)
    not_sure: list[Outcome] = []
    unanswered: list[Outcome] = []
    profile: dict[str, object] = {}

    walk = walked.append  # bound once: these run for every question
    for section, weight, steps in plan.sections:
        counted = earned = 0.0
        applicable = answered = unsure = 0
        gains = [0.0] * len(PHASES)
        for step in steps:
            if step.condition is not None and not step.condition.evaluate(lookup):
                walk(step.hidden)
                continue
            applicable += 1
            answer = answers.get(step.id)
            if answer is None:
                walk(step.unanswered)
                if not step.optional:
                    unanswered.append(step.unanswered)
                continue
            try:
                effect = step.effects.get(answer)  # not [answer]: a miss is common, raising is slow
            except TypeError:  # an unhashable value: worked out, not remembered
                effect = step._work_out(answer)
            if effect is None:
                effect = step.remember(answer)
            walk(effect.outcome)
            if step.referenced:
                seen[step.id] = effect.seen
            answered += 1
            counted += effect.weight
            earned += effect.points
            if effect.keyed:
                keyed.extend(effect.keyed)
                gains[effect.fixed_in] += effect.gain
            if effect.rare:
                if effect.not_sure:
                    unsure += 1
                    not_sure.append(effect.outcome)
                if effect.finding:
                    findings.append(effect)
                if effect.asked:
                    asked.extend(effect.asked)
                if effect.profile:
                    profile[effect.profile[0]] = effect.profile[1]
        totals.append((counted, earned, applicable, answered, unsure, gains))
        sections.append(SectionScore(
            section, weight,
            # min(): floating-point sums can land a hair above the whole (100.00000000000001)
            min(100.0, 100 * earned / counted) if counted else None,
            applicable, answered, unsure))

    keyed.sort(key=_SECOND)
    actions = tuple(map(_THIRD, keyed))
    keyed.sort(key=_FIRST)  # now by phase, and by rank within each
    ends = [bisect_left(keyed, (phase + 1) * plan.rank_count, key=_FIRST)
            for phase in range(len(PHASES))]
    starts = [0, *ends[:-1]]
    phased = [tuple(map(_THIRD, keyed[start:end]))
              for start, end in zip(starts, ends, strict=True)]
    critical = tuple(e.finding for e in findings)
    overall = _overall(plan, totals)
    uncapped = bank.band_for(overall) if overall is not None else None
    return Result(
        bank_id=bank.id,
        bank_version=bank.version,
        bank_hash=bank.hash,
        score=overall,
        band=_capped(bank, plan, uncapped, critical),
        uncapped_band=uncapped,
        sections=tuple(sections),
        outcomes=tuple(walked),
        critical_findings=critical,
        not_sure=tuple(not_sure),
        actions=actions,
        roadmap=_roadmap(bank, plan, phased, findings, totals),
        provider_questions=tuple(dict.fromkeys(asked)),
        profile=profile,
        costs=cost_exposure(profile),
        unanswered=tuple(unanswered),
    )


_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)


def _overall(plan: _Plan, totals) -> float | None:
    weight_sum = weighted_sum = 0.0
    for position, weight in plan.weighted:
        row = totals[position]
        if row[0]:
            weight_sum += weight
            weighted_sum += weight * row[1] / row[0]
    # min(): sums of floating-point shares can land a hair above the whole
    return min(100.0, 100 * weighted_sum / weight_sum) if weight_sum else None


def _capped(bank: Bank, plan: _Plan, band: Band | None, findings) -> Band | None:
    if band is None or not findings:
        return band
    return bank.bands[plan.cap] if plan.rank[band.id] > plan.cap else band


def _roadmap(bank, plan, phased, findings, totals) -> tuple[Phase, ...]:
    # A question is fixed once the last of its triggered recommendations is done; from then on
    # it earns its full points. Phases are cumulative.
    phases = []
    for position, (days, overall) in enumerate(zip(PHASES, _projected(plan, totals),
                                                   strict=True)):
        standing = [e for e in findings if e.fixed_in is None or e.fixed_in > position]
        band = bank.band_for(overall) if overall is not None else None
        phases.append(Phase(days, phased[position], overall,
                            _capped(bank, plan, band, standing)))
    return tuple(phases)


def _projected(plan: _Plan, totals) -> list[float | None]:
    """The overall score after each phase, as _overall computes it, in one pass over sections."""
    weight_sum = 0.0
    sums = [0.0] * len(PHASES)
    for position, weight in plan.weighted:
        row = totals[position]
        counted = row[0]
        if counted:
            weight_sum += weight
            earned = row[1]
            phase = 0
            for gain in row[5]:
                earned += gain
                sums[phase] += weight * earned / counted
                phase += 1
    return [min(100.0, 100 * total / weight_sum) if weight_sum else None for total in sums]


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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def result_to_dict(result: Result) -> dict:
    """The result as plain JSON data, scores rounded to two decimals."""
    def band(b):
        return None if b is None else {"id": b.id, "label": b.label}

    return {
        "bank": {"id": result.bank_id, "version": result.bank_version, "hash": result.bank_hash},
        "score": _round(result.score),
        "band": band(result.band),
        "uncapped_band": band(result.uncapped_band),
        "complete": result.complete,
        "unanswered": [o.question.id for o in result.unanswered],
        "sections": [
            {"id": s.section.id, "title": s.section.title, "weight": s.weight,
             "score": _round(s.score), "applicable": s.applicable, "answered": s.answered,
             "not_sure": s.not_sure}
            for s in result.sections if s.section.kind == "scored"
        ],
        "critical_findings": [
            {"question": f.outcome.question.id, "finding": f.title,
             "answer": f.outcome.answer_label} for f in result.critical_findings
        ],
        "not_sure": [o.question.id for o in result.not_sure],
        "recommendations": [
            {"id": a.id, "question": a.outcome.question.id, "title": a.recommendation.title,
             "text": a.recommendation.text, "priority": a.recommendation.priority,
             "effort": a.recommendation.effort, "timeframe": a.recommendation.timeframe}
            for a in result.actions
        ],
        "roadmap": [
            {"days": p.days, "projected_score": _round(p.projected_score),
             "projected_band": band(p.projected_band),
             "recommendations": [a.id for a in p.actions]}
            for p in result.roadmap
        ],
        "provider_questions": list(result.provider_questions),
        "costs": None if result.costs is None else {
            key: (_round(value) if isinstance(value, float) else value)
            for key, value in result.costs._asdict().items()
        },
    }
