"""How a client's assessments moved: the trend of scores and the comparison of two results.
Pure: results in, differences out."""

from __future__ import annotations

from dataclasses import dataclass

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


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def trend(rows: list[tuple[dict, Result]]) -> list[tuple[str, float]]:
    """(month and year, score) of each assessment that has a score, in date order. Month and
    year read the same everywhere, where "03-04" does not; the table beside the chart has days."""
    return [(_month(assessment["created_at"]), result.score) for assessment, result in rows
            if result.score is not None]


def _month(iso: str) -> str:
    return f"{MONTHS[int(iso[5:7]) - 1]} {iso[:4]}"


def _issues(result: Result) -> dict[str, str]:
    """Everything the result asks to fix, by a stable key, with a title to show."""
    issues = {f"critical:{f.outcome.question.id}": f"Critical: {f.title}"
              for f in result.critical_findings}
    issues.update({f"action:{a.id}": a.recommendation.title for a in result.actions})
    return issues


def compare(before: Result, after: Result) -> Comparison:
    titles = {s.section.id: s.section.title for s in after.sections}
    old = {s.section.id: s.score for s in before.sections if s.weight > 0}
    sections = tuple(SectionChange(s.section.id, titles[s.section.id], old.get(s.section.id),
                                   s.score) for s in after.sections if s.weight > 0)
    was, now = _issues(before), _issues(after)
    return Comparison(
        score_before=before.score,
        score_after=after.score,
        sections=sections,
        resolved=tuple(was[k] for k in was if k not in now),
        new=tuple(now[k] for k in now if k not in was),
        still_open=tuple(now[k] for k in now if k in was),
    )
