"""No score before there is one (docs/scoring.md, steps 1 and 4): a question that counts as 0
while hidden (`scored_when_hidden`) does so only once the answers its show_if looks at hide
it; while a gateway is unanswered, nothing is known yet. An assessment with no scored answer
has no overall score and no band, and the core's readers of a result cope with that."""

from __future__ import annotations

import json

import pytest

from assessment.core import brief, history, plan_text, progress, severity
from assessment.core.bank import bank_from_snapshot, load_bank
from assessment.core.scoring import parse_answers, result_to_dict, score

from .conftest import BANK_FIXTURES, FIXTURES


@pytest.fixture(scope="module")
def bank():
    return load_bank(BANK_FIXTURES / "v22")


def result_of(bank, raw):
    answers, errors = parse_answers(bank, raw)
    assert not errors, errors
    return score(bank, answers)


def counted(result) -> set[str]:
    return {o.question.id for o in result.outcomes if o.counts}


def test_an_empty_assessment_has_no_score_and_no_band(bank):
    """Not 0 and Critical: nothing has been said yet."""
    result = result_of(bank, {})
    assert (result.score, result.band, result.uncapped_band) == (None, None, None)
    assert counted(result) == set()
    assert all(p.projected_score is None and p.projected_band is None for p in result.roadmap)
    assert not result.complete and result.critical_findings == () and result.actions == ()


def test_profile_answers_alone_give_no_score(bank):
    result = result_of(bank, {"profile.health_data": "yes", "profile.client_money": "no"})
    assert result.score is None and result.band is None


def test_an_unanswered_gateway_leaves_its_hidden_follow_ups_out(bank):
    """backup.locked is asked only once the off-site copy is known; with that question still
    open, the locked copy is unanswered, not missing."""
    result = result_of(bank, {"backup.automatic": "daily"})
    assert counted(result) == {"backup.automatic"}
    assert result.score == 100


def test_a_gateway_answered_so_as_to_hide_makes_its_follow_ups_count_0(bank):
    """No copy off site: there is no off-site copy to lock, so that earns nothing."""
    result = result_of(bank, {"backup.automatic": "daily", "backup.offsite": "here"})
    assert counted(result) == {"backup.automatic", "backup.offsite", "backup.locked"}
    assert result.score == 43  # 3 of 3 + 2 units: 3 / 7


def test_a_chain_of_hidden_questions_settles_from_the_first_answer(bank):
    """No backups: the off-site copy is hidden by an answer, so the locked copy (asked only
    after the off-site one) is hidden by answers too, and both earn nothing."""
    result = result_of(bank, {"backup.automatic": "none"})
    assert counted(result) == {"backup.automatic", "backup.offsite", "backup.locked",
                               "backup.encrypted"}
    assert result.score == 0 and result.band.id == "critical"


def test_not_sure_on_a_gateway_settles_it(bank):
    """Not knowing whether there are backups is an answer: the follow-ups it hides earn
    nothing, as before."""
    result = result_of(bank, {"backup.automatic": {"state": "not_sure"}})
    assert counted(result) == {"backup.automatic", "backup.offsite", "backup.locked",
                               "backup.encrypted"}
    assert result.score == 0


def test_not_applicable_on_a_gateway_settles_nothing(bank):
    """N/A scores exactly like no answer, on a gateway too."""
    base = {"backup.automatic": "daily"}
    na = result_of(bank, {**base, "backup.offsite": {"state": "na"}})
    unanswered = result_of(bank, base)
    assert na.score == unanswered.score == 100
    assert counted(na) == counted(unanswered) == {"backup.automatic"}


def test_the_what_if_worlds_settle_gateways_the_same_way(bank):
    """Not sure on the off-site copy hides the locked copy by an answer: it earns nothing, and
    so it does in the worst world ("only in the office"); the best world reveals it and
    answers it best."""
    result = result_of(bank, {"backup.automatic": "daily", "backup.offsite": {"state":
                                                                             "not_sure"}})
    assert counted(result) == {"backup.automatic", "backup.offsite", "backup.locked"}
    assert result.score == 43  # 3 of 7
    assert result.score_range == (43, 100)


def test_the_what_if_worlds_leave_open_gateways_open(bank):
    """The worlds change only the unknowns: the off-site question, still unanswered, keeps the
    locked copy out of every world too."""
    result = result_of(bank, {"backup.automatic": "daily",
                              "security.devices": {"state": "not_sure"}})
    assert result.score == 75  # 3 of 4
    assert result.score_range == (75, 100)


def test_older_banks_get_the_same_fix():
    """No test pins the old reading, so stored 2.0 assessments get it too: an empty 2.0
    assessment has no score, and a complete one scores as it did."""
    old = bank_from_snapshot((FIXTURES / "bank-2.0.0" / "snapshot.json").read_text())
    assert old.version == "2.0.0"
    assert score(old, {}).score is None
    raw = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
    answers, errors = parse_answers(old, {q: v for q, v in raw.items() if q in
                                          old.question_by_id})
    assert not errors
    result = score(old, answers)
    assert result.band.id == "critical"


def test_the_core_readers_of_a_result_cope_with_no_score(bank):
    """Every reader of a result in the core takes one with no score and no band."""
    empty = result_of(bank, {})
    later = result_of(bank, {"backup.automatic": "daily"})
    data = severity.with_labels(result_to_dict(empty))
    assert data["score"] is None and data["band"] is None and data["uncapped_band"] is None
    assert [p["projected_score"] for p in data["roadmap"]] == [None, None, None]
    json.dumps(plan_text.with_costs(result_to_dict(empty), empty))
    assert brief.brief(empty)["verdict"] == "Answer the questions to get a verdict."
    assert plan_text.phase_heading(empty, 0)["band_id"] is None
    change = history.compare(empty, later)
    assert (change.score_before, change.score_after) == (None, 100)
    assert progress.progress(bank, empty).sections
