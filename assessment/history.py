"""How a client's assessments moved: the trend of scores and the comparison of two results.
Pure: results in, differences out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from . import severity
from .scoring import Result


@dataclass(frozen=True)
class SectionChange:
    section_id: str
    title: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True)
class Comparison:
    score_before: float | None
    score_after: float | None
    sections: tuple[SectionChange, ...]
    resolved: tuple[str, ...]  # critical findings and recommendations no longer triggered
    new: tuple[str, ...]  # triggered now, not before
    still_open: tuple[str, ...]
    # The same, by section in bank order: (section title, titles), sections with none left out.
    still_open_by_section: tuple[tuple[str, tuple[str, ...]], ...] = ()


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def trend(rows: list[tuple[dict, Result]]) -> list[tuple[str, float]]:
    """(label, score) of each assessment that has a score, in date order. The label is month and
    year, which read the same everywhere where "03-04" does not; two assessments started on the
    same day are told apart by the day and time ("4 Mar 14:05"). The table beside the chart has
    the full dates."""
    scored = [(assessment["created_at"], result.score) for assessment, result in rows
              if result.score is not None]
    days = Counter(stamp[:10] for stamp, _ in scored)
    return [(_day_and_time(stamp) if days[stamp[:10]] > 1 else _month(stamp), value)
            for stamp, value in scored]


def _month(iso: str) -> str:
    return f"{MONTHS[int(iso[5:7]) - 1]} {iso[:4]}"


def _day_and_time(iso: str) -> str:
    return f"{int(iso[8:10])} {MONTHS[int(iso[5:7]) - 1]} {iso[11:16]}"


def _issues(result: Result) -> dict[str, str]:
    """Everything the result asks to fix, by a stable key, with a title to show."""
    issues = {f"critical:{f.outcome.question.id}": f"{severity.label(f.severity)}: {f.title}"
              for f in result.critical_findings}
    issues.update({f"action:{a.id}": a.recommendation.title for a in result.actions})
    return issues


def _sections_of(result: Result) -> dict[str, str]:
    """The section id of each issue, by the same keys as _issues."""
    where = {f"critical:{f.outcome.question.id}": f.outcome.section_id
             for f in result.critical_findings}
    where.update({f"action:{a.id}": a.outcome.section_id for a in result.actions})
    return where


def compare(before: Result, after: Result) -> Comparison:
    titles = {s.section.id: s.section.title for s in after.sections}
    old = {s.section.id: s.score for s in before.sections if s.weight > 0}
    sections = tuple(SectionChange(s.section.id, titles[s.section.id], old.get(s.section.id),
                                   s.score) for s in after.sections if s.weight > 0)
    was, now = _issues(before), _issues(after)
    where = _sections_of(after)
    open_keys = [k for k in now if k in was]
    by_section = tuple(
        (s.section.title, tuple(now[k] for k in open_keys if where[k] == s.section.id))
        for s in after.sections if any(where[k] == s.section.id for k in open_keys))
    return Comparison(
        score_before=before.score,
        score_after=after.score,
        sections=sections,
        resolved=tuple(was[k] for k in was if k not in now),
        new=tuple(now[k] for k in now if k not in was),
        still_open=tuple(now[k] for k in open_keys),
        still_open_by_section=by_section,
    )
