"""Cross-checks of how a bank's recommendations make up the plan (bank 2.1): workstreams, steps
that absorb or follow others, combined steps, `only_if` and who a find-out asks.

One small function per rule, run from RULES; each yields (file, key path, message) for every
mistake it finds, so `flask bank check` lists them all at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from .models import NOT_SURE, BankFile, Question, Recommendation, Section
from .types import QUESTION_TYPES


class Context(NamedTuple):
    bank: BankFile
    sections: list[Section]
    names: dict[str, str]  # section id -> file name as shown
    bank_name: str
    questions: dict[str, Question]
    recommendations: dict[str, Recommendation]  # "question:recommendation" -> it


Found = Iterator[tuple[str, str, str]]


def _each_recommendation(ctx: Context):
    for section in ctx.sections:
        for i, q in enumerate(section.questions):
            for j, r in enumerate(q.recommendations):
                yield ctx.names[section.id], f"questions[{i}].recommendations[{j}]", q, r


def _full(q: Question, ref: str) -> str:
    return ref if ":" in ref else f"{q.id}:{ref}"


def workstreams_exist(ctx: Context) -> Found:
    known = {w.id for w in ctx.bank.workstreams}
    if not known:
        return
    for section in ctx.sections:
        if section.kind == "scored" and section.workstream not in known:
            yield (ctx.names[section.id], "workstream",
                   f"name one of the workstreams in bank.yaml: {', '.join(sorted(known))}")
    for name, path, _, r in _each_recommendation(ctx):
        if r.workstream is not None and r.workstream not in known:
            yield name, f"{path}.workstream", f"'{r.workstream}' is not a workstream in bank.yaml"


def references_resolve(ctx: Context) -> Found:
    for name, path, q, r in _each_recommendation(ctx):
        for field in ("absorbs", "after"):
            for k, ref in enumerate(getattr(r, field)):
                full = _full(q, ref)
                if full not in ctx.recommendations:
                    yield (name, f"{path}.{field}[{k}]", f"'{ref}' is not a recommendation "
                           "(write question:recommendation, or the id alone on this question)")
                elif full == f"{q.id}:{r.id}":
                    yield name, f"{path}.{field}[{k}]", "a step cannot name itself"


def find_outs_are_not_joined(ctx: Context) -> Found:
    """A find-out goes into the first-week meeting; it cannot be absorbed into a fix."""
    for name, path, q, r in _each_recommendation(ctx):
        for k, ref in enumerate(r.absorbs):
            other = ctx.recommendations.get(_full(q, ref))
            if other is not None and set(other.when) == {NOT_SURE}:
                yield (name, f"{path}.absorbs[{k}]", "a 'find out' is asked in the first-week "
                       "meeting, not absorbed into a fix")


def after_has_no_cycle(ctx: Context) -> Found:
    edges = {f"{q.id}:{r.id}": [_full(q, ref) for ref in r.after]
             for _, _, q, r in _each_recommendation(ctx)}
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def cyclic(node: str) -> bool:
        if state.get(node) == 1:
            return True
        if state.get(node) == 2:
            return False
        state[node] = 1
        found = any(cyclic(nxt) for nxt in edges.get(node, ()) if nxt in edges)
        state[node] = 2
        return found

    for name, path, q, r in _each_recommendation(ctx):
        if r.after and cyclic(f"{q.id}:{r.id}"):
            yield name, f"{path}.after", "steps that come after each other in a circle"
            return


def combine_names_fixes(ctx: Context) -> Found:
    for section in ctx.sections:
        for i, q in enumerate(section.questions):
            if q.combine is None:
                continue
            fixes = [r.id for r in q.recommendations if set(r.when) != {NOT_SURE}]
            where = f"questions[{i}].combine"
            for k, ident in enumerate(q.combine.of):
                if ident not in fixes:
                    yield (ctx.names[section.id], f"{where}.of[{k}]",
                           f"'{ident}' is not a fix of this question ({', '.join(fixes)})")
            if len(q.combine.of or fixes) < 2:
                yield ctx.names[section.id], where, "combine joins two or more fixes"


def only_if_compares_known_answers(ctx: Context) -> Found:
    for name, path, _, r in _each_recommendation(ctx):
        if r.only_if is None:
            continue
        for sub, compare in r.only_if.comparisons():
            where = f"{path}.only_if" + (f".{sub}" if sub else "")
            target = ctx.questions.get(compare.q)
            if target is None:
                yield name, f"{where}.q", f"'{compare.q}' is not a question of this bank"
                continue
            kind = QUESTION_TYPES.get(target.type)
            if kind is not None and compare.op not in kind.operators:
                yield (name, where, f"'{compare.op}' does not apply to a '{target.type}' "
                       f"question; use one of {', '.join(sorted(kind.operators))}")


def asks_only_on_find_outs(ctx: Context) -> Found:
    for name, path, _, r in _each_recommendation(ctx):
        if r.asks is not None and set(r.when) != {NOT_SURE}:
            yield name, f"{path}.asks", "only a 'find out' (when: [not_sure]) says who it asks"


def step_limits_rise(ctx: Context) -> Found:
    plan = ctx.bank.plan
    if plan is None or not plan.steps:
        return
    bounds = [row.up_to for row in plan.steps[:-1] if row.up_to is not None]
    if plan.steps[-1].up_to is not None or len(bounds) < len(plan.steps) - 1 \
            or bounds != sorted(set(bounds)):
        yield ctx.bank_name, "plan.steps", "list rows by rising 'up_to'; only the last has none"


RULES: tuple[Callable[[Context], Found], ...] = (
    workstreams_exist, references_resolve, find_outs_are_not_joined, after_has_no_cycle,
    combine_names_fixes, only_if_compares_known_answers, asks_only_on_find_outs,
    step_limits_rise,
)


def check_plan(bank: BankFile, sections: list[Section], names: dict[str, str],
               bank_name: str) -> list[tuple[str, str, str]]:
    questions = {q.id: q for s in sections for q in s.questions}
    recommendations = {f"{q.id}:{r.id}": r for q in questions.values()
                       for r in q.recommendations}
    ctx = Context(bank, sections, names, bank_name, questions, recommendations)
    return [found for rule in RULES for found in rule(ctx)]
