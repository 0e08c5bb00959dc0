"""The living roadmap in a real browser: Finish turns the plan into proposed actions; the
consultant agrees some in bulk and defers one on its page (the promise's date kept); locks a
quarterly review and downloads its pack; the portfolio; the owner's private link on a phone,
where they mark their own action done; and a self-assessment link, where the client is asked
about the promises first. Every page is checked with axe-core, on a desktop and a
phone, for sideways scrolling, and screenshotted.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from conftest import PHONE, format_axe_violations
from playwright.sync_api import expect
from wizard_helpers import load_answers, submit
from workspace_helpers import (
    add_client,
    answered_directly,
    assessment_in,
    database,
    horizontal_overflow,
    open_client_link,
    other_page,
    pdf_text,
    shown_link,
    sign_in,
)

from assessment.core.actions import Status
from assessment.storage import actions as roadmap
from tests.workspace_fixtures import make_member

pytestmark = pytest.mark.e2e  # on SQLite only: see conftest.py

ANSWERS = load_answers("break_fix_untested_backups")


def test_the_roadmap_from_finish_to_review_and_the_owners_link(live_server, page, browser, axe,
                                                               screenshot):
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Brookside IT", email="bea@brookside.example")
    problems: list[str] = []

    def check(where, name: str) -> None:
        violations = axe(where)
        if violations:
            problems.append(f"[{name}] " + format_axe_violations(where.url, violations))
        overflow, wide = horizontal_overflow(where)
        if overflow > 0:
            problems.append(f"[{name}] {overflow}px wider than the screen: {wide}")

    sign_in(page, base, admin)
    client_id = add_client(page, base, "Harbour Street Dental", "Dental practice", "14")
    submit(page, "Start an interview")
    assessment_id = assessment_in(page.url)
    answered_directly(app, assessment_id, ANSWERS)
    page.goto(base + f"/workspace/assessments/{assessment_id}")
    submit(page, "Finish the assessment")
    expect(page.locator(".notice, [role=status]").first).to_contain_text("new proposed actions")

    # The roadmap: every step of the plan awaits a decision.
    page.goto(base + f"/workspace/clients/{client_id}/roadmap")
    awaiting = page.locator("section.roadmap-awaiting tbody tr")
    proposed = awaiting.count()
    assert proposed > 5
    check(page, "roadmap, all proposed")
    due = (date.today() + timedelta(days=45)).isoformat()
    page.locator("section.roadmap-awaiting input[type=checkbox]").nth(0).check()
    page.locator("section.roadmap-awaiting input[type=checkbox]").nth(1).check()
    page.locator("#bulk-agree").check()
    page.locator("#bulk-due").fill(due)
    page.locator("#bulk-person").fill("Sam at Acme IT")
    submit(page, "Decide the ticked actions")
    expect(page.locator("section.roadmap-awaiting tbody tr")).to_have_count(proposed - 2)
    expect(page.locator("section.roadmap-soon, section.roadmap-later").locator(
        "tbody tr")).to_have_count(2)
    check(page, "roadmap, two agreed")
    screenshot(page, "roadmap-desktop")

    # An agreed action deferred on its page: the promise's date stays, the push is counted.
    page.locator("section.roadmap-soon, section.roadmap-later").locator(
        "tbody tr a").first.click()
    page.wait_for_load_state()
    action_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.locator("#to-deferred").check()
    page.locator("#move-due").fill((date.today() + timedelta(days=75)).isoformat())
    page.locator("#move-reason").fill("Licences arrive in January")
    submit(page, "Save the move")
    expect(page.locator("table").filter(has_text="Licences arrive in January")).to_be_visible()
    check(page, "action page after a deferral")
    screenshot(page, "roadmap-action-desktop")
    with database(app) as db:
        moved = roadmap.get_action(db, admin["firm_id"], action_id)
    assert moved.status is Status.DEFERRED and moved.pushes == 1
    assert moved.original_due.isoformat() == due

    # A quarterly review, locked, and its pack.
    page.goto(base + f"/workspace/clients/{client_id}/reviews")
    check(page, "reviews")
    submit(page, "Start the review")
    check(page, "review preparation")
    review_url = page.url
    submit(page, "Lock the review for good")
    check(page, "locked review")
    pack = page.request.get(review_url + ".pdf")
    assert pack.status == 200 and pack.headers["content-type"] == "application/pdf"
    text = pdf_text(pack.body())
    assert "Harbour Street Dental" in text and "QUARTERLY REVIEW" in text
    assert page.request.get(review_url + ".pdf").body() == pack.body()

    page.goto(base + "/workspace/portfolio")
    expect(page.locator("tbody tr")).to_have_count(1)
    check(page, "portfolio")
    screenshot(page, "roadmap-portfolio-desktop")

    # The owner's link, on a phone: their own actions, which they can mark done.
    page.goto(base + f"/workspace/clients/{client_id}")
    submit(page, "Make a roadmap link for the owner")
    link = shown_link(page)
    with database(app) as db:
        theirs = [a for a in roadmap.client_actions(db, admin["firm_id"], client_id)
                  if a.party == "client" and a.status is Status.PROPOSED]
    page.goto(base + f"/workspace/actions/{theirs[0].id}")
    page.locator("#to-agreed").check()
    page.locator("#move-due").fill(due)
    page.locator("#move-person").fill("Dr Patel")
    submit(page, "Save the move")

    with other_page(browser, **PHONE) as owner:
        owner.goto(link)
        expect(owner.locator("h1")).to_have_text("Your IT roadmap")
        check(owner, "owner's roadmap on a phone")
        done = owner.get_by_role("button", name=re.compile(
            "Mark as done.*" + re.escape(theirs[0].title)))
        expect(done).to_be_visible()
        screenshot(owner, "roadmap-owner-phone")
        done.click()
        owner.wait_for_load_state()
        expect(done).to_have_count(0)
        check(owner, "owner's roadmap after marking done")
    with database(app) as db:
        assert roadmap.get_action(db, admin["firm_id"], theirs[0].id).status is Status.DONE

    with other_page(browser, **PHONE) as phone:
        sign_in(phone, base, admin)
        for name, path in (("roadmap", f"/workspace/clients/{client_id}/roadmap"),
                           ("action", f"/workspace/actions/{action_id}"),
                           ("portfolio", "/workspace/portfolio"),
                           ("review", review_url.removeprefix(base))):
            response = phone.goto(base + path)
            assert response.status == 200, f"{name}: {response.status}"
            check(phone, f"{name} on a phone")
            screenshot(phone, f"roadmap-{name}-phone")

    # The next assessment as a self-assessment link: on a phone, the client is asked first
    # about what was agreed, each answer revealing the questions it leads to.
    page.goto(base + f"/workspace/clients/{client_id}")
    submit(page, "Send a self-assessment link")
    self_link = shown_link(page)
    with database(app) as db:
        agreed = [a.title for a in roadmap.client_actions(db, admin["firm_id"], client_id)
                  if a.promised and a.status is not Status.VERIFIED]
    with other_page(browser, **PHONE) as client_page:
        open_client_link(client_page, self_link)
        expect(client_page.locator("h1")).to_have_text("What was agreed last time")
        for title in agreed:
            expect(client_page.locator("h2.promise-said", has_text=title)).to_be_visible()
        check(client_page, "promises first, on a phone")
        screenshot(client_page, "promises-client-phone")
        shown = client_page.locator("fieldset:visible").count()
        for _ in range(40):  # the first option of each visible question not yet answered
            waiting = client_page.locator("fieldset:visible:not(:has(input:checked))")
            if waiting.count() == 0:
                break
            waiting.first.locator("input[type=radio], input[type=checkbox]").first.check()
        assert client_page.locator("fieldset:visible").count() > shown, \
            "no answer revealed the question it leads to"
        submit(client_page, "Save and go on to the other questions")
        assert "/assessment/section/" in client_page.url
        expect(client_page.locator(".notice", has_text="Saved your answers about what was "
                                   "agreed")).to_be_visible()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)
