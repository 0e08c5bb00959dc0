"""A firm member's reminder of the roadmap: the actions overdue and due within a week, and the
reviews coming up, by client, as a short plain-text email. Pure: rows and dates in, text out;
the command (cli/roadmap.py) reads the rows and sends the text.

Each member gets their own: an admin runs the firm and sees every client; a consultant sees the
clients they look after (they ran the client's latest assessment) and any action that names
them as its person, wherever it is. Actions naming the reader say so ("you").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..support.zones import zone_of
from .actions import OPEN, Status

DUE_DAYS = 7  # "due soon": within a week
REVIEW_DAYS = 14  # reviews two weeks ahead: time to prepare them
PER_CLIENT = 5  # actions listed per client; the rest are on its roadmap
CLIENTS = 20  # clients listed, most overdue first; the rest are on the portfolio
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Who does it, as the workspace says it: the IT provider may be the firm itself (a managed
# provider) or the client's own (the firm consults), so it is named by its role.
WHO = {"provider": "the IT provider", "client": "the client", "vendor": "another vendor"}


@dataclass(frozen=True)
class Due:
    client_id: int
    client: str
    title: str
    party: str
    person: str
    due: date
    yours: bool = False


@dataclass(frozen=True)
class Reader:
    """Whom a digest is for. `everything`: an admin's digest, every client of the firm;
    otherwise the clients in `leads` and the actions whose person names them."""
    name: str
    email: str
    everything: bool
    leads: Collection[int] = ()

    def is_named(self, person: str) -> bool:
        """Whether an action's person (free text) names this reader: their email, their name,
        or their name followed by more ("Ana Smith at Northgate IT"), in any case."""
        said = " ".join(person.split()).casefold()
        name = " ".join(self.name.split()).casefold()
        if not said or not name:
            return False
        if said == self.email.strip().casefold():
            return True
        return said == name or bool(re.match(re.escape(name) + r"(?![\w'-])", said))

    def reads(self, client_id: int, person: str = "") -> bool:
        return self.everything or client_id in self.leads or self.is_named(person)


@dataclass(frozen=True)
class ClientDigest:
    client_id: int
    client: str
    overdue: tuple[Due, ...] = ()
    due_soon: tuple[Due, ...] = ()
    review: date | None = None


@dataclass(frozen=True)
class Digest:
    today: date
    clients: tuple[ClientDigest, ...]

    @property
    def empty(self) -> bool:
        return not self.clients

    @property
    def overdue(self) -> int:
        return sum(len(c.overdue) for c in self.clients)

    @property
    def due_soon(self) -> int:
        return sum(len(c.due_soon) for c in self.clients)

    @property
    def reviews(self) -> int:
        return sum(c.review is not None for c in self.clients)


def today_in(zone_name: str | None, now: datetime | None = None) -> date:
    """Today's date in a firm's time zone (UTC for none, or a name this machine does not know):
    what the workspace counts "overdue" from, so the email says what the pages say."""
    return (now or datetime.now(UTC)).astimezone(zone_of(zone_name)).date()


def build(actions: Iterable[Mapping], reviews: Iterable[Mapping], today: date,
          reader: Reader | None = None) -> Digest:
    """The digest of a firm's open actions due within DUE_DAYS (or overdue) and its reviews
    due within REVIEW_DAYS (rows as storage.portfolio.due_actions and reviews_due give them),
    as `reader` sees them (None: the whole firm): clients with the most overdue first, then by
    name."""
    soon = today + timedelta(days=DUE_DAYS)
    overdue: dict[int, list[Due]] = {}
    due_soon: dict[int, list[Due]] = {}
    names: dict[int, str] = {}
    for row in actions:
        if Status(row["status"]) not in OPEN or not row["due"]:
            continue
        due = date.fromisoformat(row["due"])
        person = row["person"] or ""
        if due > soon or (reader is not None and not reader.reads(row["client_id"], person)):
            continue
        item = Due(row["client_id"], row["client"], row["title"], row["party"], person, due,
                   yours=reader is not None and reader.is_named(person))
        names[item.client_id] = item.client
        (overdue if due < today else due_soon).setdefault(item.client_id, []).append(item)
    review_on: dict[int, date] = {}
    for row in reviews:
        on = date.fromisoformat(row["next_review"]) if row["next_review"] else None
        if reader is not None and not reader.reads(row["client_id"]):
            continue
        if on is not None and on <= today + timedelta(days=REVIEW_DAYS):
            review_on[row["client_id"]] = on
            names[row["client_id"]] = row["client"]
    clients = [ClientDigest(client_id, name,
                            tuple(sorted(overdue.get(client_id, []), key=lambda d: d.due)),
                            tuple(sorted(due_soon.get(client_id, []), key=lambda d: d.due)),
                            review_on.get(client_id))
               for client_id, name in names.items()]
    clients.sort(key=lambda c: (-len(c.overdue), c.client.casefold(), c.client_id))
    return Digest(today, tuple(clients))


def day(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def subject(digest: Digest, firm: str) -> str:
    parts = []
    if digest.overdue:
        parts.append(f"{digest.overdue} overdue")
    if digest.due_soon:
        parts.append(f"{digest.due_soon} due this week")
    if digest.reviews:
        parts.append(_plural(digest.reviews, "review") + " coming up")
    return f"{firm} roadmap: " + ", ".join(parts)


def _who(item: Due) -> str:
    person = f"{item.person}: you" if item.yours else (item.person or "nobody named yet")
    return f"Who: {WHO.get(item.party, item.party)} ({person})"


def _line(item: Due, today: date) -> str:
    if item.due < today:
        late = (today - item.due).days
        when = f"overdue: due {day(item.due)}, {_plural(late, 'day')} ago"
    elif item.due == today:
        when = "due today"
    else:
        when = f"due {day(item.due)}"
    return f"  - {item.title} ({when}). {_who(item)}."


def text(digest: Digest, *, reader: Reader, firm: str, roadmap: Callable[[int], str],
         portfolio: str) -> str:
    """The email's body: a greeting, one block per client (its overdue actions, those due soon,
    its review, the link to its roadmap), the link to the portfolio, and what the email covers
    for this reader."""
    counts = []
    if digest.overdue:
        counts.append(_plural(digest.overdue, "action") + " overdue")
    if digest.due_soon:  # "3 actions overdue, 2 due within 7 days" names actions once
        due = str(digest.due_soon) if digest.overdue else _plural(digest.due_soon, "action")
        counts.append(f"{due} due within {DUE_DAYS} days")
    if digest.reviews:
        counts.append(_plural(digest.reviews, "quarterly review") + " to hold")
    whose = f"{firm}'s client roadmaps" if reader.everything else "your client roadmaps"
    lines = [f"Hello {reader.name},", "",
             f"What needs attention in {whose} on {day(digest.today)}: "
             + ", ".join(counts) + ".", ""]
    for client in digest.clients[:CLIENTS]:
        lines.append(client.client)
        listed = [*client.overdue, *client.due_soon]
        lines.extend(_line(item, digest.today) for item in listed[:PER_CLIENT])
        if len(listed) > PER_CLIENT:
            lines.append(f"  - and {len(listed) - PER_CLIENT} more on the roadmap.")
        if client.review is not None:
            said = "was due" if client.review < digest.today else "is due"
            lines.append(f"  - The quarterly review {said} on {day(client.review)}.")
        lines.append(f"  Roadmap: {roadmap(client.client_id)}")
        lines.append("")
    if len(digest.clients) > CLIENTS:
        lines += [f"And {_plural(len(digest.clients) - CLIENTS, 'more client')} with work "
                  "due: see the portfolio.", ""]
    lines += [f"Every client at a glance: {portfolio}", "",
              (f"You receive this as an admin of {firm}: it covers every client. "
               if reader.everything else
               f"You receive this as a member of {firm}: it covers the clients whose latest "
               "assessment you ran, and actions that name you. ")
              + "Actions are counted as of today in your firm's time zone."]
    return "\n".join(lines) + "\n"
