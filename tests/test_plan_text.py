"""What the plan says about itself must be true of that plan: why steps wait, what waits, what
finding out may change, and the band beside every projected score."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment.core.bank import Answer
from assessment.core.plan import LATER, phase_capacity, step_limit, steps_per_phase
from assessment.core.plan_text import (
    find_out_items,
    later_summary,
    phase_heading,
    range_text,
    waits_because,
)
from assessment.core.scoring import parse_answers, score

from .conftest import FIXTURES
from .strategies import full_answers_strategy


def reference(bank, name):
    raw = json.loads((FIXTURES / f"{name}.json").read_text())["answers"]
    answers, errors = parse_answers(bank, raw)
    assert not errors
    return score(bank, answers)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_why_steps_wait_is_true_of_the_plan(bank, data):
    """"The first 90 days already hold N steps, as many as ..." only when they hold the limit;
    "each month is already full" only when the last phase had no room for the first waiting
    step; nothing said when nothing waits."""
    result = score(bank, data.draw(full_answers_strategy(bank)))
    sentence = waits_because(result)
    waiting = [s for s in result.steps if s.phase == LATER]
    if not waiting:
        assert sentence == ""
        return
    staff = result.profile.get("staff_count")
    inside = sum(len(p.steps) for p in result.roadmap)
    if "already hold" in sentence:
        assert inside == step_limit(bank, staff) or \
            inside + waiting[0].effort_points > step_limit(bank, staff)
        assert f"hold {inside} steps" in sentence
    else:
        assert "already full" in sentence
        last = result.roadmap[-1]
        assert last.effort + waiting[0].effort_points > phase_capacity(bank, staff) or \
            len(last.steps) >= steps_per_phase(step_limit(bank, staff))


def test_what_waits_is_summarised_by_workstream(bank):
    result = reference(bank, "break_fix_untested_backups")
    waiting = [s for s in result.steps if s.phase == LATER]
    lines = later_summary(result)
    assert sum(line["count"] for line in lines) == len(waiting)
    assert len(lines) == len({s.workstream.id for s in waiting})
    assert len(lines) <= len(bank.workstreams)
    for line in lines:
        assert line["text"].startswith(f"{line['count']} step")


def test_every_projected_score_has_its_band(bank):
    result = reference(bank, "break_fix_untested_backups")
    for position, phase in enumerate(result.roadmap):
        heading = phase_heading(result, position)
        assert heading["score"] == f"{phase.projected_score}, {phase.projected_band.label}"


def test_an_unknown_backup_shows_what_hangs_on_it(bank):
    """"Up to 4 points depend on it" understated not knowing whether anything is backed up: the
    follow-ups the unknown hides count too."""
    raw = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
    raw = {qid: answer for qid, answer in raw.items() if not qid.startswith("backup.")}
    raw["backup.automatic"] = {"state": "not_sure"}  # so its follow-ups were never asked
    answers, _ = parse_answers(bank, raw)
    result = score(bank, answers)
    meeting = next(s for s in result.steps if s.find_out)
    item = next(i for i in find_out_items(result, meeting) if i["id"].startswith("backup.auto"))
    stake = result.unknowns.stake("backup.automatic")
    assert stake.high - result.score > 10, (result.score, stake)
    assert f"from {result.score} to {stake.high}" in item["hangs"]
    assert item["finding"] and item["why"]


def test_a_range_reads_as_words():
    assert range_text(39, 47) == "between 39 and 47 depending on what you find out"
    assert range_text(None, None) == ""


def test_an_owner_unsure_of_everything_gets_one_meeting(bank):
    unsure = {q.id: Answer.not_sure() for q in bank.questions if q.not_sure}
    result = score(bank, unsure)
    meetings = [s for s in result.steps if s.find_out]
    assert {s.asks for s in meetings} <= {"provider", "owner"}
    assert len(meetings) == len({s.asks for s in meetings})
    assert all(s.phase == 0 for s in meetings)
    assert result.provisional


@pytest.mark.parametrize("name", ["break_fix_untested_backups", "unsure_mixed",
                                  "single_critical_exposure", "well_run_managed"])
def test_reference_plans_stay_small(bank, name):
    """A consultant gives a small business 10-15 pieces of work in a quarter."""
    result = reference(bank, name)
    assert sum(len(p.steps) for p in result.roadmap) <= 15


def test_the_json_carries_the_plan_as_steps_and_workstreams(runner):
    """`flask assess score` keeps its fields and adds the plan's shape: roadmap ids are steps in
    reading order (at most 15 in 90 days), each a recommendation or covering some; every
    recommendation is in one workstream; phases carry a range and a cost in the owner's money."""
    out = runner.invoke(args=["assess", "score",
                              str(FIXTURES / "break_fix_untested_backups.json")])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    recs = {r["id"]: r for r in data["recommendations"]}
    steps = {s["id"]: s for s in data["steps"]}
    planned = [sid for p in data["roadmap"] for sid in p["recommendations"]]
    assert len(planned) <= 15
    assert all(sid in recs and sid in steps for sid in planned)
    numbers = [steps[sid]["number"] for sid in planned + data["later"]]
    assert numbers == sorted(numbers) == list(range(1, len(steps) + 1))
    in_streams = [rid for w in data["workstreams"] for rid in w["recommendations"]]
    assert sorted(in_streams) == sorted(recs)
    for s in data["steps"]:
        assert all(recs[c]["step"] == s["id"] for c in s["covers"])
    assert data["provisional"] is False
    for phase in data["roadmap"]:
        assert phase["projected_band"]["label"]
        assert set(phase["cost_range"]) == {"low", "high", "currency"}
        assert phase["cost_range"]["currency"] == "usd"
        assert phase["cost_range"]["low"] <= phase["cost_range"]["high"]
