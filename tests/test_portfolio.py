"""The portfolio across a firm's clients and a client's roadmap exports, on both engines: the
counts a consultant reads (overdue, promises kept, score and trend, next review), the same
promises core.actions.measure counts, accepted risks back when their date has passed, exports
with every field and event and safe in a spreadsheet, and another firm seeing nothing."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from assessment import create_app
from assessment.core.actions import OPEN, Action, Status, measure
from assessment.storage import actions, clients, connect, create_assessment
from assessment.storage import portfolio as store
from assessment.storage.times import stamp
from assessment.support.config import database

from .workspace_fixtures import every_row, make_member, sign_in

pytestmark = pytest.mark.both_backends

# The workspace counts from today in the firm's zone (UTC here, the default).
TODAY = datetime.now(UTC).date()


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def action(client: int, title: str, status: Status, *, due: int | None = None,
           original: int | None = None, verified: int | None = None, pushes: int = 0,
           until: int | None = None, **more) -> Action:
    """An action in a given state; due dates in days from today (original: the promise)."""
    return Action(
        id=None, client_id=client, title=title, why="Keeps the business running.",
        workstream="Backup", party=more.pop("party", "provider"), status=status,
        due=days(due) if due is not None else None,
        original_due=days(original) if original is not None else None, pushes=pushes,
        verified_on=days(verified) if verified is not None else None,
        verified_by="a-verify" if verified is not None else None,
        accepted_by="Owner" if until is not None else "",
        accepted_until=days(until) if until is not None else None,
        questions=more.pop("questions", ("backup.automatic",)), **more)


def harbour_actions(client: int) -> list[Action]:
    """Every rule of a promise and of "overdue" met at least once."""
    return [
        action(client, "Agreed, past due", Status.AGREED, due=-1, original=-1),
        action(client, "Agreed, due later", Status.AGREED, due=10, original=10),
        action(client, "Verified on time", Status.VERIFIED, due=-20, original=-20, verified=-25),
        action(client, "Verified late", Status.VERIFIED, due=-30, original=-40, verified=-5,
               pushes=1),
        action(client, "Deferred, past due again", Status.DEFERRED, due=-3, original=-30,
               pushes=2),
        action(client, "Claimed done", Status.DONE, due=-2, original=-2),
        action(client, "Dropped after agreeing", Status.DROPPED, due=-9, original=-9),
        action(client, "Risk accepted for now", Status.RISK_ACCEPTED, due=-9, original=-9,
               until=30),
        action(client, "Risk accepted, date passed", Status.RISK_ACCEPTED, due=-9, original=-9,
               until=-1),
        action(client, "Only proposed", Status.PROPOSED),
        action(client, "Blocked, past due", Status.BLOCKED, due=-4, original=-4,
               party="vendor"),
        action(client, "Verified before it was due", Status.VERIFIED, due=12, original=12,
               verified=-1),
        action(client, "In progress, due today", Status.IN_PROGRESS, due=0, original=0),
        action(client, "Pushed into next month", Status.DEFERRED, due=25, original=-6,
               pushes=1),
    ]


def finished(db, bank, firm: int, client: int, score: int, when: str) -> str:
    """A finished assessment of the client with its final score, finished at `when`."""
    assessment_id = create_assessment(db, bank, mode="interview", firm_id=firm,
                                      client_id=client)
    clients.close_assessment(db, firm, assessment_id)
    actions.record_final_score(db, firm, assessment_id, score)
    with db.write():  # two finished within one millisecond would tie: the order is set here
        db.execute("UPDATE assessments SET finished_at = ? WHERE id = ?", [when, assessment_id])
    return assessment_id


def review(db, firm: int, client: int, period_end: date, next_review: date | None) -> None:
    made = stamp()
    with db.write():
        db.insert("reviews", {"firm_id": firm, "client_id": client,
                              "period_start": (period_end - timedelta(days=90)).isoformat(),
                              "period_end": period_end.isoformat(),
                              "next_review": next_review.isoformat() if next_review else None,
                              "created_at": made, "updated_at": made})


@pytest.fixture(scope="module")
def world(tmp_path_factory, module_database_url, bank):
    folder = tmp_path_factory.mktemp("portfolio")
    app = create_app({"TESTING": True, "SECRET_KEY": "portfolio-secret",
                      "DATABASE": str(folder / "p.sqlite"), "DATABASE_URL": module_database_url})
    a = make_member(app, firm="Northgate IT", email="ana@northgate.example")
    b = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    db = connect(database(app.config))
    try:
        firm = a["firm_id"]
        harbour = clients.create_client(db, firm, name="Harbour Dental")
        bakery = clients.create_client(db, firm, name="Brightwater Bakery")
        cafe = clients.create_client(db, firm, name="Calm Café")
        gone = clients.create_client(db, firm, name="Archived Annex")
        ids = {}
        for each in harbour_actions(harbour):
            ids[each.title] = actions.add_action(db, firm, each, who="assessment",
                                                 on=days(-60))
        ids["bakery"] = actions.add_action(
            db, firm, action(bakery, "=HYPERLINK(\"http://evil.example\")", Status.AGREED,
                             due=-7, original=-7, person="@Sam", ticket="+SUM(A1)",
                             notes="-2+3"), who="assessment", on=days(-60))
        actions.add_action(db, firm, action(gone, "Archived and overdue", Status.AGREED,
                                            due=-5, original=-5), who="assessment",
                           on=days(-60))
        clients.set_client_archived(db, firm, gone, True)
        finished(db, bank, firm, bakery, 58, "2026-01-10T10:00:00.000+00:00")
        finished(db, bank, firm, bakery, 66, "2026-04-10T10:00:00.000+00:00")
        finished(db, bank, firm, harbour, 70, "2026-02-01T10:00:00.000+00:00")
        review(db, firm, bakery, days(-100), days(-10))  # an older review: not the latest
        review(db, firm, bakery, days(-5), days(40))
        other = clients.create_client(db, b["firm_id"], name="Elsewhere Pharmacy")
        actions.add_action(db, b["firm_id"], action(other, "Elsewhere, overdue", Status.AGREED,
                                                    due=-3, original=-3),
                           who="assessment", on=days(-60))
        # A deferral with its events, for the exports: agreed, then pushed with a reason.
        deferred = ids["Deferred, past due again"]
        for (was, to, before, after, reason) in (
                (Status.PROPOSED, Status.AGREED, None, days(-30), ""),
                (Status.AGREED, Status.DEFERRED, days(-30), days(-3), "licences late")):
            with db.write():
                db.insert("action_events", {
                    "action_id": deferred, "firm_id": firm, "at": stamp(), "who": "ana",
                    "on_date": days(-31).isoformat(), "from_status": was.value,
                    "to_status": to.value, "reason": reason,
                    "due_before": before.isoformat() if before else None,
                    "due_after": after.isoformat(), "assessment_id": None})
    finally:
        db.close()
    browsers = {}
    for key, member in (("a", a), ("b", b)):
        browsers[key] = app.test_client()
        assert sign_in(browsers[key], member["email"], member["password"]).status_code == 303
    yield {"app": app, "a": a, "b": b, "firm": firm, "harbour": harbour, "bakery": bakery,
           "cafe": cafe, "gone": gone, "other": other, "ids": ids, "browsers": browsers}


def db_of(world):
    return connect(database(world["app"].config))


def table_rows(page: str) -> list[list[str]]:
    """The portfolio table's rows as text cells: client, next review, overdue, promises, score."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return rows


def test_portfolio_shows_each_clients_overdue_promises_review_and_trend(world):
    response = world["browsers"]["a"].get("/workspace/portfolio")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = table_rows(page)
    # Most overdue first, then by name; archived clients and other firms' are not there.
    assert [r[0] for r in rows] == ["Harbour Dental", "Brightwater Bakery", "Calm Café"]
    harbour, bakery, cafe = rows
    # Overdue: agreed, deferred and blocked past their due date (not claimed, not proposed).
    assert harbour[2] == "3"
    # Promises due by today (by the date first agreed) or verified: agreed past due, three
    # verified, deferred, claimed, blocked, due today, the accepted risk whose date passed
    # (back as proposed, its promise still counted), and the one pushed into next month (a
    # deferral moves the work, not the promise); 3 kept. Not those never agreed, dropped or
    # accepted as a risk for now.
    assert harbour[3] == "3 of 10"
    assert harbour[1] == "Not set" and harbour[4] == "70"
    assert bakery[2] == "1" and bakery[3] == "0 of 1"
    assert bakery[4] == "66, up 8"
    assert bakery[1] == f"{days(40).day} {days(40).strftime('%b %Y')}"  # the latest review's
    assert cafe[1:] == ["Not set", "None", "None due yet", "No score yet"]
    assert "4 overdue actions across 2 clients." in page
    assert f'href="/workspace/clients/{world["harbour"]}"' in page
    assert "Archived Annex" not in page and "Elsewhere" not in page


def test_the_sql_counts_are_core_measures_counts(world):
    """One rule of what a promise is: core.actions.measure. The portfolio counts in SQL; on a
    fixture with every state, both count the same promises, kept and overdue."""
    db = db_of(world)
    try:
        rows = {r["id"]: r for r in store.portfolio(db, world["firm"], TODAY)}
        for client in (world["harbour"], world["bakery"], world["cafe"]):
            current = actions.current_actions(db, world["firm"], client, TODAY)
            measured = measure(current, TODAY)
            overdue = sum(1 for a in current if a.status in OPEN and a.due and a.due < TODAY)
            assert (rows[client]["promises"], rows[client]["kept"], rows[client]["overdue"]) \
                == (measured.promises, measured.kept, overdue), client
        # On another day the rule moves the same way in both: a week on, more is due.
        later = TODAY + timedelta(days=11)
        rows = {r["id"]: r for r in store.portfolio(db, world["firm"], later)}
        measured = measure(actions.client_actions(db, world["firm"], world["harbour"]), later)
        assert (rows[world["harbour"]]["promises"], rows[world["harbour"]]["kept"]) == (
            measured.promises, measured.kept)
        assert measured.promises == 11  # "Agreed, due later" is due by then
    finally:
        db.close()


def test_the_portfolio_brings_back_accepted_risks_whose_date_passed(world):
    world["browsers"]["a"].get("/workspace/portfolio")
    db = db_of(world)
    try:
        back = actions.get_action(db, world["firm"], world["ids"]["Risk accepted, date passed"])
        kept = actions.get_action(db, world["firm"], world["ids"]["Risk accepted for now"])
        history = actions.action_events(db, world["firm"], back.id)
    finally:
        db.close()
    assert back.status is Status.PROPOSED and not back.accepted_by
    assert history[-1].who == "system" and history[-1].to_status is Status.PROPOSED
    assert kept.status is Status.RISK_ACCEPTED


def test_another_firm_sees_only_its_own_clients(world):
    page = world["browsers"]["b"].get("/workspace/portfolio").get_data(as_text=True)
    assert [r[0] for r in table_rows(page)] == ["Elsewhere Pharmacy"]
    assert "Harbour Dental" not in page and "Brightwater" not in page


def test_roadmap_json_has_every_field_and_every_event(world):
    response = world["browsers"]["a"].get(f"/workspace/clients/{world['harbour']}/roadmap.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="client-{world["harbour"]}-roadmap.json"'
    data = json.loads(response.data)
    assert data["client"]["name"] == "Harbour Dental" and data["exported_at"]
    assert len(data["actions"]) == len(harbour_actions(0))
    named = {"id", "title", "question", "questions", "party", "status", "due", "original_due",
             "pushes", "verified_by", "events", "person", "why", "workstream", "severity",
             "cost_low", "cost_high", "currency", "score_gain", "ticket", "notes"}
    for each in data["actions"]:
        assert named <= set(each), named - set(each)
    by_title = {a["title"]: a for a in data["actions"]}
    pushed = by_title["Deferred, past due again"]
    assert (pushed["status"], pushed["due"], pushed["original_due"], pushed["pushes"]) == (
        "deferred", days(-3).isoformat(), days(-30).isoformat(), 2)
    assert pushed["question"] == "backup.automatic"
    assert pushed["questions"] == ["backup.automatic"]
    assert [(e["from"], e["to"]) for e in pushed["events"]] == [
        (None, "deferred"), ("proposed", "agreed"), ("agreed", "deferred")]
    assert pushed["events"][-1]["reason"] == "licences late"
    assert pushed["events"][-1]["due_before"] == days(-30).isoformat()
    assert set(pushed["events"][0]) >= {"at", "on", "who", "from", "to", "reason",
                                        "due_before", "due_after", "assessment"}
    assert by_title["Verified late"]["verified_by"] == "a-verify"


def test_roadmap_csv_has_a_row_per_action_and_runs_no_formula(world):
    response = world["browsers"]["a"].get(f"/workspace/clients/{world['bakery']}/roadmap.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="client-{world["bakery"]}-roadmap.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    row = rows[0]
    # Cells a spreadsheet would run as formulas start with a quote.
    assert row["title"] == "'=HYPERLINK(\"http://evil.example\")"
    assert (row["person"], row["ticket"], row["notes"]) == ("'@Sam", "'+SUM(A1)", "'-2+3")
    assert (row["status"], row["due"], row["original_due"]) == (
        "agreed", days(-7).isoformat(), days(-7).isoformat())
    assert row["events"] == "1" and row["last_change"] == "made agreed by assessment"
    assert row["question"] == "backup.automatic"


def dump(world) -> list[str]:
    return every_row(world["app"] if isinstance(world, dict) else world)


@pytest.mark.parametrize("kind", ["roadmap.json", "roadmap.csv"])
def test_another_firms_exports_are_404_and_change_nothing(world, kind):
    # An accepted risk of firm A whose date has passed (on a client the other tests do not
    # count): firm B's request must not bring it back.
    db = db_of(world)
    try:
        expired = actions.add_action(db, world["firm"], action(
            world["gone"], "Expired risk, untouched by others", Status.RISK_ACCEPTED,
            due=-9, original=-9, until=-2), who="assessment", on=days(-60))
    finally:
        db.close()
    before = dump(world)
    # Another firm's member, and a browser not signed in.
    for browser in (world["browsers"]["b"], world["app"].test_client()):
        for client in (world["harbour"], world["gone"], 999999):
            response = browser.get(f"/workspace/clients/{client}/{kind}")
            assert response.status_code == 404, client
            assert b"Harbour" not in response.data
    assert dump(world) == before
    db = db_of(world)
    try:
        assert actions.get_action(db, world["firm"], expired).status is Status.RISK_ACCEPTED
    finally:
        db.close()


def test_a_firm_without_clients_is_told_how_to_start(world):
    newcomer = make_member(world["app"], firm="Newcomer IT", email="nia@newcomer.example")
    browser = world["app"].test_client()
    assert sign_in(browser, newcomer["email"], newcomer["password"]).status_code == 303
    page = browser.get("/workspace/portfolio").get_data(as_text=True)
    assert "No clients yet" in page and 'href="/workspace/"' in page
    assert "<table" not in page
