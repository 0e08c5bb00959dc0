"""ReportInput -> the plain data the templates lay out. Pure: no Jinja, no WeasyPrint, no I/O.

Every figure and every sentence the report builds from the answers is made here, so the templates
only place and escape text. The choices (which risks lead the brief, which three questions go to
the provider this week, what counts as good) are stated in docs/report.md; keep the two in step.

Two variants come from the same data: the leadership report (the brief, the plan, costs, section
scores, what to find out, the method) and the full report, which adds the risk register, every
provider question and every answer with its notes and who gave it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ..core import plan_text, severity, wording
from ..core.brief import brief, format_number, plural
from ..core.plan import Step
from ..core.scoring import Finding, Outcome, Result
from . import charts
from .models import PRODUCT_NAME, ReportInput

HASH_PREFIX = 12

# Risk register (full report): each shortfall rated on the product's one scale
# (assessment/core/severity.py). The answers cannot say how likely a loss is, so nothing is rated by
# likelihood: a finding takes the level it forces on the band, and any other shortfall is
# Moderate on a heavy question (weight 7 or more, or one with a finding rule) and Low otherwise.
HEAVY_WEIGHT = 7


def register_level(outcome: Outcome, finding: Finding | None) -> severity.Level:
    """The level of one shortfall: a finding is never rated below any other row."""
    if finding is not None:
        return severity.kind(finding.severity).level
    q = outcome.question
    if q.critical is not None or q.weight >= HEAVY_WEIGHT:
        return severity.MODERATE
    return severity.LOW


def format_date(day) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class StepView:
    """One step of the plan as the report prints it."""

    number: int  # position in the plan's reading order, from 1
    id: str
    title: str
    text: str
    who_text: str
    who_short: str
    effort_text: str
    cost_text: str
    facts_short: str  # who, effort and cost in a few words, for a table cell
    done_when: str
    phase_text: str
    workstream: str
    covers: tuple[str, ...]  # what else this one piece of work does
    find_out: tuple[dict, ...]  # for a find-out step: its questions (plan_text.find_out_items)


def _answer_text(outcome: Outcome, symbol: str) -> tuple[str, list[str]]:
    """The answer as text (and as a list for several choices), numbers printed in full."""
    answer, q = outcome.answer, outcome.question
    if answer is None or answer.state != "answered":
        return outcome.answer_label, []
    if q.type == "multi":
        labels = [q.choice_by_id[item].label for item in answer.value]
        return ("None of these" if not labels else "; ".join(labels)), labels
    if q.type == "scale":
        return outcome.answer_label, []  # with what its ends mean: "2 of 5 (1 is ...)"
    if isinstance(answer.value, (int, float)) and not isinstance(answer.value, bool):
        number = format_number(answer.value)
        if q.unit == "money":
            return f"{symbol}{number}", []
        if q.unit == "percent":
            return f"{number}%", []
        if q.unit in ("hours", "days"):
            return f"{number} {q.unit if answer.value != 1 else q.unit[:-1]}", []
        return number, []
    return outcome.answer_label, []


def build_context(report: ReportInput) -> dict:
    result: Result = report.result
    brand = report.branding
    symbol = result.costs.symbol if result.costs else ""
    billing = wording.arrangement(result.profile)
    titles = {s.section.id: s.section.title for s in result.sections}

    def adapt_item(item: dict) -> dict:
        return {**item, **{key: wording.adapt(item[key], billing)
                           for key in ("title", "ask", "why", "done_when")}}

    def view(step: Step) -> StepView:
        return StepView(
            number=step.number, id=step.id, title=wording.adapt(step.title, billing),
            text=wording.adapt(step.text, billing),
            who_text=wording.who_text(step.who, billing),
            who_short=wording.who_short(step.who, billing),
            effort_text=wording.EFFORT[step.effort],
            cost_text=plan_text.step_cost_text(result, step, report.prices),
            facts_short=" · ".join(part for part in (
                wording.who_short(step.who, billing), f"{step.effort} effort",
                plan_text.step_cost_text(result, step, report.prices)) if part),
            done_when=wording.adapt(step.done_when, billing),
            phase_text=("In the first week" if step.find_out
                        else wording.phase_text(step.days)),
            workstream=step.workstream.title,
            covers=tuple(wording.adapt(t, billing) for t in plan_text.covers(result, step)),
            find_out=tuple(adapt_item(i) for i in plan_text.find_out_items(result, step))
            if step.find_out else (),
        )

    views = {s.id: view(s) for s in result.steps}
    by_question: dict[str, list[StepView]] = {}
    for a in result.actions:
        mine = by_question.setdefault(a.outcome.question.id, [])
        if views[a.step.id] not in mine:
            mine.append(views[a.step.id])

    score = result.score
    band = result.band
    summary = wording.adapt_brief(brief(result), billing)
    sections = [{"id": s.section.id, "title": s.section.title, "score": s.score,
                 "line": "Not answered yet." if s.score is None and not s.answered
                 else _section_line(result, s.section.id, views)}
                for s in result.sections if s.section.kind == "scored"]
    phases = [{
        "days": p.days,
        "score": p.projected_score,
        "band": p.projected_band.label if p.projected_band else None,
        "band_id": p.projected_band.id if p.projected_band else None,
        "range": plan_text.phase_heading(result, i)["range"],
        "cost": plan_text.phase_cost_text(result, p, report.prices),
        "actions": [views[s.id] for s in p.steps],
        "effort": p.effort,
        "capacity": p.capacity,
    } for i, p in enumerate(result.roadmap)]
    later = [views[s.id] for s in result.steps if s.days is None]
    costs = _costs(result)
    logo = None
    if brand.logo_png_or_jpeg is not None:
        encoded = base64.b64encode(brand.logo_png_or_jpeg).decode("ascii")
        logo = f"data:{brand.logo_mime};base64,{encoded}"

    return {
        "product_name": PRODUCT_NAME,
        "full": report.full,
        "variant": "Full report" if report.full else "Leadership report",
        "brand": {
            "firm_name": brand.firm_name, "primary": brand.primary, "accent": brand.accent,
            "contact": brand.contact, "disclaimer": brand.disclaimer, "logo": logo,
            "is_product": brand.firm_name == PRODUCT_NAME,
        },
        "title": f"IT health report: {report.business_name}",
        "subject": (f"IT health assessment of {report.business_name}, "
                    f"{format_date(report.assessed_on)}"),
        "business_name": report.business_name,
        "date_text": format_date(report.assessed_on),
        "date_iso": report.assessed_on.isoformat(),
        "score": score,
        "band": {"label": band.label, "summary": band.summary, "id": band.id,
                 "level": band.id if severity.band_level(band.id) else "none"} if band else None,
        "uncapped_band": result.uncapped_band.label if result.uncapped_band else None,
        "capped": result.capped,
        **{key: value for key, value in summary.items() if key != "follow_ups"},
        "first_actions": phases[0]["actions"] if phases else [],
        "findings_count": len(result.critical_findings),
        "findings_words": severity.fact_text(f.severity for f in result.critical_findings),
        "phases": phases,
        "later": later,
        "later_summary": [{**line, "text": wording.adapt(line["text"], billing)}
                          for line in plan_text.later_summary(result)],
        "waits_because": plan_text.waits_because(result),
        "workstreams": [{**row, "lead": wording.who_short(row["lead"], billing)}
                        for row in plan_text.workstream_rows(result)],
        "provisional": result.provisional,
        "provisional_note": plan_text.PROVISIONAL_NOTE if result.provisional else "",
        "score_range": plan_text.range_text(*result.score_range) if result.score_range
        else "",
        "actions_count": len(result.steps),
        "costs": costs,
        "sections": sections,
        "contradictions": _contradictions(result, titles, billing),
        "find_out": [{
            "question": o.question.text,
            "section": titles.get(o.section_id, ""),
            "steps": by_question.get(o.question.id, []),
        } for o in result.not_sure],
        "register": _register(result, titles, by_question) if report.full else [],
        "provider_questions": [wording.adapt(q, billing) for q in result.provider_questions],
        "provider_groups": _provider_groups(result, billing),
        "helper": {"name": wording.helper(billing),
                   "ask_this_week": wording.ask_this_week(billing),
                   "every_question": wording.every_question(billing)},
        "standing_questions": len(result.provider_questions) - len(summary["follow_ups"]),
        "appendix": _appendix(report, symbol) if report.full else None,
        "consultant": report.consultant_assessed,
        "by_provider": report.by_provider,
        "by_check": report.by_check,
        "verified_count": sum(1 for v in (report.verified or {}).values() if v),
        "method": {
            "bank_id": result.bank_id, "bank_version": result.bank_version,
            "bank_hash": result.bank_hash[:HASH_PREFIX],
            "bank_title": result.bank_title or PRODUCT_NAME,
            "questions_text": _questions_text(result),
            "questions_applicable": sum(1 for o in result.outcomes
                                        if o.applicable and o.question.scored),
            "questions_counted": sum(1 for o in result.outcomes if o.counts),
            "unanswered": len(result.unanswered),
            "complete": result.complete,
            "capacity": phases[0]["capacity"] if phases else None,
        },
        "charts_data": {
            "roadmap": charts.projection(score, phases, band.id if band else None,
                                         band.label if band else None),
            "score_bar": charts.SCORE_BAR,
        },
    }


def _questions_text(result: Result) -> str:
    """How many questions the score rests on, in plain words: "54 questions applied to the
    business; 3 answered “Not sure”, which count as gaps"."""
    scored = [o for o in result.outcomes if o.applicable and o.question.scored]
    unsure = sum(1 for o in scored if o.answer is not None and o.answer.state == "not_sure")
    left_out = sum(1 for o in scored if o.answer is not None and o.answer.state == "na")
    parts = [f"{plural(len(scored), 'question')} applied to the business"]
    if unsure:
        parts.append(f"{unsure} answered “Not sure”, which count as gaps")
    if left_out:
        parts.append(f"{left_out} marked “Does not apply”, left out of the score")
    ruled_out = sum(1 for o in result.outcomes if o.counts and not o.applicable)
    if ruled_out:
        parts.append(f"{ruled_out} more not asked because an earlier answer rules "
                     f"{'it' if ruled_out == 1 else 'them'} out, counted as "
                     f"{'a gap' if ruled_out == 1 else 'gaps'}")
    return "; ".join(parts)


def _contradictions(result: Result, titles: dict[str, str], billing: str) -> list[dict]:
    """Answers that do not agree (bank `contradictions`), in the business's words, each with
    the areas where the answers it looks at were given."""
    section_of = {o.question.id: o.section_id for o in result.outcomes}
    return [{"text": wording.adapt(c.text, billing),
             "where": list(dict.fromkeys(titles[section_of[q]] for q in c.questions
                                         if section_of.get(q) in titles))}
            for c in result.contradictions]


def _section_line(result: Result, section_id: str, views: dict[str, StepView]) -> str:
    """One line per section: its worst finding, or its first step, or that it is in order."""
    for f in result.critical_findings:
        if f.outcome.section_id == section_id:
            return wording.adapt(f.title, result.profile).rstrip(".") + "."
    for a in result.actions:
        if a.outcome.section_id == section_id:
            step = views[a.step.id]
            return f"Next: step {step.number}, {step.title.rstrip('.')} " \
                   f"({step.phase_text.lower()})."
    return "Nothing to do here now."


def _provider_groups(result: Result, billing: str) -> list[dict]:
    """Every provider question for the full report: the standing ones first, then those raised
    by the answers, grouped by the workstream of the question that raised them."""
    raised: dict[str, tuple[str, list[str]]] = {}  # workstream id -> (title, questions)
    for o in result.outcomes:
        if not o.applicable:
            continue
        for f in o.question.ask_provider:
            if o.tokens.isdisjoint(f.when):
                continue
            key, title = _question_workstream(result, o)
            questions = raised.setdefault(key, (title, []))[1]
            if f.text not in questions:
                questions.append(f.text)
    asked = {text for _, questions in raised.values() for text in questions}
    standing = [q for q in result.provider_questions if q not in asked]
    groups = [("For every business", standing)] if standing else []
    groups += list(raised.values())
    return [{"title": title, "questions": [wording.adapt(q, billing) for q in questions]}
            for title, questions in groups]


def _question_workstream(result: Result, outcome: Outcome) -> tuple[str, str]:
    """The workstream a question belongs to: that of its first planned fix, else its section."""
    for a in result.actions:
        if a.outcome.question.id == outcome.question.id and not a.find_out:
            return a.step.workstream.id, a.step.workstream.title
    section = next(s.section for s in result.sections if s.section.id == outcome.section_id)
    return section.id, section.title


def _register(result: Result, titles: dict[str, str], by_question) -> list[dict]:
    """Every shortfall, worst level first, then by the points it loses (weight × what the
    answer fell short by), then in bank order."""
    findings = {f.outcome.question.id: f for f in result.critical_findings}
    rows = []
    for o in result.outcomes:
        if not (o.applicable and o.counts and o.question.scored) or o.share >= 1:
            continue
        finding = findings.get(o.question.id)
        level = register_level(o, finding)
        weight = format_number(o.question.weight)
        rows.append({
            "question_id": o.question.id,
            "finding": wording.adapt(finding.title, result.profile) if finding else None,
            "question": o.question.text,
            "answer": o.answer_label,
            "section": titles.get(o.section_id, ""),
            "rating": level.name,
            "level": level.id,
            "basis": (severity.label(finding.severity) if finding else
                      f"Weight {weight} of 10, {round(100 * o.share)}% of its points earned"),
            "actions": by_question.get(o.question.id, []),
            "_order": (level.rank, -o.question.weight * (1 - o.share), o.index),
        })
    rows.sort(key=lambda row: row["_order"])
    return rows


# How the business pays for support, described as it works, never as a motive: owners forward
# this report to their provider.
BILLING_TEXT = {
    "hourly": "You pay for IT support by the hour, when something breaks. Under this model, "
              "preventive work is only done when you ask and pay for it.",
    "block": "You buy blocks of hours in advance. Repairs and preventive work use up the same "
             "hours, so preventive work is only done when you ask for it.",
    "mixed": "You pay a monthly fee, plus extra bills for work outside it. Preventive work that "
             "the fee does not cover is only done when you ask and pay for it.",
    "flat": "You pay a fixed monthly fee. Ask your provider which preventive work it covers, "
            "and for a monthly note of what was done.",
    "in_house": "You do not pay an IT company to look after IT.",
}
PAID_FOR_REPAIRS = ("hourly", "block", "mixed")
# An hourly downtime cost worked out from sales assumes every sale stops while IT is down
# (docs/methodology.md, "Limits to keep in mind").
REVENUE_CAVEAT = (
    "The cost of an hour of downtime is worked out from your sales. It assumes all work stops "
    "while IT is down, so it overstates the cost when work carries on, for example when "
    "machines keep cutting while the office computers are down. It also spreads sales evenly "
    "over opening hours, so an hour lost at your busiest time costs more. Give your own hourly "
    "figure for a closer result.")


def _costs(result: Result) -> dict | None:
    """What IT problems cost, from the business's own figures only. A comparison with a fixed
    fee appears only for a business whose provider is paid for repairs, and says what it
    assumes; it never gives a figure that reads as a price."""
    costs = result.costs
    if costs is None:
        return None
    m = costs.money
    rows, story = [], []
    if costs.hourly_downtime_cost is not None:
        basis = "your own estimate"
        if costs.hourly_basis == "revenue":
            revenue = result.profile.get("annual_revenue")
            hours = result.profile.get("open_hours_per_week")
            basis = (f"yearly sales of {m(float(revenue))} over {format_number(hours)} opening "
                     f"hours a week, 52 weeks a year") if revenue and hours else "your sales"
        rows.append(("What one hour of downtime costs", m(costs.hourly_downtime_cost), basis))
    if costs.outage_hours_12m is not None:
        rows.append(("Working hours lost, last 12 months", format_number(costs.outage_hours_12m),
                     "your figure"))
    if costs.downtime_cost_12m is not None:
        rows.append(("Cost of downtime, last 12 months", m(costs.downtime_cost_12m),
                     "hours lost × cost of an hour"))
        from_sales = " (worked out from your sales)" if costs.hourly_basis == "revenue" else ""
        story.append(f"IT problems stopped work for about "
                     f"{format_number(costs.outage_hours_12m)} hours in the last 12 months. At "
                     f"{m(costs.hourly_downtime_cost)} an hour{from_sales}, that cost the "
                     f"business about {m(costs.downtime_cost_12m)}.")
    if costs.it_spend_12m is not None:
        rows.append(("Paid for IT support, last 12 months", m(costs.it_spend_12m),
                     "your figure"))
    if costs.reactive_spend_12m is not None:
        rows.append(("Of which fixing things after they broke", m(costs.reactive_spend_12m),
                     "your figure"))
    if costs.reactive_share is not None:
        percent = round(100 * costs.reactive_share)
        rows.append(("Share of support spent on repairs", f"{percent}%",
                     "repairs ÷ all support"))
        story.append(f"{percent}% of what you paid for IT support "
                     f"({m(costs.reactive_spend_12m)} of {m(costs.it_spend_12m)}) went on fixing "
                     f"things after they went wrong.")
    comparison = None
    if costs.billing_model in PAID_FOR_REPAIRS and costs.it_spend_12m is not None:
        # Support bills and lost working time stay side by side, never added up: some outages
        # (a failed server, an internet outage) are not the billing model's doing.
        comparison = (
            f"To judge a quote for a fixed monthly fee, set the fee against last year's support "
            f"bills: {m(costs.it_spend_12m)}, or {m(costs.monthly_spend)} a month.")
        if costs.downtime_cost_12m:
            comparison += (
                f" The {m(costs.downtime_cost_12m)} of lost working time is a separate cost. A "
                f"fixed fee lowers it only if the provider prevents the outages, and some, like "
                f"a power cut or an internet outage, no provider can prevent.")
        comparison += " This is a way to judge quotes, not a price."
    return {"rows": rows, "story": story, "billing": BILLING_TEXT.get(costs.billing_model or ""),
            "comparison": comparison, "chart": charts.cost_bars(costs),
            "caveat": REVENUE_CAVEAT if costs.hourly_basis == "revenue" else None,
            "currency_note": None if costs.symbol else "Amounts are in your own currency."}


def _section_summary(result: Result, section_id: str) -> str | None:
    s = next(s for s in result.sections if s.section.id == section_id)
    if s.section.kind != "scored":
        return None
    parts = [f"Score {s.score} out of 100" if s.score is not None else "Not scored",
             f"{s.answered} of {s.applicable} questions answered"]
    if s.not_sure:
        parts.append(f"{s.not_sure} not sure")
    return ", ".join(parts) + "."


def _appendix(report: ReportInput, symbol: str) -> dict:
    """Every answer, with its note and who gave it (the full report)."""
    result = report.result
    groups, current, differences = [], None, []
    for number, o in enumerate(result.outcomes, start=1):
        if current is None or current["id"] != o.section_id:
            section = next(s.section for s in result.sections if s.section.id == o.section_id)
            current = {"id": section.id, "title": section.title, "rows": [],
                       "summary": _section_summary(result, section.id)}
            groups.append(current)
        qid = o.question.id
        text, items = _answer_text(o, symbol) if o.applicable else ("Not asked: did not apply",
                                                                    [])
        verified = None if report.verified is None or not o.applicable or o.answer is None \
            or qid in report.by_check \
            else report.verified.get(qid, False)
        owner = report.owner_answers.get(qid)
        current["rows"].append({
            "number": number, "id": qid, "question": o.question.text,
            "applicable": o.applicable, "answer": text, "choices": items,
            "not_sure": bool(o.answer and o.answer.state == "not_sure"),
            "note": report.notes.get(qid), "note_private": qid in report.private_notes,
            "verified": verified, "owner_answer": owner,
            "by_provider": qid in report.by_provider,
            "by_check": qid in report.by_check,
        })
        if owner is not None:
            differences.append({"number": number, "question": o.question.text,
                                "owner": owner, "consultant": text, "verified": verified})
    return {"groups": groups, "differences": differences}


