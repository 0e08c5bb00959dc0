"""An answer given while the service cannot be reached is not lost: the page keeps trying, keeps
the answer in the browser, and sends it when the service is back, even after a reload.

The service's outage is played by the browser's own network layer (Playwright's routing): every
autosave answers 503 with Retry-After, as the app does while its database is away
(tests/test_outages.py shows the app's side)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from wizard_helpers import (AUTOSAVE_PATH, assessment_id_of, block, make_finished_assessment,
                            status, stored_raw)

pytestmark = pytest.mark.e2e

QUESTION = "monitoring.watched"
OUTAGE = "kept in this browser"


def out_of_service(route: Any) -> None:
    route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json",
                  body=json.dumps({"message": "We will be back in a minute."}))


def kept(page: Any) -> dict:
    return page.evaluate("""() => Object.fromEntries(Object.keys(localStorage)
        .filter(k => k.startsWith("it-health:unsent:"))
        .map(k => [k, JSON.parse(localStorage.getItem(k))]))""")


def test_an_answer_given_during_an_outage_is_kept_and_sent_when_the_service_is_back(
        live_server, page):
    link = make_finished_assessment(live_server.app, {"profile.business_name": "Harbour Dental"},
                                    finish=False)
    page.goto(live_server.url + link)
    page.goto(live_server.url + "/assessment/section/monitoring")
    page.on("dialog", lambda dialog: dialog.accept())  # "leave with unsaved changes?" on reload

    autosave = re.compile(re.escape(AUTOSAVE_PATH) + r"$")
    page.route(autosave, out_of_service)
    block(page, QUESTION).get_by_label("Only during office hours").click()
    status(page, QUESTION).filter(has_text=OUTAGE).wait_for()
    [(_, entry)] = kept(page).items()
    assert entry[QUESTION]["answer"] == "office_hours"

    # The owner opens the page afresh while the service is still away (a new navigation: the
    # browser restores nothing by itself): the answer is shown again, from what was kept.
    page.goto(live_server.url + "/assessment/section/monitoring")
    choice = block(page, QUESTION).get_by_label("Only during office hours")
    choice.wait_for()
    assert choice.is_checked()
    status(page, QUESTION).filter(has_text=OUTAGE).wait_for()

    # The service is back: the kept answer is sent, saved, and no longer kept.
    page.unroute(autosave)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")  # back online: try now
    status(page, QUESTION).filter(has_text=re.compile(r"^Saved$")).wait_for()  # not "Not saved"
    assert kept(page) == {}
    assessment_id = assessment_id_of(live_server.app, link)
    assert stored_raw(live_server.app, assessment_id)[QUESTION] == "office_hours"
