"""Raw answers (from JSON or a form) -> Answers, with errors that say how to put them right."""

from __future__ import annotations

from collections.abc import Mapping

from ..bank import Answer, AnswerError, Bank, Question
from ..bank.models import NOT_APPLICABLE, NOT_SURE


def parse_answer(q: Question, raw: object) -> Answer:
    """One raw answer (from JSON or a form) -> Answer, or AnswerError saying how to fix it.

    A raw answer is the value itself, or {"state": "not_sure"} / {"state": "na"}, or
    {"value": ...}; "Not sure" and N/A are refused where the bank does not allow them.
    """
    if isinstance(raw, dict):
        state = raw.get("state", "answered")
        if state == NOT_SURE:
            if not q.not_sure:
                raise AnswerError("'Not sure' is not an option for this question.")
            return Answer.not_sure()
        if state == NOT_APPLICABLE:
            if not q.na:
                raise AnswerError("'Does not apply' is not an option for this question.")
            return Answer.na()
        if state != "answered" or "value" not in raw:
            raise AnswerError("Give a 'value', or a 'state' of 'not_sure' or 'na'.")
        raw = raw["value"]
    return Answer("answered", q.kind.parse(q, raw))


def parse_answers(bank: Bank, raw: Mapping[str, object]) -> tuple[dict[str, Answer], list[str]]:
    """Parse a mapping of question id -> raw answer; returns answers and readable errors."""
    answers, errors = {}, []
    for question_id, value in raw.items():
        q = bank.question_by_id.get(question_id)
        if q is None:
            errors.append(f"answers.{question_id}: no question with this id in bank "
                          f"{bank.id} {bank.version}")
            continue
        try:
            answers[question_id] = parse_answer(q, value)
        except AnswerError as error:
            errors.append(f"answers.{question_id}: {error}{_ids_to_use(q)}")
    return answers, errors


def _ids_to_use(q: Question) -> str:
    """For a file, where the form's options are not on screen: the choice ids it accepts."""
    if not q.choices:
        return ""
    ids = ", ".join(c.id for c in q.choices)
    extra = [f'{{"state": "{state}"}}' for state, allowed in
             ((NOT_SURE, q.not_sure), (NOT_APPLICABLE, q.na)) if allowed]
    many = "a list of" if q.kind.name == "multi" else "one of"
    return f" Use {many}: {ids}" + (f"; or {' or '.join(extra)}." if extra else ".")
