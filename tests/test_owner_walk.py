"""The owner's wizard through its web routes, on SQLite and on PostgreSQL: what is saved on one
page and read back on a later one (every section saved, then checked, finished and shown;
autosave and its conflicts; the private link in another browser; a change made from "Check
your answers"). The browser tests of the same path (tests/e2e/test_wizard.py and
test_owner_path.py) run on SQLite only: what the engine can change is what is stored and read
back, and that is checked here on both."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assessment.core.scoring import parse_answer, score
from assessment.storage import (
    connect,
    create_assessment,
    find_by_resume_hash,
    save_answer,
    stored_answers,
)
from assessment.support.config import database as database_of
from assessment.support.tokens import hash_token, new_token
from assessment.web.section_page import raw_of

from .workspace_fixtures import csrf_token

pytestmark = pytest.mark.both_backends

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ANSWERS = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text(
    encoding="utf-8"))["answers"]
# Figures typed the way people write them (as the browser walk types them).
TYPED = {"profile.downtime_cost_per_hour": "$850", "profile.annual_revenue": "2,100,000",
         "profile.it_spend_12m": "$18,400", "profile.reactive_spend_12m": "15,900"}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
LINK = re.compile(r'id="resume-link"[^>]*value="http://localhost(/assessment/resume/[^"]+)"')


def field(qid: str) -> str:
    return "q_" + qid.replace(".", "__")


def form_value(raw):
    """An answer in the answers-file shape as the form sends it."""
    if isinstance(raw, dict):
        return raw["state"]
    if isinstance(raw, list):
        return [str(value) for value in raw]
    return str(raw)


def start(app):
    """A browser with a new assessment open (from the landing page's button)."""
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    assert owner.post("/assessment/start",
                      data={"csrf_token": csrf_token(landing)}).status_code == 303
    return owner


def open_id(owner) -> str:
    with owner.session_transaction() as session:
        return session["assessment_id"]


def stored(app, assessment_id: str) -> dict:
    """The owner's saved answers, in the answers-file shape."""
    db = connect(database_of(app.config))
    try:
        return {qid: raw_of(s.answer) for qid, s in
                stored_answers(db, assessment_id, "owner").items() if s.answer}
    finally:
        db.close()


def save_section(owner, path: str, answers: dict, then: str = "next"):
    """Post a section's form as the page sent it (token, private link, versions) with these
    answers."""
    page = owner.get(path).get_data(as_text=True)
    data = dict(HIDDEN.findall(page))
    data.update({field(qid): form_value(raw) for qid, raw in answers.items()})
    data["then"] = then
    return owner.post(path.split("?")[0], data=data)


def autosave(owner, token: str, qid: str, raw, base_version: int, key: str):
    return owner.post("/assessment/answer", json={
        "question": qid, "answer": raw, "base_version": base_version, "client_key": key},
        headers={"X-CSRFToken": token})


def checked(page: str, qid: str, value: str) -> bool:
    found = re.search(rf'<input[^>]*name="{field(qid)}" value="{value}"[^>]*>', page)
    assert found, f"{qid} has no choice {value!r} on the page"
    return "checked" in found.group(0)


def test_every_section_saved_keeps_what_was_asked_then_finishes_on_the_results(app):
    bank = app.extensions["bank"]
    owner = start(app)
    assessment_id = open_id(owner)
    for section in bank.sections:
        path = f"/assessment/section/{section.id}"
        given = {q.id: TYPED.get(q.id, ANSWERS[q.id]) for q in section.questions
                 if q.id in ANSWERS}
        for _ in range(3):  # answers that reveal follow-ups send the owner back once
            response = save_section(owner, path, given)
            assert response.status_code == 303, (section.id, response.status_code)
            if not response.headers["Location"].startswith(path):
                break
        else:
            pytest.fail(f"saving {section.id} keeps sending the owner back")

    result = score(bank, {qid: parse_answer(bank.question_by_id[qid], raw)
                          for qid, raw in ANSWERS.items()})
    applicable = {o.question.id for o in result.outcomes if o.applicable}
    # Exactly the answers the bank asks given the others: yearly sales, typed beside an hourly
    # cost, are not kept.
    assert stored(app, assessment_id) == {qid: raw for qid, raw in ANSWERS.items()
                                          if qid in applicable}

    review = owner.get("/assessment/review").get_data(as_text=True)
    assert review.count('class="review-row"') == len(applicable)
    assert 'class="review-row missing"' not in review
    finished = owner.post("/assessment/finish", data={"csrf_token": csrf_token(review)})
    assert finished.status_code == 303
    assert finished.headers["Location"].endswith("/assessment/results")
    results = owner.get("/assessment/results").get_data(as_text=True)
    assert re.search(rf'class="score-number"[^>]*>\s*{result.score}\s*<', results)
    assert result.band.label in results
    assert "See your results" in owner.get("/assessment/").get_data(as_text=True)


def test_autosave_refuses_a_stale_answer_naming_the_saved_one_and_takes_it_when_chosen(app):
    owner = start(app)
    assessment_id = open_id(owner)
    page = owner.get("/assessment/section/monitoring").get_data(as_text=True)
    token = csrf_token(page)
    qid, mine = "monitoring.watched", ANSWERS["monitoring.watched"]
    theirs = next(value for value in re.findall(rf'name="{field(qid)}" value="([^"]+)"', page)
                  if value != mine)

    first = autosave(owner, token, qid, mine, 0, "tab-a-key-1")
    assert first.status_code == 200
    version = first.get_json()["version"]
    # The same request again (its reply was lost) is applied once.
    again = autosave(owner, token, qid, mine, 0, "tab-a-key-1")
    assert again.status_code == 200
    assert (again.get_json()["version"], again.get_json()["replayed"]) == (version, True)

    # Another tab, still on the page from before: refused, told what is saved now.
    stale = autosave(owner, token, qid, theirs, 0, "tab-b-key-1")
    assert stale.status_code == 409
    body = stale.get_json()
    assert (body["answer"], body["version"]) == (mine, version)
    assert stored(app, assessment_id)[qid] == mine

    # "Use my answer": the same answer on the version it was shown.
    used = autosave(owner, token, qid, theirs, body["version"], "tab-b-key-2")
    assert used.status_code == 200 and used.get_json()["version"] > version
    assert stored(app, assessment_id)[qid] == theirs
    assert checked(owner.get("/assessment/section/monitoring").get_data(as_text=True),
                   qid, theirs)


def test_the_private_link_opens_the_same_assessment_in_another_browser(app):
    owner = start(app)
    token = csrf_token(owner.get("/assessment/section/monitoring").get_data(as_text=True))
    for n, qid in enumerate(("monitoring.watched", "monitoring.alerts")):
        assert autosave(owner, token, qid, ANSWERS[qid], 0, f"key-{n}-resume").status_code == 200
    link = LINK.search(owner.get("/assessment/").get_data(as_text=True)).group(1)

    other = app.test_client()
    opened = other.get(link)
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith(
        "/assessment/section/monitoring#q-monitoring.maintenance")
    assert open_id(other) == open_id(owner)
    page = other.get("/assessment/section/monitoring").get_data(as_text=True)
    for qid in ("monitoring.watched", "monitoring.alerts"):
        assert checked(page, qid, ANSWERS[qid]), qid
    # What the other browser saves, the first one sees.
    assert save_section(other, "/assessment/section/monitoring",
                        {"monitoring.maintenance": ANSWERS["monitoring.maintenance"]},
                        then="hub").status_code == 303
    assert checked(owner.get("/assessment/section/monitoring").get_data(as_text=True),
                   "monitoring.maintenance", ANSWERS["monitoring.maintenance"])


def test_a_change_from_check_your_answers_is_saved_and_leads_back_to_it(app):
    """All answered (stored directly: the walk is not what this is about), not finished."""
    bank = app.extensions["bank"]
    token = new_token()
    db = connect(database_of(app.config))
    try:
        assessment_id = create_assessment(db, bank, resume_token_hash=hash_token(token))
        for qid, raw in ANSWERS.items():
            save_answer(db, assessment_id, qid, base_version=0,
                        answer=parse_answer(bank.question_by_id[qid], raw))
        assert find_by_resume_hash(db, hash_token(token))["id"] == assessment_id
    finally:
        db.close()
    owner = app.test_client()
    assert owner.get(f"/assessment/resume/{token}").status_code == 303
    review = owner.get("/assessment/review").get_data(as_text=True)
    change = re.search(r'<a href="(/assessment/section/backup\?back=review)'
                       r'#q-backup\.restore_tested">Change', review)
    assert change, "no Change link for the restore test"

    saved = save_section(owner, change.group(1), {"backup.restore_tested": "quarter"},
                         then="review")
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith("/assessment/review#rs-backup")
    assert stored(app, assessment_id)["backup.restore_tested"] == "quarter"
    assert "quarter" != ANSWERS["backup.restore_tested"]


def test_a_figure_it_cannot_read_saves_nothing_of_it_and_saves_once_corrected(app):
    owner = start(app)
    assessment_id = open_id(owner)
    path = "/assessment/section/patching"
    kept = {qid: ANSWERS[qid] for qid in ("patching.who", "patching.coverage")}
    refused = save_section(owner, path, {**kept, "patching.days": "lots"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Enter a number" in page and 'value="lots"' in page
    assert "patching.days" not in stored(app, assessment_id)

    fixed = save_section(owner, path, {**kept, "patching.days": " 60 "})
    assert fixed.status_code == 303
    saved = stored(app, assessment_id)
    assert saved["patching.days"] == 60
    assert {qid: saved[qid] for qid in kept} == kept
