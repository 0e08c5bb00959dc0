"""Properties the scoring must hold for any answers (docs/scoring.md, "Properties").

Each runs on the shipped bank, on the small worked-example bank and on a small bank 2.2 (with
critical rules that look at other answers, and findings that share a weakness)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assessment.core.bank import Answer, load_bank
from assessment.core.scoring import score

from .conftest import BANK_FIXTURES, QUESTIONS
from .strategies import answers_strategy, value_strategy

BANKS = {"shipped": load_bank(QUESTIONS), "mini": load_bank(BANK_FIXTURES / "mini"),
         "v22": load_bank(BANK_FIXTURES / "v22")}
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def applicable(result) -> frozenset[str]:
    return frozenset(o.question.id for o in result.outcomes if o.applicable)


def asked_if_answered(bank) -> set[str]:
    """Questions an `answered` condition looks at (there, N/A counts as an answer)."""
    return {c.q for q in bank.questions if q.show_if for _, c in q.show_if.comparisons()
            if c.op == "answered"}


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_scores_stay_between_0_and_100(name, data):
    """A score outside 0-100 would make every chart and band meaningless."""
    bank = BANKS[name]
    result = score(bank, data.draw(answers_strategy(bank)))
    for value in [result.score] + [s.score for s in result.sections] + \
            [p.projected_score for p in result.roadmap]:
        assert value is None or 0 <= value <= 100


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_improving_one_answer_never_lowers_the_score(name, data):
    """An owner who fixes something must never see the score drop for it."""
    bank = BANKS[name]
    scored = [q for q in bank.questions if q.scored]
    q = data.draw(st.sampled_from(scored))
    answers = data.draw(answers_strategy(bank))
    first = data.draw(value_strategy(q))
    second = data.draw(value_strategy(q))
    worse, better = sorted([first, second], key=lambda a: q.kind.points(q, a.value))
    assume(q.kind.points(q, worse.value) < q.kind.points(q, better.value))
    before = score(bank, {**answers, q.id: worse})
    after = score(bank, {**answers, q.id: better})
    assume(q.id in applicable(before))
    assume(applicable(before) == applicable(after))
    assert after.score >= before.score
    assert bank.band_rank(after.band.id) >= bank.band_rank(before.band.id), (
        f"{q.id}: {worse.value} -> {better.value} worsened the band")


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_not_sure_never_beats_a_real_answer(name, data):
    """'Not sure' scores as a risk: no real answer scores lower than it."""
    bank = BANKS[name]
    q = data.draw(st.sampled_from([q for q in bank.questions if q.scored and q.not_sure]))
    answers = data.draw(answers_strategy(bank))
    unsure = score(bank, {**answers, q.id: Answer.not_sure()})
    known = score(bank, {**answers, q.id: data.draw(value_strategy(q))})
    assume(q.id in applicable(unsure) and applicable(unsure) == applicable(known))
    assert known.score >= unsure.score - 1e-9


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_answers_to_hidden_questions_change_nothing(name, data):
    """A stale answer behind a condition that no longer holds must not count."""
    bank = BANKS[name]
    answers = data.draw(answers_strategy(bank))
    result = score(bank, answers)
    hidden = [q for q in bank.questions if q.id not in applicable(result)]
    assume(hidden)
    extra = {q.id: data.draw(value_strategy(q)) for q in hidden}
    again = score(bank, {**answers, **extra})
    assert again.score == result.score
    assert again.band == result.band


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_not_applicable_scores_like_no_answer(name, data):
    """N/A leaves the denominator: it neither helps nor hurts."""
    bank = BANKS[name]
    candidates = [q for q in bank.questions if q.na and q.id not in asked_if_answered(bank)]
    if not candidates:
        return  # this bank has no N/A question to check; the mini bank always has one
    q = data.draw(st.sampled_from(candidates))
    answers = {k: v for k, v in data.draw(answers_strategy(bank)).items() if k != q.id}
    assert score(bank, {**answers, q.id: Answer.na()}).score == score(bank, answers).score


def cap_rank(bank, severity) -> int:
    rule = next(r for r in bank.severities if r.id == severity)
    return bank.band_rank(rule.caps_at)


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_a_critical_finding_always_caps_the_band(name, data):
    """A high score must never hide an exposure: each finding caps the band by its severity, an
    existential one at the worst band, and serious ones of three different weaknesses together
    at the worst band too; serious findings of fewer weaknesses cap no lower than one does."""
    bank = BANKS[name]
    result = score(bank, data.draw(answers_strategy(bank)))
    if result.band is None:
        return
    rank = bank.band_rank(result.band.id)
    for finding in result.critical_findings:
        assert rank <= cap_rank(bank, finding.severity)
    if any(f.severity == "existential" for f in result.critical_findings):
        assert rank == 0
        return
    weaknesses = {f.weakness for f in result.critical_findings if f.severity == "serious"}
    if len(weaknesses) >= 3:
        assert rank == 0
    elif weaknesses:
        uncapped = bank.band_rank(result.uncapped_band.id)
        assert rank == min(uncapped, cap_rank(bank, "serious"))


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_no_scored_answer_no_score(name, data):
    """An assessment with no scored question answered has no score and no band yet, whatever
    else is answered: a gateway left open never makes its hidden follow-ups count 0."""
    bank = BANKS[name]
    answers = {qid: answer for qid, answer in data.draw(answers_strategy(bank)).items()
               if not bank.question_by_id[qid].scored}
    result = score(bank, answers)
    assert (result.score, result.band, result.uncapped_band) == (None, None, None)
    assert all(p.projected_score is None for p in result.roadmap)


@pytest.mark.parametrize("name", BANKS)
@SETTINGS
@given(data=st.data())
def test_a_hidden_question_counts_only_once_its_gateways_are_answered(name, data):
    """A `scored_when_hidden` question earns 0 while hidden only when each question its
    show_if looks at is answered (a value or "Not sure") or is itself hidden that way."""
    bank = BANKS[name]
    answers = data.draw(answers_strategy(bank))
    result = score(bank, answers)
    by_id = {o.question.id: o for o in result.outcomes}

    def settled(qid: str) -> bool:
        o = by_id[qid]
        if o.applicable:
            return o.answer is not None and o.answer.state != "na"
        return all(settled(ref) for ref in o.question.condition_refs)

    for o in result.outcomes:
        if not o.applicable and o.question.scored_when_hidden:
            assert o.counts == all(settled(ref) for ref in o.question.condition_refs), \
                o.question.id
