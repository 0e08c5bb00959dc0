"""One section of questions as a page: what to show, and saving what was submitted.

Shared by the owner's wizard and the consultant's interview, so both save answers the same way:
each answer that changed is one versioned save; a value that does not fit is an error message for
that question; an answer changed elsewhere in the meantime is a conflict shown to the user, and
what the user typed stays on the page. What a submitted page means is read by section_changes.py;
this module saves it.
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
from ..core.scoring import Result
from ..storage import KEEP, Conflict, StoredAnswer, save_answer
from .answer_fields import MAX_NOTE, field_name, widget_for
from .db import get_db
from .memo import Memo
from .section_changes import SectionForm, Submitted, parse_checked, raw_of, read_form

MAX_FIGURE = 100  # characters in a figure's box: "£1,234,567.89" with room to spare


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
        # By question, not by section: a page may gather questions of several sections (the
        # promises a next assessment asks first).
        mine = {q.id for q in self.section.questions}
        applies = {o.question.id: o.applicable for o in self.result.outcomes
                   if o.question.id in mine}
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
        submitted = read_form(self.bank, [v.question for v in self.views], self.stored, form,
                              symbol=self.symbol, notes=self.notes, verify=self.verify,
                              hide_unasked=not self.interview, confirm=confirm)
        self._sign_money(submitted)
        ok = True
        for view, said in zip(self.views, submitted.questions, strict=True):
            self._show_submitted(view, said)
            if said.error:
                ok = False
            elif said.changes and not self._save_one(view, said, assessment_id, source=source,
                                                     answered_by=answered_by):
                ok = False
        return ok

    def _sign_money(self, submitted: SectionForm) -> None:
        """A currency chosen on this page signs its money figures."""
        if submitted.currency_on_page:
            self.symbol = submitted.symbol
            for view in self.views:
                if view.prefix is not None:
                    view.prefix = self.symbol

    def _show_submitted(self, view: QuestionView, said: Submitted) -> None:
        view.value = said.value
        if said.note is not None:
            view.note = said.note
        if said.note_shared is not None:
            view.note_shared = said.note_shared
        if said.verified is not None:
            view.verified = said.verified
        if said.not_kept:
            self.not_kept.append((view.question, said.not_kept))
        if said.error:
            view.error, view.readings, view.asked = said.error, said.readings, said.asked

    def _save_one(self, view: QuestionView, said: Submitted, assessment_id: str, *,
                  source: str, answered_by: int | None) -> bool:
        """One question's changes as one versioned save; False on a conflict, which the view
        then shows beside what was submitted."""
        q = view.question
        try:
            saved = save_answer(get_db(), assessment_id, q.id, base_version=said.base_version,
                                source=source, answered_by=answered_by, **said.changes)
        except Conflict as conflict:
            view.conflict = conflict.current
            view.version = conflict.current.version if conflict.current else 0
            return False
        view.version = saved.version
        if q.kind.widget == "number" and "answer" in said.changes:
            answer = said.changes["answer"]
            view.saved_as = self.saved_as(q, answer)
            if answer is not None and answer.state == "answered":
                view.value = widget_for(q).shown(answer.value)  # "600", not "£600"
            if (isinstance(said.raw, str) and view.saved_as
                    and not read_as_typed(said.raw, answer.value)):
                self.echoes.append((view.saved_as, said.raw, q.text))
        return True

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

    @property
    def errors(self) -> list[QuestionView]:
        return [v for v in self.views if v.error]

    @property
    def conflicts(self) -> list[QuestionView]:
        return [v for v in self.views if v.conflict is not None]


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
