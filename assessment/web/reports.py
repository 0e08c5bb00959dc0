"""Reports for the web: what goes into an assessment's report, and serving it (PDF or HTML).

Everything the report shows comes from the stored answers, the assessment's own bank and the
firm's branding. PDFs are kept in instance/reports keyed by a hash of all of that, so an unchanged
report downloads from disk, and finishing an assessment starts its render in the background.

The owner's and the consultant's report routes (wizard.py, workspace.py) call `pdf_response` and
`html_response`, which read the address's query:
- `variant`: absent or `leadership` for the leadership report, `full` for the full one; anything
  else is a 400 page that says which there are;
- on the PDF route, `status` asks how far the render has got (JSON, for the preparing page's
  script) and `waiting` marks the preparing page's own reload (without JavaScript).

A browser that asks for the PDF while it is still being rendered gets a "Preparing your report"
page (202) that fetches the PDF once it is ready, instead of a blank wait; a client that does not
ask for HTML (a script, a download tool) gets the PDF when it is ready, as before.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
    url_for,
)
from sqlite_utils import Database

from ..core.prices import PriceList, default_price_list, firm_bands_problem, with_firm_prices
from ..core.viewpoint import BUSINESS, FIRM
from ..report import (
    DEFAULT_BRANDING,
    Branding,
    BrandingError,
    RenderStatus,
    ReportCache,
    ReportInput,
    cache_key,
    content_disposition,
    render_html,
)
from ..report.html import font_file, font_version
from ..storage import NotFound, accounts, assessment_view, get_assessment
from ..storage import clients as clients_store
from ..support.throttle import Throttle, held_note
from ..support.audit import audit
from .db import get_db
from .security import csp_nonce

VARIANTS = {"leadership": False, "full": True}
GRACE_SECONDS = 0.5  # a browser's download waits this long for a render before showing progress
STATUS_WAIT_SECONDS = 1.0  # a status request answers as soon as the render is over, or after this
REFRESH_SECONDS = 3  # the preparing page reloads itself this often when scripts are off
FONT_CACHE = "public, max-age=31536000, immutable"  # the address changes with the font files
# What the preparing page and its status JSON say, by the state shown (_shown).
STEPS = {
    "queued": "Waiting for a free moment to lay out the pages",
    "rendering": "Laying out the pages",
    "ready": "Your report is ready",
    "failed": "The report could not be made just now",
    "busy": "Too many reports are being made right now",
    "delayed": "Reports are delayed",
}
BUSY_MESSAGE = ("The queue for reports is full, so yours could not join it. Your answers are "
                "safe. Please try the download again in a few minutes.")
BUSY_RETRY_SECONDS = 120
DELAYED_MESSAGE = ("The service that lays out reports is not running just now. Your answers are "
                   "safe and your report is in the queue: it will be made as soon as the "
                   "service is back. Please try the download again in a few minutes.")
DELAYED_RETRY_SECONDS = 300
_failures = Throttle(60.0)

# The report's font files, at an address that changes with them (so browsers keep them).
bp = Blueprint("report_assets", __name__)


def branding_of(db: Database, firm_id: int | None) -> Branding:
    """The firm's branding, or the product's own for an owner on their own."""
    if firm_id is None:
        return DEFAULT_BRANDING
    firm = accounts.firm_branding(db, firm_id)
    if firm is None:
        return DEFAULT_BRANDING
    try:
        return Branding(
            firm_name=firm["name"],
            logo_png_or_jpeg=firm["logo"],
            primary=firm["primary_colour"] or DEFAULT_BRANDING.primary,
            accent=firm["accent_colour"] or DEFAULT_BRANDING.accent,
            contact=firm["contact_line"] or "",
            disclaimer=firm["disclaimer"] or DEFAULT_BRANDING.disclaimer,
        )
    except BrandingError:  # saved values are checked on the way in; this is a last resort
        current_app.logger.warning("firm %s has branding that cannot be used", firm_id)
        return DEFAULT_BRANDING


def prices_of(db: Database, firm_id: int | None) -> PriceList:
    """The price list of a firm's reports: its own figures where it set them, else the shipped
    list (also for an owner on their own)."""
    base = default_price_list()
    if firm_id is None:
        return base
    saved = accounts.firm_price_list(db, firm_id)
    if saved is None:
        return base
    problem = firm_bands_problem(saved.get("currency"), saved.get("bands"))
    firm = accounts.get_firm(db, firm_id)
    if problem or firm is None:  # saved values are checked on the way in; a last resort
        current_app.logger.warning("firm %s has a price list that cannot be used: %s", firm_id,
                                   problem)
        return base
    try:
        return _firm_prices(firm["name"], saved["currency"],
                            tuple((band, tuple(pair)) for band, pair in
                                  sorted(saved["bands"].items())),
                            str(saved.get("saved_on") or date.today().isoformat()))
    except ValueError as error:
        current_app.logger.warning("firm %s has a price list that cannot be used: %s", firm_id,
                                   error)
        return base


@lru_cache(maxsize=64)
def _firm_prices(firm_name: str, currency: str, bands: tuple, saved_on: str) -> PriceList:
    return with_firm_prices(default_price_list(), firm_name, currency, dict(bands), saved_on)


def report_input(assessment: dict, *, full: bool = False,
                 for_client: bool | None = None) -> ReportInput:
    """What goes into the report: what the assessment says to its viewer (viewpoint.py). The
    firm's report (asked for in the workspace) has every note; the client's (asked for through
    their link) only the firm's notes marked for them, and their own. for_client=None: decided
    by where the request came from."""
    if for_client is None:
        for_client = not (has_request_context() and request.blueprint == "workspace")
    db = get_db()
    seen = assessment_view(db, assessment, BUSINESS if for_client else FIRM)
    day = (assessment["finished_at"] or assessment["updated_at"])[:10]
    return ReportInput.of_view(seen, assessed_on=date.fromisoformat(day), full=full,
                               branding=branding_of(db, assessment["firm_id"]),
                               prices=prices_of(db, assessment["firm_id"]))


# How often an instance looks for the PDFs of assessments deleted through another instance.
PURGE_SWEEP_SECONDS = 30


def cache() -> ReportCache:
    if "report_cache" not in current_app.extensions:
        folder = Path(current_app.config["REPORT_DIR"])
        current_app.extensions["report_cache"] = ReportCache(
            folder, max_mb=int(current_app.config["REPORT_CACHE_MB"]),
            max_days=float(current_app.config["REPORT_CACHE_DAYS"]))
    store = current_app.extensions["report_cache"]
    _sweep_purged(store)
    return store


def _sweep_purged(store: ReportCache) -> None:
    """Remove from this instance's cache the PDFs of assessments deleted anywhere (the keys
    storage marked purged since the last look), at most every PURGE_SWEEP_SECONDS."""
    state = current_app.extensions.setdefault("report_purge", {"at": None, "since": None})
    moment = time.monotonic()
    if state["at"] is not None and moment - state["at"] < PURGE_SWEEP_SECONDS:
        return
    state["at"] = moment
    try:
        keys, state["since"] = clients_store.purged_since(get_db(), state["since"])
    except Exception:  # a look that fails tries again next time; serving goes on
        current_app.logger.exception("could not read the purged reports")
        return
    for key in keys:
        store.path(key).unlink(missing_ok=True)


@bp.before_app_request
def _sweep_purged_reports() -> None:
    """Every instance that holds reports looks for purged ones now and then, whatever it serves:
    a deleted assessment's PDFs do not wait for this instance's next report."""
    store = current_app.extensions.get("report_cache")
    if store is not None:
        _sweep_purged(store)


def _rendering(assessment: dict, key: str) -> None:
    """Record that a PDF of this assessment is (being) made under this key, so that deleting
    the assessment removes it, whichever answers it was made from."""
    clients_store.remember_render(get_db(), assessment["id"], key)


def requested_full() -> bool:
    """The report the address asks for: False for the leadership report (the default), True for
    the full one; any other `variant` ends the request with a 400 page saying which there are."""
    values = request.args.getlist("variant")
    if not values:
        return False
    if len(values) == 1 and values[0] in VARIANTS:
        return VARIANTS[values[0]]
    abort(Response(render_template(
        "error.html", title="There is no such report",
        message="A report is either the leadership report (the address without a variant) or "
                "the full report (variant=full in the address). Check the link, or use the "
                "download links on the page you came from."), status=400, mimetype="text/html"))


def _variant_args(full: bool) -> dict:
    return {"variant": "full"} if full else {}


def _pages(full: bool) -> dict:
    """The addresses around this report: its PDF and page, the other variant's, and the page
    the reader came from (the owner's results, or the consultant's assessment page)."""
    args = dict(request.view_args or {})
    if request.blueprint == "workspace":
        prefix = "workspace"
        back = (url_for("workspace.assessment", **args), "Back to the assessment")
    else:
        prefix = "wizard"
        back = (url_for("wizard.results"), "Back to your results")
    return {
        "pdf": url_for(f"{prefix}.report_pdf", **args, **_variant_args(full)),
        "html": url_for(f"{prefix}.report_html", **args, **_variant_args(full)),
        "other_html": url_for(f"{prefix}.report_html", **args, **_variant_args(not full)),
        "back": back,
        "name": "full report" if full else "leadership report",
        "other_name": "leadership report" if full else "full report",
    }


def _browser_navigation() -> bool:
    """Whether the request names text/html in Accept, as a browser's page load does (a script or
    download tool asks for */* or nothing, and gets the PDF itself)."""
    return any(kind == "text/html" and quality > 0 for kind, quality in request.accept_mimetypes)


def _pdf(report: ReportInput, assessment: dict, key: str, pdf: bytes, rendered: bool) -> Response:
    audit("report_download", assessment=assessment["id"], firm=assessment["firm_id"],
          rendered=rendered, key=key[:16], bytes=len(pdf))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": content_disposition(report.business_name),
        "Cache-Control": "no-store",
    })


def _not_now_page(full: bool, title: str, message: str, headers: dict | None = None
                  ) -> Response:
    """A 503 page for a report that cannot be had just now: try again, or go back."""
    pages = _pages(full)
    actions = [(pages["pdf"], "Try the download again", True), (*pages["back"], False)]
    return Response(render_template("error.html", title=title, message=message,
                                    actions=actions),
                    status=503, mimetype="text/html", headers=headers)


def _failed_page(full: bool) -> Response:
    return _not_now_page(full, "The report could not be made just now",
                         "Your answers are safe. Please try the download again in a minute.")


def _busy_page(full: bool) -> Response:
    """The answer when the render queue is full: nothing was queued; come back shortly."""
    return _not_now_page(full, "Too many reports are being made right now", BUSY_MESSAGE,
                         {"Retry-After": str(BUSY_RETRY_SECONDS)})


def _delayed_page(full: bool) -> Response:
    """The answer when no render consumer is running: the report is queued; come back later."""
    return _not_now_page(full, STEPS["delayed"], DELAYED_MESSAGE,
                         {"Retry-After": str(DELAYED_RETRY_SECONDS)})


def _shown(status: RenderStatus) -> str:
    """The state the preparing page and its script are told: queued or rendering while pending,
    busy when the queue was full, delayed when no consumer runs, else ready or failed."""
    if status.busy:
        return "busy"
    if status.delayed:
        return "delayed"
    return (status.stage or "queued") if status.state == "pending" else status.state


def _waiting_page(full: bool, status: RenderStatus) -> Response:
    """The "Preparing your report" page, or (for the reload that finds it done) "ready"."""
    pages = _pages(full)
    ready = status.state == "ready"
    page = render_template(
        "report_wait.html", title="Your report is ready" if ready else "Preparing your report",
        ready=ready, percent=round(100 * status.fraction), step=STEPS[_shown(status)],
        pages=pages, refresh=REFRESH_SECONDS,
        status_url=url_for(request.endpoint, **(request.view_args or {}), **_variant_args(full),
                           status="json"),
        again_url=url_for(request.endpoint, **(request.view_args or {}), **_variant_args(full),
                          waiting="1"))
    return Response(page, status=200 if ready else 202, mimetype="text/html")


def _status_reply(report: ReportInput) -> Response:
    """How far the render has got, as JSON: answered as soon as it is over, or after a second.
    A render that nothing is running (its process restarted, say) is started again; one that
    failed lately is not (the reader decides to try again)."""
    status = cache().ask(report, wait=STATUS_WAIT_SECONDS, retry_failed=False)
    pdf = _pages(report.full)["pdf"]
    if status.busy:
        return jsonify(state="busy", percent=0, step=STEPS["busy"], message=BUSY_MESSAGE,
                       pdf=pdf)
    if status.delayed:
        return jsonify(state="delayed", percent=0, step=STEPS["delayed"],
                       message=DELAYED_MESSAGE, pdf=pdf)
    shown = _shown(status)
    return jsonify(state=shown, percent=round(100 * status.fraction), step=STEPS[shown], pdf=pdf)


def pdf_response(assessment: dict) -> Response:
    full = requested_full()
    report = report_input(assessment, full=full)
    if "status" in request.args:
        return _status_reply(report)
    browser = _browser_navigation()
    waiting = "waiting" in request.args and browser
    # A browser never gets a blank wait: a short grace for a render about to finish, then a page
    # that shows progress and fetches the PDF itself. The page's own reload (waiting) does not
    # restart a render that failed: it says so, and pressing Download again tries again. A
    # client that does not ask for HTML waits for the PDF.
    status = cache().ask(report, wait=GRACE_SECONDS if browser else None,
                         retry_failed=not waiting,
                         on_render=lambda key: _rendering(assessment, key))
    if status.busy:
        return _busy_page(full)
    if status.delayed:  # logged by the queue, once a minute at most
        return _delayed_page(full)
    if status.state == "failed":
        # While the queue or a render worker is away every download fails the same way: one
        # line a minute per cause says so.
        held = _failures.allow(status.error or "")
        if held is not None:
            current_app.logger.warning("report %s could not be made: %s%s", status.key[:16],
                                       status.error, held_note(held))
        return _failed_page(full)
    if status.pdf is None or waiting:  # the reload that finds it ready: that page fetches it
        return _waiting_page(full, status)
    return _pdf(report, assessment, status.key, status.pdf, rendered=not status.cached)


def font_base() -> str:
    """The path the report's font files are served under (ends with /)."""
    return url_for("report_assets.font", version=font_version(), name="_").removesuffix("_")


def html_response(assessment: dict) -> Response:
    full = requested_full()
    pages = _pages(full)
    links = [(pages["pdf"], "Download as PDF"),
             (pages["other_html"], f"See the {pages['other_name']}")]
    page = render_html(report_input(assessment, full=full), nonce=csp_nonce(),
                       back=pages["back"], links=links, font_base=font_base())
    return Response(page, mimetype="text/html")


@bp.get("/static/report-fonts/<version>/<name>")
def font(version: str, name: str) -> Response:
    """One of the report's font files; the address holds their hash, so it is kept for good."""
    data = font_file(name) if version == font_version() else None
    if data is None:
        abort(404)
    return Response(data, mimetype="font/otf", headers={"Cache-Control": FONT_CACHE})


# A report is started this long after the last answer of a complete assessment is saved, and
# started again (once) when answers keep changing: not on every keystroke of a note.
PRERENDER_QUIET_SECONDS = 1.0
_timers: dict[str, threading.Timer] = {}
_timers_lock = threading.Lock()


def prerender_soon(assessment: dict) -> None:
    """The PDF is ready when the owner is: once every question that needs an answer has one,
    render the leadership report in the background after a short quiet spell, so Download after
    Finish hands it over at once. A later change starts the quiet spell again."""
    app = current_app._get_current_object()
    assessment_id = assessment["id"]

    def run() -> None:
        with _timers_lock:
            _timers.pop(assessment_id, None)
        with app.app_context():
            try:
                prerender(get_assessment(get_db(), assessment_id))
            except NotFound:  # deleted meanwhile: nothing to render
                pass
            except Exception:  # the download renders on demand instead
                app.logger.exception("background report render of %s did not start",
                                     assessment_id)

    timer = threading.Timer(PRERENDER_QUIET_SECONDS, run)
    timer.daemon = True
    with _timers_lock:
        previous = _timers.pop(assessment_id, None)
        if previous is not None:
            previous.cancel()
        _timers[assessment_id] = timer
    timer.start()


def prerender(assessment: dict) -> None:
    """Start rendering the leadership report (the one the results page offers first) in the
    background so its download is instant. Not the full one as well: it takes longer, and in a
    single render worker it would hold up the next finished assessment's leadership report; the
    full report renders when asked for, behind the preparing page."""
    try:
        report = report_input(assessment)
        _rendering(assessment, cache_key(report))
        cache().prerender(report)
    except Exception:  # a failed pre-render only means the download renders on demand
        current_app.logger.exception("background report render did not start")
