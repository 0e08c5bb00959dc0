"""Where an owner stands in the questionnaire: per-section state, overall progress, next question,
and how long the rest takes.

Pure, like scoring. One count of what the owner answers, used on every page (the landing page,
the progress bar, the overview, the check-answers page): every question that applies, the
optional ones (the business profile, free text) included, since the owner answers those too. Only
the others must be answered to finish. A follow-up whose condition looks at a question not
answered yet still counts as to do, so answering a question can only ever shrink what is left: the
bar never jumps backwards as the owner goes on.

The time a question takes is measured from the bank, not guessed as a whole: reading its words
(the question, its hint and its options) at an adult's average silent reading speed, plus the
seconds it takes to give that kind of answer. Both figures are stated here, once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

from .bank import Bank, Question, Section
from .scoring import Outcome, Result, score

# Words read per minute: the average silent reading speed of adults for non-fiction in English
# (Brysbaert, "How many words do we read per minute?", 2019: 238).
READING_WORDS_PER_MINUTE = 238
# Seconds to give an answer once the question is read, by widget: a click, a few ticks, a figure
# to recall or estimate, a name to type.
ANSWER_SECONDS = {"radio": 3, "scale": 3, "checkbox": 6, "number": 15, "text": 8}
# The words of the built-in answers a question may offer ("Not sure", "Does not apply to us").
NOT_SURE_WORDS, NA_WORDS = 2, 4


def seconds_for(q: Question) -> float:
    """How long answering the question takes: reading it, then answering."""
    words = (len(q.text.split()) + len((q.hint or "").split())
             + sum(len(c.label.split()) for c in q.choices)
             + NOT_SURE_WORDS * q.not_sure + NA_WORDS * q.na)
    return 60 * words / READING_WORDS_PER_MINUTE + ANSWER_SECONDS[q.kind.widget]


def minutes_text(seconds: float) -> str:
    """"about 20 minutes": to the nearest 5 minutes from 10 on, else to the minute."""
    minutes = seconds / 60
    if minutes >= 10:
        rounded = 5 * round(minutes / 5)
    else:
        rounded = max(1, round(minutes))
    return f"about {rounded} minute{'s' if rounded != 1 else ''}"


@dataclass(frozen=True)
class SectionProgress:
    section: Section
    done: int  # questions that apply and have an answer, optional ones included
    todo: int  # questions that must be answered and are not yet (pending included)
    optional_open: int  # optional questions that apply and are not answered
    not_sure: int
    first_open: Question | None  # the first question that must be answered and is not, if any
    unanswered: tuple[Question, ...] = ()  # every one of them that applies, in order
    seconds_left: float = 0  # to answer what is not answered yet, optional questions included
    waiting: int = 0  # answers copied from an earlier assessment, not re-confirmed yet

    @property
    def total(self) -> int:
        """The questions of this section the owner answers (the one count, as above)."""
        return self.done + self.todo + self.optional_open

    @property
    def state(self) -> str:
        if self.done == 0:
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
        return sum(s.total for s in self.sections)

    @cached_property
    def left(self) -> int:
        """Questions that must still be answered before finishing."""
        return sum(s.todo for s in self.sections)

    @property
    def optional_open(self) -> int:
        return sum(s.optional_open for s in self.sections)

    @property
    def waiting(self) -> int:
        """Copied answers that wait to be re-confirmed (they count as not answered yet)."""
        return sum(s.waiting for s in self.sections)

    @property
    def unanswered(self) -> tuple[tuple[Section, Question], ...]:
        """Every question that applies and must still be answered, with its section."""
        return tuple((s.section, q) for s in self.sections for q in s.unanswered)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return self.left == 0

    @property
    def time_left(self) -> str:
        """How long the questions not answered yet take: "about 15 minutes" ("" for none)."""
        seconds = sum(s.seconds_left for s in self.sections)
        return minutes_text(seconds) if seconds else ""

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


def progress(bank: Bank, result: Result, waiting: frozenset[str] = frozenset()) -> Progress:
    """Progress of a scored set of answers (score once, use the result for both). Answers in
    `waiting` (copied from an earlier assessment, not re-confirmed) count as not answered."""
    optional = bank.optional_ids
    by_id: dict[str, Outcome] = {}  # filled only when a hidden question needs looking into
    outcomes = iter(result.outcomes)  # in bank order, section after section
    sections = []
    for section in bank.sections:
        done = todo = optional_open = not_sure = waits = 0
        seconds = 0.0
        unanswered = []
        for o in itertools.islice(outcomes, len(section.questions)):
            if o.applicable and o.answer is not None and o.question.id in waiting:
                waits += 1  # and on, counted as still to answer
            elif o.applicable and o.answer is not None:
                done += 1
                not_sure += o.answer.state == "not_sure"
                continue
            if o.applicable:
                seconds += seconds_for(o.question)
                if o.question.id in optional:
                    optional_open += 1
                else:
                    todo += 1
                    unanswered.append(o.question)
            elif o.question.show_if is not None:
                by_id = by_id or {x.question.id: x for x in result.outcomes}
                if _pending(o, by_id, optional):
                    seconds += seconds_for(o.question)
                    if o.question.id in optional:
                        optional_open += 1
                    else:
                        todo += 1
        sections.append(SectionProgress(section, done, todo, optional_open, not_sure,
                                        unanswered[0] if unanswered else None,
                                        tuple(unanswered), seconds, waits))
    return Progress(tuple(sections))


# The progress of an assessment nobody has started, by bank hash: what the landing page promises.
_UNSTARTED: dict[str, Progress] = {}


def unstarted(bank: Bank) -> Progress:
    """Progress with no answers: every question the owner may be asked, and how long they take."""
    found = _UNSTARTED.get(bank.hash)
    if found is None:
        found = progress(bank, score(bank, {}))
        if len(_UNSTARTED) < 100:  # banks come and go over a long life
            _UNSTARTED[bank.hash] = found
    return found


def _pending(o: Outcome, by_id: dict[str, Outcome], optional: frozenset[str]) -> bool:
    """Hidden only because a question its condition looks at, one that must be answered, has
    no answer yet. An optional question left empty (how the business pays for IT support)
    decides nothing: what it would bring up is not asked, and never keeps the owner from
    finishing."""
    return any(by_id[q].answer is None and by_id[q].applicable and q not in optional
               for q in o.question.condition_refs)
