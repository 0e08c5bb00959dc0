"""Words that fit the business: a business with no outside IT provider never reads about one.

The profile says who looks after IT (an outside provider, someone in the business, a family
member or friend, or nobody in particular). For each arrangement other than a provider, every
sentence the owner can meet is worded for it: recommendations, questions for whoever looks after
IT, critical findings, and the questions the owner is asked. The results page and the reports are
then checked as a whole, for answer sets with many steps in the plan.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date

import pytest
from flask import render_template

from assessment.core import wording
from assessment.core.scoring import parse_answers, score
from assessment.report import ReportInput, render_html

from .conftest import FIXTURES

NOT_PROVIDER = ("in_house", "family", "nobody")
PROVIDER_WORDS = re.compile(r"\bproviders?\b|\bprovider's\b|\bMSPs?\b|managed service|"
                            r"technicians?\b|\bvCIO\b", re.IGNORECASE)
# What a rewrite must never leave behind: a possessive on a phrase ("whoever looks after your
# IT's report") or an article before "whoever"; in one sentence, a capital in its middle.
BAD_REWRITES = re.compile(r"\bIT's\b|\b(?:a|an|the|your|our) whoever\b")
MID_SENTENCE_CAPITAL = re.compile(r"[a-z,] (?:Whoever|Your IT person)\b")
# Who looks after IT, as it appears in the profile answers of each arrangement.
HELPER_ANSWERS = {"in_house": "side_job", "family": "family", "nobody": "nobody"}


def problems(text: str,
             patterns=(PROVIDER_WORDS, BAD_REWRITES, MID_SENTENCE_CAPITAL)) -> list[str]:
    return [m.group(0) for pattern in patterns for m in pattern.finditer(text)]


# ------------------------------------------------------------------ which questions are seen


def _holds(condition: dict, known: dict[str, str | None]) -> bool | None:
    """A show_if under what the arrangement alone decides: True or False when the profile
    answers settle it, None when it depends on other answers (the question may be seen)."""
    if "all" in condition or "any" in condition:
        values = [_holds(c, known) for c in condition.get("all", condition.get("any"))]
        decisive, other = (False, True) if "all" in condition else (True, False)
        if decisive in values:
            return decisive
        return other if all(v is other for v in values) else None
    if "not" in condition:
        inner = _holds(condition["not"], known)
        return None if inner is None else not inner
    if condition["q"] not in known:
        return None
    answer = known[condition["q"]]
    (op, value), = ((k, v) for k, v in condition.items() if k != "q")
    if op == "answered":
        return (answer is not None) == value
    if answer is None:  # unanswered or hidden: every comparison is false
        return False
    return {"equals": answer == value, "not_equals": answer != value,
            "in": answer in value, "not_in": answer not in value}[op]


def seen_under(question, arrangement: str) -> bool:
    """The question can be shown to a business with this arrangement: one that pays no IT
    company, or left the billing model out, then said who looks after IT."""
    if question.show_if is None:
        return True
    return any(_holds(question.show_if.as_data(),
                      {"profile.it_support": arrangement, "profile.billing_model": billing})
               is not False for billing in ("in_house", None))


def owner_texts(bank, arrangement: str):
    """(where, text) for every sentence a business with this arrangement can meet, worded for
    it the way the pages and the report word it."""
    def adapt(text):
        return wording.adapt(text, arrangement)

    for section in bank.sections:
        yield section.id, section.title
        yield section.id, section.intro
    for q in bank.questions:
        if not seen_under(q, arrangement):
            continue
        yield q.id, adapt(q.text)
        yield f"{q.id} help", adapt(q.help)
        if q.hint:
            yield f"{q.id} hint", adapt(q.hint)
        for c in q.choices:
            yield f"{q.id} choice {c.id}", adapt(c.label)
        for r in q.recommendations:
            for field in ("title", "text", "done_when"):
                yield f"{q.id}:{r.id} {field}", adapt(getattr(r, field) or "")
            yield f"{q.id}:{r.id} who", wording.who_text(r.who, arrangement)
            yield f"{q.id}:{r.id} facts", wording.facts_short(r.who, r.effort, r.cost,
                                                              arrangement)
        for f in q.ask_provider:
            yield f"{q.id} ask", adapt(f.text)
        rule = q.critical
        if rule is not None:
            yield f"{q.id} finding", adapt(rule.finding)
            if rule.lesser is not None:
                yield f"{q.id} lesser finding", adapt(rule.lesser.finding)
            if rule.not_sure is not None and rule.not_sure.finding:
                yield f"{q.id} not sure finding", adapt(rule.not_sure.finding)
    for p in bank.provider_questions:
        yield f"standing {p.id}", adapt(p.text)
    yield "heading this week", wording.ask_this_week(arrangement)
    yield "heading every question", wording.every_question(arrangement)


@pytest.mark.parametrize("arrangement", NOT_PROVIDER)
def test_every_sentence_fits_a_business_without_a_provider(bank, arrangement):
    found = [f"  {where}: {problems(text)}: {text}"
             for where, text in owner_texts(bank, arrangement) if problems(text)]
    assert not found, f"words that do not fit '{arrangement}':\n" + "\n".join(found)


def test_a_provider_keeps_the_provider_words(bank):
    assert wording.ask_this_week("provider") == "Ask your IT provider this week"
    assert wording.every_question("provider") == "Every question for your IT provider"
    assert wording.who_text("provider", "provider") == "Your IT provider"
    text = "Ask your provider or IT person what is monitored. Your provider's report shows it."
    assert wording.adapt(text, "provider") == \
        "Ask your provider what is monitored. Your provider's report shows it."
    assert wording.adapt(text, None) == wording.adapt(text, "hourly") == \
        wording.adapt(text, "provider")


@pytest.mark.parametrize(("arrangement", "expected"), [
    ("in_house", "Ask your IT person to lock one copy. Your IT person confirms it in writing."),
    ("family", "Ask whoever looks after your IT to lock one copy. Whoever looks after your IT "
               "confirms it in writing."),
    ("nobody", "Ask whoever takes on your IT to lock one copy. Whoever takes on your IT "
               "confirms it in writing."),
])
def test_provider_words_become_the_words_of_the_business(arrangement, expected):
    text = "Ask your IT provider to lock one copy. The provider confirms it in writing."
    assert wording.adapt(text, arrangement) == expected
    assert wording.who_text("provider", arrangement) == wording.helper(arrangement, capital=True)
    assert wording.adapt("Your provider or IT person has them.", arrangement) == \
        wording.helper(arrangement, capital=True) + " has them."
    assert wording.adapt("Your provider's report.", "in_house") == "Your IT person's report."


@pytest.mark.parametrize(("profile", "expected"), [
    ({}, "provider"),
    ({"billing_model": "hourly"}, "provider"),
    ({"billing_model": "in_house"}, "in_house"),  # an answer file from before it was asked
    ({"it_support": "family"}, "family"),
    ({"it_support": "nobody", "billing_model": "flat"}, "nobody"),
    ({"it_support": "provider", "billing_model": "in_house"}, "provider"),
])
def test_the_arrangement_comes_from_the_profile(profile, expected):
    assert wording.arrangement(profile) == expected
    # Callers not yet changed pass a billing model: in_house stays in_house.
    assert wording.who_text("provider", profile.get("billing_model")) == (
        "Your IT person" if profile.get("billing_model") == "in_house" else "Your IT provider")


# ------------------------------------------------------------------ which questions are asked


PROVIDER_ONLY = ("provider.proactive", "provider.remote_tools")
# Asked only where there is an agreement to hold the provider to (a fee or a block of hours).
AGREEMENT_ONLY = ("provider.response_times", "provider.exit_terms")


def applicable(bank, raw) -> set[str]:
    answers, errors = parse_answers(bank, raw)
    assert not errors
    return {o.question.id for o in score(bank, answers).outcomes if o.applicable}


@pytest.mark.parametrize("arrangement", NOT_PROVIDER)
@pytest.mark.parametrize("billing", ["in_house", None])
def test_questions_about_an_outside_provider_are_not_asked_without_one(bank, arrangement,
                                                                        billing):
    profile = {"profile.it_support": arrangement}
    if billing:
        profile["profile.billing_model"] = billing
    asked = applicable(bank, profile)
    assert "profile.it_support" in asked
    assert not asked & set(PROVIDER_ONLY)
    assert "provider.it_person" in asked, "who looks after IT still counts in the score"
    with_helper = applicable(bank, profile | {"provider.it_person": HELPER_ANSWERS[arrangement]})
    assert ("provider.it_cover" in with_helper) == (arrangement != "nobody")


def test_an_outside_provider_is_asked_about_and_old_answer_files_read_as_before(bank):
    for raw in ({"profile.it_support": "provider"}, {"profile.billing_model": "mixed"}, {},
                {"profile.billing_model": "in_house", "profile.it_support": "provider"}):
        asked = applicable(bank, raw)
        assert set(PROVIDER_ONLY) <= asked and "provider.it_person" not in asked, raw
    old = applicable(bank, {"profile.billing_model": "in_house"})
    assert not old & set(PROVIDER_ONLY) and "provider.it_person" in old
    for billing, agreement in (("flat", True), ("mixed", True), ("block", True),
                               ("hourly", False), ("in_house", False)):
        asked = applicable(bank, {"profile.billing_model": billing})
        assert (set(AGREEMENT_ONLY) <= asked) is agreement, billing
        assert agreement or not asked & set(AGREEMENT_ONLY), billing


def test_a_business_that_pays_an_it_company_is_not_asked_who_looks_after_it(bank):
    """Paying by the hour, a block, a fee or a mix means there is a provider: the question of
    who looks after IT is not asked, and an answer left from before does not count."""
    raw = {"profile.billing_model": "hourly", "profile.it_support": "family"}
    assert "profile.it_support" not in applicable(bank, raw)
    answers, errors = parse_answers(bank, raw)
    assert not errors
    assert wording.arrangement(score(bank, answers).profile) == "provider"


# ------------------------------------------------------------------ whole pages


def worst_answers(bank) -> dict:
    """Every scored question at its worst answer: the longest plan there is."""
    raw = {}
    for q in bank.questions:
        if not q.scored:
            continue
        if q.type in ("single", "yesno"):
            raw[q.id] = min(q.choices, key=lambda c: c.score).id
        elif q.type == "multi":  # the choice that says none apply
            raw[q.id] = [min(q.choices, key=lambda c: c.score).id]
        elif q.type == "scale":
            raw[q.id] = int(q.min)
        elif q.type == "number":
            worst = min(range(len(q.bands)), key=lambda i: q.bands[i].score)
            band = q.bands[worst]
            raw[q.id] = band.up_to if band.up_to is not None else q.bands[worst - 1].up_to + 1
    return raw


def not_sure_answers(bank) -> dict:
    """"Not sure" wherever it is offered: every "find out" step."""
    raw = worst_answers(bank)
    raw.update({q.id: {"state": "not_sure"} for q in bank.questions if q.not_sure})
    return raw


def answer_sets(bank) -> dict[str, dict]:
    fixture = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
    return {"break_fix": fixture, "worst": worst_answers(bank) | _profile(fixture),
            "not_sure": not_sure_answers(bank) | _profile(fixture)}


def _profile(raw: dict) -> dict:
    return {qid: value for qid, value in raw.items() if qid.startswith("profile.")}


def result_for(bank, raw: dict, arrangement: str):
    raw = dict(raw)
    raw["profile.billing_model"] = "in_house"
    raw["profile.it_support"] = arrangement
    raw.setdefault("provider.it_person", HELPER_ANSWERS[arrangement])
    answers, errors = parse_answers(bank, raw)
    assert not errors
    return score(bank, answers)


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def check_page(text: str, result, arrangement: str, name: str) -> None:
    # A question that did not apply may be listed as "not asked" in the full report.
    for o in result.outcomes:
        if not o.applicable:
            text = text.replace(" ".join(o.question.text.split()), " ")
    found = problems(text, (PROVIDER_WORDS, BAD_REWRITES))  # a page joins its cells
    if found:
        spots = [text[max(0, m.start() - 80):m.end() + 40]
                 for pattern in (PROVIDER_WORDS, BAD_REWRITES) for m in pattern.finditer(text)]
        pytest.fail(f"{name} for '{arrangement}': {found}\n" + "\n".join(spots[:10]))


@pytest.mark.parametrize("arrangement", NOT_PROVIDER)
def test_reports_fit_the_business(bank, arrangement):
    for name, raw in answer_sets(bank).items():
        result = result_for(bank, raw, arrangement)
        assert result.actions, name
        for full in (False, True):
            report = ReportInput(result=result, business_name="Harbour Street Dental",
                                 assessed_on=date(2025, 3, 12), full=full)
            text = visible_text(render_html(report))
            assert wording.ask_this_week(arrangement) in text
            check_page(text, result, arrangement,
                       f"{'full' if full else 'leadership'} report, {name}")


@pytest.mark.parametrize("arrangement", NOT_PROVIDER)
def test_results_page_fits_the_business(app, arrangement):
    bank = app.extensions["bank"]
    for name, raw in answer_sets(bank).items():
        result = result_for(bank, raw, arrangement)
        with app.test_request_context("/assessment/results"):
            page = render_template("wizard/results.html", title="Your results", result=result,
                                   bank=bank, assessment={"status": "finished"},
                                   business="Harbour Street Dental",
                                   resume_url="http://localhost/assessment/resume/x")
        text = visible_text(page)
        assert wording.ask_this_week(arrangement) in text
        check_page(text, result, arrangement, f"results page, {name}")


def test_results_page_and_report_still_name_a_provider(app):
    bank = app.extensions["bank"]
    raw = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
    answers, errors = parse_answers(bank, raw)
    assert not errors
    result = score(bank, answers)
    with app.test_request_context("/assessment/results"):
        page = render_template("wizard/results.html", title="Your results", result=result,
                               bank=bank, assessment={"status": "finished"}, business="",
                               resume_url="http://localhost/assessment/resume/x")
    assert "Ask your IT provider this week" in page
    assert "Every question for your IT provider" in page
    report = render_html(ReportInput(result=result, business_name="Harbour Street Dental",
                                     assessed_on=date(2025, 3, 12), full=True))
    assert "Ask your IT provider this week" in report
    assert "Every question for your IT provider" in report
