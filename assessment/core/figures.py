"""Figures as an owner reads them: money in their currency, hours and people with their units,
and figures that contradict each other. Pure: no Flask, no storage.

The wizard shows every figure this way (beside its box, in "Saved as ...", on the check-answers
page), so what was saved is what the owner recognises as what they meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .bank import Answer, Bank, Question
from .bank.types import _AROUND, _GAPS, exact_number
from .costs import CURRENCIES, HOURS_PER_YEAR_FACTOR

# A unit's words when the question gives none (its `unit_label`), and their singular.
UNIT_WORDS = {"hours": "hours", "days": "days"}
SINGULAR = {"people": "person", "hours": "hour", "days": "day"}


def currency_symbol(bank: Bank, answers: Mapping[str, Answer]) -> str:
    """The symbol of the currency the owner chose ("" when none, or another currency)."""
    for q in bank.questions:
        if q.feeds == "currency":
            answer = answers.get(q.id)
            if answer is not None and answer.state == "answered":
                return CURRENCIES.get(answer.value, "") if isinstance(answer.value, str) else ""
    return ""


def unit_words(q: Question) -> str:
    """What follows a figure's box: "people", "hours a week", "days" ("" for money, counts
    without a label, percentages)."""
    if q.unit == "money":
        return ""
    if q.unit == "percent":
        return "%"
    return q.unit_label or UNIT_WORDS.get(q.unit or "", "")


def show_figure(q: Question, value: float, symbol: str = "") -> str:
    """A figure the way the owner reads it: "£9,500", "£12.50", "20 hours", "1 hour",
    "45 hours a week", "14 people", "12%"."""
    if q.unit == "money":
        amount = f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"
        return f"-{symbol}{amount[1:]}" if amount.startswith("-") else f"{symbol}{amount}"
    number = exact_number(value)
    words = unit_words(q)
    if words == "%":
        return f"{number}%"
    if not words:
        return number
    if value == 1:
        first, _, rest = words.partition(" ")
        words = " ".join(filter(None, (SINGULAR.get(first, first), rest)))
    return f"{number} {words}"


def read_as_typed(typed: str, value: float) -> bool:
    """Whether a figure was typed the way it is saved, so saying how it was read adds nothing:
    "600", "£600", "9,500" and "9 500" are; "9.500,00" (9,500) and "12,5" (12.5) are not."""
    found = _AROUND.match(typed.strip())
    body = "".join(c for c in (found["body"] if found else typed) if c not in _GAPS)
    sign = "-" if found and found["sign"] else ""
    plain = exact_number(value)
    return sign + body in (plain, plain.replace(",", ""))


def show_answer(q: Question, answer: Answer | None, symbol: str = "") -> str:
    """An answer in words, figures with their currency or unit."""
    if (answer is not None and answer.state == "answered" and q.unit is not None
            and isinstance(answer.value, (int, float))):
        return show_figure(q, answer.value, symbol)
    return q.describe(answer)


@dataclass(frozen=True)
class Contradiction:
    """Two figures that cannot both be right; the message names both, with their values."""

    key: str  # names the pair: a page that showed it says so when it is saved
    questions: tuple[Question, Question]  # the one that looks wrong first
    message: str


def _figures(bank: Bank, answers: Mapping[str, Answer]) -> dict[str, tuple[Question, float]]:
    """Each answered figure by the cost-model input it feeds."""
    found = {}
    for q in bank.questions:
        answer = answers.get(q.id)
        if (q.feeds and answer is not None and answer.state == "answered"
                and isinstance(answer.value, (int, float))):
            found[q.feeds] = (q, float(answer.value))
    return found


def contradictions(bank: Bank, answers: Mapping[str, Answer]) -> list[Contradiction]:
    """Figures that contradict each other: repair spend above all IT spend, more hours lost to
    outages than the business is open in a year."""
    symbol = currency_symbol(bank, answers)
    figures = _figures(bank, answers)
    found = []
    if "reactive_spend_12m" in figures and "it_spend_12m" in figures:
        (repair_q, repair), (spend_q, spend) = (figures["reactive_spend_12m"],
                                                figures["it_spend_12m"])
        if repair > spend:
            found.append(Contradiction("repairs_over_spend", (repair_q, spend_q), (
                f"The spend on fixing things ({show_figure(repair_q, repair, symbol)}) is more "
                f"than all you paid for IT support ({show_figure(spend_q, spend, symbol)}). "
                "The repairs are part of that total: check both figures.")))
    if "outage_hours_12m" in figures and "open_hours_per_week" in figures:
        (lost_q, lost), (open_q, weekly) = (figures["outage_hours_12m"],
                                            figures["open_hours_per_week"])
        yearly = weekly * HOURS_PER_YEAR_FACTOR
        if lost > yearly:
            found.append(Contradiction("outages_over_open_hours", (lost_q, open_q), (
                f"The working hours lost ({show_figure(lost_q, lost)}) are more than the "
                f"business is open in a year ({show_figure(open_q, weekly)} × "
                f"{HOURS_PER_YEAR_FACTOR} weeks = {exact_number(yearly)} hours): check both "
                "figures.")))
    return found
