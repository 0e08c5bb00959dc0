"""A link a client trusts: a firm's self-assessment link opens on a welcome page in the firm's
branding (who sent it, why, how long, what the firm sees, how the link works) that changes
nothing until its button; the client's pages carry the firm's name, logo and colour; what the
firm's record holds is filled in for the client to check; and the consultant sees where the
client typed something else. The browser side is in tests/e2e/test_client_link.py."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from assessment.storage import accounts, connect, get_assessment, stored_answers
from assessment.storage import clients as store
from assessment.support.branding import clean_logo
from assessment.support.config import database as database_of
from assessment.web.branded import staff_of

from .workspace_fixtures import csrf_token, make_member, open_client_link, sign_in

pytestmark = pytest.mark.both_backends

OWNER_KEYS = ("assessment_id", "resume_token", "pending_resume")


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


def session_of(browser) -> dict:
    with browser.session_transaction() as session:
        return dict(session)


def post_with_token(browser, url: str, data: dict | None = None, page: str = "/"):
    token = csrf_token(browser.get(page, follow_redirects=True).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **(data or {})})


def text_of(response) -> str:
    """The page's words, tags removed and spaces folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


@pytest.fixture
def firm(app, adb):
    """Northgate IT, with branding and a contact line, its consultant Ana Smith signed in, and
    a client on record as "Harbour Dental", 12 staff."""
    member = make_member(app, name="Ana Smith")
    browser = app.test_client()
    assert sign_in(browser, member["email"]).status_code == 303
    accounts.update_branding(adb, member["firm_id"], name="Northgate IT",
                             primary_colour="#0d5c63", accent_colour="#b5541b",
                             contact_line="help@northgate.example · 020 7946 0000")
    client_id = store.create_client(adb, member["firm_id"], name="Harbour Dental",
                                    sector="Dentistry", size="12 staff")
    return {**member, "browser": browser, "client_id": client_id}


def make_link(firm: dict) -> str:
    made = post_with_token(firm["browser"],
                           f"/workspace/clients/{firm['client_id']}/self-assessment")
    return re.search(r'id="share-link"[^>]*value="([^"]+)"',
                     made.get_data(as_text=True)).group(1)


def record_of(adb, firm: dict) -> dict:
    [record] = store.client_assessments(adb, firm["firm_id"], firm["client_id"])
    return record


# ---- the welcome page ----------------------------------------------------------------------

def test_the_welcome_page_says_who_why_how_long_what_is_shared_and_how_the_link_works(
        app, adb, firm):
    link = make_link(firm)
    welcome = app.test_client().get(link)
    assert welcome.status_code == 200
    text = text_of(welcome)
    assert "Your IT health check with Northgate IT" in text
    assert "Ana Smith at Northgate IT sent you this link" in text  # who
    assert "Contact Northgate IT: help@northgate.example · 020 7946 0000" in text
    assert "Northgate IT uses your answers to see what works" in text  # why
    assert re.search(r"About \d+ minutes, for \d+ questions", text)  # how long
    assert "What Northgate IT will see" in text
    assert "Every answer you give" in text
    assert "They stay with Northgate IT, unless they choose to show one to you" in text
    assert "Anyone who has this link can see and change your answers" in text  # the link
    from assessment.web.dates import day
    assert f"It works until {day(record_of(adb, firm)['link_expires_at'])}" in text
    assert "Start the health check" in text
    assert "IT health check by Northgate IT" in text  # the firm's header
    assert "It never asks for a password" in text


def test_nothing_changes_until_the_button_is_pressed(app, adb, firm):
    link = make_link(firm)
    client = app.test_client()
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 200  # again: still the welcome page
    assert not any(key in session_of(client) for key in OWNER_KEYS)
    assert record_of(adb, firm)["link_opened_at"] is None  # the firm does not see it opened
    assert client.get("/assessment/").status_code == 404  # nothing open in this browser

    # A form on another site cannot press the button for the visitor.
    forged = client.post(link, headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 400 and "Nothing was changed" in text_of(forged)
    # Nor can our own form without its token.
    assert client.post(link).status_code == 400
    assert not any(key in session_of(client) for key in OWNER_KEYS)
    assert record_of(adb, firm)["link_opened_at"] is None

    opened = open_client_link(client, link)
    assert opened.status_code == 303
    assert opened.headers["Location"].startswith("/assessment/section/profile")
    assert session_of(client)["assessment_id"] == record_of(adb, firm)["id"]
    assert record_of(adb, firm)["link_opened_at"] is not None
    # Open in this browser now: the link goes straight on, with no welcome page.
    again = client.get(link)
    assert again.status_code == 303 and again.headers["Location"].startswith("/assessment/")


def test_an_expired_form_shows_the_welcome_page_again(app, firm):
    link = make_link(firm)
    client = app.test_client()
    client.get(link)
    with client.session_transaction() as session:
        session.pop("csrf_token", None)  # as when the browser's session ended meanwhile
    again = client.post(link, data={"csrf_token": "stale"})
    assert again.status_code == 400
    assert "Your IT health check with Northgate IT" in text_of(again)
    assert "Press the button again" in text_of(again)
    assert not any(key in session_of(client) for key in OWNER_KEYS)


def test_with_another_assessment_open_the_button_still_asks_first(app, adb, firm):
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    assert owner.post("/assessment/start",
                      data={"csrf_token": csrf_token(landing)}).status_code == 303
    mine = session_of(owner)["assessment_id"]
    link = make_link(firm)
    assert owner.get(link).status_code == 200  # the welcome page, nothing replaced
    assert session_of(owner)["assessment_id"] == mine
    pressed = owner.post(link, data={"csrf_token": csrf_token(owner.get(link).get_data(
        as_text=True))})
    assert pressed.status_code == 303 and pressed.headers["Location"] == "/assessment/switch"
    assert session_of(owner)["assessment_id"] == mine  # asked first, as any link does


def test_a_member_of_the_firm_is_offered_the_workspace_not_the_welcome(app, firm):
    link = make_link(firm)
    opened = firm["browser"].get(link)
    assert opened.status_code == 303 and opened.headers["Location"] == "/assessment/switch"


def test_a_continued_or_finished_assessment_says_so_on_its_button(app, adb, firm):
    from assessment.core.bank import Answer
    from assessment.storage import save_answer

    link = make_link(firm)
    record = record_of(adb, firm)
    save_answer(adb, record["id"], "backup.automatic", base_version=0, source="owner",
                answer=Answer("answered", "daily"))
    text = text_of(app.test_client().get(link))
    assert "Continue the health check" in text and re.search(r"You have answered 1 of \d+", text)
    assert store.close_assessment(adb, firm["firm_id"], record["id"])
    text = text_of(app.test_client().get(link))
    assert "See your answers and results" in text
    assert "Northgate IT has finished this health check" in text


def test_cancelled_and_expired_links_still_get_their_clear_page(app, adb, firm):
    link = make_link(firm)
    record = record_of(adb, firm)
    assert store.cancel_self_link(adb, firm["firm_id"], record["id"])
    for response in (app.test_client().get(link), post_with_token(app.test_client(), link)):
        assert response.status_code == 410
        assert "Northgate IT cancelled it" in text_of(response)
    fresh = app.test_client()
    assert not any(key in session_of(fresh) for key in OWNER_KEYS)
    assert record_of(adb, firm)["link_opened_at"] is None


def test_an_owners_own_link_opens_at_once_as_before(app):
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    owner.post("/assessment/start", data={"csrf_token": csrf_token(landing)})
    token = session_of(owner)["resume_token"]
    opened = app.test_client().get(f"/assessment/resume/{token}")
    assert opened.status_code == 303


# ---- the firm's branding on the client's pages ---------------------------------------------

def logo_png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (600, 200), "#0d5c63").save(picture, format="PNG")
    return clean_logo(picture.getvalue())


def test_the_clients_pages_carry_the_firms_name_logo_and_colour(app, adb, firm):
    accounts.update_branding(adb, firm["firm_id"], name="Northgate IT", logo=logo_png(),
                             primary_colour="#5b2a86")
    client = app.test_client()
    open_client_link(client, make_link(firm))
    for path in ("/assessment/", "/assessment/section/backup", "/assessment/review"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, path
        assert 'class="site-header firm-header"' in html, path
        assert "IT health check by <strong>Northgate IT</strong>" in html, path
        assert "--firm: #5b2a86" in html, path
        assert "· IT health check by Northgate IT</title>" in html, path
    logo_url = re.search(r'<img class="firm-logo" src="([^"]+)"', html).group(1)
    served = app.test_client().get(logo_url)  # the address is the key: no session needed
    assert served.status_code == 200 and served.mimetype == "image/png"
    with Image.open(io.BytesIO(served.get_data())) as small:
        assert small.height <= 96  # the header's size, not the upload's
    # Another firm's number, or a guessed key, gets nothing.
    assert app.test_client().get(logo_url.replace("/logo.png", "x/logo.png")).status_code == 404
    other = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    assert app.test_client().get(re.sub(r"/brand/\d+/", f"/brand/{other['firm_id']}/",
                                        logo_url)).status_code == 404


def test_an_owner_without_a_firm_sees_the_products_own_header(app):
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    owner.post("/assessment/start", data={"csrf_token": csrf_token(landing)})
    html = owner.get("/assessment/section/profile").get_data(as_text=True)
    assert '<header class="site-header">' in html and "firm-header" not in html
    assert "IT health check by" not in html and "--firm" not in html
    assert 'class="prefilled"' not in html
    assert "· IT Health Assessment</title>" in html


def test_a_colour_that_white_text_cannot_sit_on_is_never_behind_text(app, adb, firm):
    link = make_link(firm)
    accounts.update_branding(adb, firm["firm_id"], name="Northgate IT",
                             primary_colour="#ffd400")  # 1.4 to 1 with white
    html = app.test_client().get(link).get_data(as_text=True)
    assert "welcome-band" not in html and "--firm: #ffd400" in html
    accounts.update_branding(adb, firm["firm_id"], name="Northgate IT",
                             primary_colour="#5b2a86")  # 10 to 1 with white
    assert "welcome-band" in app.test_client().get(link).get_data(as_text=True)


# ---- what the firm's record holds, filled in ------------------------------------------------

def profile_page(client) -> str:
    return client.get("/assessment/section/profile").get_data(as_text=True)


def value_of(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def save_profile(client, page: str, **fields):
    with client.session_transaction() as session:
        token = session["resume_token"]
    return client.post("/assessment/section/profile", data={
        "csrf_token": csrf_token(page), "resume": token, **fields})


def test_the_business_name_is_filled_in_from_the_firms_records(app, adb, firm):
    client = app.test_client()
    open_client_link(client, make_link(firm))
    page = profile_page(client)
    assert value_of(page, "q_profile__business_name") == "Harbour Dental"
    assert value_of(page, "q_profile__staff_count") == "12"
    labels = re.findall(r'<p class="prefilled" id="([^"]+)">([^<]*)</p>', page)
    assert [label for _, label in labels] == [
        "From Northgate IT&#39;s records: change it if it is not right."] * 2
    assert 'aria-describedby="from-q_profile__business_name"' in page
    # Shown, not saved: the answer is the client's once they save the page.
    record = record_of(adb, firm)
    assert "profile.business_name" not in stored_answers(adb, record["id"], "owner")
    assert save_profile(client, page, q_profile__business_name="Harbour Dental",
                        q_profile__staff_count="12").status_code == 303
    saved = stored_answers(adb, record["id"], "owner")
    assert saved["profile.business_name"].answer.value == "Harbour Dental"
    assert 'class="prefilled"' not in profile_page(client)  # the client's own answer now


def test_a_name_the_client_empties_stays_empty(app, adb, firm):
    client = app.test_client()
    open_client_link(client, make_link(firm))
    page = profile_page(client)
    assert save_profile(client, page, q_profile__business_name="",
                        q_profile__staff_count="").status_code == 303
    again = profile_page(client)
    assert value_of(again, "q_profile__business_name") == ""
    assert 'class="prefilled"' not in again


def test_the_consultant_sees_where_the_client_typed_another_name(app, adb, firm):
    client = app.test_client()
    open_client_link(client, make_link(firm))
    record = record_of(adb, firm)
    workspace = f"/workspace/assessments/{record['id']}"
    assert "record-differences" not in firm["browser"].get(workspace).get_data(as_text=True)

    save_profile(client, profile_page(client), q_profile__business_name="harbour  dental",
                 q_profile__staff_count="12")
    assert "record-differences" not in firm["browser"].get(workspace).get_data(as_text=True)

    save_profile(client, profile_page(client), q_profile__business_name="Harbour Dental Care",
                 q_profile__staff_count="14",
                 v_q_profile__business_name="1", v_q_profile__staff_count="1")
    text = text_of(firm["browser"].get(workspace))
    assert "The business name: the client typed “Harbour Dental Care”; your record says " \
           "“Harbour Dental”." in text
    assert "The number of staff: the client typed “14”; your record says “12”." in text
    html = firm["browser"].get(workspace).get_data(as_text=True)
    assert f'href="/workspace/clients/{firm["client_id"]}"' in html
    assert f'href="/workspace/assessments/{record["id"]}/interview/profile"' in html


def test_another_firm_sees_nothing_of_the_client(app, adb, firm):
    client = app.test_client()
    open_client_link(client, make_link(firm))
    other = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    browser = app.test_client()
    sign_in(browser, other["email"])
    record = record_of(adb, firm)
    assert browser.get(f"/workspace/assessments/{record['id']}").status_code == 404
    assert get_assessment(adb, record["id"])["firm_id"] == firm["firm_id"]


@pytest.mark.parametrize("size, staff", [("12", 12), ("12 staff", 12), ("about 40 people", 40),
                                         ("10-20", None), ("", None), ("small", None),
                                         ("0", None)])
def test_a_records_size_is_a_number_of_staff_only_when_it_says_one(size, staff):
    assert staff_of(size) == staff
