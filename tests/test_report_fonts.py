"""Any business name prints: Japanese, Chinese, Korean, Arabic, Greek, Cyrillic, emoji, and a name
of 200 characters without a space.

Each name gets a real report (the well-run reference answers, rendered in worker processes), and
the PDF is read back three ways: pdffonts (a font that covers the script is embedded), pdftotext
(the name comes back as it was typed), pikepdf and pdfplumber (no glyph is .notdef, the cover
title stays on the page). Inter covers Latin, Greek and Cyrillic; the other scripts come from the
Noto fonts scripts/setup.sh installs (report.css names them); colour emoji are drawn as images by
WeasyPrint from Noto Color Emoji, over invisible glyphs that carry their text; a joined emoji
sequence loses its joiner in ReportInput (which drops format characters) and prints as its parts.

Known limit of the reader, not of the PDF: pdftotext reverses a lam-alef ligature in Arabic
(the PDF's ToUnicode map has it in logical order), so the Arabic name here has none.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date

import pdfplumber
import pikepdf
import pytest
from pikepdf import Name

from assessment.core.scoring import parse_answers, score
from assessment.report import Branding, ReportInput, render_print_html
from assessment.report.models import printable

from .conftest import FIXTURES
from .pdf_structure import fonts, read_content
from .tools import tool

MM = 72 / 25.4
COVER_MARGIN = 20 * MM  # the cover band's side padding
LONG_NAME = ("Llanfairpwllgwyngyll" * 10)[:200]
LONG_FIRM = ("Northgateitadvisory" * 7)[:120]

# name, the font family (as pdffonts and pdfplumber name it) that must draw its letters
NAMES = {
    "japanese": ("東京ハーバー歯科クリニック", "Noto-Sans-CJK"),
    "chinese": ("上海明德会计师事务所", "Noto-Sans-CJK"),
    "korean": ("서울 하모니 치과", "Noto-Sans-CJK"),
    "arabic": ("مطعم النخيل الذهبي", "Noto-Sans-Arabic"),
    "greek": ("Ταβέρνα Ο Μύλος", "Inter"),
    "cyrillic": ("Пекарня «Ёлка»", "Inter"),
    # a joined sequence (woman cook) loses its joiner and prints as its two emoji
    "emoji": ("Pizza Palace 🍕🔥 👩\u200d🍳", "Inter"),
    "long": (LONG_NAME, "Inter"),
}


def need(name: str) -> str:
    return tool(name, "poppler-utils")


EMOJI = "🍕🔥👩🍳"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def as_printed(name: str) -> str:
    """The name as the report prints it: ReportInput drops control and format characters."""
    return " ".join(printable(name).split())


@pytest.fixture(scope="module")
def pdfs(bank, tmp_path_factory, render_pool):
    data = json.loads((FIXTURES / "well_run_managed.json").read_text(encoding="utf-8"))
    answers, errors = parse_answers(bank, data["answers"])
    assert not errors, errors
    result = score(bank, answers)
    futures = {}
    for key, (name, _) in NAMES.items():
        branding = Branding(firm_name=LONG_FIRM) if key == "long" else None
        report = ReportInput(result=result, business_name=name, assessed_on=date(2025, 5, 6),
                             **({"branding": branding} if branding else {}))
        futures[key] = render_pool.submit(render_print_html(report))
    folder = tmp_path_factory.mktemp("names")
    paths = {}
    for key, future in futures.items():
        paths[key] = folder / f"{key}.pdf"
        paths[key].write_bytes(future.result())
    return paths


@pytest.fixture(scope="module", params=list(NAMES))
def case(request, pdfs):
    name, family = NAMES[request.param]
    return request.param, name, family, pdfs[request.param]


def pdffonts_rows(path) -> list[dict[str, str]]:
    lines = subprocess.run([need("pdffonts"), str(path)], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    header, rule = lines[0], lines[1]
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", rule)]
    keys = [header[a:b].strip() for a, b in spans]
    keys[-1] = "object ID"
    return [{k: line[a:b + 1].strip() for k, (a, b) in zip(keys, spans, strict=True)}
            for line in lines[2:]]


def cover_text(path) -> str:
    return subprocess.run([need("pdftotext"), "-f", "1", "-l", "1", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


COVER_BAND = 128 * MM  # the coloured band at the top of the cover, which holds the title
TITLE_MIN_POINTS = 17  # the title is 30 pt, 18 pt for a long name; nothing else there is


def title_chars(path) -> tuple[list[dict], float, float]:
    """The cover title's characters and the page's width and height."""
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[0]
        chars = [c for c in page.chars
                 if c["size"] >= TITLE_MIN_POINTS and c["bottom"] <= COVER_BAND]
        return chars, float(page.width), float(page.height)


def test_a_font_that_covers_the_script_is_embedded(case):
    key, _, family, path = case
    rows = pdffonts_rows(path)
    assert any(family in row["name"] and row["emb"] == "yes" for row in rows), rows
    assert all(row["emb"] == "yes" for row in rows), rows
    if key == "emoji":
        assert any("Noto-Color-Emoji" in row["name"] for row in rows), rows


def test_the_name_letters_are_drawn_with_that_font(case):
    key, name, family, path = case
    chars, _, _ = title_chars(path)
    letters = [c for c in chars if c["text"].strip()]
    assert letters, "no title text on the cover"
    for char in letters:
        expected = "Noto-Color-Emoji" if char["text"] in EMOJI else family
        assert expected in char["fontname"], (char["text"], char["fontname"])


def test_the_name_is_extracted_intact(case):
    _, name, _, path = case
    assert squash(as_printed(name)) in squash(cover_text(path))


def test_no_glyph_is_notdef(case):
    """WeasyPrint draws a character no font has as .notdef (glyph 0) and then gives its font a
    custom encoding instead of Identity-H; neither may happen."""
    _, _, _, path = case
    rows = pdffonts_rows(path)
    assert all(row["encoding"] == "Identity-H" for row in rows), rows
    with pikepdf.open(path) as pdf:
        for font in fonts(pdf):
            assert font.get("/Encoding") == Name("/Identity-H"), font.BaseFont
        for run in read_content(pdf).runs:
            assert "\ufffd" not in run.text, (run.page, run.font, run.text)


def test_emoji_are_drawn_as_images_in_the_title(pdfs):
    with pikepdf.open(pdfs["emoji"]) as pdf:
        runs = read_content(pdf).runs
    title = [r for r in runs if r.page == 1 and r.mcid is not None]
    images = [r for r in title if r.text == ""]
    assert len(images) >= len(EMOJI), "each emoji is drawn as an image on the cover"
    for emoji in EMOJI:
        assert any(emoji in r.text for r in title), emoji


def test_the_cover_title_stays_on_the_page(case):
    _, _, _, path = case
    chars, width, height = title_chars(path)
    assert chars
    for char in chars:
        assert char["x0"] >= COVER_MARGIN - 1 and char["x1"] <= width - COVER_MARGIN + 1, char
        assert 0 <= char["top"] and char["bottom"] <= height, char


def test_a_long_name_wraps_onto_several_lines(pdfs):
    chars, _, _ = title_chars(pdfs["long"])
    lines = {round(c["top"]) for c in chars}
    assert len(lines) >= 4


def test_a_long_firm_name_wraps_in_the_running_header(pdfs):
    """The firm's name is the running header's right-hand string; 120 letters without a space
    must wrap inside the page's side margins, on every page that has the header."""
    with pdfplumber.open(pdfs["long"]) as pdf:
        for page in pdf.pages[1:]:
            header = [c for c in page.chars if c["bottom"] <= 21 * MM and c["text"].strip()]
            assert header, page.page_number
            for char in header:
                assert char["x0"] >= 17 * MM - 1 and char["x1"] <= page.width - 17 * MM + 1, \
                    (page.page_number, char["text"], char["x0"], char["x1"])
                assert char["top"] >= 0
            # the firm's name is set in regular weight, the section (left) in semibold
            firm = sorted((c for c in header if c["fontname"].endswith("+Inter")),
                          key=lambda c: (round(c["top"]), c["x0"]))
            assert "".join(c["text"] for c in firm) == LONG_FIRM, page.page_number


def test_the_cover_names_the_firm_in_full_when_it_is_long(pdfs):
    text = squash(cover_text(pdfs["long"]))
    assert LONG_FIRM in text and LONG_NAME in text
    with pdfplumber.open(pdfs["long"]) as pdf:
        page = pdf.pages[0]
        for char in page.chars:
            assert 0 <= char["x0"] and char["x1"] <= page.width, (char["text"], char["x1"])

