"""A safe Content-Disposition header for a report download named after the business."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

FILENAME_PREFIX = "IT health report - "
MAX_NAME = 80
# RFC 5987 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`"
# / "|" / "~"; everything else is percent-encoded.
ATTR_CHAR_SAFE = "!#$&+-.^_`|~"


def _clean(name: str) -> str:
    """One line of printable text: control and format characters go, spaces are tidied."""
    name = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in name or "")
    name = " ".join(name.split())
    name = name.replace("/", "-").replace("\\", "-").strip(" .")
    return name[:MAX_NAME].strip() or "Your business"


def _ascii_fallback(filename: str) -> str:
    decomposed = unicodedata.normalize("NFKD", filename)
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    ascii_only = re.sub(r"[^A-Za-z0-9 ._()&,+-]", "_", ascii_only)
    ascii_only = re.sub(r"_+", "_", ascii_only)
    return ascii_only


def download_filename(business_name: str) -> str:
    return f"{FILENAME_PREFIX}{_clean(business_name)}.pdf"


def content_disposition(business_name: str) -> str:
    """`attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>` (RFC 6266, 5987).

    The result is a single line of printable ASCII, whatever the business is called: quotes,
    backslashes, line breaks and control characters can never break out of the header.
    """
    filename = download_filename(business_name)
    fallback = _ascii_fallback(filename)
    encoded = quote(filename, safe=ATTR_CHAR_SAFE)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
