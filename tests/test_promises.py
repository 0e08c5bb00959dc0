"""From one assessment to the next on a client's roadmap (core/promises.py and the workspace's
Finish and Renew): the plan becomes proposed actions once, however often it is finished; the
next assessment asks the promises' questions first and afresh; finishing it verifies what its
answers prove, marks a claimed action that they contradict "not confirmed", and a verified one
failing again "regressed"."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from assessment.core import promises
from assessment.core.actions import Move, Status, decide
from assessment.core.scoring import parse_answer, score
from assessment.storage import actions as roadmap
from assessment.storage import clients as store
from assessment.storage import connect, save_answer, stored_answers
from assessment.support.config import database as database_of
from assessment.web.answer_fields import field_name

from .conftest import FIXTURES
from .workspace_fixtures import csrf_token, make_member, sign_in, started_id

pytestmark = pytest.mark.both_backends

TODAY = date.today()


def fixture_answers(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["answers"]


def scored(app, raw: dict):
    bank = app.extensions["bank"]
    return score(bank, {qid: parse_answer(bank.question_by_id[qid], value)
                        for qid, value in raw.items()})


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


@pytest.fixture
def ana(app, adb):
    member = make_member(app, name="Ana Smith")
    browser = app.test_client()
    assert sign_in(browser, member["email"]).status_code == 303
    member["browser"] = browser
    member["client_id"] = store.create_client(adb, member["firm_id"], name="Harbour Dental")
    return member


def post(browser, url: str, data: dict | None = None):
    token = csrf_token(browser.get("/workspace/", follow_redirects=True).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **(data or {})})


def interview_with(app, adb, ana, raw: dict) -> str:
    """A new interview of the client, every answer given, finished through the workspace."""
    started = post(ana["browser"], f"/workspace/clients/{ana['client_id']}/interview")
    assessment_id = started_id(started)
    bank = app.extensions["bank"]
    for qid, value in raw.items():
        save_answer(adb, assessment_id, qid, base_version=0, source="consultant",
                    answer=parse_answer(bank.question_by_id[qid], value))
    finished = post(ana["browser"], f"/workspace/assessments/{assessment_id}/finish")
    assert finished.status_code == 303
    return assessment_id


def agree(adb, ana, action, *, due: date, person: str = "Sam at Acme IT"):
    decision = decide(action, Move(Status.AGREED, due=due, person=person), who="Ana",
                      today=TODAY)
    assert roadmap.save_decision(adb, ana["firm_id"], decision)
    return roadmap.get_action(adb, ana["firm_id"], action.id)


def test_the_plan_becomes_proposed_actions_once(app, adb, ana):
    raw = fixture_answers("break_fix_untested_backups")
    first = interview_with(app, adb, ana, raw)
    made = roadmap.client_actions(adb, ana["firm_id"], ana["client_id"])
    steps = scored(app, raw).steps
    assert len(made) == len(steps) > 5
    assert {a.status for a in made} == {Status.PROPOSED}
    assert len({a.finding for a in made}) == len(made)  # one action per finding
    by_title = {a.title: a for a in made}
    for step in steps:
        action = by_title[step.title]
        assert action.questions and action.from_assessment == first
        assert action.due == (TODAY + timedelta(days=step.days) if step.days else None)
        assert action.original_due is None  # not a promise until agreed
    assert any(a.severity == "existential" for a in made)
    assert any(a.party == "client" for a in made) and any(a.party == "provider" for a in made)
    assert sum(a.score_gain for a in made) > 0

    # Finished again after a reopen, and a second assessment finding the same: nothing twice.
    assert post(ana["browser"], f"/workspace/assessments/{first}/reopen").status_code == 303
    assert post(ana["browser"], f"/workspace/assessments/{first}/finish").status_code == 303
    second = interview_with(app, adb, ana, raw)
    again = roadmap.client_actions(adb, ana["firm_id"], ana["client_id"])
    assert sorted(a.id for a in again) == sorted(a.id for a in made)
    events = roadmap.action_events(adb, ana["firm_id"], made[0].id)
    assert [e.assessment for e in events] == [first, second]  # made by one, found again by one
    assert events[1].reason.startswith("found again")


def test_the_next_assessment_proves_and_disproves_the_promises(app, adb, ana):
    before = fixture_answers("break_fix_untested_backups")
    interview_with(app, adb, ana, before)
    made = roadmap.client_actions(adb, ana["firm_id"], ana["client_id"])

    # The next answers: a well-run business, except for one promise's questions, which still
    # fail as they did.
    after = fixture_answers("well_run_managed")
    fixed = scored(app, after)
    still_raised = {a.id for a in fixed.actions}
    kept = next(a for a in made if not a.finding.startswith(promises.FIND_OUT)
                and a.finding not in still_raised)
    claimed = next(a for a in made if a is not kept and not a.finding.startswith(
        promises.FIND_OUT) and all(q in before for q in a.questions)
        and a.finding in {x.id for x in scored(
            app, {**after, **{q: before[q] for q in a.questions}}).actions})
    mixed = {**after, **{q: before[q] for q in claimed.questions}}

    kept = agree(adb, ana, kept, due=TODAY + timedelta(days=30))
    claimed = agree(adb, ana, claimed, due=TODAY + timedelta(days=30))
    done = decide(claimed, Move(Status.DONE), who="Ana", today=TODAY)
    assert roadmap.save_decision(adb, ana["firm_id"], done)

    # Renewing asks the promises first, and afresh: their answers are not copied.
    renewed = post(ana["browser"], f"/workspace/clients/{ana['client_id']}/renew")
    renewed_id = started_id(renewed)
    assert renewed.headers["Location"] == f"/workspace/assessments/{renewed_id}/promises"
    copied = stored_answers(adb, renewed_id)
    promised = set(kept.questions) | set(claimed.questions)
    assert copied and not promised & set(copied)
    page = ana["browser"].get(renewed.headers["Location"]).get_data(as_text=True)
    assert f"Last time you agreed: {kept.title}" in page
    assert "Sam at Acme IT" in page and "is it really done?" in page
    for qid in promised:
        assert f'id="q-{qid}"' in page
    # Answered there, saved like the interview's answers, and on to the rest.
    qid = next(q for q in kept.questions if isinstance(after.get(q), str))
    name = field_name(app.extensions["bank"].question_by_id[qid])
    saved = post(ana["browser"], renewed.headers["Location"], {name: after[qid], "v_" + name: "0"})
    assert saved.status_code == 303 and "/interview/" in saved.headers["Location"]
    assert stored_answers(adb, renewed_id)[qid].answer.value == after[qid]

    second = interview_with(app, adb, ana, mixed)
    now = {a.id: a for a in roadmap.client_actions(adb, ana["firm_id"], ana["client_id"])}
    assert now[kept.id].status is Status.VERIFIED
    assert now[kept.id].verified_by == second and now[kept.id].verified_on == TODAY
    assert now[claimed.id].status is Status.NOT_CONFIRMED
    history = roadmap.action_events(adb, ana["firm_id"], claimed.id)
    assert (history[-1].from_status, history[-1].to_status, history[-1].assessment) == (
        Status.DONE, Status.NOT_CONFIRMED, second)

    # A third assessment finds the verified promise failing again: regressed, and the plan
    # step for it is that same action, not a new one.
    third = interview_with(app, adb, ana, before)
    regressed = roadmap.get_action(adb, ana["firm_id"], kept.id)
    assert regressed.status is Status.REGRESSED
    last = roadmap.action_events(adb, ana["firm_id"], kept.id)[-1]
    assert (last.from_status, last.to_status, last.assessment) == (
        Status.VERIFIED, Status.REGRESSED, third)
    findings = [a.finding for a in roadmap.client_actions(adb, ana["firm_id"],
                                                           ana["client_id"])
                if a.status not in (Status.VERIFIED, Status.DROPPED)]
    assert len(findings) == len(set(findings))


def test_sync_is_pure_and_links_a_step_found_again(app):
    result = scored(app, fixture_answers("break_fix_untested_backups"))
    first = promises.sync(result, [], client_id=1, assessment_id="a1", today=TODAY)
    assert not first.decisions and not first.linked and len(first.new) == len(result.steps)
    stored = [a.__class__(**{**a.__dict__, "id": n}) for n, a in enumerate(first.new, 1)]
    again = promises.sync(result, stored, client_id=1, assessment_id="a2", today=TODAY)
    assert not again.new and len(again.linked) == len(result.steps)
    # Nothing proven: every finding is still raised by the same answers.
    assert not again.decisions


def test_a_self_assessment_link_asks_the_client_about_the_promises_first(app, adb, ana):
    """A consultant sends the client a self-assessment link instead of interviewing: the
    client is asked about last time's promises first, in their own words and afresh, and the
    firm's Finish proves them from the client's answers."""
    before = fixture_answers("break_fix_untested_backups")
    interview_with(app, adb, ana, before)
    after = fixture_answers("well_run_managed")
    fixed = {a.id for a in scored(app, after).actions}
    kept = next(a for a in roadmap.client_actions(adb, ana["firm_id"], ana["client_id"])
                if a.party == "provider" and a.finding not in fixed
                and all(isinstance(after.get(q), str) for q in a.questions))
    kept = agree(adb, ana, kept, due=TODAY + timedelta(days=30))

    sent = post(ana["browser"], f"/workspace/clients/{ana['client_id']}/self-assessment")
    link = re.search(r"/assessment/resume/[\w-]+", sent.get_data(as_text=True)).group(0)
    owner = app.test_client()
    welcome = owner.get(link).get_data(as_text=True)  # who sent it, and a button to begin
    opened = owner.post(link, data={"csrf_token": csrf_token(welcome)})
    assert opened.status_code == 303 and opened.headers["Location"] == "/assessment/promises"

    page = owner.get("/assessment/promises").get_data(as_text=True)
    assert f"Agreed last time: {kept.title}" in page
    assert "Who does it: your IT provider (Sam at Acme IT)" in page and "Is it done now?" in page
    bank = app.extensions["bank"]
    on_page = re.findall(r'id="q-([\w.]+)"', page)
    # The promise's questions, each after the questions that decide whether it is asked
    # (nothing is answered yet in a new self-assessment).
    assert set(kept.questions) <= set(on_page)
    assert all(on_page.index(g) < on_page.index(q) for q in kept.questions
               for g in bank.question_by_id[q].condition_refs), on_page
    form = {"csrf_token": csrf_token(page), "resume": link.rsplit("/", 1)[1]}
    for qid in on_page:
        name = field_name(bank.question_by_id[qid])
        assert f'value="{after[qid]}" checked' not in page  # nothing pre-filled
        form |= {name: after[qid], "v_" + name: "0"}
    # A value no question offers: refused on the page, with the question named; nothing saved.
    first = field_name(bank.question_by_id[on_page[0]])
    refused = owner.post("/assessment/promises", data={**form, first: "not-a-choice"})
    assert refused.status_code == 422 and "There is a problem" in refused.get_data(as_text=True)
    saved = owner.post("/assessment/promises", data=form)
    assert saved.status_code == 303 and saved.headers["Location"].startswith("/assessment/section/")
    assessment_id = next(a["id"] for a in store.client_assessments(
        adb, ana["firm_id"], ana["client_id"]) if a["mode"] == "self")
    answered = stored_answers(adb, assessment_id, "owner")
    assert {q: answered[q].answer.value for q in kept.questions} == \
        {q: after[q] for q in kept.questions}
    hub = owner.get("/assessment/").get_data(as_text=True)
    assert "What was agreed last time" in hub and "Checked" in hub

    # The client answers the rest; the firm finishes it; the promise is proven by it.
    for qid, value in after.items():
        if qid not in answered:
            save_answer(adb, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], value))
    assert post(ana["browser"], f"/workspace/assessments/{assessment_id}/finish"
                ).status_code == 303
    proven = roadmap.get_action(adb, ana["firm_id"], kept.id)
    assert proven.status is Status.VERIFIED and proven.verified_by == assessment_id
    # Finished by the firm: the client's link no longer offers the promises.
    assert owner.get("/assessment/promises").status_code == 303
