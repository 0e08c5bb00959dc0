"""The report's inputs and its HTML: branding validation, the browser page with CSP nonces,
autoescaping, and the data behind the risk register (no WeasyPrint needed here)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from assessment.report import (
    DEFAULT_BRANDING,
    Branding,
    BrandingError,
    ReportInput,
    render_html,
    render_print_html,
)
from assessment.report.content import build_context, impact_of, likelihood_of, rating_of
from assessment.scoring import parse_answers, score

from .conftest import FIXTURES, ROOT


@pytest.fixture(scope="module")
def break_fix(bank):
    raw = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
    answers, errors = parse_answers(bank, raw)
    assert not errors
    return ReportInput(result=score(bank, answers), business_name=raw["profile.business_name"],
                       assessed_on=date(2025, 3, 12))


def test_default_branding_is_the_product():
    assert DEFAULT_BRANDING.firm_name == "IT Health Assessment"
    assert DEFAULT_BRANDING.primary == "#0d5c63"
    assert DEFAULT_BRANDING.accent == "#b5541b"
    assert DEFAULT_BRANDING.logo_png_or_jpeg is None


@pytest.mark.parametrize("colour", ["red", "#abc", "#12345g", "#1234567", "#123456;}",
                                    "#123456\n", "rgb(1,2,3)", " #123456", None, 123456])
def test_brand_colours_must_be_strict_hex(colour):
    with pytest.raises(BrandingError) as error:
        Branding(primary=colour)
    assert error.value.field == "primary"


def test_brand_colour_is_normalised():
    assert Branding(accent="#AA3300").accent == "#aa3300"


@pytest.mark.parametrize("logo", [b"GIF89a....", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  b"\x89PNG" + b"x" * (2 * 1024 * 1024 + 1), "not bytes"])
def test_logo_must_be_png_or_jpeg_bytes_within_2mb(logo):
    with pytest.raises(BrandingError) as error:
        Branding(logo_png_or_jpeg=logo)
    assert error.value.field == "logo"


def test_branding_text_is_one_line_and_bounded():
    brand = Branding(firm_name="  Acme\r\nIT  ", contact="a\tb")
    assert brand.firm_name == "Acme IT" and brand.contact == "a b"
    with pytest.raises(BrandingError):
        Branding(firm_name="   ")
    with pytest.raises(BrandingError):
        Branding(disclaimer="x" * 401)


def test_business_name_falls_back(break_fix):
    report = ReportInput(result=break_fix.result, business_name="  ")
    assert report.business_name == "Your business"
    assert "Your business" in render_html(report)


def test_browser_page_is_standalone_and_carries_the_nonce(break_fix):
    html = render_html(break_fix, nonce="r4nd0m-N0nce_value")
    styles = re.findall(r"<style[^>]*>", html)
    assert styles and all(tag == '<style nonce="r4nd0m-N0nce_value">' for tag in styles)
    assert "<script" not in html and " style=" not in html, "nothing a nonce CSP would block"
    assert "@font-face" in html and "data:font/otf;base64," in html
    assert "<link" not in html and "http://" not in html.replace("http://www.w3.org", "")
    with pytest.raises(ValueError):
        render_html(break_fix, nonce='x" onload="alert(1)')


def test_print_html_and_browser_html_are_the_same_report(break_fix):
    def body(html):
        return html.split("<body>", 1)[1]

    assert body(render_html(break_fix)) == body(render_print_html(break_fix))


def test_templates_autoescape_and_never_mark_user_data_safe():
    for path in (ROOT / "report_templates").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), path.name
        assert "autoescape false" not in text, path.name
        assert "style=" not in text, f"{path.name}: no style attributes (CSP, and no user CSS)"


def test_brand_colours_are_the_only_variable_css(break_fix):
    html = render_print_html(ReportInput(result=break_fix.result,
                                         branding=Branding(primary="#aa3300")))
    assert ":root { --primary: #aa3300; --accent: #b5541b; }" in html


# ---------------------------------------------------------------- risk register rules


def test_likelihood_comes_from_the_share_of_points():
    assert likelihood_of(0.0) == "Likely"
    assert likelihood_of(0.2) == "Possible"
    assert likelihood_of(0.49) == "Possible"
    assert likelihood_of(0.5) == "Unlikely"
    assert likelihood_of(0.9) == "Unlikely"


def test_impact_comes_from_weight_and_critical_flag(bank):
    by_id = {o.question.id: o for o in score(bank, {}).outcomes}
    for outcome in by_id.values():
        q = outcome.question
        expected = ("High" if q.critical or q.weight >= 7 else
                    "Medium" if q.weight >= 4 else "Low")
        assert impact_of(outcome) == expected


def test_rating_combines_the_two():
    assert rating_of("High", "Likely") == "High"
    assert rating_of("Medium", "Possible") == "Medium"
    assert rating_of("Low", "Likely") == "Medium"
    assert rating_of("Low", "Possible") == "Low"


def test_register_lists_every_shortfall_and_nothing_else(break_fix):
    assert build_context(break_fix)["register"] == [], "the leadership report has no register"
    context = build_context(ReportInput(**{**break_fix.__dict__, "full": True}))
    expected = {o.question.id for o in break_fix.result.outcomes
                if o.applicable and o.share is not None and o.share < 1}
    assert {row["question_id"] for row in context["register"]} == expected
    ranks = [{"High": 3, "Medium": 2, "Low": 1}[row["rating"]] for row in context["register"]]
    assert ranks == sorted(ranks, reverse=True), "most serious first"


def test_costs_are_left_out_without_figures(bank):
    answers, _ = parse_answers(bank, {"backup.automatic": "daily"})
    report = ReportInput(result=score(bank, answers))
    assert report.result.costs is None
    html = render_print_html(report)
    assert 'id="costs"' not in html and "#costs" not in html
