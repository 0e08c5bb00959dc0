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
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .checks import (
    BANK_RULES,
    SECTION_RULES,
    SectionContext,
    check_contradictions,
    check_questions,
)
from .frameworks import Frameworks, SafeLoader, load_frameworks
from .models import Bank, BankFile, Section
from .plan_checks import check_plan

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
    problems += [Problem(bank_name, path, message)
                 for rule in BANK_RULES for path, message in rule(bank_file)]

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
        where = SectionContext(bank_file, ref, i, name, bank_name)
        problems += [Problem(*found) for rule in SECTION_RULES for found in rule(section, where)]
        sections.append(section)
    if problems:
        raise BankError(problems)

    problems += [Problem(*found) for found in check_questions(bank_file, sections, names,
                                                              frameworks)]
    problems += [Problem(bank_name, path, message)
                 for path, message in check_contradictions(bank_file, sections)]
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
