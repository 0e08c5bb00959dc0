"""`flask users ...`: create a firm's first admin (and other members) from the command line.

Errors name the option they are about and exit non-zero; no tracebacks. The password is read
with a hidden prompt (twice), or from standard input with --password-stdin for scripts; it is
never echoed or logged.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..storage import accounts
from ..storage.accounts import AccountError
from ..support import inputs
from ..support.config import database
from .common import connect_or_fail  # a clean error, without the password

users_cli = AppGroup("users", help="Create firm members (the first admin of a firm).")


def _fail(field: str, message: str) -> click.ClickException:
    return click.ClickException(f"--{field.replace('_', '-')}: {message}")


def _read_password(from_stdin: bool, email: str) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n")
        password = password.removesuffix("\r")
        if not password:
            raise _fail("password-stdin", "no password on standard input; send it as the "
                                          "first line")
    else:
        password = click.prompt("Password", hide_input=True,
                                confirmation_prompt="Type the password again")
    problem = inputs.password_problem(password, email)
    if problem:
        raise _fail("password", problem)
    return password


@users_cli.command("create")
@click.option("--admin", is_flag=True,
              help="Make the member an admin of a new firm (see --join-existing-firm).")
@click.option("--firm", required=True, help="The firm's name.")
@click.option("--email", required=True, help="The member's email address; they sign in with it.")
@click.option("--name", required=True, help="The member's name, as others will see it.")
@click.option("--join-existing-firm", is_flag=True,
              help="With --admin: add the admin to the existing firm of this name instead of "
                   "creating a firm.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
def users_create(admin: bool, firm: str, email: str, name: str, join_existing_firm: bool,
                 password_stdin: bool) -> None:
    """Create a member of a firm: `--admin` for a new firm's first admin."""
    problem = inputs.email_problem(email)
    if problem:
        raise _fail("email", problem)
    problem = inputs.name_problem(name)
    if problem:
        raise _fail("name", problem)
    if not firm.strip():
        raise _fail("firm", "Enter the firm's name.")
    db = connect_or_fail(database(current_app.config))
    try:
        if accounts.find_user_by_email(db, email):
            raise _fail("email", "a member with this email address already exists; choose "
                                 "another address")
        existing = accounts.find_firm_by_name(db, firm)
        if existing is None and (join_existing_firm or not admin):
            raise _fail("firm", f"there is no firm called '{firm.strip()}'; create its first "
                                "admin with --admin (without --join-existing-firm), or check "
                                "the spelling")
        # An admin can see and change everything of their firm: a new customer's admin must not
        # land in another firm because the names happen to match.
        if existing is not None and admin and not join_existing_firm:
            raise _fail("firm", f"a firm called '{existing['name']}' already exists. To make "
                                "this person an admin of that firm, run the command again with "
                                "--join-existing-firm; for a new firm, choose another name")
        password = _read_password(password_stdin, email)
        with db.write():
            firm_id = existing["id"] if existing else accounts.create_firm(db, firm)
            user_id = accounts.create_user(db, firm_id, email, name, password,
                                           role="admin" if admin else "consultant")
    except AccountError as error:
        raise _fail(error.field, error.message) from None
    finally:
        db.close()
    role = "admin" if admin else "consultant"
    firm_note = "existing firm" if existing else "new firm"
    click.echo(f"Created {role} {name.strip()} <{inputs.normalise_email(email)}> "
               f"(member {user_id}) in {firm_note} '{firm.strip()}' (firm {firm_id}).")
    click.echo("They can now sign in at /account/sign-in.")


@users_cli.command("set-password")
@click.option("--email", required=True, help="The member's email address.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Give a member a new password (a forgotten one); ends their sign-ins and any lockout."""
    db = connect_or_fail(database(current_app.config))
    try:
        member = accounts.find_user_by_email(db, email)
        if member is None:
            raise _fail("email", "no member has this email address; check the spelling")
        password = _read_password(password_stdin, member.email)
        accounts.set_password(db, member.firm_id, member.id, password)
    except AccountError as error:
        raise _fail(error.field, error.message) from None
    finally:
        db.close()
    click.echo(f"New password set for {member.name} <{member.email}>; they were signed out "
               "everywhere.")
