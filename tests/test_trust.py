"""Trust: links that cannot swap a visitor's session, finished assessments that stay finished,
links that can be cancelled, deleting, notes private to the firm, notes and ticks that save like
answers, copied answers that wait to be re-confirmed. One section per item of the issue; the
browser side of each is in tests/e2e/test_trust.py."""

from __future__ import annotations

import re

import pytest

from assessment.storage import clients as store
from assessment.storage import connect, get_assessment, stored_answers
from assessment.support.config import database as database_of

from .workspace_fixtures import csrf_token, make_member, open_client_link, sign_in, started_id

pytestmark = pytest.mark.both_backends

LINK = re.compile(r'value="(http://localhost/assessment/resume/[^"]+)"')


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


def token_of(browser) -> str:
    with browser.session_transaction() as session:
        return session.get("resume_token", "")


def open_id(browser) -> str | None:
    with browser.session_transaction() as session:
        return session.get("assessment_id")


def start_owner(app, business: str = "Brightwater Bakery"):
    """A browser with a new assessment open, its first page saved."""
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    assert owner.post("/assessment/start",
                      data={"csrf_token": csrf_token(landing)}).status_code == 303
    page = owner.get("/assessment/section/profile").get_data(as_text=True)
    assert owner.post("/assessment/section/profile", data={
        "csrf_token": csrf_token(page), "q_profile__business_name": business,
        "resume": token_of(owner)}).status_code == 303
    return owner


def save_backup(browser, value: str = "daily", version: int = 0):
    page = browser.get("/assessment/section/backup").get_data(as_text=True)
    return browser.post("/assessment/section/backup", data={
        "csrf_token": csrf_token(page), "q_backup__automatic": value,
        "v_q_backup__automatic": str(version), "resume": token_of(browser)})


def owner_answer(app, assessment_id: str, qid: str = "backup.automatic"):
    db = connect(database_of(app.config))
    try:
        found = stored_answers(db, assessment_id, "owner").get(qid)
    finally:
        db.close()
    return found.answer.value if found and found.answer else None


def signed_in_member(app, **kwargs):
    member = make_member(app, **kwargs)
    browser = app.test_client()
    assert sign_in(browser, member["email"]).status_code == 303
    member["browser"] = browser
    return member


def post_with_token(browser, url: str, data: dict | None = None, page: str = "/"):
    token = csrf_token(browser.get(page, follow_redirects=True).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **(data or {})})


# ---- 1. a link never swaps a visitor's session without asking --------------------------------

def test_a_link_to_another_assessment_asks_before_it_replaces_the_open_one(app):
    victim = start_owner(app, "Victim Bakery")
    mine, my_token = open_id(victim), token_of(victim)
    attacker = start_owner(app, "Attacker Ltd")
    theirs = token_of(attacker)

    opened = victim.get(f"/assessment/resume/{theirs}")
    assert opened.status_code == 303 and opened.headers["Location"] == "/assessment/switch"
    assert open_id(victim) == mine  # nothing changed yet
    page = victim.get("/assessment/switch").get_data(as_text=True)
    assert "Open a different assessment?" in page
    assert "Victim Bakery" in page and "Attacker Ltd" in page  # what is open, what it opens
    assert f"/assessment/resume/{my_token}" in page  # the way back to the open one
    assert theirs not in page  # the link's token stays out of the page and the address bar

    # Without the page's CSRF token nothing happens; keeping changes nothing.
    assert victim.post("/assessment/switch", data={"decision": "open"}).status_code == 400
    assert open_id(victim) == mine
    kept = post_with_token(victim, "/assessment/switch", {"decision": "keep"},
                           page="/assessment/switch")
    assert kept.status_code == 303 and kept.headers["Location"] == "/assessment/"
    assert open_id(victim) == mine
    assert save_backup(victim).status_code == 303
    assert owner_answer(app, mine) == "daily"

    # Asked again, and this time chosen: the link's assessment is open.
    victim.get(f"/assessment/resume/{theirs}")
    switched = post_with_token(victim, "/assessment/switch", {"decision": "open"},
                               page="/assessment/switch")
    assert switched.status_code == 303
    assert open_id(victim) == open_id(attacker) and token_of(victim) == theirs


def test_the_same_link_again_just_opens_it(app):
    owner = start_owner(app)
    mine, token = open_id(owner), token_of(owner)
    again = owner.get(f"/assessment/resume/{token}")
    assert again.status_code == 303 and again.headers["Location"].startswith(
        "/assessment/section/")
    assert open_id(owner) == mine


def test_a_signed_in_member_who_opens_a_clients_link_is_asked_and_stays_signed_in(app, adb):
    ana = signed_in_member(app)
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    made = post_with_token(ana["browser"], f"/workspace/clients/{client_id}/self-assessment")
    link = re.search(r'id="share-link"[^>]*value="([^"]+)"',
                     made.get_data(as_text=True)).group(1)
    browser = ana["browser"]
    opened = browser.get(link)
    assert opened.status_code == 303 and opened.headers["Location"] == "/assessment/switch"
    assert browser.get("/workspace/").status_code == 200  # still signed in
    page = browser.get("/assessment/switch").get_data(as_text=True)
    assert "Open it in your workspace" in page and "You stay signed in" in page
    [record] = store.client_assessments(adb, ana["firm_id"], client_id)
    assert f'href="/workspace/assessments/{record["id"]}"' in page
    # Opening it here, as the client sees it, still keeps the member signed in.
    assert post_with_token(browser, "/assessment/switch", {"decision": "open"},
                           page="/assessment/switch").status_code == 303
    assert browser.get("/assessment/").status_code == 200
    assert browser.get("/workspace/").status_code == 200
    # So does closing the assessment in this browser.
    assert post_with_token(browser, "/assessment/leave", page="/assessment/").status_code == 303
    assert browser.get("/assessment/").status_code == 404
    assert browser.get("/workspace/").status_code == 200


def test_a_link_opened_with_nothing_open_opens_at_once(app):
    owner = start_owner(app)
    token = token_of(owner)
    fresh = app.test_client()
    opened = fresh.get(f"/assessment/resume/{token}")
    assert opened.status_code == 303 and opened.headers["Location"].startswith(
        "/assessment/section/")
    assert open_id(fresh) == open_id(owner)


def test_a_section_post_without_a_csrf_token_never_switches_the_session(app):
    victim = start_owner(app, "Victim Bakery")
    mine = open_id(victim)
    attacker = start_owner(app, "Attacker Ltd")
    theirs, their_id = token_of(attacker), open_id(attacker)
    forged = {"resume": theirs, "q_backup__automatic": "none", "v_q_backup__automatic": "0"}

    # The browser of someone with an assessment open: a page of it, unsaved, nothing switched,
    # and the forged answer is not put on their page.
    response = victim.post("/assessment/section/backup", data=forged)
    assert response.status_code == 400
    assert open_id(victim) == mine
    page = response.get_data(as_text=True)
    assert 'value="none" checked' not in page.replace("\n", " ")
    assert owner_answer(app, mine) is None and owner_answer(app, their_id) is None

    # From another site (the browser sent no cookie with it, as SameSite=Lax does): nothing
    # changes, not even the cookie, so the visitor's own session survives.
    response = victim.post("/assessment/section/backup", data=forged, headers={
        "Sec-Fetch-Site": "cross-site", "Origin": "https://attacker.example"})
    assert response.status_code == 400 and "Set-Cookie" not in response.headers
    assert open_id(victim) == mine

    # A browser with nothing open: shown the named assessment's page, unsaved, and still
    # nothing open in it until its own Save (with its token) is pressed.
    stranger = app.test_client()
    response = stranger.post("/assessment/section/backup", data=forged)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "not saved yet, and no assessment is open in this browser now" in text
    assert open_id(stranger) is None and stranger.get("/assessment/").status_code == 404
    assert owner_answer(app, their_id) is None
    # Pressing Save on that page is the visitor's own choice: it opens it and saves.
    saved = stranger.post("/assessment/section/backup", data={
        "csrf_token": csrf_token(text), "resume": theirs, "q_backup__automatic": "weekly",
        "v_q_backup__automatic": "0"})
    assert saved.status_code == 303
    assert open_id(stranger) == their_id and owner_answer(app, their_id) == "weekly"


def test_a_page_of_another_assessment_saves_nothing_into_the_open_one(app):
    owner = start_owner(app, "First Bakery")
    first, first_token = open_id(owner), token_of(owner)
    landing = owner.get("/").get_data(as_text=True)
    owner.post("/assessment/start", data={"csrf_token": csrf_token(landing), "confirm": "new"})
    second = open_id(owner)
    assert second != first
    page = owner.get("/assessment/section/backup").get_data(as_text=True)
    response = owner.post("/assessment/section/backup", data={
        "csrf_token": csrf_token(page), "resume": first_token, "q_backup__automatic": "none",
        "v_q_backup__automatic": "0"})
    assert response.status_code == 409
    assert owner_answer(app, first) is None and owner_answer(app, second) is None


def test_landing_and_not_found_pages_offer_to_continue(app, adb):
    owner = start_owner(app, "Brightwater Bakery")
    for url, status in (("/", 200), ("/no/such/page", 404)):
        response = owner.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == status
        assert "Continue your assessment" in page and "Brightwater Bakery" in page, url
        assert 'href="/assessment/section/' in page
    adb.execute("UPDATE assessments SET status = 'finished' WHERE id = ?", [open_id(owner)])
    for url in ("/", "/no/such/page"):
        page = owner.get(url).get_data(as_text=True)
        assert "See your results" in page and 'href="/assessment/results"' in page, url
    # Nobody's assessment is offered to a browser without one.
    for url in ("/", "/no/such/page"):
        page = app.test_client().get(url).get_data(as_text=True)
        assert "Continue your assessment" not in page and "See your results" not in page


def test_starting_again_asks_first_and_shows_the_current_private_link(app):
    owner = start_owner(app, "Brightwater Bakery")
    mine, token = open_id(owner), token_of(owner)
    landing = owner.get("/").get_data(as_text=True)
    asked = owner.post("/assessment/start", data={"csrf_token": csrf_token(landing)})
    assert asked.status_code == 303 and asked.headers["Location"] == "/assessment/start-again"
    assert open_id(owner) == mine
    page = owner.get("/assessment/start-again").get_data(as_text=True)
    assert "Start a new assessment?" in page and "Brightwater Bakery" in page
    assert f"/assessment/resume/{token}" in page
    started = owner.post("/assessment/start", data={"csrf_token": csrf_token(page),
                                                    "confirm": "new"})
    assert started.status_code == 303 and open_id(owner) != mine


def test_the_private_link_is_shown_once_after_the_first_page_and_on_the_results(app, adb):
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    owner.post("/assessment/start", data={"csrf_token": csrf_token(landing)})
    token = token_of(owner)
    first = owner.get("/assessment/section/profile").get_data(as_text=True)
    assert "Keep this link to come back" not in first
    saved = owner.post("/assessment/section/profile", data={
        "csrf_token": csrf_token(first), "q_profile__business_name": "Bakery",
        "then": "next", "resume": token})
    assert saved.status_code == 303
    after = owner.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Keep this link to come back" in after
    assert f"http://localhost/assessment/resume/{token}" in after
    assert save_backup(owner).status_code == 303
    later = owner.get("/assessment/section/backup").get_data(as_text=True)
    assert "Keep this link to come back" not in later  # once
    assert f"/assessment/resume/{token}" in owner.get("/assessment/").get_data(as_text=True)
    adb.execute("UPDATE assessments SET status = 'finished' WHERE id = ?", [open_id(owner)])
    results = owner.get("/assessment/results").get_data(as_text=True)
    assert "Your private link" in results and f"/assessment/resume/{token}" in results


def test_the_link_of_a_finished_assessment_lands_on_the_results(app, adb):
    owner = start_owner(app)
    token = token_of(owner)
    adb.execute("UPDATE assessments SET status = 'finished' WHERE id = ?", [open_id(owner)])
    response = app.test_client().get(f"/assessment/resume/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/assessment/results"


# ---- 3. once the firm finishes, the client's link only reads ---------------------------------

def full_answers(app, db, assessment_id: str, source: str = "owner",
                 name: str = "well_run_managed") -> None:
    import json

    from assessment.core.scoring import parse_answer
    from assessment.storage import save_answer

    from .conftest import FIXTURES

    bank = app.extensions["bank"]
    answers = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["answers"]
    for qid, raw in answers.items():
        save_answer(db, assessment_id, qid, base_version=0, source=source,
                    answer=parse_answer(bank.question_by_id[qid], raw))


def client_link(member: dict, client_id: int) -> str:
    made = post_with_token(member["browser"], f"/workspace/clients/{client_id}/self-assessment")
    return re.search(r'id="share-link"[^>]*value="([^"]+)"',
                     made.get_data(as_text=True)).group(1)


@pytest.fixture
def self_assessment(app, adb):
    """A firm's client who answered everything through their link, in a browser of their own."""
    ana = signed_in_member(app)
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    link = client_link(ana, client_id)
    client = app.test_client()
    assert open_client_link(client, link).status_code == 303
    assessment_id = open_id(client)
    full_answers(app, adb, assessment_id)
    return {"member": ana, "client": client, "id": assessment_id, "client_id": client_id,
            "link": link}


def audit_events(caplog) -> list[dict]:
    import json

    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "it_health.audit"]


def test_a_finished_assessment_is_read_only_to_the_client_until_the_firm_reopens_it(
        app, adb, self_assessment, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="it_health.audit")
    s = self_assessment
    member, client, assessment_id = s["member"]["browser"], s["client"], s["id"]
    before = owner_answer(app, assessment_id)
    page = f"/workspace/assessments/{assessment_id}"
    assert post_with_token(member, f"{page}/finish", page=page).status_code == 303
    record = get_assessment(adb, assessment_id)
    assert record["status"] == "finished" and record["closed_at"]

    # The client reads, with a clear message, and can change nothing any way they try.
    section = client.get("/assessment/section/backup").get_data(as_text=True)
    assert "Northgate IT has finished this assessment" in section
    assert "ask Northgate IT to reopen it" in section
    assert "data-autosave" not in section and "Save and continue" not in section
    assert "Northgate IT has finished this assessment" in client.get(
        "/assessment/").get_data(as_text=True)
    other = "weekly" if before != "weekly" else "daily"
    refused = client.post("/assessment/section/backup", data={
        "csrf_token": csrf_token(section), "resume": token_of(client),
        "q_backup__automatic": other, "v_q_backup__automatic": "1"})
    assert refused.status_code == 303
    assert "Nothing was saved" in client.get(refused.headers["Location"]).get_data(
        as_text=True)
    autosaved = client.post("/assessment/answer", json={
        "question": "backup.automatic", "answer": other, "base_version": 1,
        "client_key": "k" * 12}, headers={"X-CSRFToken": csrf_token(section)})
    assert autosaved.status_code == 403
    assert "ask Northgate IT to reopen it" in autosaved.get_json()["message"]
    assert owner_answer(app, assessment_id) == before
    assert client.get(s["link"]).headers["Location"] == "/assessment/results"

    # The firm reopens it (audit-logged): the client can change answers again.
    reopened = post_with_token(member, f"{page}/reopen", page=page)
    assert reopened.status_code == 303
    record = get_assessment(adb, assessment_id)
    assert record["status"] == "in_progress" and record["closed_at"] is None
    assert any(e["event"] == "assessment_reopened" and e["assessment"] == assessment_id
               for e in audit_events(caplog))
    section = client.get("/assessment/section/backup").get_data(as_text=True)
    assert "has finished this assessment" not in section and "data-autosave" in section
    assert client.post("/assessment/section/backup", data={
        "csrf_token": csrf_token(section), "resume": token_of(client),
        "q_backup__automatic": other, "v_q_backup__automatic": "1"}).status_code == 303
    assert owner_answer(app, assessment_id) == other


def test_the_workspace_says_who_finished_and_offers_finish_and_reopen(app, adb,
                                                                      self_assessment):
    s = self_assessment
    member, assessment_id = s["member"]["browser"], s["id"]
    page = f"/workspace/assessments/{assessment_id}"
    # The client finished their side: the firm can still finish (and so lock) it.
    adb.execute("UPDATE assessments SET status = 'finished' WHERE id = ?", [assessment_id])
    text = member.get(page).get_data(as_text=True)
    assert "Finished by the client" in text and "Finish the assessment" in text
    assert "can still change them through their link" in text
    post_with_token(member, f"{page}/finish", page=page)
    text = member.get(page).get_data(as_text=True)
    assert "Reopen the assessment" in text and "Finish the assessment" not in text
    assert "the client's link only shows it now" in text


# ---- 4. every issued link is listed with its state, and can be cancelled or replaced ---------

def link_rows(page: str) -> list[str]:
    """The rows of the links tables, as text."""
    rows = re.findall(r'<tr class="link-row[^"]*">(.*?)</tr>', page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_a_self_assessment_link_is_listed_and_can_be_cancelled_and_replaced(app, adb, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="it_health.audit")
    ana = signed_in_member(app)
    firm = ana["browser"]
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    made = post_with_token(firm, f"/workspace/clients/{client_id}/self-assessment")
    text = made.get_data(as_text=True)
    link = re.search(r'id="share-link"[^>]*value="([^"]+)"', text).group(1)
    [record] = store.client_assessments(adb, ana["firm_id"], client_id)
    expires = record["link_expires_at"]
    assert "It works until" in text
    from assessment.web.dates import day
    assert day(expires) in text

    page = firm.get(f"/workspace/clients/{client_id}").get_data(as_text=True)
    [row] = link_rows(page)
    assert "Self-assessment link" in row and "Active not opened yet" in row
    assert day(expires) in row and "by Ana" in row

    client = app.test_client()
    assert open_client_link(client, link).status_code == 303
    assert save_backup(client).status_code == 303
    [row] = link_rows(firm.get(f"/workspace/clients/{client_id}").get_data(as_text=True))
    assert "Active opened" in row

    # Cancelled: the link no longer opens it, not even in the browser that has it open.
    page = f"/workspace/clients/{client_id}"
    assert post_with_token(firm, f"/workspace/assessments/{record['id']}/link/cancel",
                           page=page).status_code == 303
    closed = client.get("/assessment/")
    assert closed.status_code == 410
    assert "Northgate IT cancelled it" in closed.get_data(as_text=True)
    refused = app.test_client().get(link)
    assert refused.status_code == 410
    assert "Northgate IT cancelled it" in refused.get_data(as_text=True)
    [row] = link_rows(firm.get(page).get_data(as_text=True))
    assert "Cancelled" in row and ">Cancel<" not in row

    # Replaced: a new link to the same answers; the old one stays refused.
    made = post_with_token(firm, f"/workspace/assessments/{record['id']}/link/replace",
                           page=page)
    new_link = re.search(r'id="share-link"[^>]*value="([^"]+)"',
                         made.get_data(as_text=True)).group(1)
    assert new_link != link and "The old link no longer works" in made.get_data(as_text=True)
    fresh = app.test_client()
    assert open_client_link(fresh, new_link).status_code == 303
    assert open_id(fresh) == record["id"]
    assert owner_answer(app, record["id"]) == "daily"
    assert app.test_client().get(link).status_code == 404  # the old token is gone altogether

    # Expired: refused with the date, and listed as expired.
    adb.execute("UPDATE assessments SET link_expires_at = '2020-01-31T00:00:00+00:00' "
                "WHERE id = ?", [record["id"]])
    expired = app.test_client().get(new_link)
    assert expired.status_code == 410
    assert "It stopped working on 31 Jan 2020" in expired.get_data(as_text=True)
    [row] = link_rows(firm.get(page).get_data(as_text=True))
    assert "Expired" in row and "Replace" in row
    events = [e["event"] for e in audit_events(caplog)]
    assert {"link_created", "link_cancelled", "link_replaced"} <= set(events)


def test_links_for_owners_are_listed_and_can_be_cancelled_and_replaced(app, adb):
    ana = signed_in_member(app)
    firm = ana["browser"]
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    page = f"/workspace/clients/{client_id}"
    made = post_with_token(firm, f"/workspace/clients/{client_id}/claim-link").get_data(
        as_text=True)
    link = re.search(r'id="share-link"[^>]*value="([^"]+)"', made).group(1)
    assert "It works once" in made and "until" in made
    [row] = link_rows(firm.get(page).get_data(as_text=True))
    assert "Link for the owner" in row and "Active" in row and "by Ana" in row
    ref = adb.one("SELECT ref FROM claim_links")["ref"]

    owner = start_owner(app)
    assert post_with_token(firm, f"/workspace/claim-links/{ref}/cancel",
                           page=page).status_code == 303
    assert owner.get(link).status_code == 404
    [row] = link_rows(firm.get(page).get_data(as_text=True))
    assert "Cancelled" in row

    made = post_with_token(firm, f"/workspace/claim-links/{ref}/replace", page=page)
    new_link = re.search(r'id="share-link"[^>]*value="([^"]+)"',
                         made.get_data(as_text=True)).group(1)
    consent = owner.get(new_link)
    assert consent.status_code == 200
    assert owner.post(new_link, data={"csrf_token": csrf_token(consent.get_data(as_text=True)),
                                      "decision": "share"}).status_code == 303
    rows = link_rows(firm.get(page).get_data(as_text=True))
    assert sorted("Used" if "Used" in r else "Cancelled" if "Cancelled" in r else r
                  for r in rows) == ["Cancelled", "Used"]
    used = [r for r in rows if "Used" in r][0]
    assert "Replace" not in used and "Cancel" not in used

    # For a new client, on the Clients page.
    post_with_token(firm, "/workspace/claim-link")
    clients = firm.get("/workspace/").get_data(as_text=True)
    assert "Links made for owners" in clients and len(link_rows(clients)) == 1


def test_invites_are_listed_with_their_state_and_can_be_cancelled_and_replaced(app, adb):
    from assessment.storage import accounts

    ana = signed_in_member(app)
    admin = ana["browser"]
    made = post_with_token(admin, "/account/members/invite", {"role": "consultant"},
                           page="/account/members").get_data(as_text=True)
    link = re.search(r'id="invite-link"[^>]*value="([^"]+)"', made).group(1)
    assert "It works once, for 7 days: until" in made
    ref = adb.one("SELECT ref FROM invites")["ref"]
    [row] = link_rows(admin.get("/account/members").get_data(as_text=True))
    assert "Consultant" in row and "Active" in row

    assert post_with_token(admin, f"/account/members/invites/{ref}/cancel",
                           page="/account/members").status_code == 303
    assert app.test_client().get(link).status_code == 404
    with pytest.raises(accounts.InviteInvalid):
        accounts.accept_invite(adb, link.rsplit("/", 1)[-1], "cleo@northgate.example", "Cleo",
                               "correct horse battery")
    made = post_with_token(admin, f"/account/members/invites/{ref}/replace",
                           page="/account/members").get_data(as_text=True)
    assert "The old invite link no longer works" in made
    new_link = re.search(r'id="invite-link"[^>]*value="([^"]+)"', made).group(1)
    accounts.accept_invite(adb, new_link.rsplit("/", 1)[-1], "cleo@northgate.example", "Cleo",
                           "correct horse battery")
    accounts.create_invite(adb, ana["firm_id"], ana["user_id"], "admin", days=-1)
    rows = link_rows(admin.get("/account/members").get_data(as_text=True))
    assert len(rows) == 3
    assert any("Used by Cleo" in r for r in rows)
    assert any("Cancelled" in r and "Replace" in r for r in rows)
    assert any("Admin" in r and "Expired" in r for r in rows)


# ---- 13. admins archive and delete clients and assessments -----------------------------------

def test_admins_archive_and_restore_clients_and_assessments(app, adb, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="it_health.audit")
    ana = signed_in_member(app)
    admin = ana["browser"]
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    page = f"/workspace/clients/{client_id}"
    first = started_id(post_with_token(admin, f"{page}/interview"))
    second = started_id(post_with_token(admin, f"{page}/interview"))

    assert post_with_token(admin, f"/workspace/assessments/{first}/archive",
                           {"archived": "1"}, page=page).status_code == 303
    text = admin.get(page).get_data(as_text=True)
    table = text[text.index("<table"):text.index("</table>")]
    assert first not in table and second in table
    assert "Archived assessments" in text and f"/workspace/assessments/{first}" in text
    assert post_with_token(admin, f"/workspace/assessments/{first}/archive",
                           {"archived": "0"}, page=page).status_code == 303
    text = admin.get(page).get_data(as_text=True)
    assert first in text[text.index("<table"):text.index("</table>")]

    assert post_with_token(admin, f"{page}/archive", {"archived": "1"},
                           page=page).status_code == 303
    clients = admin.get("/workspace/").get_data(as_text=True)
    assert "Archived clients (1)" in clients
    assert "No clients yet" in clients  # the active list is empty
    assert "is archived" in admin.get(page).get_data(as_text=True)
    assert post_with_token(admin, f"{page}/archive", {"archived": "0"},
                           page=page).status_code == 303
    assert "Archived clients" not in admin.get("/workspace/").get_data(as_text=True)
    assert get_assessment(adb, first)  # nothing was deleted
    events = [e["event"] for e in audit_events(caplog)]
    for event in ("assessment_archived", "assessment_restored", "client_archived",
                  "client_restored"):
        assert event in events, event


def test_deleting_asks_for_the_name_and_takes_everything_with_it(app, adb, tmp_path, caplog):
    import logging

    from assessment.core.bank import Answer
    from assessment.storage import save_answer
    from assessment.web import reports

    caplog.set_level(logging.INFO, logger="it_health.audit")
    app.config["REPORT_DIR"] = str(tmp_path / "reports")
    ana = signed_in_member(app)
    admin = ana["browser"]
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    page = f"/workspace/clients/{client_id}"
    link = client_link(ana, client_id)  # a self-assessment, with its link
    [own] = store.client_assessments(adb, ana["firm_id"], client_id)
    owner = app.test_client()
    open_client_link(owner, link)
    save_answer(adb, own["id"], "backup.automatic", base_version=0, source="consultant",
                answer=Answer("answered", "daily"), note="Private note", client_key="key-1")
    adb.execute("UPDATE assessments SET status = 'finished' WHERE id = ?", [own["id"]])
    renewed = post_with_token(admin, f"{page}/renew").headers["Location"].rsplit("/", 1)[-1]
    assert get_assessment(adb, renewed)["copied_from"] == own["id"]
    post_with_token(admin, f"{page}/claim-link")
    with app.test_request_context():
        path = reports.cache().path("0" * 64)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-cached")
    store.remember_render(adb, own["id"], "0" * 64)

    # The wrong name (or none) deletes nothing and says how to go on.
    delete = f"/workspace/assessments/{own['id']}/delete"
    assert "type the client's name" in admin.get(delete).get_data(as_text=True)
    for typed in ("", "Harbour"):
        wrong = post_with_token(admin, delete, {"name": typed}, page=delete)
        assert wrong.status_code == 422
        assert "Type" in wrong.get_data(as_text=True)
    assert get_assessment(adb, own["id"])

    done = post_with_token(admin, delete, {"name": "  harbour   dental "}, page=delete)
    assert done.status_code == 303
    for table in ("answers", "answer_writes", "report_renders"):
        assert adb.one(f"SELECT count(*) AS n FROM {table} WHERE assessment_id = ?",
                       [own["id"]]) == {"n": 0}, table
    assert adb.one("SELECT count(*) AS n FROM assessments WHERE id = ?",
                   [own["id"]]) == {"n": 0}
    assert not path.exists()
    assert get_assessment(adb, renewed)["copied_from"] is None  # the copy stays
    assert app.test_client().get(link).status_code == 404  # its link is gone
    assert owner.get("/assessment/").status_code == 404

    # The whole client, with its claim link and the remaining assessment.
    delete = f"/workspace/clients/{client_id}/delete"
    assert "1 assessment" in admin.get(delete).get_data(as_text=True)
    assert post_with_token(admin, delete, {"name": "Harbour Dental"},
                           page=delete).status_code == 303
    assert store.get_client(adb, ana["firm_id"], client_id) is None
    for table in ("assessments", "claim_links"):
        assert adb.one(f"SELECT count(*) AS n FROM {table} WHERE client_id = ?",
                       [client_id]) == {"n": 0}, table
    assert admin.get(page).status_code == 404
    events = [e["event"] for e in audit_events(caplog)]
    assert "assessment_deleted" in events and "client_deleted" in events


def test_only_admins_archive_or_delete(app, adb):
    ana = signed_in_member(app)
    ben = signed_in_member(app, email="ben@northgate.example", role="consultant")
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    page = f"/workspace/clients/{client_id}"
    assert "Archive or delete" not in ben["browser"].get(page).get_data(as_text=True)
    assert "Archive or delete" in ana["browser"].get(page).get_data(as_text=True)
    for url, data in ((f"{page}/archive", {"archived": "1"}),
                      (f"{page}/delete", {"name": "Harbour Dental"})):
        assert post_with_token(ben["browser"], url, data, page=page).status_code == 403
    assert store.get_client(adb, ana["firm_id"], client_id)["archived_at"] is None


# ---- 2. the consultant's notes are private to the firm unless marked for the client ----------

PRIVATE = "Private: the owner seemed unsure; their nephew runs the backups"
SHARED = "Shared: the backup job emails its result to you every morning"


def test_notes_are_private_to_the_firm_unless_marked_for_the_client(app, adb,
                                                                    self_assessment):
    from assessment.web import reports

    s = self_assessment
    member, client, assessment_id = s["member"]["browser"], s["client"], s["id"]
    section = f"/workspace/assessments/{assessment_id}/interview/backup"
    page = member.get(section).get_data(as_text=True)
    assert page.count("(private to your firm)") >= 2 and "(shown to the client)" not in page
    assert 'name="s_q_backup__automatic"' in page
    form = {"n_q_backup__automatic": PRIVATE, "v_q_backup__automatic": "0",
            "n_q_backup__offsite": SHARED, "s_q_backup__offsite": "y",
            "v_q_backup__offsite": "0", "then": "overview"}
    assert post_with_token(member, section, form, page=section).status_code == 303
    mine = stored_answers(adb, assessment_id, "consultant")
    assert not mine["backup.automatic"].note_shared and mine["backup.offsite"].note_shared
    page = member.get(section).get_data(as_text=True)
    assert "(shown to the client)" in page  # the Note box says which it is

    # The client's side (finished, so that there is a report): the answers file and both
    # reports hold the shared note only.
    adb.execute("UPDATE assessments SET status = 'finished', closed_at = updated_at "
                "WHERE id = ?", [assessment_id])  # finished by the firm
    exported = client.get("/assessment/answers.json").get_data(as_text=True)
    assert SHARED in exported and PRIVATE not in exported
    for url in ("/assessment/report", "/assessment/report?variant=full"):
        text = client.get(url).get_data(as_text=True)
        assert PRIVATE not in text, url
    assert SHARED in client.get("/assessment/report?variant=full").get_data(as_text=True)
    with app.test_request_context():
        record = get_assessment(adb, assessment_id)
        for_client = reports.report_input(record, full=True, for_client=True).notes
        for_firm = reports.report_input(record, full=True, for_client=False).notes
    assert for_client == {"backup.offsite": SHARED}
    assert for_firm["backup.automatic"] == PRIVATE and for_firm["backup.offsite"] == SHARED

    # The firm's side: everything, each note marked for what it is.
    full = member.get(f"/workspace/assessments/{assessment_id}/report?variant=full")
    assert PRIVATE in full.get_data(as_text=True) and SHARED in full.get_data(as_text=True)
    assert f"Note, private to the firm: {PRIVATE}" in full.get_data(as_text=True)
    assert f"Note: {SHARED}" in full.get_data(as_text=True)
    exported = member.get(f"/workspace/clients/{s['client_id']}/answers.csv").get_data(
        as_text=True)
    assert PRIVATE in exported and SHARED in exported

    # Unticking makes a shared note private again, once the assessment is reopened (finished
    # means finished for the firm too: the save is refused until then).
    form = {"n_q_backup__offsite": SHARED, "v_q_backup__offsite": "1",
            "n_q_backup__automatic": PRIVATE, "v_q_backup__automatic": "1", "then": "overview"}
    refused = post_with_token(member, section, form, page=section)
    assert "Nothing was saved" in member.get(refused.headers["Location"]).get_data(as_text=True)
    assert SHARED in client.get("/assessment/answers.json").get_data(as_text=True)
    overview = f"/workspace/assessments/{assessment_id}"
    assert post_with_token(member, f"{overview}/reopen", page=overview).status_code == 303
    assert post_with_token(member, section, form, page=section).status_code == 303
    assert SHARED not in client.get("/assessment/answers.json").get_data(as_text=True)


# ---- 11. notes and Verified ticks save like answers ------------------------------------------

def interview_with_answer(app, adb):
    """A signed-in admin's interview with one answer saved; returns (member, assessment id)."""
    ana = signed_in_member(app)
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    started = post_with_token(ana["browser"], f"/workspace/clients/{client_id}/interview")
    assessment_id = started_id(started)
    from assessment.core.bank import Answer
    from assessment.storage import save_answer
    save_answer(adb, assessment_id, "backup.automatic", base_version=0, source="consultant",
                answer=Answer("answered", "daily"))
    return ana, assessment_id


def autosave(browser, assessment_id: str, **data):
    page = f"/workspace/assessments/{assessment_id}/interview/backup"
    token = csrf_token(browser.get(page).get_data(as_text=True))
    return browser.post(f"/workspace/assessments/{assessment_id}/answer",
                        json={"question": "backup.automatic", **data},
                        headers={"X-CSRFToken": token})


def test_a_note_and_ticks_autosave_versioned_and_idempotent_without_touching_the_answer(
        app, adb):
    ana, assessment_id = interview_with_answer(app, adb)
    browser = ana["browser"]
    saved = autosave(browser, assessment_id, note="  Saw the backup console  ",
                     base_version=1, client_key="note-key-1")
    assert saved.status_code == 200 and saved.get_json()["version"] == 2
    mine = stored_answers(adb, assessment_id, "consultant")["backup.automatic"]
    assert (mine.note, mine.answer.value, mine.version) == ("Saw the backup console", "daily", 2)

    # The same request again (a retry after a lost reply) changes nothing.
    again = autosave(browser, assessment_id, note="Saw the backup console",
                     base_version=1, client_key="note-key-1")
    assert (again.get_json()["version"], again.get_json()["replayed"]) == (2, True)
    # A stale one is refused with what is stored now, the note included.
    stale = autosave(browser, assessment_id, note="Older text", base_version=1,
                     client_key="note-key-2")
    assert stale.status_code == 409
    assert stale.get_json()["note"] == "Saw the backup console"
    ticked = autosave(browser, assessment_id, verified=True, note_shared=True, base_version=2,
                      client_key="note-key-3")
    assert ticked.status_code == 200
    mine = stored_answers(adb, assessment_id, "consultant")["backup.automatic"]
    assert mine.verified and mine.note_shared and mine.answer.value == "daily"
    assert mine.note == "Saw the backup console"

    # What does not fit is refused with a message, and nothing changes.
    for bad in ({"note": 5}, {"verified": "yes"}, {"note": "x" * 5001}):
        refused = autosave(browser, assessment_id, base_version=3, client_key="note-key-4",
                           **bad)
        assert refused.status_code == 400 and refused.get_json()["message"], bad
    assert stored_answers(adb, assessment_id, "consultant")["backup.automatic"].version == 3


def test_the_owner_wizard_saves_no_notes_through_autosave(app):
    owner = start_owner(app)
    page = owner.get("/assessment/section/backup").get_data(as_text=True)
    refused = owner.post("/assessment/answer", json={
        "question": "backup.automatic", "note": "x", "base_version": 0, "client_key": "k" * 12},
        headers={"X-CSRFToken": csrf_token(page)})
    assert refused.status_code == 400 and "interview" in refused.get_json()["message"]
    assert owner_answer(app, open_id(owner)) is None


# ---- 12. copied answers wait to be re-confirmed ----------------------------------------------

@pytest.fixture
def renewed(app, adb):
    """A client with a finished interview (every answer given) and a later one still open;
    a new assessment started from the last finished one."""
    from assessment.storage import set_status

    ana = signed_in_member(app)
    bank = app.extensions["bank"]
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    finished = store.start_client_assessment(adb, bank, ana["firm_id"], client_id,
                                             mode="interview", created_by=ana["user_id"])
    full_answers(app, adb, finished, source="consultant")
    set_status(adb, finished, "finished")
    adb.execute("UPDATE assessments SET finished_at = '2025-03-04T14:05:00+00:00' WHERE id = ?",
                [finished])
    store.start_client_assessment(adb, bank, ana["firm_id"], client_id, mode="interview",
                                  created_by=ana["user_id"])  # newer, not finished
    page = f"/workspace/clients/{client_id}"
    assert "copies the answers of the interview finished 4 Mar 2025, 14:05 UTC" in \
        ana["browser"].get(page).get_data(as_text=True)
    made = post_with_token(ana["browser"], f"{page}/renew", page=page)
    new_id = made.headers["Location"].rsplit("/", 1)[-1]
    return {"member": ana, "browser": ana["browser"], "source": finished, "id": new_id,
            "client_id": client_id, "flash": ana["browser"].get(
                made.headers["Location"]).get_data(as_text=True)}


def waiting_ids(adb, assessment_id: str) -> set[str]:
    return {qid for qid, s in stored_answers(adb, assessment_id, "consultant").items()
            if s.reconfirm and s.answer}


def test_a_new_assessment_copies_the_last_finished_one_and_says_which(app, adb, renewed):
    assert get_assessment(adb, renewed["id"])["copied_from"] == renewed["source"]
    assert "Started from the interview finished 4 Mar 2025, 14:05 UTC" in renewed["flash"]
    # Nothing counts as answered yet; progress says how many wait; it cannot be finished.
    text = renewed["flash"]
    match = re.search(r"(\d+) of (\d+) questions answered, (\d+) copied answers to re-confirm",
                      text)
    assert match and match.group(1) == "0" and int(match.group(3)) > 30, text[:3000]
    assert "Finish the assessment" not in text
    page = f"/workspace/assessments/{renewed['id']}"
    refused = post_with_token(renewed["browser"], f"{page}/finish", page=page)
    assert "waiting to be re-confirmed" in renewed["browser"].get(
        refused.headers["Location"]).get_data(as_text=True)
    assert get_assessment(adb, renewed["id"])["status"] == "in_progress"


def test_no_finished_assessment_no_copy(app, adb):
    ana = signed_in_member(app)
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    page = f"/workspace/clients/{client_id}"
    post_with_token(ana["browser"], f"{page}/interview", page=page)
    assert "from the last one" not in ana["browser"].get(page).get_data(as_text=True)
    refused = post_with_token(ana["browser"], f"{page}/renew", page=page)
    assert "no finished assessment" in ana["browser"].get(refused.headers["Location"]) \
        .get_data(as_text=True)
    assert len(store.client_assessments(adb, ana["firm_id"], client_id)) == 1


def test_two_finished_in_one_moment_copy_the_later_of_the_two(app, adb):
    """A self-assessment and the interview copied from it, finished with one timestamp (as a
    script does): the interview is the later, and a new assessment copies it."""
    from assessment.storage import set_status

    ana = signed_in_member(app)
    bank = app.extensions["bank"]
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    own = store.start_client_assessment(adb, bank, ana["firm_id"], client_id, mode="self",
                                        created_by=ana["user_id"])
    set_status(adb, own, "finished")
    interview = store.start_client_assessment(adb, bank, ana["firm_id"], client_id,
                                              mode="interview", created_by=ana["user_id"],
                                              copy_from=own)
    set_status(adb, interview, "finished")
    adb.execute("UPDATE assessments SET created_at = '2025-03-04T14:00:00.000+00:00', "
                "finished_at = '2025-03-04T14:05:00.000+00:00' WHERE client_id = ?", [client_id])
    page = f"/workspace/clients/{client_id}"
    assert "copies the answers of the interview finished" in \
        ana["browser"].get(page).get_data(as_text=True)
    made = post_with_token(ana["browser"], f"{page}/renew", page=page)
    renewed_id = made.headers["Location"].rsplit("/", 1)[-1]
    assert get_assessment(adb, renewed_id)["copied_from"] == interview


def interview_form(browser, url: str) -> dict:
    """The section's form as the page holds it (every copied answer still selected)."""
    text = browser.get(url).get_data(as_text=True)
    form = {"csrf_token": csrf_token(text)}
    for name, value in re.findall(r'<input type="radio" id="[^"]+" name="([^"]+)" value="([^"]+)"'
                                  r'\s*checked', text):
        form[name] = value
    for name, value in re.findall(r'name="(v_[^"]+)" value="(\d+)"', text):
        form[name] = value
    return form


def test_copied_answers_count_only_once_re_confirmed(app, adb, renewed):
    browser, assessment_id = renewed["browser"], renewed["id"]
    url = f"/workspace/assessments/{assessment_id}/interview/monitoring"
    here = {"monitoring.watched", "monitoring.alerts", "monitoring.maintenance"}
    assert here <= waiting_ids(adb, assessment_id)
    text = browser.get(url).get_data(as_text=True)
    assert text.count("Still true: re-confirm this copied answer") == 3
    assert "All 3 copied answers still true" in text

    # Saved as they are, they still wait: saving is not re-confirming.
    form = interview_form(browser, url)
    assert browser.post(url, data={**form, "then": "overview"}).status_code == 303
    assert here <= waiting_ids(adb, assessment_id)
    # One ticked "Still true": that one counts.
    form = interview_form(browser, url)
    browser.post(url, data={**form, "confirm": "monitoring.watched", "then": "overview"})
    assert here - waiting_ids(adb, assessment_id) == {"monitoring.watched"}
    # The rest of the page at once.
    form = interview_form(browser, url)
    done = browser.post(url, data={**form, "then": "confirm_all"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/interview/patching")
    assert not here & waiting_ids(adb, assessment_id)
    assert "Re-confirmed 2 copied answers" in browser.get(done.headers["Location"]) \
        .get_data(as_text=True)

    # The page script's way: saving the answer re-confirms it, saving a note does not.
    backup = f"/workspace/assessments/{assessment_id}/interview/backup"
    token = csrf_token(browser.get(backup).get_data(as_text=True))
    mine = stored_answers(adb, assessment_id, "consultant")
    note = browser.post(f"/workspace/assessments/{assessment_id}/answer", json={
        "question": "backup.offsite", "note": "asked again", "client_key": "k-note-1",
        "base_version": mine["backup.offsite"].version}, headers={"X-CSRFToken": token})
    assert note.status_code == 200 and "backup.offsite" in waiting_ids(adb, assessment_id)
    again = browser.post(f"/workspace/assessments/{assessment_id}/answer", json={
        "question": "backup.automatic", "answer": mine["backup.automatic"].answer.value,
        "client_key": "k-answer-1", "base_version": mine["backup.automatic"].version},
        headers={"X-CSRFToken": token})
    assert again.status_code == 200 and "backup.automatic" not in waiting_ids(adb,
                                                                              assessment_id)
    # Progress counts the copied answers still waiting among the questions that apply (a copied
    # answer to a question its other answers hide waits unseen and blocks nothing).
    from assessment.core.scoring import score
    from assessment.storage import answers_for_scoring, bank_of

    bank = bank_of(adb, get_assessment(adb, assessment_id))
    applies = {o.question.id for o in score(bank, answers_for_scoring(adb, assessment_id)).outcomes
               if o.applicable}
    assert again.get_json()["progress"]["waiting"] == len(waiting_ids(adb, assessment_id)
                                                          & applies)


# ---- 14. the consultant's pages ---------------------------------------------------------------

def test_the_client_page_shows_contacts_notes_and_each_assessments_kind_time_and_who(app, adb):
    from assessment.storage import set_status

    ana = signed_in_member(app, name="Ana Smith")
    browser = ana["browser"]
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental",
                                    contacts="Dr Lee, 0161 555 0100", notes="Two sites")
    bank = app.extensions["bank"]
    made = []
    for hour in ("09:15", "16:40"):  # two on one day
        a = store.start_client_assessment(adb, bank, ana["firm_id"], client_id,
                                          mode="interview", created_by=ana["user_id"])
        full_answers(app, adb, a, source="consultant")
        set_status(adb, a, "finished")
        adb.execute("UPDATE assessments SET created_at = ? WHERE id = ?",
                    [f"2025-03-04T{hour}:00.000+00:00", a])
        made.append(a)
    page = browser.get(f"/workspace/clients/{client_id}").get_data(as_text=True)
    facts = page[page.index('<dl class="client-facts">'):page.index("</dl>")]
    assert "Dr Lee, 0161 555 0100" in facts and "Two sites" in facts
    table = page[page.index('id="assessments"'):page.index("</table>")]
    for hour in ("09:15", "16:40"):
        assert f"4 Mar 2025, {hour} UTC" in table
    assert table.count("by Ana Smith") == 2 and table.count("Interview") == 2
    chart = page[page.index("<svg"):page.index("</svg>")]
    labels = re.findall(r'class="chart-label">([^<]*)</text>', chart)
    assert "4 Mar 09:15" in labels and "4 Mar 16:40" in labels

    compare = browser.get(f"/workspace/clients/{client_id}/compare?a={made[0]}&b={made[1]}")
    text = compare.get_data(as_text=True)
    assert "started 4 Mar 2025, 09:15 UTC by Ana Smith" in text
    assert "started 4 Mar 2025, 16:40 UTC by Ana Smith" in text


def test_still_open_is_grouped_by_section_and_by_workstream(mini_bank):
    from assessment.core.bank import Answer
    from assessment.core.history import compare
    from assessment.core.scoring import score

    before = score(mini_bank, {"backup.automatic": Answer("answered", "weekly"),
                               "backup.tested": Answer.not_sure(),
                               "security.mfa": Answer("answered", "no")})
    diff = compare(before, before)
    titles = [title for title, _ in diff.findings_open_by_section]
    assert titles == ["Backup", "Security"]  # each section once, in bank order
    assert [f for _, items in diff.findings_open_by_section for f in items] == \
        list(diff.findings_open)
    streams = [title for title, _ in diff.steps_open_by_workstream]
    assert streams == sorted(set(streams), key=streams.index)  # each workstream once
    assert [s for _, items in diff.steps_open_by_workstream for s in items] == \
        list(diff.steps_open)
    assert {s.title for s in diff.steps_open} == {s.title for s in before.steps}
    assert not diff.steps_done and not diff.steps_new and not diff.findings_resolved


def test_finishing_is_the_next_step_after_the_last_section(app, adb):
    ana = signed_in_member(app)
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    started = post_with_token(ana["browser"], f"/workspace/clients/{client_id}/interview")
    assessment_id = started_id(started)
    bank = app.extensions["bank"]
    last = bank.sections[-1].id
    page = ana["browser"].get(f"/workspace/assessments/{assessment_id}/interview/{last}")
    text = page.get_data(as_text=True)
    assert re.search(r'button-primary" type="submit" name="then" value="overview">Save and go '
                     r'to overview', text) and "Save and next section" not in text
    full_answers(app, adb, assessment_id, source="consultant")
    text = ana["browser"].get(f"/workspace/assessments/{assessment_id}").get_data(as_text=True)
    assert re.search(r'class="button button-primary" type="submit">Finish the assessment', text)
    assert 'class="button" href="/workspace/assessments/' in text  # the review: secondary


def test_workspace_pages_carry_the_firm_and_not_the_owners_footer(app):
    ana = signed_in_member(app)
    page = ana["browser"].get("/workspace/").get_data(as_text=True)
    assert re.search(r'<a class="brand" href="/workspace/">.*?Northgate IT', page, re.S)
    assert "site-footer" not in page
    assert "site-footer" in app.test_client().get("/").get_data(as_text=True)


def test_disabling_a_member_asks_first(app, adb):
    from assessment.storage import accounts

    ana = signed_in_member(app)
    ben = make_member(app, email="ben@northgate.example", role="consultant", name="Ben Bright")
    url = f"/account/members/{ben['user_id']}/active"
    asked = post_with_token(ana["browser"], url, {"active": "0"}, page="/account/members")
    assert asked.status_code == 200 and "Disable Ben Bright?" in asked.get_data(as_text=True)
    assert accounts.get_user(adb, ana["firm_id"], ben["user_id"]).active
    done = post_with_token(ana["browser"], url, {"active": "0", "confirm": "yes"},
                           page="/account/members")
    assert done.status_code == 303
    assert not accounts.get_user(adb, ana["firm_id"], ben["user_id"]).active


def test_logo_refusals_say_the_real_reason(app):
    import io

    ana = signed_in_member(app)
    browser = ana["browser"]

    def upload(data: bytes, name: str):
        token = csrf_token(browser.get("/workspace/branding").get_data(as_text=True))
        return browser.post("/workspace/branding", content_type="multipart/form-data", data={
            "csrf_token": token, "name": "Northgate IT", "primary_colour": "#0d5c63",
            "accent_colour": "#b5541b", "contact_line": "", "disclaimer": "",
            "logo": (io.BytesIO(data), name)})

    big = upload(b"\x89PNG\r\n\x1a\n" + b"0" * (3 * 1024 * 1024), "logo.png")
    assert big.status_code == 422
    assert "The logo is 3.0 MB; the limit is 2 MB" in big.get_data(as_text=True)
    page = upload(b"<!DOCTYPE html><html><body>logo</body></html>", "logo.png")
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "web page (HTML), not an image" in text
    assert "SVG" not in text[text.index("error-summary"):]
    gif = upload(b"GIF89a" + b"\x00" * 100, "logo.png").get_data(as_text=True)
    assert "This file is a GIF image, not a PNG or JPEG" in gif
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # past what the app takes at all
    huge = upload(b"\x89PNG\r\n\x1a\n" + b"0" * (1536 * 1024), "logo.png")
    assert huge.status_code == 413
    text = huge.get_data(as_text=True)
    assert "Branding" in text and "the limit for a logo is 2 MB" in text
    assert re.search(r"The upload is 1\.\d MB", text)


def test_branding_offers_colour_pickers_beside_the_hex_fields(app):
    ana = signed_in_member(app)
    page = ana["browser"].get("/workspace/branding").get_data(as_text=True)
    for name in ("primary_colour", "accent_colour"):
        assert re.search(rf'<input type="color" id="{name}-picker" value="#[0-9a-f]{{6}}" '
                         rf'data-colour-for="{name}"', page), name
        assert f'id="{name}" name="{name}"' in page.replace('class="input-colour" ', "")
    assert "branding.js" in page


# ---- every new form: bad input is a clear 4xx (or changes nothing), never a 500 -------------

HOSTILE = ["", "\x00", "2", "yes" * 2000, "<script>alert(1)</script>", "../../etc/passwd",
           "'; DROP TABLE clients; --", "\u202eevil", "🙂" * 50]


@pytest.mark.parametrize("value", HOSTILE)
def test_the_new_forms_refuse_any_input_without_a_server_error(app, adb, value):
    ana = signed_in_member(app)
    browser = ana["browser"]
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    page = f"/workspace/clients/{client_id}"
    link = client_link(ana, client_id)
    [record] = store.client_assessments(adb, ana["firm_id"], client_id)
    token = csrf_token(browser.get(page).get_data(as_text=True))
    before = adb.one("SELECT count(*) AS n FROM assessments")
    for url, field in ((f"{page}/archive", "archived"), (f"{page}/delete", "name"),
                       (f"/workspace/assessments/{record['id']}/archive", "archived"),
                       (f"/workspace/assessments/{record['id']}/delete", "name"),
                       (f"/workspace/assessments/{record['id']}/reopen", "x"),
                       (f"/workspace/assessments/{record['id']}/interview/backup", "then"),
                       (f"/workspace/assessments/{record['id']}/interview/backup", "confirm"),
                       (f"/workspace/claim-links/{value[:50] or 'x'}/cancel", "x"),
                       (f"/account/members/invites/{value[:50] or 'x'}/replace", "x"),
                       (f"/account/members/{ana['user_id']}/active", "confirm")):
        response = browser.post(url, data={"csrf_token": token, field: value})
        assert response.status_code < 500, (url, response.status_code)
    assert adb.one("SELECT count(*) AS n FROM assessments") == before
    assert store.get_client(adb, ana["firm_id"], client_id)["archived_at"] is None
    owner = app.test_client()
    open_client_link(owner, link)
    owner_token = csrf_token(owner.get("/").get_data(as_text=True))
    for url, field in (("/assessment/switch", "decision"), ("/assessment/start", "confirm"),
                       ("/assessment/section/backup", "resume")):
        response = owner.post(url, data={"csrf_token": owner_token, field: value})
        assert response.status_code < 500, (url, response.status_code)
