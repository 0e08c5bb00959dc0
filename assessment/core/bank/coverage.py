"""How much of CIS Controls v8 (Implementation Group 1) and NIST CSF 2.0 the bank maps."""

from __future__ import annotations

from dataclasses import dataclass

from .frameworks import Frameworks
from .models import Bank


@dataclass(frozen=True)
class Coverage:
    cis_ig1_covered: dict[str, tuple[str, ...]]  # safeguard -> question ids mapping it
    cis_ig1_missing: tuple[str, ...]
    nist_functions: dict[str, int]  # function id -> questions mapping into it
    nist_categories: dict[str, int]  # category id -> questions mapping into it

    @property
    def cis_ig1_share(self) -> float:
        total = len(self.cis_ig1_covered) + len(self.cis_ig1_missing)
        return len(self.cis_ig1_covered) / total

    def nist_covered(self, level: dict[str, int]) -> int:
        return sum(1 for count in level.values() if count)


def coverage(bank: Bank, frameworks: Frameworks) -> Coverage:
    by_safeguard: dict[str, list[str]] = {}
    functions = {f: 0 for f in frameworks.nist_functions}
    categories = {c: 0 for c in frameworks.nist_categories}
    for q in bank.questions:
        for ident in q.cis:
            by_safeguard.setdefault(ident, []).append(q.id)
        for category in sorted({frameworks.nist_category_of(s) for s in q.nist}):
            categories[category] += 1
        for function in sorted({s.split(".")[0] for s in q.nist}):
            functions[function] += 1
    ig1 = sorted(frameworks.cis_ig1, key=lambda s: tuple(int(p) for p in s.split(".")))
    return Coverage(
        cis_ig1_covered={s: tuple(by_safeguard[s]) for s in ig1 if s in by_safeguard},
        cis_ig1_missing=tuple(s for s in ig1 if s not in by_safeguard),
        nist_functions=functions,
        nist_categories=categories,
    )


def coverage_report(cov: Coverage, frameworks: Frameworks) -> str:
    """The two coverage tables as plain text, for `flask bank coverage`."""
    lines = [f"CIS Controls v8, Implementation Group 1: {len(cov.cis_ig1_covered)}/"
             f"{len(cov.cis_ig1_covered) + len(cov.cis_ig1_missing)} safeguards "
             f"({cov.cis_ig1_share:.0%})", ""]
    lines.append(f"  {'safeguard':<10} {'title':<48} questions")
    for ident in sorted(frameworks.cis_ig1, key=lambda s: tuple(int(p) for p in s.split("."))):
        questions = ", ".join(cov.cis_ig1_covered.get(ident, ())) or "MISSING"
        lines.append(f"  {ident:<10} {frameworks.cis_safeguards[ident][:48]:<48} {questions}")
    lines += ["", f"NIST CSF 2.0: {cov.nist_covered(cov.nist_functions)}/{len(cov.nist_functions)}"
              f" functions, {cov.nist_covered(cov.nist_categories)}/{len(cov.nist_categories)} "
              "categories", ""]
    lines.append(f"  {'category':<10} {'name':<48} questions")
    for ident, count in cov.nist_categories.items():
        lines.append(f"  {ident:<10} {frameworks.nist_categories[ident][:48]:<48} "
                     f"{count if count else 'MISSING'}")
    return "\n".join(lines)
