"""How the bank's cross-checks run (assessment/core/bank/checks.py): one small rule each, run
from lists, a question's mistakes listed together in bank order, one pass after another, and a
question of an unknown type checked no further."""

from __future__ import annotations

import copy
import inspect

import pytest

from assessment.core.bank import BankError, checks
from assessment.core.bank.loader import build_bank, read_bank_dir

from .conftest import BANK_FIXTURES


@pytest.fixture
def mini():
    return read_bank_dir(BANK_FIXTURES / "mini")


def problems_of(raw, names) -> list[str]:
    with pytest.raises(BankError) as caught:
        build_bank(raw, names, frameworks=None)
    return [str(p) for p in caught.value.problems]


def security_questions(raw) -> list[dict]:
    return raw["sections"]["security"]["questions"]


def test_a_questions_mistakes_come_together_in_bank_order(mini):
    raw, names = copy.deepcopy(mini[0]), mini[1]
    mfa, patch_days = security_questions(raw)[0], security_questions(raw)[1]
    mfa["recommendations"][0]["when"] = ["never"]  # a token the question does not have
    del mfa["critical"]["severity"]  # a 2.0 bank needs it
    patch_days["recommendations"][0]["fixes_to"] = "sometimes"
    found = problems_of(raw, names)
    assert found == [
        "mini/security.yaml: questions[0].recommendations[0].when[0]: 'never' is not an answer "
        "of security.mfa (its answers: yes, no, not_sure)",
        "mini/security.yaml: questions[0].critical.severity: say what the finding does to the "
        "band: existential or serious",
        "mini/security.yaml: questions[1].recommendations[0].fixes_to: 'sometimes' is not an "
        "answer of security.patch_days (its answers: fast, slow, late)",
    ]


def test_an_unknown_type_stops_that_questions_checks_only(mini):
    raw, names = copy.deepcopy(mini[0]), mini[1]
    wifi, guest = security_questions(raw)[2], security_questions(raw)[3]
    wifi["type"] = "dropdown"
    wifi["recommendations"][0]["when"] = ["never"]  # not reported: its type is unknown
    guest["recommendations"][0]["when"] = ["never"]
    found = problems_of(raw, names)
    assert found[0].startswith("mini/security.yaml: questions[2].type: unknown type 'dropdown'")
    assert not any("questions[2].recommendations" in line for line in found)
    assert any(line.startswith("mini/security.yaml: questions[3].recommendations[0].when[0]")
               for line in found)


def test_every_rule_is_small_and_listed_once():
    listed = [*checks.BANK_RULES, *checks.SECTION_RULES, *checks.V2_RULES,
              *checks.RECOMMENDATION_RULES,
              *(rule for rules in checks.QUESTION_PASSES for rule in rules)]
    assert len(listed) == len(set(listed))
    assert checks.GATES <= set(checks.QUESTION_PASSES[0])
    for rule in listed:
        assert len(inspect.getsourcelines(rule)[0]) <= 30, rule.__name__
