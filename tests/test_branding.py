"""Logo uploads are hostile input: only real PNG/JPEG within limits get through, re-encoded."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from assessment.support.branding import (
    MAX_BYTES,
    LogoError,
    clean_logo,
    contrast,
    contrast_warnings,
    valid_colour,
)


def image_bytes(fmt: str, size=(200, 80), colour=(13, 92, 99)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_good_png_and_jpeg_are_accepted_and_re_encoded_as_png(fmt):
    cleaned = clean_logo(image_bytes(fmt))
    assert cleaned.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(cleaned)) as img:
        assert img.size == (200, 80)


def test_large_logo_is_scaled_down():
    with Image.open(io.BytesIO(clean_logo(image_bytes("PNG", (3000, 1000))))) as img:
        assert max(img.size) == 1200


def test_oversize_file_is_refused():
    with pytest.raises(LogoError, match="limit is 2 MB"):
        clean_logo(b"\x89PNG\r\n\x1a\n" + b"0" * MAX_BYTES)


def claims_size(data: bytes, width: int, height: int) -> bytes:
    """A PNG whose header claims another size (the pixel data stays tiny)."""
    ihdr = bytearray(data[12:29])  # chunk type + 13 bytes of IHDR data
    ihdr[4:12] = struct.pack(">II", width, height)
    return data[:12] + bytes(ihdr) + struct.pack(">I", zlib.crc32(bytes(ihdr))) + data[33:]


@pytest.mark.parametrize("side", [5000, 30000])
def test_huge_pixel_count_is_refused_before_decoding(side):
    """A tiny file that claims millions of pixels must be refused from its header alone."""
    data = claims_size(image_bytes("PNG", (1, 1)), side, side)
    assert len(data) < 200
    with pytest.raises(LogoError, match="million"):
        clean_logo(data)


def test_truncated_png_is_refused_even_after_weasyprint_is_imported():
    import weasyprint  # noqa: F401  (it switches Pillow's LOAD_TRUNCATED_IMAGES on)

    data = image_bytes("PNG", (400, 400), (10, 200, 30))
    with pytest.raises(LogoError, match="could not be read completely"):
        clean_logo(data[: len(data) // 2])


def test_file_named_png_that_is_not_an_image_is_refused():
    with pytest.raises(LogoError, match="not a PNG or JPEG"):
        clean_logo(b"GIF89a" + b"\x00" * 100)


def test_svg_is_refused_with_a_clear_message():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>'
    with pytest.raises(LogoError, match="SVG logos are not accepted"):
        clean_logo(svg)


def test_colours_are_validated_and_contrast_checked():
    assert valid_colour("#0d5c63") and not valid_colour("red") and not valid_colour("#fff;x")
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast_warnings("#0d5c63", "#b5541b") == []
    assert "below the 4.5 to 1" in contrast_warnings("#ffdd00", "#0d5c63")[0]
