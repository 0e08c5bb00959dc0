"""Helpers for the owner wizard's browser tests: answering question blocks, walking sections,
and reading what the server stored."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AUTOSAVE_PATH = "/assessment/answer"


def load_answers(name: str) -> dict[str, Any]:
    """The answers of a reference answer set in tests/fixtures."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["answers"]


def path_of(url: str) -> str:
    return urlsplit(url).path


def fragment_of(url: str) -> str:
    return urlsplit(url).fragment


def block(page: Any, question_id: str) -> Any:
    return page.locator(f'[data-question="{question_id}"]')


def status(page: Any, question_id: str) -> Any:
    return block(page, question_id).locator("[data-status]")


def is_autosave(response: Any) -> bool:
    return path_of(response.url) == AUTOSAVE_PATH and response.request.method == "POST"


def _choice_values(raw: Any) -> list[str]:
    if isinstance(raw, dict):
        return [raw["state"]]
    if isinstance(raw, list):
        return [str(v) for v in raw]
    return [str(raw)]


def _autosaved(page: Any, action) -> None:
    """Run an input action and wait until the page's autosave of it was confirmed."""
    with page.expect_response(is_autosave) as info:
        action()
    response = info.value
    assert response.status == 200, (
        f"autosave answered {response.status}: {response.text()[:300]}")


def answer_question(page: Any, question_id: str, raw: Any, *, js: bool,
                    typed: str | None = None) -> None:
    """Answer one question block the way a person would.

    raw is the answer in the answers-file shape; typed, for a number or text box, what to type
    instead of str(raw) (e.g. "$12,000"). With JavaScript on, each change is autosaved: wait for
    the server's confirmation and the block's "Saved" status before going on.
    """
    el = block(page, question_id)
    widget = el.get_attribute("data-widget")
    field = el.get_attribute("data-field")
    if widget in ("number", "text") and not isinstance(raw, dict) and el.locator(
            ".prefilled").count() and page.locator(f"#{field}").input_value() == (
            typed if typed is not None else str(raw)):
        return  # filled in from the firm's records as it should be: the section's Save keeps it
    actions = []
    if widget in ("radios", "checkboxes"):
        kind = "radio" if widget == "radios" else "checkbox"
        for value in _choice_values(raw):
            target = el.locator(f'input[type={kind}][value="{value}"]')
            expect(target).to_have_count(1)
            actions.append(target.check)
    elif widget == "number":
        if isinstance(raw, dict):
            suffix = "__not_sure" if raw["state"] == "not_sure" else "__na"
            actions.append(page.locator(f"#{field}{suffix}").check)
        else:
            text = typed if typed is not None else str(raw)
            box = page.locator(f"#{field}")

            def fill(box=box, text=text):
                box.fill(text)
                if js:
                    box.press("Tab")  # the change event fires when the box loses focus

            actions.append(fill)
    elif widget == "text":
        text = typed if typed is not None else str(raw)
        box = page.locator(f"#{field}")

        def fill(box=box, text=text):
            box.fill(text)
            if js:
                box.press("Tab")

        actions.append(fill)
    else:
        raise AssertionError(f"{question_id}: unknown widget {widget!r}")

    for action in actions:
        if js:
            _autosaved(page, action)
            # "Saved", or for a figure "Saved as £9,500": how it was read.
            expect(status(page, question_id)).to_have_text(re.compile(r"^Saved( as .+)?$"))
        else:
            action()


def question_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all("[data-question]", "els => els.map(e => e.dataset.question)")


def answer_visible(page: Any, answers: dict[str, Any], *, js: bool, skip: set[str] = frozenset(),
                   typed: dict[str, str] | None = None) -> list[str]:
    """Answer every visible question on the page that is not in skip, in page order (with
    JavaScript, follow-ups appear as earlier answers are given). Returns the ids answered."""
    done = []
    for qid in question_ids(page):
        if qid in skip or not block(page, qid).is_visible():
            continue
        assert qid in answers, f"{qid} is shown on {page.url} but the answer set has no answer"
        answer_question(page, qid, answers[qid], js=js, typed=(typed or {}).get(qid))
        done.append(qid)
    return done


def submit(page: Any, button_text: str = "Save and continue") -> Any:
    """Press a submit button; returns the final response of the navigation."""
    with page.expect_navigation() as nav:
        page.get_by_role("button", name=button_text, exact=True).click()
    return nav.value


def redirect_status(response: Any) -> int | None:
    """The status of the request that redirected to this response (None if none did)."""
    previous = response.request.redirected_from
    if previous is None:
        return None
    earlier = previous.response()
    return earlier.status if earlier else None


def resume_link(page: Any, base_url: str) -> str:
    """The private link shown on the hub, read through this page's browser context."""
    html = page.request.get(base_url + "/assessment/").text()
    found = re.search(r'id="resume-link"[^>]*value="([^"]+)"', html)
    assert found, "the hub shows no #resume-link"
    return found.group(1)


def assessment_id_of(app: Any, link: str) -> str:
    """The assessment a private link opens (through the stored hash of its token)."""
    from assessment.storage import find_by_resume_hash
    from assessment.web import owner
    from assessment.web.db import get_db

    token = link.rstrip("/").rsplit("/", 1)[-1]
    with app.app_context():
        found = find_by_resume_hash(get_db(), owner.hash_token(token))
    assert found is not None, "the private link opens no assessment"
    return found["id"]


def stored_raw(app: Any, assessment_id: str) -> dict[str, Any]:
    """The owner's saved answers, in the answers-file shape."""
    from assessment.storage import stored_answers
    from assessment.web.db import get_db
    from assessment.web.section_page import raw_of

    with app.app_context():
        stored = stored_answers(get_db(), assessment_id, "owner")
    return {qid: raw_of(s.answer) for qid, s in stored.items() if s.answer}


def make_finished_assessment(app: Any, answers: dict[str, Any], *, finish: bool = True) -> str:
    """An owner's assessment with these answers saved, and finished unless `finish` is False;
    returns its private link's path."""
    from assessment.core.scoring import parse_answer
    from assessment.storage import create_assessment, save_answer, set_status
    from assessment.web import owner
    from assessment.web.db import current_bank, get_db

    with app.app_context():
        db = get_db()
        bank = current_bank()
        token, token_hash = owner.new_resume_token()
        assessment_id = create_assessment(db, bank, resume_token_hash=token_hash)
        for qid, raw in answers.items():
            save_answer(db, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], raw))
        if finish:
            set_status(db, assessment_id, "finished")
    return f"/assessment/resume/{token}"


def focused_is(page: Any, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)",
                         selector)


def expected_result(app: Any, answers: dict[str, Any]) -> Any:
    """What scoring makes of an answer set (to compare the results page against)."""
    from assessment.core.scoring import parse_answer, score
    from assessment.web.db import current_bank

    with app.app_context():
        bank = current_bank()
    parsed = {qid: parse_answer(bank.question_by_id[qid], raw) for qid, raw in answers.items()}
    return score(bank, parsed)


def asked(app: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers of a set that the bank asks given the others (yearly sales beside an hourly
    cost, say, are not asked, so not kept): what an owner who types them all ends up with."""
    applies = {o.question.id for o in expected_result(app, answers).outcomes if o.applicable}
    return {qid: raw for qid, raw in answers.items() if qid in applies}


def assert_shown(page: Any, question_id: str, raw: Any) -> None:
    """The question block shows this answer as selected or typed."""
    el = block(page, question_id)
    widget = el.get_attribute("data-widget")
    field = el.get_attribute("data-field")
    if widget in ("radios", "checkboxes"):
        kind = "radio" if widget == "radios" else "checkbox"
        wanted = set(_choice_values(raw))
        for value in el.locator(f"input[type={kind}]").evaluate_all("els => els.map(e => e.value)"):
            box = el.locator(f'input[type={kind}][value="{value}"]')
            if value in wanted:
                expect(box, f"{question_id}: {value} should be selected").to_be_checked()
            else:
                expect(box, f"{question_id}: {value} should not be selected").not_to_be_checked()
    elif widget == "number" and isinstance(raw, dict):
        expect(page.locator(f"#{field}__{raw['state']}")).to_be_checked()
    elif widget == "number":
        shown = page.locator(f"#{field}").input_value()
        number = float(re.sub(r"[\s,_$£€¥]", "", shown) or "nan")
        assert number == float(raw), f"{question_id} shows {shown!r}, expected {raw!r}"
    else:
        expect(page.locator(f"#{field}")).to_have_value(str(raw))


def assert_focus_visible(page: Any) -> None:
    """The element in focus shows a focus ring (an outline or a box shadow)."""
    style = page.evaluate("""() => {
        const s = getComputedStyle(document.activeElement);
        return {outline: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow,
                element: document.activeElement.outerHTML.slice(0, 120)};
    }""")
    ring = (style["outline"] != "none" and style["width"] != "0px") or style["shadow"] != "none"
    assert ring, f"no visible focus on {style['element']}: {style}"
