"""The owner's private roadmap link: the firm makes it (shown once), replaces or cancels it; the
owner opens it without an account, sees what waits on them, on their IT provider, what was done
since the last review and their score trend, and may only mark their own actions done, comment
on them and add evidence: never a date, a person or any other status, never another client's
action. A link that was cancelled or replaced opens nothing.

One app per engine for the module; each test makes its own client and link through storage."""

from __future__ import annotations

import io
import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from assessment import create_app
from assessment.core.actions import Action, Status
from assessment.storage import actions, connect, evidence, roadmap_links
from assessment.storage import clients as store
from assessment.storage.times import stamp
from assessment.support.config import database
from assessment.support.evidence_files import MAX_BYTES, UPLOAD_REQUEST_BYTES
from assessment.web.roadmap_link import OWNER

from .workspace_fixtures import csrf_token, make_member, sign_in

pytestmark = pytest.mark.both_backends

TODAY = datetime.now(UTC).date()
NAMES = itertools.count(1)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory, module_database_url):
    folder = tmp_path_factory.mktemp("roadmap-link")
    app = create_app({"TESTING": True, "SECRET_KEY": "roadmap-link-secret",
                      "DATABASE": str(folder / "r.sqlite"), "DATABASE_URL": module_database_url,
                      "REPORT_DIR": str(folder / "reports")})
    a = make_member(app, firm="Northgate IT", email="ana@northgate.example", name="Ana Lee")
    b = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    for member in (a, b):
        member["browser"] = app.test_client()
        assert sign_in(member["browser"], member["email"]).status_code == 303
    return {"app": app, "a": a, "b": b}


class Db:
    def __init__(self, app):
        self.db = connect(database(app.config))

    def __enter__(self):
        return self.db

    def __exit__(self, *exc):
        self.db.close()


def action(client_id: int, title: str, party: str, status: Status = Status.AGREED,
           due: date | None = None, **more) -> Action:
    return Action(id=None, client_id=client_id, title=title, why=f"Why {title}.",
                  workstream="Security", party=party, status=status, due=due,
                  original_due=due if status is not Status.PROPOSED else None,
                  person=more.pop("person", "Sam Owner"), **more)


@pytest.fixture
def roadmap(world):
    """A client of firm A with one action of each kind, another client with one action of its
    own, two finished assessments (58 then 66) and the owner's link."""
    app, firm = world["app"], world["a"]["firm_id"]
    n = next(NAMES)
    with Db(app) as db:
        client = store.create_client(db, firm, name=f"Harbour Dental {n}")
        other = store.create_client(db, firm, name=f"Other Client {n}")
        ids = {}
        for key, made in {
            "late": action(client, "Back up the front desk PC", "client",
                           due=TODAY - timedelta(days=5)),
            "soon": action(client, "Train the staff on phishing", "client",
                           status=Status.IN_PROGRESS, due=TODAY + timedelta(days=20)),
            "provider": action(client, "Turn on two-step sign-in for email", "provider",
                               due=TODAY + timedelta(days=10), person="Acme IT"),
            "vendor": action(client, "Replace the old router", "vendor",
                             due=TODAY - timedelta(days=2), person="NetCo"),
            "proposed": action(client, "Buy a second backup disk", "client",
                               status=Status.PROPOSED),
            "verified": action(client, "Update the laptops", "provider",
                               status=Status.VERIFIED, due=TODAY - timedelta(days=30),
                               verified_on=TODAY - timedelta(days=3)),
            "old": action(client, "Change the wifi password", "client",
                          status=Status.VERIFIED, due=TODAY - timedelta(days=300),
                          verified_on=TODAY - timedelta(days=200)),
            "foreign": action(other, "Another client's own task", "client",
                              due=TODAY + timedelta(days=3)),
        }.items():
            ids[key] = actions.add_action(db, firm, made, who="test", on=TODAY)
        for score, month in ((58, "2026-03-10"), (66, "2026-09-20")):
            assessment_id = store.start_client_assessment(
                db, app.extensions["bank"], firm, client, mode="interview",
                created_by=world["a"]["user_id"])
            moment = f"{month}T10:00:00.000+00:00"
            with db.write():
                db.execute("UPDATE assessments SET status = 'finished', finished_at = ?, "
                           "closed_at = ?, final_score = ? WHERE id = ?",
                           [moment, moment, score, assessment_id])
        token = roadmap_links.create_link(db, firm, client, world["a"]["user_id"])
    return {"client": client, "other": other, "ids": ids, "token": token,
            "url": f"/roadmap/{token}", "firm": firm}


def owner_post(world, r, path: str, data: dict | None = None, **kwargs):
    """A post from the owner's browser, with the CSRF token of their page."""
    browser = world.setdefault("owner", world["app"].test_client())
    page = browser.get(r["url"]).get_data(as_text=True)
    return browser.post(r["url"] + path, data={"csrf_token": csrf_token(page), **(data or {})},
                        **kwargs)


def state(world, r, key: str):
    with Db(world["app"]) as db:
        found = actions.get_action(db, r["firm"], r["ids"][key])
        return (found, actions.action_events(db, r["firm"], r["ids"][key]),
                evidence.action_evidence(db, r["firm"], r["ids"][key]))


def section(page: str, heading_id: str) -> str:
    """The text of one section of the owner's page, by its heading's id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert match, f"no section {heading_id}"
    return match.group(1)


# ---- what the owner sees ---------------------------------------------------------------------

def test_groups_trend_and_names(world, roadmap):
    response = world["app"].test_client().get(roadmap["url"])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Harbour Dental" in page and "Northgate IT" in page

    yours = section(page, "yours-heading")
    assert "Back up the front desk PC" in yours and "Train the staff on phishing" in yours
    assert "Turn on two-step" not in yours
    # Overdue says so in words, with the date it was due.
    late = (TODAY - timedelta(days=5))
    assert re.search(r"Overdue:</strong> was due " + rf"{late.day} \w+ {late.year} \(5 days ago\)",
                     yours)
    theirs = section(page, "theirs-heading")
    assert "Turn on two-step sign-in for email" in theirs and "IT provider: Acme IT" in theirs
    assert "Replace the old router" in theirs and "Other vendor: NetCo" in theirs
    assert "Overdue:" in theirs  # the vendor's router is late too
    done = section(page, "done-heading")
    assert "Done in the last 90 days" in done  # no review locked yet
    assert "Update the laptops" in done and "Verified" in done
    assert "Change the wifi password" not in done  # done long before
    # Proposed actions wait for a decision, not on anyone; another client's are not here.
    assert "Buy a second backup disk" not in page
    assert "Another client" not in page
    score = section(page, "score-heading")
    assert re.search(r"58 .*→.* 66", score) and "Up 8 points since the assessment of Mar 2026" \
        in score


def test_done_since_the_last_locked_review(world, roadmap):
    with Db(world["app"]) as db, db.write():
        moment = stamp(datetime.now(UTC) - timedelta(days=2))
        db.execute("INSERT INTO reviews (firm_id, client_id, period_start, period_end, status, "
                   "created_at, updated_at, locked_at) VALUES (?, ?, ?, ?, 'locked', ?, ?, ?)",
                   [roadmap["firm"], roadmap["client"], "2026-01-01", "2026-03-31", moment,
                    moment, moment])
    page = world["app"].test_client().get(roadmap["url"]).get_data(as_text=True)
    done = section(page, "done-heading")
    assert "Done since the last review" in done
    assert "Update the laptops" not in done  # verified three days ago, before the review


def test_headers_keep_the_page_private(world, roadmap):
    browser = world["app"].test_client()
    for response in (browser.get(roadmap["url"]), browser.get("/roadmap/not-a-real-token")):
        assert "noindex" in response.headers["X-Robots-Tag"]
        assert response.headers["Cache-Control"] == "no-store"
        # Nothing of this address (its token) goes to another site.
        assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
        assert '<meta name="robots" content="noindex, nofollow">' in response.get_data(
            as_text=True)


# ---- the owner's updates -----------------------------------------------------------------------

def test_marking_their_own_action_done_ignores_dates_and_writes_one_event(world, roadmap):
    before, events, _ = state(world, roadmap, "late")
    response = owner_post(world, roadmap, f"/actions/{roadmap['ids']['late']}/done",
                          {"due": "2030-01-01", "to": "verified", "person": "Someone Else",
                           "original_due": "2030-01-01", "status": "verified"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"{roadmap['url']}#action-{roadmap['ids']['late']}")
    after, history, _ = state(world, roadmap, "late")
    assert after.status is Status.DONE and after.done_on == TODAY
    assert (after.due, after.original_due, after.person, after.pushes) == (
        before.due, before.original_due, before.person, before.pushes)
    assert len(history) == len(events) + 1
    assert (history[-1].who, history[-1].from_status, history[-1].to_status) == (
        OWNER, Status.AGREED, Status.DONE)
    page = world["owner"].get(response.headers["Location"]).get_data(as_text=True)
    assert "Marked done: “Back up the front desk PC”" in page
    # Pressed twice: nothing more is written, and the owner is told it is done already.
    twice = owner_post(world, roadmap, f"/actions/{roadmap['ids']['late']}/done")
    assert twice.status_code == 303 and len(state(world, roadmap, "late")[1]) == len(history)
    page = world["owner"].get(twice.headers["Location"]).get_data(as_text=True)
    assert "was marked done already" in page
    assert "Back up the front desk PC" not in section(page, "yours-heading")
    assert "Back up the front desk PC" in section(page, "done-heading")


@pytest.mark.parametrize("key", ["provider", "vendor", "proposed"])
def test_what_is_not_theirs_to_mark_is_refused_with_no_event(world, roadmap, key):
    before, events, _ = state(world, roadmap, key)
    response = owner_post(world, roadmap, f"/actions/{roadmap['ids'][key]}/done")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert ("only they can change it" in page if key != "proposed"
            else "mark your own agreed actions as done" in page)
    after, history, _ = state(world, roadmap, key)
    assert after == before and history == events


def test_comments_and_evidence_on_a_providers_action_are_refused(world, roadmap):
    key = "provider"
    path = f"/actions/{roadmap['ids'][key]}"
    assert owner_post(world, roadmap, path + "/comment", {"comment": "Done?"}).status_code == 403
    assert owner_post(world, roadmap, path + "/evidence",
                      {"url": "https://example.com/t/1"}).status_code == 403
    _, history, kept = state(world, roadmap, key)
    assert len(history) == 1 and kept == []


def test_another_clients_action_is_not_there_for_this_link(world, roadmap):
    path = f"/actions/{roadmap['ids']['foreign']}"
    before = state(world, roadmap, "foreign")
    for ending, data in (("/done", {}), ("/comment", {"comment": "mine?"}),
                         ("/evidence", {"url": "https://example.com/x"})):
        assert owner_post(world, roadmap, path + ending, data).status_code == 404, ending
    assert owner_post(world, roadmap, "/actions/999999/done").status_code == 404
    assert state(world, roadmap, "foreign") == before


def test_a_comment_is_kept_as_an_event_that_changes_nothing(world, roadmap):
    key = "soon"
    before, events, _ = state(world, roadmap, key)
    response = owner_post(world, roadmap, f"/actions/{roadmap['ids'][key]}/comment",
                          {"comment": "  Booked for the 12th, with the whole team.  ",
                           "due": "2030-01-01", "to": "dropped"})
    assert response.status_code == 303
    after, history, _ = state(world, roadmap, key)
    assert after == before
    assert len(history) == len(events) + 1
    kept = history[-1]
    assert (kept.who, kept.from_status, kept.to_status, kept.reason, kept.on) == (
        OWNER, Status.IN_PROGRESS, Status.IN_PROGRESS, "Booked for the 12th, with the whole team.",
        TODAY)
    page = world["owner"].get(roadmap["url"]).get_data(as_text=True)
    assert "Your comment is saved" in page and "Booked for the 12th" in page


@pytest.mark.parametrize("typed, message", [
    ("", "Write your comment first."),
    ("x" * 2001, "Keep the comment under 2,000 characters"),
])
def test_a_refused_comment_is_shown_again_and_nothing_is_kept(world, roadmap, typed, message):
    key = "soon"
    _, events, _ = state(world, roadmap, key)
    response = owner_post(world, roadmap, f"/actions/{roadmap['ids'][key]}/comment",
                          {"comment": typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f">\n{typed}</textarea>" in page  # a browser drops the first line break
    assert state(world, roadmap, key)[1] == events


def test_evidence_a_file_and_a_link(world, roadmap):
    key = "late"
    response = owner_post(world, roadmap, f"/actions/{roadmap['ids'][key]}/evidence",
                          {"file": (io.BytesIO(PDF), "backup log.pdf"),
                           "url": "https://tickets.example.com/t/42", "label": "The ticket"},
                          content_type="multipart/form-data")
    assert response.status_code == 303
    _, _, kept = state(world, roadmap, key)
    assert [(e["kind"], e["name"], e["added_by"]) for e in kept] == [
        ("file", "backup log.pdf", OWNER), ("link", "The ticket", OWNER)]
    page = world["owner"].get(roadmap["url"]).get_data(as_text=True)
    assert "backup log.pdf" in page and 'href="https://tickets.example.com/t/42"' in page


@pytest.mark.parametrize("upload, data, status, message", [
    ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00", 400, "cannot be kept as evidence"),
    ("page.html", b"<html><script>alert(1)</script>", 400, "cannot be kept as evidence"),
    ("big.pdf", b"%PDF-" + b"0" * MAX_BYTES, 413, "larger than 10 MB, the limit"),
    ("huge.pdf", b"%PDF-" + b"0" * UPLOAD_REQUEST_BYTES, 413, "larger than 10 MB"),
    (None, None, 400, "Enter a web address starting with https://"),
])
def test_refused_evidence_saves_nothing_and_says_why(world, roadmap, upload, data, status,
                                                      message):
    key = "late"
    form = {"url": "not a link", "label": "Our ticket"} if upload is None else {
        "file": (io.BytesIO(data), upload)}
    response = owner_post(world, roadmap, f"/actions/{roadmap['ids'][key]}/evidence", form,
                          content_type="multipart/form-data")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page
    if upload is None:  # what was typed is there again
        assert 'value="not a link"' in page and 'value="Our ticket"' in page
    assert state(world, roadmap, key)[2] == []


def test_a_form_without_its_csrf_token_saves_nothing_and_keeps_the_text(world, roadmap):
    key = "soon"
    _, events, _ = state(world, roadmap, key)
    response = world["app"].test_client().post(
        f"{roadmap['url']}/actions/{roadmap['ids'][key]}/comment",
        data={"comment": "Typed before the page expired"})
    assert response.status_code == 400
    assert "Typed before the page expired</textarea>" in response.get_data(as_text=True)
    assert state(world, roadmap, key)[1] == events


# ---- links that no longer work ---------------------------------------------------------------

def test_a_cancelled_link_opens_nothing_and_takes_no_posts(world, roadmap):
    owner_page = world.setdefault("owner", world["app"].test_client())
    token = csrf_token(owner_page.get(roadmap["url"]).get_data(as_text=True))
    with Db(world["app"]) as db:
        ref = roadmap_links.live_link_for(db, roadmap["firm"], roadmap["client"])["ref"]
        assert roadmap_links.cancel_link(db, roadmap["firm"], ref)
    response = owner_page.get(roadmap["url"])
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This link no longer works" in page and "Ask your consultant for a new one" in page
    assert "Harbour Dental" not in page and "Back up" not in page
    before = state(world, roadmap, "late")
    path = f"{roadmap['url']}/actions/{roadmap['ids']['late']}"
    for ending, data in (("/done", {}), ("/comment", {"comment": "late"}),
                         ("/evidence", {"url": "https://example.com/a"})):
        assert owner_page.post(path + ending, data={"csrf_token": token, **data}
                               ).status_code == 410, ending
    assert state(world, roadmap, "late") == before
    assert world["app"].test_client().get("/roadmap/never-a-link").status_code == 404


def test_guessing_tokens_is_slowed_down(world):
    guesser = world["app"].test_client()
    answers = [guesser.get(f"/roadmap/guess-{n}", environ_base={"REMOTE_ADDR": "192.0.2.7"})
               for n in range(21)]
    assert [r.status_code for r in answers[:20]] == [404] * 20
    assert answers[20].status_code == 429 and "Retry-After" in answers[20].headers


def test_an_expired_link_opens_nothing(world, roadmap):
    with Db(world["app"]) as db, db.write():
        db.execute("UPDATE roadmap_links SET expires_at = ? WHERE client_id = ?",
                   [stamp(datetime.now(UTC) - timedelta(seconds=1)), roadmap["client"]])
    assert world["app"].test_client().get(roadmap["url"]).status_code == 410


# ---- the firm's side ---------------------------------------------------------------------------

def member_post(world, who: str, path: str, data: dict | None = None):
    browser = world[who]["browser"]
    token = csrf_token(browser.get("/workspace/").get_data(as_text=True))
    return browser.post(path, data={"csrf_token": token, **(data or {})})


LINK = re.compile(r'id="share-link"[^>]*value="[^"]*/roadmap/([^"]+)"')


def test_made_shown_once_replaced_and_cancelled_from_the_workspace(world, roadmap):
    client = roadmap["client"]
    made = member_post(world, "a", f"/workspace/clients/{client}/roadmap-link")
    assert made.status_code == 200
    page = made.get_data(as_text=True)
    assert "shown once" in page and "The old link no longer works" in page
    first = LINK.search(page).group(1)
    # The fixture's link was replaced by this one.
    assert world["app"].test_client().get(roadmap["url"]).status_code == 410
    assert world["app"].test_client().get(f"/roadmap/{first}").status_code == 200

    client_page = world["a"]["browser"].get(f"/workspace/clients/{client}").get_data(as_text=True)
    assert first not in client_page
    assert "The owner's roadmap link" in client_page and "by Ana Lee" in client_page

    again = member_post(world, "a", f"/workspace/clients/{client}/roadmap-link")
    second = LINK.search(again.get_data(as_text=True)).group(1)
    assert world["app"].test_client().get(f"/roadmap/{first}").status_code == 410
    with Db(world["app"]) as db:
        live = roadmap_links.live_link_for(db, roadmap["firm"], client)
        assert live["token_hash"] != second and second not in str(live)
        count = db.one("SELECT COUNT(*) AS n FROM roadmap_links WHERE client_id = ? AND "
                       "cancelled_at IS NULL", [client])["n"]
    assert count == 1

    cancelled = member_post(world, "a", f"/workspace/roadmap-links/{live['ref']}/cancel")
    assert cancelled.status_code == 303
    assert cancelled.headers["Location"].endswith(f"/workspace/clients/{client}"
                                                  "#owner-roadmap-link")
    assert world["app"].test_client().get(f"/roadmap/{second}").status_code == 410
    after = world["a"]["browser"].get(f"/workspace/clients/{client}").get_data(as_text=True)
    assert "has no working roadmap link now" in after


def test_another_firm_cannot_make_or_cancel_the_link(world, roadmap):
    def links_of_client():
        with Db(world["app"]) as db:
            return db.rows("SELECT * FROM roadmap_links WHERE client_id = ? ORDER BY id",
                           [roadmap["client"]])

    before = links_of_client()
    ref = before[-1]["ref"]
    assert member_post(world, "b", f"/workspace/clients/{roadmap['client']}/roadmap-link"
                       ).status_code == 404
    assert member_post(world, "b", f"/workspace/roadmap-links/{ref}/cancel").status_code == 404
    assert links_of_client() == before
    assert world["app"].test_client().get(roadmap["url"]).status_code == 200
    # Signed out, the workspace's routes say nothing either: the same 404.
    stranger = world["app"].test_client()
    token = csrf_token(stranger.get("/").get_data(as_text=True))
    for path in (f"/workspace/clients/{roadmap['client']}/roadmap-link",
                 f"/workspace/roadmap-links/{ref}/cancel"):
        assert stranger.post(path, data={"csrf_token": token}).status_code == 404, path
    assert links_of_client() == before
