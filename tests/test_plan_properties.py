"""Properties of the plan for any answers (docs/scoring.md, step 6): the rules a consultant
would defend, checked on the shipped bank, the small worked-example bank and a small bank 2.2."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment.core.bank import Answer, load_bank
from assessment.core.bank.models import PRIORITY_ORDER
from assessment.core.plan import LATER, phase_capacity, step_limit, steps_per_phase
from assessment.core.scoring import score

from .conftest import BANK_FIXTURES, QUESTIONS
from .strategies import answers_strategy, full_answers_strategy

BANKS = {"shipped": load_bank(QUESTIONS), "mini": load_bank(BANK_FIXTURES / "mini"),
         "v22": load_bank(BANK_FIXTURES / "v22")}
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SEVERITY = {"existential": 0, "serious": 1, None: 2}


def answers(bank, data):
    """Any answers, half the time with every question answered (fuller plans)."""
    return data.draw(st.one_of(answers_strategy(bank), full_answers_strategy(bank)))


def own_class(step, result) -> tuple:
    parts = [a for a in result.actions if a.step.id == step.id]
    return (0 if step.fixes_finding else 1, SEVERITY[step.severity],
            min(PRIORITY_ORDER[a.recommendation.priority] for a in parts))


def risk_class(step, result) -> tuple:
    """A coarse risk order that does not read the plan's own key: fixes for critical findings
    (worst severity first), then the most urgent priority among the step's recommendations; a
    step that another names in `after` (it must come first) is as urgent as that one."""
    needed_by = []
    for other in result.steps:
        for a in result.actions:
            if a.step.id != other.id:
                continue
            refs = {r if ":" in r else f"{a.outcome.question.id}:{r}"
                    for r in a.recommendation.after}
            if refs & set(step.parts) and other.id != step.id:
                needed_by.append(other)
    return min([own_class(step, result)] + [risk_class(o, result) for o in needed_by])


def fixes(result):
    return [s for s in result.steps if not s.find_out]


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_no_step_is_placed_behind_a_lower_risk_step(name, data):
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    steps = fixes(result)
    for a in steps:
        for b in steps:
            if a.risk < b.risk:
                assert a.phase <= b.phase, (a.id, b.id)
            if risk_class(a, result) < risk_class(b, result):
                assert a.phase <= b.phase, (a.id, b.id, risk_class(a, result))


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_a_30_day_step_never_waits_while_a_lower_risk_step_is_inside_90_days(name, data):
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    steps = fixes(result)
    for a in steps:
        urgent = any(x.recommendation.timeframe == 30 for x in result.actions
                     if x.step.id == a.id)
        if urgent and a.phase == LATER:
            inside = [b for b in steps if b.phase < LATER and b.risk > a.risk]
            assert not inside, (a.id, [b.id for b in inside])


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_spare_room_in_an_earlier_phase_is_used(name, data):
    """A step waits past a phase only when that phase had no room for it (effort points or its
    share of the step limit), or when a step at least as urgent already had to wait past it
    (steps of equal urgency keep their order, and a step placed with the one that needs it
    shares that step's urgency)."""
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    if bank.plan is None:
        return
    staff = result.profile.get("staff_count")
    capacity, limit = phase_capacity(bank, staff), step_limit(bank, staff)
    per_phase = steps_per_phase(limit)
    within = sum(1 for s in result.steps if s.phase < LATER)
    for s in fixes(result):
        for earlier, phase in enumerate(result.roadmap[:min(s.phase, LATER)]):
            full = phase.effort + s.effort_points > capacity or (
                per_phase is not None and len(phase.steps) >= per_phase)
            overtaken = any(t.risk <= s.risk and t.phase > earlier and t.id != s.id
                            for t in fixes(result))
            capped = s.phase == LATER and limit is not None and within >= limit
            assert full or overtaken or capped, (s.id, earlier)


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_every_find_out_of_one_party_is_one_first_week_step(name, data):
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    find_outs = [a for a in result.actions if a.find_out]
    by_party: dict[str, set[str]] = {}
    for a in find_outs:
        by_party.setdefault(a.recommendation.asks or "provider", set()).add(a.step.id)
    for party, step_ids in by_party.items():
        assert len(step_ids) == 1, party
        step = next(s for s in result.steps if s.id in step_ids)
        assert step.phase == 0 and step.find_out and step.asks == party
    meetings = [s for s in result.steps if s.find_out]
    assert [s.number for s in meetings] == list(range(1, len(meetings) + 1))


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_steps_are_numbered_in_reading_order(name, data):
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    numbers = [s.number for s in result.steps]
    assert numbers == list(range(1, len(numbers) + 1))
    read = [s.number for p in result.roadmap for s in p.steps] + \
        [s.number for s in result.steps if s.phase == LATER]
    assert read == numbers
    # The actions follow their steps, so a list of actions never jumps back either.
    assert [a.step.number for a in result.actions] == sorted(a.step.number
                                                             for a in result.actions)


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_a_small_business_gets_at_most_its_step_limit_in_90_days(name, data):
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    limit = step_limit(bank, result.profile.get("staff_count"))
    if limit is not None:
        assert sum(len(p.steps) for p in result.roadmap) <= limit
        if (result.profile.get("staff_count") or bank.plan.default_staff) < 50:
            assert limit <= 15


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_every_critical_finding_is_dealt_with_in_the_first_month(name, data):
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    first = {s.id for s in result.roadmap[0].steps}
    for finding in result.critical_findings:
        assert finding.actions, f"{finding.outcome.question.id}: a finding with nothing to do"
        assert any(a.step.id in first for a in finding.actions), finding.outcome.question.id


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_each_recommendation_is_in_one_step_and_one_workstream(name, data):
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    parts = [p for s in result.steps for p in s.parts]
    assert sorted(parts) == sorted(a.id for a in result.actions)
    assert len(parts) == len(set(parts))
    listed = [s.id for w in result.workstreams for s in w.steps]
    assert sorted(listed) == sorted(s.id for s in result.steps)


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_projections_rise_and_stay_within_what_each_phase_delivers(name, data):
    """Projected scores never fall from one phase to the next, and with unknowns left the range
    holds the worst and the best of them in that order."""
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    if result.score is None:
        return
    previous = result.score
    for phase in result.roadmap:
        assert phase.projected_score >= previous
        previous = phase.projected_score
        if phase.projected_range is not None:
            assert phase.projected_range.low <= phase.projected_range.high
    if not result.not_sure:
        assert all(p.projected_range is None for p in result.roadmap)
        assert not result.provisional


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_ties_fall_to_bank_order(name, data):
    """Recommendations of one question in one step keep the order the bank lists them in,
    after the step's lead."""
    bank = BANKS[name]
    result = score(bank, answers(bank, data))
    for s in result.steps:
        if s.find_out:
            continue
        for q in bank.questions:
            mine = [p.split(":")[1] for p in s.parts[1:] if p.split(":")[0] == q.id]
            listed = [r.id for r in q.recommendations if r.id in mine]
            assert sorted(mine) == sorted(listed)


def test_not_knowing_half_makes_the_score_provisional():
    bank = BANKS["shipped"]
    unsure = {q.id: Answer.not_sure() for q in bank.questions if q.not_sure and q.scored}
    result = score(bank, unsure)
    assert result.provisional
    assert result.score_range.low < result.score_range.high
