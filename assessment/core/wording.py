"""How the plan's facts read to an owner: who does an action, what it costs, by when.

Pure and shared by the web pages and the report, so both say the same thing in the same words.
The bank says who does an action as `owner`, `staff` or `provider`, and its advice speaks of
"your IT provider". Not every business has one: the profile says who looks after IT (an outside
provider, someone employed in the business, a family member or friend, or nobody in particular),
and every function here takes that arrangement and words the advice to fit it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ARRANGEMENTS = ("provider", "in_house", "family", "nobody")
# Who looks after IT, as a sentence names them. The bank's "your IT provider" becomes this.
HELPER = {"provider": "your IT provider", "in_house": "your IT person",
          "family": "whoever looks after your IT", "nobody": "whoever takes on your IT"}
# Who does an action (the bank's `who`); for `provider`, whoever looks after IT (helper()).
WHO = {"owner": "You (the owner or manager)", "staff": "Everyone on the staff"}
# The same, short enough for a table cell: "You · low effort · no cost".
WHO_SHORT = {"owner": "You", "staff": "All staff"}
HELPER_SHORT = {"provider": "IT provider", "in_house": "IT person", "family": "IT helper",
                "nobody": "IT helper"}
COST_SHORT = {"none": "no cost", "low": "low cost", "medium": "medium cost", "high": "high cost"}
COST = {"none": "No cost beyond time", "low": "Low cost", "medium": "Medium cost",
        "high": "High cost"}
EFFORT = {"low": "Low effort", "medium": "Medium effort", "high": "High effort"}

# The bank's words for the provider, most specific first. "Your provider or IT person" names
# both because the bank cannot know which the business has; here it can.
_EITHER = re.compile(r"\b([Yy])our (IT )?provider or (?:your )?IT person\b")
_POSSESSIVE = re.compile(r"\b([Yy])our (?:IT )?provider's\b")
_YOURS = re.compile(r"\b([Yy])our (?:IT )?provider\b")
_THE = re.compile(r"\b([Tt])he provider\b")


def arrangement(profile: Mapping) -> str:
    """Who looks after IT: `provider`, `in_house`, `family` or `nobody`. From the profile's
    `it_support`, asked when no IT company is paid. Without it (a business that pays one, or an
    answers file from before the question), a billing model of `in_house` means in-house and
    anything else an outside provider."""
    support = profile.get("it_support")
    if support in ARRANGEMENTS:
        return support
    return "in_house" if profile.get("billing_model") == "in_house" else "provider"


def _arrangement(value: object) -> str:
    """An arrangement from what a caller has: an arrangement, a billing model (`in_house` is
    both; any other means a provider), a profile, or nothing (a provider)."""
    if isinstance(value, Mapping):
        return arrangement(value)
    return value if value in ARRANGEMENTS else "provider"


def helper(value: object = None, capital: bool = False) -> str:
    """Whoever looks after IT, as a sentence names them: "your IT person"."""
    words = HELPER[_arrangement(value)]
    return words[0].upper() + words[1:] if capital else words


def who_text(who: str | None, value: object = None) -> str:
    if who == "provider":
        return helper(value, capital=True)
    return WHO.get(who or "", "")


def who_short(who: str | None, value: object = None) -> str:
    """Who does it in a word or two: "You", "IT provider"."""
    if who == "provider":
        return HELPER_SHORT[_arrangement(value)]
    return WHO_SHORT.get(who or "", "")


def facts_short(who: str | None, effort: str, cost: str | None, value: object = None) -> str:
    """Who, effort and cost in a few words: "IT provider · low effort · low cost"."""
    parts = [who_short(who, value), f"{effort} effort", COST_SHORT.get(cost or "", "")]
    return " · ".join(part for part in parts if part)


def adapt(text: str, value: object = None) -> str:
    """The bank's wording for this business: "your IT provider" becomes "your IT person",
    "whoever looks after your IT" or "whoever takes on your IT", as the arrangement says."""
    if not text:
        return ""
    kind = _arrangement(value)

    def name(match: re.Match, words: str) -> str:
        return words[0].upper() + words[1:] if match.group(1).isupper() else words

    if kind == "provider":
        return _EITHER.sub(lambda m: f"{m.group(1)}our {m.group(2) or ''}provider", text)
    words = HELPER[kind]
    text = _EITHER.sub(lambda m: name(m, words), text)
    if kind == "in_house":
        text = _POSSESSIVE.sub(lambda m: name(m, words + "'s"), text)
    text = _YOURS.sub(lambda m: name(m, words), text)
    return _THE.sub(lambda m: name(m, words), text)


def ask_this_week(value: object = None) -> str:
    """The heading over the three questions to ask first."""
    kind = _arrangement(value)
    if kind == "nobody":
        return "First questions for whoever takes on your IT"
    return f"Ask {HELPER[kind]} this week"


def every_question(value: object = None) -> str:
    """The heading over every question raised for whoever looks after IT."""
    return f"Every question for {HELPER[_arrangement(value)]}"


def adapt_brief(summary: Mapping, value: object = None) -> dict:
    """The brief (brief.brief) with every sentence in it worded for this business."""
    def words(item):
        if isinstance(item, str):
            return adapt(item, value)
        if isinstance(item, Mapping):
            return {key: words(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [words(inner) for inner in item]
        return item

    return words(summary)


def phase_text(days: int | None) -> str:
    return f"Within {days} days" if days else "After 90 days"
