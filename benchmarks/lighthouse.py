"""Lighthouse scores of the owner's pages: Performance, Accessibility, Best Practices and SEO, on
Lighthouse's mobile preset, in Debian's Chromium.

    .venv/bin/python benchmarks/lighthouse.py [--json]

Serves the app under gunicorn with a throwaway database, makes a finished assessment from a
reference answer set, and runs Lighthouse (node_modules, installed by `make test`'s `npm ci`)
once per page: the landing page with no assessment open, and a section, the overview (hub),
check answers and the results with that assessment open in the session. Prints one row per page
with the four category scores out of 100, and below it every audit that kept a score under 100.
Target: 100 in every category on every page.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from serve import ROOT, gunicorn

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
NAMES = {"performance": "Performance", "accessibility": "Accessibility",
         "best-practices": "Best Practices", "seo": "SEO"}
PAGES = [  # (name, path, with the assessment open)
    ("landing", "/", False),
    ("section", "/assessment/section/backup", True),
    ("overview (hub)", "/assessment/", True),
    ("check answers", "/assessment/review", True),
    ("results", "/assessment/results", True),
]
ANSWERS = ROOT / "tests" / "fixtures" / "break_fix_untested_backups.json"


def finished_assessment(database: Path, secret: str) -> str:
    """A finished assessment of the reference answers; returns its resume path."""
    sys.path.insert(0, str(ROOT))
    from assessment import create_app
    from tests.e2e.wizard_helpers import make_finished_assessment

    app = create_app({"SECRET_KEY": secret, "DATABASE": str(database)})
    answers = json.loads(ANSWERS.read_text(encoding="utf-8"))["answers"]
    return make_finished_assessment(app, answers)


def session_cookie(port: int, resume_path: str) -> str:
    """The session cookie a browser gets from opening the private link."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", resume_path)
    response = connection.getresponse()
    response.read()
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    raise RuntimeError(f"opening the private link set no session cookie ({response.status})")


def lighthouse(url: str, cookie: str | None) -> dict:
    command = [str(LIGHTHOUSE), url, "--output=json", "--output-path=stdout", "--quiet",
               f"--chrome-flags={CHROME_FLAGS}",
               "--only-categories=" + ",".join(CATEGORIES)]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CHROME_PATH": CHROMIUM})
    if done.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def shortfalls(report: dict) -> list[str]:
    """The audits that count towards a category's score and scored under 1."""
    found = []
    for key in CATEGORIES:
        for ref in report["categories"][key]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref.get("weight", 0) > 0 and audit.get("score") is not None \
                    and audit["score"] < 1:
                found.append(f"{NAMES[key]}: {audit['title']} ({audit.get('displayValue', '')}"
                             f"{', ' if audit.get('displayValue') else ''}score "
                             f"{round(audit['score'] * 100)})")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: run `npm ci` (or `make test`) first.")
    if not Path(CHROMIUM).exists():
        sys.exit("Debian's Chromium is not installed: apt-get install chromium")

    with tempfile.TemporaryDirectory() as folder:
        database, secret = Path(folder) / "lighthouse.sqlite", "lighthouse-benchmark"
        resume = finished_assessment(database, secret)
        env = {"ITHEALTH_DATABASE": str(database), "ITHEALTH_SECRET_KEY": secret,
               "ITHEALTH_REPORT_DIR": str(Path(folder) / "reports")}
        with gunicorn("app:app", env=env, workers=1, threads=4) as port:
            cookie = session_cookie(port, resume)
            scores, notes = {}, {}
            for name, path, opened in PAGES:
                url = f"http://127.0.0.1:{port}{path}"
                report = lighthouse(url, cookie if opened else None)
                if report.get("finalDisplayedUrl", url).split("#")[0] != url:
                    raise RuntimeError(f"{name}: {url} ended at {report['finalDisplayedUrl']}")
                scores[name] = {NAMES[k]: round(report["categories"][k]["score"] * 100)
                                for k in CATEGORIES}
                notes[name] = shortfalls(report)

    if args.json:
        print(json.dumps(scores, indent=2))
        return
    width = max(len(name) for name in scores)
    print(f"{'page':<{width}}  " + "  ".join(f"{NAMES[k]:>14}" for k in CATEGORIES))
    for name, row in scores.items():
        print(f"{name:<{width}}  " + "  ".join(f"{row[NAMES[k]]:>14}" for k in CATEGORIES))
    for name, lines in notes.items():
        for line in lines:
            print(f"  {name}: {line}")


if __name__ == "__main__":
    main()
