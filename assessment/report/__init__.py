"""The report: a scoring result plus branding in, a branded HTML page or PDF out.

Public API (the web layer and the CLI use only these):

- `Branding`, `DEFAULT_BRANDING`, `BrandingError`, `ReportInput`: the inputs (models.py);
- `render_html(report, nonce=None) -> str`: the standalone browser page;
- `ReportCache(directory)`: `ask(report, wait=...) -> RenderStatus` (ready with the PDF,
  pending, or failed), `get_or_render(report) -> bytes`, `prerender(report)` (background);
  renders through a `Renderer`: the worker pool or the shared queue;
- `content_disposition(business_name) -> str`: the download header;
- `configure_pool(...)`, `get_pool()`, `shutdown_pool()`, `RenderError`, `RenderTimeout`,
  `RenderBusy`;
- `configure_queue(url)`, `get_renderer()`: renders on a shared Redis queue (queue.py).

WeasyPrint is never imported in the calling process: only the render workers import it.
"""

from __future__ import annotations

from .cache import Renderer, RenderStatus, ReportCache, cache_key
from .download import content_disposition, download_filename
from .html import render_html, render_print_html, template_version
from .models import (
    DEFAULT_BRANDING,
    PRODUCT_NAME,
    Branding,
    BrandingError,
    ReportInput,
    check_colour,
)
from .pool import (
    RenderBusy,
    RenderError,
    RenderPool,
    RenderTimeout,
    configure_pool,
    get_pool,
    shutdown_pool,
)
from .queue import configure_queue, get_renderer


__all__ = [
    "DEFAULT_BRANDING",
    "PRODUCT_NAME",
    "Branding",
    "BrandingError",
    "RenderBusy",
    "RenderError",
    "RenderPool",
    "RenderStatus",
    "RenderTimeout",
    "Renderer",
    "ReportCache",
    "ReportInput",
    "cache_key",
    "check_colour",
    "configure_pool",
    "configure_queue",
    "content_disposition",
    "download_filename",
    "get_pool",
    "get_renderer",
    "render_html",
    "render_print_html",
    "shutdown_pool",
    "template_version",
]
