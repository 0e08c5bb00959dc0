"""The consultant's workspace: clients, interviews, client self-assessment links, history,
comparison, claim links, exports, each client's living roadmap and quarterly reviews, the
portfolio across clients, and the firm's branding, prices and settings. Every lookup is
scoped to the signed-in member's firm; an id from another firm is answered with 404 and nothing
changes.

One blueprint ("workspace") over the modules here.
"""

from __future__ import annotations

from . import (
    archive,
    branding,
    clients,
    exports,
    interview,
    links,
    portfolio,
    prices,
    promised,
    reviews,
    roadmap,
    roadmap_links,
    settings,
)
from .branding import logo_too_large
from .common import bp

# The modules are imported for the routes they add to bp.
__all__ = ["archive", "bp", "branding", "clients", "exports", "interview", "links",
           "logo_too_large", "portfolio", "prices", "promised", "reviews", "roadmap",
           "roadmap_links", "settings"]
