"""The plan of one result: its triggered recommendations placed as steps (core/plan.py places
them), each finding with the actions that deal with it, the workstreams, and the score each phase
would honestly reach. Worked out from what score.py's walk left, when the result's plan is first
read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

from ..bank import Bank
from ..bank.models import SEVERITY_ORDER, Recommendation, Workstream
from ..plan import (
    LATER,
    PHASES,
    Candidate,
    Placement,
    Step,
    candidate_key,
    phase_capacity,
    place,
)
from ..what_if import Unknowns
from .result import Action, Finding, Phase, Planned, WorkstreamPlan
from .rules import BankRules, Effect, Matched, capped, overall, worth


class Triggered(NamedTuple):
    """An answer that triggered recommendations or a critical finding, as the walk met it."""

    position: int  # its section's position
    effect: Effect
    finding: Matched | None  # its critical finding as it stands given the other answers


def plan_of(bank: Bank, rules: BankRules, counted: Sequence[int], earned: Sequence[int],
            triggered: Sequence[Triggered], profile: dict[str, object],
            lookup: Callable[[str], Any], unknowns: Unknowns | None) -> Planned:
    actions, findings, placement = _actions(bank, rules, counted, triggered, profile, lookup)
    steps = placement.steps
    return Planned(
        critical_findings=findings,
        actions=actions,
        roadmap=_roadmap(bank, rules, counted, earned, triggered, actions, findings, profile,
                         steps, unknowns),
        later=tuple(a for a in actions if a.phase == LATER),
        steps=steps,
        workstreams=_workstreams(steps),
        later_reason=placement.waits,
    )


def _actions(bank: Bank, rules: BankRules, counted: Sequence[int],
             triggered: Sequence[Triggered], profile: dict[str, object],
             lookup: Callable[[str], Any]) -> tuple[tuple[Action, ...], tuple[Finding, ...],
                                                    Placement]:
    """Every triggered recommendation that fits the business, made into the plan's steps
    (plan.py) and listed in reading order."""
    unit_worth = worth(rules, counted)
    candidates = []
    # candidate id -> (effect, its recommendation, section position, its standing finding,
    # whether it finds out)
    about: dict[str, tuple[Effect, Recommendation, int, Matched | None, bool]] = {}
    severity_of: dict[str, str | None] = {}
    for position, effect, finding in triggered:
        q = effect.outcome.question
        severity = finding.severity if finding else None
        if finding:
            severity_of[q.id] = severity
        # Points per effort point: what the question gains at its target (for a "find out",
        # what is at stake), over the effort of everything it takes to get there. With
        # `overall: questions` a unit is worth the same in every section, so the units
        # themselves order exactly; effort_scale is a multiple of every effort sum.
        value: int | Fraction
        if rules.by_questions:
            value = effect.stake * (rules.effort_scale // effect.effort)
        else:
            value = unit_worth[position] * effect.stake / effect.effort
        for r, points, order, cid, find_out in effect.steps:
            if r.only_if is not None and not r.only_if.evaluate(lookup):
                continue
            candidates.append(Candidate(q, r, candidate_key(bool(finding), severity, r, value,
                                                            order),
                                        points, bool(finding) and not find_out, cid, find_out))
            about[cid] = (effect, r, position, finding, find_out)
    placement = place(bank, candidates, profile.get("staff_count"), severity_of)
    actions = []
    by_question: dict[str, list[Action]] = {}
    for step in placement.steps:
        for part in step.parts:
            effect, r, position, finding, find_out = about[part]
            q = effect.outcome.question
            gain = 0 if effect.not_sure or q.looks_back else effect.gain
            action = Action(effect.outcome, r, finding.severity if finding else None,
                            finding is not None, find_out, gain, unit_worth[position],
                            step.phase, step)
            actions.append(action)
            by_question.setdefault(q.id, []).append(action)
    findings = [Finding(t.effect.outcome, t.finding.title, t.finding.severity,
                        tuple(by_question.get(t.effect.outcome.question.id, ())),
                        t.finding.why_it_matters, t.finding.weakness)
                for t in triggered if t.finding]
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


def _roadmap(bank: Bank, rules: BankRules, counted: Sequence[int], earned_now: Sequence[int],
             triggered: Sequence[Triggered], actions: tuple[Action, ...],
             findings: tuple[Finding, ...], profile: dict[str, object],
             steps: tuple[Step, ...], unknowns: Unknowns | None) -> tuple[Phase, ...]:
    """Each phase's steps and the score the business would honestly reach after it. A question
    counts as fixed once all of its actions are done by then (phases are cumulative); it then
    earns the share its actions bring it to. "Find out" and look-back actions fix nothing."""
    done_by: dict[str, int] = {}  # question id -> phase by which all its actions are done
    for action in actions:
        qid = action.outcome.question.id
        done_by[qid] = max(done_by.get(qid, 0), action.phase)
    effects = {t.effect.outcome.question.id: (t.position, t.effect) for t in triggered}
    capacity = phase_capacity(bank, profile.get("staff_count"))
    earned = list(earned_now)
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
        projected = overall(rules, counted, earned)
        band = bank.band_for(projected) if projected is not None else None
        standing = [(f.severity, f.weakness) for f in findings
                    if f.outcome.question.id not in fixed]
        mine = tuple(a for a in actions if a.phase == phase)
        mine_steps = tuple(s for s in steps if s.phase == phase)
        phases.append(Phase(days, mine, projected, capped(bank, rules, band, standing),
                            sum(s.effort_points for s in mine_steps), capacity, mine_steps,
                            unknowns.range_after(dict(gains)) if unknowns else None))
    return tuple(phases)
