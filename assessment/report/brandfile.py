"""BRAND.yaml -> Branding, for headless use. Every problem names the file and the field.

    firm_name: Northgate IT Advisory
    logo: northgate.png          # PNG or JPEG, relative to this file
    primary: "#1f3a68"
    accent: "#c0392b"
    contact: Jane Doe · jane@northgate.example · 020 7946 0000
    disclaimer: Prepared for the client's board. Not a security audit.
"""

from __future__ import annotations

import io
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .models import (
    DEFAULT_ACCENT,
    DEFAULT_DISCLAIMER,
    DEFAULT_PRIMARY,
    MAX_LOGO_BYTES,
    PRODUCT_NAME,
    Branding,
    BrandingError,
)

MAX_LOGO_PIXELS = 25_000_000


class BrandFileError(ValueError):
    """A BRAND.yaml that cannot be used; the message starts with the file and the field."""


class _BrandFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    firm_name: str = PRODUCT_NAME
    logo: str | None = None
    primary: str = DEFAULT_PRIMARY
    accent: str = DEFAULT_ACCENT
    contact: str = ""
    disclaimer: str = DEFAULT_DISCLAIMER


def load_logo(path: Path) -> bytes:
    """A logo file as clean PNG bytes: PNG or JPEG by content, size and pixels checked, decoded
    completely (a truncated file is refused) and re-encoded, so no metadata or trailing data
    survives."""
    from PIL import Image, ImageFile

    data = path.read_bytes()
    if len(data) > MAX_LOGO_BYTES:
        raise BrandingError("logo", "must be at most 2 MB")
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise BrandingError("logo", "must be a PNG or JPEG image")
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # WeasyPrint turns this on; we never want it here
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise BrandingError("logo", "must be a PNG or JPEG image")
            width, height = image.size
            if width * height > MAX_LOGO_PIXELS or not width or not height:
                raise BrandingError("logo", "has too many pixels")
            image.load()
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except BrandingError:
        raise
    except Exception as error:  # noqa: BLE001 (Pillow raises many kinds for a damaged file)
        raise BrandingError("logo", f"is not a readable PNG or JPEG image ({error})") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
    return out.getvalue()


def load_brand_file(path: str | Path) -> Branding:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BrandFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise BrandFileError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as error:
        raise BrandFileError(f"{path}: not valid YAML ({error})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BrandFileError(f"{path}: expected a mapping of firm_name, logo, primary, accent, "
                             f"contact, disclaimer")
    try:
        spec = _BrandFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = ("unknown field; allowed: firm_name, logo, primary, accent, contact, "
                   "disclaimer") if first["type"] == "extra_forbidden" else first["msg"]
        raise BrandFileError(f"{path}: {where}: {message}") from None
    logo = None
    try:
        if spec.logo:
            logo_path = (path.parent / spec.logo)
            if not logo_path.is_file():
                raise BrandingError("logo", f"no such file: {spec.logo}")
            logo = load_logo(logo_path)
        return Branding(firm_name=spec.firm_name, logo_png_or_jpeg=logo, primary=spec.primary,
                        accent=spec.accent, contact=spec.contact, disclaimer=spec.disclaimer)
    except BrandingError as error:
        raise BrandFileError(f"{path}: {error.field}: {error.message}") from None
