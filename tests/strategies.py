"""Hypothesis strategies that produce valid answers for any bank."""

from __future__ import annotations

from hypothesis import strategies as st

from assessment.core.bank import Answer, Bank, Question


def value_strategy(q: Question):
    ids = [c.id for c in q.choices]
    if q.type in ("single", "yesno"):
        return st.sampled_from(ids).map(lambda v: Answer("answered", v))
    if q.type == "multi":
        return st.lists(st.sampled_from(ids), min_size=1, unique=True).map(
            lambda chosen: Answer("answered", tuple(i for i in ids if i in chosen)))
    if q.type == "scale":
        return st.integers(int(q.min), int(q.max)).map(lambda v: Answer("answered", v))
    if q.type in ("number", "profile"):
        low = int(q.min if q.min is not None else 0)
        high = int(min(q.max if q.max is not None else 10**7, 10**7))
        return st.integers(low, high).map(lambda v: Answer("answered", v))
    return st.text(min_size=1, max_size=30).filter(str.strip).map(
        lambda v: Answer("answered", v.strip()))


def answer_strategy(q: Question):
    options = [value_strategy(q)]
    if q.not_sure:
        options.append(st.just(Answer.not_sure()))
    if q.na:
        options.append(st.just(Answer.na()))
    return st.one_of(options)


def answers_strategy(bank: Bank):
    """Any subset of the bank's questions answered with any valid answer."""
    return st.fixed_dictionaries({}, optional={q.id: answer_strategy(q) for q in bank.questions})


def full_answers_strategy(bank: Bank):
    """Every question answered (answers to questions that do not apply are ignored anyway)."""
    return st.fixed_dictionaries({q.id: answer_strategy(q) for q in bank.questions})
