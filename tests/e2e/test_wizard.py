"""The owner's wizard in a real browser: the full walk with and without JavaScript, autosave,
Back/refresh, resume links, conflicts between two tabs, validation, an expired session,
accessibility (axe-core), screenshots and the keyboard.

One live server (and database) serves the whole module; each test starts its own assessment or
opens a finished one through its private link, so the tests do not depend on each other.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import DESKTOP, format_axe_violations
from playwright.sync_api import expect
from wizard_helpers import (
    answer_question,
    answer_visible,
    asked,
    assert_focus_visible,
    assert_shown,
    assessment_id_of,
    block,
    expected_result,
    focused_is,
    fragment_of,
    is_autosave,
    load_answers,
    make_finished_assessment,
    path_of,
    redirect_status,
    resume_link,
    status,
    stored_raw,
    submit,
)

pytestmark = pytest.mark.e2e  # on SQLite only: see conftest.py

ANSWERS = load_answers("break_fix_untested_backups")
# Figures typed the way people write them; they must be read as the numbers in the answer set.
TYPED = {
    "profile.staff_count": "14",
    "profile.downtime_cost_per_hour": "$850",
    "profile.annual_revenue": "2,100,000",
    "profile.open_hours_per_week": "50",
    "profile.it_spend_12m": "$18,400",
    "profile.reactive_spend_12m": "15,900",
}
START = "Start the free assessment"
SAVED_ELSEWHERE = "changed in another window"


# --- fixtures and shared steps -------------------------------------------------------


@pytest.fixture(scope="module")
def sections(live_server) -> list[Any]:
    """The bank's sections in order (profile first)."""
    return list(live_server.app.extensions["bank"].sections)


@pytest.fixture(scope="module")
def finished_link(live_server) -> str:
    """The private link of a finished assessment holding the whole answer set."""
    return live_server.url + make_finished_assessment(live_server.app, ANSWERS)


def section_path(section_id: str) -> str:
    return f"/assessment/section/{section_id}"


def start_assessment(page: Any, base: str) -> Any:
    """From the landing page, press the start button; lands on the first section."""
    response = page.goto(base + "/")
    assert response.status == 200
    response = submit(page, START)
    assert redirect_status(response) == 303, "starting is not POST/redirect/GET"
    assert response.status == 200
    assert path_of(page.url) == section_path("profile")
    return response


def walk_sections(page: Any, sections: list[Any], *, js: bool, custom: dict | None = None,
                  via_hub: str | None = None, shots: dict | None = None) -> dict[str, list]:
    """Answer every shown question of every section from the answer set and save each section.

    custom maps a section id to a callable(page) -> set of question ids it answered itself;
    via_hub names a section saved with "Save and go to overview" (then the hub's "Continue"
    button leads on); shots maps a section id to a screenshot callable(page) taken once answered.
    Returns, for each section the server sent back to (follow-ups revealed), the URL fragments.
    """
    bounced: dict[str, list[str]] = {}
    last_done = last_percent = 0
    for index, section in enumerate(sections):
        assert path_of(page.url) == section_path(section.id), (
            f"expected section {section.id}, at {page.url}")
        # Honest progress: it never goes backwards.
        done_now = int(re.search(r"(\d+) of \d+ questions answered",
                                 page.locator(".progress").inner_text()).group(1))
        percent = int(page.locator("progress").get_attribute("value"))
        assert done_now >= last_done and percent >= last_percent, (
            f"progress went backwards at {section.id}: {last_done}/{last_percent}% -> "
            f"{done_now}/{percent}%")
        last_done, last_percent = done_now, percent
        done: set[str] = set()
        if custom and section.id in custom:
            done |= custom[section.id](page)
        while True:
            done |= set(answer_visible(page, ANSWERS, js=js, skip=done, typed=TYPED))
            if shots and section.id in shots and not bounced.get(section.id):
                shots[section.id](page)
            button = "Save and go to overview" if section.id == via_hub else "Save and continue"
            response = submit(page, button)
            assert redirect_status(response) == 303, f"saving {section.id} is not PRG"
            assert response.status == 200
            if path_of(page.url) != section_path(section.id):
                break
            # Sent back to the same section: answers revealed follow-ups (JavaScript off).
            fragment = fragment_of(page.url)
            bounced.setdefault(section.id, []).append(fragment)
            assert len(bounced[section.id]) < 3, f"{section.id} keeps sending me back"
            expect(page.get_by_text("Your answers added a few more questions")).to_be_visible()
            revealed = fragment.removeprefix("q-")
            expect(block(page, revealed)).to_be_visible()
            for qid in done:  # what was saved is still shown
                assert_shown(page, qid, ANSWERS[qid])
        if section.id == via_hub:
            check_hub_mid_walk(page, sections, index)
    return bounced


def check_hub_mid_walk(page: Any, sections: list[Any], index: int) -> None:
    assert path_of(page.url) == "/assessment/"
    expect(page.locator(".notice").filter(has_text="Saved")).to_contain_text(
        sections[index].title)
    items = page.locator(".section-list li")
    expect(items).to_have_count(len(sections))
    for done_index in range(index + 1):
        expect(items.nth(done_index)).to_contain_text("Done")
    expect(items.nth(index + 1)).to_contain_text("Not started")
    following = sections[index + 1]
    first = following.questions[0].id
    # One primary button on the hub: the next thing to do.
    expect(page.locator(".actions .button-primary")).to_have_text("Continue where you left off")
    with page.expect_navigation():
        page.get_by_role("link", name="Continue where you left off").click()
    assert path_of(page.url) == section_path(following.id)
    assert fragment_of(page.url) == f"q-{first}"


def check_review(page: Any, result: Any) -> None:
    assert path_of(page.url) == "/assessment/review"
    expect(page.locator("h1")).to_have_text("Check your answers")
    rows = page.locator(".review-row")
    applicable = sum(1 for o in result.outcomes if o.applicable)
    expect(rows).to_have_count(applicable)
    expect(page.locator(".review-row.missing")).to_have_count(0)
    expect(page.get_by_text("Not answered yet")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"^Change"))).to_have_count(applicable)
    name_row = rows.filter(has_text="What is the name of your business?")
    expect(name_row).to_contain_text("Harbour Street Dental")
    restore_row = rows.filter(has_text="When did someone last prove the backups work")
    expect(restore_row.locator("dd").first).to_have_text("Never")
    staff_row = rows.filter(has_text="How many people work in the business")
    expect(staff_row.locator("dd").first).to_contain_text("14")

    # A Change link opens the question on its section page, with the answer selected.
    with page.expect_navigation():
        restore_row.get_by_role("link", name=re.compile(r"^Change")).click()
    assert path_of(page.url) == section_path("backup")
    assert fragment_of(page.url) == "q-backup.restore_tested"
    assert_shown(page, "backup.restore_tested", "never")
    page.go_back()
    assert path_of(page.url) == "/assessment/review"


def check_results(page: Any, base: str, result: Any) -> None:
    """The results page shows what scoring makes of the answer set, and the downloads work."""
    assert path_of(page.url) == "/assessment/results"
    expect(page.locator("h1")).to_contain_text("Harbour Street Dental")
    expect(page.locator(".score-number")).to_have_text(str(result.score))
    expect(page.locator(".band")).to_have_text(result.band.label)
    assert result.band.id == "critical", "the answer set should land in the critical band"

    # The first screen is the brief: the verdict, the risks that matter, the first 30 days and
    # three questions for the provider, in that order, before anything else.
    headings = page.locator("main h2:not(.visually-hidden)").all_inner_texts()
    assert headings[:3] == ["The risks that matter most", "The first 30 days",
                            "Ask your IT provider this week"], headings
    risks = page.locator(".risk-list > li")
    expect(risks).to_have_count(min(5, len(result.critical_findings)))
    expect(risks.first).to_contain_text(result.critical_findings[0].title)
    first = page.locator(".first-steps > li")
    expect(first).to_have_count(len(result.roadmap[0].steps))
    expect(first.first).to_contain_text(result.roadmap[0].steps[0].title)
    this_week = page.locator("section").filter(
        has=page.get_by_role("heading", name="Ask your IT provider this week")).locator("li")
    expect(this_week).to_have_count(3)
    # Details fold away, and open on demand: who does it and how you know it is done.
    first.first.locator("summary").click()
    expect(first.first).to_contain_text("Done when")

    chart = page.locator("svg[aria-labelledby=section-chart-title]")
    expect(chart).to_be_visible()
    expect(chart.locator("title")).to_have_text(re.compile("Score by section"))
    scored = [s for s in result.sections if s.score is not None and s.weight > 0]
    expect(chart.locator("rect:not(.chart-track)")).to_have_count(len(scored))
    table = chart.locator("xpath=..").locator("table")
    expect(table.locator("tbody tr")).to_have_count(len(scored))
    backup = next(s for s in scored if s.section.id == "backup")
    expect(table.locator("tbody tr").filter(has_text=backup.section.title).locator("td").first
           ).to_have_text(str(backup.score))

    expect(page.get_by_role("heading", name="Your plan")).to_be_visible()
    expect(page.locator("svg[aria-labelledby=roadmap-chart-title]")).to_be_visible()
    for phase in result.roadmap:
        expect(page.get_by_role("heading", name=re.compile(f"^Within {phase.days} days"))
               ).to_be_visible()

    provider = page.locator("section").filter(
        has=page.get_by_role("heading", name="Every question for your IT provider"))
    assert result.provider_questions
    expect(provider.locator("li")).to_have_count(len(result.provider_questions))
    expect(provider).to_contain_text("When did you last restore a whole machine")

    # The PDF reports: the leadership report and the full one.
    pdf_links = page.get_by_role("link", name=re.compile("PDF"))
    expect(pdf_links).to_have_count(2)
    for link in pdf_links.all():
        reply = page.request.get(base + link.get_attribute("href"), timeout=60_000)
        assert reply.status == 200, f"the PDF link answered {reply.status}"
        assert reply.body()[:5] == b"%PDF-", "the PDF link does not return a PDF"


def check_autosave(page: Any, app: Any, assessment_id: str) -> set[str]:
    """On the monitoring section: "Saved" shows only once the server confirmed the answer, a
    reload shows it, and a failed autosave says so (the form still saves it)."""
    qid = "monitoring.watched"
    value = ANSWERS[qid]
    held: list[Any] = []
    page.route("**/assessment/answer", lambda route: held.append(route))
    try:
        block(page, qid).locator(f'input[value="{value}"]').check()
        for _ in range(100):
            if held:
                break
            page.wait_for_timeout(20)
        assert held, "choosing an answer sent no autosave request"
        page.wait_for_timeout(300)  # time enough to show a premature "Saved"
        assert status(page, qid).inner_text() != "Saved", "'Saved' shown before the server answered"
        assert qid not in stored_raw(app, assessment_id)
        with page.expect_response(is_autosave) as info:
            held[0].continue_()
        assert info.value.status == 200
    finally:
        page.unroute("**/assessment/answer")
    expect(status(page, qid)).to_have_text("Saved")
    assert stored_raw(app, assessment_id)[qid] == value
    page.reload()
    assert_shown(page, qid, value)

    # A failed autosave must not claim "Saved".
    qid2 = "monitoring.alerts"
    page.route("**/assessment/answer", lambda route: route.abort())
    try:
        block(page, qid2).locator(f'input[value="{ANSWERS[qid2]}"]').check()
        expect(status(page, qid2)).to_contain_text("Not saved")
    finally:
        page.unroute("**/assessment/answer")
    assert qid2 not in stored_raw(app, assessment_id)
    return {qid, qid2}


# --- 1. the full walk with JavaScript --------------------------------------------------


def test_full_walk_with_javascript(live_server, page, sections, screenshot):
    base, app = live_server.url, live_server.app
    result = expected_result(app, ANSWERS)

    page.goto(base + "/")
    screenshot(page, "wizard-landing-desktop")
    start_assessment(page, base)
    expect(page.locator("h1")).to_have_text(sections[0].title)
    assert focused_is(page, "h1"), "focus is not moved to the heading of the page"
    assessment_id = assessment_id_of(app, resume_link(page, base))

    def monitoring(p):
        return check_autosave(p, app, assessment_id)

    shots = {
        "profile": lambda p: screenshot(p, "wizard-section-profile-desktop"),
        "backup": lambda p: screenshot(p, "wizard-section-desktop"),
    }

    bounced = walk_sections(page, sections, js=True, custom={"monitoring": monitoring},
                            via_hub="costs", shots=shots)
    assert bounced == {}, "with JavaScript the follow-ups should appear on the page itself"
    # The alert answer whose autosave failed was saved by the form.
    stored = stored_raw(app, assessment_id)
    assert stored["monitoring.alerts"] == ANSWERS["monitoring.alerts"]
    # (What the bank does not ask given the other answers stays hidden, so it is never
    # answered: who looks after IT for an owner who pays a provider; yearly sales, hidden as
    # soon as the hourly cost is typed.)
    assert stored == asked(app, ANSWERS), "the database does not hold exactly the answers given"

    check_review(page, result)
    screenshot(page, "wizard-review-desktop")
    page.goto(base + "/assessment/")
    expect(page.locator(".section-list li").filter(has_text="Done")).to_have_count(len(sections))
    expect(page.locator(".actions .button-primary")).to_have_text("Check your answers and finish")
    screenshot(page, "wizard-hub-desktop")
    page.goto(base + "/assessment/review")

    response = submit(page, "Finish and see your results")
    assert redirect_status(response) == 303
    check_results(page, base, result)
    screenshot(page, "wizard-results-desktop")
    page.goto(base + "/assessment/")
    expect(page.locator(".actions .button-primary")).to_have_text("See your results")


# --- 2. the full walk with JavaScript off ------------------------------------------------


def test_full_walk_without_javascript(live_server, nojs_page, sections):
    page = nojs_page
    base, app = live_server.url, live_server.app
    result = expected_result(app, ANSWERS)

    start_assessment(page, base)
    assessment_id = assessment_id_of(app, resume_link(page, base))
    expect(block(page, "profile.business_name")).to_be_visible()

    def backup(p):
        # Without JavaScript the follow-ups stay hidden until the answer is saved.
        expect(block(p, "backup.scope")).to_be_hidden()
        return set()

    bounced = walk_sections(page, sections, js=False, custom={"backup": backup})
    # backup.automatic = daily reveals backup.scope (and the other follow-ups) only once saved;
    # incidents.happened does the same for incidents.kinds.
    assert bounced.get("backup") == ["q-backup.scope"]
    assert bounced.get("incidents") == ["q-incidents.kinds"]
    assert set(bounced) == {"backup", "incidents"}
    # What the page hid once its answers were saved is not kept (and the next page said so):
    # yearly sales, typed before the hourly cost was saved, and who looks after IT, for an owner
    # who pays an IT company.
    assert stored_raw(app, assessment_id) == asked(app, ANSWERS)

    check_review(page, result)
    response = submit(page, "Finish and see your results")
    assert redirect_status(response) == 303
    check_results(page, base, result)


# --- 3. Back and refresh ----------------------------------------------------------------


def test_back_and_refresh_keep_answers(live_server, nojs_page):
    page = nojs_page
    base = live_server.url
    start_assessment(page, base)
    page.goto(base + section_path("monitoring"))
    given = {qid: ANSWERS[qid] for qid in
             ("monitoring.watched", "monitoring.alerts", "monitoring.maintenance")}
    for qid, raw in given.items():
        answer_question(page, qid, raw, js=False)
    submit(page, "Save and continue")
    assert path_of(page.url) == section_path("patching")

    response = page.go_back()
    assert path_of(page.url) == section_path("monitoring")
    assert response is None or response.status == 200
    for qid, raw in given.items():
        assert_shown(page, qid, raw)
    page.reload()
    for qid, raw in given.items():
        assert_shown(page, qid, raw)

    # What the server sends for that page (no browser form restoring involved).
    other = page.context.new_page()
    other.goto(base + section_path("monitoring"))
    for qid, raw in given.items():
        assert_shown(other, qid, raw)
    other.close()

    # Forward again: the next section, nothing resubmitted or duplicated.
    page.go_forward()
    assert path_of(page.url) == section_path("patching")


# --- 4. Resume through the private link -------------------------------------------------


def test_resume_link_lands_on_first_unanswered_question(live_server, page, browser):
    base, app = live_server.url, live_server.app
    start_assessment(page, base)
    page.goto(base + section_path("monitoring"))
    for qid in ("monitoring.watched", "monitoring.alerts"):
        answer_question(page, qid, ANSWERS[qid], js=True)

    page.goto(base + "/assessment/")
    link = page.locator("#resume-link").input_value()
    token = link.rsplit("/", 1)[-1]
    assert len(token) >= 40, f"the private link's token looks too short: {link}"
    assert path_of(link) == f"/assessment/resume/{token}"

    context = browser.new_context(**DESKTOP)
    try:
        other = context.new_page()
        response = other.goto(link)
        assert response.status == 200
        assert redirect_status(response) == 303
        assert token not in other.url, "the token stays in the address bar"
        assert path_of(other.url) == section_path("monitoring")
        assert fragment_of(other.url) == "q-monitoring.maintenance"
        assert_shown(other, "monitoring.watched", ANSWERS["monitoring.watched"])
        assert_shown(other, "monitoring.alerts", ANSWERS["monitoring.alerts"])
        # The other browser now works on the same assessment.
        assert assessment_id_of(app, resume_link(other, base)) == \
            assessment_id_of(app, link)
    finally:
        context.close()


def test_wrong_resume_link_is_friendly(live_server, page):
    base = live_server.url
    response = page.goto(base + "/assessment/resume/nonsense")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("This link does not open an assessment")
    assert "Traceback" not in page.content()
    response = submit(page, "Start a new assessment")
    assert redirect_status(response) == 303
    assert path_of(page.url) == section_path("profile")


def test_no_session_page_offers_a_start(live_server, page):
    """Without its session an assessment page is a friendly 404 that offers a fresh start."""
    response = page.goto(live_server.url + "/assessment/")
    assert response.status == 404
    assert path_of(page.url) == "/assessment/"
    expect(page.locator("h1")).to_have_text("No assessment is open in this browser")
    submit(page, "Start a new assessment")
    assert path_of(page.url) == section_path("profile")


def focused_question(page: Any) -> str | None:
    return page.evaluate(
        "() => document.activeElement.closest('[data-question]')?.dataset.question ?? null")


def test_links_to_a_question_put_focus_on_it(live_server, page, finished_link):
    """The hub's "Continue" link and the review's "Change" links point at a question
    (#q-<id>); the page script says it moves focus to that question's first input."""
    base = live_server.url
    start_assessment(page, base)
    page.goto(base + "/assessment/")
    with page.expect_navigation():
        page.get_by_role("link", name="Continue where you left off").click()
    # Nothing answered yet: the assessment starts at the company profile.
    assert fragment_of(page.url) == "q-profile.business_name"
    page.wait_for_load_state("load")
    assert focused_question(page) == "profile.business_name", (
        "after following the hub's Continue link focus is on "
        + page.evaluate("() => document.activeElement.tagName"))

    # Another assessment is open in this browser: the link asks first, then opens the finished
    # one on its results.
    page.goto(finished_link)
    assert path_of(page.url) == "/assessment/switch"
    submit(page, "Open the assessment from the link")
    assert path_of(page.url) == "/assessment/results"
    page.goto(base + "/assessment/review")
    row = page.locator(".review-row").filter(
        has_text="When did someone last prove the backups work")
    with page.expect_navigation():
        row.get_by_role("link", name=re.compile(r"^Change")).click()
    assert fragment_of(page.url) == "q-backup.restore_tested"
    page.wait_for_load_state("load")
    assert focused_question(page) == "backup.restore_tested", (
        "after following a Change link focus is on "
        + page.evaluate("() => document.activeElement.tagName"))


def test_results_open_with_the_brief(live_server, page, finished_link, screenshot):
    """Opened from its private link, a finished assessment's results lead with the brief: the
    same verdict, risks, first steps and provider questions as the report's first pages."""
    page.goto(finished_link)
    page.goto(live_server.url + "/assessment/results")
    check_results(page, live_server.url, expected_result(live_server.app, ANSWERS))
    screenshot(page, "wizard-results-brief")


def test_review_shows_figures_as_people_write_them(live_server, page, finished_link):
    """The review lists the figures the way they were typed, with thousands separators."""
    page.goto(finished_link)  # a finished assessment opens on its results
    assert path_of(page.url) == "/assessment/results"
    page.goto(live_server.url + "/assessment/review")
    rows = page.locator(".review-row")
    figures = {  # (yearly sales are not asked: the hourly cost of downtime is given)
        "Roughly what does one hour cost the business": "$850",
        "What did you pay for IT support in the last 12 months?": "18,400",
        "Of that amount, roughly how much was for fixing things": "15,900",
    }
    for question, shown in figures.items():
        answer = rows.filter(has_text=question).locator("dd").first
        expect(answer, f"the review shows {question!r} unreadably").to_contain_text(shown)


def test_results_charts_fit_their_space(live_server, page, finished_link):
    """Chart labels are not hidden under the bars or cut off at the edge of the chart."""
    page.goto(finished_link)
    page.goto(live_server.url + "/assessment/results")
    problems = page.evaluate("""() => {
        const out = [];
        const bars = document.querySelector('svg[aria-labelledby=section-chart-title]');
        const rects = Array.from(bars.querySelectorAll('rect')).map(r => r.getBBox());
        bars.querySelectorAll('text.chart-label').forEach(t => {
            const box = t.getBBox();
            const hit = rects.find(r => box.x < r.x + r.width && r.x < box.x + box.width
                                        && box.y < r.y + r.height && r.y < box.y + box.height);
            if (hit) out.push(
                `section chart: label "${t.textContent}" overlaps a bar ` +
                `(label ${Math.round(box.x)},${Math.round(box.y)} ${Math.round(box.width)}x` +
                `${Math.round(box.height)}; bar at y ${Math.round(hit.y)})`);
        });
        document.querySelectorAll('figure.chart svg').forEach(svg => {
            const view = svg.viewBox.baseVal;
            svg.querySelectorAll('text').forEach(t => {
                const box = t.getBBox();
                const slack = 2;  // glyph side bearings
                if (box.y < view.y - slack || box.x < view.x - slack
                    || box.x + box.width > view.x + view.width + slack
                    || box.y + box.height > view.y + view.height + slack) out.push(
                    `${svg.getAttribute('aria-labelledby')}: text "${t.textContent}" is cut ` +
                    `off by the edge of the chart (box ${Math.round(box.x)},${Math.round(box.y)} ` +
                    `${Math.round(box.width)}x${Math.round(box.height)})`);
            });
        });
        return out;
    }""")
    assert not problems, "\n".join(problems)


# --- 5. Autosave conflict between two tabs ----------------------------------------------


def test_autosave_conflict_between_two_tabs(live_server, page, assert_no_axe_violations,
                                            screenshot):
    base, app = live_server.url, live_server.app
    start_assessment(page, base)
    assessment_id = assessment_id_of(app, resume_link(page, base))
    tab_a = page
    tab_b = page.context.new_page()
    for tab in (tab_a, tab_b):
        tab.goto(base + section_path("monitoring"))

    qid = "monitoring.watched"
    a_value = ANSWERS[qid]
    choices = block(tab_b, qid).locator("input[type=radio]").evaluate_all(
        "els => els.map(e => e.value)")
    b_value = next(v for v in choices if v != a_value)
    a_label = block(tab_a, qid).locator(f'input[value="{a_value}"] + label').inner_text().strip()

    answer_question(tab_a, qid, a_value, js=True)
    assert stored_raw(app, assessment_id)[qid] == a_value

    # Tab B still holds the page from before A's answer.
    with tab_b.expect_response(is_autosave) as info:
        block(tab_b, qid).locator(f'input[value="{b_value}"]').check()
    assert info.value.status == 409
    b_status = status(tab_b, qid)
    expect(b_status).to_contain_text(SAVED_ELSEWHERE)
    expect(b_status).to_contain_text(a_label)
    expect(b_status).not_to_contain_text("Saved")
    keep = b_status.get_by_role("button", name=re.compile("^Keep"))
    use_mine = b_status.get_by_role("button", name="Use my answer")
    expect(keep).to_be_visible()
    expect(keep).to_contain_text(a_label)
    expect(use_mine).to_be_visible()
    screenshot(tab_b, "wizard-conflict-desktop")

    # Nothing was overwritten.
    assert stored_raw(app, assessment_id)[qid] == a_value
    tab_a.reload()
    assert_shown(tab_a, qid, a_value)

    # Deliberately using B's answer saves it.
    with tab_b.expect_response(is_autosave) as info:
        use_mine.click()
    assert info.value.status == 200
    expect(b_status).to_have_text("Saved")
    assert stored_raw(app, assessment_id)[qid] == b_value
    tab_a.reload()
    assert_shown(tab_a, qid, b_value)

    # "Keep" takes the other window's answer back into the page, and saves nothing.
    qid2 = "monitoring.alerts"
    a2 = ANSWERS[qid2]
    tab_b.reload()
    tab_a.reload()
    answer_question(tab_a, qid2, a2, js=True)
    b2 = next(v for v in block(tab_b, qid2).locator("input[type=radio]").evaluate_all(
        "els => els.map(e => e.value)") if v != a2)
    with tab_b.expect_response(is_autosave) as info:
        block(tab_b, qid2).locator(f'input[value="{b2}"]').check()
    assert info.value.status == 409
    expect(status(tab_b, qid2)).to_contain_text(SAVED_ELSEWHERE)
    assert_no_axe_violations(tab_b)  # the page with the conflict message and its buttons
    status(tab_b, qid2).get_by_role("button", name=re.compile("^Keep")).click()
    assert_shown(tab_b, qid2, a2)
    assert stored_raw(app, assessment_id)[qid2] == a2
    tab_b.close()


def test_quick_changes_to_one_answer_do_not_conflict_with_themselves(live_server, page):
    """On a slow connection, ticking a second box before the first tick's autosave came back
    is not a change "in another window": the page must not report a conflict with itself, and
    the last state of the question is what ends up saved."""
    base, app = live_server.url, live_server.app
    start_assessment(page, base)
    assessment_id = assessment_id_of(app, resume_link(page, base))
    page.goto(base + section_path("backup"))
    answer_question(page, "backup.automatic", "daily", js=True)

    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 300, "downloadThroughput": -1, "uploadThroughput": -1})
    replies: list[int] = []
    page.on("response", lambda r: replies.append(r.status) if is_autosave(r) else None)
    boxes = block(page, "backup.scope").locator("input[type=checkbox]")
    boxes.nth(0).check()
    page.wait_for_timeout(150)  # a person ticking two boxes in a row
    boxes.nth(1).check()
    expect(status(page, "backup.scope")).to_have_text("Saved", timeout=5_000)
    page.wait_for_timeout(700)  # every autosave has come back
    assert SAVED_ELSEWHERE not in status(page, "backup.scope").inner_text()
    assert 409 not in replies, f"the page conflicted with itself: autosave replies {replies}"
    expected = boxes.evaluate_all("els => els.filter(e => e.checked).map(e => e.value)")
    assert stored_raw(app, assessment_id)["backup.scope"] == expected


# --- 6. Validation --------------------------------------------------------------------


def test_validation_error_summary(live_server, page, assert_no_axe_violations, screenshot):
    base, app = live_server.url, live_server.app
    start_assessment(page, base)
    assessment_id = assessment_id_of(app, resume_link(page, base))
    page.goto(base + section_path("patching"))
    days = block(page, "patching.days")
    field = days.get_attribute("data-field")

    # Autosave refuses it and says why.
    box = page.locator(f"#{field}")
    with page.expect_response(is_autosave) as info:
        box.fill("lots")
        box.press("Tab")
    assert info.value.status == 422
    expect(status(page, "patching.days")).to_contain_text("Enter a number")

    # The rest answered with autosave out of the way, so only the form carries them.
    page.route("**/assessment/answer", lambda route: route.abort())
    kept = {qid: ANSWERS[qid] for qid in ("patching.who", "patching.coverage")}
    for qid, raw in kept.items():
        answer_question(page, qid, raw, js=False)
    response = submit(page, "Save and continue")
    page.unroute("**/assessment/answer")

    assert response.status == 422
    assert path_of(page.url) == section_path("patching")
    assert page.title().startswith("Error")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    assert focused_is(page, "[data-error-summary]"), "focus is not on the error summary"
    # The summary is at the top: before the first question.
    assert summary.evaluate(
        "s => !!(s.compareDocumentPosition(document.querySelector('[data-question]')) & 4)")
    link = summary.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_contain_text("Enter a number")
    assert link.get_attribute("href") == f"#{field}"
    expect(days.locator(".field-error")).to_contain_text("Enter a number")
    expect(box).to_have_value("lots")  # what was typed is there to correct
    described = (box.get_attribute("aria-describedby") or "").split()
    assert f"err-{field}" in described, "the field is not described by its error message"
    for qid, raw in kept.items():
        assert_shown(page, qid, raw)
    screenshot(page, "wizard-section-errors-desktop")
    assert_no_axe_violations(page)

    link.click()
    assert focused_is(page, f"#{field}"), "the summary link does not lead to the field"

    # Fixed, it saves and moves on.
    answer_question(page, "patching.days", " 60 ", js=True)
    response = submit(page, "Save and continue")
    assert redirect_status(response) == 303
    assert path_of(page.url) == section_path("backup")
    stored = stored_raw(app, assessment_id)
    assert stored["patching.days"] == 60
    for qid, raw in kept.items():
        assert stored[qid] == raw


# --- 7. An expired session never eats answers -----------------------------------------


def test_expired_session_keeps_answers(live_server, page, assert_no_axe_violations):
    base, app = live_server.url, live_server.app
    start_assessment(page, base)
    assessment_id = assessment_id_of(app, resume_link(page, base))
    page.goto(base + section_path("monitoring"))
    old_token = page.locator("input[name=csrf_token]").input_value()

    page.context.clear_cookies()
    given = {qid: ANSWERS[qid] for qid in
             ("monitoring.watched", "monitoring.alerts", "monitoring.maintenance")}
    for qid, raw in given.items():
        with page.expect_response(is_autosave) as info:
            block(page, qid).locator(f'input[value="{raw}"]').check()
        assert info.value.status in (400, 401)
        expect(status(page, qid)).to_contain_text("Press Save")
        expect(status(page, qid)).not_to_have_text("Saved")

    response = submit(page, "Save and continue")
    assert response.status == 400
    assert path_of(page.url) == section_path("monitoring")
    expect(page.locator(".notice")).to_contain_text("not saved yet")
    for qid, raw in given.items():
        assert_shown(page, qid, raw)
    new_token = page.locator("input[name=csrf_token]").input_value()
    assert new_token and new_token != old_token, "the page came back without a fresh token"
    assert not set(given) & set(stored_raw(app, assessment_id)), "saved without a valid token"
    assert_no_axe_violations(page)

    response = submit(page, "Save and continue")
    assert redirect_status(response) == 303
    assert path_of(page.url) == section_path("patching")
    page.goto(base + section_path("monitoring"))
    for qid, raw in given.items():
        assert_shown(page, qid, raw)
    stored = stored_raw(app, assessment_id)
    assert {qid: stored.get(qid) for qid in given} == given


# --- 8. Accessibility (axe-core) on every page type -----------------------------------


def _axe_pages(page: Any, axe: Any, base: str, visits: list[tuple[str, str]]) -> list[str]:
    problems = []
    for name, url in visits:
        response = page.goto(base + url if url.startswith("/") else url)
        assert response is not None
        violations = axe(page)
        if violations:
            problems.append(f"[{name}] " + format_axe_violations(page.url, violations))
    return problems


def test_axe_desktop_every_page_type(live_server, page, axe, finished_link):
    base = live_server.url
    problems = _axe_pages(page, axe, base, [
        ("landing", "/"),
        ("no session", "/assessment/"),
        ("bad resume link", "/assessment/resume/nonsense"),
        ("results from the link", finished_link),  # a finished assessment opens on them
        ("review", "/assessment/review"),
        ("profile section", section_path("profile")),
        ("scored section with follow-ups", section_path("backup")),
        ("hub", "/assessment/"),
        ("results", "/assessment/results"),
    ])
    assert not problems, "\n\n".join(problems)


def test_phone_pages_axe_layout_and_screenshots(live_server, phone_page, axe, finished_link,
                                                screenshot):
    page = phone_page
    base = live_server.url
    problems = []
    visits = [
        ("landing", "/", True),
        ("review", finished_link, False),
        ("section", section_path("backup"), True),
        ("hub", "/assessment/", False),
        ("results", "/assessment/results", True),
    ]
    for name, url, run_axe in visits:
        response = page.goto(base + url if url.startswith("/") else url)
        assert response.status == 200, f"{name}: {response.status}"
        if name == "review":  # the private link of a finished assessment opens its results
            assert path_of(page.url) == "/assessment/results"
            page.goto(base + "/assessment/review")
        if run_axe:
            violations = axe(page)
            if violations:
                problems.append(f"[{name} on a phone] "
                                + format_axe_violations(page.url, violations))
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right
                             > document.documentElement.clientWidth + 1)
                .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                    + (e.className && typeof e.className === 'string'
                       ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))""")
            problems.append(f"[{name} on a phone] the page is {overflow}px wider than the "
                            f"screen: {wide}")
        screenshot(page, f"wizard-{name}-phone")
    assert not problems, "\n\n".join(problems)


# --- 10. Keyboard -----------------------------------------------------------------------


def test_keyboard_on_a_section_page(live_server, page):
    base = live_server.url
    start_assessment(page, base)
    page.goto(base + section_path("monitoring"))
    assert focused_is(page, "h1")
    first = block(page, "monitoring.watched")
    field = first.get_attribute("data-field")
    radios = first.locator("input[type=radio]")

    for _ in range(10):
        page.keyboard.press("Tab")
        if focused_is(page, "input[type=radio]"):
            break
    assert focused_is(page, f"#{field}-0"), "Tab does not reach the first radio of the page"
    assert_focus_visible(page)

    with page.expect_response(is_autosave) as info:
        page.keyboard.press("Space")
    assert info.value.status == 200
    expect(radios.nth(0)).to_be_checked()

    with page.expect_response(is_autosave):
        page.keyboard.press("ArrowDown")
    assert focused_is(page, f"#{field}-1"), "ArrowDown does not move within the radio group"
    expect(radios.nth(1)).to_be_checked()
    assert_focus_visible(page)
    with page.expect_response(is_autosave):
        page.keyboard.press("ArrowUp")
    assert focused_is(page, f"#{field}-0")
    expect(radios.nth(0)).to_be_checked()
    expect(status(page, "monitoring.watched")).to_have_text("Saved")

    # Tab leaves the group for the next question's controls, not the next radio of the group.
    page.keyboard.press("Tab")
    assert not focused_is(page, '[data-question="monitoring.watched"] input[type=radio]')
    assert_focus_visible(page)
