"""A firm's own price list: an admin saves figures for one currency and the firm's reports use
them; every kind of bad figure is refused with a message that says how to fix it (422, nothing
saved); the form needs its CSRF token; consultants and other firms' admins cannot see or change
it. On SQLite and on PostgreSQL."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment import create_app
from assessment.core.prices import FIRM_SOURCE, cost_range, default_price_list
from assessment.storage import accounts, connect
from assessment.support.config import database

from .workspace_fixtures import csrf_token, make_member, sign_in

pytestmark = pytest.mark.both_backends

GOOD = {"currency": "gbp", "low_low": "100", "low_high": "£900", "medium_low": "1,000",
        "medium_high": "4 000", "high_low": "5000", "high_high": "20000"}
EMPTY = {key: "" for key in GOOD}


@pytest.fixture
def app(tmp_path, database_url):
    return create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": str(tmp_path / "p.sqlite"),
                       "REPORT_DIR": str(tmp_path / "reports")})


def signed_in(app, **member):
    person = make_member(app, **member)
    browser = app.test_client()
    assert sign_in(browser, person["email"], person["password"]).status_code == 303
    return browser, person


def save(browser, **fields):
    token = csrf_token(browser.get("/workspace/prices").get_data(as_text=True))
    return browser.post("/workspace/prices", data={"csrf_token": token, **fields})


def stored(app, firm_id):
    db = connect(database(app.config))
    try:
        return accounts.firm_price_list(db, firm_id)
    finally:
        db.close()


def errors(page: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*><span[^>]*>Error: </span>([^<]*)', page)


def test_an_admin_saves_the_firms_prices_and_reports_use_them(app):
    browser, admin = signed_in(app)
    response = save(browser, **GOOD)
    assert response.status_code == 303
    saved = stored(app, admin["firm_id"])
    assert saved["currency"] == "gbp"
    assert saved["bands"] == {"low": [100, 900], "medium": [1000, 4000], "high": [5000, 20000]}
    page = browser.get("/workspace/prices").get_data(as_text=True)
    assert "Your own prices in Pound sterling" in page
    assert 'name="medium_high" type="text" value="4000"' in page

    from assessment.web import reports
    with app.app_context():
        prices = reports.prices_of(reports.get_db(), admin["firm_id"])
        assert prices.sources[FIRM_SOURCE].title == "Prices set by Northgate IT"
        assert cost_range("medium", False, 15, "gbp", prices).high == 4000
        # Other currencies keep the typical prices; an owner on their own gets them all.
        assert prices.currencies["usd"] == default_price_list().currencies["usd"]
        assert reports.prices_of(reports.get_db(), None) is default_price_list()


def test_going_back_to_the_typical_prices(app):
    browser, admin = signed_in(app)
    assert save(browser, **GOOD).status_code == 303
    token = csrf_token(browser.get("/workspace/prices").get_data(as_text=True))
    response = browser.post("/workspace/prices", data={"csrf_token": token, "use_typical": "1"})
    assert response.status_code == 303
    assert stored(app, admin["firm_id"]) is None
    # Saving the form with every figure empty does the same.
    assert save(browser, **GOOD).status_code == 303
    assert save(browser, **EMPTY).status_code == 303
    assert stored(app, admin["firm_id"]) is None
    with app.app_context():
        from assessment.web import reports
        assert reports.prices_of(reports.get_db(), admin["firm_id"]) is default_price_list()


@pytest.mark.parametrize("change, message", [
    ({"low_low": "-50"}, "Enter the lowest figure for low cost as 0 or more: a cost cannot be "
                         "negative."),
    ({"medium_high": "lots"}, "Enter the highest figure for medium cost in digits, like 1200 "
                              "or 1,200."),
    ({"high_low": "30000", "high_high": "20000"}, "For high cost, the first figure (30,000) is "
                                                  "more than the second (20,000). Put the lower "
                                                  "figure first."),
    ({"low_high": ""}, "Enter the highest figure for low cost too, or leave every figure empty "
                       "to use the typical prices."),
    ({"currency": ""}, "Choose the currency your prices are in."),
    ({"currency": "jpy"}, "Choose the currency your prices are in."),
    ({"low_low": "9.500"}, "For the lowest figure for low cost, “9.500” can be read as 9,500 "
                           "or 9.5. Type it without the dot, like 9500."),
    ({"medium_low": "1" * 200}, "Enter the lowest figure for medium cost in digits, like 1200 "
                                "or 1,200."),
    ({"high_high": "99999999"}, "Enter the highest figure for high cost under 10,000,000."),
])
def test_bad_figures_are_refused_with_how_to_fix_them(app, change, message):
    browser, admin = signed_in(app)
    response = save(browser, **{**GOOD, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in errors(page), errors(page)
    assert "There is a problem" in page or "There are problems" in page
    assert stored(app, admin["firm_id"]) is None


def test_whatever_is_typed_gets_a_save_or_a_message_never_an_error(app):
    browser, admin = signed_in(app)
    token = csrf_token(browser.get("/workspace/prices").get_data(as_text=True))
    typed = st.one_of(st.text(max_size=30), st.sampled_from(
        ["1e9", "NaN", "inf", "-0", "1,000.50", "0x10", "£", "€1.234,5", " 12 ", "١٢"]))

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(st.sampled_from(sorted(GOOD)), typed))
    def post(values):
        response = browser.post("/workspace/prices",
                                data={"csrf_token": token, **GOOD, **values})
        assert response.status_code in (303, 422), response.status_code
        if response.status_code == 422:
            assert errors(response.get_data(as_text=True)), values
        saved = stored(app, admin["firm_id"])
        if saved is not None:
            assert saved["currency"] in ("usd", "gbp", "eur", "cad", "aud", "nzd")
            assert all(0 <= low <= high for low, high in saved["bands"].values())

    post()


def test_a_bad_save_keeps_the_prices_saved_before(app):
    browser, admin = signed_in(app)
    assert save(browser, **GOOD).status_code == 303
    assert save(browser, **{**GOOD, "low_low": "-1"}).status_code == 422
    assert stored(app, admin["firm_id"])["bands"]["low"] == [100, 900]


def test_the_form_needs_its_csrf_token(app):
    browser, admin = signed_in(app)
    response = browser.post("/workspace/prices", data=GOOD)
    assert response.status_code == 400
    assert stored(app, admin["firm_id"]) is None


def test_consultants_cannot_see_or_change_the_prices(app):
    signed_in(app)  # the firm and its admin
    browser, consultant = signed_in(app, email="ben@northgate.example", role="consultant")
    assert browser.get("/workspace/prices").status_code == 403
    token = csrf_token(browser.get("/workspace/").get_data(as_text=True))
    response = browser.post("/workspace/prices", data={"csrf_token": token, **GOOD})
    assert response.status_code == 403
    assert stored(app, consultant["firm_id"]) is None
    assert "/workspace/prices" not in browser.get("/workspace/").get_data(as_text=True)


def test_another_firms_admin_sees_and_changes_only_their_own(app):
    ana, northgate = signed_in(app)
    assert save(ana, **GOOD).status_code == 303
    eve, elsewhere = signed_in(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    page = eve.get("/workspace/prices").get_data(as_text=True)
    assert "Your own prices" not in page and 'value="20000"' not in page
    assert save(eve, **{**GOOD, "currency": "usd", "high_high": "30000"}).status_code == 303
    assert save(eve, use_typical="1").status_code == 303
    assert stored(app, elsewhere["firm_id"]) is None
    assert stored(app, northgate["firm_id"])["bands"]["high"] == [5000, 20000]


def test_storage_keeps_one_list_per_firm(db):
    first, second = accounts.create_firm(db, "First IT"), accounts.create_firm(db, "Second IT")
    assert accounts.firm_price_list(db, first) is None
    bands = {"low": (1, 2), "medium": (2, 3.5), "high": (4, 5)}
    assert accounts.set_firm_price_list(db, first, "eur", bands)
    saved = accounts.firm_price_list(db, first)
    assert saved["currency"] == "eur" and saved["bands"]["medium"] == [2, 3.5]
    assert accounts.firm_price_list(db, second) is None
    assert accounts.set_firm_price_list(db, first)
    assert accounts.firm_price_list(db, first) is None
    assert not accounts.set_firm_price_list(db, 999_999, "eur", bands)
