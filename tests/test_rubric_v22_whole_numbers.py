"""Whole-number answers (docs/bank-format.md, "Question types"): a point on a scale is given
as 3, 3.0, "3" or "3.0" alike; "3.5" is refused with the scale's own message. A number
question already reads "3.0" as 3 (its figures may have fractions: 37.5 hours a week)."""

from __future__ import annotations

import pytest

from assessment.core.bank import AnswerError, load_bank
from assessment.core.scoring import parse_answer, parse_answers

from .conftest import BANK_FIXTURES


@pytest.fixture(scope="module")
def bank():
    return load_bank(BANK_FIXTURES / "v22")


@pytest.mark.parametrize("raw", [3, 3.0, "3", "3.0", " 3.00 "])
def test_a_scale_point_is_read_however_it_is_written(bank, raw):
    answer = parse_answer(bank.question_by_id["security.training"], raw)
    assert answer.value == 3 and isinstance(answer.value, int)


@pytest.mark.parametrize("raw", ["3.5", 3.5, "3.", "3,0", "6.0", "0"])
def test_a_scale_refuses_what_is_no_point_of_it(bank, raw):
    with pytest.raises(AnswerError, match=r"^Pick a whole number from 1 to 5\.$"):
        parse_answer(bank.question_by_id["security.training"], raw)


def test_an_answers_file_gets_the_same_reading(bank):
    answers, errors = parse_answers(bank, {"security.training": "4.0"})
    assert not errors and answers["security.training"].value == 4
    _, errors = parse_answers(bank, {"security.training": "4.5"})
    assert errors == ["answers.security.training: Pick a whole number from 1 to 5."]


@pytest.mark.parametrize("raw", [3, 3.0, "3", "3.0"])
def test_a_count_reads_3_0_as_3(bank, raw):
    answer = parse_answer(bank.question_by_id["security.devices"], raw)
    assert answer.value == 3 and isinstance(answer.value, int)
