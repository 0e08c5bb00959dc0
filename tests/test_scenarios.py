"""The expert scenario battery: businesses a consultant knows how to judge, and the judgment the
rubric must reach for each.

Each file in tests/scenarios/ is one business:

    business: one or two sentences: who they are and how their IT is run
    base: well_run_managed          # optional: a reference answer set in tests/fixtures/
    answers: {question id: answer}  # changes to the base (an answer as in an answers file;
                                    # null removes the base's answer)
    expect:
      bands: [critical]             # the bands a consultant would accept
      critical: [question ids]      # findings that must stand
      not_critical: [question ids]  # findings that must not
      severity: {question id: existential | serious}
      first_phase: [action ids]     # recommendations (question:recommendation) in a step of
                                    # the first 30 days
      first_phase_at_most: 8        # steps in the first 30 days
      score_at_least / score_at_most: a number
      in_plan: [action ids]         # proposed, in a step of the first 90 days
      within_90: [action ids]       # the same (named for what a consultant checks)
      not_in_plan: [action ids]     # not proposed at all for this business
      same_step: [[id, id, ...]]    # done as one step
      read_before: [[id, id]]       # the first is read (numbered) before the second
      later_at_most: 0              # steps after 90 days
      within_90_at_most: 15         # steps in the first 90 days
      find_out_steps: 1             # find-out steps (one per party asked)
      provisional: true             # the score is provisional
    rationale: one line: why a consultant would sign this judgment

A scenario fails with every expectation it misses, so a rubric change shows at once which
judgments it moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from assessment.core.scoring import parse_answers, score

from .conftest import FIXTURES

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))
MIN_SCENARIOS = 25
KNOWN_KEYS = {"business", "base", "answers", "expect", "rationale"}
KNOWN_EXPECT = {"bands", "critical", "not_critical", "severity", "first_phase",
                "first_phase_at_most", "score_at_least", "score_at_most", "in_plan",
                "within_90", "not_in_plan", "same_step", "read_before", "later_at_most",
                "within_90_at_most", "find_out_steps", "provisional"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def answers_of(scenario: dict) -> dict:
    raw = {}
    if scenario.get("base"):
        raw = json.loads((FIXTURES / f"{scenario['base']}.json").read_text())["answers"]
    for question_id, answer in (scenario.get("answers") or {}).items():
        if answer is None:
            raw.pop(question_id, None)
        else:
            raw[question_id] = answer
    return raw


def judge(bank, scenario: dict) -> list[str]:
    """Every way the rubric's judgment differs from the scenario's, in words."""
    answers, errors = parse_answers(bank, answers_of(scenario))
    if errors:
        return errors
    result = score(bank, answers)
    expect = scenario["expect"]
    findings = {f.outcome.question.id: f for f in result.critical_findings}
    first = [a.id for a in result.roadmap[0].actions]
    first_steps = result.roadmap[0].steps
    seen = (f"score {result.score}, band {result.band.id}, findings {sorted(findings)}, "
            f"first phase {len(first_steps)} steps")
    misses = []
    if result.band.id not in expect["bands"]:
        misses.append(f"band {result.band.id}, expected one of {expect['bands']}")
    misses += [f"no critical finding on {q}" for q in expect.get("critical", ())
               if q not in findings]
    misses += [f"unexpected critical finding on {q}" for q in expect.get("not_critical", ())
               if q in findings]
    misses += [f"{q} is {findings[q].severity if q in findings else 'no finding'}, expected "
               f"{severity}" for q, severity in (expect.get("severity") or {}).items()
               if q not in findings or findings[q].severity != severity]
    misses += [f"{a} is not in the first 30 days" for a in expect.get("first_phase", ())
               if a not in first]
    if "first_phase_at_most" in expect and len(first_steps) > expect["first_phase_at_most"]:
        misses.append(f"{len(first_steps)} steps in the first 30 days, at most "
                      f"{expect['first_phase_at_most']} expected")
    if "score_at_least" in expect and result.score < expect["score_at_least"]:
        misses.append(f"score {result.score} below {expect['score_at_least']}")
    if "score_at_most" in expect and result.score > expect["score_at_most"]:
        misses.append(f"score {result.score} above {expect['score_at_most']}")
    return [f"{m} ({seen})" for m in misses + plan_misses(result, expect)]


def plan_misses(result, expect: dict) -> list[str]:
    """How the plan differs from what the scenario expects of its steps."""
    step_of = {a.id: a.step for a in result.actions}
    inside = [s for s in result.steps if s.days is not None]
    misses = [f"{a} is not in a step of the first 90 days"
              for a in [*expect.get("in_plan", ()), *expect.get("within_90", ())]
              if a not in step_of or step_of[a].days is None]
    misses += [f"{a} is proposed, but does not fit this business"
               for a in expect.get("not_in_plan", ()) if a in step_of]
    for ids in expect.get("same_step", ()):
        steps = {step_of[a].id if a in step_of else f"missing {a}" for a in ids}
        if len(steps) != 1:
            misses.append(f"{ids} are not one step: {sorted(steps)}")
    for first, second in expect.get("read_before", ()):
        if first not in step_of or second not in step_of or \
                step_of[first].number >= step_of[second].number:
            misses.append(f"{first} is not read before {second}")
    later = len(result.steps) - len(inside)
    if "later_at_most" in expect and later > expect["later_at_most"]:
        misses.append(f"{later} steps after 90 days, at most {expect['later_at_most']}")
    if "within_90_at_most" in expect and len(inside) > expect["within_90_at_most"]:
        misses.append(f"{len(inside)} steps in 90 days, at most {expect['within_90_at_most']}")
    meetings = sum(1 for s in result.steps if s.find_out)
    if "find_out_steps" in expect and meetings != expect["find_out_steps"]:
        misses.append(f"{meetings} find-out steps, expected {expect['find_out_steps']}")
    if "provisional" in expect and result.provisional != expect["provisional"]:
        misses.append(f"provisional is {result.provisional}")
    return misses


def test_the_battery_is_large_enough():
    assert len(FILES) >= MIN_SCENARIOS, f"{len(FILES)} scenarios"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_scenario(bank, path):
    scenario = load(path)
    assert set(scenario) <= KNOWN_KEYS, set(scenario) - KNOWN_KEYS
    assert set(scenario["expect"]) <= KNOWN_EXPECT, set(scenario["expect"]) - KNOWN_EXPECT
    assert scenario["business"].strip() and scenario["rationale"].strip()
    misses = judge(bank, scenario)
    assert not misses, f"{path.stem}: " + "; ".join(misses)
