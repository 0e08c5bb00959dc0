"""Scoring: answers + bank -> result (docs/scoring.md states the method).

    result.py    the result and its parts (Outcome, Finding, Action, Phase ...), and as JSON
    rules.py     a bank's rules worked out once, and what each answer does under them
    score.py     the walk over the answers: scores, band, outcomes (score())
    roadmap.py   the plan of a result: steps placed by core/plan.py, findings' actions, and the
                 score each phase would reach; worked out when the result's plan is first read
    answers.py   raw answers from a form or a file -> Answers
"""

from .answers import parse_answer, parse_answers
from .result import (
    Action,
    Finding,
    Outcome,
    Phase,
    Result,
    SectionScore,
    WorkstreamPlan,
    result_to_dict,
)
from .score import score

__all__ = [
    "Action", "Finding", "Outcome", "Phase", "Result", "SectionScore", "WorkstreamPlan",
    "parse_answer", "parse_answers", "result_to_dict", "score",
]
