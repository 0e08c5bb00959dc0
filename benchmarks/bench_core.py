"""Core figures: bank load-and-validate time, scoring throughput, answer-save throughput.

    .venv/bin/python benchmarks/bench_core.py

Targets (issue "Core"): load under 150 ms, over 10,000 scorings per second on one core, over 300
single-answer saves per second with synchronous=FULL. The saves go to a file in instance/ so they
hit the same disk the app uses. A scoring is timed twice: as a page of questions uses it (scores,
band, outcomes), and with the plan and the what-if projections read too, as the results page and
the report do (a result works those out when first asked for).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment.core.bank import Answer, load_bank  # noqa: E402
from assessment.core.scoring import parse_answers, score  # noqa: E402
from assessment.storage import connect, create_assessment, migrate, save_answer  # noqa: E402


def bench_load(runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        load_bank(ROOT / "questions")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


RANDOM_SETS = 2000  # far more than the scoring remembers per question (256)


def reference_sets(bank) -> dict[str, dict]:
    """The reference answer sets shipped in tests/fixtures, by file name."""
    sets = {}
    for path in sorted((ROOT / "tests" / "fixtures").glob("*.json")):
        answers, errors = parse_answers(bank, json.loads(path.read_text())["answers"])
        if not errors:
            sets[path.name] = answers
    return sets


def random_set(bank, rng: random.Random) -> dict:
    """Every question answered at random, "Not sure" and N/A included where allowed: distinct
    answer sets keep any per-answer shortcut honest."""
    answers = {}
    for q in bank.questions:
        roll = rng.random()
        if q.not_sure and roll < 0.1:
            answers[q.id] = Answer.not_sure()
        elif q.na and roll < 0.15:
            answers[q.id] = Answer.na()
        elif q.type in ("single", "yesno"):
            answers[q.id] = Answer("answered", rng.choice(q.choices).id)
        elif q.type == "multi":
            chosen = {c.id for c in q.choices if rng.random() < 0.5} or {q.choices[0].id}
            answers[q.id] = Answer("answered", tuple(c.id for c in q.choices if c.id in chosen))
        elif q.type == "scale":
            answers[q.id] = Answer("answered", rng.randint(int(q.min), int(q.max)))
        elif q.type in ("number", "profile"):
            low = int(q.min if q.min is not None else 0)
            high = int(min(q.max if q.max is not None else 10**6, 10**6))
            answers[q.id] = Answer("answered", rng.randint(low, high))
        else:
            answers[q.id] = Answer("answered", f"note {rng.randint(0, 10**6)}")
    return answers


def with_plan(result) -> tuple:
    """Read what the results page and the report read besides the scores: the plan and the
    what-if projections, which a result works out when first asked for."""
    return result.roadmap, result.critical_findings, result.provisional


def bench_scoring(bank, answer_sets: list[dict], seconds: float = 3.0,
                  read=lambda result: None) -> float:
    """Scorings per second, cycling through the given answer sets; `read` is what is read of
    each result (nothing: the scores, band and outcomes a page of questions needs)."""
    for answers in answer_sets:  # warm up: the bank's scoring rules are built on first use
        read(score(bank, answers))
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for answers in answer_sets:
            read(score(bank, answers))
        count += len(answer_sets)
    return count / (time.perf_counter() - start)


def bench_saves(bank, saves: int = 2000) -> tuple[float, int]:
    (ROOT / "instance").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "instance") as folder:
        db = connect(Path(folder) / "bench.sqlite")
        migrate(db)
        assessment_id = create_assessment(db, bank)
        versions: dict[str, int] = {}
        questions = [q for q in bank.questions if q.type in ("single", "yesno")]
        start = time.perf_counter()
        for i in range(saves):
            q = questions[i % len(questions)]
            saved = save_answer(db, assessment_id, q.id, base_version=versions.get(q.id, 0),
                                answer=Answer("answered", q.choices[i % len(q.choices)].id),
                                client_key=f"bench-{i}")
            versions[q.id] = saved.version
        elapsed = time.perf_counter() - start
        sync = db.one("PRAGMA synchronous")["synchronous"]
        db.close()
    return saves / elapsed, sync


def main() -> None:
    bank = load_bank(ROOT / "questions")
    references = reference_sets(bank)
    rng = random.Random(2026)
    mixed = list(references.values()) + [random_set(bank, rng) for _ in range(RANDOM_SETS)]
    worst = max(references, key=lambda name: len(score(bank, references[name]).actions))
    load_ms = bench_load()
    mixed_rate = bench_scoring(bank, mixed)
    planned_rate = bench_scoring(bank, mixed, read=with_plan)
    worst_rate = bench_scoring(bank, [references[worst]])
    worst_planned = bench_scoring(bank, [references[worst]], read=with_plan)
    saves, sync = bench_saves(bank)
    print(f"bank: {bank.id} {bank.version}, {len(bank.questions)} questions")
    print(f"bank load and validate: {load_ms:.1f} ms (median of 20; target < 150 ms)")
    print(f"scoring: {mixed_rate:,.0f} assessments/s on one core, {len(mixed)} distinct complete "
          f"answer sets (the reference sets and {RANDOM_SETS:,} random ones; target > 10,000)")
    print(f"scoring with the plan and projections read: {planned_rate:,.0f} assessments/s, "
          f"the same answer sets")
    print(f"scoring, worst reference set: {worst_rate:,.0f} assessments/s, "
          f"{worst_planned:,.0f}/s with the plan ({worst}, "
          f"{len(score(bank, references[worst]).actions)} recommendations triggered)")
    print(f"answer saves: {saves:,.0f} saves/s with synchronous={'FULL' if sync == 2 else sync}, "
          f"WAL, one transaction each (target > 300)")


if __name__ == "__main__":
    main()
