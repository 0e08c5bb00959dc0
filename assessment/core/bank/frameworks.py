"""The CIS Controls v8 and NIST CSF 2.0 reference lists that mappings are checked against."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

# libyaml's C parser when present (it is in the PyPI wheels): the same safe subset, faster.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CIS_FILE = "cis_controls_v8.yaml"
NIST_FILE = "nist_csf_2.yaml"


@dataclass(frozen=True)
class Frameworks:
    cis_safeguards: dict[str, str]  # id -> short title
    cis_ig1: frozenset[str]
    nist_functions: dict[str, str]  # GV -> Govern
    nist_categories: dict[str, str]  # GV.OC -> Organizational Context
    nist_subcategories: dict[str, str]  # GV.OC-01 -> outcome text

    def nist_category_of(self, subcategory: str) -> str:
        return subcategory.split("-")[0]


def load_frameworks(directory: Path) -> Frameworks:
    cis = yaml.load((directory / CIS_FILE).read_text(encoding="utf-8"), Loader=SafeLoader)
    nist = yaml.load((directory / NIST_FILE).read_text(encoding="utf-8"), Loader=SafeLoader)
    safeguards = {s["id"]: s["title"] for c in cis["controls"] for s in c["safeguards"]}
    ig1 = frozenset(s["id"] for c in cis["controls"] for s in c["safeguards"] if 1 in s["ig"])
    functions = {f["id"]: f["name"] for f in nist["functions"]}
    categories = {c["id"]: c["name"] for f in nist["functions"] for c in f["categories"]}
    subcategories = {
        s["id"]: s["text"]
        for f in nist["functions"]
        for c in f["categories"]
        for s in c["subcategories"]
    }
    return Frameworks(safeguards, ig1, functions, categories, subcategories)
