"""Form fields for questions: one entry per widget, chosen by the question type's `widget`.

A widget builds the WTForms field for a question and reads the raw answer back out of a submitted
form, in the same shape a JSON answers file uses (a value, a list, or {"state": ...}). Checking
the value is the question type's job (bank/types.py), so forms, autosave and files agree.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, Field, HiddenField, RadioField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.widgets import CheckboxInput, ListWidget

from ..bank import NOT_APPLICABLE, NOT_SURE, Question

NOT_SURE_LABEL = "Not sure"
NA_LABEL = "Does not apply to us"
MAX_NOTE = 5000


def field_name(q: Question) -> str:
    return "q_" + q.id.replace(".", "__")


def extra_choices(q: Question) -> list[tuple[str, str]]:
    return ([(NOT_SURE, NOT_SURE_LABEL)] if q.not_sure else []) + \
        ([(NOT_APPLICABLE, NA_LABEL)] if q.na else [])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Widget:
    template = ""

    def fields(self, q: Question) -> dict[str, Field]:
        return {}

    def raw(self, form: FlaskForm, q: Question):
        """The raw answer in the form, None when the question was left empty."""
        return None

    def fill(self, form: FlaskForm, q: Question, raw) -> None:
        """Put a raw answer (from storage or a failed submission) back into the form."""


class Radios(Widget):
    template = "radios"

    def choices(self, q: Question) -> list[tuple[str, str]]:
        if q.type == "scale":
            labels = {int(q.min): q.low_label, int(q.max): q.high_label}
            return [(str(v), f"{v}" + (f" – {labels[v]}" if labels.get(v) else ""))
                    for v in range(int(q.min), int(q.max) + 1)]
        return [(c.id, c.label) for c in q.choices]

    def fields(self, q):
        return {field_name(q): RadioField(q.text, choices=self.choices(q) + extra_choices(q),
                                          validate_choice=False)}

    def raw(self, form, q):
        value = form[field_name(q)].data
        if not value:
            return None
        return {"state": value} if value in (NOT_SURE, NOT_APPLICABLE) else value

    def fill(self, form, q, raw):
        form[field_name(q)].data = raw["state"] if isinstance(raw, dict) else str(raw)


class Checkboxes(Widget):
    template = "checkboxes"

    def fields(self, q):
        return {field_name(q): MultiCheckboxField(
            q.text, choices=[(c.id, c.label) for c in q.choices] + extra_choices(q),
            validate_choice=False)}

    def raw(self, form, q):
        values = form[field_name(q)].data or []
        special = [v for v in values if v in (NOT_SURE, NOT_APPLICABLE)]
        if special and len(values) > 1:
            return {"conflicting": True}
        if special:
            return {"state": special[0]}
        return values or None

    def fill(self, form, q, raw):
        form[field_name(q)].data = [raw["state"]] if isinstance(raw, dict) else list(raw)


class NumberInput(Widget):
    template = "number"

    def fields(self, q):
        fields = {field_name(q): StringField(q.text)}
        if q.not_sure:
            fields[field_name(q) + "__not_sure"] = BooleanField(NOT_SURE_LABEL)
        if q.na:
            fields[field_name(q) + "__na"] = BooleanField(NA_LABEL)
        return fields

    def raw(self, form, q):
        name = field_name(q)
        if q.not_sure and form[name + "__not_sure"].data:
            return {"state": NOT_SURE}
        if q.na and form[name + "__na"].data:
            return {"state": NOT_APPLICABLE}
        value = (form[name].data or "").strip()
        return value or None

    def fill(self, form, q, raw):
        name = field_name(q)
        if isinstance(raw, dict):
            form[name + ("__not_sure" if raw["state"] == NOT_SURE else "__na")].data = True
        else:
            form[name].data = f"{raw:,}" if isinstance(raw, (int, float)) else str(raw)


class TextArea(Widget):
    template = "text"

    def fields(self, q):
        return {field_name(q): TextAreaField(q.text)}

    def raw(self, form, q):
        value = form[field_name(q)].data or ""
        return value if value.strip() else None

    def fill(self, form, q, raw):
        form[field_name(q)].data = raw


WIDGETS: dict[str, Widget] = {
    "radio": Radios(),
    "scale": Radios(),
    "checkbox": Checkboxes(),
    "number": NumberInput(),
    "text": TextArea(),
}


def widget_for(q: Question) -> Widget:
    return WIDGETS[q.kind.widget]


def section_form(questions: list[Question], *, notes: bool = False, verify: bool = False):
    """A FlaskForm class with the fields of these questions, their base versions, and in the
    consultant's interview a note and a "verified" box per question."""
    attrs: dict[str, Field] = {}
    for q in questions:
        attrs.update(widget_for(q).fields(q))
        attrs["v_" + field_name(q)] = HiddenField(default="0")
        if notes:
            attrs["n_" + field_name(q)] = TextAreaField("Note")
        if verify:
            attrs["c_" + field_name(q)] = BooleanField("Verified")
    return type("SectionForm", (FlaskForm,), attrs)
