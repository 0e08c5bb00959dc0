"""Email out through an SMTP server (smtplib), configured by two environment variables:

- ITHEALTH_SMTP_URL: smtp://user:password@host:port, smtps://... for TLS from the start (port
  465 by default), or smtp://...?starttls=1 for STARTTLS (port 587 by default); plain smtp://
  uses port 25. A user and password are sent only over TLS, except to a relay on this machine.
  Unset: nothing is sent (the digest prints what it would send).
- ITHEALTH_MAIL_FROM: the sender, "name@example.com" or "Acme IT <name@example.com>"; required
  when the URL is set.

Errors are MailConfigError (the settings: the message says which variable and how to fix it)
and MailError (the server could not be reached or refused); neither message holds the password.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from .inputs import email_problem
from .redact import redact

URL_VARIABLE = "ITHEALTH_SMTP_URL"
FROM_VARIABLE = "ITHEALTH_MAIL_FROM"
TIMEOUT = 30  # seconds to wait for the server at each step
_FORM = ("smtp://user:password@host:port (smtps:// for TLS from the start, ?starttls=1 for "
         "STARTTLS)")
_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class MailConfigError(ValueError):
    """The mail settings cannot work; the message names the variable and how to fix it."""


class MailError(RuntimeError):
    """The server could not be reached, or refused; `sent` messages had gone before."""

    def __init__(self, message: str, sent: int = 0):
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    security: str = "none"  # none, tls (smtps) or starttls
    user: str = ""
    password: str = field(default="", repr=False)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def mail_settings(environ: Mapping[str, str] | None = None) -> MailSettings | None:
    """The settings from the environment (os.environ unless given); None when no SMTP URL is
    set. MailConfigError when the URL is malformed or the sender missing."""
    environ = os.environ if environ is None else environ
    url = environ.get(URL_VARIABLE, "").strip()
    if not url:
        return None
    parts = _parse_url(url)
    sender = environ.get(FROM_VARIABLE, "").strip()
    if not sender:
        raise MailConfigError(f"{FROM_VARIABLE} is not set: set it to the address the emails "
                              f"come from, such as \"Acme IT <roadmap@acme.example>\", when "
                              f"{URL_VARIABLE} is set.")
    _, address = parseaddr(sender)
    if "\n" in sender or "\r" in sender or not address or email_problem(address):
        raise MailConfigError(f"{FROM_VARIABLE}: \"{sender}\" is not an email address; use "
                              "name@example.com or \"Acme IT <name@example.com>\".")
    return MailSettings(sender=sender, **parts)


def _parse_url(url: str) -> dict:
    def refuse(why: str) -> MailConfigError:
        return MailConfigError(f"{URL_VARIABLE}: {why}; expected {_FORM}, "
                               f"not \"{redact(url)}\".")

    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise refuse(f"the scheme must be smtp or smtps, not \"{parts.scheme}\"")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise refuse("the port must be a number from 1 to 65535") from None
    if not host:
        raise refuse("no server name")
    if parts.path not in ("", "/") or parts.fragment:
        raise refuse("nothing may follow the server but ?starttls=1")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise refuse(f"unknown setting {', '.join(unknown)} (the one setting is starttls)")
    starttls = query.get("starttls", ["0"])[-1].lower()
    if starttls not in _YES + _NO:
        raise refuse("starttls must be 1 or 0")
    security = "tls" if parts.scheme == "smtps" else "none"
    if starttls in _YES:
        if security == "tls":
            raise refuse("smtps:// is TLS from the start already: drop ?starttls=1")
        security = "starttls"
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if (user or password) and security == "none" and host not in _LOOPBACK:
        raise refuse("a user and password would cross the network unencrypted: use smtps:// "
                     "or add ?starttls=1")
    default_port = {"tls": 465, "starttls": 587, "none": 25}[security]
    return {"host": host, "port": port or default_port, "security": security, "user": user,
            "password": password}


def message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text email, marked as sent by a program (RFC 3834), so that out-of-office
    replies do not answer it."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    mail["Message-ID"] = make_msgid(domain=domain)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    return mail


def send(settings: MailSettings, messages: Iterable[EmailMessage]) -> tuple[int, list[str]]:
    """Send the messages over one connection: how many went, and the addresses the server
    refused (the others are still sent). MailError when the server cannot be reached, refuses
    the sign-in, or breaks off."""
    context = ssl.create_default_context()
    sent, refused = 0, []
    try:
        server = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT,
                                  context=context) if settings.security == "tls" \
            else smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
        with server:
            if settings.security == "starttls":
                server.starttls(context=context)
            if settings.user:
                server.login(settings.user, settings.password)
            for mail in messages:
                try:
                    server.send_message(mail)
                    sent += 1
                except smtplib.SMTPRecipientsRefused:
                    refused.append(str(mail["To"]))
    except smtplib.SMTPAuthenticationError:
        raise MailError(f"the mail server {settings.where} refused the user and password in "
                        f"{URL_VARIABLE}", sent) from None
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"could not send through the mail server {settings.where}: "
                        f"{redact(error) or type(error).__name__}", sent) from None
    return sent, refused
