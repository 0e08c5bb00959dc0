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

from ..bank import Answer, AnswerError, Bank, Question, Section
from ..scoring import Result, parse_answer
from ..storage import KEEP, Conflict, StoredAnswer, save_answer
from .answer_fields import MAX_NOTE, field_name, widget_for
from .db import get_db
from .memo import Memo


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
                legend=macros.part_legend(q, name, widget.template),
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
    verified: bool = False
    error: str | None = None
    conflict: StoredAnswer | None = None
    client_said: str | None = None  # interview: the client's own answer, in words
    differs: bool = False  # interview: the consultant's saved answer is another one

    @property
    def widget(self) -> str:
        return widget_for(self.question).template

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

    def __post_init__(self) -> None:
        applies = {o.question.id: o.applicable for o in self.result.outcomes
                   if o.section_id == self.section.id}
        self.views = []
        for q, on_page, parts in section_parts(self.bank, self.section, self.interview):
            if not applies[q.id] and not on_page:
                continue  # decided by an earlier section's answer
            stored = self.stored.get(q.id)
            self.views.append(QuestionView(
                question=q, name=field_name(q), shown=applies[q.id], stored=stored, parts=parts,
                value=widget_for(q).shown(raw_of(stored.answer) if stored and stored.answer
                                          else None),
                version=stored.version if stored else 0,
                note=stored.note if stored else "",
                verified=bool(stored and stored.verified)))

    def save(self, form: MultiDict, assessment_id: str, *, source: str,
             answered_by: int | None = None) -> bool:
        """Save every changed answer in the submitted form; True when all went through. The
        views keep what was submitted, so a page shown again after a problem loses nothing."""
        ok = True
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
            if self.verify:
                view.verified = bool(form.get("c_" + view.name))
                if view.verified != bool(stored and stored.verified):
                    changes["verified"] = view.verified
            try:
                answer = self._answer(q, raw, stored)
            except AnswerError as error:
                view.error = str(error)
                ok = False
                continue
            if answer is not KEEP:
                changes["answer"] = answer
            elif stored and stored.reconfirm and stored.answer and raw is not None:
                changes["answer"] = stored.answer  # saved again as it is: now re-confirmed
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
        return ok

    def keep_submitted(self, form: MultiDict) -> None:
        """Show what was submitted, unsaved (after an expired session or token)."""
        for view in self.views:
            view.value = widget_for(view.question).shown(widget_for(view.question).raw(
                form, view.question))
            if self.notes:
                view.note = form.get("n_" + view.name) or ""

    @staticmethod
    def _answer(q: Question, raw, stored: StoredAnswer | None):
        """The Answer to save, None to clear it, or KEEP when nothing changed."""
        if isinstance(raw, dict) and raw.get("conflicting"):
            raise AnswerError("Tick either the options that apply or the last option, not both.")
        if raw is None:
            # An emptied figure or text box clears it; an untouched choice leaves it alone.
            clearable = q.kind.widget in ("number", "text")
            return None if clearable and stored and stored.answer else KEEP
        answer = parse_answer(q, raw)
        return KEEP if stored and stored.answer == answer else answer

    @property
    def errors(self) -> list[QuestionView]:
        return [v for v in self.views if v.error]

    @property
    def conflicts(self) -> list[QuestionView]:
        return [v for v in self.views if v.conflict is not None]


def autosave(bank: Bank, assessment_id: str, data: object, *, source: str,
             answered_by: int | None = None) -> tuple[dict, int]:
    """One answer saved from the page script: the JSON reply and its status. The same contract
    for the owner and the consultant: idempotent by client key, refused when stale (409 with
    the current answer), a value that does not fit is a 422 with a message."""
    if not isinstance(data, dict) or not isinstance(data.get("question"), str):
        return {"error": "invalid", "message": "Send a question id and an answer."}, 400
    q = bank.question_by_id.get(data["question"])
    if q is None:
        return {"error": "invalid", "message": "No such question."}, 404
    base, key = data.get("base_version"), data.get("client_key")
    if not isinstance(base, int) or not isinstance(key, str) or not 8 <= len(key) <= 100:
        return {"error": "invalid", "message": "Send base_version and client_key."}, 400
    try:
        answer = None if data.get("answer") is None else parse_answer(q, data["answer"])
        saved = save_answer(get_db(), assessment_id, q.id, base_version=base, answer=answer,
                            client_key=f"{assessment_id}:{key}", source=source,
                            answered_by=answered_by)
    except AnswerError as error:
        return {"error": "invalid", "message": str(error)}, 422
    except Conflict as conflict:
        current = conflict.current.answer if conflict.current else None
        return {"error": "conflict", "message": "This answer was changed in another window.",
                "version": conflict.current.version if conflict.current else 0,
                "answer": raw_of(current) if current else None,
                "label": q.describe(current) if current else "no answer"}, 409
    except ValueError as error:
        return {"error": "invalid", "message": str(error)}, 400
    return {"version": saved.version, "replayed": saved.replayed}, 200
