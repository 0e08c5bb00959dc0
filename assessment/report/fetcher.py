"""The one URL fetcher WeasyPrint is ever given: data: URLs and our own asset files, nothing else.

Policy (docs/report.md, "What the renderer may load"):
- `data:` URLs are decoded in memory (the logo, and nothing else in practice);
- `file:` URLs are served only when they name an existing file inside report_templates/ (after
  resolving symlinks and `..`) with an asset suffix (.css, .otf, .ttf, .woff, .woff2, .png,
  .jpg, .jpeg, .svg); a host part, a query or anything else is refused;
- every other scheme (http, https, ftp, ...) is refused without touching the network, and no
  redirect is ever followed because nothing is ever requested over a network.

Refusals raise `FetchRefused`; WeasyPrint logs it and renders without the resource, so a hostile
reference can only make something disappear, never reach anything.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections import deque
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

TEMPLATES_DIR = (Path(__file__).resolve().parent.parent.parent / "report_templates").resolve()
ASSET_SUFFIXES = {
    ".css": "text/css", ".otf": "font/otf", ".ttf": "font/ttf", ".woff": "font/woff",
    ".woff2": "font/woff2", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
MAX_DATA_URL = 4 * 1024 * 1024


class FetchRefused(ValueError):
    """A URL the report renderer will not load."""


def _decode_data_url(url: str) -> tuple[bytes, str]:
    header, sep, payload = url[len("data:"):].partition(",")
    if not sep:
        raise FetchRefused("malformed data: URL")
    if len(payload) > MAX_DATA_URL:
        raise FetchRefused("data: URL too large")
    params = header.split(";")
    mime = params[0].strip().lower() or "text/plain"
    if "base64" in (p.strip().lower() for p in params[1:]):
        try:
            body = base64.b64decode(unquote(payload), validate=False)
        except (binascii.Error, ValueError):
            raise FetchRefused("malformed base64 in data: URL") from None
    else:
        body = unquote_to_bytes(payload)
    return body, mime


def asset_path(url: str, root: Path = TEMPLATES_DIR) -> Path:
    """The file a file: URL names, if it is one of our assets; FetchRefused otherwise."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        raise FetchRefused(f"not a file URL: {url[:80]}")
    if parts.netloc not in ("", "localhost") or parts.query:
        raise FetchRefused(f"refused file URL: {url[:80]}")
    path = Path(unquote(parts.path))
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise FetchRefused(f"no such asset: {url[:80]}") from None
    if not resolved.is_relative_to(root) or not resolved.is_file():
        raise FetchRefused(f"outside the report assets: {url[:80]}")
    if resolved.suffix.lower() not in ASSET_SUFFIXES:
        raise FetchRefused(f"not an asset type: {url[:80]}")
    return resolved


class ReportURLFetcher(URLFetcher):
    """Serves data: URLs and files under report_templates/; refuses everything else."""

    def __init__(self, root: Path = TEMPLATES_DIR):
        super().__init__(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False,
                         fail_on_errors=False)
        self.root = Path(root).resolve()
        self.refused: deque[str] = deque(maxlen=100)  # the latest refusals, for debugging

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        try:
            if scheme == "data":
                body, mime = _decode_data_url(url)
                return URLFetcherResponse(url, body, {"Content-Type": mime})
            if scheme == "file":
                path = asset_path(url, self.root)
                mime = ASSET_SUFFIXES.get(path.suffix.lower()) or \
                    mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                          {"Content-Type": mime})
            raise FetchRefused(f"scheme not allowed: {url[:80]}")
        except FetchRefused:
            self.refused.append(url[:200])
            raise

    # The base class is a urllib OpenerDirector; make sure nothing can reach its handlers.
    def open(self, url, data=None, timeout=None):
        return self.fetch(url if isinstance(url, str) else url.full_url)

    def __call__(self, url):
        return self.fetch(url)
