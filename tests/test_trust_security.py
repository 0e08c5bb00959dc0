"""Findings of a security review, one section each: who may join or rename a firm, what the audit
log may hold, file permissions, out-of-range ids and unsafe return paths, invite links that could
tell whether an address is registered, and the development server's request log and headers."""

from __future__ import annotations

import json
import logging

import pytest

from assessment.storage import accounts, connect

from .workspace_fixtures import PASSWORD, csrf_token, make_member, sign_in


@pytest.fixture
def adb(app):
    database = connect(app.config["DATABASE"])
    yield database
    database.close()


def admin_args(firm: str, email: str, name: str = "New Admin") -> list[str]:
    return ["users", "create", "--admin", "--firm", firm, "--email", email, "--name", name,
            "--password-stdin"]


def save_branding(browser, name: str):
    token = csrf_token(browser.get("/workspace/branding").get_data(as_text=True))
    return browser.post("/workspace/branding", content_type="multipart/form-data", data={
        "csrf_token": token, "name": name, "primary_colour": "#0d5c63",
        "accent_colour": "#b5541b", "contact_line": "", "disclaimer": ""})


# ---- 5. a new admin never lands in another firm by its name ---------------------------------

def test_cli_refuses_an_admin_for_a_firm_name_that_exists_and_says_how_to_proceed(runner, app,
                                                                                  adb):
    make_member(app)  # Northgate IT
    result = runner.invoke(args=admin_args(" northgate  it ", "mallory@evil.example"),
                           input=PASSWORD + "\n")
    assert result.exit_code == 1
    assert "--firm: a firm called 'Northgate IT' already exists" in result.output
    assert "--join-existing-firm" in result.output and "choose another name" in result.output
    assert "Traceback" not in result.output
    assert adb["users"].count == 1 and adb["firms"].count == 1


def test_cli_joins_an_existing_firm_only_when_told_to(runner, app, adb):
    ana = make_member(app)
    result = runner.invoke(args=admin_args("NORTHGATE IT", "bo@northgate.example") +
                           ["--join-existing-firm"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "existing firm" in result.output
    bo = accounts.find_user_by_email(adb, "bo@northgate.example")
    assert bo.firm_id == ana["firm_id"] and bo.is_admin
    # The flag never creates a firm: a misspelt name is an error, not a new firm.
    result = runner.invoke(args=admin_args("Northgate ITT", "cy@northgate.example") +
                           ["--join-existing-firm"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "--firm: there is no firm called" in result.output
    assert adb["firms"].count == 1


def test_storage_refuses_a_second_firm_of_the_same_name(app, adb):
    make_member(app)
    for name in ("Northgate IT", "NORTHGATE  it", " northgate it"):
        with pytest.raises(accounts.AccountError) as error:
            accounts.create_firm(adb, name)
        assert error.value.field == "firm"
    assert accounts.create_firm(adb, "Northgate IT Services")  # a different name is fine


def test_an_admin_cannot_rename_their_firm_to_another_firms_name(app, adb):
    make_member(app)  # Northgate IT
    eve = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    browser = app.test_client()
    assert sign_in(browser, eve["email"]).status_code == 303
    for name in ("Northgate IT", "northgate   IT"):
        response = save_branding(browser, name)
        assert response.status_code == 422, name
        page = response.get_data(as_text=True)
        assert accounts.FIRM_NAME_TAKEN in page and 'href="#name"' in page
        assert accounts.get_firm(adb, eve["firm_id"])["name"] == "Elsewhere Ltd"
    # Its own name, in other letters, and a new name are both fine.
    assert save_branding(browser, "ELSEWHERE LTD").status_code == 303
    assert save_branding(browser, "Elsewhere Consulting").status_code == 303
    assert accounts.get_firm(adb, eve["firm_id"])["name"] == "Elsewhere Consulting"


# ---- 6. a password typed into the email box never reaches the audit log ---------------------

def audit_events(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "it_health.audit"]


def test_a_password_typed_as_the_email_is_not_logged(app, client, caplog):
    caplog.set_level(logging.INFO, logger="it_health.audit")
    make_member(app)
    app.config["SIGNIN_RATE_LIMIT"] = 100
    typed_in_wrong_box = "my very secret passphrase 42"
    for email in (typed_in_wrong_box, "Hunter2Hunter2!", "ana@", "ana@northgate"):
        assert sign_in(client, email, PASSWORD).status_code == 400
    events = audit_events(caplog)
    assert [e["event"] for e in events] == ["sign_in_failed"] * 4
    assert all(e["email_invalid"] is True and "email" not in e for e in events)
    for value in (typed_in_wrong_box, "Hunter2Hunter2!", "ana@"):
        assert value not in caplog.text


def test_a_well_formed_email_is_still_logged_on_a_failed_or_locked_sign_in(app, client, caplog):
    caplog.set_level(logging.INFO, logger="it_health.audit")
    ana = make_member(app)
    for _ in range(accounts.LOCK_AFTER + 1):
        sign_in(client, ana["email"], "not the password at all")
    events = audit_events(caplog)
    assert {e["event"] for e in events} == {"sign_in_failed", "account_locked"}
    assert all(e["email"] == ana["email"] and "email_invalid" not in e for e in events)
