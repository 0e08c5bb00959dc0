"""`flask --app app roadmap ...`: the roadmap's reminders.

`roadmap digest` emails each active member of each firm their own digest of overdue actions,
those due within a week and the reviews coming up, by client (core/digest.py decides what each
member sees and writes it). It sends through
ITHEALTH_SMTP_URL (support/mail.py); without it, or with --dry-run, it prints what it would send
and sends nothing. Errors name the variable or option they are about; no tracebacks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import click
from flask import current_app
from flask.cli import AppGroup

from ..core import digest as digests
from ..storage import accounts
from ..storage import portfolio as store
from ..storage.actions import expire_firm_risks
from ..support import mail
from ..support.config import database
from .common import connect_or_fail

roadmap_cli = AppGroup("roadmap", help="The living roadmap: reminders of due actions.")


@roadmap_cli.command("digest")
@click.option("--dry-run", is_flag=True,
              help="Print the emails that would be sent, and send nothing.")
@click.option("--firm", "firm_name", metavar="NAME", help="Only the members of this firm.")
def digest_command(dry_run: bool, firm_name: str | None) -> None:
    """Email each firm member their overdue and due actions and their coming reviews."""
    try:
        settings = mail.mail_settings()
    except mail.MailConfigError as error:
        raise click.ClickException(str(error)) from None
    # Without settings nothing is sent, and the printout shows no sender.
    letters = _letters(firm_name, settings.sender if settings else "nobody@localhost")
    if not letters:
        click.echo("Nothing is due in the next week and no review is coming up: no digest "
                   "to send.")
        return
    if dry_run or settings is None:
        for letter in letters:
            click.echo(f"To: {letter['To']}\nSubject: {letter['Subject']}\n\n"
                       f"{letter.get_content()}\n{'-' * 72}")
        why = "--dry-run" if dry_run else f"{mail.URL_VARIABLE} is not set"
        click.echo(f"{len(letters)} digest{'s' if len(letters) != 1 else ''} not sent "
                   f"({why}).")
        return
    try:
        sent, refused = mail.send(settings, letters)
    except mail.MailError as error:
        raise click.ClickException(f"{error} ({error.sent} of {len(letters)} digests sent "
                                   "before that).") from None
    click.echo(f"Sent {sent} digest{'s' if sent != 1 else ''} through {settings.where}.")
    if refused:
        raise click.ClickException("the mail server refused these addresses: "
                                   + ", ".join(refused))


def _letters(firm_name: str | None, sender: str) -> list[EmailMessage]:
    """One email for each active member of each firm (or of the one named) with anything due
    that they see (core/digest.Reader); accepted risks whose date has passed are brought back
    first, as the pages do."""
    db = connect_or_fail(database(current_app.config))
    try:
        firms = store.all_firms(db)
        if firm_name is not None:
            found = accounts.find_firm_by_name(db, firm_name)
            if found is None:
                raise click.ClickException(f"--firm: there is no firm called "
                                           f"'{firm_name.strip()}'; check the spelling")
            firms = [f for f in firms if f["id"] == found["id"]]
        roadmap, portfolio = _links()
        letters = []
        for firm in firms:
            today = digests.today_in(firm["time_zone"])
            expire_firm_risks(db, firm["id"], today)
            letters += _firm_letters(db, firm, today, sender, roadmap, portfolio)
        return letters
    finally:
        db.close()


def _firm_letters(db, firm, today, sender: str, roadmap: Callable[[int], str],
                  portfolio: str) -> list[EmailMessage]:
    """Each active member's digest of one firm, for those who have anything in it: an admin
    sees every client, a consultant the clients they look after and the actions naming them."""
    due = store.due_actions(db, firm["id"], today + timedelta(days=digests.DUE_DAYS))
    reviews = store.reviews_due(db, firm["id"], today + timedelta(days=digests.REVIEW_DAYS))
    if not due and not reviews:
        return []
    leads = store.client_leads(db, firm["id"])
    letters = []
    for member in accounts.list_members(db, firm["id"]):
        if not member.active:
            continue
        reader = digests.Reader(
            member.name, member.email, everything=member.is_admin,
            leads=frozenset(client for client, lead in leads.items() if lead == member.id))
        digest = digests.build(due, reviews, today, reader)
        if not digest.empty:
            body = digests.text(digest, reader=reader, firm=firm["name"], roadmap=roadmap,
                                portfolio=portfolio)
            letters.append(mail.message(sender, member.email,
                                        digests.subject(digest, firm["name"]), body))
    return letters


def _links() -> tuple[Callable[[int], str], str]:
    """A client's roadmap address and the portfolio's: full addresses when the app knows its
    own (SERVER_NAME), else paths of the workspace."""
    config = current_app.config
    server = config.get("SERVER_NAME")
    urls = current_app.url_map.bind(server or "localhost",
                                    script_name=config.get("APPLICATION_ROOT") or "/",
                                    url_scheme=config.get("PREFERRED_URL_SCHEME") or "http")

    def roadmap(client_id: int) -> str:
        return urls.build("workspace.roadmap", {"client_id": client_id},
                          force_external=bool(server))

    return roadmap, urls.build("workspace.portfolio", force_external=bool(server))
