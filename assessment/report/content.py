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

from .. import wording
from ..brief import brief, format_number
from ..scoring import Action, Outcome, Result
from . import charts
from .models import PRODUCT_NAME, ReportInput

HASH_PREFIX = 12

# Risk register (full report): impact from the rubric, likelihood from the answer's share.
IMPACT_HIGH_WEIGHT = 7
IMPACT_MEDIUM_WEIGHT = 4
LIKELY_BELOW = 0.0  # a share of 0 (including "Not sure") is "Likely"
POSSIBLE_BELOW = 0.5  # a share under one half is "Possible"; from one half up to full, "Unlikely"
LIKELIHOOD_RANK = {"Unlikely": 1, "Possible": 2, "Likely": 3}
IMPACT_RANK = {"Low": 1, "Medium": 2, "High": 3}


def impact_of(outcome: Outcome) -> str:
    q = outcome.question
    if q.critical is not None or q.weight >= IMPACT_HIGH_WEIGHT:
        return "High"
    if q.weight >= IMPACT_MEDIUM_WEIGHT:
        return "Medium"
    return "Low"


def likelihood_of(share: float) -> str:
    if share <= LIKELY_BELOW:
        return "Likely"
    if share < POSSIBLE_BELOW:
        return "Possible"
    return "Unlikely"


def rating_of(impact: str, likelihood: str) -> str:
    product = IMPACT_RANK[impact] * LIKELIHOOD_RANK[likelihood]
    return "High" if product >= 6 else "Medium" if product >= 3 else "Low"


def format_date(day) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class ActionView:
    """One action as the report prints it."""

    number: int  # position in the plan, from 1
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
    find_out_note: str  # for a "find out": what the answer may change
    section: str


def _answer_text(outcome: Outcome, symbol: str) -> tuple[str, list[str]]:
    """The answer as text (and as a list for several choices), numbers printed in full."""
    answer, q = outcome.answer, outcome.question
    if answer is None or answer.state != "answered":
        return outcome.answer_label, []
    if q.type == "multi":
        labels = [q.choice_by_id[item].label for item in answer.value]
        return ("None of these" if not labels else "; ".join(labels)), labels
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
    billing = result.profile.get("billing_model")
    titles = {s.section.id: s.section.title for s in result.sections}

    def view(number: int, action: Action) -> ActionView:
        r = action.recommendation
        return ActionView(
            number=number, id=action.id, title=r.title, text=wording.adapt(r.text, billing),
            who_text=wording.who_text(r.who, billing),
            who_short=wording.who_short(r.who, billing),
            effort_text=wording.EFFORT[r.effort],
            cost_text=wording.COST.get(r.cost or "", ""),
            facts_short=wording.facts_short(r.who, r.effort, r.cost, billing),
            done_when=r.done_when or "",
            phase_text=wording.phase_text(action.days),
            find_out_note=wording.find_out_note(action) if action.find_out else "",
            section=titles.get(action.outcome.section_id, ""),
        )

    views = {a.id: view(i, a) for i, a in enumerate(result.actions, start=1)}
    by_question: dict[str, list[ActionView]] = {}
    for a in result.actions:
        by_question.setdefault(a.outcome.question.id, []).append(views[a.id])

    score = result.score
    band = result.band
    summary = brief(result)
    sections = [{"id": s.section.id, "title": s.section.title, "score": s.score,
                 "line": _section_line(result, s.section.id, views)}
                for s in result.sections if s.section.kind == "scored"]
    phases = [{
        "days": p.days,
        "score": p.projected_score,
        "band": p.projected_band.label if p.projected_band else None,
        "actions": [views[a.id] for a in p.actions],
        "effort": p.effort,
        "capacity": p.capacity,
    } for p in result.roadmap]
    later = [views[a.id] for a in result.later]
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
        "band": {"label": band.label, "summary": band.summary, "id": band.id} if band else None,
        "uncapped_band": result.uncapped_band.label if result.uncapped_band else None,
        "capped": result.capped,
        **{key: value for key, value in summary.items() if key != "follow_ups"},
        "first_actions": phases[0]["actions"] if phases else [],
        "findings_count": len(result.critical_findings),
        "phases": phases,
        "later": later,
        "actions_count": len(result.actions),
        "costs": costs,
        "sections": sections,
        "find_out": [{
            "question": o.question.text,
            "section": titles.get(o.section_id, ""),
            "steps": by_question.get(o.question.id, []),
        } for o in result.not_sure],
        "register": _register(result, titles, by_question) if report.full else [],
        "provider_questions": list(result.provider_questions),
        "standing_questions": len(result.provider_questions) - len(summary["follow_ups"]),
        "appendix": _appendix(report, symbol) if report.full else None,
        "consultant": report.consultant_assessed,
        "verified_count": sum(1 for v in (report.verified or {}).values() if v),
        "method": {
            "bank_id": result.bank_id, "bank_version": result.bank_version,
            "bank_hash": result.bank_hash[:HASH_PREFIX],
            "questions_applicable": sum(1 for o in result.outcomes
                                        if o.applicable and o.question.scored),
            "questions_counted": sum(1 for o in result.outcomes if o.counts),
            "unanswered": len(result.unanswered),
            "complete": result.complete,
            "capacity": phases[0]["capacity"] if phases else None,
        },
        "charts_data": {
            "roadmap": charts.projection(score, phases),
        },
    }


def _section_line(result: Result, section_id: str, views: dict[str, ActionView]) -> str:
    """One line per section: its worst finding, or its first step, or that it is in order."""
    for f in result.critical_findings:
        if f.outcome.section_id == section_id:
            return f.title.rstrip(".") + "."
    for a in result.actions:
        if a.outcome.section_id == section_id:
            return f"Next: {views[a.id].title.rstrip('.')} ({views[a.id].phase_text.lower()})."
    return "Nothing to do here now."


def _register(result: Result, titles: dict[str, str], by_question) -> list[dict]:
    findings = {f.outcome.question.id: f for f in result.critical_findings}
    rows = []
    for o in result.outcomes:
        if not (o.applicable and o.counts and o.question.scored) or o.share >= 1:
            continue
        impact, likelihood = impact_of(o), likelihood_of(o.share)
        finding = findings.get(o.question.id)
        rows.append({
            "question_id": o.question.id,
            "finding": finding.title if finding else None,
            "question": o.question.text,
            "answer": o.answer_label,
            "section": titles.get(o.section_id, ""),
            "rating": rating_of(impact, likelihood),
            "impact": impact,
            "likelihood": likelihood,
            "actions": by_question.get(o.question.id, []),
            "_order": (0 if finding else 1, -IMPACT_RANK[impact] * LIKELIHOOD_RANK[likelihood],
                       -IMPACT_RANK[impact], -LIKELIHOOD_RANK[likelihood], o.index),
        })
    rows.sort(key=lambda row: row["_order"])
    return rows


BILLING_TEXT = {
    "hourly": "You pay for IT support by the hour, when something breaks: your provider earns "
              "more when things go wrong.",
    "block": "You buy blocks of hours: time spent on repairs uses up the hours you paid for.",
    "mixed": "You pay a monthly fee plus extra bills for most work: repairs still earn your "
             "provider more.",
    "flat": "You pay a fixed monthly fee: your provider is paid to keep things working.",
    "in_house": "Your own people look after IT.",
}
PAID_FOR_REPAIRS = ("hourly", "block", "mixed")


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
        story.append(f"IT problems stopped work for about "
                     f"{format_number(costs.outage_hours_12m)} hours in the last 12 months. At "
                     f"{m(costs.hourly_downtime_cost)} an hour, that cost the business about "
                     f"{m(costs.downtime_cost_12m)}.")
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
                     f"things after they went wrong, rather than on preventing problems.")
    comparison = None
    if costs.billing_model in PAID_FOR_REPAIRS and costs.it_spend_12m is not None:
        total = costs.it_spend_12m + (costs.downtime_cost_12m or 0)
        downtime = f" plus {m(costs.downtime_cost_12m)} of lost working time" \
            if costs.downtime_cost_12m else ""
        comparison = (
            f"Last year's way of paying cost you {m(costs.it_spend_12m)} in support{downtime}: "
            f"{m(total)} in all. When you compare it with a fixed monthly fee, set the fee "
            f"against the support bills. A fixed fee only saves the rest if the provider "
            f"actually prevents the outages, and some cannot be prevented by anyone. This is a "
            f"way to judge quotes, not a price.")
    return {"rows": rows, "story": story, "billing": BILLING_TEXT.get(costs.billing_model or ""),
            "comparison": comparison, "chart": charts.cost_bars(costs),
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
            else report.verified.get(qid, False)
        owner = report.owner_answers.get(qid)
        current["rows"].append({
            "number": number, "id": qid, "question": o.question.text,
            "applicable": o.applicable, "answer": text, "choices": items,
            "not_sure": bool(o.answer and o.answer.state == "not_sure"),
            "note": report.notes.get(qid), "note_private": qid in report.private_notes,
            "verified": verified, "owner_answer": owner,
        })
        if owner is not None:
            differences.append({"number": number, "question": o.question.text,
                                "owner": owner, "consultant": text, "verified": verified})
    return {"groups": groups, "differences": differences}


