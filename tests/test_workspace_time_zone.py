"""The firm's time zone: an admin chooses it on Settings (from the list of IANA zones, checked);
every date and time in the workspace is shown in it with the zone's short name; stored times
stay UTC; owners' pages are not affected."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from assessment.core.history import trend
from assessment.storage import accounts, connect
from assessment.storage import clients as store
from assessment.support.config import database as database_of
from assessment.web import dates

from .workspace_fixtures import csrf_token, make_member, sign_in

pytestmark = pytest.mark.both_backends


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


def signed_in(app, **kwargs):
    member = make_member(app, **kwargs)
    browser = app.test_client()
    assert sign_in(browser, member["email"]).status_code == 303
    member["browser"] = browser
    return member


def save_zone(browser, value: str):
    token = csrf_token(browser.get("/workspace/settings").get_data(as_text=True))
    return browser.post("/workspace/settings", data={"csrf_token": token, "time_zone": value})


def test_the_firm_time_zone_is_stored_and_read_back(db):
    firm_id = accounts.create_firm(db, "Northgate IT")
    assert accounts.firm_time_zone(db, firm_id) is None
    assert accounts.set_firm_time_zone(db, firm_id, "Europe/Paris")
    assert accounts.firm_time_zone(db, firm_id) == "Europe/Paris"
    assert accounts.set_firm_time_zone(db, firm_id, None)
    assert accounts.firm_time_zone(db, firm_id) is None
    assert not accounts.set_firm_time_zone(db, firm_id + 99, "Europe/Paris")


def test_settings_offers_every_zone_defaults_to_utc_and_lets_the_browser_fill_it(app):
    ana = signed_in(app)
    page = ana["browser"].get("/workspace/settings")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "has not chosen a time zone yet" in text and "in UTC" in text
    assert '<option selected value="UTC">UTC</option>' in text
    assert 'value="Europe/Paris"' in text and 'value="America/New_York"' in text
    assert 'value="Etc/GMT+5"' not in text  # "GMT+5" there means five hours behind
    assert "data-browser-default" in text and "settings.js" in text
    assert '<a href="/workspace/settings"' in ana["browser"].get("/workspace/") \
        .get_data(as_text=True)  # in the menu, for admins

    saved = save_zone(ana["browser"], "Europe/Paris")
    assert saved.status_code == 303
    text = ana["browser"].get("/workspace/settings").get_data(as_text=True)
    assert "Saved. Your workspace now shows times in Europe/Paris" in text
    assert '<option selected value="Europe/Paris">Europe/Paris</option>' in text
    assert "data-browser-default" not in text  # chosen: the browser fills nothing


@pytest.mark.parametrize("value", ["", "Mars/Olympus", "Etc/GMT+5", "localtime",
                                   "Europe/Paris\n", "../../etc/passwd"])
def test_a_zone_not_in_the_list_is_refused_and_nothing_changes(app, adb, value):
    ana = signed_in(app)
    accounts.set_firm_time_zone(adb, ana["firm_id"], "Europe/Lisbon")
    refused = save_zone(ana["browser"], value)
    assert refused.status_code == 422
    assert "Choose a time zone from the list" in refused.get_data(as_text=True)
    assert accounts.firm_time_zone(adb, ana["firm_id"]) == "Europe/Lisbon"


def test_only_admins_choose_the_time_zone(app):
    make_member(app)
    ben = signed_in(app, email="ben@northgate.example", role="consultant")
    assert ben["browser"].get("/workspace/settings").status_code == 403
    token = csrf_token(ben["browser"].get("/workspace/").get_data(as_text=True))
    assert ben["browser"].post("/workspace/settings", data={
        "csrf_token": token, "time_zone": "Europe/Paris"}).status_code == 403
    assert '"/workspace/settings"' not in ben["browser"].get("/workspace/").get_data(as_text=True)


def test_workspace_times_are_shown_in_the_firm_zone_with_its_short_name(app, adb):
    ana = signed_in(app, name="Ana Smith")
    client_id = store.create_client(adb, ana["firm_id"], name="Harbour Dental")
    made = []
    for stamp in ("2026-12-07T08:14:00+00:00", "2026-07-07T08:14:00+00:00"):
        a = store.start_client_assessment(adb, app.extensions["bank"], ana["firm_id"],
                                          client_id, mode="interview",
                                          created_by=ana["user_id"])
        adb.execute("UPDATE assessments SET created_at = ? WHERE id = ?", [stamp, a])
        made.append(a)
    page = f"/workspace/clients/{client_id}"
    text = ana["browser"].get(page).get_data(as_text=True)
    assert "7 Dec 2026, 08:14 UTC" in text and "7 Jul 2026, 08:14 UTC" in text

    save_zone(ana["browser"], "Europe/Paris")
    text = ana["browser"].get(page).get_data(as_text=True)
    assert "7 Dec 2026, 09:14 CET" in text and "7 Jul 2026, 10:14 CEST" in text
    assert "08:14 UTC" not in text
    text = ana["browser"].get(f"/workspace/assessments/{made[0]}").get_data(as_text=True)
    assert "started 7 Dec 2026, 09:14 CET by Ana Smith" in text
    text = ana["browser"].get(f"{page}/compare?a={made[0]}&b={made[1]}").get_data(as_text=True)
    assert "From 7 Dec 2026, 09:14 CET (interview by Ana Smith) to 7 Jul 2026, 10:14 CEST" in text
    # Stored times stay UTC.
    row = next(a for a in store.client_assessments(adb, ana["firm_id"], client_id)
               if a["id"] == made[0])
    assert row["created_at"] == "2026-12-07T08:14:00+00:00"

    # A day is the firm's day: 23:30 UTC is the next morning in Tokyo.
    adb.execute("UPDATE assessments SET created_at = ? WHERE id = ?",
                ["2026-12-31T23:30:00+00:00", made[0]])
    save_zone(ana["browser"], "Asia/Tokyo")
    text = ana["browser"].get(page).get_data(as_text=True)
    assert "1 Jan 2027, 08:30 JST" in text


def test_a_zone_without_letters_is_named_by_its_offset(app):
    with app.test_request_context():
        moment = datetime(2026, 12, 7, 8, 14, tzinfo=UTC).astimezone(
            ZoneInfo("America/Sao_Paulo"))
        assert dates.abbreviation(moment) == "UTC-03"
        assert dates.day_time("2026-12-07T08:14:00+00:00") == "7 Dec 2026, 08:14 UTC"


def test_owner_pages_stay_in_utc_while_a_member_is_signed_in(app, adb):
    ana = signed_in(app)
    accounts.set_firm_time_zone(adb, ana["firm_id"], "Asia/Tokyo")
    with app.test_request_context("/assessment/"):
        assert dates.zone() is UTC


def test_the_trend_tells_two_assessments_of_one_local_day_apart_by_their_local_times(bank):
    from assessment.core.scoring import score

    result = score(bank, {})._replace(score=50)
    rows = [({"created_at": "2026-03-03T23:30:00+00:00"}, result),
            ({"created_at": "2026-03-04T08:00:00+00:00"}, result)]
    assert [label for label, _ in trend(rows)] == ["Mar 2026", "Mar 2026"]  # two UTC days
    assert [label for label, _ in trend(rows, ZoneInfo("Asia/Tokyo"))] == [
        "4 Mar 08:30", "4 Mar 17:00"]  # one day in Tokyo
