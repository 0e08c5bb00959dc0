"""What every command shares: the app's bank, a database connection that fails cleanly, and
reading an answers file. Every error names the file and the field it is about; no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app

from .. import storage
from ..core.bank import Bank, BankError, load_bank
from ..core.scoring import parse_answers
from ..support.redact import redact


def bank_dir(directory: str | None) -> Path:
    return Path(directory) if directory else Path(current_app.config["BANK_DIR"])


def load_or_fail(directory: Path) -> Bank:
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


def connect_or_fail(target: str) -> storage.Admin:
    try:
        return storage.connect(target)
    except storage.CannotConnect as error:
        raise click.ClickException(redact(error)) from None


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
