"""Checking what a firm uploads for its branding: the logo image and the two colours.

The logo is judged by its content, never its name: PNG or JPEG only, at most 2 MB, a pixel count
checked from the header before anything is decoded, fully decoded with truncation treated as an
error (WeasyPrint switches Pillow's LOAD_TRUNCATED_IMAGES on, so it is switched off here while
decoding), then re-encoded as a fresh PNG so nothing of the original file is kept.
"""

from __future__ import annotations

import io
import re
import threading

from PIL import Image, ImageFile, UnidentifiedImageError

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 16_000_000  # 4000 x 4000
MAX_SIDE = 1200  # stored logos are scaled down to this
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_decoding = threading.Lock()


class LogoError(ValueError):
    """The upload is not a logo we accept; the message says what to do instead."""


def clean_logo(data: bytes) -> bytes:
    """A re-encoded PNG of an uploaded PNG or JPEG logo, or LogoError."""
    if len(data) > MAX_BYTES:
        raise LogoError(f"The logo is {len(data) / 1024 / 1024:.1f} MB; the limit is 2 MB. "
                        "Save a smaller version and upload that.")
    if data.startswith(PNG_MAGIC):
        expected = "PNG"
    elif data.startswith(JPEG_MAGIC):
        expected = "JPEG"
    else:
        raise LogoError(_what_it_is(data))
    try:
        with Image.open(io.BytesIO(data)) as probe:  # reads the header only
            if probe.format != expected:
                raise LogoError("The file's content does not match a PNG or JPEG image.")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise LogoError(f"The image is {width} × {height} pixels; the limit is "
                                f"{MAX_PIXELS // 1_000_000} million pixels. Upload a smaller "
                                "version.")
        with _decoding:
            previous = ImageFile.LOAD_TRUNCATED_IMAGES
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            try:
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
                    picture = image.convert("RGBA")
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = previous
    except LogoError:
        raise
    except Image.DecompressionBombError:
        raise LogoError(f"The image has too many pixels; the limit is "
                        f"{MAX_PIXELS // 1_000_000} million. Upload a smaller version.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise LogoError("The image could not be read completely (it may be damaged or cut "
                        "short). Export it again as PNG or JPEG and upload that.") from None
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


# What a file that is not PNG or JPEG is, by its first bytes: the real reason it is refused.
OTHER_FORMATS = ((b"GIF8", "a GIF image"), (b"RIFF", "a WebP image"), (b"BM", "a BMP image"),
                 (b"%PDF", "a PDF document"), (b"II*\x00", "a TIFF image"),
                 (b"MM\x00*", "a TIFF image"), (b"\x00\x00\x01\x00", "an icon (ICO) file"),
                 (b"PK\x03\x04", "a ZIP archive (such as a Word or PowerPoint file)"))


def _what_it_is(data: bytes) -> str:
    """Why a file is not a PNG or JPEG, in words: what it is instead, when we can tell."""
    upload = " Upload the logo as a PNG or JPEG image."
    if not data:
        return "The file is empty." + upload
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in head:
        return ("This is an SVG image. SVG logos are not accepted, because they can carry "
                "scripts and links. Export your logo as PNG or JPEG and upload that.")
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]:
        return "This file is a web page (HTML), not an image." + upload
    if head.startswith(b"<"):
        return "This file is text (XML or similar), not an image." + upload
    for magic, name in OTHER_FORMATS:
        if data.startswith(magic):
            return f"This file is {name}, not a PNG or JPEG." + upload
    return "This file is not a PNG or JPEG image, whatever its name says." + upload


def valid_colour(value: str) -> bool:
    return bool(COLOUR.fullmatch(value or ""))  # match() with $ let "#0d5c63\n" through


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio between two #rrggbb colours (1 to 21)."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def contrast_warnings(primary: str, accent: str) -> list[str]:
    """Where white text on the brand colours would be hard to read (WCAG AA: 4.5 to 1)."""
    warnings = []
    for name, colour in (("primary", primary), ("accent", accent)):
        ratio = contrast(colour, "#ffffff")
        if ratio < 4.5:
            warnings.append(f"White text on your {name} colour {colour} has a contrast of "
                            f"{ratio:.1f} to 1, below the 4.5 to 1 that WCAG AA asks for. "
                            "A darker shade will be easier to read in the report.")
    return warnings
