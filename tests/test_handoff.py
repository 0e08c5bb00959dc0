"""Ask the one who knows: an owner hands a section to their IT provider through a private link.
The link opens that section only, for as long as it lives; the provider's answers are saved as
theirs and count; the owner sees them beside their own and can query one. The browser side is in
tests/e2e/test_handoff.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assessment import create_app
from assessment.core.viewpoint import BUSINESS
from assessment.storage import assessment_view, connect, get_assessment, handoffs, stored_answers
from assessment.storage import clients as store
from assessment.support.config import database as database_of

from .conftest import BANK_FIXTURES
from .workspace_fixtures import csrf_token, make_member, open_client_link, sign_in

pytestmark = pytest.mark.both_backends

LINK = re.compile(r'id="handoff-link"[^>]*value="([^"]+)"')
OWNER_KEYS = ("assessment_id", "resume_token", "pending_resume", "link_shown")


def handoff_bank(target: Path) -> Path:
    """The small test bank, as bank 2.2 with its email question marked as one owners rarely
    know (with technical wording)."""
    target.mkdir(parents=True, exist_ok=True)
    for source in (BANK_FIXTURES / "mini").iterdir():
        text = source.read_text()
        if source.name == "bank.yaml":
            text = re.sub(r"^version: .*$", "version: 2.2.0", text, count=1, flags=re.M)
        else:
            text = re.sub(r"^(\s+)finding: (.*)$",
                          r"\1finding: \2\n\1why_it_matters: Work could stop for days.", text,
                          flags=re.M)
            text = re.sub(r"(not_sure: \{[^}]*finding: [^}]*)\}",
                          r"\1, why_it_matters: Nobody knows and nobody acts.}", text)
        if source.name == "security.yaml":
            text = text.replace(
                "    text: Does email need a code as well as a password?\n",
                "    text: Does email need a code as well as a password?\n"
                "    owners_rarely_know: true\n"
                "    consultant_text: MFA enforced on every mailbox, legacy sign-in off.\n")
        (target / source.name).write_text(text)
    return target


@pytest.fixture
def app(tmp_path, database_url):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "DATABASE": str(tmp_path / "app.sqlite"),
                       "BANK_DIR": str(handoff_bank(tmp_path / "bank")),
                       "SIGNIN_RATE_LIMIT": 50})


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


def session_of(browser) -> dict:
    with browser.session_transaction() as session:
        return dict(session)


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def start_owner(app):
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    assert owner.post("/assessment/start",
                      data={"csrf_token": csrf_token(landing)}).status_code == 303
    return owner


def owner_saves(owner, section: str, data: dict):
    page = owner.get(f"/assessment/section/{section}").get_data(as_text=True)
    return owner.post(f"/assessment/section/{section}", data={
        "csrf_token": csrf_token(page), "resume": session_of(owner)["resume_token"], **data})


def hand_off(owner, section: str = "security", recipient: str = "Sam at Brightline IT"):
    page = owner.get(f"/assessment/section/{section}/hand-off")
    assert page.status_code == 200
    made = owner.post(f"/assessment/section/{section}/hand-off", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "recipient": recipient})
    assert made.status_code == 200, made.status_code
    return LINK.search(made.get_data(as_text=True)).group(1).replace("http://localhost", "")


def provider_post(browser, link: str, data: dict, then: str = "save", anyway: bool = True):
    """The provider's page sent without JavaScript; "send" sends it as it is (anyway), or asks
    first when questions are left without an answer."""
    page = browser.get(link).get_data(as_text=True)
    extra = {"confirm": "send"} if then == "send" and anyway else {}
    return browser.post(link, data={"csrf_token": csrf_token(page), "then": then, **extra,
                                    **data})


def provider_autosave(browser, link: str, data: dict):
    page = browser.get(link).get_data(as_text=True)
    return browser.post(link + "/answer", json=data,
                        headers={"X-CSRFToken": csrf_token(page)})


def id_of(owner) -> str:
    return session_of(owner)["assessment_id"]


def row_of(adb, assessment_id: str, section: str = "security") -> dict:
    return handoffs.latest(adb, assessment_id, section)


# ---- making, copying and cancelling the link --------------------------------------------------

def test_the_owner_makes_a_link_shown_once_and_the_section_then_waits(app, adb):
    owner = start_owner(app)
    section = owner.get("/assessment/section/security")
    text = text_of(section)
    assert "Most owners don't know this. Whoever runs your IT can answer it in a minute." in text
    assert "Ask whoever runs your IT to answer this section" in text
    # The offer comes above the question's choices.
    html = section.get_data(as_text=True)
    assert html.index("Most owners don't know this") < html.index('value="yes"')

    link = hand_off(owner)
    token = link.rsplit("/", 1)[1]
    row = row_of(adb, id_of(owner))
    assert row["token_hash"] == handoffs.hash_token(token) and token not in str(row)
    assert row["recipient"] == "Sam at Brightline IT"
    assert handoffs.state(row) == "waiting"

    # Shown once: no other page of the owner's has it again.
    for page in ("/assessment/", "/assessment/section/security", "/assessment/review"):
        assert token not in owner.get(page).get_data(as_text=True)
    hub = text_of(owner.get("/assessment/"))
    assert "Waiting for whoever runs your IT" in hub
    assert "Copy a new link" in hub and "Cancel the link" in hub
    assert "Waiting for whoever runs your IT" in text_of(owner.get("/assessment/section/security"))

    # A new link in its place: the old one stops working.
    hub_page = owner.get("/assessment/").get_data(as_text=True)
    again = owner.post("/assessment/section/security/hand-off/replace",
                       data={"csrf_token": csrf_token(hub_page)})
    new_link = LINK.search(again.get_data(as_text=True)).group(1).replace("http://localhost", "")
    assert new_link != link
    assert app.test_client().get(link).status_code == 410
    assert app.test_client().get(new_link).status_code == 200
    assert row_of(adb, id_of(owner))["recipient"] == "Sam at Brightline IT"  # carried over

    cancelled = owner.post("/assessment/section/security/hand-off/cancel",
                           data={"csrf_token": csrf_token(hub_page), "back": "hub"})
    assert cancelled.status_code == 303
    assert app.test_client().get(new_link).status_code == 410
    assert "Waiting for whoever runs your IT" not in text_of(owner.get("/assessment/"))


def test_the_link_opens_its_section_only_and_shows_nothing_else(app, adb):
    owner = start_owner(app)
    assert owner_saves(owner, "backup", {"q_backup__automatic": "weekly"}).status_code == 303
    assert owner_saves(owner, "security", {"q_security__mfa": "yes"}).status_code == 303
    link = hand_off(owner)
    provider = app.test_client()
    page = provider.get(link)
    assert page.status_code == 200
    html, text = page.get_data(as_text=True), text_of(page)
    assert "Does email need a code as well as a password?" in text
    assert "In technical terms: MFA enforced on every mailbox, legacy sign-in off." in text
    assert "Is data backed up automatically?" not in text  # another section
    assert "/assessment/resume/" not in html and session_of(owner)["resume_token"] not in html
    assert "/assessment/section/backup" not in html and "Your assessment" not in text
    # The owner's own answer is not shown: it would anchor the provider.
    assert not re.search(r'value="yes"\s+checked', html)

    # A question of another section cannot be saved through the link, either way.
    refused = provider_autosave(provider, link, {"question": "backup.automatic",
                                                 "answer": "none", "base_version": 0,
                                                 "client_key": "key-0000-other-section"})
    assert refused.status_code == 404
    assert provider_post(provider, link, {"q_backup__automatic": "none",
                                          "q_security__mfa": "no"}).status_code == 303
    provided = stored_answers(adb, id_of(owner), "provider")
    assert set(provided) == {"security.mfa"}
    assert stored_answers(adb, id_of(owner), "owner")["backup.automatic"].answer.value == \
        "weekly"


def test_the_provider_s_answers_are_theirs_count_and_show_on_the_owner_s_page(app, adb):
    owner = start_owner(app)
    assert owner_saves(owner, "security", {"q_security__mfa": "yes"}).status_code == 303
    link = hand_off(owner)
    provider = app.test_client()
    saved = provider_autosave(provider, link, {"question": "security.mfa", "answer": "no",
                                               "base_version": 0, "client_key": "key-0000-mfa-1"})
    assert saved.status_code == 200 and saved.get_json()["version"] == 1
    noted = provider_autosave(provider, link, {"question": "security.mfa", "note":
                                               "Checked the admin centre today.",
                                               "base_version": 1, "client_key": "key-0000-mfa-2"})
    assert noted.status_code == 200
    # The same save again (a retry) changes nothing; a stale one is a conflict.
    assert provider_autosave(provider, link, {"question": "security.mfa", "answer": "no",
                                              "base_version": 0, "client_key": "key-0000-mfa-1"}
                             ).get_json()["replayed"] is True
    stale = provider_autosave(provider, link, {"question": "security.mfa", "answer": "yes",
                                               "base_version": 0, "client_key": "key-0000-mfa-3"})
    assert stale.status_code == 409

    theirs = stored_answers(adb, id_of(owner), "provider")["security.mfa"]
    assert theirs.answer.value == "no" and theirs.note == "Checked the admin centre today."
    assert stored_answers(adb, id_of(owner), "owner")["security.mfa"].answer.value == "yes"
    seen = assessment_view(adb, get_assessment(adb, id_of(owner)), BUSINESS)
    assert seen.source_of["security.mfa"] == "provider"
    assert seen.answers["security.mfa"].value == "no"
    assert any(f.outcome.question.id == "security.mfa" for f in seen.result.critical_findings)

    form = {"q_security__mfa": "no", "v_q_security__mfa": "2",
            "n_q_security__mfa": "Checked the admin centre today."}
    # Questions left without an answer: asked first, and "Send anyway" sends.
    first = provider_post(provider, link, form, then="send", anyway=False)
    assert first.status_code == 303 and "unsent=1" in first.headers["Location"]
    assert handoffs.state(row_of(adb, id_of(owner))) == "waiting"
    assert "Send anyway" in text_of(provider.get(first.headers["Location"]))
    sent = provider_post(provider, link, form, then="send")
    assert sent.status_code == 303
    assert handoffs.state(row_of(adb, id_of(owner))) == "answered"
    assert "Thank you" in text_of(provider.get(link))

    text = text_of(owner.get("/assessment/section/security"))
    assert "Answered by whoever runs your IT: No" in text
    assert "Their note: Checked the admin centre today." in text
    assert "You answered: Yes" in text
    assert "Answered by whoever runs your IT" in text_of(owner.get("/assessment/"))


def test_a_query_reopens_the_hand_off_and_the_provider_sees_it(app, adb):
    owner = start_owner(app)
    link = hand_off(owner)
    provider = app.test_client()
    assert provider_post(provider, link, {"q_security__mfa": "no", "v_q_security__mfa": "0"},
                         then="send").status_code == 303
    assert handoffs.state(row_of(adb, id_of(owner))) == "answered"
    # Sent: the page only shows the answers now.
    refused = provider_post(provider, link, {"q_security__mfa": "yes",
                                             "v_q_security__mfa": "1"})
    assert refused.status_code == 409
    assert stored_answers(adb, id_of(owner), "provider")["security.mfa"].answer.value == "no"

    url = "/assessment/section/security/hand-off/query/security.mfa"
    form = owner.get(url)
    assert "Answered by whoever runs your IT: No" in text_of(form)
    asked = owner.post(url, data={"csrf_token": csrf_token(form.get_data(as_text=True)),
                                  "query": "We turned it on for everyone in May: is it off?"})
    assert asked.status_code == 303
    assert handoffs.state(row_of(adb, id_of(owner))) == "waiting"
    assert "You asked them: “We turned it on for everyone in May: is it off?”" in text_of(
        owner.get("/assessment/section/security"))

    page = text_of(provider.get(link))
    assert "asks: We turned it on for everyone in May: is it off?" in page
    assert provider_post(provider, link, {"q_security__mfa": "yes", "v_q_security__mfa": "1"},
                         then="send").status_code == 303
    assert stored_answers(adb, id_of(owner), "provider")["security.mfa"].answer.value == "yes"
    assert handoffs.state(row_of(adb, id_of(owner))) == "answered"
    assert handoffs.open_queries(row_of(adb, id_of(owner))) == {}


def test_waiting_sections_are_listed_on_review_and_do_not_stop_finishing(app, adb):
    owner = start_owner(app)
    hand_off(owner)
    review = text_of(owner.get("/assessment/review"))
    assert "Still waiting for whoever runs your IT" in review and "Security" in review


# ---- links that no longer work ---------------------------------------------------------------

def test_cancelled_expired_and_unknown_links_are_refused_with_no_data(app, adb):
    owner = start_owner(app)
    link = hand_off(owner)
    token = link.rsplit("/", 1)[1]
    provider = app.test_client()
    page = provider.get(link).get_data(as_text=True)

    adb.execute("UPDATE handoffs SET expires_at = ? WHERE token_hash = ?",
                ["2000-01-01T00:00:00+00:00", handoffs.hash_token(token)])
    expired = provider.get(link)
    assert expired.status_code == 410 and "This link has expired" in text_of(expired)
    assert "Does email need a code" not in text_of(expired)
    late = provider.post(link + "/answer", headers={"X-CSRFToken": csrf_token(page)},
                         json={"question": "security.mfa", "answer": "no", "base_version": 0,
                               "client_key": "key-0000-late-1"})
    assert late.status_code == 410
    assert stored_answers(adb, id_of(owner), "provider") == {}
    hub = text_of(owner.get("/assessment/"))
    assert "The link you sent has expired" in hub

    second = hand_off(owner)
    hub_page = owner.get("/assessment/").get_data(as_text=True)
    owner.post("/assessment/section/security/hand-off/cancel",
               data={"csrf_token": csrf_token(hub_page)})
    cancelled = provider.get(second)
    assert cancelled.status_code == 410 and "cancelled this link" in text_of(cancelled)
    assert "Does email need a code" not in text_of(cancelled)

    unknown = provider.get("/answer-for/not-a-real-token")
    assert unknown.status_code == 404 and "Does email need a code" not in text_of(unknown)
    assert provider.get("/answer-for/" + "x" * 5000).status_code == 404


def test_guessing_links_is_rate_limited(app):
    app.config["SIGNIN_RATE_LIMIT"] = 3
    guesser = app.test_client()
    codes = [guesser.get(f"/answer-for/guess-{n}").status_code for n in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[-1] == 429


# ---- CSRF, hostile input, the owner's session, tenants --------------------------------------

def test_every_form_needs_its_csrf_token(app, adb):
    owner = start_owner(app)
    assert owner.post("/assessment/section/security/hand-off",
                      data={"recipient": "Sam"}).status_code == 400
    assert handoffs.latest(adb, id_of(owner), "security") is None
    link = hand_off(owner)
    provider = app.test_client()
    provider.get(link)
    assert provider.post(link, data={"q_security__mfa": "no", "then": "send"}).status_code == 400
    assert provider.post(link + "/answer", json={"question": "security.mfa", "answer": "no",
                                                 "base_version": 0, "client_key": "key-0000-nocsrf"}
                         ).status_code == 400
    assert stored_answers(adb, id_of(owner), "provider") == {}
    assert handoffs.state(row_of(adb, id_of(owner))) == "waiting"
    for path in ("/assessment/section/security/hand-off/cancel",
                 "/assessment/section/security/hand-off/replace",
                 "/assessment/section/security/hand-off/query/security.mfa"):
        assert owner.post(path, data={"query": "x"}).status_code == 400
    assert app.test_client().get(link).status_code == 200  # still the same, working link
    # A form from another site changes nothing, not even the cookie.
    forged = provider.post(link, data={"then": "send"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 400 and "Set-Cookie" not in forged.headers


HOSTILE = ["\x1b[31mred\x07 \u202eevil", "<script>alert(1)</script>", "Ω≈ç√ 🙂 \u0301e"]


@pytest.mark.parametrize("note", HOSTILE)
def test_hostile_notes_are_stored_exactly_as_typed_and_shown_escaped(app, adb, note):
    owner = start_owner(app)
    link = hand_off(owner)
    provider = app.test_client()
    saved = provider_post(provider, link, {"q_security__mfa": "no", "n_q_security__mfa": note})
    assert saved.status_code == 303
    assert stored_answers(adb, id_of(owner), "provider")["security.mfa"].note == note
    for page in (provider.get(link), owner.get("/assessment/section/security")):
        assert page.status_code == 200
        assert "<script>alert" not in page.get_data(as_text=True)


def test_too_long_or_odd_input_is_refused_never_a_server_error(app, adb):
    owner = start_owner(app)
    link = hand_off(owner)
    provider = app.test_client()
    long_note = provider_post(provider, link, {"q_security__mfa": "no",
                                               "n_q_security__mfa": "x" * 6000})
    assert long_note.status_code == 422 and "Keep the note under" in text_of(long_note)
    assert provider_autosave(provider, link, {"question": "security.mfa", "note": "y" * 6000,
                                              "base_version": 0, "client_key": "key-0000-long-1"}
                             ).status_code == 400
    assert provider_autosave(provider, link, {"question": "security.mfa", "verified": True,
                                              "base_version": 0, "client_key": "key-0000-tick-1"}
                             ).status_code == 400  # only the consultant verifies
    assert provider_autosave(provider, link, ["not", "an", "object"]).status_code == 404
    assert stored_answers(adb, id_of(owner), "provider") == {}

    page = owner.get("/assessment/section/security/hand-off").get_data(as_text=True)
    for recipient in ("a" * 101, "Sam\x00", "Sam\x1b[2J"):
        refused = owner.post("/assessment/section/security/hand-off",
                             data={"csrf_token": csrf_token(page), "recipient": recipient})
        assert refused.status_code == 422
    provider_post(provider, link, {"q_security__mfa": "no"})
    url = "/assessment/section/security/hand-off/query/security.mfa"
    for query in ("q" * 1001, "why\x00", "", "   "):
        refused = owner.post(url, data={"csrf_token": csrf_token(page), "query": query})
        assert refused.status_code == 422
    assert handoffs.open_queries(row_of(adb, id_of(owner))) == {}
    assert owner.get("/assessment/section/security/hand-off/query/no.such").status_code == 404
    assert owner.get("/assessment/section/nothing/hand-off").status_code == 404


def test_opening_a_provider_link_in_the_owner_s_browser_changes_nothing_of_theirs(app, adb):
    owner = start_owner(app)
    assert owner_saves(owner, "backup", {"q_backup__automatic": "daily"}).status_code == 303
    other = start_owner(app)
    link = hand_off(other)
    before = {k: v for k, v in session_of(owner).items() if k in OWNER_KEYS}
    assert owner.get(link).status_code == 200
    assert provider_post(owner, link, {"q_security__mfa": "no"}, then="send").status_code == 303
    after = {k: v for k, v in session_of(owner).items() if k in OWNER_KEYS}
    assert after == before
    assert owner.get("/assessment/").status_code == 200
    assert owner_saves(owner, "backup", {"q_backup__automatic": "weekly",
                                         "v_q_backup__automatic": "1"}).status_code == 303
    assert stored_answers(adb, before["assessment_id"], "owner")[
        "backup.automatic"].answer.value == "weekly"
    assert stored_answers(adb, before["assessment_id"], "provider") == {}
    assert stored_answers(adb, id_of(other), "provider")["security.mfa"].answer.value == "no"
    # A page opened without any session signs nobody in either.
    fresh = app.test_client()
    fresh.get(link)
    assert not any(key in session_of(fresh) for key in OWNER_KEYS)


def test_a_link_for_one_assessment_never_writes_to_another(app, adb):
    a, b = start_owner(app), start_owner(app)
    link_a = hand_off(a)
    hand_off(b)
    provider = app.test_client()
    provider_post(provider, link_a, {"q_security__mfa": "no", "assessment": id_of(b),
                                     "assessment_id": id_of(b)})
    provider_autosave(provider, link_a, {"question": "security.mfa", "note": "n",
                                         "assessment_id": id_of(b), "base_version": 1,
                                         "client_key": "key-0000-tenant-1"})
    assert stored_answers(adb, id_of(b), "provider") == {}
    assert stored_answers(adb, id_of(a), "provider")["security.mfa"].answer.value == "no"
    # B's owner acts on B's section only: A's link keeps working.
    page = b.get("/assessment/").get_data(as_text=True)
    b.post("/assessment/section/security/hand-off/cancel", data={"csrf_token": csrf_token(page)})
    assert app.test_client().get(link_a).status_code == 200
    b.post("/assessment/section/security/hand-off/query/security.mfa",
           data={"csrf_token": csrf_token(page), "query": "Is this ours?"})
    assert handoffs.open_queries(row_of(adb, id_of(a))) == {}


# ---- a firm's client, and deleting --------------------------------------------------------------

def test_a_firm_s_client_hands_off_and_the_consultant_sees_the_provider_s_answer(app, adb):
    member = make_member(app)
    consultant = app.test_client()
    assert sign_in(consultant, member["email"]).status_code == 303
    client_id = store.create_client(adb, member["firm_id"], name="Harbour Dental")
    page = consultant.get(f"/workspace/clients/{client_id}").get_data(as_text=True)
    made = consultant.post(f"/workspace/clients/{client_id}/self-assessment",
                           data={"csrf_token": csrf_token(page)})
    link = re.search(r'id="share-link"[^>]*value="([^"]+)"',
                     made.get_data(as_text=True)).group(1)
    client = app.test_client()
    assert open_client_link(client, link).status_code == 303
    provider_link = hand_off(client)
    assert provider_post(app.test_client(), provider_link,
                         {"q_security__mfa": "no", "n_q_security__mfa": "Seen today."},
                         then="send").status_code == 303
    assessment_id = id_of(client)
    interview = consultant.get(f"/workspace/assessments/{assessment_id}/interview/security")
    assert "Their IT provider or IT person answered: No" in text_of(interview)
    csv = consultant.get(f"/workspace/clients/{client_id}/answers.csv").get_data(as_text=True)
    assert ",security.mfa,provider,No,yes," in csv

    # Deleting the assessment deletes its hand-off links too.
    assert store.delete_assessment(adb, member["firm_id"], assessment_id) is not None
    assert adb.one("SELECT count(*) AS n FROM handoffs WHERE assessment_id = ?",
                   [assessment_id]) == {"n": 0}
    assert app.test_client().get(provider_link).status_code == 404


def test_results_and_report_say_which_answers_the_provider_gave(app, adb):
    from assessment.report import ReportInput
    from assessment.report.content import build_context
    owner = start_owner(app)
    owner_saves(owner, "backup", {"q_backup__automatic": "daily"})
    link = hand_off(owner)
    provider_post(app.test_client(), link, {"q_security__mfa": "no"}, then="send")
    seen = assessment_view(adb, get_assessment(adb, id_of(owner)), BUSINESS)
    report = ReportInput.of_view(seen, assessed_on=__import__("datetime").date.today(),
                                 full=True)
    assert report.by_provider == frozenset({"security.mfa"})
    context = build_context(report)
    rows = [r for g in context["appendix"]["groups"] for r in g["rows"]]
    assert [r["id"] for r in rows if r["by_provider"]] == ["security.mfa"]
