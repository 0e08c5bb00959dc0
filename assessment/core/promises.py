"""From an assessment to the roadmap: a finished assessment's plan becomes the client's proposed
actions, and its answers prove or disprove the actions already there. Pure: a scored result and
the client's actions in, actions and decisions out (core/actions.py holds the rules of a move).

A plan step is one action. Its `finding` is the step's lead recommendation (question:rec), so
the same work found again by a later assessment is linked to the action already open for it,
never made twice; a later plan that folds that recommendation into a bigger step still finds it.
The find-out steps ("one meeting with your IT provider") are one open action per party asked:
their questions change as answers come in, the meeting does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from . import prices as price_list
from .actions import Action, Decision, Evidence, Status, check_promises
from .bank.models import NOT_SURE
from .plan import Step
from .plan_text import step_cost
from .scoring import Result

FIND_OUT = "find_out:"  # the finding of a find-out step: FIND_OUT + the party asked
# (Action.finds_out reads the same prefix: core.actions cannot import this module.)
# Who does a step, as the bank and the plan say (`who`) -> the action's party.
PARTY_OF = {"provider": "provider", "owner": "client", "vendor": "vendor"}


def finding_of(step: Step) -> str:
    return FIND_OUT + (step.asks or "provider") if step.find_out else step.id


def step_questions(step: Step) -> tuple[str, ...]:
    """The questions whose answers prove the step done, each once, lead first."""
    return tuple(dict.fromkeys(part.split(":", 1)[0] for part in step.parts))


def score_gain(result: Result, step: Step) -> int:
    """The overall points the step's questions gain once it is done (each question once)."""
    gains: dict[str, float] = {}
    for action in result.actions:
        if action.step.id == step.id:
            question = action.outcome.question.id
            gains[question] = max(gains.get(question, 0), float(action.gain))
    return round(sum(gains.values()))


def _why(result: Result, step: Step) -> str:
    """Why it matters, in the bank's words for the finding it deals with; else what to do."""
    questions = set(step_questions(step))
    for finding in result.critical_findings:
        if finding.outcome.question.id in questions and finding.why_it_matters:
            return finding.why_it_matters
    return step.text


def action_of(result: Result, step: Step, *, client_id: int, assessment_id: str, today: date,
              prices: price_list.PriceList | None = None) -> Action:
    """A plan step as a proposed action: due by the end of its phase (none for a step that
    waits past 90 days), its typical cost and expected gain from this assessment."""
    cost = step_cost(result, step, prices)
    # The one who does the step: a find-out is the owner's to do (they ask their provider, or
    # find out themselves), so it waits on the business, not on whoever is asked.
    party = PARTY_OF.get(step.who or "", "provider")
    return Action(
        id=None, client_id=client_id, title=step.title, why=_why(result, step),
        workstream=step.workstream.title, party=party,
        due=today + timedelta(days=step.days) if step.days else None,
        cost_low=round(cost.low) if cost else None, cost_high=round(cost.high) if cost else None,
        currency=cost.currency if cost else None, score_gain=score_gain(result, step),
        questions=step_questions(step), finding=finding_of(step),
        severity=step.severity or "", from_assessment=assessment_id)


@dataclass(frozen=True)
class Sync:
    """What a finished assessment does to a client's roadmap."""

    decisions: tuple[Decision, ...]  # existing actions proven, disproven or regressed
    new: tuple[Action, ...]  # new findings: new proposed actions
    linked: tuple[tuple[Action, Step], ...]  # steps found again: the action already open


def evidence_of(result: Result, assessment_id: str, on: date) -> Evidence:
    """What the assessment says: the questions answered for sure, and every finding it still
    raises (recommendation ids, and each find-out step's party)."""
    answered = frozenset(o.question.id for o in result.outcomes
                         if o.applicable and o.answer is not None and o.answer.state != NOT_SURE)
    raising = {action.id for action in result.actions}
    raising |= {finding_of(step) for step in result.steps if step.find_out}
    return Evidence(assessment=assessment_id, on=on, answered=answered,
                    raising=frozenset(raising))


def sync(result: Result, actions: Iterable[Action], *, client_id: int, assessment_id: str,
         today: date, prices: price_list.PriceList | None = None) -> Sync:
    """Check the client's actions against the assessment, then turn its plan into actions:
    each step already open as an action is linked to it, every other one is new."""
    known = list(actions)
    decisions = check_promises(known, evidence_of(result, assessment_id, today))
    moved = {d.action.id: d.action for d in decisions}
    now = [moved.get(a.id, a) for a in known]
    open_by_finding: dict[str, Action] = {}
    for action in now:
        if action.status not in (Status.VERIFIED, Status.DROPPED):
            open_by_finding.setdefault(action.finding, action)
    new, linked = [], []
    for step in result.steps:
        keys = [finding_of(step)] if step.find_out else list(step.parts)
        found = next((open_by_finding[k] for k in keys if k in open_by_finding), None)
        if found is not None:
            linked.append((found, step))
        else:
            made = action_of(result, step, client_id=client_id, assessment_id=assessment_id,
                             today=today, prices=prices)
            new.append(made)
            open_by_finding[made.finding] = made
    return Sync(tuple(decisions), tuple(new), tuple(linked))
