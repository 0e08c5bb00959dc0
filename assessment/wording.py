"""How the plan's facts read to an owner: who does an action, what it costs, by when.

Pure and shared by the web pages and the report, so both say the same thing in the same words.
The bank says who does an action as `owner`, `staff` or `provider`; a business that has no
outside provider (in-house IT) reads "your IT person" wherever the bank says provider.
"""

from __future__ import annotations

import re

WHO = {"owner": "You (the owner or manager)", "staff": "Everyone on the staff",
       "provider": "Your IT provider"}
WHO_IN_HOUSE = "Your IT person"
# The same, short enough for a table cell: "You · low effort · no cost".
WHO_SHORT = {"owner": "You", "staff": "All staff", "provider": "IT provider"}
WHO_SHORT_IN_HOUSE = "IT person"
COST_SHORT = {"none": "no cost", "low": "low cost", "medium": "medium cost", "high": "high cost"}
COST = {"none": "No cost beyond time", "low": "Low cost", "medium": "Medium cost",
        "high": "High cost"}
EFFORT = {"low": "Low effort", "medium": "Medium effort", "high": "High effort"}
_PROVIDER = re.compile(r"\b([Yy])our (?:IT )?provider\b")


def in_house(billing_model: object) -> bool:
    return billing_model == "in_house"


def who_text(who: str | None, billing_model: object = None) -> str:
    if who == "provider" and in_house(billing_model):
        return WHO_IN_HOUSE
    return WHO.get(who or "", "")


def who_short(who: str | None, billing_model: object = None) -> str:
    """Who does it in a word or two: "You", "IT provider"."""
    if who == "provider" and in_house(billing_model):
        return WHO_SHORT_IN_HOUSE
    return WHO_SHORT.get(who or "", "")


def facts_short(who: str | None, effort: str, cost: str | None,
                billing_model: object = None) -> str:
    """Who, effort and cost in a few words: "IT provider · low effort · low cost"."""
    parts = [who_short(who, billing_model), f"{effort} effort", COST_SHORT.get(cost or "", "")]
    return " · ".join(part for part in parts if part)


def adapt(text: str, billing_model: object = None) -> str:
    """Recommendation wording for this business: "your IT provider" becomes "your IT person"
    when IT is looked after in-house."""
    if not in_house(billing_model):
        return text
    return _PROVIDER.sub(lambda m: f"{m.group(1)}our IT person", text)


def phase_text(days: int | None) -> str:
    return f"Within {days} days" if days else "After 90 days"


def find_out_note(action) -> str:
    """What finding out may change, for a "find out" action: knowing is not fixing, so the plan
    says what hangs on the answer instead of counting it as points gained."""
    q = action.outcome.question
    points = round(float(action.at_stake))
    parts = []
    if q.critical is not None:
        parts.append(f"The answer may show a critical finding: {q.critical.finding.rstrip('.')}.")
    if points >= 1:
        parts.append(f"Up to {points} point{'s' if points != 1 else ''} of your score depend "
                     f"on it.")
    return " ".join(parts) or "The answer decides what, if anything, needs doing."
