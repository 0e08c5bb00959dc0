"""ReportInput -> the plain data the templates lay out. Pure: no Jinja, no WeasyPrint, no I/O.

Every figure printed in a report is computed here from the scoring result, so the templates only
place and escape text. The rules for the risk register (impact and likelihood) are stated in
docs/report.md; keep the two in step.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .. import wording
from ..scoring import Action, Outcome, Result
from . import charts
from .models import PRODUCT_NAME, ReportInput

GOOD_SECTION = 75  # a section at or above this score is named among "what is good"
WEAK_SECTION = 50  # a section below this score is named among "what is exposed"
HASH_PREFIX = 12

PRIORITY_TEXT = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}

LEVELS = ("Low", "Medium", "High")

# Impact: how much a gap on this question can hurt, from the rubric alone.
IMPACT_HIGH_WEIGHT = 3
IMPACT_MEDIUM_WEIGHT = 2
# Likelihood: how likely the gap is to bite, from the share of points the answer earned.
LIKELY_BELOW = 0.0  # a share of 0 (including "Not sure") is "Likely"
POSSIBLE_BELOW = 0.5  # a share under one half is "Possible"; from one half up to full, "Unlikely"


def whole(value: float | None) -> int | None:
    """A score as a whole number: the two-decimal score (docs/scoring.md), rounded half up."""
    if value is None:
        return None
    two = Decimal(str(round(value, 2)))
    return int(two.quantize(Decimal(1), rounding=ROUND_HALF_UP))


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


LIKELIHOOD_RANK = {"Unlikely": 1, "Possible": 2, "Likely": 3}
IMPACT_RANK = {"Low": 1, "Medium": 2, "High": 3}


def rating_of(impact: str, likelihood: str) -> str:
    product = IMPACT_RANK[impact] * LIKELIHOOD_RANK[likelihood]
    return "High" if product >= 6 else "Medium" if product >= 3 else "Low"


def format_date(day) -> str:
    return f"{day.day} {day:%B %Y}"


def format_number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def money(symbol: str, amount: float) -> str:
    return f"{symbol}{amount:,.0f}"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class ActionView:
    number: int  # position in the prioritised list, from 1
    id: str
    title: str
    text: str
    priority: str
    priority_text: str
    effort_text: str
    timeframe: int
    timeframe_text: str
    question: str
    section: str
    who_text: str
    cost_text: str
    done_when: str


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
    section_titles = {s.section.id: s.section.title for s in result.sections}

    billing = result.profile.get("billing_model")

    def action_view(number: int, action: Action) -> ActionView:
        r = action.recommendation
        return ActionView(
            number=number, id=action.id, title=r.title, text=wording.adapt(r.text, billing),
            priority=r.priority,
            priority_text=PRIORITY_TEXT[r.priority], effort_text=wording.EFFORT[r.effort],
            timeframe=action.days or 0, timeframe_text=wording.phase_text(action.days),
            question=action.outcome.question.text,
            section=section_titles.get(action.outcome.section_id, ""),
            who_text=wording.who_text(r.who, billing),
            cost_text=wording.COST.get(r.cost or "", ""),
            done_when=r.done_when or "",
        )

    actions = [action_view(i, a) for i, a in enumerate(result.actions, start=1)]
    action_groups = [{"label": f"{PRIORITY_TEXT[p]} priority",
                      "actions": [a for a in actions if a.priority == p]}
                     for p in PRIORITY_TEXT if any(a.priority == p for a in actions)]
    actions_by_question: dict[str, list[ActionView]] = {}
    for action, view in zip(result.actions, actions, strict=True):
        actions_by_question.setdefault(action.outcome.question.id, []).append(view)

    scored_sections = [s for s in result.sections if s.section.kind == "scored"]
    sections = [{
        "id": s.section.id, "title": s.section.title, "score": whole(s.score),
        "weight": s.weight, "applicable": s.applicable, "answered": s.answered,
        "not_sure": s.not_sure,
    } for s in scored_sections]

    score = whole(result.score)
    critical_ids = {f.outcome.question.id for f in result.critical_findings}
    findings = [{
        "title": f.title,
        "question": f.outcome.question.text,
        "answer": f.outcome.answer_label,
        "why": f.outcome.question.help,
        "section": section_titles.get(f.outcome.section_id, ""),
        "actions": [v for a in f.actions for v in actions if v.id == a.id],
    } for f in result.critical_findings]

    register = []
    for o in result.outcomes:
        if not (o.applicable and o.counts and o.question.scored) or o.share >= 1:
            continue
        impact, likelihood = impact_of(o), likelihood_of(o.share)
        register.append({
            "question_id": o.question.id,
            "finding": next((f.title for f in result.critical_findings if f.outcome is o), None),
            "critical": o.question.id in critical_ids,
            "question": o.question.text,
            "answer": o.answer_label,
            "why": o.question.help,
            "section": section_titles.get(o.section_id, ""),
            "impact": impact,
            "likelihood": likelihood,
            "rating": rating_of(impact, likelihood),
            "share_percent": whole(100 * o.share),
            "weight": o.question.weight,
            "actions": actions_by_question.get(o.question.id, []),
            "_order": (-IMPACT_RANK[impact] * LIKELIHOOD_RANK[likelihood], -IMPACT_RANK[impact],
                       -LIKELIHOOD_RANK[likelihood], o.index),
        })
    register.sort(key=lambda row: row["_order"])

    roadmap = [{
        "days": p.days,
        "score": whole(p.projected_score),
        "band": p.projected_band.label if p.projected_band else None,
        "actions": [v for a in p.actions for v in actions if v.id == a.id],
    } for p in result.roadmap]

    find_out = [{
        "question": o.question.text,
        "why": o.question.help,
        "section": section_titles.get(o.section_id, ""),
        "actions": actions_by_question.get(o.question.id, []),
    } for o in result.not_sure]

    appendix = _appendix(report, symbol)
    summary = _summary(report, sections, score, findings, actions, roadmap, symbol)

    logo = None
    if brand.logo_png_or_jpeg is not None:
        encoded = base64.b64encode(brand.logo_png_or_jpeg).decode("ascii")
        logo = f"data:{brand.logo_mime};base64,{encoded}"

    band = result.band
    return {
        "product_name": PRODUCT_NAME,
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
        "sections": sections,
        "critical_findings": findings,
        "register": register,
        "actions": actions,
        "action_groups": action_groups,
        "roadmap": roadmap,
        "costs": _costs(result),
        "provider_questions": list(result.provider_questions),
        "standing_questions": _standing_questions(result),
        "find_out": find_out,
        "appendix": appendix,
        "summary": summary,
        "consultant": report.consultant_assessed,
        "verified_count": sum(1 for v in (report.verified or {}).values() if v),
        "differences": appendix["differences"],
        "method": {
            "bank_id": result.bank_id, "bank_version": result.bank_version,
            "bank_hash": result.bank_hash[:HASH_PREFIX],
            "questions_applicable": sum(1 for o in result.outcomes
                                        if o.applicable and o.question.scored),
            "questions_counted": sum(1 for o in result.outcomes if o.counts),
            "unanswered": len(result.unanswered),
            "complete": result.complete,
        },
        "charts_data": {
            "gauge": charts.gauge(score),
            "sections": charts.section_bars(sections),
            "roadmap": charts.projection(score, roadmap),
        },
    }


def _summary(report, sections, score, findings, actions, roadmap, symbol) -> dict:
    result = report.result
    scored = [s for s in sections if s["score"] is not None]
    by_score = sorted(scored, key=lambda s: (-s["score"], s["title"]))
    good = [f"{s['title']}: {s['score']} out of 100." for s in by_score
            if s["score"] >= GOOD_SECTION][:3]
    best_answers = sum(1 for o in result.outcomes if o.counts and o.share >= 1)
    counted = sum(1 for o in result.outcomes if o.counts)
    if counted:
        verb = "is" if best_answers == 1 else "are"
        good.append(f"{best_answers} of {counted} scored answers {verb} already at best "
                    f"practice.")
    if not any(s["score"] >= GOOD_SECTION for s in scored) and by_score:
        top = by_score[0]
        good.insert(0, f"No area reaches {GOOD_SECTION} yet; the strongest is {top['title']} "
                       f"at {top['score']} out of 100.")

    exposed = [f"{f['title']}." for f in findings[:3]]
    if len(findings) > 3:
        exposed.append(f"{plural(len(findings) - 3, 'more critical finding')} "
                       f"(see Critical findings).")
    weak = [s for s in sorted(scored, key=lambda s: (s["score"], s["title"]))
            if s["score"] < WEAK_SECTION][:3]
    if weak:
        exposed.append("Weakest areas: " + ", ".join(
            f"{s['title']} ({s['score']})" for s in weak) + ".")
    if result.not_sure:
        exposed.append(f"You were not sure about {plural(len(result.not_sure), 'question')}: "
                       f"not knowing is itself a risk.")
    costs = result.costs
    if costs and costs.downtime_cost_12m is not None:
        exposed.append(f"IT problems cost about {money(symbol, costs.downtime_cost_12m)} in lost "
                       f"working time over the last 12 months, by your own figures.")
    if not exposed:
        exposed.append("No critical gaps were found in the answers given.")

    outlook = None
    if score is not None and roadmap and roadmap[-1]["score"] is not None:
        steps = ", ".join(f"{p['score']} after {p['days']} days" for p in roadmap)
        outlook = f"Following the roadmap takes the score from {score} today to {steps}."
    return {"good": good, "exposed": exposed, "first": actions[:3], "outlook": outlook}


def _costs(result: Result) -> dict | None:
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
            basis = (f"yearly revenue of {m(float(revenue))} over {format_number(hours)} opening "
                     f"hours a week, 52 weeks a year") if revenue and hours else "your revenue"
        rows.append(("What one hour of downtime costs", m(costs.hourly_downtime_cost), basis))
    if costs.outages_12m is not None:
        rows.append(("Times IT stopped work, last 12 months", format_number(costs.outages_12m),
                     "your figure"))
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
        percent = whole(100 * costs.reactive_share)
        rows.append(("Share of support spent on repairs", f"{percent}%",
                     "repairs ÷ all support"))
        story.append(f"{percent}% of what you paid for IT support "
                     f"({m(costs.reactive_spend_12m)} of {m(costs.it_spend_12m)}) went on fixing "
                     f"things after they went wrong, rather than on preventing problems.")
    if costs.monthly_spend is not None:
        rows.append(("IT support per month, on average", m(costs.monthly_spend),
                     "support ÷ 12"))
    if costs.break_even_monthly_fee is not None:
        rows.append(("Break-even monthly fee", m(costs.break_even_monthly_fee),
                     "(support + downtime) ÷ 12"))
        total = costs.break_even_monthly_fee * 12
        story.append(f"Support and downtime together cost about {m(total)} over the year, or "
                     f"{m(costs.break_even_monthly_fee)} a month. A fixed monthly fee up to that "
                     f"amount, for a service paid to prevent problems, would cost no more than "
                     f"last year did.")
    billing = {
        "hourly": "You pay for IT support by the hour, when something breaks: your provider "
                  "earns more when things go wrong.",
        "block": "You buy blocks of hours: time spent on repairs uses up the hours you paid for.",
        "mixed": "You pay a monthly fee plus extra bills for most work: repairs still earn "
                 "your provider more.",
        "flat": "You pay a fixed monthly fee: your provider is paid to keep things working.",
        "in_house": "Your own staff look after IT.",
    }.get(costs.billing_model or "")
    chart = charts.cost_bars(costs)
    return {"rows": rows, "story": story, "billing": billing, "chart": chart,
            "currency_note": None if costs.symbol else "Amounts are in your own currency."}


def _standing_questions(result: Result) -> int:
    """How many of the provider questions lead the list because every business gets them."""
    follow_ups = {f.text for o in result.outcomes if o.applicable
                  for f in o.question.ask_provider if not o.tokens.isdisjoint(f.when)}
    count = 0
    for text in result.provider_questions:
        if text in follow_ups:
            break
        count += 1
    return count


def _section_summary(result: Result, section_id: str) -> str | None:
    s = next(s for s in result.sections if s.section.id == section_id)
    if s.section.kind != "scored":
        return None
    parts = [f"Score {whole(s.score)} out of 100" if s.score is not None else "Not scored",
             f"{s.answered} of {s.applicable} questions answered"]
    if s.not_sure:
        parts.append(f"{s.not_sure} not sure")
    return ", ".join(parts) + "."


def _appendix(report: ReportInput, symbol: str) -> dict:
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
        row = {
            "number": number, "id": qid, "question": o.question.text,
            "applicable": o.applicable, "answer": text, "choices": items,
            "not_sure": bool(o.answer and o.answer.state == "not_sure"),
            "note": report.notes.get(qid), "verified": verified, "owner_answer": owner,
        }
        current["rows"].append(row)
        if owner is not None:
            differences.append({"number": number, "question": o.question.text,
                                "owner": owner, "consultant": text,
                                "verified": verified})
    return {"groups": groups, "differences": differences}
