"""HTML -> PDF with WeasyPrint. Runs inside a render worker process (see pool.py), never in the
web process: importing this module imports WeasyPrint (which also sets Pillow's
LOAD_TRUNCATED_IMAGES), so only the workers and the tests import it.

One engine per worker keeps the parsed stylesheet and the font configuration (with the shipped
@font-face fonts loaded) and reuses them for every report, so a render pays only for the
document itself.
"""

from __future__ import annotations

import weasyprint
from weasyprint.text.fonts import FontConfiguration

from . import pdfua
from .fetcher import TEMPLATES_DIR, ReportURLFetcher
from .html import font_faces_css, stylesheet_text

BASE_URL = TEMPLATES_DIR.as_uri() + "/"

# Every option is spelled out: no user stylesheet, no attachment, no presentational hints, and a
# tagged PDF/UA-1 (which pdfua.finish completes). Fonts are subset to the glyphs used
# (WeasyPrint's default).
PDF_OPTIONS = {
    "pdf_variant": "pdf/ua-1",
    "pdf_tags": True,
    "presentational_hints": False,
    "attachments": None,
    "custom_metadata": False,
    "pdf_forms": False,
    "full_fonts": False,
    "hinting": False,
    "optimize_images": False,
}


class PdfEngine:
    def __init__(self):
        self.fetcher = ReportURLFetcher()
        self.font_config = FontConfiguration()
        self.stylesheet = weasyprint.CSS(
            string=font_faces_css(data_urls=False) + "\n" + stylesheet_text(),
            base_url=BASE_URL, url_fetcher=self.fetcher, font_config=self.font_config)

    def render(self, html: str) -> bytes:
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=self.fetcher)
        return pdfua.finish(document.write_pdf(
            stylesheets=[self.stylesheet], font_config=self.font_config, **PDF_OPTIONS))
