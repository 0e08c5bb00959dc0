"""One section of questions as a page: what to show, and saving what was submitted.

Shared by the owner's wizard and the consultant's interview, so both save answers the same way:
each answer that changed is one versioned save; a value that does not fit is an error message for
that question; an answer changed elsewhere in the meantime is a conflict shown to the user, and
what the user typed stays on the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ..core.bank import Answer, AnswerError, Bank, Question, Section
from ..core.bank.types import MAX_TEXT, AmbiguousNumber, exact_number
from ..core.costs import CURRENCIES
from ..core.figures import (
    Contradiction,
    contradictions,
    currency_symbol,
    read_as_typed,
    show_figure,
    unit_words,
)
from ..core.scoring import Result, parse_answer, score
from ..storage import KEEP, Conflict, StoredAnswer, save_answer
from ..support.email_check import DOMAIN_QUESTION, DomainError, normalise_domain
from .answer_fields import MAX_NOTE, field_name, widget_for
from .db import get_db
from .memo import Memo

MAX_FIGURE = 100  # characters in a figure's box: "£1,234,567.89" with room to spare


def raw_of(answer: Answer):
    """An Answer back in the raw shape forms and files use."""
    if answer.state != "answered":
        return {"state": answer.state}
    return list(answer.value) if isinstance(answer.value, tuple) else answer.value


@dataclass(frozen=True)
class QuestionParts:
    """The HTML of a question that depends on the bank alone (the part_* macros in
    wizard/_questions.html). Rendered once per bank, question and mode, it saves a page most of
    its escaping: a page only adds the answers."""

    attributes: Markup  # of the question's element: id, data-field, data-show-if, ...
    legend: Markup
    guide: Markup  # consultant wording, hint, "Why we ask"
    choices: tuple[tuple[str, str, str], ...]  # value, safe HTML up to "checked", the rest

    def choices_html(self, chosen) -> Markup:
        """The choices, with "checked" on the chosen one (radios) or ones (checkboxes)."""
        # Joined as plain text and marked safe once: the parts are already escaped HTML, and
        # Markup's own + and join would escape-check every piece again.
        many = isinstance(chosen, list)
        return Markup("\n".join(
            f"{head} checked{tail}" if (value in chosen if many else value == chosen)
            else f"{head}{tail}" for value, head, tail in self.choices))


# By bank hash, section and mode; banks come and go over a long life, hence the bound.
_PARTS: Memo[tuple[str, str, bool], tuple[tuple[Question, bool, QuestionParts], ...]] = Memo(1000)


def section_parts(bank: Bank, section: Section,
                  interview: bool) -> tuple[tuple[Question, bool, QuestionParts], ...]:
    """Each question of the section, whether its condition looks at this same page, and its
    parts: worked out once per bank, section and mode."""
    key = (bank.hash, section.id, interview)
    found = _PARTS.get(key)
    if found is None:
        macros = current_app.jinja_env.get_template("wizard/_questions.html").module
        here = {q.id for q in section.questions}
        found = []
        for q in section.questions:
            on_page = not here.isdisjoint(q.condition_refs)
            condition = json.dumps(q.show_if.as_data()) if on_page else None
            widget, name = widget_for(q), field_name(q)
            scoring = json.dumps([c.id for c in q.choices if c.score > 0])
            kind = {"radios": "radio", "checkboxes": "checkbox"}.get(widget.template)
            found.append((q, on_page, QuestionParts(
                attributes=macros.part_attributes(q, name, widget.template, scoring, condition),
                legend=macros.part_legend(q, name, widget.template, bank.is_optional(q)),
                guide=macros.part_guide(q, name, interview),
                choices=tuple((value, str(macros.part_choice_head(name, i, value, kind)),
                               str(macros.part_choice_tail(name, i, label, interview)))
                              for i, (value, label) in enumerate(widget.choices(q)))
                if kind else (),
            )))
        found = tuple(found)
        if current_app.jinja_env.auto_reload:  # debug: template edits show on the next page
            return found
        _PARTS.keep(key, found)
    return found


@dataclass
class QuestionView:
    question: Question
    name: str
    shown: bool  # applies given the saved answers
    stored: StoredAnswer | None
    parts: QuestionParts
    value: object = None  # what the inputs show
    version: int = 0
    note: str = ""
    note_shared: bool = False  # interview: the note is shown to the client (else firm-only)
    verified: bool = False
    error: str | None = None
    conflict: StoredAnswer | None = None
    client_said: str | None = None  # interview: the client's own answer, in words
    differs: bool = False  # interview: the consultant's saved answer is another one
    # Figures: the currency sign before the box (None: not money), the unit after it, the saved
    # figure as the owner reads it, and the two readings of a figure that reads two ways.
    prefix: str | None = None
    suffix: str = ""
    saved_as: str = ""
    readings: tuple[tuple[str, str], ...] = ()
    asked: str = ""  # the ambiguous text the readings are of
    prefilled_from: str = ""  # shown from the firm's record, not saved yet: whose records
    outside_check: object = None  # email_checks.CheckNotice: what a check from outside found
    # Hand-offs (web/handoff.py): shown under the question's text, above its choices, and after
    # them (the provider's note box).
    handoff: Markup | None = None
    handoff_after: Markup | None = None

    @property
    def widget(self) -> str:
        return widget_for(self.question).template

    @property
    def max_length(self) -> int:
        """The most a box takes: a browser then never sends more than the server accepts."""
        return MAX_TEXT if self.widget == "text" else MAX_FIGURE

    @property
    def choices(self):
        return widget_for(self.question).choices(self.question)

    @property
    def conflict_label(self) -> str:
        answer = self.conflict.answer if self.conflict else None
        return self.question.describe(answer) if answer else "no answer"


@dataclass
class SectionPage:
    bank: Bank
    section: Section
    stored: dict[str, StoredAnswer]
    result: Result  # the saved answers, scored: which questions apply
    notes: bool = False
    verify: bool = False
    interview: bool = False  # the consultant's wording and number keys
    # In the interview: the client's own answers, shown beside the consultant's.
    client_answers: dict[str, StoredAnswer] = field(default_factory=dict)
    views: list[QuestionView] = field(default_factory=list)
    checks: list[Contradiction] = field(default_factory=list)  # figures that disagree

    def __post_init__(self) -> None:
        applies = {o.question.id: o.applicable for o in self.result.outcomes
                   if o.section_id == self.section.id}
        self.symbol = currency_symbol(self.bank, {qid: s.answer for qid, s in self.stored.items()
                                                  if s.answer})
        self.views = []
        # Figures saved by this page, as they were read: (as saved, as typed, the question).
        self.echoes: list[tuple[str, str, str]] = []
        # Answers to questions this page's answers hide: (question, what the page held).
        self.not_kept: list[tuple[Question, str]] = []
        for q, on_page, parts in section_parts(self.bank, self.section, self.interview):
            if not applies[q.id] and not on_page:
                continue  # decided by an earlier section's answer
            stored = self.stored.get(q.id)
            view = QuestionView(
                question=q, name=field_name(q), shown=applies[q.id], stored=stored, parts=parts,
                value=widget_for(q).shown(raw_of(stored.answer) if stored and stored.answer
                                          else None),
                version=stored.version if stored else 0,
                note=stored.note if stored else "",
                note_shared=bool(stored and stored.note_shared),
                verified=bool(stored and stored.verified))
            if q.kind.widget == "number":
                view.prefix = self.symbol if q.unit == "money" else None
                view.suffix = unit_words(q)
                view.saved_as = self.saved_as(q, stored.answer if stored else None)
            self.views.append(view)

    @property
    def currency_source(self) -> str | None:
        """The currency question, when it is on this page with money figures (the page script
        then shows the chosen currency's sign beside them as it changes)."""
        ids = {v.question.id for v in self.views}
        money = any(v.prefix is not None for v in self.views)
        return next((q.id for q in self.section.questions
                     if q.feeds == "currency" and q.id in ids and money), None)

    @property
    def currencies(self) -> dict[str, str]:
        return CURRENCIES

    def saved_as(self, q: Question, answer: Answer | None) -> str:
        """A saved figure as the owner reads it ("£9,500", "20 hours"); "" for none."""
        if answer is None or answer.state != "answered":
            return ""
        return show_figure(q, answer.value, self.symbol)

    def save(self, form: MultiDict, assessment_id: str, *, source: str,
             answered_by: int | None = None,
             confirm: bool | frozenset[str] = frozenset()) -> bool:
        """Save every changed answer in the submitted form; True when all went through. The
        views keep what was submitted, so a page shown again after a problem loses nothing.
        An answer copied from an earlier assessment is re-confirmed when it is changed, or
        when it is in `confirm` (True: every one on the page); saved unchanged, it still
        waits."""
        ok = True
        for view in self.views:  # a currency chosen on this page signs its money figures
            if view.question.feeds == "currency":
                chosen = widget_for(view.question).raw(form, view.question)
                if isinstance(chosen, str) and chosen in view.question.choice_by_id:
                    self.symbol = CURRENCIES.get(chosen, "")
                for money in self.views:
                    if money.prefix is not None:
                        money.prefix = self.symbol
        hidden = self._hidden_after(form)
        for view in self.views:
            q = view.question
            raw = widget_for(q).raw(form, q)
            view.value = widget_for(q).shown(raw)
            stored = view.stored
            changes = {}
            # Note and Verified are read first, so a problem with the answer never loses them.
            if self.notes:
                view.note = (form.get("n_" + view.name) or "").strip()
                if len(view.note) > MAX_NOTE:
                    view.error = f"Keep the note under {MAX_NOTE:,} characters."
                    ok = False
                    continue
                if view.note != (stored.note if stored else ""):
                    changes["note"] = view.note
                view.note_shared = bool(form.get("s_" + view.name))
                if view.note_shared != bool(stored and stored.note_shared):
                    changes["note_shared"] = view.note_shared
            if self.verify:
                view.verified = bool(form.get("c_" + view.name))
                if view.verified != bool(stored and stored.verified):
                    changes["verified"] = view.verified
            if q.id in hidden:
                # Not asked, given this page's answers: its answer is not kept, and saying so
                # means nothing typed into it is lost without a word.
                said = self._said(q, raw, stored)
                if said:
                    self.not_kept.append((q, said))
                view.value = widget_for(q).shown(None)
            try:
                answer = (None if stored and stored.answer else KEEP) if q.id in hidden \
                    else self._answer(q, raw, stored)
            except AmbiguousNumber as error:
                view.error = f"“{error.typed}” can be read two ways: choose the one you meant."
                view.readings = tuple((exact_number(r).replace(",", ""),
                                       show_figure(q, r, self.symbol)) for r in error.readings)
                view.asked = error.typed
                ok = False
                continue
            except AnswerError as error:
                view.error = str(error)
                ok = False
                continue
            if answer is not KEEP:
                changes["answer"] = answer
            elif stored and stored.reconfirm and stored.answer and (
                    confirm is True or q.id in confirm):
                changes["answer"] = stored.answer  # "still true": saved again, re-confirmed
            if not changes:
                continue
            try:
                base = int(form.get("v_" + view.name) or 0)
            except ValueError:
                base = -1  # unreadable: treated as stale, so nothing is overwritten blindly
            try:
                saved = save_answer(get_db(), assessment_id, q.id, base_version=base,
                                    source=source, answered_by=answered_by, **changes)
            except Conflict as conflict:
                view.conflict = conflict.current
                view.version = conflict.current.version if conflict.current else 0
                ok = False
                continue
            view.version = saved.version
            if q.kind.widget == "number" and "answer" in changes:
                saved_answer = changes["answer"]
                view.saved_as = self.saved_as(q, saved_answer)
                if saved_answer is not None and saved_answer.state == "answered":
                    view.value = widget_for(q).shown(saved_answer.value)  # "600", not "£600"
                if (isinstance(raw, str) and view.saved_as
                        and not read_as_typed(raw, saved_answer.value)):
                    self.echoes.append((view.saved_as, raw, q.text))
        return ok

    def _hidden_after(self, form: MultiDict) -> set[str]:
        """The questions of this page that its submitted answers leave unasked (a condition
        on this page's own answers), worked out as the saved answers would be scored. The
        owner's pages only: the interview keeps what the consultant records, as it was."""
        conditional = [v for v in self.views if v.question.show_if is not None]
        if not conditional or self.interview:
            return set()
        answers = {qid: s.answer for qid, s in self.stored.items() if s.answer}
        for view in self.views:
            q = view.question
            try:
                answer = self._answer(q, widget_for(q).raw(form, q), view.stored)
            except AnswerError:
                continue  # shown as a problem on the page; the saved answer stands meanwhile
            if answer is None:
                answers.pop(q.id, None)
            elif answer is not KEEP:
                answers[q.id] = answer
        applies = {o.question.id: o.applicable for o in score(self.bank, answers).outcomes}
        return {v.question.id for v in conditional if not applies.get(v.question.id, True)}

    def _said(self, q: Question, raw, stored: StoredAnswer | None) -> str:
        """What the page holds for a question, in words: what was typed or chosen, else the
        saved answer ("" for nothing)."""
        if raw is not None:
            try:
                return self._shown_answer(q, parse_answer(q, raw))
            except AnswerError:
                return f"“{raw}”" if isinstance(raw, str) else ""
        return self._shown_answer(q, stored.answer) if stored and stored.answer else ""

    def _shown_answer(self, q: Question, answer: Answer) -> str:
        if answer.state == "answered" and q.kind.widget == "number":
            return show_figure(q, answer.value, self.symbol)  # £2,100,000
        return f"“{q.describe(answer)}”"

    @staticmethod
    def _not_kept_message(items: list[tuple[Question, str]]) -> str:
        """One notice for every answer not kept: one reason, said once."""
        stop = "" if items[-1][0].text.endswith(("?", ".", "!")) else "."
        said = "; ".join(f"{shown} for “{q.text}”" for q, shown in items)
        if len(items) == 1:
            return (f"Not kept: {said}{stop} Your other answers on that page mean it is not "
                    "asked; change them and it shows again.")
        return (f"Not kept: {said}{stop} Your other answers on that page mean they are not "
                "asked; change them and they show again.")

    def notices(self) -> list[tuple[str, str]]:
        """What a save without JavaScript tells the owner on the next page, in few words, as
        (category, text): the figures read from what was typed (one line for all of them), then
        any answer not kept."""
        lines = []
        if len(self.echoes) == 1:
            shown, typed, text = self.echoes[0]
            lines.append(("success", f"Saved as {shown} (you typed “{typed}”): {text}"))
        elif self.echoes:
            lines.append(("success", "Figures saved as: " + ", ".join(
                f"{shown} (you typed “{typed}”)" for shown, typed, _ in self.echoes) + "."))
        if self.not_kept:
            lines.append(("warning", self._not_kept_message(self.not_kept)))
        return lines

    def keep_submitted(self, form: MultiDict) -> None:
        """Show what was submitted, unsaved (after an expired session or token)."""
        for view in self.views:
            view.value = widget_for(view.question).shown(widget_for(view.question).raw(
                form, view.question))
            if self.notes:
                view.note = form.get("n_" + view.name) or ""
                view.note_shared = bool(form.get("s_" + view.name))

    @staticmethod
    def _answer(q: Question, raw, stored: StoredAnswer | None):
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

    @property
    def errors(self) -> list[QuestionView]:
        return [v for v in self.views if v.error]

    @property
    def conflicts(self) -> list[QuestionView]:
        return [v for v in self.views if v.conflict is not None]


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


def figure_checks(bank: Bank, section: Section, result: Result) -> list[Contradiction]:
    """Figures that contradict each other, where one of the two is asked in this section."""
    here = {q.id for q in section.questions}
    answers = {o.question.id: o.answer for o in result.outcomes if o.answer is not None}
    return [c for c in contradictions(bank, answers)
            if not here.isdisjoint(q.id for q in c.questions)]


def autosave(bank: Bank, assessment_id: str, data: object, *, source: str,
             answered_by: int | None = None, symbol: str = "") -> tuple[dict, int]:
    """One answer saved from the page script: the JSON reply and its status. The same contract
    for the owner and the consultant: idempotent by client key, refused when stale (409 with
    the current answer), a value that does not fit is a 422 with a message, and a figure that
    reads two ways a 422 with both readings to choose from. A saved figure comes back as the
    owner reads it (`saved_as`, with the currency `symbol`) and as its box shows it (`box`)."""
    if not isinstance(data, dict) or not isinstance(data.get("question"), str):
        return {"error": "invalid", "message": "Send a question id and an answer."}, 400
    q = bank.question_by_id.get(data["question"])
    if q is None:
        return {"error": "invalid", "message": "No such question."}, 404
    base, key = data.get("base_version"), data.get("client_key")
    if not isinstance(base, int) or not isinstance(key, str) or not 8 <= len(key) <= 100:
        return {"error": "invalid", "message": "Send base_version and client_key."}, 400
    extras, problem = _extras(data, source)
    if problem:
        return {"error": "invalid", "message": problem}, 400
    try:
        # Without an "answer" (a note or a tick saved on its own) the answer stays as it is.
        answer = KEEP if "answer" not in data and extras else \
            None if data.get("answer") is None else parse_checked(q, data["answer"])
        saved = save_answer(get_db(), assessment_id, q.id, base_version=base, answer=answer,
                            client_key=f"{assessment_id}:{key}", source=source,
                            answered_by=answered_by, **extras)
    except AmbiguousNumber as error:
        return {"error": "ambiguous",
                "message": f"“{error.typed}” can be read two ways: which did you mean?",
                "asked": error.typed,
                "readings": [{"value": exact_number(r).replace(",", ""),
                              "label": show_figure(q, r, symbol)} for r in error.readings]}, 422
    except AnswerError as error:
        return {"error": "invalid", "message": str(error)}, 422
    except Conflict as conflict:
        current = conflict.current.answer if conflict.current else None
        return {"error": "conflict", "message": "This answer was changed in another window.",
                "version": conflict.current.version if conflict.current else 0,
                "answer": raw_of(current) if current else None,
                "label": q.describe(current) if current else "no answer",
                **({"note": conflict.current.note, "verified": conflict.current.verified,
                    "note_shared": conflict.current.note_shared}
                   if conflict.current and source == "consultant" else {})}, 409
    except ValueError as error:
        return {"error": "invalid", "message": str(error)}, 400
    reply = {"version": saved.version, "replayed": saved.replayed}
    if q.kind.widget == "number" and answer not in (None, KEEP) and answer.state == "answered":
        reply["saved_as"] = show_figure(q, answer.value, symbol)
        reply["box"] = widget_for(q).shown(answer.value)
    return reply, 200


def _extras(data: dict, source: str) -> tuple[dict, str | None]:
    """The interview's note, Verified tick and "show the note to the client" tick in an
    autosave, checked: (what to save, None) or ({}, what is wrong)."""
    extras = {}
    if "note" in data:
        if not isinstance(data["note"], str):
            return {}, "Send the note as text."
        extras["note"] = data["note"].strip()
        if len(extras["note"]) > MAX_NOTE:
            return {}, f"Keep the note under {MAX_NOTE:,} characters."
    for name in ("verified", "note_shared"):
        if name in data:
            if not isinstance(data[name], bool):
                return {}, f"Send {name} as true or false."
            extras[name] = data[name]
    if extras and source != "consultant" and not (source == "provider"
                                                  and set(extras) == {"note"}):
        return {}, "Notes and ticks are saved only in the consultant's interview."
    return extras, None
