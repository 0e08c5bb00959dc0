"""`flask report render`: reports from answer files, one or many, without the web app.

    flask --app app report render answers.json --out report.pdf
    flask --app app report render a.json b.json c.json --out-dir reports/ --brand brand.yaml
    flask --app app report render answers.json --out report.html --html
    flask --app app report render answers.json --out full.pdf --full

An answers file is what `flask assess score` reads ({"answers": {...}}); the export of
`flask assess export` works too, and then its notes, verification marks and the owner's answers
appear in the report. Optional keys: "business_name", "assessed_on" (YYYY-MM-DD).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..scoring import parse_answer, score
from .brandfile import BrandFileError, load_brand_file
from .html import render_html
from .models import DEFAULT_BRANDING, Branding, ReportInput
from .pool import RenderError, get_pool

report_cli = AppGroup("report", help="Render assessment reports as PDF or HTML.")


def _label(question, raw) -> str | None:
    try:
        answer = parse_answer(question, raw)
    except ValueError:
        return None
    if answer.state == "not_sure":
        return "Not sure"
    if answer.state == "na":
        return "Does not apply"
    return question.kind.display(question, answer.value)


def report_input_from_file(path: Path, bank, branding: Branding) -> ReportInput:
    from ..cli import read_answers_file  # here, not at import time: assessment.cli imports us

    answers = read_answers_file(path, bank)
    data = json.loads(path.read_text(encoding="utf-8"))
    result = score(bank, answers)

    name = data.get("business_name")
    if not isinstance(name, str):
        raw_name = data["answers"].get("profile.business_name")
        name = raw_name if isinstance(raw_name, str) else ""
    assessed_on = date.today()
    when = data.get("assessed_on") or (data.get("assessment") or {}).get("finished_at")
    if isinstance(when, str) and when:
        try:
            assessed_on = date.fromisoformat(when[:10])
        except ValueError:
            raise click.ClickException(f"{path}: assessed_on: expected a date like "
                                       f"2025-03-12") from None

    notes: dict[str, str] = {}
    verified: dict[str, bool] | None = None
    owner_answers: dict[str, str] = {}
    records = data.get("records")
    if isinstance(records, list):
        by_source: dict[str, dict[str, dict]] = {}
        for record in records:
            if isinstance(record, dict) and isinstance(record.get("question_id"), str):
                by_source.setdefault(str(record.get("source")), {})[record["question_id"]] = record
        for source in ("owner", "consultant"):  # the consultant's note wins
            for qid, record in by_source.get(source, {}).items():
                if isinstance(record.get("note"), str) and record["note"].strip():
                    notes[qid] = record["note"]
        consultant = by_source.get("consultant", {})
        if consultant:
            verified = {qid: bool(r.get("verified")) for qid, r in consultant.items()}
            for qid, record in by_source.get("owner", {}).items():
                question = bank.question_by_id.get(qid)
                if question is None or qid not in consultant or record.get("answer") is None:
                    continue
                if record.get("answer") != consultant[qid].get("answer"):
                    label = _label(question, record["answer"])
                    if label:
                        owner_answers[qid] = label
    elif isinstance(data.get("notes"), dict):
        notes = {str(k): str(v) for k, v in data["notes"].items() if isinstance(v, str)}
    return ReportInput(result=result, business_name=name, assessed_on=assessed_on,
                       branding=branding, notes=notes, verified=verified,
                       owner_answers=owner_answers)


@report_cli.command("render")
@click.argument("answers_files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the report (one answers file).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports (several answers files), named after each file.")
@click.option("--brand", type=click.Path(dir_okay=False, path_type=Path),
              help="BRAND.yaml: firm_name, logo, primary, accent, contact, disclaimer.")
@click.option("--html", "as_html", is_flag=True, help="Write standalone HTML instead of PDF.")
@click.option("--full", is_flag=True,
              help="The full report (with the risk register and every answer) instead of the "
                   "leadership report.")
def render_command(answers_files: tuple[Path, ...], out: Path | None, out_dir: Path | None,
                   brand: Path | None, as_html: bool, full: bool) -> None:
    """Render the report of each ANSWERS_FILE against the current question bank (the leadership
    report, or with --full the full report)."""
    from ..cli import app_bank

    if out and out_dir:
        raise click.UsageError("give --out or --out-dir, not both")
    if len(answers_files) > 1 and not out_dir:
        raise click.UsageError("several answers files need --out-dir")
    if not out and not out_dir:
        raise click.UsageError("give --out FILE (or --out-dir DIR)")
    try:
        branding = load_brand_file(brand) if brand else DEFAULT_BRANDING
    except BrandFileError as error:
        raise click.ClickException(str(error)) from None
    bank = app_bank()
    suffix = ".html" if as_html else ".pdf"
    targets = [(path, out if out else out_dir / f"{path.stem}{suffix}") for path in answers_files]
    inputs = [(replace(report_input_from_file(path, bank, branding), full=full), target)
              for path, target in targets]
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)

    def write(report: ReportInput, target: Path) -> None:
        if as_html:
            target.write_text(render_html(report), encoding="utf-8")
            return
        from .html import render_print_html

        try:
            target.write_bytes(get_pool().render(render_print_html(report)))
        except RenderError as error:
            raise click.ClickException(f"{target}: {error}") from None

    if len(inputs) == 1:
        write(*inputs[0])
        click.echo(f"Wrote {inputs[0][1]}")
        return
    if as_html:
        with click.progressbar(inputs, label="Rendering reports") as bar:
            for report, target in bar:
                write(report, target)
    else:
        from .html import render_print_html

        pool = get_pool()
        futures = [(pool.submit(render_print_html(report)), target) for report, target in inputs]
        with click.progressbar(futures, label="Rendering reports") as bar:
            for future, target in bar:
                try:
                    target.write_bytes(future.result())
                except RenderError as error:
                    raise click.ClickException(f"{target}: {error}") from None
    click.echo(f"Wrote {len(inputs)} reports to {out_dir}")


renders_cli = AppGroup("renders",
                       help="Render reports from the shared queue (ITHEALTH_RENDER_QUEUE).")


def _queue_url() -> str:
    url = current_app.config.get("RENDER_QUEUE")
    if not url:
        raise click.ClickException(
            "no render queue is set: set ITHEALTH_RENDER_QUEUE=redis://host:port/0 (the same "
            "value as the web instances). Without it each web process renders its own reports "
            "and there is nothing to consume.")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise click.ClickException(
            f"ITHEALTH_RENDER_QUEUE must be a Redis URL (redis://host:port/0, rediss://... or "
            f"unix:///path/to/redis.sock), not {url!r}")
    return url


@renders_cli.command("work")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Renders at once (default: the number of processor cores).")
def renders_work(workers: int | None) -> None:
    """Render queued reports until stopped, with the app's per-render time and memory limits.

    Needs only ITHEALTH_RENDER_QUEUE: the pages on the queue are self-contained, so the consumer
    never opens the database. Ctrl-C finishes the renders under way first; a consumer killed
    outright loses nothing (the web instances put its jobs back)."""
    import logging

    from redis import Redis
    from redis.exceptions import RedisError

    from .pool import configure_pool
    from .queue import run_consumer

    url = _queue_url()
    try:
        Redis.from_url(url).ping()
    except RedisError as error:
        raise click.ClickException(
            f"the render queue at {url} cannot be reached: {error}") from None
    count = workers or os.cpu_count() or 1
    configure_pool(workers=count, timeout=float(current_app.config["REPORT_TIMEOUT"]),
                   memory_mb=int(current_app.config["REPORT_MEMORY_MB"]))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo(f"starting {count} render worker(s); Ctrl-C to stop")
    run_consumer(url, count)


@renders_cli.command("status")
def renders_status() -> None:
    """How many reports wait on the queue, how many are being rendered, and how many were."""
    from redis.exceptions import RedisError

    from .queue import queue_status

    url = _queue_url()
    try:
        status = queue_status(url)
    except RedisError as error:
        raise click.ClickException(
            f"the render queue at {url} cannot be reached: {error}") from None
    click.echo(f"waiting: {status['waiting']}  rendering: {status['rendering']}  "
               f"rendered so far: {status['rendered']}")
