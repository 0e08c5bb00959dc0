"""The report's inputs and its HTML: branding validation, the browser page with CSP nonces,
autoescaping, and the data behind the risk register (no WeasyPrint needed here)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from assessment.core import severity
from assessment.core.scoring import parse_answers, score
from assessment.report import (
    DEFAULT_BRANDING,
    Branding,
    BrandingError,
    ReportInput,
    render_html,
    render_print_html,
)
from assessment.report.content import build_context, register_level
from assessment.report.html import stylesheet_text

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


def test_a_shortfall_without_a_finding_is_moderate_on_a_heavy_question(bank):
    outcomes = score(bank, {}).outcomes
    for outcome in outcomes:
        q = outcome.question
        expected = severity.MODERATE if q.critical or q.weight >= 7 else severity.LOW
        assert register_level(outcome, None) == expected, q.id


def test_register_lists_every_shortfall_and_nothing_else(break_fix):
    assert build_context(break_fix)["register"] == [], "the leadership report has no register"
    context = build_context(ReportInput(**{**break_fix.__dict__, "full": True}))
    expected = {o.question.id for o in break_fix.result.outcomes
                if o.applicable and o.share is not None and o.share < 1}
    assert {row["question_id"] for row in context["register"]} == expected
    ranks = [severity.LEVEL_BY_ID[row["level"]].rank for row in context["register"]]
    assert ranks == sorted(ranks), "worst first"


def test_the_register_never_rates_a_finding_below_another_row(break_fix):
    """A critical finding is Critical and a high-risk finding High, above every shortfall that
    is no finding; there is no likelihood column to rate one "Medium · Unlikely"."""
    context = build_context(ReportInput(**{**break_fix.__dict__, "full": True}))
    findings = {f.outcome.question.id: f for f in break_fix.result.critical_findings}
    assert findings
    worst_other = min(severity.LEVEL_BY_ID[row["level"]].rank
                      for row in context["register"] if row["question_id"] not in findings)
    for row in context["register"]:
        finding = findings.get(row["question_id"])
        if finding is None:
            continue
        kind = severity.kind(finding.severity)
        assert (row["level"], row["rating"], row["basis"]) == (kind.level.id, kind.level.name,
                                                                kind.label)
        assert kind.level.rank < worst_other
        assert "likelihood" not in row and "impact" not in row
    html = render_print_html(ReportInput(**{**break_fix.__dict__, "full": True}))
    register = html.split('id="register"', 1)[1].split("</section>", 1)[0]
    assert "Unlikely" not in register and "Likely," not in register


def test_every_critical_finding_is_its_own_item_in_the_brief(bank):
    """More than five findings: the first five in full, the rest one to a line with its
    label, never one run-on sentence."""
    answers, errors = parse_answers(bank, {
        "backup.automatic": "none", "security.endpoint": "none", "identity.former_staff": "yes",
        "security.mfa_email": "none", "security.admin_daily": "everyone",
        "patching.who": "nobody", "network.old_systems": "yes",
        "compliance.payment_check": "none"})
    assert not errors
    result = score(bank, answers)
    assert len(result.critical_findings) > 5
    html = render_print_html(ReportInput(result=result))
    brief_part = html.split('id="brief"', 1)[1].split("</section>", 1)[0]
    assert "Also critical" not in brief_part
    for f in result.critical_findings:
        item = f"<strong>{f.title.rstrip('.')}.</strong> <span class=\"tag " \
               f"{severity.kind(f.severity).level.id}\">{severity.label(f.severity)}</span>"
        assert brief_part.count(item) == 1, f.title
    assert "Critical on its own" not in html and "Serious<" not in html


def test_each_finding_says_why_it_matters_in_its_own_words(bank):
    """The brief's "why" line is the finding's own, not the first sentence of the question's
    help (which explains the question, and once explained another finding)."""
    from assessment.core.brief import brief

    answers, _ = parse_answers(bank, {"backup.automatic": {"state": "not_sure"},
                                      "security.mfa_admin": "none"})
    result = score(bank, answers)
    risks = {r["title"].rstrip("."): r for r in brief(result)["risks"]}
    unsure = risks["Nobody can say whether the business's data is backed up"]
    q = bank.question_by_id["backup.automatic"]
    assert unsure["why"] == q.critical.not_sure.why_it_matters
    assert "remembering" not in unsure["why"]
    admin = next(r for title, r in risks.items() if title.startswith("Admin logins"))
    assert admin["why"] == bank.question_by_id["security.mfa_admin"].critical.why_it_matters


def test_a_stronger_finding_says_why_it_matters_in_its_own_words(bank):
    """Where a `stronger` entry makes a finding worse for this business, the brief, the results
    page and the report say that entry's words, not the main rule's."""
    from assessment.core.brief import brief

    q = bank.question_by_id["compliance.payment_check"]
    stronger = q.critical.stronger[0]
    answers, errors = parse_answers(bank, {"compliance.payment_check": "none",
                                           "profile.handles": ["client_money"]})
    assert not errors
    result = score(bank, answers)
    finding = next(f for f in result.critical_findings
                   if f.outcome.question.id == q.id)
    assert finding.why_it_matters == stronger.why_it_matters != q.critical.why_it_matters
    risk = next(r for r in brief(result)["risks"] if r["question_id"] == q.id)
    assert risk["why"] == stronger.why_it_matters
    html = render_html(ReportInput(result=result, business_name="Conveyancers"))
    assert stronger.why_it_matters in html.replace("&#39;", "'").replace("&#34;", '"')
    assert q.critical.why_it_matters not in html


def test_severity_never_takes_the_brand_colours(break_fix):
    """With an amber accent and a red primary, the band, the findings and the charts still
    print in the product's fixed colours, and the cost chart's legend names its colours."""
    amber, red = "#ffbf00", "#cc0000"
    report = ReportInput(**{**break_fix.__dict__, "full": True,
                            "branding": Branding(primary=red, accent=amber)})
    html = render_print_html(report)
    assert f":root {{ --primary: {red}; --accent: {amber}; }}" in html
    body = html.split("</style>", 1)[1]
    assert amber not in body and red not in body, "no brand colour beyond the two properties"
    band = break_fix.result.band.id
    assert f'<div class="cover-band-label text-{band}">' in body
    assert f'<div class="band text-{band}">' in body
    assert '<span class="tag high">High-risk finding</span>' in body
    assert f'fill="{severity.band_colour(band)}"' in body, "today's column in its band's colour"
    assert "accent part" not in body
    for label in ("IT support paid", "Of which repairs", "Lost working time"):
        assert f">{label}</text>" in body
    css = stylesheet_text()
    for level in severity.LEVELS:
        assert f"--level-{level.id}: {level.colour};" in css
        for rule in (f".text-{level.id} {{ color: var(--level-{level.id}); }}",
                     f".badge.{level.id} {{ background: var(--level-{level.id}); }}"):
            assert rule in css
    for selector in (".cover-band-label", ".verdict .band", ".tag", ".badge", ".crit"):
        rule = css.split(selector + " {", 1)[1].split("}", 1)[0] if selector + " {" in css \
            else ""
        assert "--accent" not in rule and "--primary" not in rule, selector


def test_costs_are_left_out_without_figures(bank):
    answers, _ = parse_answers(bank, {"backup.automatic": "daily"})
    report = ReportInput(result=score(bank, answers))
    assert report.result.costs is None
    html = render_print_html(report)
    assert 'id="costs"' not in html and "#costs" not in html


# ---- what a director met (issue "One truth", point 5) --------------------------------------

def test_a_scale_answer_is_printed_with_what_its_ends_mean(break_fix, bank):
    """The register and every answer say "1 of 5 (Not at all: ...)", never a bare "1"."""
    q = bank.question_by_id["costs.predictable"]
    assert q.kind.display(q, 1) == "1 of 5 (Not at all: it depends on what breaks)"
    assert q.kind.display(q, 2) == ("2 of 5 (1 is “Not at all: it depends on what breaks”, "
                                    "5 is “Very well: the bills are known in advance”)")
    assert q.kind.display(q, 5) == "5 of 5 (Very well: the bills are known in advance)"
    full = ReportInput(**{**break_fix.__dict__, "full": True})
    context = build_context(full)
    row = next(r for r in context["register"] if r["question_id"] == "costs.predictable")
    assert row["answer"] == "1 of 5 (Not at all: it depends on what breaks)"
    html = render_html(full)
    assert "Answer: 1 of 5 (Not at all: it depends on what breaks)" in html
    assert html.count("1 of 5 (Not at all: it depends on what breaks)") >= 2  # every answer too


def test_what_is_good_is_said_in_sentences_and_never_taken_back(bank, break_fix):
    """Each good answer is a sentence about the business (its `strength` in the bank), not the
    question and the answer run together; with no area at 75 or more, the closing line says so
    without contradicting the good answers above it."""
    from assessment.core.brief import brief

    good = brief(break_fix.result)["good"]
    assert good["answers"][0] == "Your data is backed up by itself, every day or more often."
    assert good["closest"].startswith("No area as a whole is in good shape yet: the closest is")
    html = render_html(break_fix)
    section = html[html.index("<h2>What is good</h2>"):html.index('aria-labelledby="plan"')]
    assert "Is your business data backed up" not in section
    assert "Your data is backed up by itself, every day or more often." in section
    assert "No area is in good shape" not in section
    well = json.loads((FIXTURES / "well_run_managed.json").read_text())["answers"]
    answers, _ = parse_answers(bank, well)
    good = brief(score(bank, answers))["good"]
    assert good["lines"][0].startswith("In good shape: ") and good["closest"] is None
    assert all(line.endswith(".") and "?" not in line for line in good["lines"] + good["answers"])


def test_a_bank_without_strengths_still_says_good_answers_plainly(bank):
    """A bank stored with older assessments has no `strength`: the area and the answer, marked
    as best practice, never the question's wording."""
    from assessment.core.brief import strength

    q = bank.question_by_id["backup.automatic"].model_copy(update={"strength": None})
    said = strength(q, "Yes, automatically, every day or more often", "Backups")
    assert said == "Backups: “Yes, automatically, every day or more often”, which is best practice."
    assert q.text not in said


def test_the_cover_carries_the_money_and_the_first_three_steps(break_fix):
    html = render_html(break_fix)
    cover = html[html.index('class="cover"'):html.index('class="part brief"')]
    assert "What trouble costs" in cover and "$8,500" in cover and "$26,350" in cover
    context = build_context(break_fix)
    for a in context["first_actions"][:3]:
        assert f'href="#action-{a.number}"' in cover and a.title in cover
    assert context["first_actions"][3].title not in cover


def test_the_method_page_names_the_question_set_in_plain_words(break_fix):
    html = render_html(break_fix)
    method = html[html.index('id="method"'):]
    assert ("<dt>Question set</dt><dd>IT Health Assessment, version "
            f"{break_fix.result.bank_version}</dd>") in method
    assert "questions applied to the business; 5 answered “Not sure”, which count as gaps" in method
    for jargon in ("Bank fingerprint", "Question bank", "counted in the score", "it_health"):
        assert jargon not in method, jargon
