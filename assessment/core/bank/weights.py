"""Each question's share of the overall score: what `docs/methodology.md` tabulates.

A question's share depends on which other questions count, so the table gives two figures:
- nominal: its share when every question of the bank applies and is answered;
- largest: its share when as few others count as the bank allows, that is when only the
  questions that are always asked and cannot be N/A count beside it (in a 1.x bank, whose
  sections have fixed weights, only those of its own section).
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from .models import Bank, Question


class Share(NamedTuple):
    question: Question
    section_id: str
    nominal: Fraction  # 0..1 of the overall score
    largest: Fraction


def _fixed(q: Question) -> bool:
    """Always asked and never N/A: counts in every complete assessment."""
    return q.show_if is None and not q.na


def shares(bank: Bank) -> list[Share]:
    return _by_questions(bank) if bank.overall == "questions" else _by_sections(bank)


def _by_questions(bank: Bank) -> list[Share]:
    """With `overall: questions` every counted question's weight is a share of one total."""
    scored = [(q, section.id) for section in bank.sections if section.kind == "scored"
              for q in section.questions if q.scored]
    every = sum(Fraction(str(q.weight)) for q, _ in scored)
    always = sum(Fraction(str(q.weight)) for q, _ in scored if _fixed(q))
    return [Share(q, sid, Fraction(str(q.weight)) / every,
                  Fraction(str(q.weight)) / (always - (Fraction(str(q.weight)) if _fixed(q)
                                                       else 0) + Fraction(str(q.weight))))
            for q, sid in scored]


def _by_sections(bank: Bank) -> list[Share]:
    """In a 1.x bank each section has a fixed weight, shared by its counted questions."""
    weights = {s.id: Fraction(str(bank.section_weights[s.id])) for s in bank.sections}
    total = sum(weights.values())
    rows = []
    for section in bank.sections:
        scored = [q for q in section.questions if q.scored]
        if not scored or not weights[section.id]:
            continue
        section_share = weights[section.id] / total
        every = sum(Fraction(str(q.weight)) for q in scored)
        always = sum(Fraction(str(q.weight)) for q in scored if _fixed(q))
        for q in scored:
            weight = Fraction(str(q.weight))
            fixed = always - (weight if _fixed(q) else 0)
            rows.append(Share(q, section.id, section_share * weight / every,
                              section_share * weight / (fixed + weight)))
    return rows


def shares_table(bank: Bank) -> str:
    """The table as Markdown, largest share first (ties in bank order)."""
    lines = ["| question | section | weight | critical | share when all apply | largest share |",
             "|---|---|---|---|---|---|"]
    rows = sorted(shares(bank), key=lambda r: -r.largest)
    for row in rows:
        q = row.question
        severity = q.critical.severity or "yes" if q.critical else ""
        lines.append(f"| `{q.id}` | {row.section_id} | {q.weight:g} | {severity} | "
                     f"{float(row.nominal) * 100:.1f}% | {float(row.largest) * 100:.1f}% |")
    return "\n".join(lines)
