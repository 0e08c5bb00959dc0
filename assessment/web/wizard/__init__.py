"""The owner's self-assessment: start, sections, hub, review, results, resume. No account.

One blueprint ("wizard") over the modules here: links (private links and the summary of an
assessment), sections (the question pages and autosave), promises and agreed (what a firm's
client agreed last time, asked first), pages (everything around them) and unsaved (what a
request that could not be saved shows).
"""

from __future__ import annotations

from . import links, pages, promises, sections, unsaved
from .common import bp
from .links import open_summary
from .unsaved import handle_csrf_error, too_large

# The modules are imported for the routes they add to bp.
__all__ = ["bp", "handle_csrf_error", "links", "open_summary", "pages", "promises", "sections",
           "too_large", "unsaved"]
