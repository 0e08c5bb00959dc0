"""Trust, in a real browser: links that cannot swap a visitor's session, finished assessments
that stay finished, links that can be cancelled, deleting, private notes, notes and ticks that
save as they are typed, copied answers that wait to be re-confirmed, and the consultant pages.

One live server serves the module; each test makes its own firm, member and owners, so the
tests do not depend on each other. Screenshots go to tests/artifacts/screenshots/trust-*.png.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from wizard_helpers import answer_question, load_answers, path_of, submit
from workspace_helpers import (
    add_client,
    assessment_in,
    database,
    open_client_link,
    other_page,
    shown_link,
    sign_in,
)

from tests.workspace_fixtures import make_member

pytestmark = pytest.mark.e2e  # on SQLite only: see conftest.py

ANSWERS = load_answers("well_run_managed")
ATTACKER = "https://attacker.example"


def start_owner(page: Any, base: str, business: str) -> str:
    """Start an assessment from the landing page and save its first page; returns its private
    link (shown once, right after that first page)."""
    page.goto(base + "/")
    submit(page, "Start the free assessment")
    answer_question(page, "profile.business_name", business, js=True)
    submit(page, "Save and continue")
    notice = page.locator(".private-link-notice")
    expect(notice).to_contain_text("Keep this link to come back")
    return notice.locator("input").input_value()


def hub_link(page: Any) -> str:
    page.goto(page.url.split("/assessment/")[0] + "/assessment/")
    return page.locator("#resume-link").input_value()


# ---- 1. a link never swaps a visitor's session without asking --------------------------------

def test_a_link_from_elsewhere_asks_before_it_replaces_the_open_assessment(
        live_server, page, browser, screenshot, assert_no_axe_violations):
    base = live_server.url
    with other_page(browser) as attacker:
        their_link = start_owner(attacker, base, "Attacker Ltd")
    my_link = start_owner(page, base, "Harbour Street Dental")
    screenshot(page, "trust-1-keep-this-link")
    assert_no_axe_violations(page)
    assert hub_link(page) == my_link  # the link shown once is the overview's

    # A page elsewhere sends this browser to someone else's link: asked, nothing changed.
    page.goto(their_link)
    assert path_of(page.url) == "/assessment/switch" and their_link not in page.url
    expect(page.locator("h1")).to_have_text("Open a different assessment?")
    expect(page.locator("main")).to_contain_text("Harbour Street Dental")
    expect(page.locator("main")).to_contain_text("Attacker Ltd")
    expect(page.locator("#current-link")).to_have_value(my_link)
    screenshot(page, "trust-1-switch")
    assert_no_axe_violations(page)
    submit(page, "Keep the one open now")
    assert path_of(page.url) == "/assessment/"
    expect(page.get_by_text("Nothing changed: your assessment is still open.")).to_be_visible()
    assert hub_link(page) == my_link

    # A form on another site posts to a section with the attacker's link and no CSRF token.
    page.route(ATTACKER + "/", lambda route: route.fulfill(content_type="text/html", body=f"""
        <form method="post" action="{base}/assessment/section/backup">
        <input name="resume" value="{their_link.rsplit('/', 1)[-1]}">
        <input name="q_backup__automatic" value="none"><button>Go</button></form>"""))
    page.goto(ATTACKER + "/")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Go").click()
    assert nav.value.status == 400
    expect(page.locator("h1")).to_have_text("Nothing was changed")
    assert hub_link(page) == my_link, "a form on another site replaced the open assessment"

    # Choosing to switch does switch.
    page.goto(their_link)
    submit(page, "Open the assessment from the link")
    assert hub_link(page) == their_link


def test_home_and_not_found_offer_to_continue_and_starting_again_asks(
        live_server, page, screenshot, assert_no_axe_violations):
    base = live_server.url
    link = start_owner(page, base, "Alder Street Pharmacy")
    page.goto(base + "/")
    expect(page.locator(".open-assessment")).to_contain_text("Alder Street Pharmacy")
    screenshot(page, "trust-1-home-continue")
    with page.expect_navigation():
        page.get_by_role("link", name="Continue your assessment").click()
    assert path_of(page.url).startswith("/assessment/section/")

    response = page.goto(base + "/no/such/page")
    assert response.status == 404
    expect(page.get_by_role("link", name="Continue your assessment")).to_be_visible()

    page.goto(base + "/")
    response = submit(page, "Start a new assessment")
    assert path_of(page.url) == "/assessment/start-again"
    expect(page.locator("#current-link")).to_have_value(link)
    screenshot(page, "trust-1-start-again")
    assert_no_axe_violations(page)
    submit(page, "Start a new assessment")
    assert path_of(page.url) == "/assessment/section/profile"
    assert hub_link(page) != link


def test_a_member_opening_their_clients_link_is_asked_and_stays_signed_in(
        live_server, page, screenshot):
    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Quayside IT", email="quinn@quayside.example")
    sign_in(page, base, member)
    client_id = add_client(page, base, "Mill Lane Vets")
    submit(page, "Send a self-assessment link")
    link = shown_link(page)
    page.goto(link)
    assert path_of(page.url) == "/assessment/switch"
    expect(page.locator("main")).to_contain_text("You stay signed in")
    screenshot(page, "trust-1-member-switch")
    with page.expect_navigation():
        page.get_by_role("link", name="Open it in your workspace").click()
    assert re.fullmatch(r"/workspace/assessments/[\w-]+", path_of(page.url)), page.url
    expect(page.locator("h1")).to_have_text("Assessment for Mill Lane Vets")
    page.goto(base + f"/workspace/clients/{client_id}")
    expect(page.locator("h1")).to_have_text("Mill Lane Vets")  # still signed in


def test_a_finished_assessments_link_opens_its_results_with_the_link_on_them(
        live_server, page, screenshot):
    from wizard_helpers import make_finished_assessment

    base, app = live_server.url, live_server.app
    path = make_finished_assessment(app, ANSWERS)
    page.goto(base + path)
    assert path_of(page.url) == "/assessment/results"
    expect(page.locator("#results-link")).to_have_value(base + path)
    screenshot(page, "trust-1-results-link")


# ---- 3. once the firm finishes, the client's link only reads ---------------------------------

def client_self_assessment(app: Any, page: Any, base: str, browser_context_page: Any,
                           client: str) -> tuple[str, str]:
    """In the signed-in page: a client and their self-assessment link; the client (in the other
    page) opens it and every answer is saved. Returns (assessment id, link)."""
    add_client(page, base, client)
    submit(page, "Send a self-assessment link")
    link = shown_link(page)
    open_client_link(browser_context_page, link)
    from assessment.core.scoring import parse_answer
    from assessment.storage import find_by_resume_hash, save_answer
    from assessment.web import owner

    bank = app.extensions["bank"]
    with database(app) as db:
        assessment_id = find_by_resume_hash(db, owner.hash_token(link.rsplit("/", 1)[-1]))["id"]
        for qid, raw in ANSWERS.items():
            save_answer(db, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], raw))
    return assessment_id, link


def test_a_finished_assessment_is_read_only_to_the_client_until_reopened(
        live_server, page, browser, screenshot, assert_no_axe_violations):
    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Kestrel IT", email="kim@kestrel.example")
    sign_in(page, base, member)
    with other_page(browser) as client:
        assessment_id, _ = client_self_assessment(app, page, base, client, "Ferry Road Opticians")
        page.goto(base + f"/workspace/assessments/{assessment_id}")
        submit(page, "Finish the assessment")
        expect(page.locator("main")).to_contain_text("the client's link only shows it now")
        screenshot(page, "trust-3-workspace-finished")

        client.goto(base + "/assessment/section/backup")
        notice = client.locator(".read-only-notice")
        expect(notice).to_contain_text("Kestrel IT has finished this assessment")
        expect(notice).to_contain_text("ask Kestrel IT to reopen it")
        expect(client.locator("fieldset.read-only input[type=radio]").first).to_be_disabled()
        expect(client.get_by_role("button", name="Save and continue")).to_have_count(0)
        screenshot(client, "trust-3-client-read-only")
        assert_no_axe_violations(client)

        submit(page, "Reopen the assessment")
        expect(page.get_by_text("Reopened.")).to_be_visible()
        client.reload()
        expect(client.locator(".read-only-notice")).to_have_count(0)
        answer_question(client, "backup.automatic", "weekly", js=True)  # autosaved: "Saved"


# ---- 4. every issued link is listed, and can be cancelled or replaced -------------------------

def test_links_are_listed_cancelled_and_replaced(live_server, page, browser, screenshot,
                                                 assert_no_axe_violations):
    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Larch IT", email="lena@larch.example")
    sign_in(page, base, member)
    client_id = add_client(page, base, "Orchard Nursery")
    submit(page, "Send a self-assessment link")
    expect(page.locator("main")).to_contain_text("It works until")
    link = shown_link(page)
    page.goto(base + f"/workspace/clients/{client_id}")
    submit(page, "Make a link for the owner")
    page.goto(base + f"/workspace/clients/{client_id}")

    with other_page(browser) as client:
        open_client_link(client, link)
        assert path_of(client.url).startswith("/assessment/section/")
        page.reload()
        rows = page.locator("#client-links-table tbody tr")
        expect(rows).to_have_count(2)
        self_row = rows.filter(has_text="Self-assessment link")
        expect(self_row).to_contain_text("Active")
        expect(self_row).to_contain_text("opened")
        screenshot(page, "trust-4-client-links")
        assert_no_axe_violations(page)

        with page.expect_navigation():
            self_row.get_by_role("button", name=re.compile("^Cancel")).click()
        expect(page.get_by_text("Cancelled: the link no longer opens the assessment")) \
            .to_be_visible()
        expect(page.locator("#client-links-table tbody tr").filter(
            has_text="Self-assessment link")).to_contain_text("Cancelled")
        client.reload()
        expect(client.locator("h1")).to_have_text("This link no longer works")
        expect(client.locator("main")).to_contain_text("Larch IT cancelled it")
        response = client.goto(link)
        assert response.status == 410
        expect(client.locator("main")).to_contain_text("Larch IT cancelled it")

        with page.expect_navigation():
            page.locator("#client-links-table tbody tr").filter(
                has_text="Self-assessment link").get_by_role(
                "button", name=re.compile("^Replace")).click()
        expect(page.get_by_text("The old link no longer works")).to_be_visible()
        new_link = shown_link(page)
        open_client_link(client, new_link)
        assert path_of(client.url).startswith("/assessment/section/")

    # Invites on the members page.
    page.goto(base + "/account/members")
    submit(page, "Create invite link")
    expect(page.locator("main")).to_contain_text("It works once, for 7 days: until")
    page.goto(base + "/account/members")
    row = page.locator("#invites-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Active")
    screenshot(page, "trust-4-members-invites")
    assert_no_axe_violations(page)
    with page.expect_navigation():
        row.get_by_role("button", name=re.compile("^Cancel")).click()
    expect(page.locator("#invites-table tbody tr")).to_contain_text("Cancelled")


# ---- 13. admins archive and delete ----------------------------------------------------------

def test_an_admin_archives_and_deletes_a_client_after_typing_its_name(
        live_server, page, screenshot, assert_no_axe_violations):
    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Maple IT", email="mo@maple.example")
    sign_in(page, base, member)
    client_id = add_client(page, base, "Willow Lane Dental")
    submit(page, "Start an interview")
    page.goto(base + f"/workspace/clients/{client_id}")
    submit(page, "Archive the client")
    assert path_of(page.url) == "/workspace/"
    expect(page.locator("main")).to_contain_text("Archived clients (1)")
    with page.expect_navigation():
        page.get_by_role("link", name="Willow Lane Dental").click()
    expect(page.locator(".notice-warning")).to_contain_text("is archived")
    with page.expect_navigation():
        page.get_by_role("link", name="Delete the client…").click()
    expect(page.locator("h1")).to_have_text("Delete Willow Lane Dental?")
    page.get_by_label("Type the client's name to confirm").fill("Willow Lane")
    response = submit(page, "Delete Willow Lane Dental")
    assert response.status == 422
    expect(page.locator(".error-summary")).to_contain_text("Type Willow Lane Dental exactly")
    screenshot(page, "trust-13-delete-confirm")
    assert_no_axe_violations(page)
    page.get_by_label("Type the client's name to confirm").fill("Willow Lane Dental")
    submit(page, "Delete Willow Lane Dental")
    assert path_of(page.url) == "/workspace/"
    expect(page.get_by_text("Deleted Willow Lane Dental")).to_be_visible()
    with database(app) as db:
        assert db.one("SELECT count(*) AS n FROM assessments WHERE client_id = ?",
                      [client_id]) == {"n": 0}


# ---- 2. notes are private to the firm unless marked for the client ----------------------------

def test_a_note_is_private_until_marked_for_the_client(live_server, page, browser, screenshot,
                                                       assert_no_axe_violations):
    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Juniper IT", email="jo@juniper.example")
    sign_in(page, base, member)
    with other_page(browser) as client:
        assessment_id, _ = client_self_assessment(app, page, base, client, "Hollybush Cafe")
        page.goto(base + f"/workspace/assessments/{assessment_id}/interview/backup")
        extra = page.locator('[data-question="backup.offsite"] .interview-extra')
        expect(extra.locator("[data-note-audience]")).to_have_text("(private to your firm)")
        extra.locator("textarea").fill("Shared: the copy goes to the cloud every night")
        extra.get_by_label("Show this note to the client").check()
        expect(extra.locator("[data-note-audience]")).to_have_text("(shown to the client)")
        other = page.locator('[data-question="backup.automatic"] .interview-extra textarea')
        other.fill("Private: ask the nephew who runs it")
        screenshot(page, "trust-2-note-shared")
        assert_no_axe_violations(page, context='[data-question="backup.offsite"]')
        submit(page, "Save and go to overview")

        with database(app) as db:  # the client finished: their report is made
            db.execute("UPDATE assessments SET status = 'finished' WHERE id = ?",
                       [assessment_id])
        client.goto(base + "/assessment/report?variant=full")
        expect(client.locator("body")).to_contain_text("the copy goes to the cloud every night")
        expect(client.locator("body")).not_to_contain_text("ask the nephew")
        page.goto(base + f"/workspace/assessments/{assessment_id}/report?variant=full")
        expect(page.locator("body")).to_contain_text("ask the nephew")


# ---- 11. notes and Verified ticks save as they are typed; leaving unsaved asks ---------------

def test_interview_notes_and_ticks_save_as_typed_and_leaving_unsaved_asks(
        live_server, page, screenshot):
    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Rowan IT", email="ro@rowan.example")
    sign_in(page, base, member)
    add_client(page, base, "Elm Street Bakery")
    submit(page, "Start an interview")
    assessment_id = assessment_in(page.url)
    page.goto(base + f"/workspace/assessments/{assessment_id}/interview/backup")
    question = page.locator('[data-question="backup.automatic"]')
    note = question.locator("textarea[name^=n_]")
    saved_note = "Saw the backup console: the nightly job ran"

    # Typed, and a link clicked at once: the page asks before leaving with it unsaved.
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    note.fill(saved_note)
    page.get_by_role("link", name="Clients", exact=True).click()
    expect(question.locator("[data-status]")).to_have_text("Saved")
    assert dialogs == ["beforeunload"], dialogs
    assert path_of(page.url).endswith("/interview/backup")

    # Ticked: saved without pressing Save, and then leaving asks nothing.
    with page.expect_response(lambda r: r.url.endswith("/answer") and r.status == 200):
        question.get_by_label("Verified by the consultant").check()
    expect(question.locator("[data-status]")).to_have_text("Saved")
    screenshot(page, "trust-11-note-saved")
    with page.expect_navigation():
        page.get_by_role("link", name="Clients", exact=True).click()
    assert dialogs == ["beforeunload"]
    from workspace_helpers import stored as stored_answers

    mine = stored_answers(app, assessment_id, "consultant")["backup.automatic"]
    assert (mine.note, mine.verified, mine.answer) == (saved_note, True, None)
    page.goto(base + f"/workspace/assessments/{assessment_id}/interview/backup")
    expect(note).to_have_value(saved_note)
    expect(question.get_by_label("Verified by the consultant")).to_be_checked()


# ---- 12. copied answers wait to be re-confirmed ----------------------------------------------

def test_copied_answers_wait_until_each_is_re_confirmed(live_server, page, screenshot,
                                                        assert_no_axe_violations):
    from workspace_helpers import seed_client

    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Sorrel IT", email="sam@sorrel.example")
    client_id, _, _ = seed_client(app, member, "Aspen Dental", ANSWERS, {})
    sign_in(page, base, member)
    page.goto(base + f"/workspace/clients/{client_id}")
    expect(page.locator("#renew-from")).to_contain_text("copies the answers of the interview")
    submit(page, "Start a new assessment from the last one")
    renewed = path_of(page.url).rsplit("/", 1)[-1]
    label = page.locator(".progress-label")
    expect(label).to_contain_text(re.compile(r"^0 of \d+ questions answered, \d+ copied"))
    page.goto(base + f"/workspace/assessments/{renewed}/interview/monitoring")
    question = page.locator('[data-question="monitoring.watched"]')
    before = label.inner_text()
    screenshot(page, "trust-12-to-re-confirm")
    assert_no_axe_violations(page)
    # click(), not check(): once saved, the tick leaves the page with its notice, and check()
    # would wait to see it ticked (it timed out whenever the save came back quickly).
    with page.expect_response(lambda r: r.url.endswith("/answer") and r.status == 200):
        question.get_by_label("Still true: re-confirm this copied answer").click()
    expect(question.locator("[data-reconfirm]")).to_have_count(0)
    expect(label).not_to_have_text(before)
    expect(label).to_contain_text(re.compile(r"^1 of \d+ questions answered"))
    with database(app) as db:
        from assessment.storage import stored_answers
        mine = stored_answers(db, renewed, "consultant")
    assert not mine["monitoring.watched"].reconfirm and mine["monitoring.alerts"].reconfirm


# ---- 14. the consultant's pages ---------------------------------------------------------------

def test_consultant_pages_history_branding_and_members(live_server, page, screenshot,
                                                       assert_no_axe_violations):
    from workspace_helpers import seed_client

    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Thistle IT", email="tia@thistle.example", name="Tia Ward")
    make_member(app, firm="Thistle IT", email="uma@thistle.example", role="consultant",
                name="Uma Reed")
    client_id, first, second = seed_client(app, member, "Birch Road Surgery", ANSWERS,
                                           {"backup.restore_tested": "never"})
    with database(app) as db:  # both on one day, hours apart
        db.execute("UPDATE assessments SET created_at = '2025-05-06T09:05:00.000+00:00' "
                   "WHERE id = ?", [first])
        db.execute("UPDATE assessments SET created_at = '2025-05-06T15:30:00.000+00:00' "
                   "WHERE id = ?", [second])
        db.execute("UPDATE clients SET contacts = 'Dr Patel, 0161 555 0199', "
                   "notes = 'Two sites; IT at the main one' WHERE id = ?", [client_id])
    sign_in(page, base, member)
    expect(page.locator(".brand")).to_contain_text("Thistle IT")
    expect(page.locator(".site-footer")).to_have_count(0)

    page.goto(base + f"/workspace/clients/{client_id}")
    expect(page.locator(".client-facts")).to_contain_text("Dr Patel, 0161 555 0199")
    expect(page.locator(".client-facts")).to_contain_text("Two sites; IT at the main one")
    rows = page.locator("#assessments tbody tr")
    expect(rows.nth(0)).to_contain_text("6 May 2025, 09:05 UTC")
    expect(rows.nth(1)).to_contain_text("6 May 2025, 15:30 UTC")
    expect(rows.nth(1)).to_contain_text("by Tia Ward")
    labels = page.locator("svg[aria-labelledby=trend-title] text.chart-label")
    expect(labels.filter(has_text="6 May 09:05")).to_have_count(1)
    expect(labels.filter(has_text="6 May 15:30")).to_have_count(1)
    screenshot(page, "trust-14-client")
    assert_no_axe_violations(page)

    with page.expect_navigation():
        page.get_by_role("button", name="Compare the two chosen").click()
    expect(page.locator(".compared")).to_contain_text("started 6 May 2025, 09:05 UTC")
    expect(page.locator("h4.still-open-group").first).to_be_visible()
    screenshot(page, "trust-14-compare")
    assert_no_axe_violations(page)

    # Branding: a picker beside each hex field, in step with it.
    page.goto(base + "/workspace/branding")
    picker = page.locator("#primary_colour-picker")
    expect(picker).to_be_visible()
    page.locator("#primary_colour").fill("#1f3a5f")
    expect(picker).to_have_value("#1f3a5f")
    picker.evaluate("(el) => { el.value = '#336699'; el.dispatchEvent(new Event('input')); }")
    expect(page.locator("#primary_colour")).to_have_value("#336699")
    page.set_input_files("#logo", {"name": "logo.png", "mimeType": "image/png",
                                   "buffer": b"<!DOCTYPE html><html>not an image</html>"})
    response = submit(page, "Save branding")
    assert response.status == 422
    expect(page.locator(".error-summary")).to_contain_text("web page (HTML), not an image")
    screenshot(page, "trust-14-branding")
    assert_no_axe_violations(page)

    # Disabling a member asks first.
    page.goto(base + "/account/members")
    with page.expect_navigation():
        page.get_by_role("button", name="Disable Uma Reed").click()
    expect(page.locator("h1")).to_have_text("Disable Uma Reed?")
    screenshot(page, "trust-14-disable")
    with page.expect_navigation():
        page.get_by_role("link", name="Keep Uma Reed active").click()
    expect(page.locator("#member-2, .member").filter(has_text="Uma Reed")).to_contain_text(
        "Active")
