"""The consultant's pages around Finish: a new interview starts at its first question, the
assessment page before and after Finish, the state of a finished client's link, and Compare
(named assessments, findings apart from steps, what is still open by section and by workstream,
and a workspace page when the two are not chosen)."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape

from assessment.core.history import compare
from assessment.core.scoring import parse_answer
from assessment.storage import clients as store
from assessment.storage import connect, save_answer
from assessment.support.config import database as database_of

from .conftest import FIXTURES
from .workspace_fixtures import csrf_token, make_member, sign_in, started_id

pytestmark = pytest.mark.both_backends


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


@pytest.fixture
def ana(app):
    member = make_member(app, name="Ana Smith")
    browser = app.test_client()
    assert sign_in(browser, member["email"]).status_code == 303
    member["browser"] = browser
    return member


def post(browser, url: str, data: dict | None = None, page: str = "/workspace/"):
    token = csrf_token(browser.get(page, follow_redirects=True).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **(data or {})})


def answer_all(app, db, assessment_id: str, name: str = "well_run_managed",
               source: str = "consultant", only: set[str] | None = None) -> None:
    bank = app.extensions["bank"]
    answers = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["answers"]
    for qid, raw in answers.items():
        if only is None or qid in only:
            save_answer(db, assessment_id, qid, base_version=0, source=source,
                        answer=parse_answer(bank.question_by_id[qid], raw))


def primary_buttons(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", text).strip() for text in re.findall(
        r'class="button button-primary"[^>]*>(.*?)</(?:a|button)>', page, re.S)]


def test_start_an_interview_opens_its_first_question(app, ana, adb):
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    started = post(ana["browser"], f"/workspace/clients/{client_id}/interview")
    assert started.status_code == 303
    assessment_id = started_id(started)
    first = app.extensions["bank"].sections[0]
    assert started.headers["Location"] == (f"/workspace/assessments/{assessment_id}/interview/"
                                           f"{first.id}#q-{first.questions[0].id}")
    page = ana["browser"].get(started.headers["Location"]).get_data(as_text=True)
    assert f'id="q-{first.questions[0].id}"' in page


def test_a_new_interview_says_start_and_offers_no_report(app, ana, adb):
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    assessment_id = started_id(post(ana["browser"], f"/workspace/clients/{client_id}/interview"))
    page = ana["browser"].get(f"/workspace/assessments/{assessment_id}").get_data(as_text=True)
    assert primary_buttons(page) == ["Start the interview"]
    assert "Continue the interview" not in page
    assert "report.pdf" not in page and f"/assessments/{assessment_id}/report" not in page
    assert "Final score" not in page

    # One answer in: continue where it stops, and the reports are offered.
    answer_all(app, adb, assessment_id, only={"backup.automatic"})
    page = ana["browser"].get(f"/workspace/assessments/{assessment_id}").get_data(as_text=True)
    assert primary_buttons(page) == ["Continue the interview"]
    assert "Download the leadership report (PDF)" in page and "Score so far" in page
    assert "Final score" not in page and "Finish the assessment" not in page


def test_after_finish_the_page_shows_the_final_score_and_the_reports_first(app, ana, adb):
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    assessment_id = started_id(post(ana["browser"], f"/workspace/clients/{client_id}/interview"))
    answer_all(app, adb, assessment_id)
    url = f"/workspace/assessments/{assessment_id}"
    before = ana["browser"].get(url).get_data(as_text=True)
    assert primary_buttons(before) == ["Finish the assessment"]
    assert "Score so far" in before and 'class="progress"' in before

    finished = post(ana["browser"], f"{url}/finish", page=url)
    assert finished.status_code == 303
    page = ana["browser"].get(url).get_data(as_text=True)
    result = _result(app, adb, assessment_id)
    assert f"Final score: {round(result.score)}" in page
    assert f"({result.band.label}" in page
    assert "Score so far" not in page and "so far" not in page
    assert primary_buttons(page) == ["Download the leadership report (PDF)"]
    assert "Download the full report (PDF)" in page
    assert page.index("Download the leadership report") < page.index("Review in interview mode")
    review = re.search(r'<a class="([^"]*)"[^>]*>Review in interview mode</a>', page)
    assert review and review.group(1) == "button"  # secondary
    assert "Reopen the assessment" in page and "Finish the assessment" not in page
    assert 'class="progress' not in page  # nothing left to do, so no progress bar

    # Reopened: back to the page before Finish.
    post(ana["browser"], f"{url}/reopen", page=url)
    page = ana["browser"].get(url).get_data(as_text=True)
    assert "Final score" not in page and primary_buttons(page) == ["Finish the assessment"]


def _result(app, db, assessment_id):
    from assessment.core.scoring import score
    from assessment.storage import bank_of, get_assessment, stored_answers

    bank = bank_of(db, get_assessment(db, assessment_id))
    return score(bank, {q: s.answer for q, s in stored_answers(db, assessment_id).items()
                        if s.answer})


def test_the_link_of_a_finished_self_assessment_says_the_client_can_only_view_it(app, ana,
                                                                               adb):
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    made = post(ana["browser"], f"/workspace/clients/{client_id}/self-assessment")
    assert made.status_code == 200
    [record] = store.client_assessments(adb, ana["firm_id"], client_id)
    answer_all(app, adb, record["id"], source="owner")
    client_page = f"/workspace/clients/{client_id}"

    def state() -> str:
        page = ana["browser"].get(client_page).get_data(as_text=True)
        table = page[page.index('id="client-links-table"'):]
        return re.search(r'class="tag link-state">([^<]*)<', table).group(1)

    assert state() == "Active"
    url = f"/workspace/assessments/{record['id']}"
    assert post(ana["browser"], f"{url}/finish", page=url).status_code == 303
    assert state() == "Finished: the client can only view it"
    page = ana["browser"].get(client_page).get_data(as_text=True)
    assert "link-finished" in page
    assert f"/workspace/assessments/{record['id']}/link/cancel" in page  # it can still be stopped
    post(ana["browser"], f"{url}/reopen", page=url)
    assert state() == "Active"
    # A cancelled link stays cancelled, finished or not.
    post(ana["browser"], f"{url}/finish", page=url)
    post(ana["browser"], f"{url}/link/cancel", page=client_page)
    assert state() == "Cancelled"


# ---- Compare ------------------------------------------------------------------------------

@pytest.fixture
def two(app, ana, adb):
    """Harbour Dental's two interviews by Ana Smith on 7 Dec 2026, at 09:14 and 11:02 UTC:
    untested backups first, then a well-run business."""
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    made = []
    for hour, answers in (("09:14", "break_fix_untested_backups"),
                          ("11:02", "well_run_managed")):
        a = store.start_client_assessment(adb, app.extensions["bank"], ana["firm_id"],
                                          client_id, mode="interview",
                                          created_by=ana["user_id"])
        answer_all(app, adb, a, name=answers)
        adb.execute("UPDATE assessments SET created_at = ? WHERE id = ?",
                    [f"2026-12-07T{hour}:00+00:00", a])
        made.append(a)
    return client_id, made


def test_compare_names_both_assessments_with_date_time_and_who(ana, two):
    client_id, (first, second) = two
    page = ana["browser"].get(f"/workspace/clients/{client_id}/compare?a={first}&b={second}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    lead = re.search(r'<p class="lead">(.*?)</p>', text, re.S).group(1)
    lead = " ".join(lead.split())
    assert lead.startswith("From 7 Dec 2026, 09:14 UTC (interview by Ana Smith) to "
                           "7 Dec 2026, 11:02 UTC (interview by Ana Smith): score ")


def test_compare_keeps_findings_apart_from_steps_and_groups_what_is_open(app, ana, adb, two):
    client_id, (first, second) = two
    diff = compare(_result(app, adb, first), _result(app, adb, second))
    assert diff.findings_resolved and diff.steps_done  # the well-run business fixed things
    text = ana["browser"].get(f"/workspace/clients/{client_id}/compare?a={first}&b={second}") \
        .get_data(as_text=True)
    for heading, items in (("Findings resolved", diff.findings_resolved),
                           ("New findings", diff.findings_new),
                           ("Findings still open", diff.findings_open),
                           ("Steps done", diff.steps_done), ("New steps", diff.steps_new),
                           ("Steps still open", diff.steps_open)):
        assert f">{heading} ({len(items)})</h3>" in text, heading
    assert "Resolved (" not in text and ">Still open (" not in text
    resolved = text[text.index('id="findings-resolved"'):text.index('id="findings-new"')]
    for f in diff.findings_resolved:
        assert str(escape(f.title)) in resolved  # as the page writes it ("patients&#39;")
    done = text[text.index('id="steps-done"'):text.index('id="steps-new"')]
    for s in diff.steps_done:
        assert str(escape(s.title)) in done
    assert not any(str(escape(f.title)) in done for f in diff.findings_resolved)


def test_what_is_still_open_is_grouped_by_section_and_by_workstream(app, ana, adb):
    client_id = store.create_client(adb, ana["firm_id"], name="Cedar Lane")
    made = []
    for _ in range(2):
        a = store.start_client_assessment(adb, app.extensions["bank"], ana["firm_id"],
                                          client_id, mode="interview",
                                          created_by=ana["user_id"])
        answer_all(app, adb, a, name="break_fix_untested_backups")
        made.append(a)
    result = _result(app, adb, made[0])
    diff = compare(result, result)
    assert len(diff.findings_open) == len(result.critical_findings)
    assert len(diff.steps_open) == len(result.steps)
    text = ana["browser"].get(f"/workspace/clients/{client_id}/compare?a={made[0]}&b={made[1]}") \
        .get_data(as_text=True)
    findings = text[text.index('id="findings-open"'):text.index('id="steps"')]
    steps = text[text.index('id="steps-open"'):]
    groups = re.findall(r'<h4 class="still-open-group">([^<]*) \((\d+)\)</h4>', findings)
    assert groups == [(title, str(len(items))) for title, items in diff.findings_open_by_section]
    sections = [s.title for s in app.extensions["bank"].sections]
    assert [t for t, _ in groups] == sorted((t for t, _ in groups), key=sections.index)
    groups = re.findall(r'<h4 class="still-open-group">([^<]*) \((\d+)\)</h4>', steps)
    assert groups == [(title, str(len(items))) for title, items in diff.steps_open_by_workstream]
    assert {t for t, _ in groups} == {w.workstream.title for w in result.workstreams}
    assert sum(int(n) for _, n in groups) == len(result.steps)


@pytest.mark.parametrize("query, status", [
    ("", 400), ("?a=", 400), ("?b=x", 400), ("?a=not-an-assessment&b=not-either", 404)])
def test_compare_without_its_two_choices_is_a_workspace_page_that_says_what_to_choose(
        ana, two, query, status):
    client_id, _ = two
    reply = ana["browser"].get(f"/workspace/clients/{client_id}/compare{query}")
    assert reply.status_code == status
    text = reply.get_data(as_text=True)
    assert "Page not found" not in text
    assert "Choose two assessments to compare" in text
    assert 'class="workspace-nav"' in text and "Sign out" in text  # inside the workspace
    assert f'href="/workspace/clients/{client_id}#assessments"' in text


def test_compare_with_another_clients_or_firms_assessment_says_so_and_shows_nothing(
        app, ana, adb, two):
    client_id, (first, _) = two
    other_client = store.create_client(adb, ana["firm_id"], name="Other Client")
    theirs = store.start_client_assessment(adb, app.extensions["bank"], ana["firm_id"],
                                           other_client, mode="interview",
                                           created_by=ana["user_id"])
    eve = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    elsewhere = store.create_client(adb, eve["firm_id"], name="Elsewhere client")
    foreign = store.start_client_assessment(adb, app.extensions["bank"], eve["firm_id"],
                                            elsewhere, mode="interview",
                                            created_by=eve["user_id"])
    for wrong in (theirs, foreign):
        reply = ana["browser"].get(f"/workspace/clients/{client_id}/compare?a={first}&b={wrong}")
        assert reply.status_code == 404
        text = reply.get_data(as_text=True)
        assert "Choose two assessments to compare" in text and "Elsewhere" not in text
        assert "Other Client" not in text


def test_compare_for_a_client_with_one_assessment_says_a_second_is_needed(app, ana, adb):
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    store.start_client_assessment(adb, app.extensions["bank"], ana["firm_id"], client_id,
                                  mode="interview", created_by=ana["user_id"])
    reply = ana["browser"].get(f"/workspace/clients/{client_id}/compare")
    assert reply.status_code == 400
    assert "Harbour Dental has one assessment yet. A comparison needs two" in \
        reply.get_data(as_text=True).replace("&#39;", "'")
