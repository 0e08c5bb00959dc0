"""Core figures: bank load-and-validate time, scoring throughput, answer-save throughput.

    .venv/bin/python benchmarks/bench_core.py

Targets (issue "Core"): load under 150 ms, over 10,000 scorings per second on one core, over 300
single-answer saves per second with synchronous=FULL. The saves go to a file in instance/ so they
hit the same disk the app uses.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment.bank import Answer, load_bank  # noqa: E402
from assessment.scoring import parse_answers, score  # noqa: E402
from assessment.storage import connect, create_assessment, migrate, save_answer  # noqa: E402


def bench_load(runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        load_bank(ROOT / "questions")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def sample_answers(bank):
    fixtures = sorted((ROOT / "tests" / "fixtures").glob("*.json"))
    if fixtures:
        answers, errors = parse_answers(bank, json.loads(fixtures[0].read_text())["answers"])
        if not errors:
            return answers, fixtures[0].name
    # No fixture: the first choice of every choice question.
    return ({q.id: Answer("answered", q.choices[0].id) for q in bank.questions
             if q.type in ("single", "yesno")}, "first choice everywhere")


def bench_scoring(bank, answers, seconds: float = 3.0) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        score(bank, answers)
        count += 1
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
        sync = db.execute("PRAGMA synchronous").fetchone()[0]
        db.close()
    return saves / elapsed, sync


def main() -> None:
    bank = load_bank(ROOT / "questions")
    answers, source = sample_answers(bank)
    load_ms = bench_load()
    per_second = bench_scoring(bank, answers)
    saves, sync = bench_saves(bank)
    print(f"bank: {bank.id} {bank.version}, {len(bank.questions)} questions")
    print(f"bank load and validate: {load_ms:.1f} ms (median of 20; target < 150 ms)")
    print(f"scoring: {per_second:,.0f} assessments/s on one core ({source}; target > 10,000)")
    print(f"answer saves: {saves:,.0f} saves/s with synchronous={'FULL' if sync == 2 else sync}, "
          f"WAL, one transaction each (target > 300)")


if __name__ == "__main__":
    main()
