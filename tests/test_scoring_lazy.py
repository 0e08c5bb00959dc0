"""A result works out its plan and its what-if worlds when they are first read: the values are the
ones a result read in any other order has, and score() alone does not work them out."""

from __future__ import annotations

import json

import pytest

from assessment.core.scoring import parse_answers, result_to_dict, score
from assessment.core.scoring.result import Result

from .conftest import FIXTURES

PLAN = ("critical_findings", "actions", "roadmap", "later", "steps", "workstreams",
        "later_reason")
WORLDS = ("unknowns", "score_range", "provisional")


def answers_of(bank, name: str) -> dict:
    answers, errors = parse_answers(bank, json.loads((FIXTURES / name).read_text())["answers"])
    assert not errors
    return answers


class Counting:
    """Stands between a result and what it defers, counting what is worked out."""

    def __init__(self, deferred):
        self.deferred = deferred
        self.plans = self.worlds = 0

    def unknowns(self):
        self.worlds += 1
        return self.deferred.unknowns()

    def plan(self, unknowns):
        self.plans += 1
        return self.deferred.plan(unknowns)


@pytest.mark.parametrize("name", ["unsure_mixed.json", "break_fix_untested_backups.json"])
def test_the_plan_is_worked_out_once_when_first_read(bank, name):
    result = score(bank, answers_of(bank, name))
    counting = Counting(result._deferred)
    result._deferred = counting
    assert result.score is not None and result.band is not None and result.outcomes
    assert (counting.plans, counting.worlds) == (0, 0), "score() worked out the plan"
    first = [getattr(result, field) for field in PLAN + WORLDS]
    again = [getattr(result, field) for field in PLAN + WORLDS]
    assert first == again
    assert (counting.plans, counting.worlds) == (1, 1)


@pytest.mark.parametrize("name", ["unsure_mixed.json", "single_critical_exposure.json",
                                  "well_run_managed.json"])
def test_the_order_of_reading_changes_nothing(bank, name):
    answers = answers_of(bank, name)
    worlds_first, plan_first = score(bank, answers), score(bank, answers)
    for field in WORLDS + PLAN:
        getattr(worlds_first, field)
    for field in PLAN + WORLDS:
        getattr(plan_first, field)
    assert worlds_first == plan_first
    assert result_to_dict(worlds_first) == result_to_dict(plan_first)


def test_a_band_capped_by_a_finding_needs_no_plan(bank):
    """The band is there at once: capping it needs the findings' severities, not their plan."""
    result = score(bank, answers_of(bank, "single_critical_exposure.json"))
    counting = Counting(result._deferred)
    result._deferred = counting
    assert result.capped
    assert counting.plans == 0
    assert result.critical_findings, "the finding that caps the band is listed with the plan"


def test_replace_keeps_the_plan_and_refuses_what_it_cannot_change(bank):
    result = score(bank, answers_of(bank, "unsure_mixed.json"))
    changed = result._replace(score=50)
    assert changed.score == 50 and result.score != 50
    assert changed.roadmap == result.roadmap and changed.unknowns == result.unknowns
    with pytest.raises(TypeError):
        result._replace(roadmap=())
    assert isinstance(changed, Result) and changed != result
