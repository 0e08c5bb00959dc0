"""The owner's path in a real browser: what an owner meets on the way through the wizard, one
part of the path per section of this file.

One live server (and database) serves the module; each test starts its own assessment.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from wizard_helpers import (
    answer_question,
    assessment_id_of,
    block,
    fragment_of,
    is_autosave,
    load_answers,
    make_finished_assessment,
    path_of,
    resume_link,
    status,
    stored_raw,
    submit,
)

pytestmark = pytest.mark.e2e  # on SQLite only: see conftest.py

PROFILE = "/assessment/section/profile"
SPEND = "profile.it_spend_12m"
REPAIRS = "profile.reactive_spend_12m"


def start(page: Any, live_server: Any) -> str:
    """A new assessment from the landing page; returns its id."""
    page.goto(live_server.url + "/")
    submit(page, "Start the free assessment")
    assert path_of(page.url) == PROFILE
    return assessment_id_of(live_server.app, resume_link(page, live_server.url))


def box(page: Any, question_id: str) -> Any:
    return page.locator("#q_" + question_id.replace(".", "__"))


# --- 2. Figures ---------------------------------------------------------------------------


def test_figures_with_javascript_read_as_meant_or_asked(live_server, page, screenshot,
                                                        assert_no_axe_violations):
    app = live_server.app
    assessment_id = start(page, live_server)
    money = block(page, SPEND).locator("[data-currency]")
    expect(money).to_be_hidden()  # no currency chosen yet: no sign
    answer_question(page, "profile.currency", "gbp", js=True)
    expect(money).to_have_text("£")
    expect(block(page, "profile.staff_count").locator(".figure-suffix")).to_have_text("people")
    expect(block(page, "profile.open_hours_per_week").locator(".figure-suffix")).to_have_text(
        "hours a week")

    # "9.500" reads two ways: asked, with both readings, and nothing stored.
    with page.expect_response(is_autosave) as info:
        box(page, SPEND).fill("9.500")
        box(page, SPEND).press("Tab")
    assert info.value.status == 422
    expect(status(page, SPEND)).to_contain_text("can be read two ways")
    readings = block(page, SPEND).locator("[data-readings] label")
    expect(readings).to_have_text(["£9,500", "£9.50"])
    assert SPEND not in stored_raw(app, assessment_id)
    assert_no_axe_violations(page)
    screenshot(page, "owner-figure-readings-desktop")
    # click(), not check(): once saved, the readings leave the page, and check() would wait to
    # see a tick that is gone (it timed out whenever the save came back quickly).
    with page.expect_response(is_autosave) as info:
        block(page, SPEND).get_by_label("£9,500").click()
    assert info.value.status == 200
    expect(status(page, SPEND)).to_have_text("Saved as £9,500")
    expect(box(page, SPEND)).to_have_value("9,500")
    expect(block(page, SPEND).locator("[data-readings]")).to_have_count(0)
    assert stored_raw(app, assessment_id)[SPEND] == 9500

    # A decimal comma is unambiguous; repairs above all IT spend get a message naming both.
    answer_question(page, REPAIRS, 12000, js=False, typed="12.000,00")
    with page.expect_response(is_autosave):
        box(page, REPAIRS).press("Tab")
    expect(status(page, REPAIRS)).to_have_text("Saved as £12,000")
    assert stored_raw(app, assessment_id)[REPAIRS] == 12000
    checks = page.locator("[data-checks]")
    expect(checks).to_contain_text("£12,000")
    expect(checks).to_contain_text("£9,500")
    assert_no_axe_violations(page)
    screenshot(page, "owner-figure-checks-desktop")

    # Seen on the page, Save moves on; the figures stay as given.
    submit(page, "Save and continue")
    assert path_of(page.url) == "/assessment/section/monitoring"


def test_figures_without_javascript(live_server, nojs_page, screenshot):
    page = nojs_page
    base, app = live_server.url, live_server.app
    assessment_id = start(page, live_server)
    page.get_by_label("Pound sterling (£)").check()
    box(page, SPEND).fill("9.500")
    box(page, "profile.outage_hours_12m").fill("5,000")
    box(page, "profile.open_hours_per_week").fill("40")
    response = submit(page, "Save and continue")
    assert response.status == 422
    expect(page.locator("[data-error-summary]")).to_contain_text("can be read two ways")
    # The figures that fit were saved; 5,000 hours lost while open 40 hours a week: named.
    checks = page.locator("[data-checks]")
    expect(checks).to_contain_text("5,000 hours")
    expect(checks).to_contain_text("40 hours a week")
    screenshot(page, "owner-figure-readings-nojs")
    block(page, SPEND).get_by_label("£9.50").check()
    box(page, "profile.outage_hours_12m").fill("1.200,5")
    submit(page, "Save and continue")
    assert path_of(page.url) == "/assessment/section/monitoring"
    expect(page.locator(".notice-success")).to_contain_text(
        "Saved as 1,200.5 hours (you typed “1.200,5”)")
    stored = stored_raw(app, assessment_id)
    assert stored[SPEND] == 9.5 and stored["profile.outage_hours_12m"] == 1200.5
    page.goto(base + PROFILE)
    expect(block(page, SPEND).locator("[data-status]")).to_have_text("Saved as £9.50")
    expect(page.locator("[data-checks]")).to_be_empty()

    # A contradiction made by this very save sends the owner back to it.
    box(page, REPAIRS).fill("£20")
    submit(page, "Save and continue")
    assert path_of(page.url) == PROFILE
    expect(page.locator("[data-checks]")).to_contain_text("£20")
    expect(page.locator("[data-checks]")).to_contain_text("£9.50")


# --- 3. Change, from the check-answers page, comes back to it ---------------------------------


def _open_review(page: Any, live_server: Any) -> None:
    link = make_finished_assessment(live_server.app, load_answers("break_fix_untested_backups"))
    page.goto(live_server.url + link)
    page.goto(live_server.url + "/assessment/review")


@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
def test_change_goes_back_to_check_answers(live_server, browser, js):
    context = browser.new_context(java_script_enabled=js)
    page = context.new_page()
    try:
        _open_review(page, live_server)
        row = page.locator(".review-row").filter(
            has_text="When did someone last prove the backups work")
        with page.expect_navigation():
            row.get_by_role("link", name=re.compile(r"^Change")).click()
        assert path_of(page.url) == "/assessment/section/backup"
        answer_question(page, "backup.restore_tested", "quarter", js=js)
        submit(page, "Save and go back to check your answers")
        assert path_of(page.url) == "/assessment/review"
        assert fragment_of(page.url) == "rs-backup"
        expect(row.locator("dd").first).not_to_have_text("Never")
    finally:
        context.close()


# --- 4. One count of the questions, and an estimate from the bank ---------------------------


def test_one_question_count_everywhere(live_server, page):
    from assessment.core.progress import unstarted

    whole = unstarted(live_server.app.extensions["bank"])
    page.goto(live_server.url + "/")
    expect(page.locator("#covers-heading")).to_have_text(f"What the {whole.total} questions cover")
    expect(page.locator(".hero .lead")).to_contain_text(f"In {whole.time_left} you get")
    start(page, live_server)
    label = page.locator(".progress-label span").first
    expect(label).to_have_text(f"0 of {whole.total} questions answered, {whole.time_left} left")

    # Every question about the business answered: the bar moves with each one.
    answers = load_answers("break_fix_untested_backups")
    # (Who looks after IT is asked only when no IT company is paid: hidden for this owner.)
    profile = [q.id for q in live_server.app.extensions["bank"].section_by_id["profile"].questions
               if q.show_if is None]
    for qid in profile:
        answer_question(page, qid, answers[qid], js=True)
    # (How the business pays for IT support decides which provider questions remain.)
    expect(label).to_contain_text(re.compile(f"^{len(profile)} of \\d+ questions answered"))
    shown = label.inner_text().split(",")[0]
    assert int(shown.split()[2]) <= whole.total
    assert int(page.locator("progress").get_attribute("value")) > 0
    submit(page, "Save and go to overview")
    expect(page.locator(".progress-label span").first).to_contain_text(shown)
    expect(page.locator(".section-list li").first).to_contain_text(
        f"Done · {len(profile)} of {len(profile)}")


# --- 5. What is still unanswered: a nudge, then a list of links -------------------------------


def test_skipped_questions_are_nudged_then_listed_as_links(live_server, page,
                                                           assert_no_axe_violations, screenshot):
    start(page, live_server)
    page.goto(live_server.url + "/assessment/section/monitoring")
    shown = [q for q in page.eval_on_selector_all(
        "[data-question]:not([hidden])", "els => els.map(e => e.dataset.question)")]
    submit(page, "Save and continue")  # the section left blank
    assert path_of(page.url) == "/assessment/section/patching"
    nudge = page.locator(".notice-info")
    expect(nudge).to_contain_text(f"You skipped {len(shown)} questions on")
    expect(nudge).to_contain_text("come back to them")

    # Finishing with gaps: one notice, the list, each a link to its question.
    page.goto(live_server.url + "/assessment/review")
    submit(page, "Finish and see your results")
    assert path_of(page.url) == "/assessment/review"
    assert fragment_of(page.url) == "unanswered"
    box = page.locator("#unanswered")
    expect(page.locator(".notice")).to_have_count(0)  # no second notice saying the same
    links = box.get_by_role("link")
    from assessment.core.progress import unstarted
    expected = len(unstarted(live_server.app.extensions["bank"]).unanswered)
    expect(links).to_have_count(expected)
    expect(box.locator("h2")).to_have_text(f"{expected} questions still need an answer")
    assert_no_axe_violations(page)
    screenshot(page, "owner-review-unanswered-desktop")
    first_monitoring = links.filter(has_text=re.compile("watch|monitor", re.I)).first
    with page.expect_navigation():
        first_monitoring.click()
    assert path_of(page.url) == "/assessment/section/monitoring"
    assert fragment_of(page.url).startswith("q-monitoring.")


# --- 6. The first page ----------------------------------------------------------------------


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_first_page_fits_what_it_asks(live_server, browser, size, screenshot,
                                          assert_no_axe_violations):
    from conftest import DESKTOP, PHONE

    context = browser.new_context(**(DESKTOP if size == "desktop" else PHONE))
    page = context.new_page()
    try:
        start(page, live_server)
        # Said up front: which figures help, and that an estimate is fine.
        intro = page.locator("h1 + .lead")
        expect(intro).to_contain_text("optional")
        expect(intro).to_contain_text("your IT bills help here")
        expect(intro).to_contain_text("An estimate is fine")
        # A one-line box for the name.
        name = box(page, "profile.business_name")
        assert name.evaluate("e => e.tagName") == "INPUT"
        assert name.get_attribute("type") == "text"
        # Every question on the page is optional, and says so.
        labels = page.locator(".question-text")
        for i in range(labels.count()):
            expect(labels.nth(i)).to_contain_text("(optional)")
        # Figures: boxes sized for a figure, with their units, not the width of the page.
        for qid, unit in (("profile.staff_count", "people"),
                          ("profile.open_hours_per_week", "hours a week"),
                          ("profile.outage_hours_12m", "hours")):
            expect(block(page, qid).locator(".figure-suffix")).to_have_text(unit)
        question_width = block(page, SPEND).bounding_box()["width"]
        for qid in (SPEND, "profile.staff_count", "profile.open_hours_per_week"):
            width = box(page, qid).bounding_box()["width"]
            assert width < question_width / 2 or width <= 200, f"{qid} box is {width}px wide"
        assert_no_axe_violations(page)
        screenshot(page, f"owner-first-page-{size}")
    finally:
        context.close()


# --- 7. The owner's pages speak the owner's language -----------------------------------------

JARGON = re.compile(r"\bJSON\b|question bank|bank fingerprint|bank version|it_health", re.I)


def test_owner_pages_have_no_jargon(live_server, page):
    bank = live_server.app.extensions["bank"]
    link = make_finished_assessment(live_server.app, load_answers("break_fix_untested_backups"))
    page.goto(live_server.url + link)
    pages = ["/assessment/", "/assessment/review"] + [
        f"/assessment/section/{s.id}" for s in bank.sections]
    found = []
    for url in pages:
        page.goto(live_server.url + url)
        text = page.locator("body").inner_text()
        found += [f"{url}: {m.group(0)!r}" for m in JARGON.finditer(text)]
    assert not found, "\n".join(found)
    page.goto(live_server.url + "/assessment/review")
    copy = page.get_by_role("link", name="Download a copy of your answers")
    reply = page.request.get(live_server.url + copy.get_attribute("href"))
    assert reply.status == 200 and reply.json()["answers"]


# --- 8. Loose ends ---------------------------------------------------------------------------


def test_copy_button_only_with_javascript(live_server, page, nojs_page):
    finished = make_finished_assessment(live_server.app, load_answers("well_run_managed"))

    def check(each, js: bool) -> None:
        button = each.locator("button[data-copy]")
        assert button.count() >= 1
        for i in range(button.count()):
            if js:
                expect(button.nth(i)).to_be_visible()
            else:  # it can do nothing without JavaScript, so it is not there to press
                expect(button.nth(i)).to_be_hidden()

    for each, js in ((nojs_page, False), (page, True)):
        start(each, live_server)
        each.goto(live_server.url + "/assessment/")
        check(each, js)
        each.context.clear_cookies()
        each.goto(live_server.url + finished)  # the results page carries the link too
        each.goto(live_server.url + "/assessment/results")
        check(each, js)


def test_report_before_finishing_goes_to_what_is_missing(live_server, page):
    start(page, live_server)
    for url in ("/assessment/report.pdf", "/assessment/report"):
        response = page.goto(live_server.url + url)
        assert response.headers["content-type"].startswith("text/html"), url
        assert path_of(page.url) == "/assessment/review"
        expect(page.locator(".notice-info")).to_contain_text("Your report is made when you finish")
        expect(page.locator(".notice-info")).to_be_in_viewport()
        expect(page.locator("#unanswered")).to_be_visible()


def test_too_large_a_page_keeps_the_owner_on_it(live_server, page, screenshot):
    start(page, live_server)
    answer_question(page, "profile.staff_count", 14, js=True)
    name = box(page, "profile.business_name")
    assert name.get_attribute("maxlength") == "5000"  # no browser sends more than that
    # More than the server accepts, the box's own limit bypassed.
    name.evaluate("e => { e.value = 'x'.repeat(5 * 1024 * 1024); }")
    response = submit(page, "Save and continue")
    assert response.status == 413
    assert path_of(page.url) == PROFILE
    expect(page.locator("h1")).to_have_text("About your business")
    expect(page.locator(".notice-warning")).to_contain_text("nothing on it was saved")
    expect(box(page, "profile.staff_count")).to_have_value("14")
    expect(page.get_by_role("button", name="Save and continue")).to_be_visible()
    screenshot(page, "owner-too-large-desktop")


def test_review_shows_figures_with_currency_and_units(live_server, page):
    link = make_finished_assessment(live_server.app, load_answers("break_fix_untested_backups"))
    page.goto(live_server.url + link)
    page.goto(live_server.url + "/assessment/review")
    rows = page.locator(".review-row")
    for question, shown in (("What did you pay for IT support", "$18,400"),
                            ("how much was for fixing things", "$15,900"),
                            ("what does one hour cost", "$850"),
                            ("hours were lost to IT problems", "31 hours"),
                            ("hours a week is the business open", "50 hours a week"),
                            ("How many people work in the business", "14 people")):
        expect(rows.filter(has_text=question).locator("dd").first).to_have_text(shown)


# --- 9. Every page: an icon, a description, and no axe-core violation -----------------------


def test_every_owner_page_has_icon_description_and_no_axe_violations(live_server, page, axe):
    from conftest import format_axe_violations

    bank = live_server.app.extensions["bank"]
    base = live_server.url
    visits = ["/", "/assessment/", "/assessment/resume/nonsense", "/no/such/page"]
    link = make_finished_assessment(live_server.app, load_answers("break_fix_untested_backups"))
    visits += [link, "/assessment/", "/assessment/review", "/assessment/results"] + [
        f"/assessment/section/{s.id}" for s in bank.sections]
    problems = []
    for url in visits:
        page.goto(base + url)
        icon = page.locator("head link[rel=icon]")
        if icon.count() != 1:
            problems.append(f"{url}: {icon.count()} icons")
        else:
            reply = page.request.get(base + icon.get_attribute("href"))
            if reply.status != 200:
                problems.append(f"{url}: the icon answers {reply.status}")
        description = page.locator("head meta[name=description]")
        if description.count() != 1 or not (description.get_attribute("content") or "").strip():
            problems.append(f"{url}: no meta description")
        violations = axe(page)
        if violations:
            problems.append(format_axe_violations(page.url, violations))
    assert not problems, "\n".join(problems)


# --- 9. Small things an owner met (issue "One truth", point 5) --------------------------------

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def test_the_progress_label_never_runs_into_the_percentage_on_a_phone(live_server, phone_page,
                                                                      screenshot):
    page = phone_page
    start(page, live_server)
    label = page.locator(".progress-label")
    words = label.locator("span").first
    percent = label.locator(".progress-percent")
    expect(words).to_contain_text("left")  # "0 of 66 questions answered, about 20 minutes left"
    w, p = words.bounding_box(), percent.bounding_box()
    assert p["x"] >= w["x"] + w["width"] + 8, f"the percentage touches the words: {w} {p}"
    assert p["x"] + p["width"] <= 390 - 8, "the percentage runs off the screen"
    assert re.search(r"left \d+%$", label.inner_text().replace("\n", " ")), label.inner_text()
    screenshot(page, "owner-progress-phone")


def test_a_save_without_javascript_says_what_it_read_in_one_short_notice(live_server, browser,
                                                                         screenshot):
    """Without JavaScript, the figures read from another form than the one saved share one short
    notice; "£600" and "40" need none; yearly sales typed beside an hourly cost are not kept,
    and a notice says so. The next section starts on the first screen, on a phone too."""
    for size, options in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(**options, java_script_enabled=False)
        try:
            page = context.new_page()
            assessment_id = start(page, live_server)
            box(page, "profile.business_name").fill("Harbour Street Dental")
            page.get_by_label("Pound sterling (£)").check()
            box(page, "profile.staff_count").fill("14")
            box(page, "profile.downtime_cost_per_hour").fill("£850")
            box(page, "profile.annual_revenue").fill("2.100.000")
            box(page, "profile.open_hours_per_week").fill("40")
            box(page, "profile.outage_hours_12m").fill("12,5")
            box(page, SPEND).fill("18.400,00")
            box(page, REPAIRS).fill("£600")
            page.get_by_label("By the hour, when we call them").check()
            submit(page, "Save and continue")
            assert path_of(page.url) == "/assessment/section/monitoring"
            saved = page.locator(".notice-success")
            expect(saved).to_have_count(1)
            expect(saved).to_have_text("Figures saved as: 12.5 hours (you typed “12,5”), "
                                       "£18,400 (you typed “18.400,00”).")
            not_kept = page.locator(".notice-warning")  # one notice, however many not kept
            expect(not_kept).to_have_count(1)
            expect(not_kept).to_contain_text(
                "Not kept: £2,100,000 for “What are the business's yearly sales, roughly?”")
            stored = stored_raw(live_server.app, assessment_id)
            assert stored[REPAIRS] == 600 and "profile.annual_revenue" not in stored
            screenshot(page, f"owner-nojs-saved-notices-{size}")
            expect(page.locator("h1")).to_be_in_viewport()
            # Back on the first page: one currency sign beside each money figure.
            page.goto(live_server.url + PROFILE)
            expect(box(page, REPAIRS)).to_have_value("600")
            expect(box(page, "profile.downtime_cost_per_hour")).to_have_value("850")
            expect(block(page, "profile.annual_revenue")).to_be_hidden()
        finally:
            context.close()


def test_check_your_answers_opens_with_finish_and_the_results_follow(live_server, browser,
                                                                     screenshot):
    """All answered, the check-answers page offers Finish on the first screen (it runs to
    many screens on a phone), above the answers; a 1-5 answer reads with what its ends mean."""
    link = make_finished_assessment(live_server.app, load_answers("break_fix_untested_backups"),
                                    finish=False)
    for size, options in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(**options)
        try:
            page = context.new_page()
            page.goto(live_server.url + link)
            page.goto(live_server.url + "/assessment/review")
            expect(page.locator(".review-ready h2")).to_have_text("All questions are answered")
            finish = page.get_by_role("button", name="Finish now and see your results")
            expect(finish).to_be_in_viewport()
            expect(page.locator(".review-row").filter(
                has_text="How well can you predict what IT will cost you")).to_contain_text(
                "1 of 5 (Not at all: it depends on what breaks)")
            screenshot(page, f"owner-review-{size}")
        finally:
            context.close()
    for size, options in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(**options)
        try:
            page = context.new_page()
            page.goto(live_server.url + link)
            if size == "desktop":
                page.goto(live_server.url + "/assessment/review")
                with page.expect_navigation():
                    page.get_by_role("button", name="Finish now and see your results").click()
            else:  # finished: the link opens the results
                expect(page.locator(".review-ready")).to_have_count(0)
            assert path_of(page.url) == "/assessment/results"
            expect(page.get_by_text("Your data is backed up by itself, every day or more "
                                    "often.")).to_be_visible()
            screenshot(page, f"owner-results-{size}")
        finally:
            context.close()


def test_a_money_figure_typed_with_its_sign_shows_one_sign(live_server, page):
    """With JavaScript: "£600" typed beside the box's own "£" is saved as 600 and the box then
    shows 600, so the page never reads "£ £600"."""
    assessment_id = start(page, live_server)
    answer_question(page, "profile.currency", "gbp", js=True)
    with page.expect_response(is_autosave) as info:
        box(page, REPAIRS).fill("£600")
        box(page, REPAIRS).press("Tab")
    assert info.value.status == 200
    expect(status(page, REPAIRS)).to_have_text("Saved as £600")
    expect(box(page, REPAIRS)).to_have_value("600")
    expect(block(page, REPAIRS).locator("[data-currency]")).to_have_text("£")
    assert stored_raw(live_server.app, assessment_id)[REPAIRS] == 600
