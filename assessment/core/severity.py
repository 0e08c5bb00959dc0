"""The one severity vocabulary: what the risk bands and the findings are called, how they rank,
and the colour each is shown in, on the web pages, in both reports and in the JSON result.
Pure: no Flask, no bank files.

The bank names the bands (Critical, High risk, Moderate risk, Low risk). A finding is named after
the band it forces on its own, so one word means one thing everywhere:

- severity `existential` is a **Critical finding**: on its own it puts the business in the
  Critical band, whatever the score;
- severity `serious` is a **High-risk finding**: it holds the business at High risk at best, and
  three together put it in the Critical band.

A 1.x bank gave no severity; every finding there held the band at High risk (its
`critical_cap`), so it reads as a high-risk finding too.

The colours are the product's and never change with a firm's branding: red for Critical, then
orange, amber and green. Brand colours decorate (headings, rules, the cover) but never stand for
a level. docs/report.md, "Severity: one set of words and colours", gives the reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Level(NamedTuple):
    """One step of the scale: a band, and the findings that force it."""

    id: str  # the band id it goes with
    rank: int  # 0 is the worst
    name: str  # the word on a badge
    colour: str  # text, badge and bar colour: 4.5 to 1 or more on white, on the tint and with
    # white text on it
    tint: str  # a light background behind dark text (web tags)


CRITICAL = Level("critical", 0, "Critical", "#a1261c", "#fbe6e3")
HIGH = Level("high", 1, "High", "#b34700", "#fdebdc")
MODERATE = Level("moderate", 2, "Moderate", "#7a6000", "#fbf1d9")
LOW = Level("low", 3, "Low", "#2d6a2f", "#e6f2e3")
LEVELS = (CRITICAL, HIGH, MODERATE, LOW)
LEVEL_BY_ID = {level.id: level for level in LEVELS}
NEUTRAL = "#5b666d"  # a band the product does not know: no colour that claims a level


class Kind(NamedTuple):
    """How one severity of finding reads."""

    severity: str | None  # as in the bank and the JSON: existential, serious (None: 1.x bank)
    level: Level  # the band it forces on its own
    label: str  # the word shown beside the finding
    plural: str  # "high-risk findings", for counts
    legend: str  # what it does to the band, for a line under a list of findings


KINDS = {
    "existential": Kind("existential", CRITICAL, "Critical finding", "critical findings",
                        "on its own it puts the business in the Critical band, whatever the "
                        "score"),
    "serious": Kind("serious", HIGH, "High-risk finding", "high-risk findings",
                    "it holds the business at High risk at best; three together put it in the "
                    "Critical band"),
    None: Kind(None, HIGH, "High-risk finding", "high-risk findings",
               "it holds the business at High risk at best"),
}


def kind(severity: str | None) -> Kind:
    return KINDS[severity]


def label(severity: str | None) -> str:
    """The word shown beside a finding of this severity."""
    return KINDS[severity].label


def band_level(band_id: str | None) -> Level | None:
    """The level of a band, by its id; None for a band the product does not know."""
    return LEVEL_BY_ID.get(band_id or "")


def band_colour(band_id: str | None) -> str:
    level = band_level(band_id)
    return level.colour if level else NEUTRAL


def count_text(severities: Iterable[str | None]) -> str:
    """How many findings of each kind, worst first: "1 critical finding and 3 high-risk
    findings"; "no findings" when there are none."""
    kinds = [KINDS[severity] for severity in severities]
    parts = []
    for level in LEVELS:
        of_level = [k for k in kinds if k.level == level]
        if of_level:
            k = of_level[0]
            n = len(of_level)
            parts.append(f"{n} {k.label.lower() if n == 1 else k.plural}")
    return " and ".join(parts) if parts else "no findings"


def fact_text(severities: Iterable[str | None]) -> str:
    """The words under a count of findings: "critical findings", "high-risk finding", or when
    both kinds stand, "findings: 1 critical, 3 high-risk"."""
    kinds = [KINDS[severity] for severity in severities]
    if not kinds:
        return "findings"
    by_level = [[k for k in kinds if k.level == level] for level in LEVELS]
    by_level = [group for group in by_level if group]
    if len(by_level) == 1:
        k = by_level[0][0]
        return k.label.lower() if len(kinds) == 1 else k.plural
    return "findings: " + ", ".join(
        f"{len(group)} {group[0].label.lower().removesuffix(' finding')}" for group in by_level)


def legend(severities: Iterable[str | None]) -> list[dict]:
    """One line per kind of finding present, worst first: the label, its level and what it
    does to the band."""
    present = {KINDS[severity] for severity in severities}
    return [{"label": k.label, "level": k.level.id, "text": k.legend}
            for k in sorted(present, key=lambda k: (k.level.rank, k.severity is None))]


def with_labels(data: dict) -> dict:
    """A result as JSON (`result_to_dict`) with the shown word beside every severity:
    `severity_label` on each critical finding, and on each recommendation that deals with
    one (null on the others)."""
    for finding in data.get("critical_findings", ()):
        finding["severity_label"] = label(finding.get("severity"))
    for action in data.get("recommendations", ()):
        fixes = action.get("fixes_critical") or action.get("severity") is not None
        action["severity_label"] = label(action.get("severity")) if fixes else None
    return data
