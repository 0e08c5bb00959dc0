"""The PDF report against PDF/UA-1 (ISO 14289-1), read back with pikepdf.

Real WeasyPrint in real worker processes, then assessment/report/pdfua.py, on two reports from
the shipped bank and the answer fixtures: a plain one, and a consultant's with a logo.

Checked here:
- XMP metadata with dc:title (the document title, as in the Info dictionary) and pdfuaid:part 1
  (7.1); the file says PDF 1.7;
- MarkInfo /Marked true, a StructTreeRoot, and every structure element in the file reachable
  from it through /K, with /P pointing back at the element that holds it (7.1: no orphans);
- every text run and image is either tagged (inside an MCID-marked sequence) or an artifact
  (7.1), and the running headers and footers (page numbers, section, firm, disclaimer) are
  artifacts, never tagged text;
- the ParentTree maps every MCID of every content stream to the structure element that holds it;
  MCIDs inside a form XObject are that XObject's own (its /StructParents, and marked-content
  references with /Stm), and a form XObject with MCIDs is drawn only once (7.1, ISO 32000-1
  14.7.4.3);
- ViewerPreferences /DisplayDocTitle true (7.1), /Lang on the catalog (7.2);
- every Figure has alternate text (7.3); every annotation has /Contents and a /StructParent that
  leads to an element in the tree, and pages with annotations have /Tabs /S (7.18);
- every font is embedded and has a ToUnicode map (7.21.4.1, 7.21.7).

Not checked (they need a full validator such as veraPDF, or a person):
- that the tags mean the right thing: reading order, headings nesting (7.4), lists (7.6) and
  tables (7.5: TH scope, Headers) built the way a reader expects, NonStruct and Span where a more
  specific type would fit;
- the quality of alternate text, and of link /Contents (WeasyPrint writes the link's target id);
- language changes inside the text (7.2): a business name in another script is in an English
  document without a /Lang of its own;
- font programs themselves (7.21.3-7.21.6: widths, CIDSet, CIDToGIDMap, encodings), .notdef use
  (tests/test_report_fonts.py checks names' text), and the XMP packet against its schemas;
- colour contrast of the charts' SVG text and of a consultant's brand colours (brand colours are
  warned about when chosen; report.css is checked by tests/test_report_contrast.py);
- everything else in the Matterhorn Protocol's 136 failure conditions not named above.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date

import pikepdf
import pytest
from pikepdf import Dictionary, Name
from PIL import Image

from assessment.core.scoring import parse_answers, score
from assessment.report import Branding, RenderPool, ReportInput, render_print_html

from .conftest import FIXTURES
from .pdf_structure import (
    all_struct_elements,
    fonts,
    kids,
    parent_tree,
    read_content,
    struct_elements_in_tree,
)

NS = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
      "dc": "http://purl.org/dc/elements/1.1/",
      "pdfuaid": "http://www.aiim.org/pdfua/ns/id/"}


def scored(bank, name: str):
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    answers, errors = parse_answers(bank, data["answers"])
    assert not errors, errors
    return data["answers"], score(bank, answers)


@pytest.fixture(scope="module")
def pool():
    pool = RenderPool(workers=2, timeout=180)
    yield pool
    pool.shutdown()


@pytest.fixture(scope="module")
def reports(bank):
    raw, result = scored(bank, "break_fix_untested_backups.json")
    plain = ReportInput(result=result, business_name=raw["profile.business_name"],
                        assessed_on=date(2025, 3, 12))
    _, single = scored(bank, "single_critical_exposure.json")
    logo = io.BytesIO()
    Image.new("RGB", (240, 80), "#123456").save(logo, format="PNG")
    branded = ReportInput(
        result=single, business_name="Brightwater Café & Co", assessed_on=date(2025, 6, 2),
        branding=Branding(firm_name="Northgate IT Advisory", logo_png_or_jpeg=logo.getvalue(),
                          primary="#0b4f6c", accent="#8a3b12", contact="Jane Doe · 020 7946 0000",
                          disclaimer="Prepared for the board of Brightwater. Not an audit."))
    return {"plain": plain, "branded": branded}


@pytest.fixture(scope="module")
def pdfs(pool, reports):
    futures = {key: pool.submit(render_print_html(report)) for key, report in reports.items()}
    return {key: future.result() for key, future in futures.items()}


@pytest.fixture(scope="module", params=["plain", "branded"])
def case(request, pdfs, reports):
    pdf = pikepdf.open(io.BytesIO(pdfs[request.param]))
    yield request.param, pdf, reports[request.param]
    pdf.close()


@pytest.fixture(scope="module")
def content(case):
    return read_content(case[1])


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- metadata


def test_xmp_has_the_title_and_says_pdf_ua_1(case):
    _, pdf, report = case
    assert "/Metadata" in pdf.Root
    xmp = ET.fromstring(re.search(rb"<x:xmpmeta.*</x:xmpmeta>", pdf.Root.Metadata.read_bytes(),
                                  re.S).group(0))
    titles = [li.text for li in xmp.iterfind(".//dc:title/rdf:Alt/rdf:li", NS)]
    assert titles == [f"IT health report: {report.business_name}"]
    assert str(pdf.docinfo["/Title"]) == titles[0]
    parts = [d.get(f"{{{NS['pdfuaid']}}}part") for d in xmp.iterfind(".//rdf:Description", NS)]
    parts += [e.text for e in xmp.iterfind(".//pdfuaid:part", NS)]
    assert "1" in parts
    assert pdf.pdf_version == "1.7"


def test_the_title_is_shown_and_the_language_set(case):
    _, pdf, _ = case
    assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
    assert str(pdf.Root.Lang) == "en"


def test_the_pdf_is_marked(case):
    _, pdf, _ = case
    assert pdf.Root.MarkInfo.Marked is True
    assert pdf.Root.MarkInfo.get("/Suspects", False) is False


# ---------------------------------------------------------------- structure tree


def test_every_structure_element_is_in_the_tree(case):
    _, pdf, _ = case
    in_tree = struct_elements_in_tree(pdf)
    everything = all_struct_elements(pdf)
    assert len(in_tree) > 500
    orphans = set(everything) - set(in_tree)
    assert not orphans, f"{len(orphans)} structure elements not reachable from the root, e.g. " \
                        f"{[str(everything[o].S) for o in list(orphans)[:5]]}"


def test_every_element_points_back_at_its_parent(case):
    _, pdf, _ = case
    root = pdf.Root.StructTreeRoot
    todo = [root]
    while todo:
        parent = todo.pop()
        for kid in kids(parent):
            if isinstance(kid, Dictionary) and "/S" in kid:
                assert kid.P.objgen == parent.objgen, str(kid.S)
                todo.append(kid)


# ---------------------------------------------------------------- content


def test_all_content_is_tagged_or_an_artifact(case, content):
    loose = [(r.page, r.text[:30]) for r in content.runs if not r.artifact and r.mcid is None]
    assert not loose, f"content neither tagged nor an artifact: {loose[:10]}"
    if case[0] == "branded":
        logo = [r for r in content.runs if r.text == "" and r.page == 1]
        assert logo and logo[0].mcid is not None, "the logo is tagged (a Figure)"


def test_running_headers_and_footers_are_artifacts(case, content):
    name, pdf, report = case
    pages = len(pdf.pages)
    firm = report.branding.firm_name if report.branding else "IT Health Assessment"
    for number in range(2, pages + 1):
        artifacts = squash(content.page_text(number, artifact=True))
        tagged = squash(content.page_text(number, artifact=False))
        footer = f"Page{number}of{pages}"
        assert footer in artifacts, (number, artifacts[:200])
        assert footer not in tagged, number
        assert squash(firm) in artifacts, number
    brief = next(n for n in range(2, pages + 1)
                 if "THEBRIEF" in squash(content.page_text(n, artifact=True)))
    # the heading itself is tagged text; its copy in the running header is not
    assert "Thebrief" in squash(content.page_text(brief, artifact=False))
    # the footer's business name is page furniture; the cover's is the document's title
    assert squash(report.business_name) in squash(content.page_text(pages, artifact=True))


def test_the_cover_is_tagged_text_not_artifacts(content, case):
    _, _, report = case
    cover = squash(content.page_text(1, artifact=False))
    assert squash(report.business_name) in cover
    assert "ITHEALTHREPORT" in cover.upper()
    assert "Assessedon" in cover


def test_the_parent_tree_maps_every_mcid_to_the_element_that_holds_it(case, content):
    _, pdf, _ = case
    tree = parent_tree(pdf)
    in_tree = struct_elements_in_tree(pdf)
    pages = list(pdf.pages)
    for (number, stream_id), mcids in content.mcids.items():
        if not mcids:
            continue
        page = pages[number - 1].obj
        is_page = stream_id == page.objgen
        stream = page if is_page else content.forms[stream_id]
        assert "/StructParents" in stream, (number, stream_id)
        entry = tree[int(stream.StructParents)]
        for mcid in mcids:
            element = entry[mcid]
            assert isinstance(element, Dictionary), (number, stream_id, mcid)
            assert element.objgen in in_tree
            references = [k for k in kids(element)
                          if (isinstance(k, int) and is_page and k == mcid)
                          or (isinstance(k, Dictionary) and k.get("/Type") == Name.MCR
                              and int(k.MCID) == mcid
                              and (k.Stm.objgen == stream_id if "/Stm" in k else is_page))]
            assert references, f"page {number}: MCID {mcid} of {'page' if is_page else 'form'}"


def test_tagged_form_xobjects_are_drawn_once_and_have_their_own_struct_parents(content):
    tagged_forms = [objgen for (_, objgen), mcids in content.mcids.items()
                    if mcids and objgen in content.forms]
    assert tagged_forms, "the cover's translucent text is drawn through form XObjects"
    for objgen in tagged_forms:
        assert len(content.drawn_on[objgen]) == 1
        assert "/StructParents" in content.forms[objgen]


def test_figures_have_alternate_text(case):
    _, pdf, _ = case
    figures = [e for e in struct_elements_in_tree(pdf).values() if e.S == Name.Figure]
    assert figures
    for figure in figures:
        assert str(figure.get("/Alt", "")).strip() or str(figure.get("/ActualText", "")).strip()


def test_annotations_are_described_and_in_the_tree(case):
    _, pdf, _ = case
    tree = parent_tree(pdf)
    in_tree = struct_elements_in_tree(pdf)
    annotations = 0
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", []):
            annotations += 1
            assert str(annotation.get("/Contents", "")).strip()
            element = tree[int(annotation.StructParent)]
            assert element.objgen in in_tree
            assert any(isinstance(k, Dictionary) and k.get("/Type") == Name.OBJR
                       and k.Obj.objgen == annotation.objgen for k in kids(element))
        if "/Annots" in page.obj:
            assert page.obj.Tabs == Name.S
    assert annotations, "the contents page links to the parts"


def test_every_font_is_embedded_with_a_unicode_map(case):
    _, pdf, _ = case
    for font in fonts(pdf):
        assert "/ToUnicode" in font, font.BaseFont
        descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        if descendant.get("/Subtype") == Name.Type3:
            continue  # glyphs are drawn by the font's own content streams
        descriptor = descendant.FontDescriptor
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), \
            font.BaseFont
