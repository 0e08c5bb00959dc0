"""One count of what the owner answers, everywhere, and a time estimate measured from the bank.
The pages are asked on SQLite and on PostgreSQL."""

from __future__ import annotations

import math

import pytest

from assessment.core.progress import (
    ANSWER_SECONDS,
    READING_WORDS_PER_MINUTE,
    progress,
    seconds_for,
    unstarted,
)
from assessment.core.scoring import parse_answer, score

pytestmark = pytest.mark.both_backends


def _answered(bank, raw):
    return score(bank, {qid: parse_answer(bank.question_by_id[qid], value)
                        for qid, value in raw.items()})


def test_the_count_includes_the_questions_about_the_business(bank):
    """The profile questions are optional, but the owner answers them: they count."""
    whole = unstarted(bank)
    profile = bank.section_by_id["profile"]
    assert whole.sections[0].total == len(profile.questions)
    assert whole.total == sum(s.total for s in whole.sections)
    assert whole.left < whole.total  # the optional ones need not be answered to finish
    state = progress(bank, _answered(bank, {"profile.business_name": "Harbour Street Dental",
                                            "profile.currency": "gbp",
                                            "profile.staff_count": 14}))
    assert state.done == 3 and state.percent > 0
    assert state.total == whole.total and state.left == whole.left


def test_the_estimate_is_reading_plus_answering_each_question(bank):
    q = bank.question_by_id["backup.restore_tested"]
    words = (len(q.text.split()) + len((q.hint or "").split())
             + sum(len(c.label.split()) for c in q.choices) + 2 * q.not_sure + 4 * q.na)
    assert math.isclose(seconds_for(q), 60 * words / READING_WORDS_PER_MINUTE
                        + ANSWER_SECONDS["radio"])
    # Before anything is answered, the estimate counts every question except those that only
    # an answer on the optional profile page brings up (card payments, machines, an IT
    # company's agreement): what it would bring up is not asked until then.
    asked = [q for q in bank.questions
             if not any(ref.startswith("profile.") for ref in q.condition_refs)]
    total = sum(seconds_for(q) for q in asked)
    assert unstarted(bank).time_left == f"about {5 * round(total / 60 / 5)} minutes"


def test_pages_say_the_same_count(client, bank):
    whole = unstarted(bank)
    landing = client.get("/").get_data(as_text=True)
    assert f"What the {whole.total} questions cover" in landing
    assert f"In {whole.time_left} you get" in landing
    client.application.config["WTF_CSRF_ENABLED"] = False
    client.post("/assessment/start")
    for url in ("/assessment/section/profile", "/assessment/", "/assessment/review"):
        page = client.get(url).get_data(as_text=True)
        assert f"0 of {whole.total} questions answered, {whole.time_left} left" in page, url
