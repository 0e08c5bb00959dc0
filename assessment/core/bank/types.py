"""Question types: one registry entry per type, holding everything that differs between types.

A type knows how to check a question's definition, parse a raw answer (from a form or a JSON
file), name the tokens an answer matches (for critical rules, recommendations and conditions),
and score it. The web layer picks a form widget by `widget`. A new type is one new entry here.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from decimal import Decimal
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from .answer import AnswerError, Value


# What a type reads of a question, its choices and its bands. models.Question has all of it; the
# types are described by what they need rather than by the model, which itself looks its type up
# here (Question.kind), so the two modules do not import each other.
class ChoiceLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def score(self) -> float: ...


class BandLike(ChoiceLike, Protocol):
    @property
    def up_to(self) -> float | None: ...


class QuestionLike(Protocol):
    @property
    def choices(self) -> Sequence[ChoiceLike]: ...
    @property
    def choice_by_id(self) -> Mapping[str, ChoiceLike]: ...
    @property
    def best_choice_score(self) -> float: ...
    @property
    def bands(self) -> Sequence[BandLike]: ...
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...
    @property
    def max_score(self) -> float | None: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def feeds(self) -> str | None: ...
    @property
    def low_label(self) -> str | None: ...
    @property
    def high_label(self) -> str | None: ...
    @property
    def scored(self) -> bool: ...


Problems = list[tuple[str, str]]  # (key path inside the question, message)

CHOICE_OPERATORS = frozenset({"equals", "not_equals", "in", "not_in", "answered"})
NUMBER_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "answered"})
MAX_TEXT = 5000
MISSING = "missing_"


class QuestionType(ABC):
    name = ""
    widget = ""
    operators: frozenset[str] = frozenset({"answered"})
    can_score = True  # False: the question must have weight 0

    def check(self, q: QuestionLike) -> Problems:
        return []

    def tokens(self, q: QuestionLike) -> tuple[str, ...]:
        """Every token a rule may name for this question."""
        return ()

    def answer_tokens(self, q: QuestionLike, value: Value) -> frozenset[str]:
        return frozenset()

    @abstractmethod
    def parse(self, q: QuestionLike, raw: Any) -> Value:
        """The normalised value of a raw answer, or AnswerError saying how to fix it."""

    def points(self, q: QuestionLike, value: Value) -> float:
        """Share of the question's available points this answer earns, from 0 to 1."""
        return 0.0

    def display(self, q: QuestionLike, value: Value) -> str:
        return str(value)


class SingleChoice(QuestionType):
    name = "single"
    widget = "radio"
    operators = CHOICE_OPERATORS

    def check(self, q: QuestionLike) -> Problems:
        problems: Problems = []
        if len(q.choices) < 2:
            problems.append(("choices", "a choice question needs at least two choices "
                                        "(or a 'choice_set')"))
        if q.scored and q.choices and max(c.score for c in q.choices) <= 0:
            problems.append(("choices", "a scored question needs at least one choice with a "
                                        "score above 0"))
        return problems

    def tokens(self, q: QuestionLike) -> tuple[str, ...]:
        return tuple(c.id for c in q.choices)

    def answer_tokens(self, q: QuestionLike, value: Value) -> frozenset[str]:
        return frozenset({value}) if isinstance(value, str) else frozenset()

    def parse(self, q: QuestionLike, raw: Any) -> Value:
        if isinstance(raw, list) and len(raw) == 1:
            raw = raw[0]
        if not isinstance(raw, str) or raw not in q.choice_by_id:
            raise AnswerError("Choose one of the options.")
        return raw

    def points(self, q: QuestionLike, value: Value) -> float:
        best = q.best_choice_score
        return q.choice_by_id[cast(str, value)].score / best if best else 0.0

    def display(self, q: QuestionLike, value: Value) -> str:
        return q.choice_by_id[cast(str, value)].label


class YesNo(SingleChoice):
    """Yes or No; the loader fills in the two choices, `best: no` when No is the good answer."""

    name = "yesno"


class MultipleChoice(QuestionType):
    name = "multi"
    widget = "checkbox"
    operators = frozenset({"includes", "excludes", "answered"})

    def check(self, q: QuestionLike) -> Problems:
        problems: Problems = []
        if len(q.choices) < 2:
            problems.append(("choices", "a multiple-choice question needs at least two choices"))
        if q.scored and sum(c.score for c in q.choices) <= 0:
            problems.append(("choices", "a scored question needs choices that score above 0"))
        return problems

    # A ticked choice is the token of its id; a scoring choice left unticked is 'missing_<id>',
    # so a rule can say what to do about what is missing.
    def tokens(self, q: QuestionLike) -> tuple[str, ...]:
        return tuple(c.id for c in q.choices) + tuple(
            MISSING + c.id for c in q.choices if c.score > 0)

    def answer_tokens(self, q: QuestionLike, value: Value) -> frozenset[str]:
        if not isinstance(value, tuple):
            return frozenset()
        return frozenset(value) | {MISSING + c.id for c in q.choices
                                   if c.score > 0 and c.id not in value}

    def parse(self, q: QuestionLike, raw: Any) -> Value:
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, (list, tuple)) or not items:
            raise AnswerError("Tick at least one option (or the option that says none apply).")
        if any(not isinstance(item, str) or item not in q.choice_by_id for item in items):
            raise AnswerError("Tick only the options shown.")
        chosen = set(items)
        return tuple(c.id for c in q.choices if c.id in chosen)

    def available(self, q: QuestionLike) -> float:
        return q.max_score or sum(c.score for c in q.choices)

    def points(self, q: QuestionLike, value: Value) -> float:
        earned = sum(q.choice_by_id[item].score for item in cast(tuple[str, ...], value))
        return min(earned, self.available(q)) / self.available(q)

    def display(self, q: QuestionLike, value: Value) -> str:
        return "; ".join(q.choice_by_id[item].label for item in cast(tuple[str, ...], value))


def format_number(value: float) -> str:
    """1234567 -> '1,234,567'; 2.5 -> '2.5' (never scientific notation)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def exact_number(value: float) -> str:
    """Every digit of a number, grouped in thousands: 1234.567 -> '1,234.567' (never 1e-05)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return format(Decimal(repr(value)), ",f")


class AmbiguousNumber(AnswerError):
    """A figure that reads as two different numbers ("9.500": nine and a half, or nine thousand
    five hundred); `readings` holds both, the larger first, for the person to choose from."""

    def __init__(self, typed: str, readings: tuple[float, ...]):
        self.typed, self.readings = typed, readings
        shown = " or ".join(exact_number(r) for r in readings)
        plain = " or ".join(exact_number(r).replace(",", "") for r in readings)
        super().__init__(f"“{typed}” can be read two ways: {shown}. Say which you meant (in a "
                         f"file, give the number without quotes: {plain}).")


# How figures may be typed (docs/bank-format.md, "Numbers"). Currency signs and codes around the
# number, and a percent sign after it, are dropped. Spaces, apostrophes and underscores group
# thousands. Of "." and ",": when both occur, the last one is the decimal mark and the other
# groups thousands; one of them several times groups thousands; once, it is the decimal mark
# unless exactly three digits follow a number that is not 0. Then "," groups thousands (9,500 is
# nine thousand five hundred, as this English form writes it) and "." is ambiguous (9.500 is 9.5
# in English and 9500 in much of Europe): the reading the question cannot take (a fraction of a
# person, 37500 hours a week) is dropped, and if both remain the person is asked.
_CURRENCY = r"(?:[$£€¥]|us\$|ca?\$|a\$|nz\$|usd|gbp|eur|cad|aud|nzd)"
_AROUND = re.compile(rf"^{_CURRENCY}?\s*(?P<sign>[-−]?)\s*{_CURRENCY}?\s*(?P<body>.*?)\s*"
                     rf"(?:%|{_CURRENCY})?$", re.IGNORECASE | re.DOTALL)
_BODY = re.compile(r"[0-9][0-9.,' ’_\u00a0\u202f\u2009]*|[.,][0-9]+")
_GAPS = frozenset(" '’_\u00a0\u202f\u2009")


def _grouped(digits: str, marks: str) -> str | None:
    """The digits of a whole number grouped by thousands with these marks, or None when the
    groups are not thousands (one to three digits, then groups of exactly three)."""
    groups = re.split("[" + re.escape(marks) + "]", digits) if marks else [digits]
    if not re.fullmatch(r"[0-9]{1,3}" if len(groups) > 1 else r"[0-9]+", groups[0]):
        return None
    if any(not re.fullmatch(r"[0-9]{3}", g) for g in groups[1:]):
        return None
    return "".join(groups)


def read_number(text: str) -> tuple[float, ...]:
    """The numbers a typed figure can mean: one, or two when it is ambiguous; () when it is not a
    number at all. Currency and percent signs are allowed around it."""
    found = _AROUND.match(text.strip())
    if found is None or not _BODY.fullmatch(found["body"]):
        return ()
    body = found["body"]
    sign = -1 if found["sign"] else 1
    gaps = "".join(sorted({c for c in body if c in _GAPS}))
    dots, commas = body.count("."), body.count(",")

    def whole_and_fraction(decimal: str | None, grouping: str) -> float | None:
        whole, _, fraction = body.rpartition(decimal) if decimal else (body, "", "")
        if decimal and not re.fullmatch(r"[0-9]+", fraction):
            return None
        digits = _grouped(whole, grouping) if whole else "0"
        if digits is None or (not whole and not decimal):
            return None
        return sign * float(f"{digits}.{fraction}" if decimal else digits)

    if dots and commas:
        decimal = "." if body.rfind(".") > body.rfind(",") else ","
        if body.count(decimal) > 1 or gaps:
            return ()
        readings = [whole_and_fraction(decimal, "," if decimal == "." else ".")]
    elif dots + commas == 0:
        readings = [whole_and_fraction(None, gaps)]
    elif dots > 1 or commas > 1:
        readings = [] if gaps else [whole_and_fraction(None, "." if dots else ",")]
    else:
        mark = "." if dots else ","
        whole, _, fraction = body.partition(mark)
        if gaps or len(fraction) != 3 or whole.lstrip("0") == "":
            readings = [whole_and_fraction(mark, gaps)]
        elif mark == ",":
            readings = [whole_and_fraction(None, ",")]
        else:
            readings = [whole_and_fraction(None, "."), whole_and_fraction(".", "")]
    return tuple(r for r in readings if r is not None and math.isfinite(r))


def parse_number(q: QuestionLike, raw: Any) -> float:
    """Accept what people type ('9,500', '£9 500', '9.500,00', '12,5') or a JSON number; a
    figure that reads two ways is AmbiguousNumber, with both readings."""
    low = q.min if q.min is not None else 0
    high = q.max if q.max is not None else 1e12
    example = "14" if high <= 1000 else "9500 or 9,500"
    wrong = f"Enter a number using digits, like {example}."
    out_of_range = f"Enter a number from {format_number(low)} to {format_number(high)}."
    if isinstance(raw, bool):
        raw = None
    readings: tuple[float, ...]
    if isinstance(raw, (int, float)):
        try:
            readings = (float(raw),)
        except OverflowError:  # a JSON integer with hundreds of digits
            raise AnswerError(out_of_range) from None
        if not math.isfinite(readings[0]):
            raise AnswerError(wrong)
    elif isinstance(raw, str) and raw.strip():
        readings = read_number(raw)
        if not readings:
            raise AnswerError(wrong)
    else:
        raise AnswerError(wrong)
    fitting = [r for r in readings if low <= r <= high]
    if len(fitting) > 1 and q.unit == "count":  # a count is whole: 1.200 people are 1200
        fitting = [r for r in fitting if r.is_integer()] or fitting
    if not fitting:
        raise AnswerError(out_of_range)
    if len(fitting) > 1:
        raise AmbiguousNumber(raw.strip(), tuple(int(r) if r.is_integer() else r
                                                 for r in fitting[:2]))
    number = fitting[0]
    return int(number) if number.is_integer() else number


class Number(QuestionType):
    """A number; scored by `bands` (ranges with a score each) when it has them."""

    name = "number"
    widget = "number"
    operators = NUMBER_OPERATORS | CHOICE_OPERATORS

    def check(self, q: QuestionLike) -> Problems:
        problems: Problems = []
        if q.scored and not q.bands:
            problems.append(("bands", "a scored number question needs bands to score against"))
        for i, band in enumerate(q.bands[:-1]):
            if band.up_to is None:
                problems.append((f"bands[{i}].up_to", "only the last band may leave out 'up_to'"))
        uppers = [b.up_to for b in q.bands if b.up_to is not None]
        if uppers != sorted(uppers) or len(set(uppers)) != len(uppers):
            problems.append(("bands", "bands must be in increasing order of 'up_to'"))
        if q.bands and q.bands[-1].up_to is not None:
            problems.append((f"bands[{len(q.bands) - 1}].up_to",
                             "the last band must leave out 'up_to' so every number has a band"))
        return problems

    def tokens(self, q: QuestionLike) -> tuple[str, ...]:
        return tuple(b.id for b in q.bands)

    def band(self, q: QuestionLike, value: Value) -> BandLike | None:
        for band in q.bands:
            if band.up_to is None or cast(float, value) <= band.up_to:
                return band
        return None

    def answer_tokens(self, q: QuestionLike, value: Value) -> frozenset[str]:
        band = self.band(q, value)
        return frozenset({band.id}) if band else frozenset()

    def parse(self, q: QuestionLike, raw: Any) -> Value:
        return parse_number(q, raw)

    def points(self, q: QuestionLike, value: Value) -> float:
        best = max(b.score for b in q.bands)
        band = self.band(q, value)  # the last band has no upper end: there always is one
        return cast(BandLike, band).score / best if best else 0.0

    def display(self, q: QuestionLike, value: Value) -> str:
        return format_number(cast(float, value))


def _ends(q: QuestionLike) -> tuple[float, float]:
    """A scale's min and max, which a loaded bank always has (Scale.check)."""
    assert q.min is not None and q.max is not None, "a scale without its ends"  # noqa: S101
    return q.min, q.max


class Scale(QuestionType):
    """A whole number from `min` to `max` (at most 11 steps), scored in proportion."""

    name = "scale"
    widget = "scale"
    operators = NUMBER_OPERATORS | CHOICE_OPERATORS

    def check(self, q: QuestionLike) -> Problems:
        if q.min is None or q.max is None:
            return [("min", "a scale needs 'min' and 'max'")]
        if not (float(q.min).is_integer() and float(q.max).is_integer()) or not (
            1 <= q.max - q.min <= 10
        ):
            return [("max", "a scale runs between whole numbers, 2 to 11 steps")]
        return []

    def tokens(self, q: QuestionLike) -> tuple[str, ...]:
        if q.min is None or q.max is None:
            return ()
        return tuple(str(v) for v in range(int(q.min), int(q.max) + 1))

    def answer_tokens(self, q: QuestionLike, value: Value) -> frozenset[str]:
        return frozenset({str(value)})

    def parse(self, q: QuestionLike, raw: Any) -> Value:
        # "3" and "3.0" are 3, as the number 3.0 is; not "²" or "--3" (isdigit() says yes,
        # int() says no), and "3.5" is no point of the scale.
        if isinstance(raw, str) and re.fullmatch(r"-?\d{1,9}(?:\.0+)?", raw.strip()):
            raw = int(raw.strip().partition(".")[0])
        low, high = _ends(q)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw not in range(
            int(low), int(high) + 1
        ):
            raise AnswerError(f"Pick a whole number from {low:g} to {high:g}.")
        return int(raw)

    def points(self, q: QuestionLike, value: Value) -> float:
        low, high = _ends(q)
        return (cast(float, value) - low) / (high - low)

    def display(self, q: QuestionLike, value: Value) -> str:
        """A point on the scale with what its ends mean, so a bare "2" is never printed:
        "2 of 5 (1 is “Not at all”, 5 is “Very well”)", "5 of 5 (Very well)"."""
        low, high = (int(end) for end in _ends(q))
        point = f"{value} of {high}" if low == 1 else f"{value} on a scale of {low} to {high}"
        if value == low and q.low_label:
            return f"{point} ({q.low_label})"
        if value == high and q.high_label:
            return f"{point} ({q.high_label})"
        ends = [f"{end} is “{label}”" for end, label in ((low, q.low_label), (high, q.high_label))
                if label]
        return f"{point} ({', '.join(ends)})" if ends else point


class FreeText(QuestionType):
    name = "text"
    widget = "text"
    can_score = False

    def parse(self, q: QuestionLike, raw: Any) -> Value:
        if not isinstance(raw, str) or not raw.strip():
            raise AnswerError("Type an answer, or leave the question out.")
        if len(raw) > MAX_TEXT:
            raise AnswerError(f"Keep the answer under {MAX_TEXT:,} characters.")
        return raw.strip()


class ProfileFigure(Number):
    """A figure about the business (staff, costs, hours) that feeds the cost model, unscored."""

    name = "profile"
    widget = "number"
    operators = NUMBER_OPERATORS
    can_score = False

    def check(self, q: QuestionLike) -> Problems:
        problems: Problems = []
        if not q.feeds:
            problems.append(("feeds", "a profile figure must name the cost-model input it feeds"))
        if not q.unit:
            problems.append(("unit", "a profile figure needs a unit (count, money, hours, "
                                     "days or percent)"))
        return problems

    def tokens(self, q: QuestionLike) -> tuple[str, ...]:
        return ()

    def answer_tokens(self, q: QuestionLike, value: Value) -> frozenset[str]:
        return frozenset()


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t
    for t in (SingleChoice(), YesNo(), MultipleChoice(), Number(), Scale(), FreeText(),
              ProfileFigure())
}
