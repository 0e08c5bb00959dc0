"""Form widgets for questions: one entry per widget, chosen by the question type's `widget`.

A widget names its template macro, lists the options it shows, reads the raw answer back out of
submitted form data (in the same shape a JSON answers file uses: a value, a list, or
{"state": ...}), and turns a raw answer into what the page shows. Checking the value is the
question type's job (bank/types.py), so forms, autosave and answer files all agree.

Question pages are built from the bank at request time, so they read the form data directly
rather than through a WTForms class made per request; CSRF is checked for every POST by
Flask-WTF's CSRFProtect, and the fixed forms elsewhere are FlaskForm classes.
"""

from __future__ import annotations

from decimal import Decimal

from werkzeug.datastructures import MultiDict

from ..core.bank import NOT_APPLICABLE, NOT_SURE, Question

NOT_SURE_LABEL = "Not sure"
NA_LABEL = "Does not apply to us"
SPECIAL = (NOT_SURE, NOT_APPLICABLE)
MAX_NOTE = 5000


def field_name(q: Question) -> str:
    return "q_" + q.id.replace(".", "__")


def extra_choices(q: Question) -> list[tuple[str, str]]:
    return ([(NOT_SURE, NOT_SURE_LABEL)] if q.not_sure else []) + \
        ([(NOT_APPLICABLE, NA_LABEL)] if q.na else [])


class Widget:
    template = ""

    def choices(self, q: Question) -> tuple[tuple[str, str], ...]:
        return ()

    def raw(self, form: MultiDict, q: Question):
        """The raw answer in the submitted form, None when the question was left empty."""
        return None

    def shown(self, raw) -> object:
        """What the inputs show for a raw answer: a value, a list of values, or text."""
        return raw


class Radios(Widget):
    template = "radios"

    def choices(self, q):
        return _choices(q)

    def raw(self, form, q):
        value = form.get(field_name(q))
        if not value:
            return None
        return {"state": value} if value in SPECIAL else value

    def shown(self, raw):
        if raw is None:
            return None
        return raw["state"] if isinstance(raw, dict) else str(raw)


class Checkboxes(Widget):
    template = "checkboxes"

    def choices(self, q):
        return _choices(q)

    def raw(self, form, q):
        values = form.getlist(field_name(q))
        special = [v for v in values if v in SPECIAL]
        if special and len(values) > 1:
            return {"conflicting": True}
        if special:
            return {"state": special[0]}
        return values or None

    def shown(self, raw):
        if raw is None or (isinstance(raw, dict) and "state" not in raw):
            return []
        return [raw["state"]] if isinstance(raw, dict) else [str(v) for v in raw]


class NumberInput(Widget):
    """A text box (so "1,200" and "$1200" work) plus "Not sure" / N/A boxes where allowed."""

    template = "number"

    def choices(self, q):
        return tuple(extra_choices(q))

    def raw(self, form, q):
        name = field_name(q)
        for state in SPECIAL:
            if form.get(f"{name}__{state}"):
                return {"state": state}
        value = (form.get(name) or "").strip()
        meant = form.get(f"{name}__meant")
        if meant and value and value == (form.get(f"{name}__asked") or "").strip():
            # The figure read two ways, and the person chose one: the number itself.
            try:
                number = float(meant)
            except ValueError:
                return value
            return int(number) if number.is_integer() else number
        return value or None

    def shown(self, raw):
        if raw is None:
            return ""
        if isinstance(raw, dict):
            return raw  # "Not sure" / N/A: a tick, never text in the box
        if isinstance(raw, (int, float)):
            # Never 1e-05: the box must read back what it shows.
            return format(Decimal(repr(raw)), ",f")
        return str(raw)


class TextInput(Widget):
    """One line of text (the business's name)."""

    template = "text"

    def raw(self, form, q):
        value = form.get(field_name(q)) or ""
        return value if value.strip() else None

    def shown(self, raw):
        return raw or ""


def _choices(q: Question) -> tuple[tuple[str, str], ...]:
    if q.type == "scale":
        labels = {int(q.min): q.low_label, int(q.max): q.high_label}
        own = [(str(v), f"{v}" + (f" – {labels[v]}" if labels.get(v) else ""))
               for v in range(int(q.min), int(q.max) + 1)]
    else:
        own = [(c.id, c.label) for c in q.choices]
    return tuple(own + extra_choices(q))


WIDGETS: dict[str, Widget] = {
    "radio": Radios(),
    "scale": Radios(),
    "checkbox": Checkboxes(),
    "number": NumberInput(),
    "text": TextInput(),
}


def widget_for(q: Question) -> Widget:
    return WIDGETS[q.kind.widget]
