"""The cost page counts; it does not accuse. Support bills and the downtime they did not prevent
stand side by side and are never added up as "the way of paying"; the billing model is described
as it works, never as a provider profiting from problems (owners forward the report to that
provider); an hourly downtime cost worked out from sales carries its caveat, in the report and
on the results page."""

from __future__ import annotations

import json
from datetime import date

import pytest

from assessment.core.scoring import parse_answer, parse_answers, score
from assessment.report import ReportInput, render_html
from assessment.report.content import BILLING_TEXT, REVENUE_CAVEAT, build_context
from assessment.storage import create_assessment, save_answer, set_status

from .conftest import FIXTURES

RAW = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
ACCUSING = ("earns more", "earn more", "profit", "when things go wrong", "paid to keep",
            "way of paying", "in all")


def report_for(bank, **changes) -> ReportInput:
    raw = {key: value for key, value in {**RAW, **changes}.items() if value is not None}
    answers, errors = parse_answers(bank, raw)
    assert not errors
    return ReportInput(result=score(bank, answers), business_name="Harbour Street Dental",
                       assessed_on=date(2026, 3, 12))


@pytest.fixture(scope="module")
def hourly(bank):
    """Paid by the hour, with its own hourly downtime figure ($850 x 31 hours)."""
    return report_for(bank)


@pytest.fixture(scope="module")
def from_sales(bank):
    """The same business without an hourly figure: it is worked out from sales."""
    return report_for(bank, **{"profile.downtime_cost_per_hour": None})


def cost_section(html: str) -> str:
    start = html.index('id="costs"')
    return html[start:html.index("</section>", start)]


@pytest.mark.parametrize("model", sorted(BILLING_TEXT))
def test_no_billing_model_is_described_as_a_motive(model):
    text = BILLING_TEXT[model].lower()
    assert not any(word in text for word in ACCUSING), text


def test_paying_by_the_hour_is_described_as_it_works(hourly):
    costs = build_context(hourly)["costs"]
    assert costs["billing"] == ("You pay for IT support by the hour, when something breaks. "
                                "Under this model, preventive work is only done when you ask "
                                "and pay for it.")


def test_support_bills_and_downtime_are_side_by_side_not_added_up(hourly):
    c = hourly.result.costs
    assert c.it_spend_12m == 18400 and c.downtime_cost_12m == 26350
    section = cost_section(render_html(hourly))
    total = c.money(c.it_spend_12m + c.downtime_cost_12m)  # $44,750
    assert total not in section
    for words in ACCUSING:
        assert words not in section.lower(), words
    # Both figures are there, each on its own.
    assert c.money(c.it_spend_12m) in section and c.money(c.downtime_cost_12m) in section
    assert "shown side by side, not added up" in section
    comparison = build_context(hourly)["costs"]["comparison"]
    assert "set the fee against last year's support bills: $18,400, or $1,533 a month" \
        in comparison
    assert "The $26,350 of lost working time is a separate cost." in comparison
    assert "This is a way to judge quotes, not a price." in comparison


def test_no_comparison_for_a_fixed_fee(bank):
    report = report_for(bank, **{"profile.billing_model": "flat"})
    costs = build_context(report)["costs"]
    assert costs["comparison"] is None
    assert "fixed monthly fee" in costs["billing"]


def test_an_hourly_figure_from_sales_carries_its_caveat(from_sales):
    c = from_sales.result.costs
    assert c.hourly_basis == "revenue"
    assert build_context(from_sales)["costs"]["caveat"] == REVENUE_CAVEAT
    section = cost_section(render_html(from_sales))
    assert "It assumes all work stops while IT is down" in section
    assert "machines keep cutting while the office computers are down" in section


def test_an_hourly_figure_of_the_owners_own_needs_no_caveat(hourly):
    assert hourly.result.costs.hourly_basis == "given"
    assert build_context(hourly)["costs"]["caveat"] is None
    assert "assumes all work stops" not in render_html(hourly)


@pytest.fixture
def app(tmp_path):
    from assessment import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "x",
                       "DATABASE": str(tmp_path / "c.sqlite"),
                       "REPORT_DIR": str(tmp_path / "reports")})


def results_page(app, raw: dict) -> str:
    """An owner's finished self-assessment with these answers: their results page."""
    from assessment.web import owner
    from assessment.web.db import current_bank, get_db

    with app.app_context():
        db, bank = get_db(), current_bank()
        token, token_hash = owner.new_resume_token()
        assessment_id = create_assessment(db, bank, resume_token_hash=token_hash)
        for qid, value in raw.items():
            save_answer(db, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], value))
        set_status(db, assessment_id, "finished")
    browser = app.test_client()
    assert browser.get(f"/assessment/resume/{token}").status_code == 303
    response = browser.get("/assessment/results")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_results_page_gives_the_caveat_for_a_figure_from_sales(app):
    raw = {k: v for k, v in RAW.items() if k != "profile.downtime_cost_per_hour"}
    page = results_page(app, raw)
    assert "The hourly figure assumes all work stops while IT is down." in page
    for words in ("earns more", "way of paying"):
        assert words not in page


def test_the_results_page_needs_no_caveat_for_the_owners_own_figure(app):
    assert "assumes all work stops" not in results_page(app, RAW)
