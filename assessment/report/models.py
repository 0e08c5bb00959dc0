"""The report's inputs: who it is branded for, and what it reports on.

Everything here is plain data, validated on construction, so nothing unchecked can reach a
template or a stylesheet: colours are strict `#rrggbb`, the logo is PNG or JPEG bytes, and text
fields have length limits. Text is never trusted, only escaped (see html.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ..core.prices import PriceList, default_price_list
from ..core.scoring import Result
from ..core.viewpoint import CHECK, PROVIDER, AssessmentView

PRODUCT_NAME = "IT Health Assessment"
DEFAULT_PRIMARY = "#0d5c63"
DEFAULT_ACCENT = "#b5541b"
FALLBACK_BUSINESS_NAME = "Your business"

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_FIRM_NAME = 120
MAX_CONTACT = 200
MAX_DISCLAIMER = 400
MAX_BUSINESS_NAME = 200
MAX_NOTE = 5000

COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

DEFAULT_DISCLAIMER = (
    "This report reflects the answers given on the date shown. It is a guide to priorities, "
    "not a security audit or a guarantee."
)


class BrandingError(ValueError):
    """A branding value that cannot be used; `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def check_colour(value: object, field_name: str = "colour") -> str:
    """A strict `#rrggbb` colour, returned in lower case; anything else is refused."""
    if not isinstance(value, str) or not COLOUR_RE.fullmatch(value):
        raise BrandingError(field_name, "must be a colour written as # and six hex digits, "
                                        "like #0d5c63")
    return value.lower()


def logo_mime(data: bytes) -> str:
    """'image/png' or 'image/jpeg' by content; anything else is refused."""
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    raise BrandingError("logo", "must be a PNG or JPEG image")


def printable(text: str) -> str:
    """Text without control and unassigned characters (line breaks and tabs stay): they have no
    glyph in any font, and a PDF that tries to show one becomes unreadable to text extractors."""
    return "".join(c for c in text if c in "\n\t" or not unicodedata.category(c).startswith("C"))


def _text(value: object, field_name: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise BrandingError(field_name, "must be text")
    value = " ".join(printable(value).split())  # one line: no control characters, tidy spaces
    if required and not value:
        raise BrandingError(field_name, "must not be empty")
    if len(value) > limit:
        raise BrandingError(field_name, f"must be at most {limit} characters")
    return value


@dataclass(frozen=True)
class Branding:
    """Whose report this is: the firm's name, logo, two colours, contact line and disclaimer.

    The logo is PNG or JPEG bytes that the caller has already validated and re-encoded (the
    upload form, or `load_logo` for the command line); it is checked again by content and size
    here and embedded as a data: URL, never fetched.
    """

    firm_name: str = PRODUCT_NAME
    logo_png_or_jpeg: bytes | None = None
    primary: str = DEFAULT_PRIMARY
    accent: str = DEFAULT_ACCENT
    contact: str = ""
    disclaimer: str = DEFAULT_DISCLAIMER

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "firm_name", _text(self.firm_name, "firm_name", MAX_FIRM_NAME, required=True))
        set_(self, "primary", check_colour(self.primary, "primary"))
        set_(self, "accent", check_colour(self.accent, "accent"))
        set_(self, "contact", _text(self.contact, "contact", MAX_CONTACT))
        set_(self, "disclaimer", _text(self.disclaimer, "disclaimer", MAX_DISCLAIMER))
        logo = self.logo_png_or_jpeg
        if logo is not None:
            if not isinstance(logo, (bytes, bytearray)):
                raise BrandingError("logo", "must be the image's bytes")
            if len(logo) > MAX_LOGO_BYTES:
                raise BrandingError("logo", "must be at most 2 MB")
            logo_mime(bytes(logo))
            set_(self, "logo_png_or_jpeg", bytes(logo))

    @property
    def logo_mime(self) -> str | None:
        return None if self.logo_png_or_jpeg is None else logo_mime(self.logo_png_or_jpeg)


DEFAULT_BRANDING = Branding()


@dataclass(frozen=True)
class ReportInput:
    """Everything a report is made from; two equal inputs give the same report.

    - `notes`: question id -> the note taken on that question (shown in the appendix).
    - `verified`: question id -> True when the consultant verified the answer, False when it is
      client-reported; None for an owner's self-assessment.
    - `owner_answers`: question id -> the owner's answer label, only where it differs from the
      consultant's final answer; empty for self-assessments.
    - `full`: the full report (the leadership report plus the risk register, every provider
      question and every answer with its notes and who gave it) instead of the leadership one.
    - `private_notes`: the question ids whose note is private to the firm, marked so in the
      firm's own report (a client's report never has them in `notes` at all).
    - `prices`: what the plan's cost bands mean in money (assessment.core.prices): the firm's own
      figures where it set them, else the shipped price list.
    """

    result: Result
    business_name: str = ""
    assessed_on: date = field(default_factory=date.today)
    branding: Branding = DEFAULT_BRANDING
    notes: Mapping[str, str] = field(default_factory=dict)
    verified: Mapping[str, bool] | None = None
    owner_answers: Mapping[str, str] = field(default_factory=dict)
    full: bool = False
    private_notes: frozenset[str] = frozenset()
    prices: PriceList = field(default_factory=default_price_list)
    # The questions whose answer that counts is the business's IT provider's (a hand-off).
    by_provider: frozenset[str] = frozenset()
    # The questions whose answer that counts is what the check from outside found.
    by_check: frozenset[str] = frozenset()

    @classmethod
    def of_view(cls, seen: AssessmentView, *, assessed_on: date,
                branding: Branding = DEFAULT_BRANDING, full: bool = False,
                prices: PriceList | None = None) -> ReportInput:
        """The report of what an assessment says to one viewer (viewpoint.py): the web's report
        and one rendered from an export of the same assessment are made from the same view."""
        return cls(result=seen.result, business_name=seen.business_name,
                   assessed_on=assessed_on, branding=branding, notes=seen.notes,
                   verified=seen.verified, owner_answers=seen.owner_answers, full=full,
                   private_notes=seen.private_notes,
                   by_provider=frozenset(q for q, s in seen.source_of.items() if s == PROVIDER),
                   by_check=frozenset(q for q, s in seen.source_of.items() if s == CHECK),
                   prices=prices if prices is not None else default_price_list())

    def __post_init__(self):
        if not isinstance(self.result, Result):
            raise TypeError("result must be a scoring.Result")
        if not isinstance(self.prices, PriceList):
            raise TypeError("prices must be a prices.PriceList")
        if not isinstance(self.assessed_on, date):
            raise TypeError("assessed_on must be a date")
        if not isinstance(self.branding, Branding):
            raise TypeError("branding must be a Branding")
        name = self.business_name if isinstance(self.business_name, str) else ""
        name = " ".join(printable(name).split())[:MAX_BUSINESS_NAME]
        object.__setattr__(self, "business_name", name or FALLBACK_BUSINESS_NAME)
        notes = {str(k): printable(str(v))[:MAX_NOTE] for k, v in dict(self.notes or {}).items()
                 if printable(str(v)).strip()}
        object.__setattr__(self, "notes", notes)
        if self.verified is not None:
            object.__setattr__(self, "verified",
                               {str(k): bool(v) for k, v in dict(self.verified).items()})
        object.__setattr__(self, "private_notes",
                           frozenset(str(k) for k in self.private_notes or ()))
        object.__setattr__(self, "owner_answers",
                           {str(k): printable(str(v))
                            for k, v in dict(self.owner_answers or {}).items()})

    @property
    def consultant_assessed(self) -> bool:
        return self.verified is not None
