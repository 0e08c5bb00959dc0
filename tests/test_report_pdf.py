"""The PDF report, read back: text, contents page numbers, bookmarks, fonts, metadata, tags,
pages that are never blank, and the brand colour on the cover.

Real WeasyPrint in real worker processes; each PDF is rendered once per module and read many
times. Poppler's tools read the PDFs; a test skips (saying which tool) only when one is missing.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader

from assessment.report import Branding, RenderPool, ReportInput, render_print_html
from assessment.report.content import whole
from assessment.scoring import parse_answers, score

from .conftest import FIXTURES
from .tools import tool

BREAK_FIX = FIXTURES / "break_fix_untested_backups.json"
SINGLE = FIXTURES / "single_critical_exposure.json"
CONTENTS_PAGE = 2
HEADER_POINTS = 58  # the running header sits in the top margin (21 mm is about 60 pt)


def need(name: str) -> str:
    return tool(name, "poppler-utils")


def pdftotext(pdf_path, *args) -> str:
    return subprocess.run([need("pdftotext"), *args, str(pdf_path), "-"], check=True,
                          capture_output=True, text=True).stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def load(path, bank):
    data = json.loads(path.read_text(encoding="utf-8"))
    answers, errors = parse_answers(bank, data["answers"])
    assert not errors, errors
    return data["answers"], score(bank, answers)


@pytest.fixture(scope="module")
def pool():
    pool = RenderPool(workers=2, timeout=120)
    yield pool
    pool.shutdown()


@pytest.fixture(scope="module")
def break_fix(bank):
    raw, result = load(BREAK_FIX, bank)
    return ReportInput(result=result, business_name=raw["profile.business_name"],
                       assessed_on=date(2025, 3, 12))


@pytest.fixture(scope="module")
def branded(bank):
    """A consultant's report with its own colours, a logo, verification marks and a difference."""
    _, result = load(SINGLE, bank)
    image = Image.new("RGB", (240, 80), "#123456")
    logo = io.BytesIO()
    image.save(logo, format="PNG")
    answered = [o.question.id for o in result.outcomes if o.applicable and o.answer]
    return ReportInput(
        result=result, business_name="Brightwater Café & Co", assessed_on=date(2025, 6, 2),
        branding=Branding(firm_name="Northgate IT Advisory", logo_png_or_jpeg=logo.getvalue(),
                          primary="#aa3300", accent="#225588",
                          contact="Jane Doe · jane@northgate.example · 020 7946 0000",
                          disclaimer="Prepared for the board of Brightwater. Not an audit."),
        notes={answered[0]: "Checked on site with the office manager."},
        verified={qid: i % 2 == 0 for i, qid in enumerate(answered)},
        owner_answers={answered[1]: "Never"},
    )


@pytest.fixture(scope="module")
def break_fix_pdf(pool, break_fix, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "break_fix.pdf"
    path.write_bytes(pool.render(render_print_html(break_fix)))
    return path


@pytest.fixture(scope="module")
def branded_pdf(pool, branded, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "branded.pdf"
    path.write_bytes(pool.render(render_print_html(branded)))
    return path


@pytest.fixture(scope="module")
def reader(break_fix_pdf):
    return PdfReader(break_fix_pdf)


@pytest.fixture(scope="module")
def text(break_fix_pdf):
    return flat(pdftotext(break_fix_pdf, "-raw"))


# ---------------------------------------------------------------- content


def test_the_text_carries_the_business_score_sections_findings_and_recommendations(
        text, break_fix):
    result = break_fix.result
    assert "Harbour Street Dental" in text
    assert re.search(rf"\b{whole(result.score)}\s*/\s*100\b", text)
    assert result.band.label in text
    for s in result.sections:
        if s.section.kind == "scored":
            assert flat(s.section.title) in text, s.section.title
    assert result.critical_findings
    for finding in result.critical_findings:
        assert flat(finding.title) in text, finding.title
    assert result.actions
    for action in result.actions:
        assert flat(action.recommendation.title) in text, action.recommendation.title
    for question in result.provider_questions:
        assert flat(question) in text, question


def test_the_cost_figures_are_the_business_own(text, break_fix):
    costs = break_fix.result.costs
    assert costs is not None
    assert costs.money(costs.downtime_cost_12m) in text  # 31 hours x $850 = $26,350
    assert "$26,350" in text
    assert f"{whole(100 * costs.reactive_share)}%" in text


def test_every_page_says_page_x_of_y(break_fix_pdf, reader):
    total = len(reader.pages)
    for number in range(2, total + 1):
        page = flat(pdftotext(break_fix_pdf, "-f", str(number), "-l", str(number)))
        assert f"Page {number} of {total}" in page


def test_the_cover_has_no_running_header_or_footer(break_fix_pdf, reader):
    cover = flat(pdftotext(break_fix_pdf, "-f", "1", "-l", "1"))
    assert "Page 1 of" not in cover
    assert "Harbour Street Dental" in cover


def test_the_running_header_names_the_section(break_fix_pdf):
    third = pdftotext(break_fix_pdf, "-f", "3", "-l", "3")
    assert third.lstrip().upper().startswith("EXECUTIVE SUMMARY")


# ---------------------------------------------------------------- structure


def _contents(pdf_path) -> list[tuple[str, int]]:
    lines = pdftotext(pdf_path, "-layout", "-f", str(CONTENTS_PAGE), "-l",
                      str(CONTENTS_PAGE)).splitlines()
    entries = []
    for line in lines:
        match = re.fullmatch(r"\s*(\S.*?\S)\s{2,}(\d+)\s*", line)
        if match:
            entries.append((match.group(1), int(match.group(2))))
    return entries


def _body_lines(pdf_path, page: int) -> list[str]:
    """A page's lines without the running header (the top margin is cropped off)."""
    out = pdftotext(pdf_path, "-layout", "-f", str(page), "-l", str(page), "-x", "0", "-y",
                    str(HEADER_POINTS), "-W", "600", "-H", str(842 - HEADER_POINTS))
    return [flat(line) for line in out.splitlines() if line.strip()]


def test_contents_page_numbers_are_where_the_headings_really_are(break_fix_pdf, reader):
    entries = _contents(break_fix_pdf)
    titles = [title for title, _ in entries]
    assert titles[:3] == ["Executive summary", "Scores at a glance", "Critical findings"]
    assert "What IT trouble costs you" in titles  # the business gave its figures
    assert titles[-1] == "Methodology"
    pages = {number: _body_lines(break_fix_pdf, number)
             for number in range(CONTENTS_PAGE + 1, len(reader.pages) + 1)}
    for title, number in entries:
        found = [n for n, lines in pages.items() if title in lines]
        assert found, f"heading {title!r} not found on any page"
        assert found[0] == number, f"{title!r}: contents say page {number}, it is on {found[0]}"


def test_bookmarks_follow_the_parts_with_the_appendix_sections_nested(reader, break_fix):
    outline = reader.outline
    top = [item.title for item in outline if not isinstance(item, list)]
    assert top[:4] == ["Contents", "Executive summary", "Scores at a glance", "Critical findings"]
    assert top[-1] == "Methodology"
    appendix_index = top.index("Appendix: every answer")
    nested = [item for item in outline if isinstance(item, list)]
    assert nested, "the appendix sections are nested bookmarks"
    titles = [item.title for item in nested[-1]]
    for s in break_fix.result.sections:
        assert s.section.title in titles
    assert appendix_index > top.index("Risk register")


def test_bookmarks_and_contents_agree(break_fix_pdf, reader):
    by_title = {item.title: reader.get_destination_page_number(item) + 1
                for item in reader.outline if not isinstance(item, list)}
    for title, number in _contents(break_fix_pdf):
        assert by_title[title] == number, title


def test_page_count_of_a_full_break_fix_report(reader):
    assert 12 <= len(reader.pages) <= 40


def test_fonts_are_the_shipped_family_and_all_embedded(break_fix_pdf):
    out = subprocess.run([need("pdffonts"), str(break_fix_pdf)], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    header = out[0]
    emb = header.index("emb")
    rows = out[2:]
    assert rows, "no fonts listed"
    for row in rows:
        name = row.split()[0]
        assert "Inter" in name, f"font {name} is not the shipped Inter"
        assert row[emb:emb + 3] == "yes", f"font {name} is not embedded"


def test_metadata_title_author_subject(reader, branded_pdf):
    meta = reader.metadata
    assert meta.title == "IT health report: Harbour Street Dental"
    assert meta.author == "IT Health Assessment"
    assert meta.subject == "IT health assessment of Harbour Street Dental, 12 March 2025"
    branded = PdfReader(branded_pdf).metadata
    assert branded.author == "Northgate IT Advisory"
    assert branded.title == "IT health report: Brightwater Café & Co"


def test_the_pdf_is_tagged(reader):
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"])


# ---------------------------------------------------------------- pixels


def _pages_as_images(pdf_path, tmp_path, dpi=30) -> list[Image.Image]:
    subprocess.run([need("pdftoppm"), "-r", str(dpi), "-png", str(pdf_path),
                    str(tmp_path / "page")], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(tmp_path.glob("page-*.png"))]


def test_no_page_is_blank(break_fix_pdf, reader, tmp_path):
    images = _pages_as_images(break_fix_pdf, tmp_path)
    assert len(images) == len(reader.pages)
    for number, image in enumerate(images, start=1):
        grey = image.convert("L")
        inked = sum(grey.histogram()[:200])
        share = inked / (grey.width * grey.height)
        assert share > 0.01, f"page {number} is almost blank ({share:.2%} inked)"


def test_the_cover_uses_the_brand_colour(branded_pdf, tmp_path):
    cover = _pages_as_images(branded_pdf, tmp_path, dpi=40)[0]
    width, height = cover.size
    for x, y in ((0.95, 0.15), (0.95, 0.45), (0.6, 0.02)):  # the band, away from its text
        r, g, b = cover.getpixel((int(width * x), int(height * y)))
        assert abs(r - 0xaa) <= 6 and abs(g - 0x33) <= 6 and abs(b - 0x00) <= 6, (x, y, r, g, b)


def test_a_branded_report_carries_firm_logo_contact_and_consultant_marks(branded_pdf):
    text = flat(pdftotext(branded_pdf, "-raw"))
    assert "Northgate IT Advisory" in text
    assert "jane@northgate.example" in text
    assert "Prepared for the board of Brightwater. Not an audit." in text
    assert "VERIFIED" in text.upper() and "CLIENT-REPORTED" in text.upper()
    assert "Where the owner's view differs" in text
    assert "Owner answered: Never" in text
    assert "Checked on site with the office manager." in text
    cover_images = PdfReader(branded_pdf).pages[0].images
    assert len(cover_images) == 1, "the logo is on the cover"
    distinct = {image.data for page in PdfReader(branded_pdf).pages for image in page.images}
    assert len(distinct) == 1, "the logo is the only image"
