"""How the plan reads: the sentences the results page and both reports print about steps,
phases and what waits. Pure: a scoring result in, plain text and data out, so the web pages and
the PDF say the same thing in the same words.

Every sentence here is worked out from the plan it describes (why steps wait, what finding out
may change), so it is true of that plan; tests/test_plan_text.py holds them to it.
"""

from __future__ import annotations

from . import prices as price_list
from . import severity, wording
from .brief import first_sentence, plural
from .plan import LATER, Step
from .scoring import Phase, Result

PROVISIONAL_NOTE = ("Provisional: more than a third of what is scored is not known yet "
                    "(\u201cNot sure\u201d), so the score could move a long way once you find "
                    "out.")


def score_text(score: int | None, band_label: str | None) -> str:
    """"52, High risk": a score always with its band beside it."""
    if score is None:
        return "no score yet"
    return f"{score}, {band_label}" if band_label else str(score)


def range_text(low: int | None, high: int | None) -> str:
    """What finding out may change, as a range: "between 39 and 47"."""
    if low is None or high is None:
        return ""
    if low == high:
        return f"{low} whatever you find out"
    return f"between {low} and {high} depending on what you find out"


def phase_heading(result: Result, position: int) -> dict:
    """A phase's title and its projection: the score with its band, and the range."""
    phase = result.roadmap[position]
    band = phase.projected_band.label if phase.projected_band else None
    r = phase.projected_range
    return {
        "title": f"Within {phase.days} days" if position else "Within 30 days",
        "score": score_text(phase.projected_score, band),
        "band_id": phase.projected_band.id if phase.projected_band else None,
        "range": range_text(r.low, r.high) if r else "",
        "steps": len(phase.steps),
    }


def why_it_matters(question) -> str:
    """Why one unknown or one finding matters, in the bank's own words for that finding."""
    rule = question.critical
    if rule is not None:
        unsure = rule.not_sure
        if unsure is not None and unsure.severity is not None and \
                getattr(unsure, "why_it_matters", None):
            return unsure.why_it_matters
        if getattr(rule, "why_it_matters", None):
            return rule.why_it_matters
    return first_sentence(question.help)


def find_out_items(result: Result, step: Step) -> list[dict]:
    """The questions of a find-out step, each with why it matters and what hangs on it (the
    score with that one answer at its worst and at its best, hidden follow-ups included)."""
    by_id = {a.id: a for a in result.actions}
    items = []
    for part in step.parts:
        action = by_id[part]
        q = action.outcome.question
        stake = result.unknowns.stake(q.id) if result.unknowns else None
        hangs = ""
        if stake is not None and stake.high is not None and result.score is not None \
                and stake.high > result.score:
            hangs = f"A good answer would raise the score from {result.score} to {stake.high}."
        finding = ""
        if q.critical is not None and q.critical.not_sure is not None and \
                q.critical.not_sure.severity is not None:
            finding = (f"Not knowing is a {severity.label(q.critical.not_sure.severity).lower()}"
                       f" in itself.")
        items.append({"id": action.id, "title": action.recommendation.title,
                      "ask": action.recommendation.text, "why": why_it_matters(q),
                      "finding": finding, "hangs": hangs,
                      "done_when": action.recommendation.done_when or ""})
    return items


def covers(result: Result, step: Step) -> list[str]:
    """What a joined step also does, by the titles of the recommendations it covers (a find-out
    step lists its questions instead: find_out_items)."""
    if step.find_out:
        return []
    titles = {a.id: a.recommendation.title for a in result.actions}
    return [titles[part] for part in step.covers]


def workstream_rows(result: Result) -> list[dict]:
    """The plan as its pieces of work: who usually leads each, the numbers of its steps in the
    first 90 days, and how many of its steps wait. Find-out steps are not a piece of work."""
    rows = []
    for w in result.workstreams:
        if w.workstream.id == "find_out":
            continue
        rows.append({"title": w.workstream.title, "lead": w.workstream.lead,
                     "steps": [s.number for s in w.steps if s.phase != LATER],
                     "later": sum(1 for s in w.steps if s.phase == LATER)})
    return rows


def later_summary(result: Result) -> list[dict]:
    """What waits past 90 days, one paragraph per workstream: how many steps and which come
    first, instead of a list of titles (the full report lists them in full)."""
    waiting: dict[str, list[Step]] = {}
    titles: dict[str, str] = {}
    for step in result.steps:
        if step.phase == LATER:
            waiting.setdefault(step.workstream.id, []).append(step)
            titles[step.workstream.id] = step.workstream.title
    lines = []
    for key, steps in waiting.items():
        first = steps[0].title.rstrip(".")
        first = first[0].lower() + first[1:]
        more = f", then {plural(len(steps) - 1, 'more step')}" if len(steps) > 1 else ""
        lines.append({"workstream": titles[key], "count": len(steps),
                      "text": f"{plural(len(steps), 'step')}: {first}{more}."})
    return lines


def waits_because(result: Result) -> str:
    """Why the steps after 90 days wait, true of this plan (plan.Placement.waits)."""
    inside = sum(len(p.steps) for p in result.roadmap)
    if result.later_reason == "limit":
        return (f"The first 90 days already hold {plural(inside, 'step')}, as many as a "
                f"business of this size can take on alongside its work. These come next, once "
                f"the plan above is done.")
    if result.later_reason == "room":
        return ("Each month of the first 90 days is already full with more urgent steps. "
                "These come next, once the plan above is done.")
    return ""


def step_cost(result: Result, step: Step, prices: price_list.PriceList | None = None
              ) -> price_list.CostRange | None:
    """What one step typically costs this business, from the price list (the firm's own, or
    the shipped one) and its staff count; None where the currency has no figures."""
    prices = prices or price_list.default_price_list()
    staff = result.profile.get("staff_count")  # a figure: the loader makes it a number's
    return price_list.cost_range(step.cost, step.per_person,
                                 staff if isinstance(staff, (int, float)) else None,
                                 _currency(result), prices)


def _currency(result: Result) -> str | None:
    """The currency the owner chose (a choice id), or None."""
    currency = result.profile.get("currency")
    return currency if isinstance(currency, str) else None


def step_cost_text(result: Result, step: Step, prices: price_list.PriceList | None = None
                   ) -> str:
    """"£1,100–£4,300", or the band in words where there is no money figure."""
    return price_list.range_text(step_cost(result, step, prices)) or \
        wording.COST.get(step.cost or "", "")


def phase_cost(result: Result, phase: Phase, prices: price_list.PriceList | None = None
               ) -> price_list.CostRange | None:
    """The total of a phase's steps, as a range; None where the currency has no figures."""
    ranges = [step_cost(result, s, prices) for s in phase.steps]
    if not phase.steps or any(r is None for r in ranges):
        return None
    return price_list.add_ranges(ranges, _currency(result))


def phase_cost_text(result: Result, phase: Phase, prices: price_list.PriceList | None = None
                    ) -> str:
    """"Typical cost of these steps: about £1,200–£6,800", or "" without money figures."""
    total = phase_cost(result, phase, prices)
    if total is None:
        return ""
    return f"Typical cost of these steps: {price_list.range_text(total)}"


def with_costs(data: dict, result: Result, prices: price_list.PriceList | None = None) -> dict:
    """The result's JSON (scoring.result_to_dict) with the typical cost of each step and the
    total of each phase, as {low, high, currency}, or null where the currency has no figures."""
    def as_json(r: price_list.CostRange | None):
        return None if r is None else {"low": price_list.round_down(r.low),
                                       "high": price_list.round_up(r.high),
                                       "currency": r.currency}

    by_id = {s.id: s for s in result.steps}
    for step in data.get("steps", ()):
        step["cost_range"] = as_json(step_cost(result, by_id[step["id"]], prices))
    for phase_json, phase in zip(data.get("roadmap", ()), result.roadmap, strict=True):
        phase_json["cost_range"] = as_json(phase_cost(result, phase, prices))
    return data
