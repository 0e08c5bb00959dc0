"""No score before there is one: an assessment with no scored question answered yet has no
overall score, band or projection, and no page, report or command says 0 or Critical for it."""

from __future__ import annotations

import json
import re

import pytest

from assessment.storage import clients as store
from assessment.storage import connect, set_status
from assessment.support.config import database

from .workspace_fixtures import csrf_token, make_member, open_client_link, sign_in

pytestmark = pytest.mark.both_backends

PROFILE = {"q_profile__business_name": "Corner Bakery", "q_profile__currency": "gbp",
           "q_profile__sector": "retail", "q_profile__staff_count": "6",
           "q_profile__billing_model": "flat", "then": "next"}


def _says_no_score(page: str) -> None:
    text = re.sub(r"<[^>]+>", " ", page)
    assert "No overall score yet" in text
    assert "Critical" not in text
    assert not re.search(r"\b0\s+out of 100", text), "a missing score reads as 0"
    assert "level-critical" not in page


def _owner_with_only_the_profile(app):
    """An owner who starts an assessment and answers the profile page alone."""
    app.config["WTF_CSRF_ENABLED"] = False
    browser = app.test_client()
    assert browser.post("/assessment/start").status_code == 303
    saved = browser.post("/assessment/section/profile", data=PROFILE)
    assert saved.status_code == 303
    return browser


def _open_id(app, browser) -> str:
    with browser.session_transaction() as session:
        return session["assessment_id"]


def test_results_of_an_assessment_with_only_the_profile_say_no_score_yet(app):
    browser = _owner_with_only_the_profile(app)
    # Not finished: results wait for the answers, as ever.
    assert browser.get("/assessment/results").status_code == 303
    hub = browser.get("/assessment/").get_data(as_text=True)
    assert "Critical" not in re.sub(r"<[^>]+>", " ", hub)
    # Finished with no scored answer (say the firm closed it): the page still makes sense.
    db = connect(database(app.config))
    try:
        set_status(db, _open_id(app, browser), "finished")
    finally:
        db.close()
    response = browser.get("/assessment/results")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    _says_no_score(page)
    assert "Answer a scored section first" in page
    assert 'href="/assessment/section/' in page[page.index("No overall score yet"):]
    assert "Nothing here leaves the business exposed" not in page
    assert "Scores by area" not in page
    report = browser.get("/assessment/report")
    assert report.status_code == 200
    text = report.get_data(as_text=True)
    text = text[:text.index('id="method"')]  # the method page explains every band
    assert "Not scored yet" in text and "Critical" not in re.sub(r"<[^>]+>", " ", text)
    assert "already at best practice" not in text and "had a definite answer" not in text


def test_the_plan_chart_draws_no_today_bar_and_no_zero_without_a_score(app, bank):
    from assessment.core.scoring import parse_answers, score

    answers, _ = parse_answers(bank, {"profile.business_name": "Corner Bakery"})
    result = score(bank, answers)
    assert result.score is None
    with app.test_request_context("/"):
        chart = app.jinja_env.from_string(
            '{% from "wizard/_charts.html" import roadmap_chart %}{{ roadmap_chart(r, b) }}'
        ).render(r=result, b=bank)
    assert "Today" not in chart
    assert ">0<" not in chart and "—" in chart


def test_the_consultant_workspace_page_says_no_score_yet(app):
    member = make_member(app)
    firm = app.test_client()
    assert sign_in(firm, member["email"], member["password"]).status_code == 303
    db = connect(database(app.config))
    client_id = store.create_client(db, member["firm_id"], name="Corner Bakery")
    db.close()
    page = firm.get(f"/workspace/clients/{client_id}").get_data(as_text=True)
    made = firm.post(f"/workspace/clients/{client_id}/self-assessment",
                     data={"csrf_token": csrf_token(page)})
    link = re.search(r'id="share-link"[^>]*value="([^"]+)"',
                     made.get_data(as_text=True)).group(1)
    owner = app.test_client()
    assert open_client_link(owner, link).status_code == 303
    form = owner.get("/assessment/section/profile").get_data(as_text=True)
    assert owner.post("/assessment/section/profile",
                      data={**PROFILE, "csrf_token": csrf_token(form)}).status_code == 303
    db = connect(database(app.config))
    assessment_id = store.client_assessments(db, member["firm_id"], client_id)[-1]["id"]
    db.close()
    response = firm.get(f"/workspace/assessments/{assessment_id}")
    assert response.status_code == 200
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    assert "Score so far" not in text and "Critical" not in text
    assert not re.search(r"\b0\s+out of 100", text)
    report = firm.get(f"/workspace/assessments/{assessment_id}/report")
    assert report.status_code == 200
    text = report.get_data(as_text=True)
    assert "Not scored yet" in text and "Not answered yet." in text
    assert "Nothing here leaves the business exposed" not in text


def test_assess_score_of_an_empty_answers_file_prints_a_null_score(runner, tmp_path):
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"bank": "it_health",
                                "answers": {"profile.business_name": "Corner Bakery"}}))
    result = runner.invoke(args=["assess", "score", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["score"] is None and data["band"] is None and data["uncapped_band"] is None
    assert data["critical_findings"] == []
