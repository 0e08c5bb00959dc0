"""The email domain check from outside: reading SPF, DMARC and DKIM records, the look-up against a
DNS server of the tests' own on loopback (never the internet), and the check in the owner's
wizard and the consultant's interview: run in the background once the domain is saved, shown
beside the question it answers, counted over the owner's answer, and refused domains."""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from assessment import create_app
from assessment.core.viewpoint import BUSINESS
from assessment.storage import assessment_view, connect, get_assessment, stored_answers
from assessment.storage import clients as clients_store
from assessment.storage.email_checks import latest, mark_pending
from assessment.support.config import database as database_of
from assessment.support.email_check import (
    DomainError,
    evaluate,
    look_up,
    normalise_domain,
    parse_dmarc,
    parse_server,
)
from assessment.web import email_checks

from .dns_server import DNSServer, SilentServer
from .workspace_fixtures import csrf_token, make_member, sign_in, started_id

pytestmark = pytest.mark.both_backends  # the wizard and storage tests run on both engines
BANK_FIXTURES = Path(__file__).resolve().parent / "bank_fixtures"
DKIM_KEY = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 8

ZONES = {
    # SPF, DMARC at reject and a DKIM key under selector1: enforced.
    "example.com": {
        "example.com": ["v=spf1 include:spf.protection.outlook.com -all",
                        "google-site-verification=abc"],
        "_dmarc.example.com": ["v=DMARC1; p=reject; rua=mailto:dmarc@example.com"],
        "selector1._domainkey.example.com": [DKIM_KEY],
    },
    # SPF only: partial.
    "spf-only.example": {"spf-only.example": ["v=spf1 mx -all"]},
    # Nothing at all, but the domain exists: missing.
    "bare.example": {"bare.example": ["some-other-verification=1"]},
    # DMARC at none: partial.
    "watching.example": {"watching.example": ["v=spf1 -all"],
                         "_dmarc.watching.example": ["v=DMARC1; p=none"]},
    # A very long SPF record in several strings, and keys too big for one UDP answer (TCP).
    "big.example": {
        "big.example": ["v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(60)) + " -all"],
        "_dmarc.big.example": ["v=DMARC1; p=quarantine; pct=100"],
        "google._domainkey.big.example": [DKIM_KEY, DKIM_KEY, DKIM_KEY],
    },
}


# ---------------------------------------------------------------- what was typed, as a domain

@pytest.mark.parametrize("typed, domain", [
    ("example.com", "example.com"),
    ("  Example.COM ", "example.com"),
    ("jo@example.com", "example.com"),
    ("Jo.Smith@Mail.Example.co.uk", "mail.example.co.uk"),
    ("mailto:jo@example.com", "example.com"),
    ("@example.com", "example.com"),
    ("example.com.", "example.com"),
    ("bäckerei.de", "xn--bckerei-5wa.de"),
])
def test_a_domain_is_read_from_what_owners_type(typed, domain):
    assert normalise_domain(typed) == domain


@pytest.mark.parametrize("typed, says", [
    ("", "after the @"),
    ("example", "at least one dot"),
    ("exa mple.com", "no spaces"),
    ("https://example.com", "web address"),
    ("-bad.example.com", "not a domain"),
    ("a..b.com", "not a domain"),
    ("192.0.2.1", "not a domain"),
    ("under_score.com", "not a domain"),
    ("jo@gmail.com", "free email service"),
])
def test_what_is_not_a_domain_is_refused_with_a_message(typed, says):
    with pytest.raises(DomainError, match=says):
        normalise_domain(typed)


def test_the_dns_server_setting_reads_host_and_port():
    assert parse_server("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_server("[::1]:5353") == ("::1", 5353)
    assert parse_server("192.0.2.53") == ("192.0.2.53", 53)


# ---------------------------------------------------------------- reading the records

SPF = "v=spf1 mx -all"


def outcome(domain_txt, dmarc_txt):
    return evaluate("example.com", domain_txt, dmarc_txt).outcome


def test_no_records_is_missing():
    assert outcome([], []) == "missing"
    assert outcome(["google-site-verification=x"], ["not dmarc"]) == "missing"


def test_spf_alone_is_partial():
    assert outcome([SPF], []) == "partial"


def test_dmarc_at_none_is_partial():
    assert outcome([SPF], ["v=DMARC1; p=none; rua=mailto:x@example.com"]) == "partial"


@pytest.mark.parametrize("policy", ["quarantine", "reject", "Reject"])
def test_spf_with_dmarc_quarantine_or_reject_is_enforced(policy):
    assert outcome([SPF], [f"v=DMARC1; p={policy}"]) == "enforced"
    assert outcome([SPF], [f"v=DMARC1; p={policy}; pct=100"]) == "enforced"


def test_dmarc_for_part_of_the_email_is_partial():
    result = evaluate("example.com", [SPF], ["v=DMARC1; p=reject; pct=50"])
    assert result.outcome == "partial"
    assert "DMARC set to reject for 50% of email" in result.summary()


def test_dmarc_without_spf_is_partial():
    assert outcome([], ["v=DMARC1; p=reject"]) == "partial"


def test_two_spf_records_are_invalid_so_partial():
    result = evaluate("example.com", [SPF, "v=spf1 include:other.example -all"],
                      ["v=DMARC1; p=reject"])
    assert result.outcome == "partial"
    assert "2 SPF records (only one is allowed" in result.summary()


def test_two_dmarc_records_are_invalid_so_partial():
    assert outcome([SPF], ["v=DMARC1; p=reject", "v=DMARC1; p=none"]) == "partial"


def test_dkim_is_shown_but_does_not_change_the_outcome():
    found = evaluate("example.com", [SPF], ["v=DMARC1; p=reject"],
                     {"selector1": [DKIM_KEY], "google": [], "s1": ["unrelated"]})
    none = evaluate("example.com", [SPF], ["v=DMARC1; p=reject"], {})
    assert found.outcome == none.outcome == "enforced"
    assert found.dkim == ("selector1",)
    assert found.summary() == "SPF found, DMARC set to reject, DKIM found (selector1)"
    assert none.summary() == "SPF found, DMARC set to reject, no DKIM on the common selectors"


def test_dmarc_tags():
    assert parse_dmarc("v=DMARC1; p=quarantine; pct=25") == ("quarantine", 25)
    assert parse_dmarc("v=DMARC1;p=reject") == ("reject", None)
    assert parse_dmarc("v=DMARC1; rua=mailto:x@example.com") == (None, None)
    assert parse_dmarc("v=DMARC1; p=reject; pct=abc") == ("reject", None)


def test_a_result_survives_storage():
    from assessment.support.email_check import CheckResult

    result = evaluate("example.com", [SPF], ["v=DMARC1; p=reject"], {"k1": [DKIM_KEY]})
    assert CheckResult.from_data(result.as_data()) == result


# ---------------------------------------------------------------- the look-up

@pytest.fixture(scope="module")
def dns():
    with DNSServer(ZONES) as server:
        yield server


def test_look_up_finds_spf_dmarc_and_dkim(dns):
    result = look_up("example.com", server=dns.address)
    assert result.outcome == "enforced"
    assert result.spf == ("v=spf1 include:spf.protection.outlook.com -all",)
    assert result.dmarc_policy == "reject"
    assert result.dkim == ("selector1",)
    assert result.dkim_complete


@pytest.mark.parametrize("domain, expected", [
    ("spf-only.example", "partial"), ("bare.example", "missing"),
    ("watching.example", "partial"), ("big.example", "enforced"),
])
def test_look_up_outcomes(dns, domain, expected):
    assert look_up(domain, server=dns.address).outcome == expected


def test_long_records_in_several_strings_and_answers_too_big_for_udp(dns):
    result = look_up("big.example", server=dns.address)
    assert result.spf[0].endswith("ip4:192.0.2.59 -all")  # the strings, joined
    assert result.dkim == ("google",)  # three keys: more than a UDP answer holds, so TCP


def test_no_such_domain_could_not_be_checked(dns):
    result = look_up("no-such-domain.example", server=dns.address)
    assert result.outcome is None and not result.checked
    assert result.reason == "no such domain"
    assert result.summary() == "could not check: no such domain"


def test_dmarc_is_looked_up_at_the_given_domain_only(dns):
    """Kept simple: no walk up to the organisational domain. mail.example.com has no DMARC of
    its own, so it is partial, and _dmarc.example.com is never asked."""
    zones = {"example.org": {"mail.example.org": [SPF],
                             "_dmarc.example.org": ["v=DMARC1; p=reject"]}}
    with DNSServer(zones) as server:
        result = look_up("mail.example.org", server=server.address)
        assert result.outcome == "partial" and result.dmarc == ()
        assert "_dmarc.mail.example.org" in server.asked
        assert "_dmarc.example.org" not in server.asked


def test_a_server_that_never_answers_could_not_check_within_the_time_limit():
    with SilentServer() as server:
        began = time.monotonic()
        result = look_up("example.com", server=server.address, time_limit=1.5)
        took = time.monotonic() - began
    assert not result.checked and result.reason == "no answer from the DNS servers"
    assert took < 2.5


def test_the_default_time_limit_is_kept():
    with SilentServer() as server:
        began = time.monotonic()
        result = look_up("example.com", server=server.address)
        took = time.monotonic() - began
    assert not result.checked
    assert took < 4


# ---------------------------------------------------------------- in the wizard

EMAIL_AUTH = """\
id: security.email_auth
type: single
weight: 2
not_sure: true
text: Is email that pretends to come from your business blocked?
help: Fake email in your name tricks your customers.
check: {by: email_domain, answers: {enforced: blocked, partial: partly, missing: none}}
choices:
  - {id: blocked, label: "Yes, it is blocked", score: 10}
  - {id: partly, label: Partly, score: 5}
  - {id: none, label: "No", score: 0}
recommendations:
  - id: dmarc
    when: [partly, none]
    title: Block fake email
    text: Ask your provider for DMARC at reject.
    priority: high
    effort: low
    timeframe: 30
    who: provider
    cost: low
    done_when: DMARC is at reject.
"""


def check_bank(target: Path) -> Path:
    """The small test bank with a profile section asking for the email domain and a security
    question the check answers (the contract the shipped bank follows)."""
    shutil.copytree(BANK_FIXTURES / "mini", target)
    bank_file = target / "bank.yaml"
    bank_file.write_text(bank_file.read_text().replace(
        "sections:\n", "sections:\n  - {id: profile, weight: 0}\n").replace(
        "version: 2.0.0", "version: 2.2.0"))
    for name in ("backup.yaml", "security.yaml"):  # a 2.1 bank explains every finding
        section = yaml.safe_load((target / name).read_text())
        for q in section["questions"]:
            for rule in (q.get("critical"), (q.get("critical") or {}).get("not_sure")):
                if rule and rule.get("finding"):
                    rule["why_it_matters"] = "The business stays exposed until it is fixed."
        (target / name).write_text(yaml.safe_dump(section, sort_keys=False))
    (target / "profile.yaml").write_text("""\
id: profile
title: About your business
intro: A few facts.
kind: profile
questions:
  - id: profile.business_name
    type: text
    weight: 0
    text: What is the name of your business?
    help: It goes on the cover.
  - id: profile.email_domain
    type: text
    weight: 0
    text: What comes after the @ in your work email addresses?
    help: We look up its public settings.
""")
    security = yaml.safe_load((target / "security.yaml").read_text())
    security["questions"].append(yaml.safe_load(EMAIL_AUTH))
    (target / "security.yaml").write_text(yaml.safe_dump(security, sort_keys=False))
    return target


def make_app(tmp_path, server) -> object:
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "DATABASE": str(tmp_path / "app.sqlite"),
                       "BANK_DIR": str(check_bank(tmp_path / "bank")),
                       "DNS_SERVER": server.address})


@pytest.fixture
def app(tmp_path, dns, database_url):
    return make_app(tmp_path, dns)  # on PostgreSQL too: database_url sets it for the app


@pytest.fixture
def adb(app):
    database = connect(database_of(app.config))
    yield database
    database.close()


def token_of(browser) -> str:
    with browser.session_transaction() as session:
        return session.get("resume_token", "")


def assessment_id_of(browser) -> str:
    with browser.session_transaction() as session:
        return session["assessment_id"]


def start_owner(app):
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    assert owner.post("/assessment/start",
                      data={"csrf_token": csrf_token(landing)}).status_code == 303
    return owner


def save_domain(browser, typed: str, version: int = 0, status: int = 303):
    page = browser.get("/assessment/section/profile").get_data(as_text=True)
    response = browser.post("/assessment/section/profile", data={
        "csrf_token": csrf_token(page), "q_profile__business_name": "Brightwater Bakery",
        "q_profile__email_domain": typed, "v_q_profile__email_domain": str(version),
        "v_q_profile__business_name": str(version), "resume": token_of(browser)})
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def security_page(browser) -> str:
    page = browser.get("/assessment/section/security")
    assert page.status_code == 200
    return " ".join(page.get_data(as_text=True).split())


def notice_of(page: str) -> str:
    match = re.search(r'<div class="notice outside-check[^"]*"[^>]*>(.*?)</div>', page)
    assert match, "no check notice on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_saving_the_domain_checks_it_and_the_finding_counts(app, adb):
    owner = start_owner(app)
    save_domain(owner, "Jo@Example.com")
    assessment_id = assessment_id_of(owner)
    # What was typed is kept as typed; the check looks up its domain.
    assert stored_answers(adb, assessment_id, "owner")["profile.email_domain"].answer.value \
        == "Jo@Example.com"
    assert email_checks.wait(10)
    check = latest(adb, assessment_id)
    assert check.domain == "example.com" and check.status == "done"
    assert check.result.outcome == "enforced"

    notice = notice_of(security_page(owner))
    assert re.fullmatch(
        r"We checked example\.com’s public email settings on \d+ \w+ \d{4}: SPF found, DMARC set "
        r"to reject, DKIM found \(selector1\)\. This counts as your answer: Yes, it is blocked\.",
        notice), notice

    # Every view agrees: the check's answer counts, and is scored.
    seen = assessment_view(adb, get_assessment(adb, assessment_id), BUSINESS)
    assert seen.source_of["security.email_auth"] == "check"
    assert seen.answers["security.email_auth"].value == "blocked"
    outcome = next(o for o in seen.result.outcomes if o.question.id == "security.email_auth")
    assert outcome.answer.value == "blocked" and outcome.share == 1
    security = next(s for s in seen.result.sections if s.section.id == "security")
    assert security.answered == 1 and security.score == 100


def test_the_owners_differing_answer_is_named(app, adb):
    owner = start_owner(app)
    save_domain(owner, "example.com")
    assert email_checks.wait(10)
    page = owner.get("/assessment/section/security").get_data(as_text=True)
    response = owner.post("/assessment/section/security", data={
        "csrf_token": csrf_token(page), "q_security__email_auth": "none",
        "resume": token_of(owner)})
    assert response.status_code == 303
    notice = notice_of(security_page(owner))
    assert "This counts as your answer: Yes, it is blocked." in notice
    assert "You answered “No”; the check found “Yes, it is blocked”, and that counts." in notice
    seen = assessment_view(adb, get_assessment(adb, assessment_id_of(owner)), BUSINESS)
    assert seen.answers["security.email_auth"].value == "blocked"
    assert seen.owner_answers["security.email_auth"] == "No"
    # The owner's own answer stays on record, and their page still shows it as chosen.
    assert 'value="none" checked' in security_page(owner)


def test_a_bad_domain_is_refused_and_nothing_typed_is_lost(app, adb):
    owner = start_owner(app)
    response = save_domain(owner, "our website", status=422)
    page = response.get_data(as_text=True)
    assert "A domain has no spaces." in page
    assert 'value="our website"' in page and 'value="Brightwater Bakery"' in page
    assessment_id = assessment_id_of(owner)
    assert "profile.email_domain" not in stored_answers(adb, assessment_id, "owner")
    assert latest(adb, assessment_id) is None


def test_a_bad_domain_is_refused_by_autosave_too(app):
    owner = start_owner(app)
    page = owner.get("/assessment/section/profile").get_data(as_text=True)
    response = owner.post("/assessment/answer", json={
        "question": "profile.email_domain", "answer": "http://example.com",
        "base_version": 0, "client_key": "k-123456789"},
        headers={"X-CSRFToken": csrf_token(page)})
    assert response.status_code == 422
    assert "web address" in response.get_json()["message"]


def test_autosaving_the_domain_starts_the_check(app, adb):
    owner = start_owner(app)
    page = owner.get("/assessment/section/profile").get_data(as_text=True)
    response = owner.post("/assessment/answer", json={
        "question": "profile.email_domain", "answer": "spf-only.example",
        "base_version": 0, "client_key": "k-abcdefghi"},
        headers={"X-CSRFToken": csrf_token(page)})
    assert response.status_code == 200
    assert email_checks.wait(10)
    assert latest(adb, assessment_id_of(owner)).result.outcome == "partial"
    assert "This counts as your answer: Partly." in notice_of(security_page(owner))


def test_a_check_in_progress_is_a_plain_notice(app, adb):
    owner = start_owner(app)
    save_domain(owner, "example.com")
    assert email_checks.wait(10)
    mark_pending(adb, assessment_id_of(owner), "example.com")
    page = security_page(owner)
    assert notice_of(page) == ("Checking example.com’s public email settings… Reload the page "
                               "in a moment to see what was found.")
    assert 'data-outside-check="pending" role="status"' in page


def test_a_new_domain_takes_back_the_old_domains_answer(app, adb):
    owner = start_owner(app)
    save_domain(owner, "example.com")
    assert email_checks.wait(10)
    assessment_id = assessment_id_of(owner)
    assert stored_answers(adb, assessment_id, "check")["security.email_auth"].answer
    save_domain(owner, "no-such-domain.example", version=1)
    assert email_checks.wait(10)
    check = latest(adb, assessment_id)
    assert check.domain == "no-such-domain.example" and check.status == "failed"
    held = stored_answers(adb, assessment_id, "check").get("security.email_auth")
    assert held is None or held.answer is None
    assert notice_of(security_page(owner)) == (
        "Could not check no-such-domain.example (no such domain); your own answer counts.")
    seen = assessment_view(adb, get_assessment(adb, assessment_id), BUSINESS)
    assert "security.email_auth" not in seen.answers


def test_emptying_the_domain_takes_back_the_check(app, adb):
    owner = start_owner(app)
    save_domain(owner, "example.com")
    assert email_checks.wait(10)
    save_domain(owner, "", version=1)
    assessment_id = assessment_id_of(owner)
    assert latest(adb, assessment_id) is None
    held = stored_answers(adb, assessment_id, "check").get("security.email_auth")
    assert held is None or held.answer is None
    assert 'class="notice outside-check' not in security_page(owner)


def test_no_answer_from_the_dns_servers_never_blocks_a_page(tmp_path, database_url):
    with SilentServer() as silent:
        app = make_app(tmp_path, silent)
        owner = start_owner(app)
        began = time.monotonic()
        save_domain(owner, "example.com")
        save_domain(owner, "example.org", version=1)  # while the first is still being looked up
        assert time.monotonic() - began < 1.5  # the saves did not wait for DNS
        assert sum(t.name == "email-domain-check" for t in threading.enumerate()) == 1
        assert "Checking example.org’s public email settings…" in security_page(owner)
        assert email_checks.wait(15)
    db = connect(database_of(app.config))
    try:
        check = latest(db, assessment_id_of(owner))
        assert check.domain == "example.org" and check.status == "failed"
    finally:
        db.close()
    assert notice_of(security_page(owner)) == (
        "Could not check example.org (no answer from the DNS servers); your own answer counts.")


# ---------------------------------------------------------------- in the interview

def test_the_interview_shows_the_finding_and_the_clients_answer(app, adb):
    member = make_member(app)
    browser = app.test_client()
    assert sign_in(browser, member["email"]).status_code == 303
    client_id = clients_store.create_client(adb, member["firm_id"], name="Brightwater Bakery")
    home = browser.get(f"/workspace/clients/{client_id}").get_data(as_text=True)
    assessment_id = started_id(browser.post(f"/workspace/clients/{client_id}/interview",
                                            data={"csrf_token": csrf_token(home)}))
    base = f"/workspace/assessments/{assessment_id}/interview"
    page = browser.get(f"{base}/profile").get_data(as_text=True)
    assert browser.post(f"{base}/profile", data={
        "csrf_token": csrf_token(page), "q_profile__email_domain": "watching.example",
        "then": "next"}).status_code == 303
    assert email_checks.wait(10)
    text = " ".join(browser.get(f"{base}/security").get_data(as_text=True).split())
    notice = notice_of(text)
    assert notice.startswith("We checked watching.example’s public email settings on ")
    assert "SPF found, DMARC set to none, no DKIM on the common selectors." in notice
    assert notice.endswith("This counts as the answer: Partly.")


# ---------------------------------------------------------------- the command line

def test_the_command_prints_what_was_found(app):
    result = app.test_cli_runner().invoke(args=["email-check", "jo@example.com"])
    assert result.exit_code == 0, result.output
    assert "example.com: SPF found, DMARC set to reject, DKIM found (selector1)." in result.output
    assert "Outcome: enforced" in result.output


def test_the_command_refuses_a_bad_domain(app):
    result = app.test_cli_runner().invoke(args=["email-check", "not a domain"])
    assert result.exit_code == 2
    assert "is not an email domain: A domain has no spaces" in result.output


def test_the_command_says_when_it_could_not_check(app):
    result = app.test_cli_runner().invoke(args=["email-check", "no-such-domain.example"])
    assert result.exit_code == 1
    assert "Could not check no-such-domain.example: no such domain." in result.output


# ---------------------------------------------------------------- the report

def test_the_report_names_the_check_as_the_answers_source(app, adb):
    from datetime import date

    from assessment.report import ReportInput, render_html

    owner = start_owner(app)
    save_domain(owner, "example.com")
    assert email_checks.wait(10)
    seen = assessment_view(adb, get_assessment(adb, assessment_id_of(owner)), BUSINESS)
    report = ReportInput.of_view(seen, assessed_on=date(2025, 6, 3), full=True)
    assert report.by_check == frozenset({"security.email_auth"})
    html = render_html(report)
    assert "Found by the email domain check" in html


def test_a_check_under_way_or_done_takes_the_place_of_asking_the_provider(tmp_path, dns,
                                                                         database_url):
    """On a question owners rarely know that the check answers, the offer to ask the IT provider
    shows until the check is under way or has found the answer, and not beside it: one notice
    says what happens (a check that could not run leaves the offer in place)."""
    bank = check_bank(tmp_path / "bank")
    security = yaml.safe_load((bank / "security.yaml").read_text())
    for q in security["questions"]:
        if q["id"] == "security.email_auth":
            q["owners_rarely_know"] = True
    (bank / "security.yaml").write_text(yaml.safe_dump(security, sort_keys=False))
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE": str(tmp_path / "app.sqlite"), "BANK_DIR": str(bank),
                      "DNS_SERVER": dns.address})
    owner = start_owner(app)
    assert "Most owners don't know this" in security_page(owner)
    save_domain(owner, "example.com")
    assert email_checks.wait(10)
    page = security_page(owner)
    assert "This counts as your answer" in notice_of(page)
    assert "Most owners don't know this" not in page
    database = connect(database_of(app.config))
    try:
        mark_pending(database, assessment_id_of(owner), "example.com")
    finally:
        database.close()
    page = security_page(owner)
    assert "Checking example.com" in notice_of(page)
    assert "Most owners don't know this" not in page
