"""One truth: every view of an assessment says the same, to everyone allowed to see it.

The case that showed it did not: a client answers two sections through the firm's link, the
consultant answers the rest in interview mode and finishes. The client's results page scored only
the client's answers (4 / 100) while the report gave the consultant's figure (21 / 100), and
"Check your answers" asked for 44 more answers of an assessment nobody could change any more.
Every view now asks viewpoint.py, which takes the consultant's answer where there is one; only
the firm's private notes differ between the firm's views and the client's.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from assessment.cli.reports import report_input_from_file
from assessment.core.scoring import parse_answer, parse_answers, score
from assessment.storage import save_answer, set_status  # noqa: F401 (set_status: see below)

from .conftest import FIXTURES
from .test_trust import adb, client_link, open_id, post_with_token, signed_in_member  # noqa: F401 (adb: fixture)
from .workspace_fixtures import open_client_link

pytestmark = pytest.mark.both_backends

ANSWERS = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
CLIENT_SECTIONS = ("profile", "backup")  # what the client answered on their phone
PRIVATE = "Firm only: the device list lives in one spreadsheet on a laptop"
SHARED = "For the client: ask the landlord for a key to the server room"
STEP = re.compile(r'<span class="step-num">(\d+)</span>\s*([^<]+)</h[34]>')
COVER = re.compile(r'cover-score-figure">(\d+)<small>')


@pytest.fixture
def split(app, adb):  # noqa: F811 (the fixture imported above)
    """A firm's client answered two sections through their link; the consultant answered the
    rest in the interview, with one private and one shared note, and finished."""
    bank = app.extensions["bank"]
    ana = signed_in_member(app)
    from assessment.storage import clients as store

    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Street Dental")
    client = app.test_client()
    assert open_client_link(client, client_link(ana, client_id)).status_code == 303
    assessment_id = open_id(client)
    for qid, raw in ANSWERS.items():
        source = "owner" if qid.split(".")[0] in CLIENT_SECTIONS else "consultant"
        save_answer(adb, assessment_id, qid, base_version=0, source=source,
                    answer=parse_answer(bank.question_by_id[qid], raw),
                    note=PRIVATE if qid == "network.inventory" else
                    SHARED if qid == "network.equipment" else "",
                    **({"note_shared": True} if qid == "network.equipment" else {}))
    page = f"/workspace/assessments/{assessment_id}"
    assert post_with_token(ana["browser"], f"{page}/finish", page=page).status_code == 303
    answers, errors = parse_answers(bank, ANSWERS)
    assert not errors
    return {"member": ana["browser"], "email": ana["email"], "client": client, "id": assessment_id,
            "client_id": client_id, "expected": score(bank, answers), "bank": bank}


def text(browser, url: str) -> str:
    response = browser.get(url, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def plan_of(html: str) -> list[tuple[str, str]]:
    """The numbered steps a report or page shows, in order."""
    return [(n, " ".join(t.split())) for n, t in STEP.findall(html)]


def test_every_view_of_a_split_assessment_tells_one_truth(app, split, tmp_path, runner):
    expected, client, member = split["expected"], split["client"], split["member"]
    score_text, band = str(expected.score), expected.band.label
    first_finding = expected.critical_findings[0].title
    steps = [(str(s.number), s.title) for s in expected.steps if s.days is not None]

    # The client's pages: the score and band of every answer, the consultant's included.
    results = text(client, "/assessment/results")
    assert f'<span class="score-number">{score_text}</span>' in results
    assert band in results and first_finding in results
    assert "You answered:" not in results  # an answer may be the consultant's
    hub = text(client, "/assessment/")
    review = text(client, "/assessment/review")
    for page in (hub, review):  # a finished assessment asks for nothing
        assert "still need" not in page and "Answer them to finish" not in page
    assert "See your results" in review and "Finish and see your results" not in review

    # Both reports, for both people: one score, one band, one plan.
    reports = {
        "client leadership": text(client, "/assessment/report"),
        "client full": text(client, "/assessment/report?variant=full"),
        "firm leadership": text(member, f"/workspace/assessments/{split['id']}/report"),
        "firm full": text(member, f"/workspace/assessments/{split['id']}/report?variant=full"),
    }
    for name, html in reports.items():
        assert COVER.search(html).group(1) == score_text, name
        assert band in html and first_finding in html, name
        assert plan_of(html)[:len(steps)] == steps, name
    # Only the notes differ: the firm's private one stays with the firm.
    assert PRIVATE in reports["firm full"] and SHARED in reports["firm full"]
    assert PRIVATE not in reports["client full"] and SHARED in reports["client full"]

    # The consultant's page says the same.
    overview = text(member, f"/workspace/assessments/{split['id']}")
    assert re.search(rf"[Ss]core[^:<]*: {score_text}\b", overview) and band in overview

    # Exports carry everything a render needs: a report made from one is the web's report.
    from assessment.storage import get_assessment
    from assessment.web import reports as web_reports

    exports = {
        "client": text(client, "/assessment/answers.json"),
        "firm": json.dumps(json.loads(text(
            member, f"/workspace/clients/{split['client_id']}/export.json"))["assessments"][0]),
    }
    assert PRIVATE not in exports["client"] and PRIVATE in exports["firm"]
    for who, data in exports.items():
        path = tmp_path / f"{who}.json"
        path.write_text(data)
        from_file = report_input_from_file(path, split["bank"], web_reports.DEFAULT_BRANDING,
                                           for_client=who == "client")
        with app.test_request_context():
            from assessment.web.db import get_db

            record = get_assessment(get_db(), split["id"])
            web = web_reports.report_input(record, for_client=who == "client")
        assert replace(web, branding=from_file.branding, prices=from_file.prices) == from_file
        rendered = runner.invoke(args=["report", "render", str(path), "--out",
                                       str(tmp_path / f"{who}.html"), "--html", "--full"]
                                 + (["--for-client"] if who == "client" else []))
        assert rendered.exit_code == 0, rendered.output
        html = (tmp_path / f"{who}.html").read_text()
        assert COVER.search(html).group(1) == score_text and band in html
        assert plan_of(html)[:len(steps)] == steps
        assert (PRIVATE in html) == (who == "firm")
    import csv as csv_module
    import io

    csv = text(member, f"/workspace/clients/{split['client_id']}/answers.csv")
    assert PRIVATE in csv and SHARED in csv
    rows = list(csv_module.DictReader(io.StringIO(csv)))
    counting = {row["question_id"]: row["source"] for row in rows if row["counts"] == "yes"}
    assert len(counting) == len([r for r in rows if r["counts"] == "yes"]) == len(ANSWERS)
    assert {qid for qid, source in counting.items() if source == "owner"} == {
        qid for qid in ANSWERS if qid.split(".")[0] in CLIENT_SECTIONS}


def test_the_firm_cannot_change_a_finished_assessment_until_it_reopens_it(app, split):
    member, page = split["member"], f"/workspace/assessments/{split['id']}"
    section = f"{page}/interview/security"
    form = {"q_security__mfa_email": "everyone", "v_q_security__mfa_email": "1",
            "then": "overview"}
    refused = post_with_token(member, section, form, page=section)
    assert refused.status_code == 303
    assert "Nothing was saved" in text(member, refused.headers["Location"])
    shown = text(member, section)
    assert "Reopen the assessment" in shown and "data-autosave" not in shown
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown).group(1)
    autosaved = member.post(f"{page}/answer", json={
        "question": "security.mfa_email", "answer": "everyone", "base_version": 1,
        "client_key": "k" * 12}, headers={"X-CSRFToken": token})
    assert autosaved.status_code == 403 and "Reopen it" in autosaved.get_json()["message"]
    before = text(member, f"{page}/report")
    assert post_with_token(member, f"{page}/reopen", page=page).status_code == 303
    assert post_with_token(member, section, form, page=section).status_code == 303
    assert "Nothing was saved" not in text(member, section)
    assert COVER.search(text(member, f"{page}/report")).group(1) != \
        COVER.search(before).group(1)


def test_deleting_removes_every_pdf_on_every_instance(app, split, tmp_path, monkeypatch):
    """PDFs rendered before the last change and after it, on a second web instance with a report
    folder of its own: deleting the assessment through the first instance removes them there too
    (each instance sweeps the keys storage marked purged), and none is served again."""
    from assessment import create_app
    from assessment.web import reports

    from .workspace_fixtures import sign_in

    monkeypatch.setattr(reports, "PURGE_SWEEP_SECONDS", 0)
    settings = {key: app.config[key] for key in ("TESTING", "SECRET_KEY", "DATABASE")}
    if app.config.get("DATABASE_URL"):
        settings["DATABASE_URL"] = app.config["DATABASE_URL"]
    other = create_app({**settings, "REPORT_DIR": str(tmp_path / "second")})
    there = other.test_client()
    assert sign_in(there, split["email"]).status_code == 303
    here, page = split["member"], f"/workspace/assessments/{split['id']}"

    def pdfs(where: str) -> list[str]:
        folder = (app if where == "first" else other).extensions["report_cache"].directory
        return sorted(p.name for p in folder.glob("*.pdf"))

    others = set(pdfs("first"))  # what other tests left in the shared folder: not ours
    assert there.get(f"{page}/report.pdf").data.startswith(b"%PDF")
    assert post_with_token(here, f"{page}/reopen", page=page).status_code == 303
    section = f"{page}/interview/security"
    assert post_with_token(here, section, {"q_security__mfa_email": "everyone",
                                           "v_q_security__mfa_email": "1", "then": "overview"},
                           page=section).status_code == 303
    assert post_with_token(here, f"{page}/finish", page=page).status_code == 303
    assert there.get(f"{page}/report.pdf").data.startswith(b"%PDF")
    assert here.get(f"{page}/report.pdf").data.startswith(b"%PDF")
    assert len(pdfs("second")) == 2 and set(pdfs("first")) - others  # before and after a change

    delete = f"{page}/delete"
    assert post_with_token(here, delete, {"name": "Harbour Street Dental"},
                           page=delete).status_code == 303
    assert not set(pdfs("first")) - others
    assert there.get(f"{page}/report.pdf").status_code == 404  # never served again
    assert pdfs("second") == []  # that request's sweep removed the files there too


def test_the_best_placed_source_counts_and_the_owners_differing_answer_is_named(bank):
    """Owner, IT provider, outside check and consultant: the last of viewpoint.SOURCES that
    answered counts, in the view and in storage alike; the owner's own answer, where it differs,
    is kept in words beside it."""
    from assessment.core.viewpoint import BUSINESS, Record, view

    qid = "security.mfa_email"
    q = bank.question_by_id[qid]
    said = {source: parse_answer(q, choice) for source, choice in
            [("owner", "everyone"), ("provider", "some"), ("check", "none"),
             ("consultant", "some")]}
    for present, counts in [(("owner",), "owner"), (("owner", "provider"), "provider"),
                            (("provider", "owner", "check"), "check"),
                            (("check", "consultant", "owner"), "consultant")]:
        records = [Record(qid, source, said[source]) for source in present]
        seen = view(bank, records, viewer=BUSINESS, firm_involved=False, finished=False)
        assert (seen.source_of[qid], seen.answers[qid]) == (counts, said[counts])
        if counts == "owner" or said[counts] == said["owner"]:
            assert qid not in seen.owner_answers
        else:
            assert seen.owner_answers[qid] == q.describe(said["owner"])


def test_storage_keeps_the_same_order_of_sources(app, adb):  # noqa: F811 (fixture)
    from assessment.storage import create_assessment, stored_answers

    bank = app.extensions["bank"]
    q = bank.question_by_id["security.mfa_email"]
    made = create_assessment(adb, bank)
    for source, choice in [("check", "none"), ("owner", "everyone"), ("provider", "some")]:
        save_answer(adb, made, q.id, base_version=0, source=source,
                    answer=parse_answer(q, choice))
    held = stored_answers(adb, made)[q.id]
    assert (held.source, held.answer) == ("check", parse_answer(q, "none"))
