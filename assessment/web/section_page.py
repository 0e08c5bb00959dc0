"""One section of questions as a page: what to show, the form, and saving what was submitted.

Shared by the owner's wizard and the consultant's interview, so both save answers the same way:
each answer that changed is one versioned save; a value that does not fit is an error message for
that question; an answer changed elsewhere in the meantime is a conflict shown to the user.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask_wtf import FlaskForm

from ..bank import Answer, AnswerError, Bank, Question, Section
from ..scoring import outcomes, parse_answer
from ..storage import KEEP, Conflict, StoredAnswer, save_answer
from .answer_fields import MAX_NOTE, field_name, section_form, widget_for
from .db import get_db


def raw_of(answer: Answer):
    """An Answer back in the raw shape forms and files use."""
    if answer.state != "answered":
        return {"state": answer.state}
    return list(answer.value) if isinstance(answer.value, tuple) else answer.value


@dataclass
class QuestionView:
    question: Question
    name: str
    shown: bool  # applies given the saved answers
    condition: str | None  # JSON for the page script when it depends on this page's answers
    stored: StoredAnswer | None
    error: str | None = None
    conflict: StoredAnswer | None = None

    @property
    def conflict_label(self) -> str:
        answer = self.conflict.answer if self.conflict else None
        return self.question.describe(answer) if answer else "no answer"

    @property
    def widget(self) -> str:
        return widget_for(self.question).template


@dataclass
class SectionPage:
    bank: Bank
    section: Section
    stored: dict[str, StoredAnswer]
    notes: bool = False
    verify: bool = False
    views: list[QuestionView] = field(default_factory=list)

    def __post_init__(self) -> None:
        answers = {qid: s.answer for qid, s in self.stored.items() if s.answer}
        applies = {o.question.id: o.applicable for o in outcomes(self.bank, answers)}
        here = {q.id for q in self.section.questions}
        self.views = []
        for q in self.section.questions:
            refs = {c.q for _, c in q.show_if.comparisons()} if q.show_if else set()
            on_page = bool(refs & here)
            if not applies[q.id] and not on_page:
                continue  # decided by an earlier section's answer
            self.views.append(QuestionView(
                question=q, name=field_name(q), shown=applies[q.id],
                condition=json.dumps(q.show_if.as_data()) if on_page else None,
                stored=self.stored.get(q.id)))
        self.form_class = section_form([v.question for v in self.views], notes=self.notes,
                                       verify=self.verify)

    def blank_form(self) -> FlaskForm:
        """The form filled from what is saved (for a GET)."""
        form = self.form_class(formdata=None)
        for view in self.views:
            self._fill_saved(form, view)
        return form

    def _fill_saved(self, form: FlaskForm, view: QuestionView) -> None:
        stored = view.stored
        form["v_" + view.name].data = str(stored.version if stored else 0)
        if stored and stored.answer:
            widget_for(view.question).fill(form, view.question, raw_of(stored.answer))
        if self.notes:
            form["n_" + view.name].data = stored.note if stored else ""
        if self.verify:
            form["c_" + view.name].data = bool(stored and stored.verified)

    def save(self, form: FlaskForm, assessment_id: str, *, source: str,
             answered_by: int | None = None) -> bool:
        """Save every changed answer in the submitted form; True when all went through."""
        ok = True
        for view in self.views:
            q = view.question
            raw = widget_for(q).raw(form, q)
            stored = view.stored
            try:
                answer = self._answer(q, raw, stored)
            except AnswerError as error:
                view.error = str(error)
                ok = False
                continue
            changes = {}
            if answer is not KEEP:
                changes["answer"] = answer
            if self.notes:
                note = (form["n_" + view.name].data or "").strip()
                if len(note) > MAX_NOTE:
                    view.error = f"Keep the note under {MAX_NOTE:,} characters."
                    ok = False
                    continue
                if note != (stored.note if stored else ""):
                    changes["note"] = note
            if self.verify and bool(form["c_" + view.name].data) != bool(stored and
                                                                            stored.verified):
                changes["verified"] = bool(form["c_" + view.name].data)
            if not changes:
                continue
            try:
                base = int(form["v_" + view.name].data or 0)
            except ValueError:
                base = -1  # unreadable: treated as stale, so nothing is overwritten blindly
            try:
                saved = save_answer(get_db(), assessment_id, q.id, base_version=base,
                                    source=source, answered_by=answered_by, **changes)
            except Conflict as conflict:
                view.conflict = conflict.current
                form["v_" + view.name].data = str(conflict.current.version if conflict.current
                                                  else 0)
                ok = False
                continue
            form["v_" + view.name].data = str(saved.version)
        return ok

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
