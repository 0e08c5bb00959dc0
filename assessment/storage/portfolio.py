"""The roadmap across a firm's clients, read in a few aggregate queries: the portfolio page's
rows, a client's action history for the exports, and what the digest reminds members of.

Counted in SQL, grouped by client, so that a firm with hundreds of clients and tens of thousands
of actions answers in milliseconds: no action is loaded into Python to be counted. Every query
is scoped to the firm (and leaves archived clients out, as the client list does).
"""

from __future__ import annotations

from datetime import date

from ..core.actions import OPEN, Status
from .actions import finished_scores
from .db import Row, Store

_OPEN = sorted(status.value for status in OPEN)
_OPEN_MARKS = ", ".join(f":open{i}" for i in range(len(_OPEN)))
_OPEN_PARAMS = {f"open{i}": value for i, value in enumerate(_OPEN)}

# A promise and a promise kept, as core.actions.measure counts them: an action agreed at some
# point (it has an original due date), not dropped and not an accepted risk, that is either
# verified or due (by the date first agreed) by the day counted; kept when verified.
# core.actions.measure is the rule; tests/test_portfolio.py holds these counts against it on a
# mixed fixture, so a change to one that the other does not follow fails there.
_VERIFIED = "(status = :verified AND verified_on IS NOT NULL)"
_PROMISE = (f"original_due IS NOT NULL AND status NOT IN (:dropped, :risk_accepted) "
            f"AND ({_VERIFIED} OR original_due <= :today)")
_KEPT = f"original_due IS NOT NULL AND {_VERIFIED}"
_RULE_PARAMS = {"verified": Status.VERIFIED.value, "dropped": Status.DROPPED.value,
                "risk_accepted": Status.RISK_ACCEPTED.value}

_COUNTS = f"""
    SELECT client_id,
           sum(CASE WHEN status IN ({_OPEN_MARKS}) AND due < :today THEN 1 ELSE 0 END)
               AS overdue,
           sum(CASE WHEN {_PROMISE} THEN 1 ELSE 0 END) AS promises,
           sum(CASE WHEN {_KEPT} THEN 1 ELSE 0 END) AS kept
    FROM actions WHERE firm_id = :firm GROUP BY client_id"""  # nosec B608: fixed text

# Each client's latest review (by the period it covers, then the newest made).
_LATEST_REVIEWS = """
    SELECT client_id, next_review, row_number() OVER (
        PARTITION BY client_id ORDER BY period_end DESC, id DESC) AS newest
    FROM reviews WHERE firm_id = :firm"""


def portfolio(db: Store, firm_id: int, today: date) -> list[Row]:
    """One row per client of the firm (archived ones left out), most overdue actions first,
    then by name: id, name, overdue (open actions due before today), promises and kept (as
    core.actions.measure counts them on `today`), next_review (of the client's latest review;
    None when there is none or it sets no date), score and previous (the client's last two
    finished scores, None where there are fewer)."""
    # Plain queries joined here by client id, rather than one with joined subqueries:
    # PostgreSQL without fresh statistics (a table just filled) plans that one as nested loops
    # that aggregate the firm's actions once per client, a hundred times slower.
    clients = db.rows("SELECT id, name FROM clients WHERE firm_id = ? AND archived_at IS NULL",
                      [firm_id])
    counts = {row["client_id"]: row for row in db.rows(
        _COUNTS, {"firm": firm_id, "today": today.isoformat(), **_OPEN_PARAMS, **_RULE_PARAMS})}
    reviews = {row["client_id"]: row["next_review"] for row in db.rows(
        f"SELECT client_id, next_review FROM ({_LATEST_REVIEWS}) r "  # nosec B608: fixed text
        "WHERE newest = 1", {"firm": firm_id})}
    scores: dict[int, list[int]] = {}
    for finished in finished_scores(db, firm_id):  # oldest first
        scores.setdefault(finished["client_id"], []).append(finished["final_score"])
    rows = []
    for client in clients:
        counted = counts.get(client["id"], {})
        last_two = scores.get(client["id"], [])[-2:]
        next_review = reviews.get(client["id"])
        rows.append({**client, **{name: int(counted.get(name) or 0)
                                  for name in ("overdue", "promises", "kept")},
                     "next_review": date.fromisoformat(next_review) if next_review else None,
                     "score": last_two[-1] if last_two else None,
                     "previous": last_two[0] if len(last_two) == 2 else None})
    rows.sort(key=lambda row: (-row["overdue"], row["name"].casefold(), row["id"]))
    return rows


def client_events(db: Store, firm_id: int, client_id: int) -> dict[int, list[Row]]:
    """Every event of the client's actions, by action id, oldest first: at, on_date, who,
    from_status, to_status, reason, due_before, due_after, assessment_id. One query for the
    whole roadmap (the exports), not one per action."""
    rows = db.rows(
        "SELECT e.action_id, e.at, e.on_date, e.who, e.from_status, e.to_status, e.reason, "
        "e.due_before, e.due_after, e.assessment_id FROM action_events e "
        "JOIN actions a ON a.id = e.action_id AND a.firm_id = e.firm_id "
        "WHERE e.firm_id = ? AND a.firm_id = ? AND a.client_id = ? ORDER BY e.action_id, e.id",
        [firm_id, firm_id, client_id])
    events: dict[int, list[Row]] = {}
    for row in rows:
        events.setdefault(row.pop("action_id"), []).append(row)
    return events


def all_firms(db: Store) -> list[Row]:
    """Every firm: id, name and time_zone (the digest goes through them one by one)."""
    return db.rows("SELECT id, name, time_zone FROM firms ORDER BY id")


def due_actions(db: Store, firm_id: int, until: date) -> list[Row]:
    """The firm's open actions due on or before `until` (overdue ones included), of clients
    not archived: id, client_id, client, title, party, person, status, due; by client name,
    then due date."""
    return db.rows(
        f"""SELECT a.id, a.client_id, c.name AS client, a.title, a.party, a.person, a.status,
               a.due
        FROM actions a JOIN clients c ON c.id = a.client_id AND c.firm_id = a.firm_id
        WHERE a.firm_id = :firm AND c.archived_at IS NULL AND a.status IN ({_OPEN_MARKS})
          AND a.due <= :until
        ORDER BY lower(c.name), c.id, a.due, a.id""",  # nosec B608: fixed text
        {"firm": firm_id, "until": until.isoformat(), **_OPEN_PARAMS})


def client_leads(db: Store, firm_id: int) -> dict[int, int]:
    """Who looks after each client: the member who started the client's latest assessment
    (archived ones left out), by client id. A client with none is nobody's but the admins'."""
    rows = db.rows(
        """SELECT client_id, created_by FROM (
            SELECT client_id, created_by, row_number() OVER (
                PARTITION BY client_id ORDER BY created_at DESC, id DESC) AS newest
            FROM assessments
            WHERE firm_id = :firm AND client_id IS NOT NULL AND created_by IS NOT NULL
              AND archived_at IS NULL) latest
        WHERE newest = 1""", {"firm": firm_id})
    return {row["client_id"]: row["created_by"] for row in rows}


def reviews_due(db: Store, firm_id: int, until: date) -> list[Row]:
    """Clients (not archived) whose latest review sets the next one on or before `until`
    (one already passed included: it has not been held): client_id, client, next_review."""
    return db.rows(
        f"""SELECT r.client_id, c.name AS client, r.next_review
        FROM ({_LATEST_REVIEWS}) r
        JOIN clients c ON c.id = r.client_id AND c.firm_id = :firm
        WHERE r.newest = 1 AND r.next_review IS NOT NULL AND r.next_review <= :until
          AND c.archived_at IS NULL
        ORDER BY r.next_review, lower(c.name), c.id""",  # nosec B608: fixed text
        {"firm": firm_id, "until": until.isoformat()})
