"""Quarterly reviews (QBR): what a review says (core/review.py) on fixtures a consultant would
recognise, the review pack read back from a real PDF, and the workspace's review pages on both
engines: starting one, deciding proposed actions, the headline, locking for good (the stored
PDF served byte for byte after later edits), and another firm getting 404 everywhere.

Three PDFs are rendered in the whole module: the pack of 40 actions once (no database), and one
locked review's pack per engine. Every other download is of stored bytes or a stand-in."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date, timedelta

import pikepdf
import pytest
from pikepdf import Name
from PIL import Image
from pypdf import PdfReader

from assessment import create_app
from assessment.core.actions import Action, Event, Move, Status, decide
from assessment.core.review import (
    FinishedScore,
    ReviewContent,
    build_review,
    default_period,
    period_problem,
)
from assessment.report import Branding, RenderError
from assessment.report.review_pack import render_pack
from assessment.storage import actions, connect
from assessment.storage import clients as clients_store
from assessment.storage import reviews as store
from assessment.support.config import database
from assessment.web.workspace import reviews as review_views

from .pdf_structure import all_struct_elements, read_content, struct_elements_in_tree
from .workspace_fixtures import csrf_token, every_row, two_firms_signed_in

pytestmark = pytest.mark.both_backends

START, END, TODAY = date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 5)
DUE = date(2026, 12, 1)


def action(**fields) -> Action:
    base = dict(id=1, client_id=1, title="Turn on two-step sign-in for email",
                why="A stolen password opens every mailbox.", workstream="Identity",
                party="provider", score_gain=2)
    return Action(**{**base, **fields})


def known_fixture() -> list[Action]:
    """10 agreed and due in the quarter: 6 verified on time, 1 verified late, 1 claimed done,
    2 overdue; besides them, what a review must not count as a promise of the quarter."""
    made: list[Action] = []

    def add(status, party, title, verified_on=None, pushes=0, due=DUE, **more):
        made.append(action(id=len(made) + 1, status=status, party=party, title=title,
                           due=due, original_due=DUE, verified_on=verified_on, pushes=pushes,
                           person="Sam", **more))

    for number, party in enumerate(("provider",) * 4 + ("client",) * 2, start=1):
        add(Status.VERIFIED, party, f"Kept promise {number}", verified_on=date(2026, 11, 20))
    add(Status.VERIFIED, "provider", "Backups tested, late", verified_on=date(2026, 12, 11),
        pushes=1, due=date(2026, 12, 15))
    add(Status.DONE, "client", "Staff trained, says the client", done_on=date(2026, 12, 20))
    add(Status.AGREED, "vendor", "Firewall replaced", pushes=2, due=date(2026, 12, 20))
    add(Status.IN_PROGRESS, "provider", "Laptops encrypted")
    made += [
        action(id=90, status=Status.PROPOSED, title="Proposed, not a promise", severity="serious",
               cost_low=200, cost_high=600, currency="gbp", score_gain=6, due=date(2027, 2, 1)),
        action(id=91, status=Status.PROPOSED, title="Another proposal", score_gain=9),
        action(id=92, status=Status.AGREED, title="Due next quarter", due=date(2027, 3, 1),
               original_due=date(2027, 3, 1)),
        action(id=93, status=Status.VERIFIED, title="Kept last quarter",
               original_due=date(2026, 8, 1), due=date(2026, 8, 1),
               verified_on=date(2026, 7, 30)),
        action(id=94, status=Status.RISK_ACCEPTED, title="Old server kept", party="client",
               accepted_by="Jo Owner", accepted_until=date(2027, 6, 30)),
        # Proven by an assessment before anyone agreed it (so never a promise), failing now.
        action(id=95, status=Status.REGRESSED, title="Antivirus off again", actual_cost=450,
               cost_low=300, cost_high=500, currency="gbp"),
        # Due next quarter, claimed done early; the assessment of 28 December says otherwise.
        action(id=96, status=Status.NOT_CONFIRMED, title="Guest wifi separated",
               original_due=date(2027, 2, 1), due=date(2027, 2, 1), done_on=date(2026, 12, 2)),
    ]
    return made


SCORES = [FinishedScore("a1", date(2026, 9, 20), 58), FinishedScore("a2", date(2026, 12, 28), 66)]
EVENTS = {
    90: [Event(who="assessment", on=date(2026, 12, 28), from_status=None,
               to_status=Status.PROPOSED)],
    95: [Event(who="assessment", on=date(2026, 12, 28), from_status=Status.VERIFIED,
               to_status=Status.REGRESSED)],
    96: [Event(who="assessment", on=date(2026, 12, 28), from_status=Status.DONE,
               to_status=Status.NOT_CONFIRMED)],
}


def review_of(made: list[Action], scores=SCORES, events=EVENTS) -> ReviewContent:
    return build_review(client_name="Harbour Dental", actions=made, events=events,
                        scores=scores, period_start=START, period_end=END, today=TODAY)


# ---- what a review says ----------------------------------------------------------------------

def test_promises_kept_on_time_and_slippage_by_party_on_a_known_fixture():
    content = review_of(known_fixture())
    totals = content.totals
    assert (totals.promises, totals.kept, totals.on_time, totals.late) == (10, 7, 6, 1)
    assert (totals.claimed, totals.overdue, totals.pushes, totals.pushed_twice) == (1, 2, 3, 1)
    parties = {card.party: card for card in content.by_party}
    assert [card.label for card in content.by_party] == ["IT provider", "Your business",
                                                         "Other vendor"]
    provider, client, vendor = parties["provider"], parties["client"], parties["vendor"]
    assert (provider.promises, provider.kept, provider.on_time, provider.overdue) == (6, 5, 4, 1)
    assert (client.promises, client.kept, client.claimed) == (3, 2, 1)
    assert (vendor.promises, vendor.kept, vendor.overdue, vendor.pushed_twice) == (1, 0, 1, 1)
    assert content.promises_line == "7 of 10 promises kept"
    # The promises of the quarter, with the date first agreed and how late each is; the one
    # kept last quarter, the one due next quarter and the proposals are not among them.
    rows = {row.title: row for row in content.promised}
    assert len(rows) == 10 and "Kept last quarter" not in rows and "Due next quarter" not in rows
    late = rows["Backups tested, late"]
    assert (late.original_due, late.due, late.pushes, late.days_late) == (
        DUE, date(2026, 12, 15), 1, 10)
    assert rows["Firewall replaced"].days_late == (END - DUE).days  # overdue to the period end
    assert rows["Firewall replaced"].status_label == "Agreed"
    assert rows["Staff trained, says the client"].done_on == date(2026, 12, 20)


def test_the_plan_against_the_score_names_the_slipped_promises():
    content = review_of(known_fixture())
    scores = content.scores
    assert (scores.last, scores.now) == (58, 66)
    # Since the last assessment (20 September) 10 promises fell due, at 2 points each.
    assert scores.projected == 58 + 10 * 2 and scores.gap == 12
    assert {s.title for s in scores.slipped} == {"Staff trained, says the client",
                                                 "Firewall replaced", "Laptops encrypted"}
    assert content.headline_draft == "7 of 10 promises kept; score 58 → 66, the plan said 78"
    bigger = [replace(a, score_gain=5) if a.title == "Laptops encrypted" else a
              for a in known_fixture()]
    slipped = review_of(bigger).scores.slipped
    assert slipped[0].title == "Laptops encrypted" and slipped[0].score_gain == 5
    # One finished assessment: a score, nothing to hold it against yet.
    alone = review_of(known_fixture(), scores=SCORES[1:])
    assert (alone.scores.now, alone.scores.last, alone.scores.projected) == (66, None, None)
    assert alone.headline_draft == "7 of 10 promises kept; score 66"


def test_changes_decisions_the_next_90_days_risks_and_spend():
    content = review_of(known_fixture())
    assert [(c.kind, c.title) for c in content.changes] == [
        ("regressed", "Antivirus off again"), ("not_confirmed", "Guest wifi separated"),
        ("new", "Proposed, not a promise")]
    # The critical finding first, then by score gain.
    assert [d.title for d in content.decisions] == ["Proposed, not a promise",
                                                    "Another proposal"]
    assert content.decisions[0].cost_low == 200 and content.decisions[0].currency == "gbp"
    upcoming = {row.title: row for row in content.next_90_days}
    assert upcoming["Due next quarter"].overdue is False
    assert upcoming["Firewall replaced"].overdue is True
    assert "Staff trained, says the client" not in upcoming  # claimed done: not open work
    assert [(r.title, r.accepted_by, r.accepted_until) for r in content.accepted_risks] == [
        ("Old server kept", "Jo Owner", date(2027, 6, 30))]
    assert [(r.title, r.actual) for r in content.spend] == [("Antivirus off again", 450)]
    assert content.spend_totals == (300, 500, 450) and content.currency == "gbp"


def test_the_snapshot_round_trips_exactly():
    content = review_of(known_fixture()).with_words(
        headline="A good quarter, with two slips", notes="Budget agreed for Q1.",
        next_review=date(2027, 3, 31))
    kept = content.to_json()
    back = ReviewContent.from_json(kept)
    assert back == content and back.to_json() == kept
    assert back.shown_headline == "A good quarter, with two slips"
    assert isinstance(back.promised[0].original_due, date)
    with pytest.raises(ValueError):
        ReviewContent.from_json('{"format": 99}')


def test_the_period_a_review_may_cover():
    assert period_problem(date(2026, 10, 1), date(2026, 12, 31)) is None
    assert "ends before it starts" in period_problem(date(2026, 10, 2), date(2026, 10, 1))
    assert "at most a year" in period_problem(date(2026, 1, 1), date(2027, 1, 2))
    assert default_period(date(2026, 12, 31)) == (date(2026, 10, 3), date(2026, 12, 31))


# ---- the review pack, read back --------------------------------------------------------------

def forty_actions() -> list[Action]:
    """A long roadmap with long titles: the pack must still be at most 4 pages."""
    statuses = (Status.VERIFIED, Status.AGREED, Status.DONE, Status.DEFERRED, Status.PROPOSED,
                Status.RISK_ACCEPTED, Status.IN_PROGRESS, Status.REGRESSED)
    made = []
    for number in range(40):
        status = statuses[number % 8]
        due = START + timedelta(days=2 * number)
        promised = status is not Status.PROPOSED
        made.append(action(
            id=number + 1, status=status, party=("provider", "client", "vendor")[number % 3],
            title=f"Step {number}: make sure every laptop, phone and mailbox of the practice "
                  "is covered by two-step sign-in and tested backups",
            person="Samantha Longname-Consultant", original_due=due if promised else None,
            due=due + timedelta(days=30 if status is Status.DEFERRED else 0),
            pushes=1 if status is Status.DEFERRED else 0, cost_low=500, cost_high=1500,
            currency="gbp", verified_on=due if status is Status.VERIFIED else None,
            done_on=due if status is Status.DONE else None,
            accepted_by="Jo Owner" if status is Status.RISK_ACCEPTED else "",
            accepted_until=date(2027, 3, 31) if status is Status.RISK_ACCEPTED else None,
            actual_cost=900 if number % 6 == 0 else None,
            severity="serious" if number % 7 == 0 else ""))
    return made


@pytest.fixture(scope="module")
def pack():
    events = {n: [Event(who="assessment", on=START + timedelta(days=n), from_status=None,
                        to_status=Status.PROPOSED)] for n in range(1, 41)}
    content = review_of(forty_actions(), events=events).with_words(
        headline="", notes="Budget for the new firewall agreed. " * 20,
        next_review=date(2027, 3, 31))
    logo = io.BytesIO()
    Image.new("RGB", (240, 80), "#123456").save(logo, format="PNG")
    pdf = render_pack(content, Branding(firm_name="Northgate IT Advisory", primary="#0b4f6c",
                                        logo_png_or_jpeg=logo.getvalue()), draft=True)
    return content, pdf


def test_the_pack_is_two_to_four_pages_and_says_what_the_review_says(pack):
    content, pdf = pack
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert 2 <= len(pages) <= 4, len(pages)
    cover = " ".join(pages[0].split())
    assert content.promises_line in cover and "promises kept" in cover
    assert "Harbour Dental" in cover
    assert "Northgate IT Advisory" in cover and "1 October 2026 to 31 December 2026" in cover
    text = " ".join(" ".join(pages).split())
    for words in ("IT provider", "Your business", "Other vendor", "Promised and delivered",
                  "Decisions needed", "The next 90 days", "Accepted risks",
                  "see the roadmap"):
        assert words in text, words
    # Step 3 was due first on 7 October, and pushed once to 6 November.
    promised = " ".join(pages[1].split())
    assert re.search(r"Step 3: .*7 Oct 2026 6 Nov 2026 1 push Deferred", promised), promised
    for number, page in enumerate(pages, start=1):  # a draft says so on every page
        assert re.search(r"draft", page, re.I), number


def test_a_first_review_with_nothing_due_yet_has_no_table_of_zeros():
    """Right after the first assessment, every promise is still to come: the scorecard says
    so in a sentence instead of a table of noughts by party."""
    later = [replace(a, original_due=date(2027, 2, 1), due=date(2027, 2, 1), pushes=0,
                     status=Status.AGREED, verified_on=None, done_on=None)
             for a in forty_actions()[:3]]
    pdf = render_pack(review_of(later), Branding(firm_name="Northgate IT"), draft=False)
    text = " ".join(" ".join(page.extract_text()
                             for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "No promise has fallen due or been pushed yet" in text
    assert "Pushed twice or more" not in text


def test_the_pack_is_a_tagged_pdf_ua_document(pack):
    content, pdf = pack
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert document.pdf_version == "1.7"
        assert str(document.docinfo["/Title"]) == (
            "Quarterly review: Harbour Dental, 1 October 2026 to 31 December 2026")
        metadata = document.Root.Metadata.read_bytes()
        assert b"pdfuaid:part" in metadata and b"Quarterly review: Harbour Dental" in metadata
        assert str(document.Root.Lang) == "en"
        assert document.Root.MarkInfo.Marked is True
        assert document.Root.ViewerPreferences.DisplayDocTitle is True
        in_tree = struct_elements_in_tree(document)
        assert set(all_struct_elements(document)) <= set(in_tree)
        figures = [e for e in in_tree.values() if e.S == Name.Figure]
        assert figures and all(str(f.get("/Alt", "")) == "Northgate IT Advisory" for f in figures)
        runs = read_content(document)
        loose = [(r.page, r.text[:30]) for r in runs.runs if not r.artifact and r.mcid is None]
        assert not loose, loose[:5]
        # The running header and page numbers are page furniture, not text of the document.
        pages = len(document.pages)
        assert f"Page2of{pages}" in "".join(runs.page_text(2, artifact=True).split())
        assert "Page2of" not in "".join(runs.page_text(2, artifact=False).split())


# ---- the workspace's pages, on both engines --------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory, module_database_url):
    """Two firms, each with a member signed in on a browser of their own."""
    folder = tmp_path_factory.mktemp("reviews")
    app = create_app({"TESTING": True, "SECRET_KEY": "reviews-secret",
                      "DATABASE": str(folder / "r.sqlite"), "DATABASE_URL": module_database_url,
                      "REPORT_DIR": str(folder / "reports")})
    return {"app": app, **two_firms_signed_in(app)}


def db_of(world):
    return connect(database(world["app"].config))


def seed(world, name: str = "Harbour Dental") -> dict:
    """A client of firm A with two finished assessments (58, then 66) and a roadmap: promises
    kept, slipped and overdue, three proposed actions and an accepted risk."""
    a, today = world["a"], date.today()
    db = db_of(world)
    try:
        firm = a["firm_id"]
        client = clients_store.create_client(db, firm, name=name)
        for days_ago, score in ((100, 58), (5, 66)):
            made = clients_store.start_client_assessment(
                db, world["app"].extensions["bank"], firm, client, mode="interview",
                created_by=a["user_id"])
            clients_store.close_assessment(db, firm, made)
            actions.record_final_score(db, firm, made, score)
            finished = f"{(today - timedelta(days=days_ago)).isoformat()}T10:00:00.000+00:00"
            db.execute("UPDATE assessments SET finished_at = ? WHERE id = ?", [finished, made])
        long_ago = today - timedelta(days=150)

        def add(title, **fields):
            return actions.add_action(db, firm, action(id=None, client_id=client, title=title,
                                                       **fields),
                                      who="assessment", on=long_ago)

        ids = {
            "kept": add("Backups tested", status=Status.VERIFIED, person="Sam",
                        original_due=today - timedelta(days=60),
                        due=today - timedelta(days=60), verified_on=today - timedelta(days=62)),
            "overdue": add("Firewall replaced", status=Status.AGREED, party="vendor",
                           person="Vic", original_due=today - timedelta(days=40),
                           due=today - timedelta(days=20), pushes=1),
            "mfa": add("Turn on two-step sign-in", severity="serious", cost_low=200,
                       cost_high=600, currency="gbp", score_gain=6,
                       due=today + timedelta(days=30)),
            "restore": add("Test restoring a backup", score_gain=4),
            "server": add("Replace the old server", party="client", score_gain=3),
            "risk": add("Old printer kept", status=Status.RISK_ACCEPTED, party="client",
                        accepted_by="Jo Owner", accepted_until=today + timedelta(days=60)),
        }
    finally:
        db.close()
    return {"client": client, "ids": ids, "today": today}


def post(browser, url, data, page):
    token = csrf_token(browser.get(page).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **data})


def start(world, seeded) -> tuple[int, str]:
    """Start a review of the last 90 days from the reviews page; its id and address."""
    browser, client = world["a"]["browser"], seeded["client"]
    page = f"/workspace/clients/{client}/reviews"
    start_day, end_day = default_period(seeded["today"])
    made = post(browser, page, {"period_start": start_day.isoformat(),
                                "period_end": end_day.isoformat()}, page)
    assert made.status_code == 303, made.get_data(as_text=True)[:500]
    review_id = int(made.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    return review_id, f"/workspace/clients/{client}/reviews/{review_id}"


def events_of(world, action_id: int) -> int:
    db = db_of(world)
    try:
        return len(actions.action_events(db, world["a"]["firm_id"], action_id))
    finally:
        db.close()


def stored_action(world, action_id: int) -> Action:
    db = db_of(world)
    try:
        return actions.get_action(db, world["a"]["firm_id"], action_id)
    finally:
        db.close()


def test_starting_a_review_checks_the_period(world):
    seeded = seed(world)
    browser, client = world["a"]["browser"], seeded["client"]
    page = f"/workspace/clients/{client}/reviews"
    shown = browser.get(page).get_data(as_text=True)
    start_day, end_day = default_period(seeded["today"])
    assert f'value="{start_day.isoformat()}"' in shown and f'value="{end_day.isoformat()}"' in shown
    assert "No reviews of Harbour Dental yet" in shown
    for data, message in (
            ({"period_start": "2026-10-02", "period_end": "2026-10-01"}, "ends before it starts"),
            ({"period_start": "2025-01-01", "period_end": "2026-06-30"}, "at most a year"),
            ({"period_start": "1 Oct", "period_end": "2026-10-01"}, "like 2026-10-15"),
            ({"period_start": "", "period_end": "2026-10-01"}, "Enter the first day")):
        refused = post(browser, page, data, page)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and message in text, (data, refused.status_code)
        assert f'value="{data["period_start"]}"' in text  # what was typed is kept
    review_id, url = start(world, seeded)
    listed = browser.get(page).get_data(as_text=True)
    assert url in listed and "Draft" in listed


def test_the_preparation_page_and_its_decisions(world):
    seeded = seed(world)
    ids, browser = seeded["ids"], world["a"]["browser"]
    review_id, url = start(world, seeded)
    page = browser.get(url).get_data(as_text=True)
    assert "1 of 2 promises kept; score 58 → 66" in page
    assert "Firewall replaced" in page and "Turn on two-step sign-in" in page
    assert "Locking is for good" in page and f"{url}.pdf" in page
    decide_url = f"{url}/decide"
    tomorrow = (seeded["today"] + timedelta(days=1)).isoformat()
    # Refused, with the reason, what was typed, and no event written.
    before = events_of(world, ids["mfa"])
    for data, message in (
            ({"to": "agreed", "due": tomorrow, "person": ""}, "Name the person who does it"),
            ({"to": "agreed", "due": "2020-01-01", "person": "Sam"}, "cannot be in the past"),
            ({"to": "agreed", "due": "next week", "person": "Sam"}, "like 2026-10-15"),
            ({"to": "verified"}, "agree it, defer it, or decline it"),
            ({"to": "deferred", "due": tomorrow, "reason": ""}, "Say why it is deferred"),
            ({"to": "risk_accepted", "person": "Jo", "until": ""}, "Give the date until")):
        refused = post(browser, decide_url, {"action": ids["mfa"], **data}, url)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400 and message in text, (data, refused.status_code)
        if data.get("person"):
            assert f'value="{data["person"]}"' in text
    assert events_of(world, ids["mfa"]) == before
    assert stored_action(world, ids["mfa"]).status is Status.PROPOSED
    # Agreed, deferred, declined.
    agreed = post(browser, decide_url, {"action": ids["mfa"], "to": "agreed", "due": tomorrow,
                                        "person": "Sam Patel"}, url)
    assert agreed.status_code == 303 and agreed.headers["Location"].endswith("#decisions")
    mfa = stored_action(world, ids["mfa"])
    assert (mfa.status, mfa.person, mfa.original_due.isoformat()) == (
        Status.AGREED, "Sam Patel", tomorrow)
    later = (seeded["today"] + timedelta(days=120)).isoformat()
    assert post(browser, decide_url, {"action": ids["restore"], "to": "deferred", "due": later,
                                      "reason": "budget in April"}, url).status_code == 303
    assert stored_action(world, ids["restore"]).status is Status.DEFERRED
    assert post(browser, decide_url, {"action": ids["server"], "to": "risk_accepted",
                                      "person": "Jo Owner", "until": later},
                url).status_code == 303
    server = stored_action(world, ids["server"])
    assert (server.status, server.accepted_by) == (Status.RISK_ACCEPTED, "Jo Owner")
    # An action of another client, or none, under this review: 404 and nothing changes.
    other = seed(world, "Other Client")
    for action_id in (other["ids"]["mfa"], "999999", "x"):
        assert post(browser, decide_url, {"action": action_id, "to": "agreed",
                                          "due": tomorrow, "person": "Sam"},
                    url).status_code == 404
    assert stored_action(world, other["ids"]["mfa"]).status is Status.PROPOSED
    # The headline: drafted until edited; a next review inside the period is refused.
    words = post(browser, url, {"headline": "", "notes": "n",
                                "next_review": seeded["today"].isoformat()}, url)
    assert words.status_code == 422 and "choose a date after" in words.get_data(as_text=True)


def test_a_locked_review_keeps_its_snapshot_and_pdf_for_good(world):
    seeded = seed(world)
    ids, browser, firm = seeded["ids"], world["a"]["browser"], world["a"]["firm_id"]
    review_id, url = start(world, seeded)
    next_review = (seeded["today"] + timedelta(days=90)).isoformat()
    saved = post(browser, url, {"headline": "A steady quarter: backups proven",
                                "notes": "Budget for the firewall agreed.",
                                "next_review": next_review}, url)
    assert saved.status_code == 303
    locked = post(browser, f"{url}/lock", {}, url)
    assert locked.status_code == 303
    first = browser.get(f"{url}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"].startswith("attachment;")
    assert "(draft)" not in first.headers["Content-Disposition"]
    db = db_of(world)
    try:
        row = store.get_review(db, firm, review_id)
        assert first.data == store.review_pdf(db, firm, review_id)
        pages = PdfReader(io.BytesIO(first.data)).pages
        assert 2 <= len(pages) <= 3  # a short roadmap: the parts follow each other
        text = " ".join(" ".join(page.extract_text() for page in pages).split())
        assert "A steady quarter: backups proven" in text and "Draft" not in text
        assert "Firewall replaced" in text and "Budget for the firewall agreed." in text
        # Later: an action moves, and someone tries to change the locked review.
        mfa = actions.get_action(db, firm, ids["mfa"])
        assert actions.save_decision(db, firm, decide(
            mfa, Move(Status.AGREED, due=seeded["today"] + timedelta(days=3), person="Sam"),
            who="Ana", today=seeded["today"]))
        assert not store.update_draft(db, firm, review_id, headline="x", notes="",
                                      next_review=None)
        assert not store.lock_review(db, firm, review_id, "{}", b"%PDF-other", "Eve")
    finally:
        db.close()
    refused = post(browser, url, {"headline": "Rewritten", "notes": "", "next_review": ""}, url)
    assert refused.status_code == 409 and "corrections go in a new review" in \
        refused.get_data(as_text=True)
    assert post(browser, f"{url}/lock", {}, url).status_code == 409
    assert post(browser, f"{url}/decide", {"action": ids["restore"], "to": "agreed",
                                           "due": next_review, "person": "Sam"},
                url).status_code == 409
    assert stored_action(world, ids["restore"]).status is Status.PROPOSED
    again = browser.get(f"{url}.pdf")
    assert again.data == first.data
    db = db_of(world)
    try:
        assert store.get_review(db, firm, review_id) == row
    finally:
        db.close()
    page = browser.get(url).get_data(as_text=True)
    assert "A steady quarter: backups proven" in page and "Rewritten" not in page
    assert "Corrections go in a new review" in page and "Lock the review" not in page
    # The snapshot still has the two-step sign-in as a decision waiting, as it was locked.
    assert "Turn on two-step sign-in" in page.split('id="decisions"')[1].split("</section>")[0]


def test_a_draft_pack_is_made_fresh_and_a_failed_render_changes_nothing(world, monkeypatch):
    seeded = seed(world)
    browser, firm = world["a"]["browser"], world["a"]["firm_id"]
    review_id, url = start(world, seeded)
    asked = []

    def stand_in(content, branding, *, draft):
        asked.append((content.client_name, branding.firm_name, draft))
        return b"%PDF-1.7 a stand-in"

    monkeypatch.setattr(review_views, "render_pack", stand_in)
    response = browser.get(f"{url}.pdf")
    assert response.status_code == 200 and response.data == b"%PDF-1.7 a stand-in"
    assert asked == [("Harbour Dental", "Northgate IT", True)]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "(draft).pdf" in disposition

    def broken(content, branding, *, draft):
        raise RenderError("the worker died")

    monkeypatch.setattr(review_views, "render_pack", broken)
    failed = browser.get(f"{url}.pdf")
    assert failed.status_code == 503 and "try again" in failed.get_data(as_text=True)
    not_locked = post(browser, f"{url}/lock", {}, url)
    assert not_locked.status_code == 503 and "not locked" in not_locked.get_data(as_text=True)
    db = db_of(world)
    try:
        assert store.get_review(db, firm, review_id)["status"] == "draft"
    finally:
        db.close()


def dump(world) -> list[str]:
    return every_row(world["app"] if isinstance(world, dict) else world)


def test_another_firm_gets_404_on_every_review_route_and_nothing_changes(world):
    seeded = seed(world)
    review_id, url = start(world, seeded)
    client, mfa = seeded["client"], seeded["ids"]["mfa"]
    routes = [("GET", f"/workspace/clients/{client}/reviews"),
              ("POST", f"/workspace/clients/{client}/reviews"),
              ("GET", url), ("POST", url), ("POST", f"{url}/decide"), ("POST", f"{url}/lock"),
              ("GET", f"{url}.pdf")]
    form = {"period_start": "2026-10-01", "period_end": "2026-12-31", "headline": "Mine",
            "action": mfa, "to": "agreed", "due": "2030-01-01", "person": "Eve"}
    eve, stranger = world["b"]["browser"], world["app"].test_client()
    tokens = {id(browser): csrf_token(browser.get("/", follow_redirects=True)
                                      .get_data(as_text=True)) for browser in (eve, stranger)}
    before = dump(world)
    for method, address in routes:
        for browser in (eve, stranger):
            if method == "GET":
                response = browser.get(address)
            else:
                response = browser.post(address, data={"csrf_token": tokens[id(browser)],
                                                       **form})
            assert response.status_code == 404, (method, address, response.status_code)
    assert dump(world) == before
    # Firm A's own review asked for under another of firm A's clients: 404 as well.
    other = seed(world, "Other Client")["client"]
    ana = world["a"]["browser"]
    before = dump(world)
    for suffix in ("", ".pdf"):
        assert ana.get(f"/workspace/clients/{other}/reviews/{review_id}{suffix}"
                       ).status_code == 404
    assert post(ana, f"/workspace/clients/{other}/reviews/{review_id}/lock", {},
                url).status_code == 404
    assert dump(world) == before


def test_storage_finds_nothing_of_another_firm(world):
    seeded = seed(world)
    db = db_of(world)
    try:
        firm, other = world["a"]["firm_id"], world["b"]["firm_id"]
        review_id = store.create_review(db, firm, seeded["client"], START, END,
                                        world["a"]["user_id"])
        assert store.get_review(db, other, review_id) is None
        assert store.client_reviews(db, other, seeded["client"]) == []
        assert not store.update_draft(db, other, review_id, headline="x", notes="",
                                      next_review=None)
        assert not store.lock_review(db, other, review_id, "{}", b"%PDF", "Eve")
        assert store.period_events(db, other, seeded["client"], START, END) == {}
        with pytest.raises(ValueError):
            store.create_review(db, other, seeded["client"], START, END, 1)
        assert store.lock_review(db, firm, review_id, "{}", b"%PDF-first", "Ana")
        assert not store.lock_review(db, firm, review_id, "{}", b"%PDF-second", "Bo")
        assert store.review_pdf(db, firm, review_id) == b"%PDF-first"
        assert store.review_pdf(db, other, review_id) is None
        assert store.get_review(db, firm, review_id)["locked_by"] == "Ana"
    finally:
        db.close()
