"""A client's roadmap in the workspace (web/workspace/roadmap.py): its groups and filters, a
deferral through the move form keeping the promise, an illegal move writing nothing, decisions
on several proposed actions (all or none), an action's details and evidence, and another firm
getting 404 on every one of these routes with nothing changed. The grouping and the words of
the screens (core/roadmap_view.py) are tested on their own first."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from assessment import create_app
from assessment.core import actions as rules
from assessment.core import roadmap_view as view
from assessment.core.actions import Action, Measures, Move, Status
from assessment.storage import actions, clients, connect, evidence
from assessment.support.config import database
from assessment.support.evidence_files import MAX_BYTES

from .workspace_fixtures import csrf_token, every_row, two_firms_signed_in

pytestmark = pytest.mark.both_backends

DAY = date(2026, 10, 1)


def action(**fields) -> Action:
    base = Action(id=1, client_id=1, title="Turn on two-step sign-in for email",
                  why="A stolen password opens every mailbox.", workstream="Identity",
                  party="provider", questions=("backup.automatic",), score_gain=6)
    return replace(base, **fields)


# ---- core/roadmap_view.py: pure -------------------------------------------------------------

def test_groups_come_in_the_order_a_consultant_works_and_each_action_in_one():
    late = action(id=1, status=Status.AGREED, due=DAY - timedelta(days=3),
                  original_due=DAY - timedelta(days=3))
    later_late = action(id=2, status=Status.DEFERRED, due=DAY - timedelta(days=1),
                        original_due=DAY - timedelta(days=20), pushes=1)
    soon = action(id=3, status=Status.IN_PROGRESS, due=DAY + timedelta(days=30))
    later = action(id=4, status=Status.BLOCKED, due=DAY + timedelta(days=31))
    undated = action(id=5, status=Status.AGREED)
    proposed_serious = action(id=6, severity="serious", score_gain=2)
    proposed_critical = action(id=7, severity="existential", score_gain=1)
    proposed_big = action(id=8, score_gain=9)
    claimed = action(id=9, status=Status.DONE, done_on=DAY)
    verified = action(id=10, status=Status.VERIFIED, verified_on=DAY - timedelta(days=5))
    accepted = action(id=11, status=Status.RISK_ACCEPTED, accepted_by="Pat",
                      accepted_until=DAY + timedelta(days=90))
    dropped = action(id=12, status=Status.DROPPED)
    everything = [dropped, accepted, verified, claimed, proposed_big, proposed_critical,
                  proposed_serious, undated, later, soon, later_late, late]

    groups = view.grouped(everything, DAY)

    assert [g.key for g in groups] == ["overdue", "soon", "later", "awaiting", "done",
                                       "accepted", "dropped"]
    ids = {g.key: [a.id for a in g.actions] for g in groups}
    assert ids == {"overdue": [1, 2], "soon": [3], "later": [4, 5],
                   "awaiting": [7, 6, 8],  # the worst finding first, then the biggest gain
                   "done": [9, 10], "accepted": [11], "dropped": [12]}
    assert sum(len(g.actions) for g in groups) == len(everything)
    # Due today is not overdue yet.
    assert view.group_key(action(status=Status.AGREED, due=DAY), DAY) == "soon"


def test_filters_keep_a_party_and_a_severity_and_refuse_anything_else():
    provider = action(id=1, party="provider", severity="serious")
    client = action(id=2, party="client", severity="serious")
    plain = action(id=3, party="provider")
    every = [provider, client, plain]

    assert view.parse_filters({}).apply(every) == every
    assert view.parse_filters({"party": "", "severity": ""}).apply(every) == every
    assert view.parse_filters({"party": "provider"}).apply(every) == [provider, plain]
    assert view.parse_filters({"party": "provider", "severity": "serious"}).apply(every) \
        == [provider]
    with pytest.raises(view.FilterRefused) as refused:
        view.parse_filters({"party": "boss", "severity": "serious"})
    message = str(refused.value)
    assert "“boss” is not a party" in message
    for valid in ("“provider”", "“client”", "“vendor”", "“existential”", "“serious”"):
        assert valid in message
    with pytest.raises(view.FilterRefused, match="is not a severity"):
        view.parse_filters({"severity": "high"})


def test_the_words_of_a_row_and_of_the_summary():
    assert view.summary_line(Measures(promises=9, kept=7, on_time=6, overdue=2, pushes=3)) \
        == "7 of 9 promises kept, 6 on time; 2 overdue; 3 pushes"
    assert view.summary_line(Measures(promises=1, overdue=1, pushes=1, claimed=1)) \
        == "0 of 1 promise kept, 0 on time; 1 overdue; 1 claimed done, not yet checked; 1 push"
    assert view.summary_line(Measures()) == "No promise is due yet; 0 pushes"
    assert view.gain_text(action(score_gain=6)) == "+6 points"
    assert view.gain_text(action(score_gain=1)) == "+1 point"
    assert view.gain_text(action(score_gain=0)) == ""
    assert view.cost_text(action(cost_low=200, cost_high=600, currency="gbp")) == "£200–£600"
    assert view.cost_text(action()) == ""
    assert [view.times(n) for n in (1, 2, 3)] == ["once", "twice", "3 times"]
    moved = action(due=date(2026, 11, 15), original_due=date(2026, 10, 15))
    assert view.promise_moved(moved) and not view.promise_moved(replace(
        moved, due=date(2026, 10, 15)))


def test_a_change_of_details_says_what_changed_and_only_that():
    before = action(person="Sam", ticket="", notes="old", actual_cost=None)
    change = view.detail_changes(before, person="Sam", ticket="INC-1042", notes="",
                                 actual_cost=1200)
    assert change.changes == {"ticket": "INC-1042", "notes": "", "actual_cost": 1200}
    assert change.reason == "ticket set to INC-1042; notes cleared; actual cost set to 1,200"
    same = view.detail_changes(before, person="Sam", ticket="", notes="old", actual_cost=None)
    assert same.changes == {} and same.reason == ""


def test_only_the_allowed_moves_are_offered():
    offered = [s for s, _ in view.moves_from(action(), rules.BY_HAND[Status.PROPOSED])]
    assert offered == [Status.AGREED, Status.DEFERRED, Status.RISK_ACCEPTED, Status.DROPPED]
    assert view.moves_from(action(status=Status.VERIFIED), rules.BY_HAND[Status.VERIFIED]) == []


# ---- the pages -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory, module_database_url):
    """One app for the module: firm A's admin and firm B's, each signed in."""
    folder = tmp_path_factory.mktemp("roadmap")
    app = create_app({"TESTING": True, "SECRET_KEY": "roadmap-secret",
                      "DATABASE": str(folder / "r.sqlite"), "DATABASE_URL": module_database_url,
                      "REPORT_DIR": str(folder / "reports")})
    out = {"app": app, **two_firms_signed_in(app)}
    for member in (out["a"], out["b"]):
        member["token"] = csrf_token(member["browser"].get("/workspace/").get_data(as_text=True))
    return out


def open_db(world):
    return connect(database(world["app"].config))


def today() -> date:
    return datetime.now(UTC).date()  # the firm has no time zone set: the workspace's is UTC


def make_client(world, actions_wanted: list[Action], firm: str = "a",
                name: str = "Harbour Dental") -> tuple[int, list[int]]:
    """A new client of the firm with these actions (their client_id set here); its id and
    the actions' ids."""
    db = open_db(world)
    try:
        client_id = clients.create_client(db, world[firm]["firm_id"], name=name)
        ids = [actions.add_action(db, world[firm]["firm_id"],
                                  replace(a, id=None, client_id=client_id),
                                  who="assessment", on=today())
               for a in actions_wanted]
    finally:
        db.close()
    return client_id, ids


def stored(world, action_id: int, firm: str = "a"):
    db = open_db(world)
    try:
        return (actions.get_action(db, world[firm]["firm_id"], action_id),
                actions.action_events(db, world[firm]["firm_id"], action_id))
    finally:
        db.close()


def post(world, url: str, data: dict | None = None, firm: str = "a", **kwargs):
    member = world[firm]
    return member["browser"].post(url, data={"csrf_token": member["token"], **(data or {})},
                                  **kwargs)


def get(world, url: str, firm: str = "a"):
    return world[firm]["browser"].get(url)


def proposed(title: str, **fields) -> Action:
    return action(title=title, **fields)


def agreed(title: str, due: date, **fields) -> Action:
    return action(title=title, status=Status.AGREED, due=due, original_due=due,
                  agreed_on=today(), **fields)


def test_the_roadmap_groups_the_clients_actions_and_sums_up_the_promises(world):
    now = today()
    client_id, ids = make_client(world, [
        agreed("Replace the old firewall", now - timedelta(days=4), party="vendor"),
        agreed("Test a restore", now + timedelta(days=10), person="Sam"),
        replace(agreed("Patch the laptops", now + timedelta(days=60)),
                original_due=now + timedelta(days=20), pushes=1, status=Status.DEFERRED),
        proposed("Turn on two-step sign-in", severity="existential", cost_low=200,
                 cost_high=600, currency="gbp"),
        action(title="Write the recovery plan", status=Status.RISK_ACCEPTED,
               accepted_by="Pat Owner", accepted_until=now + timedelta(days=90)),
        action(title="Buy a second backup drive", status=Status.DROPPED),
    ])
    page = get(world, f"/workspace/clients/{client_id}/roadmap")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    headings = re.findall(r'<h2 id="(\w+)">', text)
    assert headings == ["overdue", "soon", "later", "awaiting", "done", "accepted"]
    section = {key: text[text.index(f'<h2 id="{key}">'):] for key in headings}
    assert "Replace the old firewall" in section["overdue"][:section["overdue"].index("</table>")]
    assert "4 days late" in section["overdue"]
    assert "Test a restore" in section["soon"][:section["soon"].index("</table>")]
    later = section["later"][:section["later"].index("</table>")]
    assert "Patch the laptops" in later
    assert (f"due {(now + timedelta(days=60)).day} " in later and ", promised " in later
            and "pushed once" in later)
    awaiting = section["awaiting"][:section["awaiting"].index("</table>")]
    assert "Turn on two-step sign-in" in awaiting and "Critical finding" in awaiting
    assert "£200–£600" in awaiting and "+6 points" in awaiting
    assert "Risk accepted by Pat Owner until" in section["accepted"]
    dropped = text[text.index('<details class="roadmap-dropped">'):]
    assert "Dropped (1)" in dropped and "Buy a second backup drive" in dropped
    # One promise due (the overdue one), none kept; one push.
    assert "0 of 1 promise kept, 0 on time; 1 overdue; 1 push" in text
    assert f'href="/workspace/actions/{ids[0]}"' in text
    assert f'href="/workspace/clients/{client_id}"' in text  # back to the client


def test_filters_by_party_and_severity_and_a_clear_400_for_an_unknown_one(world):
    client_id, _ = make_client(world, [
        proposed("Provider's serious step", party="provider", severity="serious"),
        proposed("Client's serious step", party="client", severity="serious"),
        proposed("Provider's plain step", party="provider"),
    ])
    url = f"/workspace/clients/{client_id}/roadmap"
    both = get(world, f"{url}?party=provider&severity=serious").get_data(as_text=True)
    assert "Provider&#39;s serious step" in both
    assert "Client&#39;s serious step" not in both and "Provider&#39;s plain step" not in both
    party = get(world, f"{url}?party=client").get_data(as_text=True)
    assert "Client&#39;s serious step" in party and "Provider&#39;s" not in party

    wrong = get(world, f"{url}?party=boss")
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    assert "“boss” is not a party" in text and "“provider”" in text and "“serious”" in text
    assert "Showing every action" in text and "Provider&#39;s plain step" in text


def test_a_deferral_through_the_move_form_keeps_the_promise_and_counts_the_push(world):
    client_id, (action_id,) = make_client(world, [proposed("Turn on two-step sign-in")])
    promised, pushed_to = today() + timedelta(days=14), today() + timedelta(days=45)
    url = f"/workspace/actions/{action_id}/move"
    agreed_now = post(world, url, {"to": "agreed", "due": promised.isoformat(),
                                   "person": "Sam Tech"})
    assert agreed_now.status_code == 303
    assert agreed_now.headers["Location"].endswith(f"/workspace/actions/{action_id}")
    deferred = post(world, url, {"to": "deferred", "due": pushed_to.isoformat(),
                                 "reason": "licences arrive late"})
    assert deferred.status_code == 303

    kept, history = stored(world, action_id)
    assert (kept.status, kept.due, kept.original_due, kept.pushes, kept.person) == (
        Status.DEFERRED, pushed_to, promised, 1, "Sam Tech")
    last = history[-1]
    assert (last.from_status, last.to_status, last.reason, last.who) == (
        Status.AGREED, Status.DEFERRED, "licences arrive late", "Ana")
    assert (last.due_before, last.due_after) == (promised, pushed_to)
    page = get(world, f"/workspace/actions/{action_id}").get_data(as_text=True)
    assert "pushed once" in page and "licences arrive late" in page
    assert "Saved: the action is now “Deferred”" in page
    roadmap = get(world, f"/workspace/clients/{client_id}/roadmap").get_data(as_text=True)
    assert "promised " in roadmap and "pushed once" in roadmap


def test_an_actions_page_says_what_proves_it_and_which_assessments_made_and_verified_it(
        world):
    db = open_db(world)
    try:
        client_id = clients.create_client(db, world["a"]["firm_id"], name="Quay Cafe")
        interview = clients.start_client_assessment(
            db, world["app"].extensions["bank"], world["a"]["firm_id"], client_id,
            mode="interview", created_by=world["a"]["user_id"])
        action_id = actions.add_action(db, world["a"]["firm_id"], action(
            id=None, client_id=client_id, status=Status.VERIFIED, verified_on=today(),
            verified_by="an-assessment-since-deleted", from_assessment=interview,
            questions=("backup.automatic", "retired.question"), ticket="INC-7"),
            who="assessment", on=today())
    finally:
        db.close()
    page = get(world, f"/workspace/actions/{action_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Are backups automated and scheduled" in text  # the question, in words
    assert "<li>retired.question</li>" in text  # one no longer asked: its id
    assert f'href="/workspace/assessments/{interview}">interview of ' in text
    assert "<dt>From</dt><dd>the plan of the <a" in text
    assert "<dt>Verified by</dt><dd>an assessment since deleted" in text
    assert "INC-7" in text
    # Verified: closed, no move offered.
    assert 'name="to"' not in text and "A verified action is closed" in text


def test_an_illegal_move_is_a_400_that_writes_nothing_and_keeps_what_was_typed(world):
    _, (action_id,) = make_client(world, [proposed("Turn on two-step sign-in")])
    before = stored(world, action_id)
    url = f"/workspace/actions/{action_id}/move"

    claimed = post(world, url, {"to": "done", "reason": "my typed words"})
    text = claimed.get_data(as_text=True)
    assert claimed.status_code == 400
    assert "cannot be moved to “Done (not yet checked)”" in text
    assert 'value="my typed words"' in text
    verified = post(world, url, {"to": "verified"})
    assert verified.status_code == 400
    assert "Only the next assessment can mark an action" in verified.get_data(as_text=True)
    missing = post(world, url, {"to": "deferred", "due": "2099-01-01"})
    assert missing.status_code == 400 and "Say why it is deferred" in missing.get_data(
        as_text=True)
    bad_date = post(world, url, {"to": "agreed", "due": "15/10/2026"})
    text = bad_date.get_data(as_text=True)
    assert bad_date.status_code == 400 and "“15/10/2026” is not a date we can read" in text
    assert post(world, url, {"to": "agreed", "due": "2026-02-30"}).status_code == 400
    assert post(world, url, {"to": "nonsense"}).status_code == 400
    assert post(world, url, {}).status_code == 400

    assert stored(world, action_id) == before  # unchanged, and no event written
    # The page offers only the moves allowed from "Proposed".
    page = get(world, f"/workspace/actions/{action_id}").get_data(as_text=True)
    assert re.findall(r'name="to" value="(\w+)"', page) == [
        "agreed", "deferred", "risk_accepted", "dropped"]


def test_a_move_someone_else_made_meanwhile_is_a_409_showing_the_action_as_it_is(
        world, monkeypatch):
    _, (action_id,) = make_client(world, [proposed("Turn on two-step sign-in")])
    real_decide = rules.decide

    def decide_while_someone_drops_it(found, move, **kwargs):
        decision = real_decide(found, move, **kwargs)
        db = open_db(world)
        try:  # another member drops it between this page's read and its save
            assert actions.save_decision(db, world["a"]["firm_id"], real_decide(
                found, Move(Status.DROPPED, reason="no budget"), who="Bo", today=today()))
        finally:
            db.close()
        return decision

    monkeypatch.setattr(rules, "decide", decide_while_someone_drops_it)
    response = post(world, f"/workspace/actions/{action_id}/move",
                    {"to": "agreed", "due": (today() + timedelta(days=9)).isoformat(),
                     "person": "Sam"})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone changed this action while you were deciding: it is now “Dropped”" in text
    kept, history = stored(world, action_id)
    assert kept.status is Status.DROPPED and history[-1].who == "Bo"


def test_bulk_agree_of_three_proposed_actions(world):
    client_id, ids = make_client(world, [proposed(f"Step {n}") for n in range(1, 5)])
    due = today() + timedelta(days=30)
    response = post(world, f"/workspace/clients/{client_id}/roadmap/bulk",
                    {"action": [str(i) for i in ids[:3]], "to": "agreed",
                     "due": due.isoformat(), "person": "Sam Tech"})
    assert response.status_code == 303
    for action_id in ids[:3]:
        kept, history = stored(world, action_id)
        assert (kept.status, kept.due, kept.original_due, kept.person) == (
            Status.AGREED, due, due, "Sam Tech")
        assert history[-1].to_status is Status.AGREED and history[-1].who == "Ana"
    untouched, history = stored(world, ids[3])
    assert untouched.status is Status.PROPOSED and len(history) == 1
    page = get(world, f"/workspace/clients/{client_id}/roadmap").get_data(as_text=True)
    assert "Agreed 3 actions, due" in page


def test_bulk_with_one_refused_saves_none_and_keeps_the_ticks(world):
    now = today()
    client_id, ids = make_client(world, [proposed("Step one"), proposed("Step two"),
                                         proposed("Step three")])
    db = open_db(world)
    try:  # another member agrees step three after this page was opened
        found = actions.get_action(db, world["a"]["firm_id"], ids[2])
        assert actions.save_decision(db, world["a"]["firm_id"], rules.decide(
            found, Move(Status.AGREED, due=now + timedelta(days=5), person="Sam"), who="Bo",
            today=now))
    finally:
        db.close()
    before = [stored(world, i) for i in ids]
    url = f"/workspace/clients/{client_id}/roadmap/bulk"
    new_due = (now + timedelta(days=40)).isoformat()
    response = post(world, url, {"action": [str(i) for i in ids], "to": "deferred",
                                 "due": new_due, "reason": "budget in Q2", "person": "Pat"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was changed" in text
    assert "Step three: It is no longer awaiting a decision: it is “Agreed”" in text
    for action_id in ids[:2]:  # still ticked
        assert f'value="{action_id}" id="pick-{action_id}" checked' in text
    assert 'checked><label for="bulk-defer">' in text
    assert f'value="{new_due}"' in text and 'value="budget in Q2"' in text
    assert 'value="Pat"' in text
    assert [stored(world, i) for i in ids] == before

    # A refusal by the rules (a deferral without its reason) saves none either.
    no_reason = post(world, url, {"action": [str(i) for i in ids[:2]], "to": "deferred",
                                  "due": new_due})
    text = no_reason.get_data(as_text=True)
    assert no_reason.status_code == 422
    assert "Step one: Say why it is deferred" in text and "Step two: Say why" in text
    nothing = post(world, url, {"to": "agreed", "due": now.isoformat()})
    assert nothing.status_code == 422 and "Tick at least one" in nothing.get_data(as_text=True)
    bad_date = post(world, url, {"action": [str(ids[0])], "to": "agreed", "due": "tomorrow"})
    assert bad_date.status_code == 422
    assert "“tomorrow” is not a date we can read" in bad_date.get_data(as_text=True)
    # An action of another client of the same firm: not this roadmap's.
    _, other_ids = make_client(world, [proposed("Someone else's step")], name="Other client")
    foreign = post(world, url, {"action": [str(ids[0]), str(other_ids[0])], "to": "agreed",
                                "due": now.isoformat()})
    assert foreign.status_code == 404
    assert [stored(world, i) for i in ids] == before


def test_bulk_is_all_or_nothing_when_one_was_moved_meanwhile(world, monkeypatch):
    client_id, ids = make_client(world, [proposed("Step one"), proposed("Step two")])
    before = [stored(world, i) for i in ids]
    real_save, saves = actions.save_decision, []

    def second_lost(db, firm_id, decision):  # the second was moved by someone else meanwhile
        saves.append(decision.action.id)
        return real_save(db, firm_id, decision) if len(saves) == 1 else False

    monkeypatch.setattr(actions, "save_decision", second_lost)
    response = post(world, f"/workspace/clients/{client_id}/roadmap/bulk",
                    {"action": [str(i) for i in ids], "to": "agreed",
                     "due": (today() + timedelta(days=30)).isoformat(), "person": "Sam"})
    assert response.status_code == 409
    assert "Someone changed one of these actions" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert saves == ids
    assert [stored(world, i) for i in ids] == before  # the first one's save was undone too


def test_details_are_saved_with_an_event_saying_what_changed(world):
    _, (action_id,) = make_client(world, [proposed("Turn on two-step sign-in", person="Sam")])
    url = f"/workspace/actions/{action_id}/details"
    saved = post(world, url, {"person": "Sam", "ticket": "INC-1042", "notes": "Called them.",
                              "actual_cost": "1,200"})
    assert saved.status_code == 303
    kept, history = stored(world, action_id)
    assert (kept.ticket, kept.notes, kept.actual_cost, kept.status) == (
        "INC-1042", "Called them.", 1200, Status.PROPOSED)
    assert (history[-1].from_status, history[-1].to_status, history[-1].reason) == (
        Status.PROPOSED, Status.PROPOSED,
        "ticket set to INC-1042; notes changed; actual cost set to 1,200")

    for cost in ("12.50", "-3", "£40", "9" * 12):
        refused = post(world, url, {"person": "Sam", "ticket": "X", "notes": "",
                                    "actual_cost": cost})
        assert refused.status_code == 422, cost
        assert f'value="{cost}"' in refused.get_data(as_text=True)
    long_ticket = post(world, url, {"person": "Sam", "ticket": "T" * 201, "notes": ""})
    assert long_ticket.status_code == 422
    assert "Keep the ticket reference under 200" in long_ticket.get_data(as_text=True)
    assert stored(world, action_id)[1] == history  # refusals wrote nothing


# ---- evidence --------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def upload(world, action_id: int, body: bytes, filename: str):
    from io import BytesIO

    return post(world, f"/workspace/actions/{action_id}/evidence",
                {"file": (BytesIO(body), filename)}, content_type="multipart/form-data")


def evidence_of(world, action_id: int):
    db = open_db(world)
    try:
        return evidence.action_evidence(db, world["a"]["firm_id"], action_id)
    finally:
        db.close()


def test_a_file_over_10_mb_is_refused_with_a_clear_message(world):
    _, (action_id,) = make_client(world, [proposed("Turn on two-step sign-in")])
    response = upload(world, action_id, b"%PDF-1.4\n" + b"0" * (MAX_BYTES + 1 - 9),
                      "scan.pdf")
    text = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "larger than 10 MB, the limit" in text and "Turn on two-step sign-in" in text
    # Far over the limit: still a page that says so, never a 500.
    huge = upload(world, action_id, b"%PDF-1.4\n" + b"0" * (MAX_BYTES + 512 * 1024), "x.pdf")
    assert huge.status_code == 413
    assert "the limit for a file of evidence is 10 MB" in huge.get_data(as_text=True)
    assert evidence_of(world, action_id) == []


@pytest.mark.parametrize("body, filename", [
    (b"<!doctype html><script>alert(1)</script>", "report.html"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "picture.pdf"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "setup.exe"),
])
def test_a_file_that_could_run_something_is_refused(world, body, filename):
    _, (action_id,) = make_client(world, [proposed("Turn on two-step sign-in")])
    response = upload(world, action_id, body, filename)
    assert response.status_code == 400
    assert "cannot be kept as evidence" in response.get_data(as_text=True)
    assert evidence_of(world, action_id) == []


def test_a_pdf_is_kept_and_downloaded_as_an_attachment(world):
    _, (action_id,) = make_client(world, [proposed("Turn on two-step sign-in")])
    response = upload(world, action_id, PDF, "../../scans/proof.exe")
    assert response.status_code == 303
    (kept,) = evidence_of(world, action_id)
    page = get(world, f"/workspace/actions/{action_id}").get_data(as_text=True)
    assert f'href="/workspace/evidence/{kept["id"]}"' in page
    download = get(world, f"/workspace/evidence/{kept['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    # The name without its folders, and the extension of what the file really is.
    assert disposition == 'attachment; filename=proof.pdf'


def test_links_must_be_web_addresses_and_open_safely(world):
    _, (action_id,) = make_client(world, [proposed("Turn on two-step sign-in")])
    url = f"/workspace/actions/{action_id}/evidence"
    refused = post(world, url, {"link": "javascript:alert(1)", "name": "Ticket"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Enter a web address starting with https://" in text
    assert 'value="javascript:alert(1)"' in text  # kept to correct, never a link
    assert 'href="javascript:' not in text
    assert post(world, url, {}).status_code == 400
    added = post(world, url, {"link": "https://tickets.example/INC-1042", "name": "Ticket"})
    assert added.status_code == 303
    page = get(world, f"/workspace/actions/{action_id}").get_data(as_text=True)
    assert ('<a href="https://tickets.example/INC-1042" target="_blank" '
            'rel="noopener noreferrer">Ticket') in page


# ---- another firm ----------------------------------------------------------------------------

def dump(world) -> list[str]:
    return every_row(world["app"] if isinstance(world, dict) else world)


def test_another_firm_gets_404_on_every_roadmap_route_and_nothing_changes(world):
    client_id, (action_id, other_id) = make_client(world, [proposed("Turn on two-step"),
                                                           proposed("Test a restore")])
    upload(world, action_id, PDF, "proof.pdf")
    (file_row,) = evidence_of(world, action_id)
    due = (today() + timedelta(days=9)).isoformat()
    cases = {
        "workspace.roadmap": ("GET", f"/workspace/clients/{client_id}/roadmap", {}),
        "workspace.roadmap_bulk": ("POST", f"/workspace/clients/{client_id}/roadmap/bulk",
                                   {"action": [str(action_id)], "to": "agreed", "due": due}),
        "workspace.action": ("GET", f"/workspace/actions/{action_id}", {}),
        "workspace.move_action": ("POST", f"/workspace/actions/{action_id}/move",
                                  {"to": "agreed", "due": due}),
        "workspace.action_details": ("POST", f"/workspace/actions/{action_id}/details",
                                     {"ticket": "STOLEN"}),
        "workspace.add_evidence": ("POST", f"/workspace/actions/{action_id}/evidence",
                                   {"link": "https://evil.example/"}),
        "workspace.evidence_file": ("GET", f"/workspace/evidence/{file_row['id']}", {}),
    }
    app = world["app"]
    from assessment.web.workspace import roadmap

    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if app.view_functions[rule.endpoint].__module__ == roadmap.__name__}
    assert routes == set(cases)  # a new route of the roadmap gets a case here
    # Firm B's own client, in whose bulk form firm A's action id is slipped.
    b_client, _ = make_client(world, [proposed("B's step")], firm="b", name="B client")
    cases["bulk into B's client"] = ("POST", f"/workspace/clients/{b_client}/roadmap/bulk",
                                     {"action": [str(other_id)], "to": "agreed", "due": due})
    stranger = world["app"].test_client()
    stranger_token = csrf_token(stranger.get("/").get_data(as_text=True))
    for who in ("b", "stranger"):
        for name, (method, url, data) in cases.items():
            before = dump(world)
            if who == "b":
                response = get(world, url, "b") if method == "GET" else post(world, url, data,
                                                                             "b")
            else:
                response = stranger.open(url, method=method,
                                         data={"csrf_token": stranger_token, **data})
            assert response.status_code == 404, (who, name, response.status_code)
            assert "Turn on two-step" not in response.get_data(as_text=True)
            assert dump(world) == before, (who, name)
