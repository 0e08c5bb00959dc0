"""Tools outside the test's own Python: what a test does when one is missing."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def missing_tool(reason: str) -> None:
    """A test tool outside Python (poppler, Chromium, axe-core) is not installed. `make test`
    installs every one and sets ITHEALTH_REQUIRE_TOOLS, so there it is a failure: the suite can
    never pass by skipping. Run bare (pytest on a machine without them), it is a skip, with the
    reason printed."""
    print(reason)
    if os.environ.get("ITHEALTH_REQUIRE_TOOLS"):
        pytest.fail(f"{reason} (make test installs it; this run requires every test tool)")
    pytest.skip(reason)


def tool(name: str, package: str) -> str:
    """The path of a command-line test tool, or missing_tool()."""
    path = shutil.which(name)
    if path is None:
        missing_tool(f"{name} is not installed (Debian package {package})")
    return path


def gunicorn_path() -> Path:
    """gunicorn is a pinned requirement, not an optional tool: missing, the test fails."""
    path = Path(sys.executable).parent / "gunicorn"
    if not path.exists():
        pytest.fail(f"gunicorn is not beside {sys.executable}: pip install -r requirements.txt")
    return path
