"""Ask the one who knows, in a real browser: an owner hands a section to their IT provider, the
provider answers it in a browser of their own, the owner sees the answers and queries one, and
the provider sees the query. Every page is checked with axe-core. Screenshots go to
tests/artifacts/screenshots/handoff-*.png.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from conftest import DESKTOP, LiveServer
from playwright.sync_api import expect
from werkzeug.serving import make_server
from wizard_helpers import path_of
from workspace_helpers import other_page

from tests.test_handoff import handoff_bank

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on the small test bank, whose email question owners rarely know."""
    from assessment import create_app

    folder = tmp_path_factory.mktemp("handoff_server")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(folder / "db"),
                      "DATABASE_URL": None, "BANK_DIR": str(handoff_bank(folder / "bank"))})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live_server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_an_owner_hands_a_section_over_and_queries_an_answer(live_server, page, browser,
                                                              screenshot,
                                                              assert_no_axe_violations):
    base = live_server.url
    page.goto(base + "/")
    page.get_by_role("button", name="Start").first.click()
    expect(page.locator("h1")).to_have_text("Backup")
    page.goto(base + "/assessment/section/security")
    mfa = page.locator("#q-security\\.mfa")
    expect(mfa).to_contain_text("Most owners don't know this. Whoever runs your IT can answer "
                                "it in a minute.")
    mfa.get_by_label("Yes", exact=True).check()  # the owner's own guess, saved as they go
    expect(mfa.locator("[data-status]")).to_have_text("Saved")
    assert_no_axe_violations(page)
    screenshot(page, "handoff-owner-section")

    mfa.get_by_role("link", name="Ask whoever runs your IT to answer this section").click()
    expect(page.locator("h1")).to_contain_text("Ask whoever runs your IT to answer")
    assert_no_axe_violations(page)
    page.get_by_label("Who is it for?").fill("Sam at Brightline IT")
    page.get_by_role("button", name="Make the link").click()
    link = page.locator("#handoff-link").input_value()
    assert "/answer-for/" in link
    assert_no_axe_violations(page)
    screenshot(page, "handoff-link")

    page.goto(base + "/assessment/")
    expect(page.locator("#s-security")).to_contain_text("Waiting for whoever runs your IT")
    expect(page.locator("#s-security")).to_contain_text("Copy a new link")
    assert_no_axe_violations(page)
    screenshot(page, "handoff-hub-waiting")

    with other_page(browser, **DESKTOP) as provider:
        provider.goto(link)
        expect(provider.locator("h1")).to_contain_text("Security")
        main = provider.locator("main")
        expect(main).to_contain_text("In technical terms: MFA enforced on every mailbox")
        expect(main).not_to_contain_text("Is data backed up automatically?")
        their_mfa = provider.locator("#q-security\\.mfa")
        # Not anchored by the owner's own answer.
        expect(their_mfa.get_by_label("Yes", exact=True)).not_to_be_checked()
        their_mfa.get_by_label("No", exact=True).check()
        expect(their_mfa.locator("[data-status]")).to_have_text("Saved")
        their_mfa.get_by_label("Your note").fill("Checked the admin centre: not enforced.")
        their_mfa.get_by_label("Your note").blur()
        expect(their_mfa.locator("[data-status]")).to_have_text("Saved")
        provider.locator("#q-security\\.wifi").get_by_label("Shared").check()
        provider.locator("#q-security\\.patch_days input.input-number").fill("10")
        provider.locator("#q-security\\.patch_days input.input-number").blur()
        expect(provider.locator("#q-security\\.patch_days [data-status]")).to_contain_text(
            "Saved")
        assert_no_axe_violations(provider)
        screenshot(provider, "handoff-provider-page")
        provider.get_by_role("button", name="Send the answers to").click()
        expect(provider.locator("main")).to_contain_text("Thank you")

        page.goto(base + "/assessment/section/security")
        expect(mfa).to_contain_text("Answered by whoever runs your IT: No")
        expect(mfa).to_contain_text("Their note: Checked the admin centre: not enforced.")
        expect(mfa).to_contain_text("You answered: Yes")
        assert_no_axe_violations(page)
        screenshot(page, "handoff-owner-answered")
        mfa.get_by_role("link", name="Ask them about this answer").click()
        page.get_by_label("Your question").fill("We turned it on for everyone in May?")
        page.get_by_role("button", name="Send the question with the link").click()
        assert path_of(page.url) == "/assessment/section/security"
        expect(mfa).to_contain_text("You asked them: “We turned it on for everyone in May?”")

        provider.reload()
        expect(provider.locator("#q-security\\.mfa")).to_contain_text(
            "asks: We turned it on for everyone in May?")
        assert_no_axe_violations(provider)
        screenshot(provider, "handoff-provider-query")
