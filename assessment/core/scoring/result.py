"""What answers come to: the result of scoring and its parts, and the result as JSON.

A Result is built in two steps. score() (score.py) works out at once what every page needs: the
scores, the band, each question's outcome. The plan (steps, phases, projections) and the what-if
worlds of the "Not sure" answers take most of the time and only the results page, the report and
the exports read them, so they are worked out the first time one of their fields is read, and
kept. Either way the values are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple, Protocol

from ..bank import Answer, Question
from ..bank.models import NOT_SURE, Band, Contradiction, Recommendation, Section, Workstream
from ..costs import CostExposure
from ..plan import LATER, PHASES, Step
from ..what_if import ScoreRange, Unknowns


# A class, not a NamedTuple: a tuple's own `index` method would hide the position field.
@dataclass(frozen=True, slots=True)
class Outcome:
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


class Planned(NamedTuple):
    """The parts of a result that come with its plan."""

    critical_findings: tuple[Finding, ...]  # worst severity first, then bank order
    actions: tuple[Action, ...]  # in plan order: risk removed first
    roadmap: tuple[Phase, ...]
    later: tuple[Action, ...]  # what does not fit in the last phase
    steps: tuple[Step, ...]  # the plan in reading order, those after 90 days included
    workstreams: tuple[WorkstreamPlan, ...]
    # Why steps wait past 90 days: "limit" or "room" (plan.Placement.waits); None when none do.
    later_reason: str | None


class Deferred(Protocol):
    """What score() leaves to be worked out when it is first asked for."""

    def unknowns(self) -> Unknowns | None: ...

    def plan(self, unknowns: Unknowns | None) -> Planned: ...


_NOT_YET: Any = object()


class Result:
    """Everything the answers come to. The fields of the plan (critical_findings, actions,
    roadmap, later, steps, workstreams, later_reason) and of the what-if worlds (unknowns,
    score_range, provisional) are worked out on first use; two threads reading one at once both
    work it out, to the same value."""

    __slots__ = ("bank_id", "bank_version", "bank_hash", "score", "band", "uncapped_band",
                 "sections", "outcomes", "not_sure", "provider_questions", "profile", "costs",
                 "unanswered", "bank_title", "contradictions", "_deferred", "_unknowns",
                 "_planned")

    FIELDS = ("bank_id", "bank_version", "bank_hash", "score", "band", "uncapped_band",
              "sections", "outcomes", "critical_findings", "not_sure", "actions", "roadmap",
              "later", "provider_questions", "profile", "costs", "unanswered", "steps",
              "workstreams", "score_range", "provisional", "unknowns", "later_reason",
              "bank_title", "contradictions")

    def __init__(self, *, bank_id: str, bank_version: str, bank_hash: str, score: int | None,
                 band: Band | None, uncapped_band: Band | None,
                 sections: tuple[SectionScore, ...], outcomes: tuple[Outcome, ...],
                 not_sure: tuple[Outcome, ...], provider_questions: tuple[str, ...],
                 profile: dict[str, object], costs: CostExposure | None,
                 unanswered: tuple[Outcome, ...], bank_title: str = "",
                 contradictions: tuple[Contradiction, ...] = (), deferred: Deferred):
        self.bank_id, self.bank_version, self.bank_hash = bank_id, bank_version, bank_hash
        self.score = score
        self.band = band
        self.uncapped_band = uncapped_band
        self.sections = sections
        self.outcomes = outcomes
        self.not_sure = not_sure
        self.provider_questions = provider_questions
        self.profile = profile
        self.costs = costs
        self.unanswered = unanswered
        self.bank_title = bank_title  # the question set's name, for the report's method page
        # Answers that do not agree (bank 2.2 `contradictions` whose `when` holds), in bank
        # order: named to the owner to check; they never change the score, band or findings.
        self.contradictions = contradictions
        self._deferred = deferred
        self._unknowns: Unknowns | None = _NOT_YET
        self._planned: Planned | None = None

    # -- the what-if worlds -------------------------------------------------------------------

    @property
    def unknowns(self) -> Unknowns | None:
        if self._unknowns is _NOT_YET:
            self._unknowns = self._deferred.unknowns()
        return self._unknowns

    @property
    def score_range(self) -> ScoreRange | None:
        """Today's score if every unknown were the worst or the best answer; None when none
        is."""
        unknowns = self.unknowns
        return unknowns.range_after({}) if unknowns else None

    @property
    def provisional(self) -> bool:
        """More than a third of the scored weight is unknown: the score is provisional."""
        unknowns = self.unknowns
        return bool(unknowns and unknowns.provisional)

    # -- the plan -----------------------------------------------------------------------------

    @property
    def planned(self) -> Planned:
        if self._planned is None:
            self._planned = self._deferred.plan(self.unknowns)
        return self._planned

    @property
    def critical_findings(self) -> tuple[Finding, ...]:
        return self.planned.critical_findings

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.planned.actions

    @property
    def roadmap(self) -> tuple[Phase, ...]:
        return self.planned.roadmap

    @property
    def later(self) -> tuple[Action, ...]:
        return self.planned.later

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.planned.steps

    @property
    def workstreams(self) -> tuple[WorkstreamPlan, ...]:
        return self.planned.workstreams

    @property
    def later_reason(self) -> str | None:
        return self.planned.later_reason

    # -- as a value ---------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        return not self.unanswered

    @property
    def capped(self) -> bool:
        return self.band != self.uncapped_band

    def _replace(self, **changes: Any) -> Result:
        """A copy with some of the fields worked out at once changed (as NamedTuple's)."""
        copy = object.__new__(Result)
        for name in Result.__slots__:
            setattr(copy, name, getattr(self, name))
        for name, value in changes.items():
            if name.startswith("_") or name not in Result.__slots__:
                raise TypeError(f"cannot replace the field {name!r} of a Result")
            setattr(copy, name, value)
        return copy

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in Result.FIELDS)

    def __repr__(self) -> str:
        band = self.band.id if self.band else None
        return (f"Result(bank={self.bank_id} {self.bank_version}, score={self.score}, "
                f"band={band}, outcomes={len(self.outcomes)})")


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
