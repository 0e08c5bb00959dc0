"""Bank versions: an assessment answered against bank 1.0.0 keeps that bank and its judgment
after the shipped bank moved on (2.0.0, then 2.1.0), and an assessment answered against 2.0.0
keeps its bank and still gets a plan, with a workstream per section.

tests/fixtures/bank-1.0.0/snapshot.json is the 1.0.0 bank exactly as it shipped (its stored
snapshot), answers.json the reference answer sets as they were answered against it, and
results.json what 1.0.0 made of them then: score (to two decimals, as 1.0.0 printed
it), band and critical findings."""

from __future__ import annotations

import json
import math

import pytest

from assessment.core.bank import bank_from_snapshot
from assessment.core.scoring import parse_answers, score
from assessment.storage.assessments import (
    answers_for_scoring,
    bank_of,
    create_assessment,
    save_answer,
)

from .conftest import FIXTURES

V1 = FIXTURES / "bank-1.0.0"
SNAPSHOT = (V1 / "snapshot.json").read_text(encoding="utf-8").strip()
THEN = json.loads((V1 / "results.json").read_text(encoding="utf-8"))
ANSWERS = json.loads((V1 / "answers.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bank_v1():
    return bank_from_snapshot(SNAPSHOT)


def answers_of(bank, name):
    answers, errors = parse_answers(bank, ANSWERS[name])
    assert not errors
    return answers


def shown(two_decimals: float) -> int:
    return math.floor(two_decimals + 0.5)


def test_the_shipped_bank_is_2_2_and_the_old_one_still_loads(bank, bank_v1):
    assert bank.version == "2.2.0"
    assert bank_v1.version == "1.0.0"
    assert bank_v1.critical_cap == "high" and not bank_v1.severities


@pytest.mark.parametrize("name", sorted(THEN))
def test_a_1_0_0_judgment_stands(bank_v1, name):
    """Score, band and critical findings of a 1.0.0 assessment are what 1.0.0 said."""
    result = score(bank_v1, answers_of(bank_v1, name))
    then = THEN[name]
    assert result.score == shown(then["score"])
    assert result.band.id == then["band"]
    assert result.uncapped_band.id == then["uncapped_band"]
    assert [f.outcome.question.id for f in result.critical_findings] == then["critical_findings"]


def test_a_stored_1_0_0_assessment_is_scored_against_its_own_bank(db, bank_v1, bank):
    """The database keeps the bank an assessment was answered against: scoring it later uses
    1.0.0, whatever questions/ says today."""
    assessment_id = create_assessment(db, bank_v1)
    for question_id, answer in answers_of(bank_v1, "break_fix_untested_backups").items():
        save_answer(db, assessment_id, question_id, base_version=0, answer=answer,
                    source="owner")
    stored = bank_of(db, {"bank_hash": bank_v1.hash})
    assert stored.version == "1.0.0" and stored.hash != bank.hash
    result = score(stored, answers_for_scoring(db, assessment_id))
    assert result.band.id == THEN["break_fix_untested_backups"]["band"]
    assert result.score == shown(THEN["break_fix_untested_backups"]["score"])


def test_a_2_0_0_assessment_keeps_its_bank_and_gets_a_plan():
    """Bank 2.0.0 declared no workstreams: an assessment stored with it scores as it did and its
    plan groups steps by section, each step numbered and placed like any other."""
    snapshot = (FIXTURES / "bank-2.0.0" / "snapshot.json").read_text(encoding="utf-8")
    old = bank_from_snapshot(snapshot)
    assert old.version == "2.0.0" and not old.workstreams
    raw = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
    raw = {qid: value for qid, value in raw.items() if qid in old.question_by_id}  # 2.1 added some
    answers, errors = parse_answers(old, raw)
    assert not errors
    result = score(old, answers)
    assert result.band.id == "critical"
    sections = {s.id for s in old.sections}
    assert {w.workstream.id for w in result.workstreams} <= sections | {"find_out"}
    assert [s.number for s in result.steps] == list(range(1, len(result.steps) + 1))
