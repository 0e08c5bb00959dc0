"""The check every form that takes a person's, firm's or client's name runs on it: the rule
storage keeps (support/inputs.name_problem), shown at the field while what was typed stays in it,
instead of a refusal from below that would lose the rest of the form."""

from __future__ import annotations

from wtforms.validators import StopValidation

from ..support.inputs import name_problem


class Name:
    """A WTForms validator: control, bidi and look-alike characters, and names too long, are
    refused with name_problem's message, which names the field (`what`, "the client's name")
    and says how to fix it. Empty is left to DataRequired, which says what to enter."""

    def __init__(self, what: str, *, limit: int | None = None):
        self.what = what
        self.limit = limit

    def __call__(self, form, field) -> None:
        value = field.data or ""
        if not value.strip():
            return
        limits = {"limit": self.limit} if self.limit is not None else {}
        problem = name_problem(value, what=self.what, **limits)
        if problem:
            raise StopValidation(problem)
