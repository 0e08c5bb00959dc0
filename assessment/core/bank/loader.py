"""Load and validate a question bank; every mistake becomes one BankError naming file and key path.

    questions/bank.yaml          bank id, version, risk bands, shared choice sets, section order
    questions/<section>.yaml     one section and its questions
    questions/frameworks/        CIS Controls v8 and NIST CSF 2.0 reference lists

A loaded bank is immutable and carries a snapshot (canonical JSON of its data) and its hash, so an
assessment can be scored against the exact bank it was answered with, long after the files change.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..costs import COST_INPUTS
from .answer import Answer
from .conditions import Condition
from .frameworks import Frameworks, SafeLoader, load_frameworks
from .models import NOT_SURE, SEVERITY_ORDER, Bank, BankFile, Question, Recommendation, Section
from .plan_checks import check_plan
from .types import QUESTION_TYPES

BANK_FILE = "bank.yaml"
FRAMEWORKS_DIR = "frameworks"
YES_NO_LABELS = {"yes": "Yes", "no": "No"}


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}" if self.path else \
            f"{self.file}: {self.message}"


class BankError(Exception):
    """The bank is not valid. `problems` lists each mistake with its file and key path."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def key_path(loc: tuple) -> str:
    """('questions', 3, 'choices', 1, 'score') -> 'questions[3].choices[1].score'"""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(file: str, error: ValidationError, prefix: str = "") -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if p not in ("function-after", "function-before"))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against docs/bank-format.md)"
        path = key_path(loc)
        problems.append(Problem(file, f"{prefix}{path}" if path else prefix.rstrip("."), message))
    return problems


def read_bank_dir(directory: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw data of a bank folder, and the display name of the file each part came from."""
    directory = Path(directory)
    label = directory.name or str(directory)
    names = {"bank": f"{label}/{BANK_FILE}"}
    if not (directory / BANK_FILE).is_file():
        raise BankError([Problem(names["bank"], "", "no bank file here; a bank folder needs "
                                                    "bank.yaml and one YAML file per section")])
    bank_raw = _read_yaml(directory / BANK_FILE, names["bank"])
    sections: dict[str, Any] = {}
    problems: list[Problem] = []
    refs = bank_raw.get("sections") if isinstance(bank_raw, dict) else None
    listed = [r.get("id") for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []
    for i, section_id in enumerate(listed):
        if not isinstance(section_id, str):
            continue
        path = directory / f"{section_id}.yaml"
        names[section_id] = f"{label}/{section_id}.yaml"
        if not path.is_file():
            problems.append(Problem(names["bank"], f"sections[{i}].id",
                                    f"no file {section_id}.yaml for section '{section_id}'"))
            continue
        sections[section_id] = _read_yaml(path, names[section_id])
    for path in sorted(directory.glob("*.yaml")):
        if path.name != BANK_FILE and path.stem not in listed:
            problems.append(Problem(f"{label}/{path.name}", "",
                                    f"section file is not listed under 'sections' in {BANK_FILE}"))
    if problems:
        raise BankError(problems)
    return {"bank": bank_raw, "sections": sections}, names


def _read_yaml(path: Path, name: str) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise BankError([Problem(name, where, f"not valid YAML: {problem}")]) from None
    except UnicodeDecodeError:
        raise BankError([Problem(name, "", "not UTF-8 text")]) from None


def load_bank(directory: Path | str, frameworks: Frameworks | None = None) -> Bank:
    """Read, validate and build the bank in a folder (the usual way in)."""
    directory = Path(directory)
    raw, names = read_bank_dir(directory)
    if frameworks is None:
        frameworks_dir = directory / FRAMEWORKS_DIR
        if not frameworks_dir.is_dir():
            frameworks_dir = Path(__file__).resolve().parents[3] / "questions" / FRAMEWORKS_DIR
        frameworks = load_frameworks(frameworks_dir)
    return build_bank(raw, names, frameworks)


def bank_from_snapshot(snapshot: str) -> Bank:
    """Rebuild a bank stored with an assessment (already validated when it was current)."""
    raw = json.loads(snapshot)
    names = {"bank": "stored bank", **{sid: f"stored bank/{sid}" for sid in raw["sections"]}}
    return build_bank(raw, names, frameworks=None)


def build_bank(raw: dict[str, Any], names: dict[str, str], frameworks: Frameworks | None) -> Bank:
    snapshot = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    problems: list[Problem] = []
    bank_name = names["bank"]
    if not isinstance(raw["bank"], dict):
        raise BankError([Problem(bank_name, "", "expected a mapping of keys such as id, version")])
    try:
        bank_file = BankFile.model_validate(raw["bank"])
    except ValidationError as error:
        raise BankError(_pydantic_problems(bank_name, error)) from None
    problems += _check_bank_file(bank_file, bank_name)

    sections: list[Section] = []
    for i, ref in enumerate(bank_file.sections):
        name = names[ref.id]
        data = raw["sections"][ref.id]
        if not isinstance(data, dict):
            problems.append(Problem(name, "", "expected a mapping with id, title, intro, "
                                              "questions"))
            continue
        data, expand_problems = _expand_choices(data, bank_file, name)
        problems += expand_problems
        try:
            section = Section.model_validate(data)
        except ValidationError as error:
            problems += _pydantic_problems(name, error)
            continue
        if section.id != ref.id:
            problems.append(Problem(name, "id", f"is '{section.id}' but bank.yaml lists this file "
                                                f"as '{ref.id}'"))
        if section.kind == "profile" and ref.weight != 0:
            problems.append(Problem(bank_name, f"sections[{i}].weight",
                                    "the profile section is not scored; give it weight 0"))
        if section.kind == "scored" and bank_file.overall == "questions" and ref.weight != 1:
            problems.append(Problem(bank_name, f"sections[{i}].weight",
                                    "with 'overall: questions' a section weighs what its "
                                    "questions weigh; give every scored section weight 1"))
        if section.kind == "scored" and ref.weight <= 0:
            problems.append(Problem(bank_name, f"sections[{i}].weight",
                                    "a scored section needs a weight above 0"))
        sections.append(section)
    if problems:
        raise BankError(problems)

    problems += _check_questions(sections, names, frameworks, rubric_v2=bool(bank_file.severities))
    if bank_file.severities:
        problems += _check_why_it_matters(sections, names, _needs_why_it_matters(bank_file))
    problems += _check_rubric_v22_fields(sections, names, bank_file)
    problems += _check_stronger_severities(sections, names, bank_file)
    problems += _check_contradictions(sections, bank_file, bank_name)
    problems += [Problem(*found) for found in check_plan(bank_file, sections, names, bank_name)]
    if problems:
        raise BankError(problems)
    return Bank(
        id=bank_file.id,
        version=bank_file.version,
        title=bank_file.title,
        hash=hashlib.sha256(snapshot.encode()).hexdigest(),
        snapshot=snapshot,
        bands=bank_file.bands,
        critical_cap=bank_file.critical_cap,
        severities=bank_file.severities,
        plan=bank_file.plan,
        overall=bank_file.overall,
        section_weights={ref.id: ref.weight for ref in bank_file.sections},
        sections=tuple(sections),
        provider_questions=bank_file.provider_questions,
        workstreams=bank_file.workstreams,
        contradictions=bank_file.contradictions,
    )


def _check_bank_file(bank: BankFile, name: str) -> list[Problem]:
    problems = []
    mins = [band.min for band in bank.bands]
    if mins[0] != 0:
        problems.append(Problem(name, "bands[0].min", "the lowest band must start at 0"))
    if mins != sorted(mins) or len(set(mins)) != len(mins):
        problems.append(Problem(name, "bands", "list bands from lowest to highest 'min', "
                                               "each with a different 'min'"))
    for what, ids in (("bands", [b.id for b in bank.bands]),
                      ("sections", [s.id for s in bank.sections]),
                      ("provider_questions", [p.id for p in bank.provider_questions]),
                      ("contradictions", [c.id for c in bank.contradictions])):
        problems += [Problem(name, f"{what}[{i}].id", f"duplicate id '{ident}'")
                     for i, ident in _duplicates(ids)]
    band_ids = {b.id for b in bank.bands}
    if (bank.critical_cap is None) == (not bank.severities):
        problems.append(Problem(name, "severities", "give 'severities' (what each kind of "
                                "critical finding does to the band), or for a 1.x bank "
                                "'critical_cap', not both"))
    if bank.critical_cap is not None and bank.critical_cap not in band_ids:
        problems.append(Problem(name, "critical_cap",
                                f"'{bank.critical_cap}' is not one of the band ids"))
    for i, rule in enumerate(bank.severities):
        caps = [("caps_at", rule.caps_at)]
        if rule.escalate:
            caps.append(("escalate.caps_at", rule.escalate.caps_at))
        problems += [Problem(name, f"severities[{i}].{path}", f"'{band}' is not one of the "
                             "band ids") for path, band in caps if band not in band_ids]
    if bank.severities and bank.plan is None:
        problems.append(Problem(name, "plan", "a bank with severities needs a 'plan' (effort "
                                              "points and phase capacity)"))
    if bank.plan is not None:
        missing = {"low", "medium", "high"} - set(bank.plan.effort_points)
        if missing:
            problems.append(Problem(name, "plan.effort_points",
                                    f"give points for {', '.join(sorted(missing))}"))
        rows = bank.plan.capacity
        bounds = [row.up_to for row in rows[:-1]]
        if rows[-1].up_to is not None or None in bounds or bounds != sorted(set(bounds)):
            problems.append(Problem(name, "plan.capacity", "list rows by rising 'up_to'; only "
                                                           "the last row has none"))
    for set_id, choices in bank.choice_sets.items():
        problems += [Problem(name, f"choice_sets.{set_id}[{i}].id", f"duplicate id '{ident}'")
                     for i, ident in _duplicates([c.id for c in choices])]
    return problems


def _expand_choices(data: dict, bank: BankFile, name: str) -> tuple[dict, list[Problem]]:
    """Fill in choices that come from a shared choice set or from the yes/no type."""
    data = copy.deepcopy(data)
    problems = []
    for i, q in enumerate(data.get("questions") or []):
        if not isinstance(q, dict):
            continue
        where = f"questions[{i}]"
        if "choice_set" in q:
            if "choices" in q:
                problems.append(Problem(name, f"{where}.choice_set",
                                        "give either 'choices' or 'choice_set', not both"))
            elif q["choice_set"] not in bank.choice_sets:
                known = ", ".join(sorted(bank.choice_sets)) or "none"
                problems.append(Problem(name, f"{where}.choice_set",
                                        f"no choice set '{q['choice_set']}' in bank.yaml "
                                        f"(known: {known})"))
            else:
                q["choices"] = [c.model_dump() for c in bank.choice_sets[q["choice_set"]]]
        if q.get("type") == "yesno":
            if "choices" in q:
                problems.append(Problem(name, f"{where}.choices",
                                        "a yes/no question has its choices built in; use "
                                        "'best: no' when No is the good answer"))
            best = q.get("best", "yes")
            q["choices"] = [{"id": c, "label": YES_NO_LABELS[c], "score": 10 if c == best else 0}
                            for c in ("yes", "no")]
        elif "best" in q:
            problems.append(Problem(name, f"{where}.best", "'best' is only for yes/no questions"))
    return data, problems


def _check_questions(sections: list[Section], names: dict[str, str],
                     frameworks: Frameworks | None, rubric_v2: bool = False) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, Question] = {}  # questions before the current one, in bank order
    for section in sections:
        name = names[section.id]
        for i, q in enumerate(section.questions):
            where = f"questions[{i}]"

            def add(path: str, message: str, _where=where, _name=name, _out=problems) -> None:
                _out.append(Problem(_name, f"{_where}.{path}" if path else _where, message))

            if q.id in seen:
                add("id", f"duplicate question id '{q.id}' (ids are permanent and unique)")
            if not q.id.startswith(section.id + "."):
                add("id", f"question ids in this section start with '{section.id}.'")
            kind = QUESTION_TYPES.get(q.type)
            if kind is None:
                add("type", f"unknown type '{q.type}'; use one of {', '.join(QUESTION_TYPES)}")
                seen[q.id] = q
                continue
            for path, message in kind.check(q):
                add(path, message)
            if q.scored and not kind.can_score:
                add("weight", f"a '{q.type}' question is not scored; give it weight 0")
            if section.kind == "profile" and q.scored:
                add("weight", "profile questions are not scored; give them weight 0")
            if q.critical and not q.scored:
                add("critical", "only a scored question can have a critical rule")
            for j, ident in _duplicates([c.id for c in q.choices]):
                add(f"choices[{j}].id", f"duplicate choice id '{ident}'")
            if q.check is not None:
                for outcome, choice in q.check.answers.items():
                    if choice not in q.choice_by_id:
                        add(f"check.answers.{outcome}", f"'{choice}' is not a choice of this "
                            f"question; use one of {', '.join(q.choice_by_id)}")
                if set(q.check.answers) != {"enforced", "partial", "missing"}:
                    add("check.answers", "give a choice for each of enforced, partial and "
                        "missing")
            for j, ident in _duplicates([r.id for r in q.recommendations]):
                add(f"recommendations[{j}].id", f"duplicate recommendation id '{ident}'")
            problems += _check_feeds(q, name, where)
            tokens = set(q.tokens())
            rules = [("critical", q.critical)] if q.critical else []
            if q.critical and q.critical.lesser:
                rules.append(("critical.lesser", q.critical.lesser))
            rules += [(f"recommendations[{j}]", r) for j, r in enumerate(q.recommendations)]
            rules += [(f"ask_provider[{j}]", r) for j, r in enumerate(q.ask_provider)]
            for path, rule in rules:
                for k, token in enumerate(rule.when):
                    if token not in tokens:
                        add(f"{path}.when[{k}]", _bad_token(token, q))
            if rubric_v2:
                problems += [Problem(name, f"{where}.{path}", message)
                             for path, message in _check_v2(q, seen)]
            for field, condition in _conditions_of(q):
                for path, compare in condition.comparisons():
                    problems += _check_compare(compare, seen, name, f"{where}.{field}"
                                               + (f".{path}" if path else ""))
            if frameworks is not None:
                for j, ident in enumerate(q.cis):
                    if ident not in frameworks.cis_safeguards:
                        add(f"cis[{j}]", f"'{ident}' is not a CIS Controls v8 safeguard id "
                                         f"(like '11.2')")
                for j, ident in enumerate(q.nist):
                    if ident not in frameworks.nist_subcategories:
                        add(f"nist[{j}]", f"'{ident}' is not a NIST CSF 2.0 subcategory id "
                                          f"(like 'PR.DS-11')")
            seen[q.id] = q
    return problems


def _check_v2(q: Question, seen: dict[str, Question]) -> list[tuple[str, str]]:
    """What a 2.0 bank must say that a 1.x bank did not: severities, what "Not sure" does, and
    who, cost and evidence for every recommendation."""
    problems = []
    rule = q.critical
    if rule is not None:
        if rule.severity is None:
            problems.append(("critical.severity", "say what the finding does to the band: "
                                                  "existential or serious"))
        if NOT_SURE in rule.when:
            problems.append(("critical.when", "name 'not_sure' under critical.not_sure (with "
                                              "its own severity and finding), not in 'when'"))
        if q.not_sure and rule.not_sure is None:
            problems.append(("critical.not_sure", "this critical question allows 'Not sure': "
                             "say what it does (a severity and a finding, or 'why' it is "
                             "not critical)"))
    if rule is not None and rule.not_sure is not None:
        effect = rule.not_sure
        if not q.not_sure:
            problems.append(("critical.not_sure", "the question does not allow 'Not sure'"))
        elif effect.severity is not None and effect.finding is None:
            problems.append(("critical.not_sure.finding", "state the finding 'Not sure' makes"))
        elif effect.severity is None and effect.why is None:
            problems.append(("critical.not_sure.why", "say plainly why 'Not sure' is not a "
                                                      "critical finding here"))
    critical_tokens = set(rule.when) if rule else set()
    if rule is not None and rule.lesser is not None:
        critical_tokens |= set(rule.lesser.when)
        if set(rule.lesser.when) & set(rule.when):
            problems.append(("critical.lesser.when", "name each answer in one rule only"))
        if rule.severity == "serious" and rule.lesser.severity == "existential":
            problems.append(("critical.lesser.severity", "the lesser finding cannot be worse "
                                                         "than the main one"))
    if q.scored_when_hidden and (q.show_if is None or not q.scored):
        problems.append(("scored_when_hidden", "only for a scored question with a show_if"))
    if q.strength is not None and not q.scored:
        problems.append(("strength", "only for a scored question: it says what its best "
                                     "answer means"))
    for j, r in enumerate(q.recommendations):
        for field in ("who", "cost", "done_when"):
            if getattr(r, field) is None:
                problems.append((f"recommendations[{j}].{field}", "required in a 2.0 bank "
                                 "(see docs/bank-format.md)"))
        if r.fixes_to is not None and r.fixes_to not in q.kind.tokens(q):
            problems.append((f"recommendations[{j}].fixes_to", _bad_token(r.fixes_to, q)))
        if r.fixes_to is not None and r.fixes_to in critical_tokens:
            problems.append((f"recommendations[{j}].fixes_to", "a fix cannot leave the "
                                                               "critical finding standing"))
        if _fixes_a_finding(q, r, seen) and r.timeframe != 30:
            problems.append((f"recommendations[{j}].timeframe", "a fix for a critical finding "
                                                                "belongs in the first 30 days"))
    problems += _check_gateway(q, seen)
    return problems


WHY_IT_MATTERS_FROM = (2, 1, 0)  # the bank version from which every finding explains itself


def _needs_why_it_matters(bank: BankFile) -> bool:
    """Banks from 2.1 on (they declare workstreams) explain every finding; a 2.0 bank stored
    with old assessments did not, and still loads."""
    if not bank.severities:
        return False
    return bool(getattr(bank, "workstreams", ())) or _version(bank) >= WHY_IT_MATTERS_FROM


def _check_why_it_matters(sections: list[Section], names: dict[str, str],
                          required: bool) -> list[Problem]:
    """Every finding (the critical rule, its lesser finding, and "Not sure" when it is a
    finding) says what happens to the business if it stays; required from 2.1."""
    problems = []
    for section in sections:
        for i, q in enumerate(section.questions):
            rule = q.critical
            if rule is None:
                continue
            unsure = rule.not_sure
            if unsure is not None and unsure.severity is None and unsure.why_it_matters:
                problems.append(Problem(names[section.id],
                                        f"questions[{i}].critical.not_sure.why_it_matters",
                                        "'Not sure' is no finding here: say why under 'why'"))
            if not required:
                continue
            found = [("critical", rule)]
            if rule.lesser is not None:
                found.append(("critical.lesser", rule.lesser))
            if rule.not_sure is not None and rule.not_sure.severity is not None:
                found.append(("critical.not_sure", rule.not_sure))
            problems += [Problem(names[section.id], f"questions[{i}].{path}.why_it_matters",
                                 "say in one or two plain sentences what happens to the "
                                 "business if this finding stays")
                         for path, finding in found if finding.why_it_matters is None]
    return problems


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


def _check_gateway(q: Question, seen: dict[str, Question]) -> list[tuple[str, str]]:
    """"Not sure" on a question that decides whether this critical one is asked, or whether its
    finding stands at all (critical.only_if), must not make the exposure disappear: it is a
    finding itself, or the question stays asked and the finding stands."""
    if q.critical is None:
        return []
    problems = []
    lesser = q.critical.lesser
    for field, condition, wording in (
            ("show_if", q.show_if, "hides this critical question: keep it asked then"),
            ("critical.only_if", q.critical.only_if, "drops this critical finding: keep it "
                                                     "standing then"),
            ("critical.lesser.only_if", lesser.only_if if lesser else None,
             "drops this lesser finding: keep it standing then")):
        if condition is None:
            continue
        refs = dict.fromkeys(compare.q for _, compare in condition.comparisons())
        for ref in refs:
            gateway = seen.get(ref)
            if gateway is None or not gateway.not_sure:
                continue
            effect = gateway.critical.not_sure if gateway.critical else None
            if effect is not None and effect.severity is not None:
                continue
            unsure = {ref: (Answer.not_sure(), frozenset({NOT_SURE}))}
            if not condition.evaluate(unsure.get):
                problems.append((field, f"'Not sure' on {ref} {wording}, or make 'Not sure' on "
                                        f"{ref} a finding"))
    return problems


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


MAX_COMBINATIONS = 4096  # answers tried when deciding whether conditions can hold together


def _can_hold_together(conditions: list[Condition | None], seen: dict[str, Question]) -> bool:
    """Whether some answers make every condition hold at once, tried over every answer of the
    choice questions they look at. Where that cannot be tried (a figure, too many answers),
    they are taken to hold together: the check then asks for the stricter timeframe."""
    conditions = [c for c in conditions if c is not None]
    if len(conditions) < 2:
        return True
    refs = list(dict.fromkeys(compare.q for c in conditions for _, compare in c.comparisons()))
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
        if all(c.evaluate(found.get) for c in conditions):
            return True
    return False


def _tokens_of(q: Question, answer: Answer) -> frozenset[str]:
    if answer.state == "answered":
        return q.kind.answer_tokens(q, answer.value)
    return frozenset({answer.state})


RUBRIC_V22_FROM = (2, 2, 0)  # the bank version from which the fields below may be used


def _version(bank: BankFile) -> tuple[int, ...]:
    return tuple(int(part) for part in bank.version.split("."))


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


def _check_rubric_v22_fields(sections: list[Section], names: dict[str, str],
                             bank: BankFile) -> list[Problem]:
    """A bank before 2.2 (those stored with older assessments among them) is scored as it was
    written: it may not use what 2.2 added, so no field is read by an engine that ignores it."""
    if _version(bank) >= RUBRIC_V22_FROM:
        return []
    return [Problem(names[section.id], f"questions[{i}].{path}",
                    f"new in bank 2.2.0; this bank is {bank.version} (raise its version to use "
                    f"it)")
            for section in sections for i, q in enumerate(section.questions)
            for path in _rubric_v22_fields(q)]


def _check_contradictions(sections: list[Section], bank: BankFile, name: str) -> list[Problem]:
    """Each contradiction's condition names questions of the bank (any of them, in any order:
    it is read once every answer is in) with operators that fit them; new in 2.2."""
    if not bank.contradictions:
        return []
    if _version(bank) < RUBRIC_V22_FROM:
        return [Problem(name, "contradictions", f"new in bank 2.2.0; this bank is "
                                                f"{bank.version} (raise its version to use it)")]
    every = {q.id: q for section in sections for q in section.questions}
    problems = []
    for i, contradiction in enumerate(bank.contradictions):
        for path, compare in contradiction.when.comparisons():
            where = f"contradictions[{i}].when" + (f".{path}" if path else "")
            if compare.q not in every:
                problems.append(Problem(name, f"{where}.q", f"'{compare.q}' is not a question "
                                                            "of this bank"))
            else:
                problems += _check_compare(compare, every, name, where)
    return problems


def _check_stronger_severities(sections: list[Section], names: dict[str, str],
                               bank: BankFile) -> list[Problem]:
    """A `stronger` entry makes the finding worse than the rule's own severity, to one the
    bank's `severities` say how to cap."""
    declared = {rule.id for rule in bank.severities}
    problems = []
    for section in sections:
        for i, q in enumerate(section.questions):
            rule = q.critical
            if rule is None:
                continue
            for k, entry in enumerate(rule.stronger):
                where = f"questions[{i}].critical.stronger[{k}].severity"
                if entry.severity not in declared:
                    problems.append(Problem(names[section.id], where, f"'{entry.severity}' is "
                                            "not one of the bank's severities"))
                elif SEVERITY_ORDER[entry.severity] >= SEVERITY_ORDER[rule.severity]:
                    problems.append(Problem(names[section.id], where, f"'{entry.severity}' is "
                                            f"not worse than the rule's own severity "
                                            f"'{rule.severity}'"))
    return problems


def _bad_token(token: str, q: Question) -> str:
    known = ", ".join(q.tokens()) or "none"
    if token == "not_sure" and not q.not_sure:
        return "'not_sure' is named but the question does not allow 'Not sure' (not_sure: true)"
    return f"'{token}' is not an answer of {q.id} (its answers: {known})"


def _check_compare(compare, seen: dict[str, Question], name: str, path: str) -> list[Problem]:
    target = seen.get(compare.q)
    if target is None:
        return [Problem(name, f"{path}.q", f"'{compare.q}' is not a question that comes before "
                                           "this one (a condition may only look back)")]
    kind = QUESTION_TYPES.get(target.type)
    if kind is None:
        return []
    if compare.op not in kind.operators:
        return [Problem(name, f"{path}.{compare.op}",
                        f"operator '{compare.op}' does not fit a '{target.type}' question; "
                        f"use one of {', '.join(sorted(kind.operators))}")]
    values = compare.value if isinstance(compare.value, tuple) else (compare.value,)
    if compare.op in ("equals", "not_equals", "in", "not_in", "includes", "excludes"):
        tokens = set(target.tokens())
        return [Problem(name, f"{path}.{compare.op}", _bad_token(v, target))
                for v in values if v not in tokens]
    return []


def _check_feeds(q: Question, name: str, where: str) -> list[Problem]:
    if q.feeds is None:
        return []
    wanted = COST_INPUTS.get(q.feeds)
    if wanted is None:
        return [Problem(name, f"{where}.feeds", f"unknown cost-model input '{q.feeds}'; use one "
                                                f"of {', '.join(COST_INPUTS)}")]
    if wanted == "number":
        if q.type not in ("number", "profile"):
            return [Problem(name, f"{where}.feeds", f"'{q.feeds}' takes a number; use a "
                                                    "'profile' or 'number' question")]
        return []
    if q.type != "single":
        return [Problem(name, f"{where}.feeds", f"'{q.feeds}' takes a choice; use a 'single' "
                                                "question")]
    return [Problem(name, f"{where}.choices[{j}].id",
                    f"'{c.id}' is not a value of '{q.feeds}' (use {', '.join(wanted)})")
            for j, c in enumerate(q.choices) if c.id not in wanted]


def _duplicates(ids: list[str]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    out = []
    for i, ident in enumerate(ids):
        if ident in seen:
            out.append((i, ident))
        seen.add(ident)
    return out
