"""`flask roadmap digest`, on both engines, sending through a real SMTP server on loopback
(aiosmtpd): each active member of a firm with actions overdue or due this week gets one email of
their own, by client (an admin: every client; a consultant: the clients they look after and the
actions naming them); nobody else gets one; bad mail settings are a clear error; a dry run sends
nothing."""

from __future__ import annotations

import email
import email.policy
import ssl
from datetime import UTC, date, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from assessment.core.actions import Action, Status
from assessment.storage import accounts, actions, clients, connect
from assessment.storage.times import stamp
from assessment.support import mail
from assessment.support.config import database

from .postgres_cluster import free_port
from .test_tls import certificates  # noqa: F401 - the fixture: a private CA, a localhost certificate
from .workspace_fixtures import make_member

pytestmark = pytest.mark.both_backends

TODAY = datetime.now(UTC).date()  # the firms' zone is UTC (the default)
SENDER = "Roadmap <roadmap@northgate.example>"


class Inbox:
    """aiosmtpd's handler: every message the server accepts, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="module")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def inbox(smtp_server, monkeypatch):
    """The server's inbox, emptied; ITHEALTH_SMTP_URL and ITHEALTH_MAIL_FROM point at it."""
    controller, inbox = smtp_server
    inbox.messages.clear()
    monkeypatch.setenv("ITHEALTH_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    monkeypatch.setenv("ITHEALTH_MAIL_FROM", SENDER)
    return inbox


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def add(db, firm: int, client: int, title: str, status: Status, due: int | None, *,
        party: str = "provider", person: str = "", until: int | None = None) -> int:
    return actions.add_action(db, firm, Action(
        id=None, client_id=client, title=title, why="", workstream="Backup", party=party,
        status=status, person=person, due=days(due) if due is not None else None,
        original_due=days(due) if due is not None else None,
        accepted_by="Owner" if until is not None else "",
        accepted_until=days(until) if until is not None else None), who="assessment",
        on=days(-30))


@pytest.fixture
def firms(app, bank):
    """Northgate IT: an admin (Ana), a consultant who ran the bakery's latest assessment (Ben),
    a consultant with nothing of theirs due (Dee), a disabled one (Cy). Harbour Dental: an
    overdue action, one due this week naming Ben. The bakery: one due this week, one next
    month, a review in ten days. An accepted risk whose date has passed. Elsewhere Ltd: one
    member, and only an action due next month."""
    ana = make_member(app, email="ana@northgate.example", name="Ana Smith")
    ben = make_member(app, email="ben@northgate.example", name="Ben Jones", role="consultant")
    make_member(app, email="dee@northgate.example", name="Dee Long", role="consultant")
    cy = make_member(app, email="cy@northgate.example", name="Cy Gone", role="consultant")
    eve = make_member(app, firm="Elsewhere Ltd", email="eve@elsewhere.example")
    db = connect(database(app.config))
    try:
        firm = ana["firm_id"]
        accounts.set_active(db, firm, cy["user_id"], False)
        harbour = clients.create_client(db, firm, name="Harbour Dental")
        bakery = clients.create_client(db, firm, name="Brightwater Bakery")
        clients.start_client_assessment(db, bank, firm, harbour, mode="interview",
                                        created_by=ana["user_id"])
        clients.start_client_assessment(db, bank, firm, bakery, mode="interview",
                                        created_by=ben["user_id"])
        add(db, firm, harbour, "Turn on two-step sign-in for email", Status.AGREED, -4,
            person="Sam Patel")
        add(db, firm, harbour, "Check the firewall rules", Status.AGREED, 2,
            person="ben  jones (Northgate IT)")
        add(db, firm, bakery, "Test restoring the backup", Status.IN_PROGRESS, 3,
            party="client", person="Jo")
        add(db, firm, bakery, "Replace the old router", Status.AGREED, 30)
        add(db, firm, harbour, "Already verified", Status.VERIFIED, -10)
        risk = add(db, firm, harbour, "Keep the old server", Status.PROPOSED, None)
        with db.write():  # accepted until yesterday: the digest brings it back first
            db.execute("UPDATE actions SET status = ?, accepted_by = 'Owner', "
                       "accepted_until = ? WHERE id = ?",
                       [Status.RISK_ACCEPTED.value, days(-1).isoformat(), risk])
            made = stamp()
            db.insert("reviews", {"firm_id": firm, "client_id": bakery,
                                  "period_start": days(-95).isoformat(),
                                  "period_end": days(-5).isoformat(),
                                  "next_review": days(10).isoformat(),
                                  "created_at": made, "updated_at": made})
        elsewhere = clients.create_client(db, eve["firm_id"], name="Elsewhere Pharmacy")
        add(db, eve["firm_id"], elsewhere, "Elsewhere's next-month task", Status.AGREED, 30)
    finally:
        db.close()
    return {"firm": firm, "harbour": harbour, "bakery": bakery, "risk": risk}


def test_each_member_with_something_due_gets_one_email(app, runner, firms, inbox):
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code == 0, result.output
    assert "Sent 2 digests" in result.output
    # Active members with work of theirs due: one each. A consultant with nothing of theirs
    # due, a disabled member, a firm with nothing due this week: none.
    assert len(inbox.to("ana@northgate.example")) == 1
    assert len(inbox.to("ben@northgate.example")) == 1
    for nobody in ("dee@northgate.example", "cy@northgate.example", "eve@elsewhere.example"):
        assert inbox.to(nobody) == [], nobody
    assert len(inbox.messages) == 2

    mail = inbox.to("ana@northgate.example")[0]
    assert mail["From"] == SENDER and mail["Auto-Submitted"] == "auto-generated"
    assert "1 overdue" in mail["Subject"] and "2 due this week" in mail["Subject"]
    body = mail.get_content()
    assert body.startswith("Hello Ana Smith,")
    # The admin's: every client. The overdue action under its client, with who does it; then
    # those due this week.
    harbour = body.index("Harbour Dental")
    overdue = body.index("Turn on two-step sign-in for email")
    assert harbour < overdue and "4 days ago" in body[overdue:overdue + 120]
    assert "Who: the IT provider (Sam Patel)" in body
    assert "Who: the IT provider (ben  jones (Northgate IT))" in body
    assert "Test restoring the backup" in body and "Who: the client (Jo)" in body
    assert f"review is due on {days(10).day} {days(10).strftime('%b %Y')}" in body
    assert f"/workspace/clients/{firms['harbour']}/roadmap" in body
    assert "/workspace/portfolio" in body
    assert "as an admin of Northgate IT: it covers every client" in body
    # Not due yet, already verified, or another firm's: not in it.
    for absent in ("Replace the old router", "Already verified", "Elsewhere"):
        assert absent not in body

    # The consultant's: the bakery they look after (its action and review), and the Harbour
    # action that names them, marked as theirs; not Harbour's other action.
    mail = inbox.to("ben@northgate.example")[0]
    assert "1 overdue" not in mail["Subject"] and "2 due this week" in mail["Subject"]
    body = mail.get_content()
    assert body.startswith("Hello Ben Jones,") and "your client roadmaps" in body
    assert "Test restoring the backup" in body and "review is due on" in body
    assert "Check the firewall rules" in body
    assert "Who: the IT provider (ben  jones (Northgate IT): you)" in body
    assert "Turn on two-step sign-in for email" not in body
    assert "the clients whose latest assessment you ran, and actions that name you" in body

    db = connect(database(app.config))
    try:  # the accepted risk whose date passed is back for a decision
        assert actions.get_action(db, firms["firm"], firms["risk"]).status is Status.PROPOSED
    finally:
        db.close()


def test_a_dry_run_prints_and_sends_nothing(runner, firms, inbox):
    result = runner.invoke(args=["roadmap", "digest", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "To: ana@northgate.example" in result.output
    assert "Turn on two-step sign-in for email" in result.output
    assert "2 digests not sent (--dry-run)" in result.output
    assert inbox.messages == []


def test_without_a_mail_server_it_prints_what_it_would_send(runner, firms, monkeypatch):
    monkeypatch.delenv("ITHEALTH_SMTP_URL", raising=False)
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code == 0, result.output
    assert "To: ben@northgate.example" in result.output
    assert "ITHEALTH_SMTP_URL is not set" in result.output


def test_one_firm_only(runner, firms, inbox):
    result = runner.invoke(args=["roadmap", "digest", "--firm", "elsewhere ltd"])
    assert result.exit_code == 0, result.output
    assert "no digest to send" in result.output and inbox.messages == []
    result = runner.invoke(args=["roadmap", "digest", "--firm", "Nobody & Co"])
    assert result.exit_code != 0 and "--firm: there is no firm called 'Nobody & Co'" \
        in result.output


@pytest.mark.parametrize("url, said", [
    ("smtp://127.0.0.1:not-a-port", "port must be a number"),
    ("http://127.0.0.1:25", "scheme must be smtp or smtps"),
    ("smtp://", "no server name"),
    ("smtp://user:s3cret-pw@mail.example:25", "unencrypted"),
    ("smtps://mail.example?starttls=1", "drop ?starttls=1"),
    ("smtp://mail.example?tls=yes", "unknown setting tls"),
    ("smtp://mail.example/inbox", "nothing may follow the server"),
])
def test_a_malformed_smtp_url_says_what_is_wrong(url, said):
    with pytest.raises(mail.MailConfigError) as refused:
        mail.mail_settings({"ITHEALTH_SMTP_URL": url, "ITHEALTH_MAIL_FROM": SENDER})
    assert str(refused.value).startswith("ITHEALTH_SMTP_URL: ") and said in str(refused.value)
    assert "s3cret-pw" not in str(refused.value)


@pytest.mark.parametrize("url, expected", [
    ("smtp://127.0.0.1", ("127.0.0.1", 25, "none", "")),
    ("smtp://relay.example?starttls=1", ("relay.example", 587, "starttls", "")),
    ("smtps://ann%40acme.example:p%3Ass@mail.example", ("mail.example", 465, "tls",
                                                       "ann@acme.example")),
    ("smtp://user:pw@localhost:2525", ("localhost", 2525, "none", "user")),
])
def test_a_good_smtp_url_is_read(url, expected):
    settings = mail.mail_settings({"ITHEALTH_SMTP_URL": url, "ITHEALTH_MAIL_FROM": SENDER})
    assert (settings.host, settings.port, settings.security, settings.user) == expected
    assert "p:ss" not in repr(settings)  # never printed by accident
    assert mail.mail_settings({}) is None  # unset: nothing is sent


def test_a_bad_url_stops_the_command_with_a_clear_error(runner, inbox, monkeypatch):
    monkeypatch.setenv("ITHEALTH_SMTP_URL", "smtps://ann:s3cret-pw@mail.example:port")
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code == 1
    assert "Error: ITHEALTH_SMTP_URL: the port must be a number" in result.output
    assert "Traceback" not in result.output and "s3cret-pw" not in result.output
    assert inbox.messages == []


def test_a_missing_sender_or_a_server_away_is_a_clear_error(runner, firms, inbox, monkeypatch):
    monkeypatch.delenv("ITHEALTH_MAIL_FROM")
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code != 0 and "ITHEALTH_MAIL_FROM is not set" in result.output
    monkeypatch.setenv("ITHEALTH_MAIL_FROM", "not an address")
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code != 0 and "is not an email address" in result.output
    monkeypatch.setenv("ITHEALTH_MAIL_FROM", SENDER)
    monkeypatch.setenv("ITHEALTH_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody there
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code != 0 and "could not send through the mail server" in result.output
    assert "0 of 2 digests sent" in result.output and "Traceback" not in result.output
    assert inbox.messages == []


def test_a_long_digest_stays_short():
    """A firm with much overdue: five actions a client, twenty clients, the rest counted."""
    from assessment.core import digest

    rows = [{"client_id": c, "client": f"Client {c:02d}", "title": f"Task {c}-{n}",
             "party": "provider", "person": "", "status": "agreed",
             "due": days(-1 - n).isoformat()} for c in range(25) for n in range(7)]
    built = digest.build(rows, [], TODAY)
    body = digest.text(built, reader=digest.Reader("Ana", "ana@northgate.example", True),
                       firm="Northgate IT", roadmap=lambda c: f"/r/{c}", portfolio="/p")
    assert "175 actions overdue" in body
    assert body.count("  - and 2 more on the roadmap.") == 20
    assert "And 5 more clients with work due: see the portfolio." in body
    assert "Who: the IT provider (nobody named yet)" in body


def test_today_is_the_firms_day():
    from assessment.core.digest import today_in

    late_evening = datetime(2026, 10, 14, 23, 30, tzinfo=UTC)
    assert today_in("Pacific/Auckland", late_evening) == date(2026, 10, 15)
    assert today_in(None, late_evening) == today_in("Not/AZone", late_evening) \
        == date(2026, 10, 14)


@pytest.mark.parametrize("person, named", [
    ("Ana Smith", True), ("  ana   SMITH ", True), ("Ana Smith at Northgate IT", True),
    ("ana smith (Northgate)", True), ("ANA@northgate.example", True),
    ("Ana Smithson", False), ("Diana Smith", False), ("Ana", False), ("", False),
    ("Sam Patel", False)])
def test_an_action_names_a_member_by_name_or_email(person, named):
    from assessment.core.digest import Reader

    assert Reader("Ana Smith", "ana@northgate.example", False).is_named(person) is named


MAIL_USER, MAIL_PASSWORD = "roadmap", "mail-s3cret"


@pytest.fixture
def tls_mail(certificates):  # noqa: F811 - the fixture imported above
    """Starts aiosmtpd with TLS, from the start (smtps) or after STARTTLS, with the server
    certificate of the private authority and a sign-in only over TLS; returns (port, inbox)."""
    started = []

    def start(from_the_start: bool):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificates / "server.crt", certificates / "server.key")

        def authenticate(server, session, envelope, mechanism, data):
            # handled=False: aiosmtpd answers a refusal with 535 itself.
            return AuthResult(success=(data.login, data.password)
                              == (MAIL_USER.encode(), MAIL_PASSWORD.encode()), handled=False)

        inbox = Inbox()
        tls = {"ssl_context": context} if from_the_start else {"tls_context": context,
                                                                "require_starttls": True}
        # aiosmtpd counts only STARTTLS as TLS: from the start, the whole connection is.
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                                authenticator=authenticate, auth_require_tls=not from_the_start,
                                auth_required=True, **tls)
        controller.start()
        started.append(controller)
        return controller.port, inbox

    yield start
    for controller in started:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # see tls_mail
@pytest.mark.parametrize("scheme", ["smtps", "starttls"])
def test_the_digest_goes_over_verified_tls_with_a_sign_in(runner, firms, tls_mail, certificates,  # noqa: F811
                                                          monkeypatch, scheme):
    port, inbox = tls_mail(from_the_start=scheme == "smtps")
    url = (f"smtps://{MAIL_USER}:{{password}}@localhost:{port}" if scheme == "smtps"
           else f"smtp://{MAIL_USER}:{{password}}@localhost:{port}?starttls=1")
    monkeypatch.setenv("ITHEALTH_MAIL_FROM", SENDER)
    # The server's certificate is checked against the authorities the machine trusts; a
    # private one is added as OpenSSL reads it, from SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates / "ca.crt"))
    monkeypatch.setenv("ITHEALTH_SMTP_URL", url.format(password=MAIL_PASSWORD))
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code == 0, result.output
    assert f"Sent 2 digests through localhost:{port}" in result.output
    assert sorted(m["To"] for m in inbox.messages) == ["ana@northgate.example",
                                                       "ben@northgate.example"]
    inbox.messages.clear()

    monkeypatch.setenv("ITHEALTH_SMTP_URL", url.format(password="wrong"))
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code != 0 and "refused the user and password in ITHEALTH_SMTP_URL" \
        in result.output
    assert "wrong" not in result.output and "Traceback" not in result.output

    # A certificate from an authority the machine does not trust: nothing is sent, and the
    # password never leaves.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates / "other.crt"))
    monkeypatch.setenv("ITHEALTH_SMTP_URL", url.format(password=MAIL_PASSWORD))
    result = runner.invoke(args=["roadmap", "digest"])
    assert result.exit_code != 0 and "could not send through the mail server" in result.output
    assert "CERTIFICATE_VERIFY_FAILED" in result.output or "certificate verify failed" \
        in result.output
    assert MAIL_PASSWORD not in result.output and inbox.messages == []
