"""Command-line tools for bank authors and operators (`flask --app app COMMAND`).

Every error names the file and the field it is about and exits non-zero; no tracebacks.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import plan_text, severity, storage
from .audit import audit
from .bank import Bank, BankError, load_bank
from .bank.frameworks import load_frameworks
from .bank.coverage import coverage, coverage_report
from .bank.weights import shares_table
from .bank.loader import FRAMEWORKS_DIR
from .config import database
from .prices import PriceListError, load_price_list, price_list_file
from .private_files import tighten
from .redact import has_password, redact
from .storage.copy import rows_of
from .scoring import parse_answers, result_to_dict, score

bank_cli = AppGroup("bank", help="Check the question bank and its framework coverage.")
db_cli = AppGroup("db", help="Create, back up, restore and copy the database.")
assess_cli = AppGroup("assess", help="Score answer files and export assessments.")


def _bank_dir(directory: str | None) -> Path:
    return Path(directory) if directory else Path(current_app.config["BANK_DIR"])


def _load_or_fail(directory: Path) -> Bank:
    try:
        return load_bank(directory)
    except BankError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.exceptions.Exit(1) from None


def app_bank() -> Bank:
    bank = current_app.extensions["bank"]
    if bank is None:
        raise click.ClickException(f"the question bank is not valid:\n"
                                   f"{current_app.extensions['bank_error']}")
    return bank


@bank_cli.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def bank_check(directory: str | None) -> None:
    """Validate a bank folder (default: the app's questions/); exit 1 with every problem."""
    folder = _bank_dir(directory)
    bank = _load_or_fail(folder)
    scored = [s for s in bank.sections if s.kind == "scored"]
    click.echo(f"ok: bank {bank.id} {bank.version}: {len(scored)} scored sections, "
               f"{len(bank.questions)} questions, hash {bank.hash[:12]}")
    _check_price_list(folder)


def _check_price_list(folder: Path) -> None:
    """The bank folder's price list (prices/default.yaml), when it has one; exit 1 with every
    problem."""
    path = price_list_file(folder)
    if not path.is_file():
        return
    label = folder.name or str(folder)
    try:
        prices = load_price_list(path, f"{label}/{path.parent.name}/{path.name}")
    except PriceListError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.exceptions.Exit(1) from None
    click.echo(f"ok: price list of {prices.updated}: {len(prices.currencies)} currencies, "
               f"{len(prices.sources)} sources")


@bank_cli.command("coverage")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def bank_coverage(directory: str | None) -> None:
    """Print which CIS Controls v8 IG1 safeguards and NIST CSF 2.0 categories the bank maps."""
    folder = _bank_dir(directory)
    bank = _load_or_fail(folder)
    frameworks_dir = folder / FRAMEWORKS_DIR
    if not frameworks_dir.is_dir():
        frameworks_dir = Path(current_app.config["BANK_DIR"]) / FRAMEWORKS_DIR
    frameworks = load_frameworks(frameworks_dir)
    click.echo(coverage_report(coverage(bank, frameworks), frameworks))


@bank_cli.command("weights")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def bank_weights(directory: str | None) -> None:
    """Print each question's share of the overall score, as docs/methodology.md shows it."""
    click.echo(shares_table(_load_or_fail(_bank_dir(directory))))


@db_cli.command("init")
def db_init() -> None:
    """Create the instance folder, secret key and database, or bring the schema up to date; and
    make them owner-only, also where an older version left them readable by everyone."""
    target = database(current_app.config)
    db = _connect(target)
    try:
        applied = storage.migrate(db)
    finally:
        db.close()
    tighten(current_app.instance_path)
    storage.make_private(target)
    note = f"applied {', '.join(applied)}" if applied else "schema up to date"
    click.echo(f"Database ready at {storage.describe(target)} ({note}).")


def _connect(target: str) -> storage.Store:
    try:
        return storage.connect(target)
    except storage.CannotConnect as error:
        raise click.ClickException(redact(error)) from None


@db_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def db_backup(path: str) -> None:
    """Write a consistent copy of the live database to PATH (SQLite: VACUUM INTO; PostgreSQL:
    pg_dump), then check it."""
    db = _connect(database(current_app.config))
    try:
        storage.backup(db, path)
    except (FileExistsError, RuntimeError) as error:
        raise click.ClickException(redact(error)) from None
    finally:
        db.close()
    audit("backup", path=path, bytes=Path(path).stat().st_size)
    click.echo(f"Backup written to {path} (integrity check ok).")


@db_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_restore(path: str, yes: bool) -> None:
    """Replace the database's contents with the backup at PATH, after checking it."""
    target = database(current_app.config)
    if not yes:
        click.confirm(f"Replace everything in {storage.describe(target)} with {path}?",
                      abort=True)
    db = _connect(target)
    try:
        storage.restore(db, path)
        storage.migrate(db)
        ok = storage.integrity_ok(db)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        raise click.ClickException(redact(error)) from None
    finally:
        db.close()
    audit("restore", path=path, integrity_ok=ok)
    click.echo(f"Restored from {path} (integrity check {'ok' if ok else 'FAILED'}).")
    if not ok:
        raise click.exceptions.Exit(1)


COPY_TO = "ITHEALTH_COPY_TO"


def _copy_target(url: str | None) -> str:
    """The target of `db copy`: `--to URL` (without a password: a command line is seen by every
    user of the machine and kept in shell history), `--to -` (read from standard input), or
    ITHEALTH_COPY_TO."""
    if url == "-":
        stdin = sys.stdin
        if stdin.isatty():
            return click.prompt("PostgreSQL URL of the empty database", hide_input=True,
                                err=True).strip()
        return stdin.readline().strip()
    if url is not None:
        if has_password(url):
            raise click.BadParameter(
                "a password on the command line is seen by every user of this machine and "
                f"kept in shell history; nothing was copied. Put the URL in {COPY_TO}, or pass "
                "--to - and give the URL on standard input, or leave the password out of the "
                "URL and set PGPASSWORD (or ~/.pgpass) instead.", param_hint="--to")
        return url
    url = os.environ.get(COPY_TO) or current_app.config.get("COPY_TO")
    if not url:
        raise click.UsageError(f"say where to copy to: set {COPY_TO}=postgresql://... (the URL "
                               "with its password), or pass --to - and give the URL on "
                               "standard input, or --to URL for a URL without a password.")
    return str(url)


@db_cli.command("copy")
@click.option("--to", "url", metavar="URL|-", default=None,
              help="postgresql://... of an empty database, without a password (or - to read "
                   f"the URL from standard input); default: {COPY_TO}.")
def db_copy(url: str | None) -> None:
    """Copy the SQLite database (ITHEALTH_DATABASE) into an empty PostgreSQL database, then check
    that every table has as many rows and every answer the same version."""
    url = _copy_target(url)
    if not storage.is_url(url):
        raise click.BadParameter("give a postgresql:// URL", param_hint="--to")
    source_path = current_app.config["DATABASE"]
    if not Path(source_path).is_file():
        raise click.ClickException(f"{source_path}: no SQLite database there to copy "
                                   "(ITHEALTH_DATABASE names it)")
    source = _connect(source_path)
    try:
        target = _connect(url)
        try:
            copied = storage.copy_database(source, target)
        finally:
            target.close()
    except storage.CopyError as error:
        raise click.ClickException(redact(error)) from None
    finally:
        source.close()
    for table, rows in copied.rows.items():
        click.echo(f"  {table}: {rows_of(rows)}")
    click.echo(f"Copied {rows_of(sum(copied.rows.values()))} in {len(copied.rows)} tables from "
               f"{source_path} to {storage.describe(url)}; row counts match, and so do the "
               f"versions of all {copied.answers} answers.")


def read_answers_file(path: Path, bank: Bank) -> dict:
    """Read an answers JSON file; any problem is a ClickException naming the file and field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise click.ClickException(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{path}: line {error.lineno}, column {error.colno}: "
                                   f"not valid JSON ({error.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise click.ClickException(f"{path}: answers: expected an object "
                                   '{"answers": {"question.id": value, ...}}')
    if "bank" in data and data["bank"] != bank.id:
        raise click.ClickException(f"{path}: bank: '{data['bank']}' does not match the loaded "
                                   f"bank '{bank.id}'")
    answers, errors = parse_answers(bank, data["answers"])
    if errors:
        raise click.ClickException("\n".join(f"{path}: {e}" for e in errors))
    return answers


@assess_cli.command("score")
@click.argument("answers_file", type=click.Path(dir_okay=False, path_type=Path))
def assess_score(answers_file: Path) -> None:
    """Score an answers JSON file against the current bank and print the result as JSON."""
    bank = app_bank()
    result = score(bank, read_answers_file(answers_file, bank))
    data = severity.with_labels(result_to_dict(result))  # the shown word beside each severity
    data = plan_text.with_costs(data, result)  # what the steps cost, in its own currency
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@assess_cli.command("export")
@click.argument("assessment_id")
def assess_export(assessment_id: str) -> None:
    """Print an assessment with its answers as JSON (the same format `assess score` reads)."""
    db = _connect(database(current_app.config))
    try:
        data = storage.export_assessment(db, assessment_id)
    except storage.NotFound:
        raise click.ClickException(f"no assessment with id '{assessment_id}'") from None
    finally:
        db.close()
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    click.echo()


@click.command("email-check")
@click.argument("domain")
@with_appcontext
def email_check_command(domain: str) -> None:
    """Look up an email domain's SPF, DMARC and common DKIM selectors, as the assessment's check
    does, and print what was found (exit 1 when it could not check, 2 for a bad domain)."""
    from .email_check import DomainError, look_up, normalise_domain

    try:
        name = normalise_domain(domain)
    except DomainError as error:
        click.echo(f"{domain!r} is not an email domain: {error}", err=True)
        raise click.exceptions.Exit(2) from None
    server = current_app.config.get("DNS_SERVER")
    result = look_up(name, server=str(server) if server else None)
    if not result.checked:
        click.echo(f"Could not check {name}: {result.reason}.")
        raise click.exceptions.Exit(1)
    click.echo(f"{name}: {result.summary()}.")
    click.echo(f"Outcome: {result.outcome}")
    for record in result.spf:
        click.echo(f"SPF:   {record}")
    for record in result.dmarc:
        click.echo(f"DMARC: {record}")
    if not result.dkim_complete:
        click.echo("Some DKIM selectors got no answer in time.")


def init_app(app: Flask) -> None:
    from .accounts_cli import users_cli
    from .report.cli import renders_cli, report_cli  # imports this module: registered here

    for group in (bank_cli, db_cli, assess_cli, users_cli, report_cli, renders_cli):
        app.cli.add_command(group)
    app.cli.add_command(email_check_command)
