"""Where an owner stands in the questionnaire: per-section state, overall progress, next question.

Pure, like scoring. Progress counts only questions that need an answer and apply. A follow-up
whose condition looks at a question not answered yet still counts as to do, so answering a
question can only ever shrink what is left: the bar never jumps backwards as the owner goes on.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

from .bank import Bank, Question, Section
from .scoring import Outcome, Result


@dataclass(frozen=True)
class SectionProgress:
    section: Section
    done: int  # questions that need an answer and have one
    todo: int  # questions that need an answer and do not have one yet (pending included)
    not_sure: int
    optional_answered: int  # profile figures and free text given
    first_open: Question | None  # the first question still to answer, if any

    @property
    def state(self) -> str:
        if self.done == 0 and self.optional_answered == 0:
            return "not_started"
        return "done" if self.todo == 0 else "in_progress"

    @property
    def label(self) -> str:
        return {"done": "Done", "not_started": "Not started", "in_progress": "In progress"}[
            self.state]


@dataclass(frozen=True)
class Progress:
    sections: tuple[SectionProgress, ...]

    @cached_property  # a page asks several times
    def done(self) -> int:
        return sum(s.done for s in self.sections)

    @cached_property
    def total(self) -> int:
        return sum(s.done + s.todo for s in self.sections)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return all(s.todo == 0 for s in self.sections)

    def next_open(self) -> tuple[Section, Question] | None:
        """The first question still to answer, in bank order; for an assessment nobody has
        touched yet, the very first question (the company profile, though it is optional)."""
        if all(s.state == "not_started" for s in self.sections):
            first = self.sections[0]
            return first.section, first.section.questions[0]
        for s in self.sections:
            if s.first_open is not None:
                return s.section, s.first_open
        return None


def progress(bank: Bank, result: Result) -> Progress:
    """Progress of a scored set of answers (score once, use the result for both)."""
    optional = bank.optional_ids
    by_id: dict[str, Outcome] = {}  # filled only when a hidden question needs looking into
    outcomes = iter(result.outcomes)  # in bank order, section after section
    sections = []
    for section in bank.sections:
        done = todo = not_sure = optional_answered = 0
        first_open = None
        for o in itertools.islice(outcomes, len(section.questions)):
            if o.question.id in optional:
                optional_answered += o.applicable and o.answer is not None
                continue
            if o.applicable:
                if o.answer is not None:
                    done += 1
                    not_sure += o.answer.state == "not_sure"
                    continue
                todo += 1
                if first_open is None:
                    first_open = o.question
            elif o.question.show_if is not None:
                by_id = by_id or {x.question.id: x for x in result.outcomes}
                todo += _pending(o, by_id)
        sections.append(SectionProgress(section, done, todo, not_sure, optional_answered,
                                        first_open))
    return Progress(tuple(sections))


def _pending(o: Outcome, by_id: dict[str, Outcome]) -> bool:
    """Hidden only because a question its condition looks at has no answer yet."""
    return any(by_id[q].answer is None and by_id[q].applicable for q in o.question.condition_refs)
