"""What a file of evidence (that a roadmap action is done) may be: up to 10 MB, and one of a
few kinds that cannot run anything when opened: PDF, PNG, JPEG, plain text or CSV. The kind is
read from the file's first bytes, never taken from its name or the browser's word, and the
file is always served back as a download of that kind."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

MAX_BYTES = 10 * 1024 * 1024
# The most a request carrying a file of evidence may be: the file, and room for the form's
# other fields and its encoding. The forms that take one raise the app's request limit to it.
UPLOAD_REQUEST_BYTES = MAX_BYTES + 256 * 1024
MAX_NAME = 120
KINDS = {  # content type -> the extension a download gets
    "application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg",
    "text/plain": "txt", "text/csv": "csv",
}
ALLOWED_WORDS = "a PDF, a PNG or JPEG picture, or a plain text or CSV file"


class UploadRefused(ValueError):
    """A file that cannot be kept; the message says what to send instead."""


class CheckedFile(NamedTuple):
    name: str  # safe to show and to offer as a download name
    content_type: str


def check_upload(filename: str | None, data: bytes) -> CheckedFile:
    """The file's safe name and kind, or UploadRefused saying what is wrong with it."""
    if not data:
        raise UploadRefused("The file is empty. Choose the file again, or add a link instead.")
    if len(data) > MAX_BYTES:
        raise UploadRefused("The file is larger than 10 MB, the limit. "
                            "Send a smaller file (a PDF of the key page, a screenshot) or "
                            "a link to where it is kept.")
    kind = _kind(data, filename or "")
    if kind is None:
        raise UploadRefused(f"That kind of file cannot be kept as evidence. Send {ALLOWED_WORDS}"
                            " (a screenshot or a PDF export works for most things).")
    return CheckedFile(clean_name(filename or "", kind), kind)


def _kind(data: bytes, filename: str) -> str | None:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Text that a browser or a spreadsheet could take for something else is refused.
    head = data[:512].lstrip().lower()
    if head.startswith((b"<", b"{\\rtf", b"#!")):
        return None
    return "text/csv" if filename.lower().endswith(".csv") else "text/plain"


def clean_name(filename: str, kind: str) -> str:
    """The name shown and offered for download: the last path part, printable characters
    only, with the extension of the kind the file really is."""
    base = re.split(r"[\\/]", filename)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base)
                   if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base.strip(" .")
    stem = stem[:MAX_NAME] or "evidence"
    return f"{stem}.{KINDS[kind]}"


def link_problem(url: str) -> str | None:
    """Why a link cannot be kept as evidence, or None: only web addresses (https or http)."""
    url = (url or "").strip()
    if not url:
        return "Enter the link's address, starting with https://."
    if len(url) > 2000:
        return "Keep the link under 2,000 characters."
    if not re.match(r"^https?://[^\s/?#]+\.[^\s/?#]+", url, re.I) or any(
            ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url):
        return "Enter a web address starting with https:// (for example a ticket's page)."
    return None
