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

from dataclasses import dataclass
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


@dataclass(frozen=True)
class SectionScore:
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


@dataclass(frozen=True)
class Finding:
    """A critical finding: an answer that leaves the business exposed right now."""

    outcome: Outcome
    title: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Phase:
    days: int
    actions: tuple[Action, ...]
    projected_score: float | None
    projected_band: Band | None


@dataclass(frozen=True)
class Result:
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


@dataclass(frozen=True)
class _Step:
    """What the scoring needs of one question, worked out once per bank (see _plan)."""

    question: Question
    section_id: str
    index: int
    weight: float
    optional: bool
    # For single and yes/no questions: choice id -> (tokens, share); other types ask their kind.
    by_choice: dict[str, tuple[frozenset[str], float]] | None
    actions_by_token: dict[str, tuple[tuple[tuple, Recommendation], ...]]
    critical_when: frozenset[str]


_PLANS: dict[str, tuple[_Step, ...]] = {}


def _plan(bank: Bank) -> tuple[_Step, ...]:
    """Per-question lookups for a bank, built on first use. Scoring runs on every page that
    shows a score, and dictionary lookups keep it cheap however large the bank grows."""
    plan = _PLANS.get(bank.hash)
    if plan is not None:
        return plan
    steps = []
    for index, (q, section_id) in enumerate(bank.question_sections):
        by_choice = None
        if q.type in ("single", "yesno"):
            by_choice = {c.id: (frozenset({c.id}), q.kind.points(q, c.id) if q.scored else 0.0)
                         for c in q.choices}
        actions: dict[str, list] = {}
        for r in q.recommendations:
            key = (PRIORITY_ORDER[r.priority], EFFORT_ORDER[r.effort], index, r.id)
            for token in r.when:
                actions.setdefault(token, []).append((key, r))
        steps.append(_Step(
            question=q, section_id=section_id, index=index, weight=q.weight,
            optional=bank.is_optional(q), by_choice=by_choice,
            actions_by_token={t: tuple(v) for t, v in actions.items()},
            critical_when=frozenset(q.critical.when) if q.critical else frozenset(),
        ))
    plan = tuple(steps)
    if len(_PLANS) > 32:
        _PLANS.clear()
    _PLANS[bank.hash] = plan
    return plan


def score(bank: Bank, answers: Mapping[str, Answer]) -> Result:
    """Score the answers against the bank (one pass over the questions, in bank order)."""
    # Per section: [weight counted, weighted points earned, applicable, answered, not sure]
    totals = {section.id: [0.0, 0.0, 0, 0, 0] for section in bank.sections}
    shown: dict[str, Outcome] = {}
    walked: list[Outcome] = []
    keyed: list[tuple[tuple, Action]] = []
    findings: list[Outcome] = []
    asked = [p.text for p in bank.provider_questions]
    not_sure: list[Outcome] = []
    unanswered: list[Outcome] = []
    profile: dict[str, object] = {}

    def lookup(question_id: str):
        outcome = shown.get(question_id)
        if outcome is None or outcome.answer is None:
            return None
        return outcome.answer, outcome.tokens

    for step in _plan(bank):
        q = step.question
        if q.show_if is not None and not q.show_if.evaluate(lookup):
            walked.append(Outcome(q, step.section_id, step.index, False, None, NO_TOKENS, None))
            continue
        row = totals[step.section_id]
        row[2] += 1
        answer = answers.get(q.id)
        if answer is None:
            o = Outcome(q, step.section_id, step.index, True, None, NO_TOKENS, None)
            walked.append(o)
            shown[q.id] = o
            if not step.optional:
                unanswered.append(o)
            continue
        row[3] += 1
        state = answer.state
        share = None
        if state == "answered":
            if step.by_choice is not None:
                tokens, share = step.by_choice[answer.value]
            else:
                tokens = q.kind.answer_tokens(q, answer.value)
                if step.weight > 0:
                    share = q.kind.points(q, answer.value)
            if q.feeds:
                profile[q.feeds] = answer.value
        elif state == "not_sure":
            tokens, share = NOT_SURE_TOKENS, 0.0
            row[4] += 1
        else:
            tokens = NA_TOKENS
        if step.weight <= 0:
            share = None
        o = Outcome(q, step.section_id, step.index, True, answer, tokens, share)
        walked.append(o)
        shown[q.id] = o
        if share is not None:
            row[0] += step.weight
            row[1] += step.weight * share
        if state == "not_sure":
            not_sure.append(o)
        if step.actions_by_token:
            seen = set()
            for token in tokens:
                for key, r in step.actions_by_token.get(token, ()):
                    if r.id not in seen:
                        seen.add(r.id)
                        keyed.append((key, Action(o, r)))
        if q.ask_provider:
            asked.extend(f.text for f in q.ask_provider if not tokens.isdisjoint(f.when))
        if not step.critical_when.isdisjoint(tokens):
            findings.append(o)

    keyed.sort(key=_first)
    actions = tuple(action for _, action in keyed)
    by_question: dict[str, list[Action]] = {}
    for action in actions:
        by_question.setdefault(action.outcome.question.id, []).append(action)
    critical = tuple(Finding(o, o.question.critical.finding,
                             tuple(by_question.get(o.question.id, ()))) for o in findings)
    overall = _overall(bank, totals)
    uncapped = bank.band_for(overall) if overall is not None else None
    return Result(
        bank_id=bank.id,
        bank_version=bank.version,
        bank_hash=bank.hash,
        score=overall,
        band=_capped(bank, uncapped, critical),
        uncapped_band=uncapped,
        sections=tuple(
            SectionScore(section, bank.section_weights[section.id], _percent(totals[section.id]),
                         *totals[section.id][2:])
            for section in bank.sections),
        outcomes=tuple(walked),
        critical_findings=critical,
        not_sure=tuple(not_sure),
        actions=actions,
        roadmap=_roadmap(bank, actions, by_question, critical, totals),
        provider_questions=tuple(dict.fromkeys(asked)),
        profile=profile,
        costs=cost_exposure(profile),
        unanswered=tuple(unanswered),
    )


def _first(pair):
    return pair[0]


def outcomes(bank: Bank, answers: Mapping[str, Answer]) -> tuple[Outcome, ...]:
    """Which questions apply and what each answer earns."""
    return score(bank, answers).outcomes


def _percent(row) -> float | None:
    # min(): sums of floating-point shares can land a hair above the whole (100.00000000000001).
    return min(100.0, 100 * row[1] / row[0]) if row[0] else None


def _overall(bank: Bank, totals) -> float | None:
    weight_sum = weighted_sum = 0.0
    for section_id, row in totals.items():
        weight = bank.section_weights[section_id]
        if row[0] and weight > 0:
            weight_sum += weight
            weighted_sum += weight * _percent(row)
    return min(100.0, weighted_sum / weight_sum) if weight_sum else None


def _capped(bank: Bank, band: Band | None, findings) -> Band | None:
    if band is None or not findings:
        return band
    cap = bank.band_rank(bank.critical_cap)
    return bank.bands[cap] if bank.band_rank(band.id) > cap else band


def _roadmap(bank, ordered, by_question, findings, totals) -> tuple[Phase, ...]:
    # A question is fixed once the last of its triggered recommendations is done; from then on
    # it earns its full points. Phases are cumulative.
    fixing: dict[int, list[Outcome]] = {days: [] for days in PHASES}
    in_phase: dict[int, list[Action]] = {days: [] for days in PHASES}
    for actions in by_question.values():
        due = max(a.recommendation.timeframe for a in actions)
        fixing[due].append(actions[0].outcome)
    for action in ordered:  # already in priority order
        in_phase[action.recommendation.timeframe].append(action)
    projected = {sid: list(row) for sid, row in totals.items()}
    fixed: set[str] = set()
    phases = []
    for days in PHASES:
        for o in fixing[days]:
            fixed.add(o.question.id)
            if o.share is not None:
                projected[o.section_id][1] += o.question.weight * (1.0 - o.share)
        overall = _overall(bank, projected)
        standing = [f for f in findings if f.outcome.question.id not in fixed]
        band = bank.band_for(overall) if overall is not None else None
        phases.append(Phase(
            days=days,
            actions=tuple(in_phase[days]),
            projected_score=overall,
            projected_band=_capped(bank, band, standing),
        ))
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
            errors.append(f"answers.{question_id}: {error}")
    return answers, errors


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
            for key, value in vars(result.costs).items()
        },
    }
