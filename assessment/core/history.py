"""How a client's assessments moved: the trend of scores and the comparison of two results.
Pure: results in, differences out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

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
class FindingItem:
    """A critical finding as a comparison lists it."""
    title: str
    severity: str | None  # existential or serious; None in a 1.x bank
    section: str  # the title of its section


@dataclass(frozen=True)
class StepItem:
    """A step of the plan as a comparison lists it."""
    title: str
    workstream: str  # the title of its workstream


@dataclass(frozen=True)
class Comparison:
    """What changed between two results. Findings (what leaves the business exposed) and steps
    (the plan's work) are kept apart. A step is done when none of the recommendations it
    covered is asked for any more, open while any still is, and new when none was before."""
    score_before: float | None
    score_after: float | None
    sections: tuple[SectionChange, ...]
    findings_resolved: tuple[FindingItem, ...] = ()
    findings_new: tuple[FindingItem, ...] = ()
    findings_open: tuple[FindingItem, ...] = ()
    steps_done: tuple[StepItem, ...] = ()
    steps_new: tuple[StepItem, ...] = ()
    steps_open: tuple[StepItem, ...] = ()

    @property
    def findings_open_by_section(self) -> tuple[tuple[str, tuple[FindingItem, ...]], ...]:
        """The open findings by section, in bank order: (section title, findings)."""
        return _grouped(self.findings_open, lambda f: f.section)

    @property
    def steps_open_by_workstream(self) -> tuple[tuple[str, tuple[StepItem, ...]], ...]:
        """The open steps by workstream, in the order of the later plan: (title, steps)."""
        return _grouped(self.steps_open, lambda s: s.workstream)


def _grouped(items, key) -> tuple:
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return tuple((title, tuple(members)) for title, members in groups.items())


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def trend(rows: list[tuple[dict, Result]], zone: tzinfo = UTC) -> list[tuple[str, float]]:
    """(label, score) of each assessment that has a score, in date order. The label is month and
    year, which read the same everywhere where "03-04" does not; two assessments started on the
    same day are told apart by the day and time ("4 Mar 14:05"). Days and times are those of
    `zone`. The table beside the chart has the full dates."""
    scored = [(_local(assessment["created_at"], zone), result.score)
              for assessment, result in rows if result.score is not None]
    days = Counter(moment.date() for moment, _ in scored)
    return [(_day_and_time(moment) if days[moment.date()] > 1 else _month(moment), value)
            for moment, value in scored]


def _local(iso: str, zone: tzinfo) -> datetime:
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


def _month(moment: datetime) -> str:
    return f"{MONTHS[moment.month - 1]} {moment.year}"


def _day_and_time(moment: datetime) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment:%H:%M}"


def _findings(result: Result, titles: dict[str, str]) -> dict[str, FindingItem]:
    """The critical findings of a result by question id, worst first (as the result has them)."""
    return {f.outcome.question.id: FindingItem(f.title, f.severity,
                                               titles.get(f.outcome.section_id, ""))
            for f in result.critical_findings}


def _in_bank_order(items: list[FindingItem], titles: dict[str, str]) -> tuple[FindingItem, ...]:
    """Section by section, in bank order; worst first within a section."""
    order = {title: n for n, title in enumerate(titles.values())}
    return tuple(sorted(items, key=lambda f: order.get(f.section, len(order))))


def _item(step) -> StepItem:
    return StepItem(step.title, step.workstream.title)


def compare(before: Result, after: Result) -> Comparison:
    titles = {s.section.id: s.section.title for s in after.sections}  # in bank order
    titles.update({s.section.id: s.section.title for s in before.sections
                   if s.section.id not in titles})
    old = {s.section.id: s.score for s in before.sections if s.weight > 0}
    sections = tuple(SectionChange(s.section.id, titles[s.section.id], old.get(s.section.id),
                                   s.score) for s in after.sections if s.weight > 0)
    was, now = _findings(before, titles), _findings(after, titles)
    asked_before = {part for step in before.steps for part in step.parts}
    asked_now = {part for step in after.steps for part in step.parts}
    return Comparison(
        score_before=before.score,
        score_after=after.score,
        sections=sections,
        findings_resolved=tuple(f for k, f in was.items() if k not in now),
        findings_new=tuple(f for k, f in now.items() if k not in was),
        findings_open=_in_bank_order([f for k, f in now.items() if k in was], titles),
        steps_done=tuple(_item(s) for s in before.steps if asked_now.isdisjoint(s.parts)),
        steps_new=tuple(_item(s) for s in after.steps if asked_before.isdisjoint(s.parts)),
        steps_open=tuple(_item(s) for s in _by_workstream(after)
                         if not asked_before.isdisjoint(s.parts)),
    )


def _by_workstream(result: Result):
    """The steps of a result, workstream by workstream (in the plan's order)."""
    if result.workstreams:
        return [step for plan in result.workstreams for step in plan.steps]
    return list(result.steps)
