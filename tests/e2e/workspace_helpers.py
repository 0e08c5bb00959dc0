"""Helpers for the consultant workspace's browser tests: extra browser contexts, signing in through
the real sign-in page, the owner's walk through the wizard, and reading what the server stored."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from conftest import DEFAULT_TIMEOUT_MS, DESKTOP
from playwright.sync_api import expect
from wizard_helpers import asked, path_of, redirect_status, submit

SIGN_IN = "/account/sign-in"


# --- browser contexts and signing in ------------------------------------------------------


@contextmanager
def other_page(browser: Any, **options: Any) -> Iterator[Any]:
    """A page in a new browser context of its own (another person: own cookies, own session)."""
    context = browser.new_context(**(options or DESKTOP))
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Any, base: str, member: dict) -> None:
    """Sign in through the sign-in page like a person: type, press the button, land in the
    workspace (the Clients page)."""
    page.goto(base + SIGN_IN)
    page.get_by_label("Email address").fill(member["email"])
    page.get_by_label("Password").fill(member["password"])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    assert path_of(page.url) == "/workspace/", f"sign-in did not land in the workspace: {page.url}"
    expect(page.locator("h1")).to_have_text("Clients")


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert path_of(page.url) == SIGN_IN
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def add_client(page: Any, base: str, name: str, sector: str = "", size: str = "") -> int:
    """Add a client on the Clients page; returns its id (from the client page it lands on)."""
    if path_of(page.url) != "/workspace/":
        page.goto(base + "/workspace/")
    page.get_by_label("Client name").fill(name)
    if sector:
        page.get_by_label("Sector").fill(sector)
    if size:
        page.get_by_label("Size (for example, number of staff)").fill(size)
    response = submit(page, "Add client")
    assert redirect_status(response) == 303, "adding a client is not POST/redirect/GET"
    found = re.fullmatch(r"/workspace/clients/(\d+)", path_of(page.url))
    assert found, f"adding a client did not open its page: {page.url}"
    expect(page.locator("h1")).to_have_text(name)
    return int(found.group(1))


def assessment_in(url: str) -> str:
    """The id of the assessment a workspace address is about: its page, or one of its
    interview sections (where "Start an interview" lands)."""
    found = re.search(r"/workspace/assessments/([^/?#]+)", url)
    assert found, f"not an assessment's address: {url}"
    return found.group(1)


def shown_link(page: Any) -> str:
    """The link on a "link for your client / owner" page (#share-link)."""
    link = page.locator("#share-link").input_value()
    assert link.startswith("http"), f"#share-link holds {link!r}"
    return link


def open_client_link(page: Any, link: str, button: str = "Start the health check") -> Any:
    """Open a firm's self-assessment link as its client does: the welcome page, then its
    button. Returns the response the button leads to."""
    response = page.goto(link)
    assert response.status == 200, f"a client's link answers {response.status}"
    expect(page.locator("h1")).to_contain_text("Your IT health check with")
    return submit(page, button)


# --- the owner's side -------------------------------------------------------------------------


def answered_directly(app: Any, assessment_id: str, answers: dict[str, Any]) -> None:
    """Every answer of the set that the bank asks given the others, saved as the owner's
    straight into the database: what an owner's walk through every section stores (the walk
    itself is the subject of tests/e2e/test_wizard.py; here it would only take time)."""
    from assessment.core.scoring import parse_answer
    from assessment.storage import save_answer, stored_answers

    bank = app.extensions["bank"]
    with database(app) as db:
        saved = stored_answers(db, assessment_id, "owner")  # a name filled in from records
        for qid, raw in asked(app, answers).items():
            save_answer(db, assessment_id, qid, source="owner",
                        base_version=saved[qid].version if qid in saved else 0,
                        answer=parse_answer(bank.question_by_id[qid], raw))


def finish_from_review(page: Any, base: str) -> None:
    """Check your answers (nothing missing), press Finish, land on the results."""
    page.goto(base + "/assessment/review")
    expect(page.locator(".review-row.missing")).to_have_count(0)
    response = submit(page, "Finish and see your results")
    assert redirect_status(response) == 303
    assert path_of(page.url) == "/assessment/results"


# --- what the server stored -------------------------------------------------------------------


@contextmanager
def database(app: Any) -> Iterator[Any]:
    """The live server's database, opened the way the app opens it."""
    from assessment.storage import connect
    from assessment.support.config import database as target

    db = connect(target(app.config))
    try:
        yield db
    finally:
        db.close()


def raw_answers(app: Any, assessment_id: str, source: str) -> dict[str, Any]:
    """One source's answers (owner or consultant), in the answers-file shape."""
    from assessment.storage import stored_answers
    from assessment.web.section_page import raw_of

    with database(app) as db:
        stored = stored_answers(db, assessment_id, source)
    return {qid: raw_of(s.answer) for qid, s in stored.items() if s.answer}


def stored(app: Any, assessment_id: str, source: str) -> dict[str, Any]:
    from assessment.storage import stored_answers

    with database(app) as db:
        return stored_answers(db, assessment_id, source)


def effective_result(app: Any, assessment_id: str) -> Any:
    """The assessment scored as the workspace scores it (consultant's answer, else owner's)."""
    from assessment.core.scoring import score
    from assessment.storage import answers_for_scoring, bank_of, get_assessment

    with database(app) as db:
        record = get_assessment(db, assessment_id)
        return score(bank_of(db, record), answers_for_scoring(db, assessment_id))


def assessment_row(app: Any, assessment_id: str) -> dict:
    from assessment.storage import get_assessment

    with database(app) as db:
        return get_assessment(db, assessment_id)


def client_assessments(app: Any, firm_id: int, client_id: int) -> list[dict]:
    from assessment.storage import clients

    with database(app) as db:
        return clients.client_assessments(db, firm_id, client_id)


def firm_clients(app: Any, firm_id: int) -> list[dict]:
    from assessment.storage import clients

    with database(app) as db:
        return clients.list_clients(db, firm_id)


# --- files ------------------------------------------------------------------------------------


def png_logo(width: int = 240, height: int = 80) -> bytes:
    """A small PNG logo: a coloured block with a lighter bar."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (13, 92, 99))
    ImageDraw.Draw(image).rectangle([20, 25, width - 20, height - 25], fill=(245, 200, 80))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


SVG_LOGO = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="80" '
            b'height="40"><script>alert(1)</script><rect width="80" height="40" '
            b'fill="#0d5c63"/></svg>')


def pdf_text(body: bytes) -> str:
    """The text of a PDF, whitespace collapsed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    return " ".join(" ".join((p.extract_text() or "") for p in reader.pages).split())


def horizontal_overflow(page: Any) -> tuple[int, list[str]]:
    """How many pixels the page is wider than the screen, and the first elements sticking out."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = []
    if overflow > 0:
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                + (e.className && typeof e.className === 'string'
                   ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))""")
    return overflow, wide


# --- a client with some history, made through the storage layer ------------------------------


def seed_client(app: Any, member: dict, name: str, answers: dict[str, Any],
                changes: dict[str, Any]) -> tuple[int, str, str]:
    """A client of the member's firm with two finished assessments: the client's own (answers,
    one of them reviewed by the consultant with a note and a Verified tick) and a later
    interview started from it, with `changes` made. Returns (client id, first id, second id)."""
    from assessment.core.scoring import parse_answer
    from assessment.storage import clients, save_answer, set_status
    from assessment.web import owner

    bank = app.extensions["bank"]

    def parsed(qid, raw):
        return parse_answer(bank.question_by_id[qid], raw)

    with database(app) as db:
        client_id = clients.create_client(db, member["firm_id"], name=name, sector="Retail",
                                          size="12 staff")
        _, token_hash = owner.new_resume_token()
        first = clients.start_client_assessment(db, bank, member["firm_id"], client_id,
                                                mode="self", created_by=member["user_id"],
                                                resume_token_hash=token_hash)
        for qid, raw in answers.items():
            save_answer(db, first, qid, base_version=0, source="owner", answer=parsed(qid, raw))
        save_answer(db, first, "monitoring.watched", base_version=0, source="consultant",
                    answer=parsed("monitoring.watched", "office_hours"), verified=True,
                    note="Checked the monitoring console together: office hours only.",
                    answered_by=member["user_id"])
        set_status(db, first, "finished")
        second = clients.start_client_assessment(db, bank, member["firm_id"], client_id,
                                                 mode="interview", created_by=member["user_id"],
                                                 copy_from=first)
        for qid, raw in changes.items():
            save_answer(db, second, qid, base_version=1, source="consultant",
                        answer=parsed(qid, raw), answered_by=member["user_id"])
        set_status(db, second, "finished")
    return client_id, first, second


def set_logo(app: Any, member: dict, primary: str = "#1f3a5f", accent: str = "#8a3b12") -> None:
    """Give the member's firm a logo, colours and a contact line (as the branding page would)."""
    from assessment.storage import accounts
    from assessment.support.branding import clean_logo

    with database(app) as db:
        name = accounts.firm_branding(db, member["firm_id"])["name"]
        accounts.update_branding(db, member["firm_id"], name=name, logo=clean_logo(png_logo()),
                                 primary_colour=primary, accent_colour=accent,
                                 contact_line="0161 555 0100 · hello@example.com",
                                 disclaimer="A guide to priorities, not a security audit.")


def chart_text_problems(page: Any, svg_selector: str, min_px: float = 10.0) -> list[str]:
    """Texts of an SVG chart that stick out of the chart, or are drawn smaller than min_px."""
    return page.evaluate("""([selector, minPx]) => {
        const svg = document.querySelector(selector);
        if (!svg) return [`no chart ${selector}`];
        const box = svg.getBoundingClientRect();
        const out = [];
        svg.querySelectorAll('text').forEach(t => {
            const r = t.getBoundingClientRect();
            if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5
                    || r.bottom > box.bottom + 0.5)
                out.push(`"${t.textContent}" sticks out of the chart (text ${Math.round(r.left)}`
                         + `-${Math.round(r.right)}px, chart ${Math.round(box.left)}`
                         + `-${Math.round(box.right)}px)`);
            const scale = svg.getScreenCTM() ? svg.getScreenCTM().a : 1;
            const px = parseFloat(getComputedStyle(t).fontSize) * scale;
            if (px < minPx) out.push(`"${t.textContent}" is drawn at ${px.toFixed(1)}px`);
        });
        return out;
    }""", [svg_selector, min_px])
