"""Smoke tests for the browser-test harness, run against the real app's home page."""

import pytest

pytestmark = pytest.mark.e2e


def test_home_page_on_desktop(live_server, page, screenshot):
    response = page.goto(live_server.url + "/")
    assert response is not None
    assert response.status == 200
    assert page.title().strip(), "the home page has an empty <title>"
    assert screenshot(page, "home-desktop").stat().st_size > 0


def test_home_page_on_phone(live_server, phone_page, screenshot):
    response = phone_page.goto(live_server.url + "/")
    assert response is not None
    assert response.status == 200
    assert phone_page.title().strip(), "the home page has an empty <title>"
    assert screenshot(phone_page, "home-phone").stat().st_size > 0


def test_home_page_without_javascript(live_server, nojs_page):
    response = nojs_page.goto(live_server.url + "/")
    assert response is not None
    assert response.status == 200
    assert nojs_page.title().strip(), "the home page has an empty <title>"


def test_home_page_has_no_axe_violations(live_server, page, assert_no_axe_violations):
    page.goto(live_server.url + "/")
    assert_no_axe_violations(page)
