"""Firm branding: the settings page refuses bad logos and colours with a clear message, and a
good logo and colour really appear on the PDF cover."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from assessment import create_app
from assessment.storage import accounts, connect
from assessment.support.config import database

from .test_branding import claims_size, image_bytes
from .tools import tool
from .workspace_fixtures import csrf_token, make_member, sign_in

pytestmark = pytest.mark.both_backends


@pytest.fixture
def admin(tmp_path, database_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": str(tmp_path / "b.sqlite"),
                      "REPORT_DIR": str(tmp_path / "reports")})
    member = make_member(app)
    browser = app.test_client()
    sign_in(browser, member["email"], member["password"])
    return app, browser, member


def save(browser, **fields):
    token = csrf_token(browser.get("/workspace/branding").get_data(as_text=True))
    data = {"csrf_token": token, "name": "Northgate IT", "primary_colour": "#0d5c63",
            "accent_colour": "#b5541b", "contact_line": "", "disclaimer": "", **fields}
    return browser.post("/workspace/branding", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("upload, message", [
    ((b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024 + 10), "big.png"), "the limit is 2 MB"),
    ((claims_size(image_bytes("PNG", (1, 1)), 30000, 30000), "huge.png"), "million"),
    ((image_bytes("PNG", (300, 300))[:400], "cut.png"), "could not be read completely"),
    ((b"this is a text file, not a picture", "logo.png"), "not a PNG or JPEG"),
    ((b'<svg xmlns="http://www.w3.org/2000/svg"/>', "logo.svg"), "SVG logos are not accepted"),
])
def test_bad_logos_are_refused_with_a_clear_message(admin, upload, message):
    app, browser, member = admin
    content, filename = upload  # a fresh file for each run: the upload closes it
    response = save(browser, logo=(io.BytesIO(content), filename))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db = connect(database(app.config))
    assert accounts.firm_branding(db, member["firm_id"])["logo"] is None
    db.close()


def test_bad_colour_is_refused(admin):
    _, browser, _ = admin
    response = save(browser, primary_colour="red; background:url(x)")
    assert response.status_code == 422
    assert "six hex digits" in response.get_data(as_text=True)


def test_low_contrast_colour_is_saved_with_a_warning(admin):
    _, browser, _ = admin
    response = save(browser, primary_colour="#ffee00")
    assert response.status_code == 303
    page = browser.get("/workspace/branding").get_data(as_text=True)
    assert "below the 4.5 to 1 that WCAG AA asks for" in page


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_good_logo_and_colour_appear_on_the_pdf_cover(admin, fmt, tmp_path):
    app, browser, member = admin
    logo = image_bytes(fmt, (240, 90), (200, 30, 30))
    response = save(browser, primary_colour="#aa3300",
                    logo=(io.BytesIO(logo), f"logo.{fmt.lower()}"))
    assert response.status_code == 303
    assert browser.get("/workspace/branding/logo").data.startswith(b"\x89PNG")
    pdf = browser.get("/workspace/branding/preview.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    cover = PdfReader(io.BytesIO(pdf.data)).pages[0]
    assert len(cover.images) >= 1, "the logo is on the cover"
    assert "Northgate IT" in cover.extract_text()
    pdftoppm = tool("pdftoppm", "poppler-utils")  # to check the cover colour
    (tmp_path / "r.pdf").write_bytes(pdf.data)
    subprocess.run([pdftoppm, "-png", "-r", "30", "-f", "1", "-l", "1", str(tmp_path / "r.pdf"),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(1_000_000)
    most = max((c for c in colours if c[1] != (255, 255, 255)), default=(0, None))[1]
    assert most == (0xaa, 0x33, 0x00), f"the cover's main colour is the brand colour, got {most}"
