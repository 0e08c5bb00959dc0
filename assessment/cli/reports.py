"""`flask report render`: reports from answer files, one or many, without the web app.

    flask --app app report render answers.json --out report.pdf
    flask --app app report render a.json b.json c.json --out-dir reports/ --brand brand.yaml
    flask --app app report render answers.json --out report.html --html
    flask --app app report render answers.json --out full.pdf --full

An answers file is what `flask assess score` reads ({"answers": {...}}); an export
(`flask assess export`, or the JSON export of the web) works too, and then the report is the one
the web gives for that assessment: the same answers, score and plan, notes, verification marks
and the owner's answers (with --for-client, the client's report, without the firm's private
notes). Optional keys: "business_name", "assessed_on" (YYYY-MM-DD).
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

from ..core.bank import AnswerError
from ..core.scoring import parse_answer
from ..core.viewpoint import BUSINESS, CONSULTANT, FIRM, OWNER, SOURCES, Record, view
from ..report.brandfile import BrandFileError, load_brand_file
from ..report.html import render_html, render_print_html
from ..report.models import DEFAULT_BRANDING, Branding, ReportInput
from ..report.pool import RenderError, get_pool
from ..support.redact import redact
from .common import app_bank, read_answers_file

report_cli = AppGroup("report", help="Render assessment reports as PDF or HTML.")


def _records(data: dict, answers: dict, bank, path: Path) -> list[Record]:
    """The records of an export (`flask assess export`, the web's JSON export), or for a plain
    answers file its answers as the business's own, with any "notes" it has."""
    raw = data.get("records")
    if not isinstance(raw, list):
        notes = data.get("notes") if isinstance(data.get("notes"), dict) else {}
        return [Record(qid, OWNER, answer, note=str(notes.get(qid) or ""))
                for qid, answer in answers.items()]
    records = []
    for i, item in enumerate(raw):
        where = f"{path}: records[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("question_id"), str) \
                or item.get("source") not in SOURCES:
            raise click.ClickException(f"{where}: expected question_id, and source owner or "
                                       f"consultant")
        question = bank.question_by_id.get(item["question_id"])
        if question is None:
            raise click.ClickException(f"{where}.question_id: no question "
                                       f"{item['question_id']} in bank {bank.id} {bank.version}")
        answer = None
        if item.get("answer") is not None:
            try:
                answer = parse_answer(question, item["answer"])
            except AnswerError as error:
                raise click.ClickException(f"{where}.answer: {error}") from None
        records.append(Record(question.id, item["source"], answer,
                              note=item["note"] if isinstance(item.get("note"), str) else "",
                              verified=item.get("verified") is True,
                              note_shared=item.get("note_shared") is True))
    return records


def report_input_from_file(path: Path, bank, branding: Branding, *,
                           for_client: bool = False) -> ReportInput:
    """The report of an answers file or an export, made from what the assessment says to its
    viewer (viewpoint.py), as the web makes it: the firm's report by default, the client's with
    for_client (the firm's private notes left out)."""
    answers = read_answers_file(path, bank)
    data = json.loads(path.read_text(encoding="utf-8"))
    records = _records(data, answers, bank, path)
    about = data.get("assessment") if isinstance(data.get("assessment"), dict) else {}
    firm = about.get("firm")
    seen = view(bank, records, viewer=BUSINESS if for_client else FIRM,
                firm_involved=firm if isinstance(firm, bool)
                else any(r.source == CONSULTANT for r in records),
                finished=about.get("status") == "finished")
    assessed_on = date.today()
    when = data.get("assessed_on") or about.get("finished_at") or about.get("updated_at")
    if isinstance(when, str) and when:
        try:
            assessed_on = date.fromisoformat(when[:10])
        except ValueError:
            raise click.ClickException(f"{path}: assessed_on: expected a date like "
                                       f"2025-03-12") from None
    report = ReportInput.of_view(seen, assessed_on=assessed_on, branding=branding)
    name = data.get("business_name")
    return replace(report, business_name=name) if isinstance(name, str) and name else report


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
@click.option("--for-client", is_flag=True,
              help="The client's report: the firm's notes not marked for the client left out "
                   "(default: the firm's own report, with every note).")
def render_command(answers_files: tuple[Path, ...], out: Path | None, out_dir: Path | None,
                   brand: Path | None, as_html: bool, full: bool, for_client: bool) -> None:
    """Render the report of each ANSWERS_FILE against the current question bank (the leadership
    report, or with --full the full report)."""
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
    inputs = [(replace(report_input_from_file(path, bank, branding, for_client=for_client),
                       full=full), target)
              for path, target in targets]
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)

    def write(report: ReportInput, target: Path) -> None:
        if as_html:
            target.write_text(render_html(report), encoding="utf-8")
            return
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
            f"unix:///path/to/redis.sock), not {redact(url)!r}")
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

    from ..report.pool import configure_pool
    from ..report.queue import run_consumer

    url = _queue_url()
    try:
        Redis.from_url(url).ping()
    except RedisError as error:
        raise click.ClickException(
            f"the render queue at {redact(url)} cannot be reached: {redact(error)}") from None
    count = workers or os.cpu_count() or 1
    configure_pool(workers=count, timeout=float(current_app.config["REPORT_TIMEOUT"]),
                   memory_mb=int(current_app.config["REPORT_MEMORY_MB"]))
    # One handler for every line (the app's, Huey's): Flask's own handler on the app's logger
    # would write each of the app's lines a second time.
    from flask.logging import default_handler

    current_app.logger.removeHandler(default_handler)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    click.echo(f"starting {count} render worker(s); Ctrl-C to stop")
    run_consumer(url, count)


@renders_cli.command("status")
def renders_status() -> None:
    """How many reports wait on the queue, how many are being rendered, and how many were."""
    from redis.exceptions import RedisError

    from ..report.queue import queue_status

    url = _queue_url()
    try:
        status = queue_status(url)
    except RedisError as error:
        raise click.ClickException(
            f"the render queue at {redact(url)} cannot be reached: {redact(error)}") from None
    click.echo(f"waiting: {status['waiting']}  rendering: {status['rendering']}  "
               f"rendered so far: {status['rendered']}")
    _echo_consumers(url)


def _echo_consumers(url: str) -> None:
    """The live consumers (from their heartbeats) and how long the oldest render has waited."""
    from redis import Redis

    from ..report.queue import live_consumers, oldest_waiting_age

    redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        consumers, oldest = live_consumers(redis), oldest_waiting_age(redis)
    finally:
        redis.close()
    if oldest is not None:
        click.echo(f"oldest waiting: {oldest:.0f} s")
    click.echo(f"live consumers: {len(consumers)}")
    for beat in consumers:
        click.echo(f"  {beat['host']}  pid {beat['pid']}  {beat['workers']} worker(s)  "
                   f"up {beat['age']:.0f} s")
