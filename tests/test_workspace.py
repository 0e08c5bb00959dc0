"""The consultant's workspace: clients, interviews, client links, claim, history, exports, and
tenancy on every route that takes an id."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import date

import pytest

from assessment import create_app
from assessment.core.actions import Action
from assessment.core.bank import Answer
from assessment.storage import clients as store
from assessment.storage import connect, save_answer, set_status, stored_answers
from assessment.support.config import database

from .workspace_fixtures import (
    TWO_FIRMS,
    csrf_token,
    every_row,
    make_member,
    open_client_link,
    sign_in,
    started_id,
    two_firms_signed_in,
)

pytestmark = pytest.mark.both_backends


@pytest.fixture
def app(tmp_path, database_url):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "DATABASE": str(tmp_path / "ws.sqlite")})


def post(client, path, data=None, page="/workspace/", **kwargs):
    """POST with a CSRF token taken from a page the client can see."""
    token = csrf_token(client.get(page, follow_redirects=True).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def db_of(app):
    return connect(database(app.config))


@pytest.fixture
def firms(app):
    """Two firms, each with a member signed in on their own test client, and a client each."""
    out = two_firms_signed_in(app)
    db = db_of(app)
    for key, firm, _ in TWO_FIRMS:
        out[key]["client_id"] = store.create_client(db, out[key]["firm_id"],
                                                    name=f"{firm} client")
    db.close()
    return out


def test_clients_page_has_an_empty_state_and_adds_a_client(app):
    member = make_member(app)
    browser = app.test_client()
    sign_in(browser, member["email"], member["password"])
    page = browser.get("/workspace/").get_data(as_text=True)
    assert "No clients yet" in page
    bad = post(browser, "/workspace/clients", {"name": ""})
    assert bad.status_code == 422 and "Enter the client" in bad.get_data(as_text=True)
    made = post(browser, "/workspace/clients", {"name": "Harbour Dental", "sector": "Health"})
    assert made.status_code == 303
    assert "Harbour Dental" in browser.get("/workspace/").get_data(as_text=True)


def test_interview_saves_consultant_answers_notes_and_verification(app, firms):
    a = firms["a"]
    browser = a["browser"]
    started = post(browser, f"/workspace/clients/{a['client_id']}/interview")
    assessment_id = started_id(started)
    page = browser.get(f"/workspace/assessments/{assessment_id}/interview/backup")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Are backups automated and scheduled" in text  # the consultant wording
    assert 'name="n_q_backup__automatic"' in text and 'name="c_q_backup__automatic"' in text
    saved = post(browser, f"/workspace/assessments/{assessment_id}/interview/backup",
                 {"q_backup__automatic": "weekly", "v_q_backup__automatic": "0",
                  "n_q_backup__automatic": "Saw the backup console <b>weekly</b> job",
                  "c_q_backup__automatic": "y", "then": "overview"},
                 page=f"/workspace/assessments/{assessment_id}/interview/backup")
    assert saved.status_code == 303
    db = db_of(app)
    mine = stored_answers(db, assessment_id, "consultant")["backup.automatic"]
    db.close()
    assert (mine.answer.value, mine.verified, mine.note) == (
        "weekly", True, "Saw the backup console <b>weekly</b> job")
    again = browser.get(f"/workspace/assessments/{assessment_id}/interview/backup")
    assert "Saw the backup console &lt;b&gt;weekly&lt;/b&gt; job" in again.get_data(as_text=True)


def test_client_self_assessment_then_review_shows_both_answers(app, firms):
    a = firms["a"]
    made = post(a["browser"], f"/workspace/clients/{a['client_id']}/self-assessment")
    link = re.search(r'id="share-link"[^>]*value="([^"]+)"', made.get_data(as_text=True)).group(1)
    owner = app.test_client()
    assert open_client_link(owner, link).status_code == 303
    page = owner.get("/assessment/section/backup").get_data(as_text=True)
    owner.post("/assessment/section/backup",
               data={"csrf_token": csrf_token(page), "q_backup__automatic": "daily",
                     "v_q_backup__automatic": "0"})
    db = db_of(app)
    assessment_id = store.client_assessments(db, a["firm_id"], a["client_id"])[-1]["id"]
    db.close()
    review = a["browser"].get(f"/workspace/assessments/{assessment_id}/interview/backup")
    text = review.get_data(as_text=True)
    assert "Client answered: <strong>Yes, automatically, every day or more often</strong>" in text
    post(a["browser"], f"/workspace/assessments/{assessment_id}/interview/backup",
         {"q_backup__automatic": "weekly", "v_q_backup__automatic": "0",
          "c_q_backup__automatic": "y"},
         page=f"/workspace/assessments/{assessment_id}/interview/backup")
    db = db_of(app)
    assert stored_answers(db, assessment_id, "owner")["backup.automatic"].answer.value == "daily"
    assert stored_answers(db, assessment_id)["backup.automatic"].answer.value == "weekly"
    db.close()
    text = a["browser"].get(f"/workspace/assessments/{assessment_id}/interview/backup") \
        .get_data(as_text=True)
    assert "(differs from yours)" in text


def test_renew_copies_answers_marked_to_reconfirm(app, firms):
    a = firms["a"]
    first = post(a["browser"], f"/workspace/clients/{a['client_id']}/interview")
    first_id = started_id(first)
    post(a["browser"], f"/workspace/assessments/{first_id}/interview/backup",
         {"q_backup__automatic": "daily", "v_q_backup__automatic": "0"},
         page=f"/workspace/assessments/{first_id}/interview/backup")
    db = db_of(app)
    set_status(db, first_id, "finished")  # a new assessment copies the last finished one
    db.close()
    renewed = post(a["browser"], f"/workspace/clients/{a['client_id']}/renew")
    second_id = renewed.headers["Location"].rsplit("/", 1)[-1]
    assert second_id != first_id
    db = db_of(app)
    copied = stored_answers(db, second_id)["backup.automatic"]
    db.close()
    assert copied.answer.value == "daily" and copied.reconfirm
    page = a["browser"].get(f"/workspace/assessments/{second_id}/interview/backup")
    assert "To re-confirm" in page.get_data(as_text=True)
    compare = a["browser"].get(f"/workspace/clients/{a['client_id']}/compare"
                               f"?a={first_id}&b={second_id}")
    assert compare.status_code == 200 and "How Northgate IT client moved" in \
        compare.get_data(as_text=True)


def owner_with_answers(app, name="Brightwater Bakery"):
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    owner.post("/assessment/start", data={"csrf_token": csrf_token(landing)})
    page = owner.get("/assessment/section/profile").get_data(as_text=True)
    owner.post("/assessment/section/profile",
               data={"csrf_token": csrf_token(page), "q_profile__business_name": name})
    page = owner.get("/assessment/section/backup").get_data(as_text=True)
    owner.post("/assessment/section/backup",
               data={"csrf_token": csrf_token(page), "q_backup__automatic": "none"})
    return owner


def test_claim_link_hands_an_owners_assessment_to_the_firm_once(app, firms):
    a = firms["a"]
    owner = owner_with_answers(app)
    made = post(a["browser"], "/workspace/claim-link")
    link = re.search(r'id="share-link"[^>]*value="([^"]+)"', made.get_data(as_text=True)).group(1)
    consent = owner.get(link)
    text = consent.get_data(as_text=True)
    assert consent.status_code == 200
    assert "Share your assessment with Northgate IT?" in text
    assert "Brightwater Bakery" in text
    shared = owner.post(link, data={"csrf_token": csrf_token(text), "decision": "share"})
    assert shared.status_code == 303
    db = db_of(app)
    clients = store.list_clients(db, a["firm_id"])
    claimed = [c for c in clients if c["name"] == "Brightwater Bakery"]
    assessments = store.client_assessments(db, a["firm_id"], claimed[0]["id"])
    db.close()
    assert len(assessments) == 1 and assessments[0]["shared_at"]
    client_page = a["browser"].get(f"/workspace/clients/{claimed[0]['id']}")
    assert "Shared by the owner" in client_page.get_data(as_text=True)
    # The owner still reads, but no longer edits.
    assert owner.get("/assessment/review").status_code == 200
    page = owner.get("/assessment/section/backup").get_data(as_text=True)
    assert "changes are made with them" in page
    # The link works once.
    again = owner.get(link)
    assert again.status_code == 404


def test_claim_link_cannot_target_another_firms_client(app, firms):
    a, b = firms["a"], firms["b"]
    response = post(b["browser"], f"/workspace/clients/{a['client_id']}/claim-link")
    assert response.status_code == 404
    db = db_of(app)
    with pytest.raises(LookupError):
        store.create_claim_link(db, b["firm_id"], b["user_id"], a["client_id"])
    db.close()


def test_exports_json_and_csv(app, firms):
    a = firms["a"]
    started = post(a["browser"], f"/workspace/clients/{a['client_id']}/interview")
    assessment_id = started_id(started)
    post(a["browser"], f"/workspace/assessments/{assessment_id}/interview/backup",
         {"q_backup__automatic": "daily", "v_q_backup__automatic": "0",
          "n_q_backup__automatic": "=HYPERLINK(\"http://x\")"},
         page=f"/workspace/assessments/{assessment_id}/interview/backup")
    data = json.loads(a["browser"].get(f"/workspace/clients/{a['client_id']}/export.json").data)
    assert data["assessments"][0]["answers"]["backup.automatic"] == "daily"
    rows = list(csv.DictReader(io.StringIO(a["browser"].get(
        f"/workspace/clients/{a['client_id']}/answers.csv").get_data(as_text=True))))
    assert rows[0]["question_id"] == "backup.automatic"
    assert rows[0]["note"].startswith("'=")  # never run as a spreadsheet formula
    assert rows[0]["counts"] == "yes"  # the answer the score and the reports use
    firm = json.loads(a["browser"].get("/workspace/export.json").data)
    assert firm["clients"][0]["assessments"]


# ---- Tenancy: every route with an id, as another firm, a stranger, another owner ----------

def dump(app) -> list[str]:
    return every_row(app)


@pytest.fixture
def tenancy(app, firms):
    """Firm A's objects, and the clients that must not reach them."""
    a = firms["a"]
    started = post(a["browser"], f"/workspace/clients/{a['client_id']}/interview")
    a["assessment_id"] = started_id(started)
    post(a["browser"], f"/workspace/clients/{a['client_id']}/self-assessment")
    db = db_of(app)
    a["self_id"] = store.client_assessments(db, a["firm_id"], a["client_id"])[-1]["id"]
    store.create_claim_link(db, a["firm_id"], a["user_id"], a["client_id"])
    from assessment.storage import accounts
    accounts.create_invite(db, a["firm_id"], a["user_id"])
    a["claim_ref"] = db.one("SELECT ref FROM claim_links")["ref"]
    a["invite_ref"] = db.one("SELECT ref FROM invites")["ref"]
    from assessment.storage import actions, evidence, roadmap_links
    from assessment.storage import reviews as review_store
    a["review_id"] = review_store.create_review(db, a["firm_id"], a["client_id"],
                                                date(2026, 10, 1), date(2026, 12, 31),
                                                a["user_id"])
    roadmap_links.create_link(db, a["firm_id"], a["client_id"], a["user_id"])
    a["action_id"] = actions.add_action(db, a["firm_id"], Action(
        id=None, client_id=a["client_id"], title="Turn on two-step sign-in", why="",
        workstream="", party="client"), who="test", on=date(2026, 10, 1))
    a["evidence_id"] = evidence.add_file(
        db, a["firm_id"], a["action_id"], name="proof.pdf", content_type="application/pdf",
        body=b"%PDF-1.4 proof", added_by="test")
    a["roadmap_ref"] = db.one("SELECT ref FROM roadmap_links")["ref"]
    db.close()
    return {"a": a, "b": firms["b"], "stranger": app.test_client(),
            "other_owner": owner_with_answers(app, "Other Owner")}


def cases(t) -> dict[str, tuple[str, str]]:
    """Endpoint -> (method, URL naming one of firm A's objects, or a token that is not valid)."""
    a = t["a"]
    client, assessment, review = a["client_id"], a["assessment_id"], a["review_id"]
    return {
        "workspace.client": ("GET", f"/workspace/clients/{client}"),
        "workspace.update_client": ("POST", f"/workspace/clients/{client}"),
        "workspace.export_client": ("GET", f"/workspace/clients/{client}/export.json"),
        "workspace.export_client_csv": ("GET", f"/workspace/clients/{client}/answers.csv"),
        "workspace.claim_link": ("POST", f"/workspace/clients/{client}/claim-link"),
        "workspace.compare_view": ("GET", f"/workspace/clients/{client}/compare"
                                          f"?a={assessment}&b={assessment}"),
        "workspace.start_interview": ("POST", f"/workspace/clients/{client}/interview"),
        "workspace.renew": ("POST", f"/workspace/clients/{client}/renew"),
        "workspace.send_self_assessment": ("POST", f"/workspace/clients/{client}/self-assessment"),
        "workspace.assessment": ("GET", f"/workspace/assessments/{assessment}"),
        "workspace.autosave": ("POST", f"/workspace/assessments/{assessment}/answer"),
        "workspace.finish": ("POST", f"/workspace/assessments/{assessment}/finish"),
        "workspace.reopen": ("POST", f"/workspace/assessments/{assessment}/reopen"),
        "workspace.cancel_self_link": ("POST", f"/workspace/assessments/{a['self_id']}"
                                               "/link/cancel"),
        "workspace.replace_self_link": ("POST", f"/workspace/assessments/{a['self_id']}"
                                                "/link/replace"),
        "workspace.cancel_claim_link": ("POST", f"/workspace/claim-links/{a['claim_ref']}/cancel"),
        "workspace.replace_claim_link": ("POST",
                                         f"/workspace/claim-links/{a['claim_ref']}/replace"),
        "workspace.archive_client": ("POST", f"/workspace/clients/{client}/archive"),
        "workspace.delete_client": ("POST", f"/workspace/clients/{client}/delete"),
        "workspace.archive_assessment": ("POST", f"/workspace/assessments/{assessment}/archive"),
        "workspace.delete_assessment": ("POST", f"/workspace/assessments/{assessment}/delete"),
        "auth.cancel_invite": ("POST", f"/account/members/invites/{a['invite_ref']}/cancel"),
        "auth.replace_invite": ("POST", f"/account/members/invites/{a['invite_ref']}/replace"),
        "workspace.report_pdf": ("GET", f"/workspace/assessments/{assessment}/report.pdf"),
        "workspace.report_html": ("GET", f"/workspace/assessments/{assessment}/report"),
        "workspace.interview": ("GET", f"/workspace/assessments/{assessment}/interview/backup"),
        "auth.set_member_active": ("POST", f"/account/members/{a['user_id']}/active"),
        "auth.reset_member_totp": ("POST", f"/account/members/{a['user_id']}/reset-two-step"),
        "auth.accept_invite": ("GET", "/account/invite/not-a-real-invite-token"),
        "wizard.resume": ("GET", "/assessment/resume/not-a-real-resume-token"),
        "wizard.resume_open": ("POST", "/assessment/resume/not-a-real-resume-token"),
        # A firm's logo is served only at the address its client's pages give (signed).
        "brand.logo": ("GET", f"/brand/{a['firm_id']}/not-the-signed-key/logo.png"),
        "wizard.section": ("GET", "/assessment/section/no-such-section"),
        "public.claim": ("GET", "/claim/not-a-real-claim-token"),
        "public.claim_confirm": ("POST", "/claim/not-a-real-claim-token"),
        # Hand-offs: the owner's routes act on the browser's own assessment only; a provider's
        # link is its token.
        "handoff.start": ("POST", "/assessment/section/no-such-section/hand-off"),
        "handoff.replace": ("POST", "/assessment/section/no-such-section/hand-off/replace"),
        "handoff.cancel": ("POST", "/assessment/section/no-such-section/hand-off/cancel"),
        "handoff.query": ("POST", "/assessment/section/no-such-section/hand-off/query/"
                                  "backup.automatic"),
        "handoff.answer": ("POST", "/answer-for/not-a-real-handoff-token"),
        "handoff.autosave": ("POST", "/answer-for/not-a-real-handoff-token/answer"),
        "workspace.promises": ("GET", f"/workspace/assessments/{assessment}/promises"),
        "workspace.reviews": ("GET", f"/workspace/clients/{client}/reviews"),
        "workspace.start_review": ("POST", f"/workspace/clients/{client}/reviews"),
        "workspace.review": ("GET", f"/workspace/clients/{client}/reviews/{review}"),
        "workspace.update_review": ("POST", f"/workspace/clients/{client}/reviews/{review}"),
        "workspace.review_decide": ("POST",
                                    f"/workspace/clients/{client}/reviews/{review}/decide"),
        "workspace.lock_review": ("POST", f"/workspace/clients/{client}/reviews/{review}/lock"),
        "workspace.review_pdf": ("GET", f"/workspace/clients/{client}/reviews/{review}.pdf"),
        "workspace.roadmap": ("GET", f"/workspace/clients/{client}/roadmap"),
        "workspace.roadmap_json": ("GET", f"/workspace/clients/{client}/roadmap.json"),
        "workspace.roadmap_csv": ("GET", f"/workspace/clients/{client}/roadmap.csv"),
        "workspace.roadmap_bulk": ("POST", f"/workspace/clients/{client}/roadmap/bulk"),
        "workspace.action": ("GET", f"/workspace/actions/{a['action_id']}"),
        "workspace.move_action": ("POST", f"/workspace/actions/{a['action_id']}/move"),
        "workspace.action_details": ("POST", f"/workspace/actions/{a['action_id']}/details"),
        "workspace.add_evidence": ("POST", f"/workspace/actions/{a['action_id']}/evidence"),
        "workspace.evidence_file": ("GET", f"/workspace/evidence/{a['evidence_id']}"),
        "workspace.create_roadmap_link": ("POST", f"/workspace/clients/{client}/roadmap-link"),
        "workspace.cancel_roadmap_link": ("POST",
                                          f"/workspace/roadmap-links/{a['roadmap_ref']}/cancel"),
        # The owner's roadmap link is its token: a token that is not one opens nothing.
        "roadmap_link.view": ("GET", "/roadmap/not-a-real-roadmap-token"),
        "roadmap_link.mark_done": ("POST", "/roadmap/not-a-real-roadmap-token/actions/1/done"),
        "roadmap_link.comment": ("POST", "/roadmap/not-a-real-roadmap-token/actions/1/comment"),
        "roadmap_link.add_evidence": ("POST",
                                      "/roadmap/not-a-real-roadmap-token/actions/1/evidence"),
        # The report's font files are the product's own, the same for everyone: only the
        # current version is served, so any other address is the normal 404.
        "report_assets.font": ("GET", "/static/report-fonts/not-the-version/Inter-Regular.otf"),
    }


def test_every_route_with_an_id_has_a_tenancy_case(app, tenancy):
    """A new route that takes an id must get a case here, or this test fails."""
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.arguments and rule.endpoint != "static"}
    missing = routes - set(cases(tenancy))
    assert not missing, f"routes with ids and no cross-tenant case: {sorted(missing)}"


@pytest.mark.parametrize("who", ["b", "stranger", "other_owner"])
def test_other_tenants_get_404_and_change_nothing(app, tenancy, who):
    browser = tenancy[who] if who != "b" else tenancy["b"]["browser"]
    page = browser.get("/", follow_redirects=True).get_data(as_text=True)
    token = csrf_token(page)
    for endpoint, (method, url) in cases(tenancy).items():
        before = dump(app)
        if method == "GET":
            response = browser.get(url)
        elif endpoint.endswith("autosave"):
            response = browser.post(url, json={"question": "backup.automatic", "answer": "none",
                                               "base_version": 0, "client_key": "k" * 12},
                                    headers={"X-CSRFToken": token})
        else:
            response = browser.post(url, data={"csrf_token": token, "name": "Northgate IT client",
                                               "decision": "share"})
        assert response.status_code == 404, (who, endpoint, response.status_code)
        assert dump(app) == before, (who, endpoint)


def test_trend_chart_dates_by_month_and_keeps_them_apart(app, firms):
    """Under the trend: month and year ("Mar 2025" reads the same everywhere, "03-04" does
    not), and with many assessments only every few points dated, the newest always."""
    a = firms["a"]
    bank = app.extensions["bank"]
    db = db_of(app)
    for month in range(1, 10):  # nine assessments, January to September 2025
        made = store.start_client_assessment(db, bank, a["firm_id"], a["client_id"],
                                             mode="interview", created_by=a["user_id"])
        save_answer(db, made, "backup.automatic", base_version=0, source="consultant",
                    answer=Answer("answered", "daily"))
        db.execute("UPDATE assessments SET created_at = ? WHERE id = ?",
                   [f"2025-{month:02d}-15T09:00:00", made])
    db.close()
    page = a["browser"].get(f"/workspace/clients/{a['client_id']}").get_data(as_text=True)
    chart = page[page.index("<svg"):page.index("</svg>")]
    dated = re.findall(r'<text x="([\d.]+)" y="195"[^>]*class="chart-label">([^<]*)</text>',
                       chart)
    assert chart.count("<circle") == 9
    # 45 units between points: every other one dated, counted back from the newest.
    assert [label for _, label in dated] == ["Jan 2025", "Mar 2025", "May 2025", "Jul 2025",
                                             "Sep 2025"], dated
    xs = [float(x) for x, _ in dated]
    assert all(later - earlier >= 90 for earlier, later in itertools.pairwise(xs)), xs
