"""The brief: what a director needs from an assessment in five minutes, worked out once and
shown twice, at the top of the results page and as the first pages of the leadership report.
Pure: a scoring result in, plain data out.

The choices (which risks lead, which three questions go to the provider this week, what counts
as good) are stated in docs/report.md; keep the two in step.
"""

from __future__ import annotations

from . import severity
from .scoring import Finding, Result

GOOD_SECTION = 75  # a section at or above this score is named among "what is good"
GOOD_SECTIONS = 2  # strongest areas named among "what is good"
GOOD_ANSWERS = 2  # best-practice answers named among "what is good", heaviest first
TOP_RISKS = (3, 5)  # the brief names at least 3 and at most 5 risks
THIS_WEEK = 3  # questions for the provider in the brief
WORKING_DAYS_PER_WEEK = 5


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]


def format_number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def brief(result: Result) -> dict:
    """Everything the brief shows, from the result alone."""
    titles = {s.section.id: s.section.title for s in result.sections}
    return {
        "verdict": _verdict(result),
        "risks": _risks(result, titles),
        # Findings past the first five: each on its own line, worst first.
        "more_findings": [{"title": f.title.rstrip(".") + ".",
                           "severity": severity.label(f.severity),
                           "level": severity.kind(f.severity).level.id,
                           "section": titles.get(f.outcome.section_id, "")}
                          for f in result.critical_findings[TOP_RISKS[1]:]],
        "legend": severity.legend(f.severity for f in result.critical_findings),
        "money_at_stake": _money_at_stake(result),
        "this_week": _this_week(result),
        "good": _good(result),
        "follow_ups": _follow_ups(result),
    }


def _verdict(result: Result) -> str:
    """One sentence on why the business is in its band."""
    findings = result.critical_findings
    if result.band is None:
        return "Answer the questions to get a verdict."
    if findings:
        lead = findings[0].title.rstrip(".")
        rest = len(findings) - 1
        tail = f", and {plural(rest, 'more finding')} stand{'s' if rest == 1 else ''}" \
            if rest else ""
        if result.capped:
            return (f"{lead}{tail}: that holds the business at {result.band.label}, whatever "
                    f"the score.")
        return f"{lead}{tail}."
    return result.band.summary


def _risks(result: Result, titles: dict[str, str]) -> list[dict]:
    """The risks that matter most: every critical finding (worst first) up to five, then the
    answers that cost the most points, until there are at least three."""
    low, high = TOP_RISKS
    risks = [{"title": f.title.rstrip(".") + ".", "why": why_it_matters(f),
              "question": None,
              "severity": severity.label(f.severity),
              "level": severity.kind(f.severity).level.id,
              "answer": None if f.not_sure else f.outcome.answer_label,
              "question_id": f.outcome.question.id,
              "section": titles.get(f.outcome.section_id, "")}
             for f in result.critical_findings[:high]]
    if len(risks) < low:
        taken = {f.outcome.question.id for f in result.critical_findings}
        short = [(o, 1 - o.share) for o in result.outcomes
                 if o.share is not None and o.share < 1 and o.question.id not in taken]
        gaps = [o for o, _ in sorted(short, key=lambda item: (
            -item[1] * item[0].question.weight, item[0].index))]
        for o in gaps[:low - len(risks)]:
            risks.append({"title": first_sentence(o.question.help), "why": "",
                          "severity": None, "level": None, "answer": o.answer_label,
                          "question_id": o.question.id,
                          "question": o.question.text,
                          "section": titles.get(o.section_id, "")})
    return risks


def why_it_matters(finding: Finding) -> str:
    """What happens to the business if the finding stays: the finding's own words from the
    bank as it stands (the main rule's, its lesser finding's, "Not sure"'s or a `stronger`
    entry's, worked out by the scoring), or for a bank that has none, the first sentence of
    the question's help."""
    return finding.why_it_matters or first_sentence(finding.outcome.question.help)


def _money_at_stake(result: Result) -> list[str]:
    """What trouble costs, in the business's own money: a working day without IT, and last
    year's downtime. Nothing when the business gave no figures for it."""
    costs = result.costs
    if costs is None or costs.hourly_downtime_cost is None:
        return []
    m = costs.money
    lines = []
    hours = result.profile.get("open_hours_per_week")
    if isinstance(hours, (int, float)) and hours > 0:
        day_hours = hours / WORKING_DAYS_PER_WEEK
        lines.append(f"A working day without IT costs about "
                     f"{m(costs.hourly_downtime_cost * day_hours)} by your own figures "
                     f"({m(costs.hourly_downtime_cost)} an hour, "
                     f"{format_number(round(day_hours, 1))} open hours a day).")
    else:
        lines.append(f"An hour without IT costs about {m(costs.hourly_downtime_cost)} by your "
                     f"own figures.")
    if costs.downtime_cost_12m:
        lines.append(f"In the last 12 months IT problems cost about {m(costs.downtime_cost_12m)} "
                     f"in lost working time.")
    return lines


def _follow_ups(result: Result) -> list[str]:
    """The provider questions raised by the answers (the standing ones excluded), in bank
    order."""
    raised = {f.text for o in result.outcomes if o.applicable
              for f in o.question.ask_provider if not o.tokens.isdisjoint(f.when)}
    return [text for text in result.provider_questions if text in raised]


def _this_week(result: Result) -> list[str]:
    """Three questions to ask the provider this week: those raised by the answers behind the
    plan's first actions (critical findings lead it), then any other raised by the answers,
    then the standing questions."""
    chosen: list[str] = []
    for action in result.actions:
        o = action.outcome
        for f in o.question.ask_provider:
            if not o.tokens.isdisjoint(f.when) and f.text not in chosen:
                chosen.append(f.text)
    for text in [*_follow_ups(result), *result.provider_questions]:
        if text not in chosen:
            chosen.append(text)
    return chosen[:THIS_WEEK]


def _good(result: Result) -> dict:
    """What is good, honestly: sections at or above GOOD_SECTION, and the heaviest answers at
    best practice, each as a sentence. When no area is good, say so and name the closest,
    without taking back the good answers named above it."""
    # (title, score) of each scored section with a score
    areas = [(s.section.title, s.score) for s in result.sections
             if s.section.kind == "scored" and s.score is not None]
    titles = {s.section.id: s.section.title for s in result.sections}
    strong = sorted((a for a in areas if a[1] >= GOOD_SECTION), key=lambda a: (-a[1], a[0]))
    lines = [f"In good shape: {title}, at {score} out of 100."
             for title, score in strong[:GOOD_SECTIONS]]
    best = sorted((o for o in result.outcomes if o.share is not None and o.share >= 1),
                  key=lambda o: (-o.question.weight, o.index))
    answers = [strength(o.question, o.answer_label, titles.get(o.section_id, ""))
               for o in best[:GOOD_ANSWERS]]
    closest = None
    if not strong and areas:
        title, score = max(areas, key=lambda a: (a[1], a[0]))
        start = "No area as a whole" if answers else "No area"
        closest = (f"{start} is in good shape yet: the closest is {title}, at {score} out of "
                   "100.")
    return {"lines": lines, "answers": answers, "closest": closest,
            "nothing": not lines and not answers}


def strength(question, answer: str, section: str) -> str:
    """A best-practice answer as a sentence: the bank's own (`strength`), or for a bank without
    one, the area and the answer given."""
    if question.strength:
        return question.strength
    said = answer.rstrip(".")
    return f"{section}: “{said}”, which is best practice." if section else \
        f"“{said}”, which is best practice."
