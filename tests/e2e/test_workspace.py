"""The consultant's workspace in a real browser: the whole consultant journey (client, link,
the client's own assessment, keyboard review in interview mode, report, renewal, comparison),
interview mode without JavaScript, claim links, branding uploads, accessibility (axe-core) and
screenshots, and signing out.

Where a test needs an owner's finished assessment, the owner opens it in the browser and presses
Finish, but the answers are saved straight into the database (answered_directly): the walk
through every section is tests/e2e/test_wizard.py's subject, and here it only took time.

One live server (and database) serves the whole module; each test makes its own firm and member
(through the storage layer) and signs in through the real sign-in page, so the tests do not
depend on each other. The client and the owner act in browser contexts of their own.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import DESKTOP, PHONE, format_axe_violations
from playwright.sync_api import expect
from wizard_helpers import (
    asked,
    assert_focus_visible,
    assessment_id_of,
    block,
    focused_is,
    load_answers,
    make_finished_assessment,
    path_of,
    redirect_status,
    resume_link,
    submit,
)
from workspace_helpers import (
    SVG_LOGO,
    add_client,
    assessment_in,
    assessment_row,
    chart_text_problems,
    client_assessments,
    database,
    effective_result,
    firm_clients,
    horizontal_overflow,
    answered_directly,
    finish_from_review,
    open_client_link,
    other_page,
    pdf_text,
    png_logo,
    raw_answers,
    seed_client,
    set_logo,
    shown_link,
    sign_in,
    sign_out,
    stored,
)

from assessment.core.history import compare
from tests.workspace_fixtures import make_member

pytestmark = pytest.mark.e2e  # on SQLite only: see conftest.py

CLIENT_ANSWERS = load_answers("unsure_mixed")  # Cedar Lane Accountants: many "Not sure"
OWNER_ANSWERS = load_answers("break_fix_untested_backups")  # Harbour Street Dental
PDF_TIMEOUT_MS = 60_000


def interview_path(assessment_id: str, section_id: str) -> str:
    return f"/workspace/assessments/{assessment_id}/interview/{section_id}"


def is_interview_autosave(assessment_id: str):
    def check(response: Any) -> bool:
        return (path_of(response.url) == f"/workspace/assessments/{assessment_id}/answer"
                and response.request.method == "POST")
    return check


def describe(app: Any, qid: str, raw: Any) -> str:
    """How the pages word an answer (the bank's own description of it)."""
    from assessment.core.scoring import parse_answer

    q = app.extensions["bank"].question_by_id[qid]
    return q.describe(parse_answer(q, raw))


def visible_questions(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "form.interview [data-question]:not([hidden])", "els => els.map(e => e.dataset.question)")


# --- 1. the consultant's journey ------------------------------------------------------------


def test_consultant_journey(live_server, page, browser):
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Northgate IT", email="ana@northgate.example")
    business = CLIENT_ANSWERS["profile.business_name"]

    # Sign in; the firm has no clients yet.
    sign_in(page, base, admin)
    expect(page.get_by_role("heading", name="No clients yet")).to_be_visible()
    expect(page.locator("table.table")).to_have_count(0)
    expect(page.locator(".workspace-firm")).to_have_text("Northgate IT")

    client_id = add_client(page, base, business, sector="Accounting", size="9 staff")
    expect(page.get_by_text(f"Added {business}.")).to_be_visible()
    expect(page.get_by_text("No assessments yet.")).to_be_visible()

    # A self-assessment link for the client, shown once; the copy button copies it.
    response = submit(page, "Send a self-assessment link")
    assert response.status == 200
    expect(page.locator("h1")).to_have_text(f"A self-assessment link for {business}")
    link = shown_link(page)
    assert "/assessment/resume/" in link
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Link copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == link

    # The client, in a browser of their own, opens the link, answers everything (saved
    # directly: see the module's docstring) and finishes.
    with other_page(browser) as client:
        open_client_link(client, link)
        [record] = client_assessments(app, admin["firm_id"], client_id)
        assessment_id = record["id"]
        answered_directly(app, assessment_id, CLIENT_ANSWERS)
        finish_from_review(client, base)
        client_score = int(client.locator(".score-number").inner_text())
    owner_before = raw_answers(app, assessment_id, "owner")
    assert round(effective_result(app, assessment_id).score) == client_score

    # Back in the workspace: the assessment is on the client's page; open it.
    page.goto(base + f"/workspace/clients/{client_id}")
    row = page.locator("#assessments tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Client self-assessment")
    expect(row).to_contain_text("Finished")
    expect(row.locator("td").nth(2)).to_have_text(str(client_score))
    with page.expect_navigation():
        row.get_by_role("link").click()
    assert path_of(page.url) == f"/workspace/assessments/{assessment_id}"
    expect(page.locator("h1")).to_have_text(f"Assessment for {business}")

    # Interview mode for one section: the client's answer beside each question.
    with page.expect_navigation():
        page.locator(".section-list").get_by_role(
            "link", name="Catching problems before they stop work").click()
    assert path_of(page.url) == interview_path(assessment_id, "monitoring")
    shown = visible_questions(page)
    assert shown == ["monitoring.watched", "monitoring.alerts", "monitoring.maintenance"]
    for qid in shown:
        said = page.locator(f'[id="said-{qid}"]')
        expect(said).to_have_text(f"Client answered: {describe(app, qid, CLIENT_ANSWERS[qid])}")
        inside = page.evaluate(
            "qid => document.querySelector(`[data-question='${qid}'] fieldset`)"
            ".contains(document.getElementById('said-' + qid))", qid)
        assert inside, f"'Client answered' is not part of the question {qid}"

    # Review with the keyboard only.
    autosaved = is_interview_autosave(assessment_id)
    watched, alerts = block(page, "monitoring.watched"), block(page, "monitoring.alerts")
    watched_field = watched.get_attribute("data-field")
    alerts_field = alerts.get_attribute("data-field")
    page.locator(f"#{watched_field}-0").focus()
    with page.expect_response(autosaved) as info:
        page.keyboard.press("1")
    assert info.value.status == 200, info.value.text()
    expect(watched.locator("input[type=radio]").nth(0)).to_be_checked()
    expect(watched.locator("[data-status]")).to_have_text("Saved")
    assert_focus_visible(page)
    picked_watched = watched.locator("input[type=radio]").nth(0).get_attribute("value")

    page.keyboard.press("n")
    assert page.evaluate(
        "() => document.activeElement.closest('[data-question]').dataset.question"
    ) == "monitoring.alerts", "n did not move to the next question"
    with page.expect_response(autosaved) as info:
        page.keyboard.press("1")
    assert info.value.status == 200, info.value.text()
    expect(alerts.locator("input[type=radio]").nth(0)).to_be_checked()
    picked_alerts = alerts.locator("input[type=radio]").nth(0).get_attribute("value")
    assert focused_is(page, f"#{alerts_field}-0")

    page.keyboard.press("p")
    assert focused_is(page, f"#{watched_field}-0"), "p did not move to the previous question"
    page.keyboard.press("n")
    page.keyboard.press("Tab")  # out of the radio group, to the question's note
    assert focused_is(page, f"#n_{alerts_field}")
    note = "Alerts go to the provider's board; saw two tickets acted on 1 2 n p."
    page.keyboard.type(note)  # digits and n/p typed into a note are not shortcuts
    expect(page.locator(f"#n_{alerts_field}")).to_have_value(note)
    expect(alerts.locator("input[type=radio]").nth(0)).to_be_checked()
    page.keyboard.press("Tab")
    assert focused_is(page, f"#c_{alerts_field}")
    assert_focus_visible(page)
    page.keyboard.press("Space")
    expect(page.locator(f"#c_{alerts_field}")).to_be_checked()
    save_next = page.get_by_role("button", name="Save and next section")
    save_next.focus()
    with page.expect_navigation() as nav:
        page.keyboard.press("Enter")
    assert redirect_status(nav.value) == 303
    assert path_of(page.url) == interview_path(assessment_id, "patching")

    # What the server stored: the consultant's answers, note and verified flag beside the
    # client's, which are unchanged.
    mine = stored(app, assessment_id, "consultant")
    assert mine["monitoring.watched"].answer.value == picked_watched
    assert mine["monitoring.alerts"].answer.value == picked_alerts
    assert mine["monitoring.alerts"].note == note
    assert mine["monitoring.alerts"].verified is True
    assert mine["monitoring.watched"].verified is False
    assert mine["monitoring.alerts"].answered_by == admin["user_id"]
    assert raw_answers(app, assessment_id, "owner") == owner_before

    # Shown again as saved, with the difference from the client's answer pointed out.
    page.goto(base + interview_path(assessment_id, "monitoring"))
    expect(watched.locator("input[type=radio]").nth(0)).to_be_checked()
    expect(page.locator(f"#n_{alerts_field}")).to_have_value(note)
    expect(page.locator(f"#c_{alerts_field}")).to_be_checked()
    expect(page.locator('[id="said-monitoring.alerts"]')).to_contain_text("differs from yours")

    # The client finished it themselves, so it is finished already (the consultant's review
    # changes the report, not the status), and the firm may still finish it, which stops the
    # client changing it; the report is branded and says which answers were verified.
    page.goto(base + f"/workspace/assessments/{assessment_id}")
    expect(page.locator(".lead")).to_contain_text("Finished by the client")
    expect(page.get_by_role("button", name="Finish the assessment")).to_have_count(1)
    assert assessment_row(app, assessment_id)["status"] == "finished"
    pdf_href = page.get_by_role("link", name="Download the leadership report (PDF)") \
        .get_attribute("href")
    assert pdf_href == f"/workspace/assessments/{assessment_id}/report.pdf"
    # The full report: the one with every answer, its badge and its note.
    reply = page.request.get(base + pdf_href + "?variant=full", timeout=PDF_TIMEOUT_MS)
    assert reply.status == 200, f"the report answered {reply.status}"
    assert reply.headers["content-type"] == "application/pdf"
    body = reply.body()
    assert body.startswith(b"%PDF"), "the report is not a PDF"
    text = pdf_text(body)
    for wanted in ("Northgate IT", business):
        assert wanted in text, f"the PDF report does not mention {wanted!r}"
    # The badges are set in capitals.
    for wanted in ("VERIFIED", "CLIENT-REPORTED"):
        assert wanted in text.upper(), f"the PDF report does not mention {wanted!r}"
    counted = re.search(r"(\d+) answers? (?:were|was) verified", text)
    assert counted and counted.group(1) == "1", "the report does not count 1 verified answer"
    # Private to the firm (not marked for the client), and said so in the firm's report.
    assert f"Note, private to the firm: {note}" in text, \
        "the consultant's note is not in the report"

    # A new assessment from the last one: every copied answer is marked to re-confirm.
    page.goto(base + f"/workspace/clients/{client_id}")
    response = submit(page, "Start a new assessment from the last one")
    assert redirect_status(response) == 303
    renewed_id = path_of(page.url).rsplit("/", 1)[-1]
    assert renewed_id != assessment_id
    expect(page.get_by_text("Started from the client self-assessment finished")).to_be_visible()
    expect(page.locator(".lead")).to_contain_text("In progress")
    page.goto(base + interview_path(renewed_id, "monitoring"))
    for qid in visible_questions(page):
        expect(block(page, qid).locator("[data-reconfirm] .tag")).to_have_text(
            "To re-confirm: copied from the last assessment")
    expect(page.locator(".tag", has_text="To re-confirm")).to_have_count(3)
    expect(watched.locator(f'input[value="{picked_watched}"]')).to_be_checked()

    # Things changed since: the restores are now tested (a critical finding resolved), and
    # email lost its second factor (a new one).
    page.goto(base + interview_path(renewed_id, "backup"))
    block(page, "backup.restore_tested").locator('input[value="quarter"]').check()
    submit(page, "Save and go to overview")
    page.goto(base + interview_path(renewed_id, "security"))
    block(page, "security.mfa_email").locator('input[value="none"]').check()
    response = submit(page, "Save and go to overview")
    assert path_of(page.url) == f"/workspace/assessments/{renewed_id}"
    # The rest is still true: confirmed a section at a time.
    expect(page.get_by_role("button", name="Finish the assessment")).to_have_count(0)
    page.goto(base + interview_path(renewed_id, "profile"))
    for _ in range(20):
        if "/interview/" not in page.url:
            break
        confirm = page.get_by_role("button", name=re.compile(r"still true: save and"))
        if confirm.count():
            submit(page, confirm.inner_text())
        elif page.get_by_role("button", name="Save and next section").count():
            submit(page, "Save and next section")
        else:  # the last section
            submit(page, "Save and go to overview")
    assert path_of(page.url) == f"/workspace/assessments/{renewed_id}"
    response = submit(page, "Finish the assessment")
    assert redirect_status(response) == 303
    expect(page.get_by_text("The assessment is finished. Its report is ready.")).to_be_visible()
    assert assessment_row(app, renewed_id)["status"] == "finished"

    # The client's page: both assessments with score and band, and the trend chart.
    first, second = effective_result(app, assessment_id), effective_result(app, renewed_id)
    page.goto(base + f"/workspace/clients/{client_id}")
    rows = page.locator("#assessments tbody tr")
    expect(rows).to_have_count(2)
    for nth, result in ((0, first), (1, second)):
        cells = rows.nth(nth).locator("td")
        expect(cells.nth(2)).to_have_text(str(round(result.score)))
        expect(cells.nth(3)).to_have_text(
            result.band.label + (" (provisional)" if result.provisional else ""))
    expect(rows.nth(1)).to_contain_text("Interview")
    chart = page.locator("svg[aria-labelledby=trend-title]")
    expect(chart).to_be_visible()
    expect(chart.locator("title")).to_have_text("Overall score over time, out of 100")
    expect(chart.locator("circle")).to_have_count(2)
    expect(chart.locator("text.chart-value")).to_have_text(
        [str(round(first.score)), str(round(second.score))])

    # Compare the two chosen.
    rows.nth(0).locator("input[name=a]").check()
    rows.nth(1).locator("input[name=b]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Compare the two chosen").click()
    assert path_of(page.url) == f"/workspace/clients/{client_id}/compare"
    assert f"a={assessment_id}" in page.url and f"b={renewed_id}" in page.url
    expect(page.locator("h1")).to_have_text(f"How {business} moved")
    diff = compare(first, second)
    expect(page.locator(".lead")).to_contain_text(
        f"{round(first.score)} → {round(second.score)}")
    table = page.locator("table.table tbody tr")
    expect(table).to_have_count(len(diff.sections))
    backup_row = table.filter(has_text="Backups and getting your data back")
    expect(backup_row.locator("td.up")).to_have_count(1)
    security_row = table.filter(has_text="Protecting computers, email and phones")
    expect(security_row.locator("td.down")).to_have_count(1)
    assert diff.findings_resolved and diff.findings_new
    for anchor, heading, items in (
            ("findings-resolved", "Findings resolved", diff.findings_resolved),
            ("findings-new", "New findings", diff.findings_new),
            ("steps-done", "Steps done", diff.steps_done),
            ("steps-new", "New steps", diff.steps_new)):
        expect(page.locator(f"#{anchor}")).to_have_text(f"{heading} ({len(items)})")
        if not items:  # an empty list says so in a sentence instead
            expect(page.locator(f"#{anchor} + p")).to_be_visible()
            continue
        listed = page.locator(f"#{anchor}").locator("xpath=following-sibling::ul[1]/li")
        expect(listed).to_have_count(len(items))
        for nth, item in enumerate(items):
            expect(listed.nth(nth)).to_contain_text(item.title)
    assert any("restore" in f.title.lower() for f in diff.findings_resolved)
    assert any(f.severity for f in diff.findings_new)


def test_a_new_assessment_starts_at_the_first_section(live_server, page, browser):
    """A client opening a fresh link from their consultant, and a consultant continuing a fresh
    interview, start at the beginning ("About your business", where the business name and
    figures are asked), as an owner pressing Start does."""
    base, app = live_server.url, live_server.app
    member = make_member(app, firm="Westbrook Consulting", email="wes@westbrook.example")
    sign_in(page, base, member)
    client_id = add_client(page, base, "Alder Street Pharmacy")
    submit(page, "Send a self-assessment link")
    link = shown_link(page)
    problems = []
    with other_page(browser) as client:
        response = open_client_link(client, link)
        assert response.status == 200 and redirect_status(response) == 303
        if path_of(client.url) != "/assessment/section/profile":
            problems.append(f"a fresh self-assessment link opens {path_of(client.url)}, "
                            "skipping 'About your business'")

    page.goto(base + f"/workspace/clients/{client_id}")
    submit(page, "Start an interview")
    interview_id = assessment_in(page.url)
    if path_of(page.url) != interview_path(interview_id, "profile"):
        problems.append(f"'Start an interview' opens {path_of(page.url)}, not the first "
                        "question of 'About your business'")
    elif not page.evaluate("() => !!document.activeElement.closest("
                           "'[data-question=\"profile.business_name\"]')"):
        problems.append("'Start an interview' does not put the focus on the first question")
    page.goto(base + f"/workspace/assessments/{interview_id}")
    start_link = page.get_by_role("link", name="Start the interview")
    href = start_link.get_attribute("href") if start_link.count() else None
    if href is None or not href.startswith(interview_path(interview_id, "profile")):
        problems.append(f"'Start the interview' on a fresh interview opens {href}, skipping "
                        "'About your business'")
    if page.get_by_role("link", name=re.compile("report")).count():
        problems.append("a fresh interview offers the report of an empty assessment")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- 2. interview mode without JavaScript ---------------------------------------------------


def test_interview_without_javascript(live_server, nojs_page):
    page, base, app = nojs_page, live_server.url, live_server.app
    member = make_member(app, firm="Oakwood Advisory", email="olu@oakwood.example",
                         role="consultant")
    sign_in(page, base, member)
    add_client(page, base, "Birch Road Vets", sector="Veterinary")
    response = submit(page, "Start an interview")
    assert redirect_status(response) == 303
    assessment_id = assessment_in(page.url)
    assert path_of(page.url) == interview_path(assessment_id, "profile")
    page.goto(base + f"/workspace/assessments/{assessment_id}")
    expect(page.locator(".lead")).to_contain_text("Interview")

    with page.expect_navigation():
        page.locator(".section-list").get_by_role(
            "link", name="Backups and getting your data back").click()
    assert path_of(page.url) == interview_path(assessment_id, "backup")
    # Without JavaScript, follow-ups of an unanswered question stay hidden until it is saved.
    assert visible_questions(page) == ["backup.automatic"]
    automatic = block(page, "backup.automatic")
    field = automatic.get_attribute("data-field")
    automatic.locator('input[value="weekly"]').check()
    page.locator(f"#n_{field}").fill("Saw the weekly job in the backup console.")
    page.locator(f"#c_{field}").check()
    response = submit(page, "Save and next section")
    assert redirect_status(response) == 303, "saving an interview section is not PRG"
    assert path_of(page.url) == interview_path(assessment_id, "security")

    mine = stored(app, assessment_id, "consultant")
    assert mine["backup.automatic"].answer.value == "weekly"
    assert mine["backup.automatic"].note == "Saw the weekly job in the backup console."
    assert mine["backup.automatic"].verified is True
    assert stored(app, assessment_id, "owner") == {}

    # Back on the section: what was saved is shown, and the follow-ups are there now.
    page.goto(base + interview_path(assessment_id, "backup"))
    expect(automatic.locator('input[value="weekly"]')).to_be_checked()
    expect(page.locator(f"#n_{field}")).to_have_value("Saw the weekly job in the backup console.")
    expect(page.locator(f"#c_{field}")).to_be_checked()
    follow_ups = ["backup.scope", "backup.versions", "backup.offsite", "backup.encrypted",
                  "backup.restore_tested", "backup.recovery_time", "backup.keys"]
    assert set(follow_ups) <= set(visible_questions(page))
    for qid, value in (("backup.scope", "files"), ("backup.scope", "email"),
                       ("backup.versions", "months"),
                       ("backup.offsite", "office_only"), ("backup.encrypted", "yes"),
                       ("backup.restore_tested", "year"), ("backup.recovery_time", "day"),
                       ("backup.keys", "business_holds")):
        block(page, qid).locator(f'input[value="{value}"]').check()
    restore_field = block(page, "backup.restore_tested").get_attribute("data-field")
    page.locator(f"#c_{restore_field}").check()
    page.locator(f"#n_{restore_field}").fill("Restore log from March seen.")
    response = submit(page, "Save and go to overview")
    assert redirect_status(response) == 303
    assert path_of(page.url) == f"/workspace/assessments/{assessment_id}"
    expect(page.get_by_text("Saved “Backups and getting your data back”.")).to_be_visible()
    expect(page.locator(".section-list li").filter(
        has_text="Backups and getting your data back")).to_contain_text("Done")
    mine = stored(app, assessment_id, "consultant")
    assert mine["backup.scope"].answer.value == ("files", "email")
    assert mine["backup.restore_tested"].answer.value == "year"
    assert mine["backup.restore_tested"].verified is True
    assert mine["backup.restore_tested"].note == "Restore log from March seen."
    assert mine["backup.automatic"].verified is True  # untouched by the second save

    # A figure that cannot be read: the page comes back with an error summary linking to it,
    # and keeps what was chosen; nothing wrong is saved.
    page.goto(base + interview_path(assessment_id, "patching"))
    days = block(page, "patching.days")
    days_field = days.get_attribute("data-field")
    block(page, "patching.who").locator('input[value="provider"]').check()
    page.locator(f"#{days_field}").fill("soon")
    page.locator(f"#n_{days_field}").fill("Ask for the patch report.")
    page.locator(f"#c_{days_field}").check()
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Save and go to overview").click()
    assert nav.value.status == 422
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator(f'a[href="#{days_field}"]')).to_have_count(1)
    expect(days.locator(".field-error")).to_be_visible()
    expect(page.locator(f"#{days_field}")).to_have_value("soon")
    expect(block(page, "patching.who").locator('input[value="provider"]')).to_be_checked()
    assert "patching.days" not in raw_answers(app, assessment_id, "consultant")
    # The note and the Verified tick given with the unreadable figure come back too.
    lost = []
    if page.locator(f"#n_{days_field}").input_value() != "Ask for the patch report.":
        lost.append("its note")
    if not page.locator(f"#c_{days_field}").is_checked():
        lost.append("its Verified tick")
    page.locator(f"#{days_field}").fill("14")
    if lost:  # type them again, to check the rest of the round trip
        page.locator(f"#n_{days_field}").fill("Ask for the patch report.")
        page.locator(f"#c_{days_field}").check()
    response = submit(page, "Save and go to overview")
    assert redirect_status(response) == 303
    mine = raw_answers(app, assessment_id, "consultant")
    assert mine["patching.days"] == 14 and mine["patching.who"] == "provider"
    saved_days = stored(app, assessment_id, "consultant")["patching.days"]
    assert (saved_days.note, saved_days.verified) == ("Ask for the patch report.", True)
    if lost:
        pytest.fail("interview page sent back with an error (patching.days = 'soon', 422) "
                    f"dropped {' and '.join(lost)} of that question: the consultant has to "
                    "type them again", pytrace=False)


# --- 3. claim links -------------------------------------------------------------------------


def test_claim_link_hands_an_owners_own_assessment_to_the_firm_once(live_server, page, browser):
    base, app = live_server.url, live_server.app
    business = OWNER_ANSWERS["profile.business_name"]
    admin = make_member(app, firm="Harbourside IT", email="hana@harbourside.example")
    sign_in(page, base, admin)

    with other_page(browser, **DESKTOP, java_script_enabled=False) as owner:
        # The owner does the whole assessment alone, with no firm, from the home page (with
        # JavaScript off, for a change; the answers saved directly: see the module's docstring)
        # and keeps it open in their browser.
        owner.goto(base + "/")
        submit(owner, "Start the free assessment")
        assert path_of(owner.url) == "/assessment/section/profile"
        owner_id = assessment_id_of(app, resume_link(owner, base))
        answered_directly(app, owner_id, OWNER_ANSWERS)
        finish_from_review(owner, base)
        owner_score = owner.locator(".score-number").inner_text()
        band = owner.locator(".band").inner_text()
        assert assessment_row(app, owner_id)["firm_id"] is None

        # The consultant makes a link for an owner (a new client).
        page.goto(base + "/workspace/")
        response = submit(page, "Make a link for an owner")
        assert response.status == 200
        expect(page.locator("h1")).to_have_text("A link for the owner")
        link = shown_link(page)
        assert "/claim/" in link

        # The owner opens it: what would be shared, and a choice.
        owner.goto(link)
        expect(owner.locator("h1")).to_have_text("Share your assessment with Harbourside IT?")
        shared = owner.locator("section.panel").filter(has_text="What Harbourside IT would receive")
        expect(shared).to_contain_text(f"Business name: {business}")
        # Every answer but those not asked given the others: who looks after IT, for an owner
        # paying a provider, and yearly sales, once the hourly cost is given, among them.
        expect(shared).to_contain_text(
            f"Your answers to {len(asked(app, OWNER_ANSWERS))} questions")
        expect(shared).to_contain_text("including your company figures")
        expect(shared).to_contain_text("0 notes you wrote")
        expect(shared).to_contain_text(f"The results: score {owner_score} ({band})")
        expect(shared).to_contain_text("a new client record")
        expect(owner.get_by_role("button", name="No, don't share")).to_be_visible()
        response = submit(owner, "Share with Harbourside IT")
        assert redirect_status(response) == 303
        assert path_of(owner.url) == "/assessment/"
        expect(owner.locator(".notice-success")).to_contain_text("Shared with Harbourside IT.")

        record = assessment_row(app, owner_id)
        assert record["firm_id"] == admin["firm_id"] and record["shared_at"]
        [new_client] = [c for c in firm_clients(app, admin["firm_id"]) if c["name"] == business]
        assert record["client_id"] == new_client["id"]

        # The firm sees it as a new client named after the business, with the same score.
        page.goto(base + "/workspace/")
        with page.expect_navigation():
            page.locator("table.table").get_by_role("link", name=business).click()
        assert path_of(page.url) == f"/workspace/clients/{new_client['id']}"
        row = page.locator("#assessments tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Shared by the owner")
        expect(row.locator("td").nth(2)).to_have_text(owner_score)
        expect(row.locator("td").nth(3)).to_have_text(band)

        # The link works once.
        response = owner.goto(link)
        assert response.status == 404
        expect(owner.locator("h1")).to_have_text("This link cannot be used")
        expect(owner.locator("main")).to_contain_text("Nothing has been shared.")

        # Another firm's link, made for its own client, cannot take the shared assessment.
        other = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
        with other_page(browser) as eve:
            sign_in(eve, base, other)
            other_client = add_client(eve, base, "Elsewhere client")
            submit(eve, "Make a link for the owner")
            other_link = shown_link(eve)
            # Nor can they open the first firm's client or assessment.
            for path in (f"/workspace/clients/{new_client['id']}",
                         f"/workspace/assessments/{owner_id}"):
                assert eve.goto(base + path).status == 404, path

        response = owner.goto(other_link)
        assert response.status < 500
        expect(owner.locator("h1")).to_have_text("This assessment is already shared")
        expect(owner.locator("main")).to_contain_text("Nothing was changed.")
        expect(owner.get_by_role("button", name=re.compile("^Share"))).to_have_count(0)
        # Even a hand-made form post is refused, politely.
        owner.goto(base + "/assessment/")
        token = owner.locator("input[name=csrf_token]").first.input_value()
        forced = owner.request.post(other_link, form={"csrf_token": token, "decision": "share"})
        assert forced.status in (404, 409), forced.status
        assert "This link cannot be used" in forced.text()

    after = assessment_row(app, owner_id)
    assert (after["firm_id"], after["client_id"], after["shared_at"]) == (
        record["firm_id"], record["client_id"], record["shared_at"])
    assert client_assessments(app, other["firm_id"], other_client) == []
    assert [c["name"] for c in firm_clients(app, other["firm_id"])] == ["Elsewhere client"]
    with database(app) as db:
        unused = db.rows("SELECT used_at, assessment_id FROM claim_links WHERE firm_id = ?",
                         [other["firm_id"]])
    assert unused == [{"used_at": None, "assessment_id": None}]


# --- 4. branding ----------------------------------------------------------------------------


def test_branding_upload_colours_preview_and_refusals(live_server, page):
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Brightline IT", email="bea@brightline.example")
    sign_in(page, base, admin)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Workspace").get_by_role("link",
                                                                     name="Branding").click()
    assert path_of(page.url) == "/workspace/branding"
    preview = page.locator(".cover-preview")
    expect(preview.locator(".cover-firm")).to_have_text("Brightline IT")
    expect(preview.locator("img")).to_have_count(0)

    # A PNG logo, good colours and a contact line.
    logo = png_logo()
    page.set_input_files("#logo", {"name": "brightline.png", "mimeType": "image/png",
                                   "buffer": logo})
    page.get_by_label("Primary colour (cover and headings)").fill("#1f3a5f")
    page.get_by_label("Accent colour (highlights)").fill("#8a3b12")
    page.get_by_label("Contact line (for example phone and email)").fill(
        "0161 555 0100 · hello@brightline.example")
    response = submit(page, "Save branding")
    assert redirect_status(response) == 303
    assert path_of(page.url) == "/workspace/branding"
    expect(page.get_by_text("Saved. Every report of your clients now carries this branding.")
           ).to_be_visible()
    expect(page.locator(".notice-warning")).to_have_count(0)
    image = preview.locator("img.cover-logo")
    expect(image).to_be_visible()
    expect(image).to_have_attribute("alt", "Brightline IT logo")
    size = image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert size == [True, 240, 80], f"the preview's logo did not load: {size}"
    assert preview.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(31, 58, 95)"
    expect(preview.locator(".cover-contact")).to_have_text(
        "0161 555 0100 · hello@brightline.example")
    served = page.request.get(base + image.get_attribute("src"))
    assert served.status == 200 and served.body().startswith(b"\x89PNG")
    with database(app) as db:
        from assessment.storage import accounts

        firm = accounts.firm_branding(db, admin["firm_id"])
    assert (firm["primary_colour"], firm["accent_colour"]) == ("#1f3a5f", "#8a3b12")
    assert firm["logo"].startswith(b"\x89PNG")
    saved_logo = firm["logo"]

    # A pale primary colour: saved, with a warning about white text on it.
    page.get_by_label("Primary colour (cover and headings)").fill("#ffe08a")
    submit(page, "Save branding")
    warning = page.locator(".notice-warning").filter(has_text="primary colour #ffe08a")
    expect(warning.first).to_be_visible()
    expect(warning.first).to_contain_text("below the 4.5 to 1 that WCAG AA asks for")
    problems = []
    if warning.count() != 1:
        problems.append(f"after saving a pale primary colour, the same low-contrast warning is "
                        f"shown {warning.count()} times on /workspace/branding (the flashed "
                        "message and the page's own warning)")

    # An SVG is refused with a message that says what to do instead; nothing changes.
    page.get_by_label("Primary colour (cover and headings)").fill("#1f3a5f")
    page.set_input_files("#logo", {"name": "logo.svg", "mimeType": "image/svg+xml",
                                   "buffer": SVG_LOGO})
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Save branding").click()
    assert nav.value.status == 422
    message = "SVG logos are not accepted"
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator('a[href="#logo"]')).to_contain_text(message)
    expect(page.locator("#logo-error")).to_contain_text("Export your logo as PNG or JPEG")
    expect(page.locator("#logo")).to_have_attribute("aria-describedby", "logo-error")
    expect(page.get_by_label("Primary colour (cover and headings)")).to_have_value("#1f3a5f")
    with database(app) as db:
        from assessment.storage import accounts

        firm = accounts.firm_branding(db, admin["firm_id"])
    assert firm["logo"] == saved_logo and firm["primary_colour"] == "#ffe08a"
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- 5. accessibility (axe-core) and screenshots --------------------------------------------

SEED_CHANGES = {"backup.restore_tested": "quarter", "security.mfa_email": "none"}


def test_desktop_workspace_pages_axe_layout_and_screenshots(live_server, page, browser, axe,
                                                            screenshot):
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Lakeside IT", email="lee@lakeside.example")
    problems: list[str] = []

    def check(name: str) -> None:
        violations = axe(page)
        if violations:
            problems.append(f"[{name}] " + format_axe_violations(page.url, violations))

    page.goto(base + "/account/sign-in")
    check("sign-in page")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Sign in", exact=True).click()
    assert nav.value.status == 400
    expect(page.locator("[data-error-summary]")).to_be_visible()
    check("sign-in page with errors")

    sign_in(page, base, admin)
    expect(page.get_by_role("heading", name="No clients yet")).to_be_visible()
    check("clients, empty")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Add client").click()
    assert nav.value.status == 422
    check("clients, add-client form with an error")

    client_id = add_client(page, base, "Maple Court Dental")
    check("client page, no assessments yet")
    submit(page, "Send a self-assessment link")
    check("self-assessment link page")

    seeded, first, second = seed_client(app, admin, "Harbour Street Dental", OWNER_ANSWERS,
                                        SEED_CHANGES)
    set_logo(app, admin)
    page.goto(base + "/workspace/")
    expect(page.locator("table.table tbody tr")).to_have_count(2)
    check("clients, filled")
    page.goto(base + f"/workspace/clients/{seeded}")
    expect(page.locator("svg[aria-labelledby=trend-title]")).to_be_visible()
    check("client page with two assessments and the trend")
    problems += [f"[trend chart on the client page] {p}"
                 for p in chart_text_problems(page, "svg[aria-labelledby=trend-title]")]
    screenshot(page, "workspace-client-desktop")

    page.goto(base + f"/workspace/assessments/{first}")
    check("assessment overview, finished by the client")
    page.goto(base + f"/workspace/assessments/{second}")
    expect(page.locator("#final-score")).to_contain_text("Final score")
    check("assessment overview, finished")
    screenshot(page, "workspace-assessment-finished-desktop")
    page.goto(base + f"/workspace/clients/{client_id}")
    submit(page, "Start an interview")
    check("first question of a new interview")
    fresh = assessment_in(page.url)
    page.goto(base + f"/workspace/assessments/{fresh}")
    check("assessment overview, new interview")

    page.goto(base + interview_path(first, "monitoring"))
    expect(page.locator(".client-said.differs")).to_have_count(1)
    check("interview page")
    screenshot(page, "workspace-interview-desktop")
    page.goto(base + interview_path(second, "backup"))
    expect(page.locator(".tag", has_text="To re-confirm").first).to_be_visible()
    check("interview page, copied answers to re-confirm")
    # (A finished assessment's interview saves nothing: the error is shown on an open one.)
    page.goto(base + interview_path(fresh, "patching"))
    days_field = block(page, "patching.days").get_attribute("data-field")
    page.locator(f"#{days_field}").fill("soon")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Save and go to overview").click()
    assert nav.value.status == 422
    check("interview page with an error")
    screenshot(page, "workspace-interview-errors-desktop")

    page.goto(base + f"/workspace/clients/{seeded}/compare?a={first}&b={second}")
    expect(page.locator("h1")).to_have_text("How Harbour Street Dental moved")
    check("compare")
    screenshot(page, "workspace-compare-desktop")
    page.goto(base + f"/workspace/clients/{seeded}/compare")
    expect(page.locator("h1")).to_have_text("Choose two assessments to compare")
    check("compare with nothing chosen")

    page.goto(base + "/workspace/settings")
    check("settings")
    screenshot(page, "workspace-settings-desktop")

    page.goto(base + "/workspace/branding")
    expect(page.locator(".cover-preview img.cover-logo")).to_be_visible()
    check("branding with the cover preview")
    screenshot(page, "workspace-branding-desktop")
    page.set_input_files("#logo", {"name": "logo.svg", "mimeType": "image/svg+xml",
                                   "buffer": SVG_LOGO})
    page.get_by_label("Primary colour (cover and headings)").fill("#ffe08a")
    page.get_by_label("Accent colour (highlights)").fill("teal")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Save branding").click()
    assert nav.value.status == 422
    check("branding with errors")

    page.goto(base + "/account/members")
    check("members page")

    page.goto(base + f"/workspace/clients/{client_id}")
    submit(page, "Make a link for the owner")
    link = shown_link(page)
    check("claim link page")
    with other_page(browser) as owner:
        owner.goto(base + make_finished_assessment(app, OWNER_ANSWERS))
        owner.goto(link)
        expect(owner.locator("h1")).to_have_text("Share your assessment with Lakeside IT?")
        violations = axe(owner)
        if violations:
            problems.append("[claim consent page] " + format_axe_violations(owner.url, violations))
        owner.goto(base + "/claim/not-a-real-link")
        violations = axe(owner)
        if violations:
            problems.append("[claim link that cannot be used] "
                            + format_axe_violations(owner.url, violations))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def test_phone_workspace_pages_axe_layout_and_screenshots(live_server, browser, axe,
                                                          screenshot):
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Hillside IT", email="hal@hillside.example")
    client_id, first, second = seed_client(app, admin, "Harbour Street Dental", OWNER_ANSWERS,
                                           SEED_CHANGES)
    set_logo(app, admin)
    problems: list[str] = []
    with other_page(browser, **PHONE) as page:
        sign_in(page, base, admin)
        for name, path in (("interview", interview_path(first, "monitoring")),
                           ("client", f"/workspace/clients/{client_id}"),
                           ("assessment-finished", f"/workspace/assessments/{second}"),
                           ("compare", f"/workspace/clients/{client_id}/compare"
                                       f"?a={first}&b={second}"),
                           ("settings", "/workspace/settings"),
                           ("branding", "/workspace/branding")):
            response = page.goto(base + path)
            assert response.status == 200, f"{name}: {response.status}"
            violations = axe(page)
            if violations:
                problems.append(f"[{name} on a phone] "
                                + format_axe_violations(page.url, violations))
            if name == "client":
                problems += [f"[trend chart on a phone] {p}" for p in chart_text_problems(
                    page, "svg[aria-labelledby=trend-title]")]
            overflow, wide = horizontal_overflow(page)
            if overflow > 0:
                problems.append(f"[{name} on a phone] the page is {overflow}px wider than the "
                                f"screen: {wide}")
            screenshot(page, f"workspace-{name}-phone")
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


# --- 6. signing out -------------------------------------------------------------------------


def test_sign_out_then_back_or_reload_asks_to_sign_in(live_server, page, browser):
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Summit IT", email="sam@summit.example")
    sign_in(page, base, admin)
    add_client(page, base, "Quarry Lane Bakery")
    response = page.goto(base + "/workspace/")
    assert "no-store" in response.headers.get("cache-control", "")
    expect(page.locator("table.table")).to_contain_text("Quarry Lane Bakery")
    kept_cookies = page.context.cookies()

    sign_out(page)
    page.go_back()
    assert path_of(page.url) == "/account/sign-in", f"Back after sign-out shows {page.url}"
    expect(page.get_by_text("Please sign in to see that page.")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Quarry Lane Bakery")
    assert "next=/workspace/" in page.url

    for path in ("/workspace/", "/workspace/branding", "/account/members"):
        page.goto(base + path)
        page.reload()
        assert path_of(page.url) == "/account/sign-in", f"{path} after sign-out: {page.url}"
        expect(page.locator("h1")).to_have_text("Sign in")

    # The cookie from before signing out is worth nothing now: the sign-in is gone server-side.
    with other_page(browser) as copy:
        copy.context.add_cookies(kept_cookies)
        copy.goto(base + "/workspace/")
        assert path_of(copy.url) == "/account/sign-in"
        expect(copy.locator("main")).not_to_contain_text("Quarry Lane Bakery")


def test_sign_out_on_a_client_page_then_back_asks_to_sign_in(live_server, page):
    """Back to a client page after sign-out shows nothing of the client: a 404 (an address that
    names a firm's object tells a stranger nothing, not even that it exists) with a way to sign
    in again."""
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Crestview IT", email="cara@crestview.example")
    sign_in(page, base, admin)
    client_id = add_client(page, base, "Ferry Road Opticians")
    sign_out(page)
    response = page.go_back()
    assert path_of(page.url) == f"/workspace/clients/{client_id}"
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text("Ferry Road Opticians")
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="Sign in").click()
    assert path_of(page.url) == "/account/sign-in"


def test_saving_a_copied_section_reconfirms_its_answers(live_server, page):
    """Answers copied from the last assessment are marked "To re-confirm" until the consultant
    has been through them: saving the section as it is confirms nothing; "All ... still true"
    confirms them, even when the answer stays the same."""
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Fernhill IT", email="fay@fernhill.example")
    client_id, _, _ = seed_client(app, admin, "Harbour Street Dental", OWNER_ANSWERS, {})
    sign_in(page, base, admin)
    page.goto(base + f"/workspace/clients/{client_id}")
    submit(page, "Start a new assessment from the last one")
    renewed = path_of(page.url).rsplit("/", 1)[-1]
    page.goto(base + interview_path(renewed, "monitoring"))
    shown = visible_questions(page)
    expect(page.locator(".tag", has_text="To re-confirm")).to_have_count(len(shown))
    alerts_field = block(page, "monitoring.alerts").get_attribute("data-field")
    page.locator(f"#c_{alerts_field}").check()
    response = submit(page, "Save and go to overview")
    assert redirect_status(response) == 303
    page.goto(base + interview_path(renewed, "monitoring"))
    expect(page.locator(".tag", has_text="To re-confirm")).to_have_count(len(shown))
    submit(page, f"All {len(shown)} copied answers still true: save and next section")
    page.goto(base + interview_path(renewed, "monitoring"))
    mine = stored(app, renewed, "consultant")
    assert mine["monitoring.alerts"].verified is True
    still = [qid for qid in shown if mine[qid].reconfirm]
    tags = page.locator(".tag", has_text="To re-confirm").count()
    if still or tags:
        pytest.fail(f"after saving the section unchanged (and ticking Verified on "
                    f"monitoring.alerts), {tags} of {len(shown)} questions still show 'To "
                    f"re-confirm'; stored reconfirm flags still set for {still}", pytrace=False)


# --- 6. the firm's time zone ----------------------------------------------------------------


def test_the_time_zone_starts_from_the_browser_and_every_workspace_time_follows_it(
        live_server, browser, nojs_page, screenshot):
    base, app = live_server.url, live_server.app
    admin = make_member(app, firm="Juniper Advisory", email="jun@juniper.example",
                        name="Ana Smith")
    client_id, first, second = seed_client(app, admin, "Harbour Street Dental", OWNER_ANSWERS,
                                           SEED_CHANGES)
    with database(app) as db:
        db.execute("UPDATE assessments SET created_at = ? WHERE id = ?",
                   ["2026-12-07T08:14:00+00:00", first])

    # Without JavaScript, UTC until an admin chooses.
    sign_in(nojs_page, base, admin)
    nojs_page.goto(base + "/workspace/settings")
    expect(nojs_page.get_by_label("Your firm's time zone")).to_have_value("UTC")
    expect(nojs_page.locator("[data-zone-from-browser]")).to_be_hidden()

    # In a browser in Paris, the list starts at Paris and says why; nothing is saved yet.
    with other_page(browser, viewport={"width": 1280, "height": 900},
                    timezone_id="Europe/Paris") as page:
        sign_in(page, base, admin)
        with page.expect_navigation():
            page.get_by_role("navigation", name="Workspace").get_by_role(
                "link", name="Settings").click()
        expect(page.get_by_label("Your firm's time zone")).to_have_value("Europe/Paris")
        expect(page.locator("[data-zone-from-browser]")).to_have_text(
            "Chosen from this browser's time zone: Europe/Paris. Press Save to use it.")
        with database(app) as db:
            from assessment.storage import accounts

            assert accounts.firm_time_zone(db, admin["firm_id"]) is None
        screenshot(page, "workspace-settings-from-browser-desktop")
        response = submit(page, "Save the time zone")
        assert redirect_status(response) == 303
        expect(page.locator(".notice-success")).to_contain_text(
            "Your workspace now shows times in Europe/Paris")
        expect(page.locator("[data-zone-from-browser]")).to_be_hidden()

        page.goto(base + f"/workspace/clients/{client_id}")
        expect(page.locator("#assessments tbody tr").first).to_contain_text(
            "7 Dec 2026, 09:14 CET")
        page.goto(base + f"/workspace/clients/{client_id}/compare?a={first}&b={second}")
        expect(page.locator(".lead")).to_contain_text(
            "From 7 Dec 2026, 09:14 CET (client self-assessment) to ")
