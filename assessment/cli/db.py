"""`flask db ...`: create, back up, restore and copy the database, and reopen a SQLite file that
was copied to PostgreSQL."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .. import storage
from ..storage.copy import copied_to, mark_copied, rows_of, unmark
from ..support.audit import audit
from ..support.config import database
from ..support.private_files import tighten
from ..support.redact import has_password, redact

db_cli = AppGroup("db", help="Create, back up, restore and copy the database.")


def connect_or_fail(target: str) -> storage.Admin:
    """The database, or a clean error without the password. Patient: a migration, a copy or an
    integrity check of a large PostgreSQL database may rightly take longer than the few seconds
    a page's statement is allowed."""
    try:
        return storage.connect(target, patient=True)
    except storage.CannotConnect as error:
        raise click.ClickException(redact(error)) from None


@db_cli.command("init")
def db_init() -> None:
    """Create the instance folder, secret key and database, or bring the schema up to date; and
    make them owner-only, also where an older version left them readable by everyone."""
    target = database(current_app.config)
    db = connect_or_fail(target)
    try:
        applied = storage.migrate(db)
    finally:
        db.close()
    tighten(current_app.instance_path)
    storage.make_private(target)
    note = f"applied {', '.join(applied)}" if applied else "schema up to date"
    click.echo(f"Database ready at {storage.describe(target)} ({note}).")


@db_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def db_backup(path: str) -> None:
    """Write a consistent copy of the live database to PATH (SQLite: VACUUM INTO; PostgreSQL:
    pg_dump), then check it."""
    db = connect_or_fail(database(current_app.config))
    try:
        db.backup(path)
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
    db = connect_or_fail(target)
    try:
        db.restore(path)
        storage.migrate(db)
        ok = db.integrity_ok()
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


def _sqlite_file() -> str:
    """The SQLite database `db copy` and `db reopen` work on (ITHEALTH_DATABASE), which must
    exist."""
    path = current_app.config["DATABASE"]
    if not Path(path).is_file():
        raise click.ClickException(f"{path}: no SQLite database there (ITHEALTH_DATABASE "
                                   "names it)")
    return str(path)


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
    source_path = _sqlite_file()
    source = connect_or_fail(source_path)
    try:
        storage.migrate(source)  # a file from an older version gets the table of the mark
        already = copied_to(source)
        if already is not None:
            raise click.ClickException(
                f"{source_path} was already copied to {already.url} on {already.when()}; "
                "nothing was copied. The app runs on PostgreSQL since then, and answers saved "
                "there are not in this file. To copy this file again all the same (into a new, "
                "empty database), first run: flask --app app db reopen")
        target = connect_or_fail(url)
        try:
            copied = storage.copy_database(source, target)
        finally:
            target.close()
        mark = mark_copied(source, url)
    except storage.CopyError as error:
        raise click.ClickException(redact(error)) from None
    finally:
        source.close()
    for table, rows in copied.rows.items():
        click.echo(f"  {table}: {rows_of(rows)}")
    click.echo(f"Copied {rows_of(sum(copied.rows.values()))} in {len(copied.rows)} tables from "
               f"{source_path} to {storage.describe(url)}; row counts match, and so do the "
               f"versions of all {copied.answers} answers.")
    click.echo(f"{source_path} is marked as copied to {mark.url}: the app no longer starts on "
               "it. Set ITHEALTH_DATABASE_URL to that database and start the app again.")


@db_cli.command("reopen")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_reopen(yes: bool) -> None:
    """Let the app start on the SQLite database (ITHEALTH_DATABASE) again after `db copy` marked
    it as copied to PostgreSQL: going back to the file on purpose."""
    path = _sqlite_file()
    db = connect_or_fail(path)
    try:
        mark = copied_to(db)
        if mark is None:
            click.echo(f"{path} is not marked as copied to PostgreSQL; nothing to do.")
            return
        if not yes:
            click.confirm(f"{path} was copied to {mark.url} on {mark.when()}. Answers saved on "
                          "PostgreSQL since then are not in this file, and the app started on "
                          "it will not see them. Start the app on this file again?", abort=True)
        unmark(db)
    finally:
        db.close()
    click.echo(f"{path} is no longer marked as copied: the app starts on it again (without "
               "ITHEALTH_DATABASE_URL).")
