"""Cross-checks of a bank that the models alone cannot make: ids, references between questions,
tokens, conditions, findings and what each bank version allows.

The pydantic models (models.py) check each value on its own; everything that relates one value to
another is a small function here, one per rule, run from a list:

- BANK_RULES on bank.yaml, SECTION_RULES on each section against its entry in bank.yaml;
- QUESTION_PASSES: passes over every question in bank order, each running its rules on one
  question after another, so that `flask bank check` lists a question's mistakes together;
- then the contradictions (check_contradictions), and the plan (plan_checks.py).

A rule yields (key path, message), the path inside what it checks ("" for the thing itself); a
question rule's path is inside the question. The loader turns them into Problems.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import NamedTuple

from ..costs import COST_INPUTS
from .answer import Answer
from .conditions import Compare, Condition
from .frameworks import Frameworks
from .models import (
    NOT_SURE,
    SEVERITY_ORDER,
    BankFile,
    Question,
    Recommendation,
    Section,
    SectionRef,
)
from .types import QUESTION_TYPES

Found = Iterator[tuple[str, str]]  # (key path, message)

WHY_IT_MATTERS_FROM = (2, 1, 0)  # the bank version from which every finding explains itself
RUBRIC_V22_FROM = (2, 2, 0)  # the bank version from which the 2.2 fields may be used
MAX_COMBINATIONS = 4096  # answers tried when deciding whether conditions can hold together


def version_of(bank: BankFile) -> tuple[int, ...]:
    return tuple(int(part) for part in bank.version.split("."))


def duplicates(ids: list[str]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    out = []
    for i, ident in enumerate(ids):
        if ident in seen:
            out.append((i, ident))
        seen.add(ident)
    return out


def bad_token(token: str, q: Question) -> str:
    known = ", ".join(q.tokens()) or "none"
    if token == "not_sure" and not q.not_sure:
        return "'not_sure' is named but the question does not allow 'Not sure' (not_sure: true)"
    return f"'{token}' is not an answer of {q.id} (its answers: {known})"


def check_compare(compare: Compare, seen: dict[str, Question], path: str) -> Found:
    """One comparison of a condition against the question it names, among `seen`."""
    target = seen.get(compare.q)
    if target is None:
        yield (f"{path}.q", f"'{compare.q}' is not a question that comes before this one (a "
                            "condition may only look back)")
        return
    kind = QUESTION_TYPES.get(target.type)
    if kind is None:
        return
    if compare.op not in kind.operators:
        yield (f"{path}.{compare.op}", f"operator '{compare.op}' does not fit a '{target.type}' "
                                       f"question; use one of {', '.join(sorted(kind.operators))}")
        return
    values = compare.value if isinstance(compare.value, tuple) else (compare.value,)
    if compare.op in ("equals", "not_equals", "in", "not_in", "includes", "excludes"):
        tokens = set(target.tokens())
        yield from ((f"{path}.{compare.op}", bad_token(v, target)) for v in values
                    if v not in tokens)


# -- bank.yaml --------------------------------------------------------------------------------

def bands_start_at_zero(bank: BankFile) -> Found:
    if bank.bands[0].min != 0:
        yield "bands[0].min", "the lowest band must start at 0"


def bands_rise(bank: BankFile) -> Found:
    mins = [band.min for band in bank.bands]
    if mins != sorted(mins) or len(set(mins)) != len(mins):
        yield "bands", "list bands from lowest to highest 'min', each with a different 'min'"


def ids_are_unique(bank: BankFile) -> Found:
    for what, ids in (("bands", [b.id for b in bank.bands]),
                      ("sections", [s.id for s in bank.sections]),
                      ("provider_questions", [p.id for p in bank.provider_questions]),
                      ("contradictions", [c.id for c in bank.contradictions])):
        yield from ((f"{what}[{i}].id", f"duplicate id '{ident}'")
                    for i, ident in duplicates(ids))


def severities_or_a_cap(bank: BankFile) -> Found:
    if (bank.critical_cap is None) == (not bank.severities):
        yield "severities", ("give 'severities' (what each kind of critical finding does to the "
                             "band), or for a 1.x bank 'critical_cap', not both")


def caps_are_bands(bank: BankFile) -> Found:
    band_ids = {b.id for b in bank.bands}
    if bank.critical_cap is not None and bank.critical_cap not in band_ids:
        yield "critical_cap", f"'{bank.critical_cap}' is not one of the band ids"
    for i, rule in enumerate(bank.severities):
        caps = [("caps_at", rule.caps_at)]
        if rule.escalate:
            caps.append(("escalate.caps_at", rule.escalate.caps_at))
        yield from ((f"severities[{i}].{path}", f"'{band}' is not one of the band ids")
                    for path, band in caps if band not in band_ids)


def severities_need_a_plan(bank: BankFile) -> Found:
    if bank.severities and bank.plan is None:
        yield "plan", "a bank with severities needs a 'plan' (effort points and phase capacity)"


def plan_prices_every_effort(bank: BankFile) -> Found:
    if bank.plan is None:
        return
    missing = {"low", "medium", "high"} - set(bank.plan.effort_points)
    if missing:
        yield "plan.effort_points", f"give points for {', '.join(sorted(missing))}"


def capacity_rows_rise(bank: BankFile) -> Found:
    if bank.plan is None:
        return
    rows = bank.plan.capacity
    bounds = [row.up_to for row in rows[:-1] if row.up_to is not None]
    if rows[-1].up_to is not None or len(bounds) < len(rows) - 1 or bounds != sorted(set(bounds)):
        yield "plan.capacity", "list rows by rising 'up_to'; only the last row has none"


def choice_set_ids_are_unique(bank: BankFile) -> Found:
    for set_id, choices in bank.choice_sets.items():
        yield from ((f"choice_sets.{set_id}[{i}].id", f"duplicate id '{ident}'")
                    for i, ident in duplicates([c.id for c in choices]))


BANK_RULES: tuple[Callable[[BankFile], Found], ...] = (
    bands_start_at_zero, bands_rise, ids_are_unique, severities_or_a_cap, caps_are_bands,
    severities_need_a_plan, plan_prices_every_effort, capacity_rows_rise,
    choice_set_ids_are_unique,
)


# -- each section against bank.yaml -----------------------------------------------------------

class SectionContext(NamedTuple):
    bank: BankFile
    ref: SectionRef  # the section's entry in bank.yaml
    position: int  # of that entry
    name: str  # the section's file, as shown
    bank_name: str


SectionFound = Iterator[tuple[str, str, str]]  # (file, key path, message)


def section_is_listed_by_its_id(section: Section, ctx: SectionContext) -> SectionFound:
    if section.id != ctx.ref.id:
        yield ctx.name, "id", f"is '{section.id}' but bank.yaml lists this file as '{ctx.ref.id}'"


def profile_is_not_weighed(section: Section, ctx: SectionContext) -> SectionFound:
    if section.kind == "profile" and ctx.ref.weight != 0:
        yield (ctx.bank_name, f"sections[{ctx.position}].weight",
               "the profile section is not scored; give it weight 0")


def sections_weigh_one_by_questions(section: Section, ctx: SectionContext) -> SectionFound:
    if section.kind == "scored" and ctx.bank.overall == "questions" and ctx.ref.weight != 1:
        yield (ctx.bank_name, f"sections[{ctx.position}].weight",
               "with 'overall: questions' a section weighs what its questions weigh; give "
               "every scored section weight 1")


def scored_sections_weigh(section: Section, ctx: SectionContext) -> SectionFound:
    if section.kind == "scored" and ctx.ref.weight <= 0:
        yield (ctx.bank_name, f"sections[{ctx.position}].weight",
               "a scored section needs a weight above 0")


SECTION_RULES: tuple[Callable[[Section, SectionContext], SectionFound], ...] = (
    section_is_listed_by_its_id, profile_is_not_weighed, sections_weigh_one_by_questions,
    scored_sections_weigh,
)


# -- each question ----------------------------------------------------------------------------

class Context(NamedTuple):
    bank: BankFile
    section: Section
    seen: dict[str, Question]  # the questions before this one, in bank order
    frameworks: Frameworks | None


QuestionRule = Callable[[Question, Context], Found]


def id_is_unique(q: Question, ctx: Context) -> Found:
    if q.id in ctx.seen:
        yield "id", f"duplicate question id '{q.id}' (ids are permanent and unique)"


def id_starts_with_its_section(q: Question, ctx: Context) -> Found:
    if not q.id.startswith(ctx.section.id + "."):
        yield "id", f"question ids in this section start with '{ctx.section.id}.'"


def type_is_known(q: Question, ctx: Context) -> Found:
    """A gate: a question of an unknown type is checked no further."""
    if q.type not in QUESTION_TYPES:
        yield "type", f"unknown type '{q.type}'; use one of {', '.join(QUESTION_TYPES)}"


def fits_its_type(q: Question, ctx: Context) -> Found:
    kind = QUESTION_TYPES[q.type]
    yield from kind.check(q)
    if q.scored and not kind.can_score:
        yield "weight", f"a '{q.type}' question is not scored; give it weight 0"


def profile_questions_are_not_scored(q: Question, ctx: Context) -> Found:
    if ctx.section.kind == "profile" and q.scored:
        yield "weight", "profile questions are not scored; give them weight 0"


def critical_only_when_scored(q: Question, ctx: Context) -> Found:
    if q.critical and not q.scored:
        yield "critical", "only a scored question can have a critical rule"


def choice_ids_are_unique(q: Question, ctx: Context) -> Found:
    for j, ident in duplicates([c.id for c in q.choices]):
        yield f"choices[{j}].id", f"duplicate choice id '{ident}'"


def check_answers_are_choices(q: Question, ctx: Context) -> Found:
    if q.check is None:
        return
    for outcome, choice in q.check.answers.items():
        if choice not in q.choice_by_id:
            yield (f"check.answers.{outcome}", f"'{choice}' is not a choice of this question; "
                                               f"use one of {', '.join(q.choice_by_id)}")
    if set(q.check.answers) != {"enforced", "partial", "missing"}:
        yield "check.answers", "give a choice for each of enforced, partial and missing"


def recommendation_ids_are_unique(q: Question, ctx: Context) -> Found:
    for j, ident in duplicates([r.id for r in q.recommendations]):
        yield f"recommendations[{j}].id", f"duplicate recommendation id '{ident}'"


def feeds_the_cost_model(q: Question, ctx: Context) -> Found:
    if q.feeds is None:
        return
    wanted = COST_INPUTS.get(q.feeds)
    if wanted is None:
        yield "feeds", f"unknown cost-model input '{q.feeds}'; use one of {', '.join(COST_INPUTS)}"
    elif wanted == "number":
        if q.type not in ("number", "profile"):
            yield "feeds", f"'{q.feeds}' takes a number; use a 'profile' or 'number' question"
    elif q.type != "single":
        yield "feeds", f"'{q.feeds}' takes a choice; use a 'single' question"
    else:
        yield from ((f"choices[{j}].id", f"'{c.id}' is not a value of '{q.feeds}' (use "
                                          f"{', '.join(wanted)})")
                    for j, c in enumerate(q.choices) if c.id not in wanted)


def rules_name_its_answers(q: Question, ctx: Context) -> Found:
    """Every token a critical rule, a recommendation or a follow-up names is an answer of the
    question."""
    tokens = set(q.tokens())
    rules: list[tuple[str, tuple[str, ...]]] = []
    if q.critical:
        rules.append(("critical", q.critical.when))
        if q.critical.lesser:
            rules.append(("critical.lesser", q.critical.lesser.when))
    rules += [(f"recommendations[{j}]", r.when) for j, r in enumerate(q.recommendations)]
    rules += [(f"ask_provider[{j}]", f.when) for j, f in enumerate(q.ask_provider)]
    for path, when in rules:
        yield from ((f"{path}.when[{k}]", bad_token(token, q))
                    for k, token in enumerate(when) if token not in tokens)


# What a 2.0 bank must say that a 1.x bank did not: severities, what "Not sure" does, and who,
# cost and evidence for every recommendation (run when the bank has `severities`).

def finding_has_a_severity(q: Question, ctx: Context) -> Found:
    if q.critical is not None and q.critical.severity is None:
        yield "critical.severity", "say what the finding does to the band: existential or serious"


def not_sure_is_not_a_when(q: Question, ctx: Context) -> Found:
    if q.critical is not None and NOT_SURE in q.critical.when:
        yield "critical.when", ("name 'not_sure' under critical.not_sure (with its own severity "
                                "and finding), not in 'when'")


def not_sure_says_what_it_does(q: Question, ctx: Context) -> Found:
    rule = q.critical
    if rule is not None and q.not_sure and rule.not_sure is None:
        yield "critical.not_sure", ("this critical question allows 'Not sure': say what it does "
                                    "(a severity and a finding, or 'why' it is not critical)")


def not_sure_effect_is_complete(q: Question, ctx: Context) -> Found:
    effect = q.critical.not_sure if q.critical else None
    if effect is None:
        return
    if not q.not_sure:
        yield "critical.not_sure", "the question does not allow 'Not sure'"
    elif effect.severity is not None and effect.finding is None:
        yield "critical.not_sure.finding", "state the finding 'Not sure' makes"
    elif effect.severity is None and effect.why is None:
        yield "critical.not_sure.why", "say plainly why 'Not sure' is not a critical finding here"


def lesser_finding_is_lesser(q: Question, ctx: Context) -> Found:
    rule = q.critical
    if rule is None or rule.lesser is None:
        return
    if set(rule.lesser.when) & set(rule.when):
        yield "critical.lesser.when", "name each answer in one rule only"
    if rule.severity == "serious" and rule.lesser.severity == "existential":
        yield "critical.lesser.severity", "the lesser finding cannot be worse than the main one"


def scored_when_hidden_has_a_gate(q: Question, ctx: Context) -> Found:
    if q.scored_when_hidden and (q.show_if is None or not q.scored):
        yield "scored_when_hidden", "only for a scored question with a show_if"


def strength_only_when_scored(q: Question, ctx: Context) -> Found:
    if q.strength is not None and not q.scored:
        yield "strength", "only for a scored question: it says what its best answer means"


def recommendations_are_complete(q: Question, ctx: Context) -> Found:
    """Each recommendation through RECOMMENDATION_RULES, one recommendation after another."""
    for j, r in enumerate(q.recommendations):
        for rule in RECOMMENDATION_RULES:
            yield from ((f"recommendations[{j}].{path}", message)
                        for path, message in rule(q, r, ctx))


def says_who_cost_and_evidence(q: Question, r: Recommendation, ctx: Context) -> Found:
    for field in ("who", "cost", "done_when"):
        if getattr(r, field) is None:
            yield field, "required in a 2.0 bank (see docs/bank-format.md)"


def fixes_to_an_answer(q: Question, r: Recommendation, ctx: Context) -> Found:
    if r.fixes_to is not None and r.fixes_to not in q.kind.tokens(q):
        yield "fixes_to", bad_token(r.fixes_to, q)


def fixes_to_clears_the_finding(q: Question, r: Recommendation, ctx: Context) -> Found:
    rule = q.critical
    if rule is None or r.fixes_to is None:
        return
    critical_tokens = set(rule.when) | (set(rule.lesser.when) if rule.lesser else set())
    if r.fixes_to in critical_tokens:
        yield "fixes_to", "a fix cannot leave the critical finding standing"


def critical_fixes_in_30_days(q: Question, r: Recommendation, ctx: Context) -> Found:
    if _fixes_a_finding(q, r, ctx.seen) and r.timeframe != 30:
        yield "timeframe", "a fix for a critical finding belongs in the first 30 days"


RECOMMENDATION_RULES: tuple[Callable[[Question, Recommendation, Context], Found], ...] = (
    says_who_cost_and_evidence, fixes_to_an_answer, fixes_to_clears_the_finding,
    critical_fixes_in_30_days,
)


def not_sure_on_a_gateway_keeps_the_finding(q: Question, ctx: Context) -> Found:
    """"Not sure" on a question that decides whether this critical one is asked, or whether its
    finding stands at all (critical.only_if), must not make the exposure disappear: it is a
    finding itself, or the question stays asked and the finding stands."""
    if q.critical is None:
        return
    lesser = q.critical.lesser
    for field, condition, wording in (
            ("show_if", q.show_if, "hides this critical question: keep it asked then"),
            ("critical.only_if", q.critical.only_if, "drops this critical finding: keep it "
                                                     "standing then"),
            ("critical.lesser.only_if", lesser.only_if if lesser else None,
             "drops this lesser finding: keep it standing then")):
        if condition is None:
            continue
        for ref in dict.fromkeys(compare.q for _, compare in condition.comparisons()):
            gateway = ctx.seen.get(ref)
            if gateway is None or not gateway.not_sure:
                continue
            effect = gateway.critical.not_sure if gateway.critical else None
            if effect is not None and effect.severity is not None:
                continue
            unsure = {ref: (Answer.not_sure(), frozenset({NOT_SURE}))}
            if not condition.evaluate(unsure.get):
                yield field, (f"'Not sure' on {ref} {wording}, or make 'Not sure' on {ref} a "
                              "finding")


V2_RULES: tuple[QuestionRule, ...] = (
    finding_has_a_severity, not_sure_is_not_a_when, not_sure_says_what_it_does,
    not_sure_effect_is_complete, lesser_finding_is_lesser, scored_when_hidden_has_a_gate,
    strength_only_when_scored, recommendations_are_complete,
    not_sure_on_a_gateway_keeps_the_finding,
)


def v2_rules(q: Question, ctx: Context) -> Found:
    """V2_RULES, in a bank with severities (2.0 and later)."""
    if ctx.bank.severities:
        for rule in V2_RULES:
            yield from rule(q, ctx)


def conditions_look_back(q: Question, ctx: Context) -> Found:
    """Every condition of the question (show_if, and its critical rule's only_if and stronger
    entries) names earlier questions, with operators and answers that fit them."""
    for field, condition in _conditions_of(q):
        for path, compare in condition.comparisons():
            yield from check_compare(compare, ctx.seen, f"{field}" + (f".{path}" if path else ""))


def frameworks_are_known(q: Question, ctx: Context) -> Found:
    if ctx.frameworks is None:
        return
    for j, ident in enumerate(q.cis):
        if ident not in ctx.frameworks.cis_safeguards:
            yield f"cis[{j}]", f"'{ident}' is not a CIS Controls v8 safeguard id (like '11.2')"
    for j, ident in enumerate(q.nist):
        if ident not in ctx.frameworks.nist_subcategories:
            yield f"nist[{j}]", f"'{ident}' is not a NIST CSF 2.0 subcategory id (like 'PR.DS-11')"


# Findings explain themselves: run when the bank has severities.

def why_only_for_a_finding(q: Question, ctx: Context) -> Found:
    unsure = q.critical.not_sure if q.critical else None
    if unsure is not None and unsure.severity is None and unsure.why_it_matters:
        yield ("critical.not_sure.why_it_matters",
               "'Not sure' is no finding here: say why under 'why'")


def findings_say_why_they_matter(q: Question, ctx: Context) -> Found:
    """Every finding (the critical rule, its lesser finding, and "Not sure" when it is a
    finding) says what happens to the business if it stays; required from 2.1."""
    rule = q.critical
    if rule is None or not needs_why_it_matters(ctx.bank):
        return
    found: list[tuple[str, str | None]] = [("critical", rule.why_it_matters)]
    if rule.lesser is not None:
        found.append(("critical.lesser", rule.lesser.why_it_matters))
    if rule.not_sure is not None and rule.not_sure.severity is not None:
        found.append(("critical.not_sure", rule.not_sure.why_it_matters))
    yield from ((f"{path}.why_it_matters", "say in one or two plain sentences what happens to the "
                                           "business if this finding stays")
                for path, why in found if why is None)


def needs_why_it_matters(bank: BankFile) -> bool:
    """Banks from 2.1 on (they declare workstreams) explain every finding; a 2.0 bank stored
    with old assessments did not, and still loads."""
    if not bank.severities:
        return False
    return bool(bank.workstreams) or version_of(bank) >= WHY_IT_MATTERS_FROM


def uses_only_its_versions_fields(q: Question, ctx: Context) -> Found:
    """A bank before 2.2 (those stored with older assessments among them) is scored as it was
    written: it may not use what 2.2 added, so no field is read by an engine that ignores it."""
    if version_of(ctx.bank) >= RUBRIC_V22_FROM:
        return
    yield from ((path, f"new in bank 2.2.0; this bank is {ctx.bank.version} (raise its version "
                       "to use it)") for path in _rubric_v22_fields(q))


def stronger_is_worse(q: Question, ctx: Context) -> Found:
    """A `stronger` entry makes the finding worse than the rule's own severity, to one the
    bank's `severities` say how to cap."""
    rule = q.critical
    if rule is None:
        return
    declared = {severity.id for severity in ctx.bank.severities}
    for k, entry in enumerate(rule.stronger):
        where = f"critical.stronger[{k}].severity"
        if entry.severity not in declared:
            yield where, f"'{entry.severity}' is not one of the bank's severities"
        elif SEVERITY_ORDER[entry.severity] >= SEVERITY_ORDER[rule.severity]:
            yield where, (f"'{entry.severity}' is not worse than the rule's own severity "
                          f"'{rule.severity}'")


def findings_rules(q: Question, ctx: Context) -> Found:
    """Why findings matter, in a bank with severities (2.0 and later)."""
    if ctx.bank.severities:
        yield from why_only_for_a_finding(q, ctx)
        yield from findings_say_why_they_matter(q, ctx)


# Each pass runs its rules on every question, in bank order, before the next pass starts. In the
# first, a rule in GATES that finds a mistake stops the question's remaining rules.
QUESTION_PASSES: tuple[tuple[QuestionRule, ...], ...] = (
    (id_is_unique, id_starts_with_its_section, type_is_known, fits_its_type,
     profile_questions_are_not_scored, critical_only_when_scored, choice_ids_are_unique,
     check_answers_are_choices, recommendation_ids_are_unique, feeds_the_cost_model,
     rules_name_its_answers, v2_rules, conditions_look_back, frameworks_are_known),
    (findings_rules,),
    (uses_only_its_versions_fields,),
    (stronger_is_worse,),
)
GATES = frozenset({type_is_known})


def check_questions(bank: BankFile, sections: list[Section], names: dict[str, str],
                    frameworks: Frameworks | None) -> Iterator[tuple[str, str, str]]:
    """Every question through QUESTION_PASSES: (file, key path, message) for each mistake."""
    for rules in QUESTION_PASSES:
        seen: dict[str, Question] = {}
        for section in sections:
            for i, q in enumerate(section.questions):
                ctx = Context(bank, section, seen, frameworks)
                for rule in rules:
                    found = [(f"questions[{i}].{path}" if path else f"questions[{i}]", message)
                             for path, message in rule(q, ctx)]
                    yield from ((names[section.id], path, message) for path, message in found)
                    if found and rule in GATES:
                        break
                seen[q.id] = q


def check_contradictions(bank: BankFile, sections: list[Section]) -> Found:
    """Each contradiction's condition names questions of the bank (any of them, in any order:
    it is read once every answer is in) with operators that fit them; new in 2.2."""
    if not bank.contradictions:
        return
    if version_of(bank) < RUBRIC_V22_FROM:
        yield "contradictions", (f"new in bank 2.2.0; this bank is {bank.version} (raise its "
                                 "version to use it)")
        return
    every = {q.id: q for section in sections for q in section.questions}
    for i, contradiction in enumerate(bank.contradictions):
        for path, compare in contradiction.when.comparisons():
            where = f"contradictions[{i}].when" + (f".{path}" if path else "")
            if compare.q not in every:
                yield f"{where}.q", f"'{compare.q}' is not a question of this bank"
            else:
                yield from check_compare(compare, every, where)


# -- helpers of the rules ---------------------------------------------------------------------

def _conditions_of(q: Question) -> list[tuple[str, Condition]]:
    """Every condition of a question with its key path: show_if, and its critical rule's
    only_if and stronger entries (bank 2.2). Each may only look at earlier questions."""
    found: list[tuple[str, Condition]] = []
    if q.show_if is not None:
        found.append(("show_if", q.show_if))
    rule = q.critical
    if rule is not None:
        if rule.only_if is not None:
            found.append(("critical.only_if", rule.only_if))
        if rule.lesser is not None and rule.lesser.only_if is not None:
            found.append(("critical.lesser.only_if", rule.lesser.only_if))
        found += [(f"critical.stronger[{k}].if", entry.condition)
                  for k, entry in enumerate(rule.stronger)]
    return found


def _rubric_v22_fields(q: Question) -> list[str]:
    """The bank 2.2 fields a question uses (key paths inside the question)."""
    used = []
    if q.owners_rarely_know:
        used.append("owners_rarely_know")
    if q.check is not None:
        used.append("check")
    rule = q.critical
    if rule is not None:
        used += [f"critical.{field}" for field in ("only_if", "stronger", "weakness")
                 if getattr(rule, field) not in (None, ())]
        if rule.lesser is not None and rule.lesser.only_if is not None:
            used.append("critical.lesser.only_if")
    return used


def _fixes_a_finding(q: Question, r: Recommendation, seen: dict[str, Question]) -> bool:
    """Whether r can be proposed while the answer it deals with is a finding: it is triggered
    by a finding's answer, and its only_if can hold together with the finding's (bank 2.2: the
    unhurried fix for a business where the answer is no finding is not a critical fix)."""
    rule = q.critical
    if rule is None:
        return False
    findings = [(rule.when, [rule.only_if])]
    if rule.lesser is not None:
        findings.append((rule.lesser.when, [rule.only_if, rule.lesser.only_if]))
    return any(not set(tokens).isdisjoint(r.when)
               and _can_hold_together([r.only_if, *conditions], seen)
               for tokens, conditions in findings)


def _can_hold_together(conditions: list[Condition | None], seen: dict[str, Question]) -> bool:
    """Whether some answers make every condition hold at once, tried over every answer of the
    choice questions they look at. Where that cannot be tried (a figure, too many answers),
    they are taken to hold together: the check then asks for the stricter timeframe."""
    present = [c for c in conditions if c is not None]
    if len(present) < 2:
        return True
    refs = list(dict.fromkeys(compare.q for c in present for _, compare in c.comparisons()))
    options: list[list[tuple[Answer, frozenset[str]] | None]] = []
    for ref in refs:
        target = seen.get(ref)
        if target is None or target.type not in ("single", "yesno", "multi"):
            return True
        values: list = [c.id for c in target.choices]
        if target.type == "multi":
            values = [tuple(ids) for n in range(len(values) + 1)
                      for ids in itertools.combinations(values, n)]
        answers = [Answer("answered", v) for v in values]
        answers += [Answer.not_sure()] if target.not_sure else []
        answers += [Answer.na()] if target.na else []
        options.append([None] + [(a, _tokens_of(target, a)) for a in answers])
    if math.prod(len(o) for o in options) > MAX_COMBINATIONS:
        return True
    for combination in itertools.product(*options):
        found = dict(zip(refs, combination, strict=True))
        if all(c.evaluate(found.get) for c in present):
            return True
    return False


def _tokens_of(q: Question, answer: Answer) -> frozenset[str]:
    if answer.state == "answered":
        return q.kind.answer_tokens(q, answer.value)
    return frozenset({answer.state})
