"""One answer to one question, as the scoring sees it: no notes, no scores, no storage details."""

from __future__ import annotations

from typing import Literal, NamedTuple

State = Literal["answered", "not_sure", "na"]
Value = str | float | int | tuple[str, ...] | None


class Answer(NamedTuple):
    """A NamedTuple so that it hashes at C speed: the scoring looks answers up by value."""

    state: State = "answered"
    value: Value = None

    @classmethod
    def not_sure(cls) -> Answer:
        return cls("not_sure")

    @classmethod
    def na(cls) -> Answer:
        return cls("na")


class AnswerError(ValueError):
    """A value from a user or a file that does not fit the question; the message says how to
    fix it."""
