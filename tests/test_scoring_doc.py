"""The worked example in docs/scoring.md is computed here from the doc's own blocks, so the
document and the code cannot disagree."""

from __future__ import annotations

import json
import re

from assessment.core.bank import load_bank
from assessment.core.scoring import parse_answers, score

from .conftest import ROOT

DOC = (ROOT / "docs" / "scoring.md").read_text(encoding="utf-8")


def blocks(kind: str) -> dict[str, str]:
    return dict(re.findall(rf"```{kind} file=(\S+)\n(.*?)```", DOC, re.S))


def expected() -> dict[str, str]:
    body = re.search(r"```text expected\n(.*?)```", DOC, re.S).group(1)
    return dict(line.split(" = ", 1) for line in body.strip().splitlines())


def test_worked_example_matches_the_code(tmp_path):
    folder = tmp_path / "example"
    folder.mkdir()
    for name, body in blocks("yaml").items():
        (folder / name).write_text(body)
    bank = load_bank(folder)
    answers, errors = parse_answers(bank, json.loads(blocks("json")["answers.json"])["answers"])
    assert errors == []
    result = score(bank, answers)
    want = expected()

    assert str(result.score) == want["score"]
    assert result.band.id == want["band"]
    assert result.uncapped_band.id == want["uncapped_band"]
    for section in result.sections:
        assert str(section.score) == want[f"section {section.section.id}"]
    assert ", ".join(f.outcome.question.id for f in result.critical_findings) == want["critical"]
    assert ", ".join(a.id for a in result.actions) == want["recommendations"]
    for phase in result.roadmap:
        got = f"{phase.projected_score} {phase.projected_band.id}"
        assert got == want[f"phase {phase.days}"]
    assert f"{result.score_range.low} {result.score_range.high}" == want["range today"]
    first = result.roadmap[0].projected_range
    assert f"{first.low} {first.high}" == want["range 30"]
    assert str(result.provisional) == want["provisional"]
