"""`flask bank ...`: check the question bank and price list, and show its coverage and weights."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..core.bank.coverage import coverage, coverage_report
from ..core.bank.frameworks import load_frameworks
from ..core.bank.loader import FRAMEWORKS_DIR
from ..core.bank.weights import shares_table
from ..core.prices import PriceListError, load_price_list, price_list_file
from .common import bank_dir, load_or_fail

bank_cli = AppGroup("bank", help="Check the question bank and its framework coverage.")


@bank_cli.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def bank_check(directory: str | None) -> None:
    """Validate a bank folder (default: the app's questions/); exit 1 with every problem."""
    folder = bank_dir(directory)
    bank = load_or_fail(folder)
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
    folder = bank_dir(directory)
    bank = load_or_fail(folder)
    frameworks_dir = folder / FRAMEWORKS_DIR
    if not frameworks_dir.is_dir():
        frameworks_dir = Path(current_app.config["BANK_DIR"]) / FRAMEWORKS_DIR
    frameworks = load_frameworks(frameworks_dir)
    click.echo(coverage_report(coverage(bank, frameworks), frameworks))


@bank_cli.command("weights")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def bank_weights(directory: str | None) -> None:
    """Print each question's share of the overall score, as docs/methodology.md shows it."""
    click.echo(shares_table(load_or_fail(bank_dir(directory))))
