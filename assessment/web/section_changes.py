"""What a submitted section page means, before anything is saved: for each question on it, the
answer, note and ticks that change, what its inputs show again, and any problem with what was
typed. No database and no request: section_page.py saves what this reads.

A question's note and ticks are read before its answer, so a problem with the answer never
loses them; a question that this page's own answers leave unasked keeps no answer, and what was
typed into it is said (`not_kept`) rather than lost without a word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from ..core.bank import Answer, AnswerError, Bank, Question
from ..core.bank.types import AmbiguousNumber, exact_number
from ..core.costs import CURRENCIES
from ..core.figures import show_figure
from ..core.scoring import parse_answer, score
from ..storage import KEEP, StoredAnswer
from ..support.email_check import DOMAIN_QUESTION, DomainError, normalise_domain
from .answer_fields import MAX_NOTE, field_name, widget_for


def raw_of(answer: Answer):
    """An Answer back in the raw shape forms and files use."""
    if answer.state != "answered":
        return {"state": answer.state}
    return list(answer.value) if isinstance(answer.value, tuple) else answer.value


def parse_checked(q: Question, raw) -> Answer:
    """parse_answer, and for the email domain, a domain: refused with a message otherwise.
    What was typed is kept as typed (trimmed); the check looks up its normalised form."""
    answer = parse_answer(q, raw)
    if q.id == DOMAIN_QUESTION and answer.state == "answered":
        try:
            normalise_domain(str(answer.value))
        except DomainError as error:
            raise AnswerError(str(error)) from None
    return answer


def answer_to_save(q: Question, raw, stored: StoredAnswer | None):
    """The Answer to save, None to clear it, or KEEP when nothing changed."""
    if isinstance(raw, dict) and raw.get("conflicting"):
        raise AnswerError("Tick either the options that apply or the last option, not both.")
    if raw is None:
        # An emptied figure or text box clears it; an untouched choice leaves it alone.
        clearable = q.kind.widget in ("number", "text")
        return None if clearable and stored and stored.answer else KEEP
    if (isinstance(raw, str) and stored and stored.answer and q.kind.widget == "number"
            and raw == widget_for(q).shown(raw_of(stored.answer))):
        return KEEP  # the figure as the page showed it, which may read two ways ("1.250")
    answer = parse_checked(q, raw)
    return KEEP if stored and stored.answer == answer else answer


@dataclass
class Submitted:
    """What the form says for one question. `changes` are the fields to save (answer, note,
    note_shared, verified), empty when nothing changed or `error` says why nothing can be."""

    question: Question
    raw: object  # as the form sent it, in the shape answer files use
    value: object  # what the question's inputs show again
    # None: not read (a page without note boxes or Verified ticks, or after a note too long)
    note: str | None = None
    note_shared: bool | None = None
    verified: bool | None = None
    error: str | None = None
    readings: tuple[tuple[str, str], ...] = ()  # a figure that reads two ways: (value, label)
    asked: str = ""  # the text the readings are of
    not_kept: str = ""  # in words, what the page held for a question its answers leave unasked
    changes: dict[str, object] = field(default_factory=dict)
    base_version: int = 0  # the version the page was showing


@dataclass
class SectionForm:
    """A submitted section page: each of its questions, in the page's order."""

    symbol: str  # the currency sign of money figures, after a currency chosen on this page
    currency_on_page: bool
    questions: list[Submitted]


def read_form(bank: Bank, questions: Sequence[Question], stored: Mapping[str, StoredAnswer],
              form: MultiDict, *, symbol: str = "", notes: bool = False, verify: bool = False,
              hide_unasked: bool = True,
              confirm: bool | frozenset[str] = frozenset()) -> SectionForm:
    """The page's `questions` as submitted in `form`, against the `stored` answers of whoever
    is saving. `notes` and `verify`: the page has note boxes and Verified ticks (the
    interview). `hide_unasked`: a question this page's own answers leave unasked keeps no
    answer (the owner's pages). An answer copied from an earlier assessment is saved again,
    re-confirmed, when it is in `confirm` (True: every one on the page)."""
    currency = [q for q in questions if q.feeds == "currency"]
    for q in currency:
        chosen = widget_for(q).raw(form, q)
        if isinstance(chosen, str) and chosen in q.choice_by_id:
            symbol = CURRENCIES.get(chosen, "")
    hidden = unasked_after(bank, questions, stored, form) if hide_unasked else set()
    return SectionForm(symbol=symbol, currency_on_page=bool(currency), questions=[
        _read_question(q, stored.get(q.id), form, symbol=symbol, notes=notes, verify=verify,
                       hidden=q.id in hidden, confirm=confirm)
        for q in questions])


def _read_question(q: Question, stored: StoredAnswer | None, form: MultiDict, *, symbol: str,
                   notes: bool, verify: bool, hidden: bool,
                   confirm: bool | frozenset[str]) -> Submitted:
    name = field_name(q)
    raw = widget_for(q).raw(form, q)
    said = Submitted(question=q, raw=raw, value=widget_for(q).shown(raw))
    if notes:
        _read_note(said, stored, form, name)
        if said.error:
            return said
    if verify:
        said.verified = bool(form.get("c_" + name))
        if said.verified != bool(stored and stored.verified):
            said.changes["verified"] = said.verified
    answer = _read_answer(said, stored, symbol=symbol, hidden=hidden)
    if said.error:
        said.changes.clear()  # nothing of this question is saved until its answer reads
        return said
    if answer is not KEEP:
        said.changes["answer"] = answer
    elif stored and stored.reconfirm and stored.answer and (confirm is True or q.id in confirm):
        said.changes["answer"] = stored.answer  # "still true": saved again, re-confirmed
    try:
        said.base_version = int(form.get("v_" + name) or 0)
    except ValueError:
        said.base_version = -1  # unreadable: treated as stale, so nothing is overwritten blindly
    return said


def _read_note(said: Submitted, stored: StoredAnswer | None, form: MultiDict, name: str) -> None:
    said.note = (form.get("n_" + name) or "").strip()
    if len(said.note) > MAX_NOTE:
        said.error = f"Keep the note under {MAX_NOTE:,} characters."
        return
    if said.note != (stored.note if stored else ""):
        said.changes["note"] = said.note
    said.note_shared = bool(form.get("s_" + name))
    if said.note_shared != bool(stored and stored.note_shared):
        said.changes["note_shared"] = said.note_shared


def _read_answer(said: Submitted, stored: StoredAnswer | None, *, symbol: str, hidden: bool):
    """The answer to save, None to clear it, or KEEP; a problem with what was typed is put in
    `said.error` (with both readings of a figure that reads two ways)."""
    q, raw = said.question, said.raw
    if hidden:
        said.not_kept = _in_words(q, raw, stored, symbol)
        said.value = widget_for(q).shown(None)
        return None if stored and stored.answer else KEEP
    try:
        return answer_to_save(q, raw, stored)
    except AmbiguousNumber as error:
        said.error = f"“{error.typed}” can be read two ways: choose the one you meant."
        said.readings = tuple((exact_number(r).replace(",", ""), show_figure(q, r, symbol))
                              for r in error.readings)
        said.asked = error.typed
    except AnswerError as error:
        said.error = str(error)
    return KEEP


def unasked_after(bank: Bank, questions: Sequence[Question], stored: Mapping[str, StoredAnswer],
                  form: MultiDict) -> set[str]:
    """The questions of this page that its submitted answers leave unasked (a condition on this
    page's own answers), worked out as the saved answers would be scored."""
    conditional = [q for q in questions if q.show_if is not None]
    if not conditional:
        return set()
    answers = {qid: s.answer for qid, s in stored.items() if s.answer}
    for q in questions:
        try:
            answer = answer_to_save(q, widget_for(q).raw(form, q), stored.get(q.id))
        except AnswerError:
            continue  # shown as a problem on the page; the saved answer stands meanwhile
        if answer is None:
            answers.pop(q.id, None)
        elif answer is not KEEP:
            answers[q.id] = answer
    applies = {o.question.id: o.applicable for o in score(bank, answers).outcomes}
    return {q.id for q in conditional if not applies.get(q.id, True)}


def _in_words(q: Question, raw, stored: StoredAnswer | None, symbol: str) -> str:
    """What the page holds for a question, in words: what was typed or chosen, else the saved
    answer ("" for nothing)."""
    if raw is not None:
        try:
            return _shown_answer(q, parse_answer(q, raw), symbol)
        except AnswerError:
            return f"“{raw}”" if isinstance(raw, str) else ""
    return _shown_answer(q, stored.answer, symbol) if stored and stored.answer else ""


def _shown_answer(q: Question, answer: Answer, symbol: str) -> str:
    if answer.state == "answered" and q.kind.widget == "number":
        return show_figure(q, answer.value, symbol)  # £2,100,000
    return f"“{q.describe(answer)}”"
