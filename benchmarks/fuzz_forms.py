"""A long run of the form fuzzing in tests/test_fuzz_forms.py: the same targets and strategies,
many more examples, and counts instead of a stop at the first failure.

    .venv/bin/python benchmarks/fuzz_forms.py                      # 2,000 examples per target
    .venv/bin/python benchmarks/fuzz_forms.py --examples 200 --only owner-text branding

Prints, per target and in total: requests sent, values refused with a 4xx and a message, values
stored and shown back exactly (escaped), 5xx answers (target 0) and other failures of the
property (a value stored but not shown back exactly, a refusal without a message, ...), with
the first few failures of each kind. Exits 1 when any 5xx or other failure was seen.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, settings  # noqa: E402

from assessment.report import shutdown_pool  # noqa: E402
from tests import test_fuzz_forms as fuzz  # noqa: E402

SHOW_FAILURES = 3


def run(name: str, examples: int, folder: Path) -> tuple[Counter, dict[str, list[str]]]:
    counts: Counter = Counter()
    failures: dict[str, list[str]] = {}
    before = fuzz.STATS["requests"]

    def record(check) -> None:
        try:
            counts[check()] += 1
        except AssertionError as error:
            message = str(error).splitlines()[0]
            kind = "5xx" if message.startswith("5xx") else "failed"
            counts[kind] += 1
            # One line per kind of failure: the message up to the first value it quotes.
            shape = f"{kind}: " + re.split(r"['\"{(\[]", message, maxsplit=1)[0][:70]
            seen = failures.setdefault(shape, [])
            if len(seen) < SHOW_FAILURES:
                seen.append(message[:300])

    configured = settings(max_examples=examples, deadline=None, database=None,
                          phases=[Phase.generate],
                          suppress_health_check=list(HealthCheck))
    fuzz.run_target(name, fuzz.make_world(folder), configured, record)
    counts["requests"] = fuzz.STATS["requests"] - before
    return counts, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per target")
    parser.add_argument("--only", nargs="*", choices=sorted(fuzz.TARGETS),
                        help="run only these targets")
    args = parser.parse_args()
    names = args.only or list(fuzz.TARGETS)
    total: Counter = Counter()
    header = f"{'target':<20}{'requests':>10}{'4xx':>8}{'echoed':>8}{'5xx':>6}{'failed':>8}" \
             f"{'seconds':>9}"
    print(f"{args.examples} examples per target")
    print(header)
    print("-" * len(header))
    all_failures = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for name in names:
                started = time.perf_counter()
                counts, failures = run(name, args.examples, Path(scratch) / name)
                took = time.perf_counter() - started
                total.update(counts)
                all_failures[name] = failures
                print(f"{name:<20}{counts['requests']:>10}{counts['refused']:>8}"
                      f"{counts['echoed']:>8}{counts['5xx']:>6}{counts['failed']:>8}"
                      f"{took:>9.1f}", flush=True)
    finally:
        shutdown_pool()
    print("-" * len(header))
    print(f"{'total':<20}{total['requests']:>10}{total['refused']:>8}{total['echoed']:>8}"
          f"{total['5xx']:>6}{total['failed']:>8}")
    print(f"\nrequests: {total['requests']}; refused with a 4xx and a message: "
          f"{total['refused']}; stored and echoed exactly: {total['echoed']}; "
          f"5xx: {total['5xx']} (target 0); other failures: {total['failed']} (target 0)")
    for name, failures in all_failures.items():
        for shape, messages in failures.items():
            print(f"\n{name}, {shape}")
            for message in messages:
                print(f"  - {message}")
    return 1 if total["5xx"] or total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
