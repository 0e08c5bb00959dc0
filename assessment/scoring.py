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
from typing import Iterable, Mapping, NamedTuple

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
        if self.answer is None:
            return "Not answered"
        if self.answer.state == "not_sure":
            return "Not sure"
        if self.answer.state == "na":
            return "Does not apply"
        return self.question.kind.display(self.question, self.answer.value)


@dataclass(frozen=True)
class SectionScore:
    section: Section
    weight: float
    score: float | None  # 0..100, None when nothing in it counts
    applicable: int
    answered: int
    not_sure: int


@dataclass(frozen=True)
class Action:
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


def score(bank: Bank, answers: Mapping[str, Answer]) -> Result:
    outcomes = tuple(_outcomes(bank, answers))
    sections, overall = _aggregate(bank, outcomes)
    actions = tuple(sorted(
        (Action(o, r) for o in outcomes if o.applicable
         for r in o.question.recommendations if not o.tokens.isdisjoint(r.when)),
        key=lambda a: a.sort_key,
    ))
    findings = tuple(
        Finding(o, o.question.critical.finding,
                tuple(a for a in actions if a.outcome is o))
        for o in outcomes
        if o.applicable and o.question.critical
        and not o.tokens.isdisjoint(o.question.critical.when)
    )
    uncapped = bank.band_for(overall) if overall is not None else None
    profile = {o.question.feeds: o.answer.value for o in outcomes
               if o.question.feeds and o.applicable and o.answer and o.answer.state == "answered"}
    return Result(
        bank_id=bank.id,
        bank_version=bank.version,
        bank_hash=bank.hash,
        score=overall,
        band=_capped(bank, uncapped, findings),
        uncapped_band=uncapped,
        sections=sections,
        outcomes=outcomes,
        critical_findings=findings,
        not_sure=tuple(o for o in outcomes
                       if o.applicable and o.answer and o.answer.state == "not_sure"),
        actions=actions,
        roadmap=_roadmap(bank, outcomes, actions, findings),
        provider_questions=_provider_questions(bank, outcomes),
        profile=profile,
        costs=cost_exposure(profile),
        unanswered=tuple(o for o in outcomes if o.applicable and o.answer is None
                         and not bank.is_optional(o.question)),
    )


NOT_SURE_TOKENS = frozenset({NOT_SURE})
NA_TOKENS = frozenset({NOT_APPLICABLE})
NO_TOKENS: frozenset[str] = frozenset()


def _outcomes(bank: Bank, answers: Mapping[str, Answer]) -> Iterable[Outcome]:
    shown: dict[str, Outcome] = {}

    def lookup(question_id: str):
        outcome = shown.get(question_id)
        if outcome is None or outcome.answer is None:
            return None
        return outcome.answer, outcome.tokens

    for index, (q, section_id) in enumerate(bank.question_sections):
        applicable = q.show_if is None or q.show_if.evaluate(lookup)
        answer = answers.get(q.id) if applicable else None
        tokens, share = NO_TOKENS, None
        if answer is not None:
            if answer.state == "not_sure":
                tokens, share = NOT_SURE_TOKENS, 0.0
            elif answer.state == "na":
                tokens = NA_TOKENS
            else:
                tokens = q.kind.answer_tokens(q, answer.value)
                if q.weight > 0:
                    share = q.kind.points(q, answer.value)
        outcome = Outcome(q, section_id, index, applicable, answer, tokens,
                          share if q.weight > 0 else None)
        if applicable:
            shown[q.id] = outcome
        yield outcome


def _aggregate(bank: Bank, outcomes: tuple[Outcome, ...]):
    """Section scores and the overall score as the answers stand."""
    scores, overall = _weighted(bank, outcomes, full=frozenset())
    by_section: dict[str, list[Outcome]] = {section.id: [] for section in bank.sections}
    for o in outcomes:
        by_section[o.section_id].append(o)
    sections = tuple(
        SectionScore(
            section=section,
            weight=bank.section_weights[section.id],
            score=scores[section.id],
            applicable=sum(1 for o in by_section[section.id] if o.applicable),
            answered=sum(1 for o in by_section[section.id]
                         if o.applicable and o.answer is not None),
            not_sure=sum(1 for o in by_section[section.id]
                         if o.answer and o.answer.state == "not_sure"),
        )
        for section in bank.sections
    )
    return sections, overall


def _weighted(bank: Bank, outcomes: tuple[Outcome, ...], full: frozenset[str]):
    """Section scores by id and the overall score; questions in `full` earn all their points."""
    totals = {section.id: [0.0, 0.0] for section in bank.sections}  # [weight, earned]
    for o in outcomes:
        if o.share is not None:
            weight = o.question.weight
            pair = totals[o.section_id]
            pair[0] += weight
            pair[1] += weight * (1.0 if o.question.id in full else o.share)
    scores = {sid: 100 * earned / total if total else None
              for sid, (total, earned) in totals.items()}
    weight_sum = weighted_sum = 0.0
    for sid, value in scores.items():
        weight = bank.section_weights[sid]
        if value is not None and weight > 0:
            weight_sum += weight
            weighted_sum += weight * value
    return scores, (weighted_sum / weight_sum if weight_sum else None)


def _capped(bank: Bank, band: Band | None, findings) -> Band | None:
    if band is None or not findings:
        return band
    cap = bank.band_rank(bank.critical_cap)
    return bank.bands[cap] if bank.band_rank(band.id) > cap else band


def _roadmap(bank, outcomes, actions, findings) -> tuple[Phase, ...]:
    # A question is fixed once the last of its triggered recommendations is done.
    done_by: dict[str, int] = {}
    for action in actions:
        qid = action.outcome.question.id
        done_by[qid] = max(done_by.get(qid, 0), action.recommendation.timeframe)
    phases = []
    for days in PHASES:
        fixed = frozenset(q for q, due in done_by.items() if due <= days)
        _, projected = _weighted(bank, outcomes, fixed)
        standing = [f for f in findings if f.outcome.question.id not in fixed]
        band = bank.band_for(projected) if projected is not None else None
        phases.append(Phase(
            days=days,
            actions=tuple(a for a in actions if a.recommendation.timeframe == days),
            projected_score=projected,
            projected_band=_capped(bank, band, standing),
        ))
    return tuple(phases)


def _provider_questions(bank: Bank, outcomes) -> tuple[str, ...]:
    texts = [p.text for p in bank.provider_questions]
    for o in outcomes:
        if o.applicable:
            texts += [f.text for f in o.question.ask_provider if not o.tokens.isdisjoint(f.when)]
    return tuple(dict.fromkeys(texts))


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
    band = (lambda b: None if b is None else {"id": b.id, "label": b.label})
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
