"""Benchmark: render the full report of a reference answer set and compare with Chromium.

    .venv/bin/python benchmarks/bench_report.py [ANSWERS.json] [--runs 5]
    .venv/bin/python benchmarks/bench_report.py --all     # one line per reference answer set

Prints, for the report of tests/fixtures/break_fix_untested_backups.json by default:
- the median of N warm renders in a render worker (WeasyPrint imported and fonts loaded once);
- the worker's peak resident memory (VmHWM, read from /proc while it is alive);
- the median of N prints of the same report's HTML by headless Chromium (a fresh browser each
  time, as a command-line print is), alternating with our renders, and the ratio of the two;
- the time to fetch the already-rendered report from the cache (key + file read).
Targets from the issue: ratio <= 1.0, peak memory < 200 MB, cached fetch < 50 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment.bank import load_bank  # noqa: E402
from assessment.report import (  # noqa: E402
    RenderPool, ReportCache, ReportInput, render_html, render_print_html)
from assessment.scoring import parse_answers, score  # noqa: E402

DEFAULT_ANSWERS = ROOT / "tests" / "fixtures" / "break_fix_untested_backups.json"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


def report_input(path: Path) -> ReportInput:
    bank = load_bank(ROOT / "questions")
    raw = json.loads(path.read_text(encoding="utf-8"))["answers"]
    answers, errors = parse_answers(bank, raw)
    if errors:
        raise SystemExit("\n".join(errors))
    return ReportInput(result=score(bank, answers),
                       business_name=str(raw.get("profile.business_name", "")),
                       assessed_on=date(2025, 3, 12))


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def chromium_print(html_path: Path, out: Path, profile: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                    f"--print-to-pdf={out}", html_path.as_uri()],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def compare(report: ReportInput, pool: RenderPool, runs: int, chromium: str | None):
    """Median render times, ours and Chromium's (None without it), the last PDF, its pages."""
    html = render_print_html(report)
    pdf = pool.render(html)  # one warm-up render of this report
    times, chrome, chrome_pages = [], [], None
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        page = folder / "report.html"
        page.write_text(render_html(report), encoding="utf-8")
        # Runs alternate between the two, so a busy machine slows both alike.
        for run in range(runs):
            started = time.perf_counter()
            pdf = pool.render(html)
            times.append(time.perf_counter() - started)
            if chromium:
                chrome.append(chromium_print(page, folder / "chromium.pdf",
                                             folder / f"profile-{run}"))
        if chromium:
            chrome_pages = page_count((folder / "chromium.pdf").read_bytes())
    return times, chrome, pdf, chrome_pages


def every_reference_set(pool: RenderPool, runs: int, chromium: str | None) -> None:
    """One line per reference answer set: how the ratio depends on the report's length."""
    for path in sorted((ROOT / "tests" / "fixtures").glob("*.json")):
        times, chrome, pdf, _ = compare(report_input(path), pool, runs, chromium)
        ours = statistics.median(times)
        line = f"{path.name}: {page_count(pdf)} pages, ours {ours:.2f} s"
        if chrome:
            theirs = statistics.median(chrome)
            line += f", chromium {theirs:.2f} s, ratio {ours / theirs:.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", nargs="?", type=Path, default=DEFAULT_ANSWERS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--all", action="store_true",
                        help="compare the ratio for every reference answer set, one line each")
    args = parser.parse_args()

    chromium = shutil.which("chromium")
    pool = RenderPool(workers=1, timeout=300)
    pool.warm_up()
    if args.all:
        every_reference_set(pool, args.runs, chromium)
        pool.shutdown()
        return
    report = report_input(args.answers)
    times, chrome, pdf, chrome_pages = compare(report, pool, args.runs, chromium)
    ours = statistics.median(times)
    pages = page_count(pdf)

    with tempfile.TemporaryDirectory() as folder:
        cache = ReportCache(folder, pool=pool)
        cache.get_or_render(report)
        fetches = []
        for _ in range(20):
            started = time.perf_counter()
            cache.get_or_render(report)
            fetches.append(time.perf_counter() - started)
        assert cache.renders == 1
    cached_ms = statistics.median(fetches) * 1000

    hwm_mb = pool.peak_rss_mb()
    pool.shutdown()
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak_mb = hwm_mb  # ru_maxrss of children includes Chromium's processes once they ran

    print(f"report: {args.answers.name}, {pages} pages, {len(pdf) / 1024:.0f} KiB")
    print(f"WeasyPrint {version('weasyprint')}: median of {args.runs} warm renders "
          f"{ours:.2f} s (min {min(times):.2f}, max {max(times):.2f})")
    print(f"render worker peak memory (VmHWM): {peak_mb:.0f} MB "
          f"(ru_maxrss of all children, Chromium included: {children_mb:.0f} MB)")
    print(f"cached fetch (key + read): median {cached_ms:.1f} ms")
    if not chromium:
        print("chromium: not installed, comparison skipped")
        return
    theirs = statistics.median(chrome)
    print(f"chromium --print-to-pdf of the same HTML: median of {args.runs} {theirs:.2f} s "
          f"(min {min(chrome):.2f}, max {max(chrome):.2f}), {chrome_pages} pages")
    print(f"ratio ours / chromium: {ours / theirs:.2f} (target <= 1.0)")
    print(f"targets: ratio {'met' if ours <= theirs else 'MISSED'}, memory "
          f"{'met' if peak_mb < 200 else 'MISSED'}, cached fetch "
          f"{'met' if cached_ms < 50 else 'MISSED'}")

if __name__ == "__main__":
    main()
