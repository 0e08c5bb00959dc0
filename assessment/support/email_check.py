"""The email domain check from outside: what the business's email domain publishes about who may
send email in its name (SPF), what receivers should do with email that fails (DMARC) and which
common DKIM selectors carry a signing key.

Two halves: reading the TXT records into a CheckResult is pure (evaluate, parse_dmarc), and
look_up asks DNS for them, in parallel, within a short time limit (about 3 seconds in all). A
look-up that fails is a result too: "could not check", with the reason, never an exception.

Kept simple on purpose: DMARC is looked up at the given domain only (`_dmarc.<domain>`), not at
its organisational domain, and DKIM selectors are guesses (a domain may sign with one not in
the list), so DKIM is reported but never changes the outcome.
"""

from __future__ import annotations

import concurrent.futures
import re
import time
from dataclasses import asdict, dataclass

ENFORCED, PARTIAL, MISSING = "enforced", "partial", "missing"  # OutsideCheck.answers' keys
OUTCOMES = (ENFORCED, PARTIAL, MISSING)
CHECK_BY = "email_domain"  # OutsideCheck.by of the questions this check answers
DOMAIN_QUESTION = "profile.email_domain"  # where the owner types the domain
TIME_LIMIT = 3.0  # seconds for the whole look-up
# Selectors the common mail services sign with: Google Workspace, Microsoft 365, cPanel hosts,
# Mailchimp and Mandrill, Zoho, Everlytic, Amazon SES and generic names.
DKIM_SELECTORS = ("google", "selector1", "selector2", "default", "k1", "k2", "s1", "s2",
                  "mail", "dkim", "mandrill", "everlytickey1", "everlytickey2", "zoho",
                  "smtp", "mxvault")

NO_ANSWER = "no answer from the DNS servers"
REFUSED = "the DNS servers could not answer"
NO_SUCH_DOMAIN = "no such domain"
NO_SERVERS = "no DNS servers are set up where this runs"
FAILED = "the look-up failed"

# Free email services: their settings say nothing about the business (the question asks to
# leave the domain empty for them).
FREE_MAIL = frozenset({"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",
                       "msn.com", "yahoo.com", "ymail.com", "icloud.com", "me.com", "aol.com",
                       "proton.me", "protonmail.com", "gmx.com", "mail.com", "zoho.com",
                       "hotmail.co.uk", "yahoo.co.uk", "btinternet.com"})
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class DomainError(ValueError):
    """What was typed is not an email domain; the message says what to type instead."""


def normalise_domain(typed: str) -> str:
    """The domain to look up from what an owner typed: trimmed, lowercase, without "mailto:",
    "@" or a trailing dot, the part after the @ of a full address, in its ASCII form.
    Raises DomainError with a message for the owner when it is not a domain."""
    text = (typed or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:"):].strip()
    if "@" in text:
        text = text.rsplit("@", 1)[1].strip()
    text = text.lower().rstrip(".")
    example = "Type the part of your work email address after the @, for example example.com."
    if not text:
        raise DomainError(example)
    if "://" in text or "/" in text:
        raise DomainError("That looks like a web address. " + example)
    if any(c.isspace() for c in text):
        raise DomainError("A domain has no spaces. " + example)
    if "." not in text:
        raise DomainError("A domain has at least one dot, like example.com. " + example)
    try:
        ascii_form = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise DomainError("That is not a domain name. " + example) from None
    labels = ascii_form.split(".")
    if len(ascii_form) > 253 or not all(_LABEL.match(label) for label in labels) \
            or labels[-1].isdigit():
        raise DomainError("That is not a domain name: use only letters, digits, hyphens and "
                          "dots. " + example)
    if ascii_form in FREE_MAIL:
        raise DomainError(f"{ascii_form} is a free email service, not your business's own "
                          "domain: leave this empty if your work email ends in it.")
    return ascii_form


@dataclass(frozen=True)
class CheckResult:
    """What the check found for one domain. `outcome` is None when it could not check
    (`reason` says why); the records are the TXT strings found, joined."""

    domain: str
    outcome: str | None
    spf: tuple[str, ...] = ()  # SPF records at the domain (more than one is invalid)
    dmarc: tuple[str, ...] = ()  # DMARC records at _dmarc.<domain>
    dmarc_policy: str | None = None  # none | quarantine | reject, of a single valid record
    dmarc_pct: int | None = None  # the pct tag, when given
    dkim: tuple[str, ...] = ()  # the selectors found, of those tried
    dkim_complete: bool = True  # every selector got an answer (else some timed out)
    reason: str = ""

    @property
    def checked(self) -> bool:
        return self.outcome is not None

    @property
    def spf_valid(self) -> bool:
        return len(self.spf) == 1

    @property
    def dmarc_valid(self) -> bool:
        return len(self.dmarc) == 1 and self.dmarc_policy is not None

    def findings(self) -> list[str]:
        """What was found, in a few words each: "SPF found", "DMARC set to reject", ..."""
        if not self.checked:
            return []
        spf = ("SPF found" if self.spf_valid else
               f"{len(self.spf)} SPF records (only one is allowed, so none counts)"
               if self.spf else "no SPF")
        if not self.dmarc:
            dmarc = "no DMARC"
        elif len(self.dmarc) > 1:
            dmarc = f"{len(self.dmarc)} DMARC records (only one is allowed, so none counts)"
        elif self.dmarc_policy is None:
            dmarc = "a DMARC record that cannot be read"
        else:
            dmarc = f"DMARC set to {self.dmarc_policy}"
            if self.dmarc_pct is not None and self.dmarc_pct < 100:
                dmarc += f" for {self.dmarc_pct}% of email"
        dkim = f"DKIM found ({', '.join(self.dkim)})" if self.dkim else \
            "no DKIM on the common selectors"
        return [spf, dmarc, dkim]

    def summary(self) -> str:
        """One line: "SPF found, DMARC set to reject, DKIM found (selector1)"."""
        return ", ".join(self.findings()) if self.checked else f"could not check: {self.reason}"

    def as_data(self) -> dict:
        data = asdict(self)
        for key in ("spf", "dmarc", "dkim"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_data(cls, data: dict) -> CheckResult:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("spf", "dmarc", "dkim"):
            fields[key] = tuple(fields.get(key) or ())
        return cls(**fields)


def is_spf(record: str) -> bool:
    text = record.strip().lower()
    return text == "v=spf1" or text.startswith("v=spf1 ")


def is_dmarc(record: str) -> bool:
    return re.match(r"^\s*v\s*=\s*dmarc1\s*(;|$)", record, re.I) is not None


def parse_dmarc(record: str) -> tuple[str | None, int | None]:
    """A DMARC record's policy (none, quarantine, reject; None when missing or unknown) and its
    pct (None when absent or not a whole number from 0 to 100)."""
    tags = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags.setdefault(key.strip().lower(), value.strip())
    policy = tags.get("p", "").lower()
    pct = tags.get("pct")
    return (policy if policy in ("none", "quarantine", "reject") else None,
            int(pct) if pct is not None and pct.isdigit() and int(pct) <= 100 else None)


def is_dkim_key(record: str) -> bool:
    text = record.replace(" ", "").lower()
    return text.startswith("v=dkim1") or "p=" in text or text.startswith("k=")


def evaluate(domain: str, domain_txt: list[str], dmarc_txt: list[str],
             dkim: dict[str, list[str]] | None = None, *, dkim_complete: bool = True
             ) -> CheckResult:
    """The result of the TXT records found at the domain, at _dmarc.<domain> and at each
    <selector>._domainkey.<domain>. enforced: one SPF record and one DMARC record at quarantine
    or reject for all email (pct 100 or absent); missing: neither SPF nor DMARC; partial:
    anything between (including several SPF or DMARC records, which make them invalid)."""
    spf = tuple(r for r in domain_txt if is_spf(r))
    dmarc = tuple(r for r in dmarc_txt if is_dmarc(r))
    policy, pct = parse_dmarc(dmarc[0]) if len(dmarc) == 1 else (None, None)
    found = tuple(selector for selector, records in (dkim or {}).items()
                  if any(is_dkim_key(r) for r in records))
    if not spf and not dmarc:
        outcome = MISSING
    elif len(spf) == 1 and policy in ("quarantine", "reject") and pct in (None, 100):
        outcome = ENFORCED
    else:
        outcome = PARTIAL
    return CheckResult(domain=domain, outcome=outcome, spf=spf, dmarc=dmarc,
                       dmarc_policy=policy, dmarc_pct=pct, dkim=found,
                       dkim_complete=dkim_complete)


def could_not_check(domain: str, reason: str) -> CheckResult:
    return CheckResult(domain=domain, outcome=None, reason=reason)


def parse_server(server: str) -> tuple[str, int]:
    """"host:port" (or "[v6]:port", or a bare host for port 53) as (host, port)."""
    server = server.strip()
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if server.count(":") == 1:
        host, port = server.split(":")
        return host, int(port)
    return server, 53


class _Failed(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def look_up(domain: str, *, server: str | None = None, time_limit: float = TIME_LIMIT,
            selectors: tuple[str, ...] = DKIM_SELECTORS) -> CheckResult:
    """Ask DNS for the domain's SPF, DMARC and DKIM records, all at once, within `time_limit`
    seconds. `server`: "host:port" of the DNS server to ask (default: the system's).
    Never raises for a DNS problem: the result then could not check, with the reason."""
    import dns.exception
    import dns.resolver

    deadline = time.monotonic() + time_limit
    try:
        resolver = dns.resolver.Resolver(configure=server is None)
    except dns.resolver.NoResolverConfiguration:
        return could_not_check(domain, NO_SERVERS)
    except Exception:  # an unreadable system configuration: the same for the owner
        return could_not_check(domain, NO_SERVERS)
    if server is not None:
        host, port = parse_server(server)
        resolver.nameservers = [host]
        resolver.port = port
    if not resolver.nameservers:
        return could_not_check(domain, NO_SERVERS)
    resolver.timeout = min(1.0, time_limit)  # per try; a lost packet is sent again
    resolver.cache = None

    def txt(name: str, missing_ok: bool) -> list[str]:
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise _Failed(NO_ANSWER)
        try:
            answer = resolver.resolve(name, "TXT", lifetime=left, raise_on_no_answer=False,
                                      search=False)
        except dns.resolver.NXDOMAIN:
            if missing_ok:
                return []
            raise _Failed(NO_SUCH_DOMAIN) from None
        except dns.exception.Timeout:
            raise _Failed(NO_ANSWER) from None
        except (dns.resolver.NoNameservers, dns.resolver.YXDOMAIN):
            raise _Failed(REFUSED) from None
        except dns.exception.DNSException:
            raise _Failed(FAILED) from None
        if answer.rrset is None:
            return []
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer.rrset]

    names = {"domain": (domain, False), "dmarc": (f"_dmarc.{domain}", True)}
    names |= {f"dkim:{s}": (f"{s}._domainkey.{domain}", True) for s in selectors}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(names)),
                                                 thread_name_prefix="email-check")
    futures = {key: pool.submit(txt, name, ok) for key, (name, ok) in names.items()}

    def outcome_of(key: str) -> list[str]:
        future = futures[key]
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()) + 0.1)
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            raise _Failed(NO_ANSWER) from None

    try:
        try:
            domain_txt, dmarc_txt = outcome_of("domain"), outcome_of("dmarc")
        except _Failed as failed:
            return could_not_check(domain, failed.reason)
        except Exception:  # nothing a DNS answer holds may turn into an error page
            return could_not_check(domain, FAILED)
        dkim, complete = {}, True
        for selector in selectors:
            try:
                dkim[selector] = outcome_of(f"dkim:{selector}")
            except Exception:
                complete = False
        return evaluate(domain, domain_txt, dmarc_txt, dkim, dkim_complete=complete)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
