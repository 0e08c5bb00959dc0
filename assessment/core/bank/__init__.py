"""The question bank: data files in, immutable validated models out (no Flask, no SQLite)."""

from .answer import Answer, AnswerError
from .loader import BankError, Problem, bank_from_snapshot, load_bank
from .models import NOT_APPLICABLE, NOT_SURE, Bank, Question, Section

__all__ = [
    "Answer", "AnswerError", "Bank", "BankError", "NOT_APPLICABLE", "NOT_SURE", "Problem",
    "Question", "Section", "bank_from_snapshot", "load_bank",
]
