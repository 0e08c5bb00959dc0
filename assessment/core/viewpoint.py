"""What an assessment says to one viewer: the one place that decides it. Pure: records in,
a view out; no Flask, no storage.

An assessment's answers can come from four sources: the business itself (its owner, or the
client a firm sent a link to), the business's IT provider or IT person (through a link the owner
gave them for a section), a check made from outside (the email domain's public settings), and
the firm's consultant, in an interview. Every page, report, export and command asks this module
what an assessment says, and gets the same answers, score, findings and plan whoever asks: the
answer that counts is the one from the source that knows best (SOURCES, last wins). Only the
notes differ by viewer: a consultant's note belongs to the firm unless it is marked to be shown
to the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from .bank import Answer, Bank
from .scoring import Result, score

OWNER = "owner"  # the source of answers the business gave itself
PROVIDER = "provider"  # the business's IT provider or IT person, answering a section handed over
CHECK = "check"  # what a check from outside found (the email domain's public settings)
CONSULTANT = "consultant"  # the source of answers the firm's consultant gave
# Every source, in rising precedence: where several answered one question, the last counts. The
# one who runs the IT knows better than the owner; a fact found outside beats both; the
# consultant, who sees the check beside the answers and may verify on site, has the last word.
SOURCES = (OWNER, PROVIDER, CHECK, CONSULTANT)
PRECEDENCE = {source: rank for rank, source in enumerate(SOURCES)}
BUSINESS = "business"  # the viewer who is the business: its owner, or a firm's client
FIRM = "firm"  # the viewer who is a member of the firm
VIEWERS = (BUSINESS, FIRM)
BUSINESS_NAME = "profile.business_name"


@dataclass(frozen=True)
class Record:
    """One source's answer to one question, with its note, as storage or an export holds it."""

    question_id: str
    source: str
    answer: Answer | None
    note: str = ""
    verified: bool = False  # the consultant checked it (their own answers only)
    note_shared: bool = False  # a consultant's note marked to be shown to the client


@dataclass(frozen=True)
class AssessmentView:
    """Everything an assessment says to one viewer."""

    viewer: str
    answers: Mapping[str, Answer]  # the answers that count, by question id
    source_of: Mapping[str, str]  # whose answer counts, by question id
    result: Result
    notes: Mapping[str, str]  # the notes this viewer may read, by question id
    private_notes: frozenset[str]  # of those, the ones the client has not been shown
    # Per answer that counts: verified by the consultant or not; None when the firm did not
    # take part (an owner's own assessment has nothing to verify).
    verified: Mapping[str, bool] | None
    owner_answers: Mapping[str, str]  # the business's answer in words, where the consultant's
    # answer to the same question differs from it
    business_name: str
    finished: bool
    records: tuple[Record, ...]  # the records this viewer may have in an export

    @property
    def consultant_led(self) -> bool:
        return self.verified is not None


def for_viewer(records: Iterable[Record], viewer: str) -> tuple[Record, ...]:
    """The records a viewer may hold: the business never gets the firm's private notes."""
    if viewer not in VIEWERS:
        raise ValueError(f"viewer must be one of {VIEWERS}")
    if viewer == FIRM:
        return tuple(records)
    return tuple(replace(r, note="") if r.source == CONSULTANT and not r.note_shared else r
                 for r in records)


def counting(records: Iterable[Record]) -> dict[str, Record]:
    """The record whose answer counts for each question: the answer of the source that knows
    best (SOURCES, last wins)."""
    out: dict[str, Record] = {}
    for r in records:
        if r.answer is None:
            continue
        held = out.get(r.question_id)
        if held is None or PRECEDENCE[r.source] > PRECEDENCE[held.source]:
            out[r.question_id] = r
    return out


def view(bank: Bank, records: Iterable[Record], *, viewer: str, firm_involved: bool,
         finished: bool) -> AssessmentView:
    """What the assessment with these records says to `viewer`. `firm_involved`: the assessment
    belongs to a firm (so a consultant's answers are marked verified or client-reported)."""
    allowed = for_viewer(records, viewer)
    by_source = {source: {r.question_id: r for r in allowed if r.source == source}
                 for source in SOURCES}
    counted = counting(allowed)
    answers = {qid: r.answer for qid, r in counted.items() if r.answer is not None}
    consultant = by_source[CONSULTANT]
    consultant_led = firm_involved and any(r.answer for r in consultant.values())
    differs = {}  # the business's own answer, where another source's answer counts instead
    for qid, theirs in by_source[OWNER].items():
        counts = counted.get(qid)
        q = bank.question_by_id.get(qid)
        if q and theirs.answer and counts and counts.source != OWNER \
                and counts.answer != theirs.answer:
            differs[qid] = q.describe(theirs.answer)
    notes = {qid: r.note for qid, r in by_source[OWNER].items() if r.note}
    notes.update({qid: r.note for qid, r in consultant.items() if r.note})  # theirs wins
    name = counted.get(BUSINESS_NAME)
    return AssessmentView(
        viewer=viewer,
        answers=answers,
        source_of={qid: r.source for qid, r in counted.items()},
        result=score(bank, answers),
        notes=notes,
        private_notes=frozenset(qid for qid, r in consultant.items()
                                if r.note and not r.note_shared),
        verified={qid: r.source == CONSULTANT and r.verified for qid, r in counted.items()}
        if consultant_led else None,
        owner_answers=differs,
        business_name=str(name.answer.value) if name and name.answer
        and name.answer.state == "answered" else "",
        finished=finished,
        records=allowed,
    )
