"""The PDF report, read back: text, contents page numbers, bookmarks, fonts, metadata, tags,
pages that are never blank, the brand colour on the cover, and what makes it a five-minute
brief: page and word limits, each action in full once, the band and the fixes for every
critical finding in the first three pages, and print sizes.

Real WeasyPrint in real worker processes; each PDF is rendered once per module and read many
times. Poppler's tools read the PDFs; a test skips (saying which tool) only when one is missing.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from datetime import date
from itertools import pairwise

import pdfplumber
import pytest
from PIL import Image
from pypdf import PdfReader

from assessment.core.scoring import parse_answers, score
from assessment.report import DEFAULT_BRANDING, Branding, ReportInput, render_print_html

from .conftest import FIXTURES
from .tools import tool

BREAK_FIX = FIXTURES / "break_fix_untested_backups.json"
SINGLE = FIXTURES / "single_critical_exposure.json"
REFERENCE_SETS = ("break_fix_untested_backups", "single_critical_exposure", "unsure_mixed",
                  "well_run_managed")
CONTENTS_PAGE = 1  # the contents are on the cover
CONTENTS_X = 345  # in points: the contents column, right of the first steps on the cover
HEADER_POINTS = 58  # the running header sits in the top margin (21 mm is about 60 pt)
MAX_LEADERSHIP_PAGES, MAX_LEADERSHIP_WORDS = 12, 6000
LEADERSHIP_PARTS = ["The brief", "The plan", "What IT problems cost you", "Scores by area",
                    "Things to find out", "How this report was made"]


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
def pool(render_pool):
    return render_pool  # the session's warm one (conftest.py)


@pytest.fixture(scope="module")
def break_fix(bank):
    raw, result = load(BREAK_FIX, bank)
    return ReportInput(result=result, business_name=raw["profile.business_name"],
                       assessed_on=date(2025, 3, 12))


@pytest.fixture(scope="module")
def branded(bank):
    """A consultant's full report with its own colours, a logo, verification marks and a
    difference."""
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
        full=True,
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
def full_pdf(pool, break_fix, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "break_fix_full.pdf"
    path.write_bytes(pool.render(render_print_html(
        ReportInput(**{**break_fix.__dict__, "full": True}))))
    return path


@pytest.fixture(scope="module")
def reference_pdfs(pool, bank, tmp_path_factory):
    """The leadership report of every reference answer set: name -> (result, PDF path)."""
    folder = tmp_path_factory.mktemp("references")
    out = {}
    for name in REFERENCE_SETS:
        raw, result = load(FIXTURES / f"{name}.json", bank)
        path = folder / f"{name}.pdf"
        path.write_bytes(pool.render(render_print_html(ReportInput(
            result=result, business_name=raw.get("profile.business_name", "")))))
        out[name] = (result, path)
    return out


@pytest.fixture(scope="module")
def reference_full_pdfs(pool, bank, tmp_path_factory):
    """The full report of every reference answer set: name -> PDF path."""
    folder = tmp_path_factory.mktemp("references_full")
    out = {}
    for name in REFERENCE_SETS:
        raw, result = load(FIXTURES / f"{name}.json", bank)
        path = folder / f"{name}.pdf"
        path.write_bytes(pool.render(render_print_html(ReportInput(
            result=result, business_name=raw.get("profile.business_name", ""), full=True))))
        out[name] = path
    return out


@pytest.fixture(scope="module")
def reader(break_fix_pdf):
    return PdfReader(break_fix_pdf)


@pytest.fixture(scope="module")
def text(break_fix_pdf):
    return flat(pdftotext(break_fix_pdf, "-raw"))


# ---------------------------------------------------------------- content


def test_the_text_carries_the_business_score_sections_findings_and_recommendations(
        text, break_fix, full_pdf):
    result = break_fix.result
    assert "Harbour Street Dental" in text
    assert re.search(rf"\b{result.score}\s*/\s*100\b", text)
    assert result.band.label in text
    for s in result.sections:
        if s.section.kind == "scored":
            assert flat(s.section.title) in text, s.section.title
    assert result.critical_findings
    for finding in result.critical_findings:
        assert flat(finding.title) in text, finding.title
    assert result.steps
    for step in result.steps:  # the 90 days in full; what waits, by its workstream
        assert flat(step.title if step.days else step.workstream.title) in text, step.title
    full = flat(pdftotext(full_pdf, "-raw"))
    for question in result.provider_questions:  # every one, in the full report
        assert flat(question) in full, question


def test_the_cost_figures_are_the_business_own(text, break_fix):
    costs = break_fix.result.costs
    assert costs is not None
    assert costs.money(costs.downtime_cost_12m) in text  # 31 hours x $850 = $26,350
    assert "$26,350" in text
    assert f"{round(100 * costs.reactive_share)}%" in text
    # The break-even "fee" read as a price quote; what remains says what it assumes.
    assert "Break-even" not in text
    assert "This is a way to judge quotes, not a price." in text


def test_every_page_says_page_x_of_y(break_fix_pdf, reader):
    total = len(reader.pages)
    for number in range(2, total + 1):
        page = flat(pdftotext(break_fix_pdf, "-f", str(number), "-l", str(number)))
        assert f"Page {number} of {total}" in page


def test_the_cover_has_no_running_header_or_footer(break_fix_pdf, reader):
    cover = flat(pdftotext(break_fix_pdf, "-f", "1", "-l", "1"))
    assert "Page 1 of" not in cover
    assert "Harbour Street Dental" in cover


def test_the_cover_names_what_trouble_costs_and_the_first_three_steps(break_fix_pdf,
                                                                      break_fix, reader):
    """A director who reads only the cover still sees the money at stake and what to do this
    month: the first three steps of the plan, numbered as in it."""
    cover = flat(pdftotext(break_fix_pdf, "-f", "1", "-l", "1"))
    assert "A working day without IT costs about $8,500" in cover
    assert "$26,350 in lost working time" in cover
    first = break_fix.result.roadmap[0]
    steps = [s for s in break_fix.result.steps if s.days == first.days]
    assert len(steps) > 3
    for number, step in enumerate(steps[:3], start=1):
        assert f"{number} {flat(step.title)}" in cover, step.title
    assert flat(steps[3].title) not in cover
    assert f"The first 3 of {len(steps)} steps" in cover
    # Still one page: the brief starts on the second.
    assert _body_lines(break_fix_pdf, 2)[0] == "The brief"


def test_the_method_page_speaks_plainly_and_the_version_stays_traceable(break_fix_pdf, reader,
                                                                         break_fix):
    result = break_fix.result
    page = flat(pdftotext(break_fix_pdf, "-f", str(len(reader.pages)),
                          "-l", str(len(reader.pages))))
    assert "How this report was made" in page
    assert f"Question set IT Health Assessment, version {result.bank_version}" in page
    unsure = len([o for o in result.not_sure if o.question.scored])
    assert re.search(rf"Questions \d+ questions applied to the business; {unsure} answered "
                     r"“Not sure”, which count as gaps", page), page
    for jargon in ("fingerprint", "Bank", "counted in the score", result.bank_hash[:12],
                   result.bank_id):
        assert jargon not in page, jargon
    # The exact question set stays traceable, in the file's own details.
    assert result.bank_hash[:12] in reader.metadata["/Creator"]


def test_the_running_header_names_the_section(break_fix_pdf):
    second = pdftotext(break_fix_pdf, "-f", "2", "-l", "2")
    header = [line for line in second.splitlines() if line.strip()][:2]
    assert "THE BRIEF" in [line.strip().upper() for line in header], header


# ---------------------------------------------------------------- structure


def _contents(pdf_path) -> list[tuple[str, int]]:
    lines = pdftotext(pdf_path, "-layout", "-f", str(CONTENTS_PAGE), "-l", str(CONTENTS_PAGE),
                      "-x", str(CONTENTS_X), "-y", "0", "-W", str(600 - CONTENTS_X),
                      "-H", "842").splitlines()
    lines = lines[[line.strip() for line in lines].index("Contents") + 1:]
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
    assert titles == LEADERSHIP_PARTS  # the business gave its figures, so costs are there
    pages = {number: _body_lines(break_fix_pdf, number)
             for number in range(CONTENTS_PAGE + 1, len(reader.pages) + 1)}
    for title, number in entries:
        found = [n for n, lines in pages.items() if title in lines]
        assert found, f"heading {title!r} not found on any page"
        assert found[0] == number, f"{title!r}: contents say page {number}, it is on {found[0]}"


def test_bookmarks_follow_the_parts_with_the_phases_and_answers_nested(reader, full_pdf,
                                                                      break_fix):
    outline = reader.outline
    top = [item.title for item in outline if not isinstance(item, list)]
    assert top == LEADERSHIP_PARTS
    nested = [item for item in outline if isinstance(item, list)]
    assert [item.title for item in nested[0]][:3] == ["Within 30 days", "Within 60 days",
                                                       "Within 90 days"]
    full = PdfReader(full_pdf).outline
    full_top = [item.title for item in full if not isinstance(item, list)]
    assert full_top.index("Every answer") > full_top.index("Risk register")
    answers = [item.title for item in [i for i in full if isinstance(i, list)][-1]]
    for s in break_fix.result.sections:
        assert s.section.title in answers


def test_bookmarks_and_contents_agree(break_fix_pdf, reader):
    by_title = {item.title: reader.get_destination_page_number(item) + 1
                for item in reader.outline if not isinstance(item, list)}
    for title, number in _contents(break_fix_pdf):
        assert by_title[title] == number, title


def test_the_leadership_report_is_a_five_minute_read_for_every_reference_set(reference_pdfs):
    """At most 12 pages and 6,000 words, whatever the answers."""
    for name, (_, path) in reference_pdfs.items():
        pages = len(PdfReader(path).pages)
        words = len(pdftotext(path).split())
        print(f"{name}: {pages} pages, {words} words")
        assert pages <= MAX_LEADERSHIP_PAGES, f"{name}: {pages} pages"
        assert words <= MAX_LEADERSHIP_WORDS, f"{name}: {words} words"


def test_the_brief_takes_at_most_two_pages(reference_pdfs):
    """The brief starts on page 2 and the plan by page 4, for every reference set."""
    for name, (_, path) in reference_pdfs.items():
        pages = dict(_contents(path))
        assert pages["The brief"] == 2, name
        assert pages["The plan"] <= 4, f"{name}: the brief runs to page {pages['The plan'] - 1}"


def test_each_action_is_printed_in_full_at_most_once(reference_pdfs, full_pdf, break_fix):
    """"Test a restore every quarter" was printed five times: each recommendation's text now
    appears once in a whole report at the most (leadership and full)."""
    reports = [(result, path) for result, path in reference_pdfs.values()]
    reports.append((break_fix.result, full_pdf))
    for result, path in reports:
        text = flat(pdftotext(path, "-raw"))
        for action in result.actions:
            count = text.count(flat(action.recommendation.text)[:80])
            assert count <= 1, f"{path.name}: {action.id} printed {count} times"


def test_the_first_three_pages_name_the_band_and_a_fix_for_every_critical_finding(
        reference_pdfs):
    for name, (result, path) in reference_pdfs.items():
        first = flat(pdftotext(path, "-f", "1", "-l", "3", "-raw"))
        assert result.band.label in first, name
        for finding in result.critical_findings:
            assert finding.actions, f"{name}: {finding.title} has no fix"
            assert any(flat(a.recommendation.title) in first for a in finding.actions), (
                f"{name}: no fix for {finding.title!r} in the first three pages")


def test_print_is_readable(break_fix_pdf, full_pdf):
    """Body text at least 10 pt, tables at least 9 pt: at least 90% of all characters at 9 pt
    or more, and the most common size (the body) at least 10 pt."""
    pdfplumber = pytest.importorskip("pdfplumber")
    for path in (break_fix_pdf, full_pdf):
        sizes = {}
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                for char in page.chars:
                    if char["text"].strip():
                        size = round(char["size"], 1)
                        sizes[size] = sizes.get(size, 0) + 1
        total = sum(sizes.values())
        readable = sum(n for size, n in sizes.items() if size >= 9)
        body = max(sizes, key=sizes.get)
        print(f"{path.name}: {readable / total:.1%} of {total} characters at 9 pt or more; "
              f"body {body} pt")
        assert readable / total >= 0.9, sorted(sizes.items())
        assert body >= 10, sorted(sizes.items())


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
    for x, y in ((0.95, 0.15), (0.95, 0.4), (0.6, 0.02)):  # the band, away from its text
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


# ---------------------------------------------------------------- tables across pages


def _table_pieces(pdf_path) -> list[dict]:
    """Each piece of a table on a page, read back with pdfplumber: its page, the top of its
    heading row, the heading's words and how many body rows follow it. The heading cells are
    filled with the brand colour (repeated on each page a table runs onto); each body row's
    cells are underlined."""
    primary = tuple(int(DEFAULT_BRANDING.primary[i:i + 2], 16) / 255 for i in (1, 3, 5))
    pieces = []
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            filled = [r for r in page.rects if 10 < r["height"] < 40
                      and len(r.get("non_stroking_color") or ()) == 3
                      and all(abs(a - b) < 0.01
                              for a, b in zip(r["non_stroking_color"], primary, strict=True))]
            rows: dict[int, list] = {}
            for rect in filled:
                rows.setdefault(round(rect["top"]), []).append(rect)
            headings = sorted((top, cells) for top, cells in rows.items() if len(cells) > 1)
            for i, (top, cells) in enumerate(headings):
                cells.sort(key=lambda r: r["x0"])
                first, bottom = cells[0], max(c["bottom"] for c in cells)
                end = headings[i + 1][0] if i + 1 < len(headings) else page.height
                lines = {round(line["top"], 1) for line in page.lines
                         if abs(line["x0"] - first["x0"]) < 1 and abs(line["x1"] - first["x1"]) < 1
                         and bottom < line["top"] < end}
                words = page.crop((first["x0"], top, cells[-1]["x1"], bottom)).extract_text()
                pieces.append({"page": number, "top": top, "heading": flat(words),
                               "rows": len(lines)})
    return pieces


def test_no_table_leaves_a_single_row_on_a_page(reference_pdfs, reference_full_pdfs):
    """Where a table runs onto the next page, at least two of its rows are on each page: never
    a heading and one row at the foot of a page, nor one row under the repeated heading."""
    paths = {f"{name} (leadership)": path for name, (_, path) in reference_pdfs.items()}
    paths |= {f"{name} (full)": path for name, path in reference_full_pdfs.items()}
    splits = 0
    for name, path in paths.items():
        pieces = _table_pieces(path)
        assert pieces, f"{name}: no table found"
        for before, after in pairwise(pieces):
            continued = (after["page"] == before["page"] + 1
                         and after["top"] < HEADER_POINTS + 20
                         and after["heading"] == before["heading"])
            if continued:
                splits += 1
                assert before["rows"] >= 2 and after["rows"] >= 2, (
                    f"{name}: {before['heading']!r} leaves {before['rows']} row(s) on page "
                    f"{before['page']} and {after['rows']} on page {after['page']}")
    assert splits, "no table ran onto a second page: the check checked nothing"
