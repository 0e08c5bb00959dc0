"""Every text colour in report.css against its background: WCAG AA, 4.5 to 1 at least.

The stylesheet is read as text, not rendered. A rule's text colour is its own `color`, else the
`color` of the rules for the same element with fewer classes (`.badge` for `.badge.medium`), else
that of the nearest ancestor named in its selector (`.finding` for `.finding h2`), else that of
the element it sits in on the page (INSIDE, from report.html), else the page's ink. Its
background is found the same way, down to white, the page. `opacity` below 1 blends the text
into its background first. Brand colours are checked at their defaults; a consultant's own
colours are checked when they are chosen (assessment/support/branding.py warns below 4.5 to 1).
"""

from __future__ import annotations

import re

from assessment.report.html import stylesheet_text
from assessment.support.branding import contrast

AA = 4.5
WHITE = "#ffffff"
# Rules whose element sits, in report.html, inside an element with its own background or colour,
# where the selector does not say so.
INSIDE = {
    ".cover-brand": ".cover-band", ".cover-firm": ".cover-band", ".cover-kicker": ".cover-band",
    ".cover-title": ".cover-band", ".cover-date": ".cover-band",
}
DECORATIVE = {".cover-rule"}  # elements with a background and never any text


def _rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) for every rule; at-rules prefix the selectors of their rules."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules: list[tuple[str, dict[str, str]]] = []

    def parse(text: str, prefix: str) -> None:
        i = 0
        while i < len(text):
            start = text.find("{", i)
            if start < 0:
                return
            depth, j = 1, start + 1
            while depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            # what precedes a nested rule may be its parent's own declarations
            head, body = text[i:start].rsplit(";", 1)[-1].strip(), text[start + 1:j - 1]
            if "{" in body:  # an at-rule or @page with nested rules
                own = re.sub(r"@[\w-]+\s*\{[^{}]*\}", "", body)
                if head.startswith("@page"):
                    rules.append((f"{prefix}{head}", _declarations(own)))
                parse(body, f"{prefix}{head} ")
            else:
                for selector in head.split(","):
                    rules.append((f"{prefix}{selector.strip()}", _declarations(body)))
            i = j

    parse(css, "")
    return rules


def _declarations(body: str) -> dict[str, str]:
    out = {}
    for part in body.split(";"):
        name, sep, value = part.partition(":")
        if sep and not name.strip().startswith("@"):
            out[name.strip().lower()] = value.strip()
    return out


def _hex(value: str | None, variables: dict[str, str]) -> str | None:
    if value is None:
        return None
    value = re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], value)
    match = re.search(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", value)
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.lower()


def _blend(top: str, bottom: str, alpha: float) -> str:
    channels = [round(alpha * int(top[i:i + 2], 16) + (1 - alpha) * int(bottom[i:i + 2], 16))
                for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


class Sheet:
    def __init__(self, css: str):
        self.rules = _rules(css)
        self.variables = {k: v for sel, decl in self.rules if sel == ":root"
                          for k, v in decl.items() if k.startswith("--")}
        self.by_selector: dict[str, dict[str, str]] = {}
        for selector, decl in self.rules:
            self.by_selector.setdefault(selector, {}).update(decl)
        self.ink = _hex(self.by_selector["html"]["color"], self.variables)

    def _own(self, selector: str, prop: str) -> str | None:
        """The property on this selector or a rule for the same element with fewer classes."""
        *ancestors, last = selector.split()
        context = " ".join(ancestors)
        candidates = [selector]
        classes = re.findall(r"\.[\w-]+", last)
        tag = re.match(r"[a-z][\w-]*", last)
        for n in range(len(classes) - 1, 0, -1):
            candidates.append(" ".join(filter(None, [context, (tag.group(0) if tag else "")
                                                     + "".join(classes[:n])])))
        for candidate in candidates:
            decl = self.by_selector.get(candidate, {})
            for name in ((prop,) if prop == "color" else ("background-color", "background")):
                colour = _hex(decl.get(name), self.variables)
                if colour:
                    return colour
        return None

    def _outer(self, selector: str) -> str | None:
        parts = selector.split()
        if len(parts) > 1 and not parts[0].startswith("@"):
            return " ".join(parts[:-1])
        return INSIDE.get(selector)

    def colours(self, selector: str) -> tuple[str, str]:
        """(text colour, background) of the element a selector names."""
        text = background = None
        current: str | None = selector
        while current is not None and (text is None or background is None):
            text = text or self._own(current, "color")
            background = background or self._own(current, "background")
            current = self._outer(current)
        text, background = text or self.ink, background or WHITE
        opacity = self.by_selector.get(selector, {}).get("opacity")
        if opacity:
            text = _blend(text, background, float(opacity))
        return text, background

    def pairs(self) -> dict[str, tuple[str, str]]:
        """Every rule that sets a text colour, a background or an opacity."""
        out = {}
        for selector, decl in self.rules:
            if selector in DECORATIVE or selector == ":root" \
                    or selector.startswith("@media screen html"):
                continue  # the browser's grey canvas carries no text: the page (body) is white
            if {"color", "background", "background-color", "opacity"} & decl.keys():
                out[selector] = self.colours(selector)
        return out


def test_the_parser_finds_the_pairs_that_matter():
    pairs = Sheet(stylesheet_text()).pairs()
    assert len(pairs) >= 40
    variables = Sheet(stylesheet_text()).variables
    assert pairs[".badge.moderate"] == (WHITE, _hex(variables["--level-moderate"], {}))
    assert pairs[".text-high"] == (_hex(variables["--level-high"], {}), WHITE)
    assert pairs["@page @top-left"] == (_hex(variables["--muted"], {}), WHITE)
    assert pairs[".badge.reported"] == (_hex(variables["--muted"], {}), WHITE)
    text, background = pairs[".cover-kicker"]
    assert background == _hex(variables["--primary"], {}) and text != WHITE  # blended


def test_every_text_colour_reaches_aa_against_its_background():
    failures = [f"{selector}: {text} on {background} is {contrast(text, background):.2f} to 1"
                for selector, (text, background) in Sheet(stylesheet_text()).pairs().items()
                if contrast(text, background) < AA]
    assert not failures, "\n".join(failures)


def test_the_moderate_badge_is_not_white_on_light_amber():
    sheet = Sheet(stylesheet_text())
    text, background = sheet.pairs()[".badge.moderate"]
    assert contrast(text, background) >= AA


def test_severity_colours_read_on_every_background_they_meet():
    """The band and finding colours (assessment/core/severity.py) are the stylesheet's, and read at
    AA as text on the page, on the brief's grey verdict box and on their own web tint, and with
    white text on a badge. They never depend on the brand."""
    from assessment.core import severity

    variables = Sheet(stylesheet_text()).variables
    for level in severity.LEVELS:
        assert _hex(variables[f"--level-{level.id}"], {}) == level.colour
        for background in (WHITE, _hex(variables["--wash"], {}), level.tint):
            assert contrast(level.colour, background) >= AA, (level.id, background)
        assert contrast(WHITE, level.colour) >= AA, level.id
