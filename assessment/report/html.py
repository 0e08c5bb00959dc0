"""ReportInput -> HTML, with Jinja2 autoescaping everything. No WeasyPrint here.

Two flavours of the same document:
- the print HTML handed to WeasyPrint: the stylesheet and fonts are not in it (each worker parses
  report.css once and reuses it), only the two brand colours as CSS custom properties;
- the browser HTML (`render_html`): the stylesheet inline, every <style> carrying the CSP nonce
  when one is given, and the fonts either as data: URLs (a standalone file, as the command line
  writes) or, given `font_base`, as URLs of files the web app serves and browsers cache (see
  `font_version`); above the report, a bar of links (`back`, `links`) for the web app's pages.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .content import build_context
from .models import ReportInput

TEMPLATES_DIR = (Path(__file__).resolve().parent.parent.parent / "report_templates").resolve()
PACKAGE_DIR = Path(__file__).resolve().parent
STYLESHEET = "report.css"
FONT_FACES = (  # file, weight, style
    ("Inter-Regular.otf", 400, "normal"),
    ("Inter-Italic.otf", 400, "italic"),
    ("Inter-SemiBold.otf", 600, "normal"),
    ("Inter-Bold.otf", 700, "normal"),
)
FONT_FILES = frozenset(name for name, _, _ in FONT_FACES)
NONCE_RE = re.compile(r"[A-Za-z0-9+/=_-]{8,200}")
FONT_BASE_RE = re.compile(r"[A-Za-z0-9/._~%-]{1,500}/")  # a path only: nothing that ends url('')


@lru_cache(maxsize=1)
def environment() -> Environment:
    # autoescape for every template name, not only *.html: nothing rendered here is ever unescaped.
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        auto_reload=False,
    )


@lru_cache(maxsize=1)
def font_version() -> str:
    """A hash of the shipped font files: part of their web address, so a browser may keep them
    for good (a changed font gets a new address)."""
    digest = hashlib.sha256()
    for name, _, _ in FONT_FACES:
        digest.update(name.encode() + b"\0" + (TEMPLATES_DIR / "fonts" / name).read_bytes())
    return digest.hexdigest()[:16]


def font_file(name: str) -> bytes | None:
    """The bytes of one shipped font named in FONT_FACES; None for any other name."""
    if name not in FONT_FILES:
        return None
    return (TEMPLATES_DIR / "fonts" / name).read_bytes()


def font_faces_css(data_urls: bool, base: str | None = None) -> str:
    """@font-face rules for the shipped fonts: relative URLs (print), data: URLs (a standalone
    browser page) or, given `base`, URLs under that path (the web app's font files)."""
    if base is not None and not FONT_BASE_RE.fullmatch(base):
        raise ValueError("the font base must be a path ending in /")
    rules = []
    for name, weight, style in FONT_FACES:
        if base is not None:
            src = f"url('{base}{name}') format('opentype')"
        elif data_urls:
            encoded = base64.b64encode((TEMPLATES_DIR / "fonts" / name).read_bytes())
            src = f"url(data:font/otf;base64,{encoded.decode('ascii')}) format('opentype')"
        else:
            src = f"url('fonts/{name}') format('opentype')"
        rules.append(f"@font-face {{ font-family: Inter; font-weight: {weight}; "
                     f"font-style: {style}; src: {src}; }}")
    return "\n".join(rules)


def stylesheet_text() -> str:
    return (TEMPLATES_DIR / STYLESHEET).read_text(encoding="utf-8")


@lru_cache(maxsize=8)
def _screen_css(font_base: str | None = None) -> Markup:
    """Our own stylesheet, trusted (it is a file of the product, never user data)."""
    css = font_faces_css(data_urls=True, base=font_base) + "\n" + stylesheet_text()
    if "</" in css:
        raise ValueError("the report stylesheet must not contain '</'")
    # The product's own stylesheet file, never user data.
    return Markup(css)  # nosec B704


@lru_cache(maxsize=1)
def template_version() -> str:
    """A hash of every file that shapes a report: templates, CSS, fonts and this package's code."""
    digest = hashlib.sha256()
    files = sorted(p for p in TEMPLATES_DIR.rglob("*") if p.is_file())
    files += sorted(PACKAGE_DIR.glob("*.py"))
    for path in files:
        rel = path.relative_to(TEMPLATES_DIR if path.is_relative_to(TEMPLATES_DIR)
                               else PACKAGE_DIR.parent.parent)
        digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


Link = tuple[str, str]  # (address, text)


def _render(report: ReportInput, *, screen: bool, nonce: str | None, back: Link | None = None,
            links: Sequence[Link] = (), font_base: str | None = None) -> str:
    if nonce is not None and not NONCE_RE.fullmatch(nonce):
        raise ValueError("nonce must be 8 to 200 characters of base64 or base64url")
    context = build_context(report)
    template = environment().get_template("report.html")
    head = nav = ""
    if screen:
        parts = environment().get_template("screen.html").module
        head = parts.head(_screen_css(font_base), nonce)
        nav = parts.nav(back, list(links))
    return template.render(**context, screen=screen, nonce=nonce, screen_head=head,
                           screen_nav=nav)


def render_html(report: ReportInput, nonce: str | None = None, *, back: Link | None = None,
                links: Sequence[Link] = (), font_base: str | None = None) -> str:
    """The report as an HTML page for a browser; `nonce` goes on every <style>.

    `back` is the (address, text) of the page the reader came from and `links` more such pairs,
    shown in a bar above the report; `font_base` is the path the fonts are served under (see
    `font_version`), else they are put in the page as data: URLs.
    """
    return _render(report, screen=True, nonce=nonce, back=back, links=links,
                   font_base=font_base)


def render_print_html(report: ReportInput) -> str:
    """The HTML WeasyPrint lays out (the stylesheet is supplied separately)."""
    return _render(report, screen=False, nonce=None)
