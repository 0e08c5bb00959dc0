"""The review pack: a quarterly review (core.review.ReviewContent) as a branded PDF of 2 to 4 A4
pages, for the client's leadership. No WeasyPrint here: the HTML goes to the same renderer as
the reports (the pool of render workers, or the shared queue), whose engine lays it out with the
report's fonts, stylesheet, locked-down URL fetcher and PDF/UA finishing (engine.py); the pack's
own stylesheet, review_pack.css, is laid over the report's.

Every list is capped so the pack stays within 4 pages however long the roadmap is ("and 12 more,
see the roadmap"); the snapshot keeps every row, the pack shows the first ones.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
from datetime import date
from urllib.parse import quote

from ..core.review import CHANGE_LABELS, MAX_NOTES, ReviewContent, cost_range_text, money
from .content import format_date
from .download import ATTR_CHAR_SAFE, _ascii_fallback, _clean
from .html import environment
from .models import PRODUCT_NAME, Branding
from .pool import RenderTimeout
from .queue import get_renderer

TEMPLATE = "review_pack.html"
# How many rows of each list the pack shows: together with the cover they fit 4 pages (a test
# renders 40 actions with long titles to keep this true).
SHOWN = {"promised": 10, "slipped": 3, "changes": 5, "decisions": 5, "next_90_days": 5,
         "accepted_risks": 3, "spend": 3}
# Up to this many rows in all, the parts follow each other (2 or 3 pages); beyond it, the
# scorecard and the next 90 days each start a page, so that each page's caps hold (4 pages).
FLOW_ROWS = 14
MAX_TITLE = 72  # characters of an action's title: two lines of its table cell at most
MAX_NAME = 30
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WAIT_MARGIN_SECONDS = 30.0  # beyond the renderer's own limit, before giving up on an answer


def short(text: str | None, limit: int) -> str:
    """The text on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def short_day(value: date | None) -> str:
    """15 Oct 2026, for table cells (the cover spells the month out)."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}" if value else ""


def _capped(rows: tuple, limit: int) -> dict:
    return {"rows": rows[:limit], "more": max(0, len(rows) - limit)}


def title_of(content: ReviewContent) -> str:
    return (f"Quarterly review: {content.client_name}, {format_date(content.period_start)} "
            f"to {format_date(content.period_end)}")


def pack_html(content: ReviewContent, branding: Branding, *, draft: bool) -> str:
    """The pack's HTML as the renderer lays it out (the report's stylesheet is supplied by the
    renderer; this one links the pack's own)."""
    logo = None
    if branding.logo_png_or_jpeg is not None:
        encoded = base64.b64encode(branding.logo_png_or_jpeg).decode("ascii")
        logo = f"data:{branding.logo_mime};base64,{encoded}"
    lists = {name: _capped(getattr(content, name), limit) for name, limit in SHOWN.items()
             if name != "slipped"}
    lists["slipped"] = _capped(content.scores.slipped, SHOWN["slipped"])
    flow = sum(len(shown["rows"]) for shown in lists.values()) <= FLOW_ROWS
    return environment().get_template(TEMPLATE).render(
        c=content, draft=draft, title=title_of(content), product_name=PRODUCT_NAME,
        page_part="part-flow" if flow else "part",
        brand={"firm_name": branding.firm_name, "logo": logo, "primary": branding.primary,
               "accent": branding.accent, "contact": branding.contact,
               "disclaimer": branding.disclaimer},
        lists=lists, parties=content.party_labels, change_labels=CHANGE_LABELS,
        day=lambda value: format_date(value) if value else "", short_day=short_day,
        money=money, cost=cost_range_text, short=short,
        limits={"title": MAX_TITLE, "name": MAX_NAME, "notes": MAX_NOTES},
        spend=content.spend_totals)


def render_pack(content: ReviewContent, branding: Branding, *, draft: bool) -> bytes:
    """The pack as PDF bytes, from the reports' renderer. RenderError (or its kinds: busy,
    delayed, timed out) when it cannot be made now."""
    html = pack_html(content, branding, draft=draft)
    renderer = get_renderer()
    future = renderer.submit(html, key=hashlib.sha256(html.encode("utf-8")).hexdigest())
    try:
        return future.result(timeout=renderer.timeout + WAIT_MARGIN_SECONDS)
    except concurrent.futures.TimeoutError:
        raise RenderTimeout("the review pack took too long to render") from None


def pack_disposition(client_name: str, period_end: date, *, draft: bool) -> str:
    """The download header: `Quarterly review - <client> - <period end>[ (draft)].pdf`, one
    line of printable ASCII with the full name percent-encoded beside it (RFC 6266, 5987)."""
    filename = (f"Quarterly review - {_clean(client_name)} - {period_end.isoformat()}"
                f"{' (draft)' if draft else ''}.pdf")
    encoded = quote(filename, safe=ATTR_CHAR_SAFE)
    return f"attachment; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"
