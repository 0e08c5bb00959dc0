"""`flask assess ...` (score an answers file, export an assessment) and `flask email-check`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .. import storage
from ..core import plan_text, severity
from ..core.scoring import result_to_dict, score
from ..support.config import database
from ..support.email_check import DomainError, look_up, normalise_domain
from .common import app_bank, connect_or_fail, read_answers_file

assess_cli = AppGroup("assess", help="Score answer files and export assessments.")


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
    db = connect_or_fail(database(current_app.config))
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
