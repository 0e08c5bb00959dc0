"""Fixtures for the real-browser tests: the app on a live server, driven by Playwright
in Debian's chromium, with axe-core accessibility checks and full-page screenshots.

Storage engine: every browser test runs on SQLite only. What an engine can change is what is
stored on one page and read back on a later one, and each such check has a test-client twin that
runs on SQLite and on PostgreSQL (tests/test_owner_walk.py for the owner's wizard; test_trust.py,
test_workspace.py, test_client_link.py and the other both_backends modules for the rest). Running
the browser on both engines would double its share of `make test` (about a third of the suite)
for nothing those tests do not already check.

Fixtures
    live_server               the app served on 127.0.0.1 with a throwaway database;
                              ``.url`` (no trailing slash) and ``.app``. One per test
                              module.
    browser                   Playwright Browser (Debian's /usr/bin/chromium, headless)
    page                      desktop page, 1280x900, in a fresh context
    phone_page                phone page, 390x844, is_mobile and has_touch, fresh context
    nojs_page                 desktop page with JavaScript disabled, fresh context
    axe                       axe(page, context=None, options=None) -> list of violations
    assert_no_axe_violations  assert_no_axe_violations(page, context=None, options=None)
    screenshot                screenshot(page, name) -> Path of
                              tests/artifacts/screenshots/NAME.png (full page)
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.tools import missing_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SCREENSHOT_DIR = REPO_ROOT / "tests" / "artifacts" / "screenshots"

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Fail a stuck locator or navigation after 10 s rather than Playwright's 30 s.
DEFAULT_TIMEOUT_MS = 10_000


# --- live server ---------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    url: str  # e.g. "http://127.0.0.1:54321", without a trailing slash
    app: Any  # the Flask app being served


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory,
                _sqlite_template: Path) -> Iterator[LiveServer]:
    """The real app, served from a background thread on a free port of 127.0.0.1.

    Each test module gets its own app and empty database: a SQLite file (a copy of the session's
    migrated template), whatever ITHEALTH_DATABASE_URL says.
    """
    from assessment import create_app

    db_path = tmp_path_factory.mktemp("live_server") / "test.sqlite"
    shutil.copy(_sqlite_template, db_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(db_path),
                      "DATABASE_URL": None})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live_server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- browser and pages ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, through Playwright. Never downloads a browser."""
    if not CHROMIUM.exists():
        missing_tool("Debian's chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def _fresh_page(browser: Any, **context_options: Any) -> Iterator[Any]:
    # A new context has its own empty cookies, storage and cache.
    context = browser.new_context(**context_options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page (1280x900)."""
    yield from _fresh_page(browser, **DESKTOP)


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A phone-sized page (390x844) with touch and mobile viewport handling."""
    yield from _fresh_page(browser, **PHONE)


@pytest.fixture
def nojs_page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page with JavaScript disabled."""
    yield from _fresh_page(browser, **DESKTOP, java_script_enabled=False)


# --- accessibility (axe-core) --------------------------------------------------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        missing_tool("axe-core is not installed (needs Node.js and npm): "
                     "run `npm ci` or `make test` to install it")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source: str) -> Callable[..., list[dict]]:
    """axe(page, context=None, options=None) -> list of axe-core violations.

    Checks the WCAG 2.0/2.1/2.2 A and AA rules by default. ``context`` is axe's
    include/exclude context (default: the whole document); ``options`` replaces the
    default run options, e.g. ``{"runOnly": ["color-contrast"]}``.
    """

    def run(page: Any, context: Any = None, options: dict | None = None) -> list[dict]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            # Evaluated through the DevTools protocol, so the app's
            # Content-Security-Policy does not block it (a <script> tag would be).
            page.evaluate(axe_source)
        if options is None:
            options = {"runOnly": {"type": "tag", "values": AXE_TAGS}}
        return page.evaluate(
            "([context, options]) => axe.run(context || document, options)"
            ".then(results => results.violations)",
            [context, options],
        )

    return run


def format_axe_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core found {len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact') or 'unknown'}]: {violation['help']}"
        )
        nodes = violation.get("nodes", [])
        for node in nodes[:3]:
            lines.append(f"    at {_selector(node.get('target'))}")
        if len(nodes) > 3:
            lines.append(f"    ... and {len(nodes) - 3} more element(s)")
        if violation.get("helpUrl"):
            lines.append(f"    see {violation['helpUrl']}")
    return "\n".join(lines)


def _selector(target: Any) -> str:
    # A target is a list of selectors: one per frame / shadow root on the way down.
    if isinstance(target, list):
        return " >>> ".join(_selector(part) for part in target)
    return str(target)


@pytest.fixture
def assert_no_axe_violations(axe: Callable[..., list[dict]]) -> Callable[..., None]:
    """assert_no_axe_violations(page, context=None, options=None): fails the test with
    a readable list (rule id, impact, help, first 3 selectors) if axe finds anything."""

    def check(page: Any, context: Any = None, options: dict | None = None) -> None:
        violations = axe(page, context=context, options=options)
        if violations:
            pytest.fail(format_axe_violations(page.url, violations), pytrace=False)

    return check


# --- screenshots ---------------------------------------------------------------------


def save_screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG as tests/artifacts/screenshots/NAME.png and return its path."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "screenshot"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{safe_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """screenshot(page, name) -> Path: full-page PNG in tests/artifacts/screenshots/."""
    return save_screenshot
