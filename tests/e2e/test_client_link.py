"""A link a client trusts, in a real browser: the welcome page a firm's self-assessment link opens
on (phone and desktop), the client's pages in the firm's branding with what the firm's record
holds filled in, the consultant's notice when the client typed another name, and the product's
own header for an owner on their own. Every page is checked with axe-core (contrast included)
and for sideways scrolling. Screenshots go to tests/artifacts/screenshots/client-link-*.png.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from conftest import PHONE
from playwright.sync_api import expect
from wizard_helpers import path_of, submit
from workspace_helpers import database, horizontal_overflow, other_page, sign_in

from tests.workspace_fixtures import make_member

pytestmark = pytest.mark.e2e  # on SQLite only: see conftest.py


def logo() -> bytes:
    """A firm's logo as firms upload them: a mark and the name, on white."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse([10, 10, 110, 110], fill=(91, 42, 134))
    draw.rectangle([40, 40, 80, 80], fill=(230, 160, 40))
    draw.text((130, 40), "NORTHGATE IT", fill=(40, 40, 40), font_size=40)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def firm_with_client(app: Any, firm: str, email: str, *, primary: str = "#5b2a86",
                     client: str = "Harbour Dental") -> tuple[dict, str]:
    """A branded firm, its consultant, a client on record with 12 staff, and a
    self-assessment link for that client. Returns (member, link path)."""
    from assessment.storage import accounts
    from assessment.storage import clients as store
    from assessment.support.branding import clean_logo
    from assessment.web import owner

    member = make_member(app, firm=firm, email=email, name="Ana Smith")
    token, token_hash = owner.new_resume_token()
    with database(app) as db:
        accounts.update_branding(db, member["firm_id"], name=firm, logo=clean_logo(logo()),
                                 primary_colour=primary, accent_colour="#e6a028",
                                 contact_line="0161 555 0100 · help@northgate.example")
        client_id = store.create_client(db, member["firm_id"], name=client, size="12 staff")
        store.start_client_assessment(db, app.extensions["bank"], member["firm_id"], client_id,
                                      mode="self", created_by=member["user_id"],
                                      resume_token_hash=token_hash)
    member["client_id"] = client_id
    return member, f"/assessment/resume/{token}"


def no_sideways_scroll(page: Any, what: str) -> None:
    overflow, wide = horizontal_overflow(page)
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px: {wide}"


def test_the_welcome_page_on_a_phone_and_a_desktop(live_server, page, browser, screenshot,
                                                    assert_no_axe_violations):
    base, app = live_server.url, live_server.app
    _, link = firm_with_client(app, "Northgate IT", "ana@northgate.example")
    with other_page(browser, **PHONE) as phone:
        response = phone.goto(base + link)
        assert response.status == 200 and path_of(phone.url) == link  # nothing opened yet
        main = phone.locator("main")
        expect(phone.locator("h1")).to_have_text("Your IT health check with Northgate IT")
        expect(main).to_contain_text("Ana Smith at Northgate IT sent you this link")
        expect(main).to_contain_text("0161 555 0100 · help@northgate.example")
        expect(main).to_contain_text("What Northgate IT will see")
        expect(main).to_contain_text("Anyone who has this link can see and change your answers")
        expect(main).to_contain_text("minutes, for")
        expect(phone.locator(".site-header")).to_contain_text("IT health check by Northgate IT")
        expect(phone.locator(".firm-logo")).to_be_visible()
        no_sideways_scroll(phone, "the welcome page on a phone")
        screenshot(phone, "client-link-welcome-phone")
        assert_no_axe_violations(phone)

    response = page.goto(base + link)
    assert response.status == 200
    no_sideways_scroll(page, "the welcome page on a desktop")
    screenshot(page, "client-link-welcome-desktop")
    assert_no_axe_violations(page)
    # Nothing is open until the button: the overview has nothing to show.
    assert page.goto(base + "/assessment/").status == 404
    page.goto(base + link)
    submit(page, "Start the health check")
    assert path_of(page.url) == "/assessment/section/profile"


def test_the_clients_pages_carry_the_firm_and_start_from_its_record(
        live_server, page, browser, screenshot, assert_no_axe_violations):
    base, app = live_server.url, live_server.app
    member, link = firm_with_client(app, "Quayside IT", "quinn@quayside.example",
                                    client="Mill Lane Vets")
    page.goto(base + link)
    submit(page, "Start the health check")
    name = page.locator("#q_profile__business_name")
    expect(name).to_have_value("Mill Lane Vets")
    expect(page.locator("#from-q_profile__business_name")).to_have_text(
        "From Quayside IT's records: change it if it is not right.")
    expect(page.locator("#q_profile__staff_count")).to_have_value("12")
    header = page.locator(".site-header")
    expect(header).to_contain_text("IT health check by Quayside IT")
    expect(header.locator("img.firm-logo")).to_be_visible()
    stripe = page.evaluate("() => getComputedStyle(document.querySelector('.site-header'))"
                           ".borderBottomColor")
    assert stripe == "rgb(91, 42, 134)", stripe  # the firm's colour, as a stripe
    screenshot(page, "client-link-section-branded")
    assert_no_axe_violations(page)

    # The client corrects the name: the consultant sees the difference.
    name.fill("Mill Lane Veterinary Centre")
    submit(page, "Save and continue")
    with other_page(browser) as consultant:
        sign_in(consultant, base, member)
        from assessment.storage import clients as store
        with database(app) as db:
            [record] = store.client_assessments(db, member["firm_id"], member["client_id"])
        consultant.goto(base + f"/workspace/assessments/{record['id']}")
        notice = consultant.locator(".record-differences")
        expect(notice).to_contain_text("the client typed “Mill Lane Veterinary Centre”; your "
                                       "record says “Mill Lane Vets”")
        screenshot(consultant, "client-link-workspace-difference")
        assert_no_axe_violations(consultant)

    # The results keep the product's band colours whatever the firm's colour.
    page.goto(base + "/assessment/")
    expect(page.locator(".site-header")).to_contain_text("IT health check by Quayside IT")
    assert_no_axe_violations(page)


def test_a_pale_brand_colour_never_sits_behind_text(live_server, page,
                                                    assert_no_axe_violations, screenshot):
    base, app = live_server.url, live_server.app
    _, link = firm_with_client(app, "Sunny Side IT", "sam@sunny.example", primary="#ffd400")
    page.goto(base + link)
    expect(page.locator(".welcome-band")).to_have_count(0)
    screenshot(page, "client-link-welcome-pale-colour")
    assert_no_axe_violations(page, options={"runOnly": ["color-contrast"]})
    submit(page, "Start the health check")
    assert_no_axe_violations(page, options={"runOnly": ["color-contrast"]})


def test_an_owner_on_their_own_sees_the_products_header(live_server, page):
    base = live_server.url
    page.goto(base + "/")
    submit(page, "Start the free assessment")
    header = page.locator(".site-header")
    expect(header).to_contain_text("IT Health Assessment")
    expect(header).not_to_contain_text("IT health check by")
    expect(page.locator(".firm-header")).to_have_count(0)
    expect(page.locator(".prefilled")).to_have_count(0)
