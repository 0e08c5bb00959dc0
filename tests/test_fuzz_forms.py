"""Hostile input on every form field and both autosave endpoints (hypothesis).

The property, for every field: the server never answers 5xx; a value is either refused with a
4xx and a message (what was typed is shown back), or stored and shown back exactly as typed,
after the documented normalisation (trimming; whitespace collapsed on one-line branding text;
numbers read the way people type them; on PostgreSQL, which cannot hold the character NUL, a NUL
in a plain text column comes back as U+FFFD, as storage/postgres.py says), and always escaped in
the HTML. The living roadmap's forms are fuzzed the same way: an action's details (person and
ticket kept on one line, notes without control characters, both trimmed; the actual cost a whole
number, "1,200" read as 1200) and its moves (a proposed action agreed, deferred, its risk
accepted or dropped, by the rules, dates YYYY-MM-DD), a draft review's headline, notes and next
review date, starting a review for a period, and the owner's comment through their private link
(1 to 2,000 characters, letters, numbers and punctuation). Every test runs on SQLite and on
PostgreSQL. Stored business names, notes and firm names reach the report HTML escaped, never as
markup. One PDF at the end, made from the nastiest inputs, is read back with pypdf: the names are
text, and it carries no embedded files and no URI, Launch or JavaScript actions.

The same targets (world, strategy, check) drive `benchmarks/fuzz_forms.py` with many more
examples; `STATS` counts requests and outcomes for it.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from werkzeug.datastructures import MultiDict

from assessment import create_app
from assessment.core.actions import Action, Move, Status, decide
from assessment.core.bank import load_bank
from assessment.core.review import FIRST_YEAR, LAST_YEAR, MAX_PERIOD_DAYS, default_period
from assessment.report import shutdown_pool
from assessment.report.models import printable
from assessment.web.roadmap_link import BIDI_CONTROLS
from assessment.storage import accounts, connect, roadmap_links, set_status, stored_answers
from assessment.storage import actions as action_store
from assessment.storage import clients as store
from assessment.storage import reviews as review_store
from assessment.support.config import database
from assessment.support.inputs import name_problem
from assessment.web.answer_fields import field_name, widget_for
from assessment.support.zones import zone_of
from assessment.web.dates import date_day
from assessment.web.roadmap_link import OWNER

from .workspace_fixtures import PASSWORD, make_member

pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).resolve().parent.parent
BANK = load_bank(ROOT / "questions")
BUSINESS_NAME = "profile.business_name"
FALLBACK_BUSINESS_NAME = "Your business"

# Documented limits (form messages and question types).
MAX_TEXT_ANSWER = 5000
MAX_NOTE = 5000
CLIENT_LIMITS = {"name": 200, "sector": 200, "size": 100, "contacts": 2000, "notes": 5000}
BRANDING_LIMITS = {"name": 120, "contact_line": 200, "disclaimer": 400}
MAX_REPORT_NAME = 200
STRICT_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

STATS: Counter = Counter()  # requests and outcomes, read by the benchmark

FUZZ_SETTINGS = settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example, HealthCheck.filter_too_much])


# ---- hostile text ------------------------------------------------------------------------------

CONTROL = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u2028", "\u2029", "\ufeff"]
BIDI = ["\u202e", "\u202d", "\u202c", "\u200f", "\u200e", "\u2066", "\u2069",
        "\u202eexe.txt", "שלום עולם", "مرحبا بالعالم", "abc\u202edef\u202cghi"]
EMOJI_COMBINING = ["😀", "👩‍👩‍👧‍👦", "🏳️‍🌈", "e\u0301", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗", "\u0301\u0301\u0301",
                   "\u200b", "\u00a0", "\u3000", "𝕳𝖆𝖗𝖇𝖔𝖚𝖗", "Ünïcödé & Søn"]
MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
          '"><svg onload=alert(1)>', "'><svg onload=alert(1)>",
          "</textarea><script>alert(1)</script>", "</title><script>alert(1)</script>",
          "<style>@import url(http://127.0.0.1:9/x.css)</style>",
          "<img src=file:///etc/passwd>", "javascript:alert(1)", "<!--", "&amp;", "&lt;b&gt;"]
TEMPLATE = ["{{7*7}}", "{% for x in range(3) %}x{% endfor %}", "${7*7}", "#{7*7}",
            "{{ config }}", "{{ self.__init__.__globals__ }}", "<%= 7*7 %>", "{#", "{%", "}}"]
SQL = ["'; DROP TABLE answers; --", "\" OR 1=1 --", "1; SELECT * FROM users",
       "' UNION SELECT password_hash FROM users --", "%", "_", "\\"]
NUMBER_WORDS = ["1e309", "-1e309", "99999999999999999999999", "9" * 400, "-0", "NaN", "nan",
                "Infinity", "-Infinity", "inf", "0x10", "1_000", "1,200", "$1200", "£ 12", "12%",
                "٣", "²", "1.", ".5", "0.00001", "0.000001", "1e-7", "--3", "+5", "1e3",
                "3.14159265358979323846", "1000000000000", "1000000000000.5", "-5", "0",
                "not_sure", "na", " 42 ", "4 2", "1,2,3", "€1.234,56"]
# Markup that must never reach a page unescaped (none of these occurs in a page by itself).
DANGEROUS = [m for m in MARKUP if "<" in m and ("alert(" in m or "<img" in m or "<style" in m)]

ATOMS = CONTROL + BIDI + EMOJI_COMBINING + MARKUP + TEMPLATE + SQL + NUMBER_WORDS + [
    "", " ", "  ", "\t", "\r\n", "a", "Harbour Dental", "O'Brien & Co"]
EDGE_LENGTHS = [99, 100, 101, 119, 120, 121, 199, 200, 201, 254, 255, 399, 400, 401, 1999, 2000,
                2001, 4999, 5000, 5001, 5002, 10_000]

atom = st.one_of(st.sampled_from(ATOMS), st.text(max_size=12))
short_hostile = st.lists(atom, max_size=6).map("".join)


def _repeat(unit: str, length: int) -> str:
    unit = unit or "x"
    return (unit * (length // len(unit) + 1))[:length]


long_hostile = st.builds(_repeat, atom, st.one_of(st.sampled_from(EDGE_LENGTHS),
                                                  st.integers(0, 10_500)))
hostile_text = st.one_of(short_hostile, short_hostile, st.text(), long_hostile)
# A field value that is usually within limits, sometimes far over them.
field_text = st.one_of(short_hostile, short_hostile, short_hostile, long_hostile)


# ---- the app, its users and its objects ---------------------------------------------------------

@dataclass
class World:
    app: object
    owner: object  # test client with an owner's assessment open
    member: object  # test client signed in as the firm's admin
    owner_assessment: str
    firm_id: int
    user_id: int
    client_id: int
    interview: str  # a consultant-led assessment of client_id
    engine: str = "sqlite"  # the database's: "sqlite" or "postgresql"
    # What only some targets need (the living roadmap's actions, a review, the owner's link),
    # made by `once` on first use, so the other targets' worlds cost no more.
    made: dict = field(default_factory=dict)

    def db(self):
        return connect(database(self.app.config))

    def stored(self, assessment_id: str, source: str):
        db = self.db()
        try:
            return stored_answers(db, assessment_id, source)
        finally:
            db.close()

    def fresh_owner(self) -> None:
        """A new browser with a new assessment, so one example's answers never meet another's."""
        self.owner = self.app.test_client()
        assert send(self.owner, "POST", "/assessment/start").status_code == 303
        with self.owner.session_transaction() as session:
            self.owner_assessment = session["assessment_id"]
        db = self.db()
        try:  # finished: its report, made only then, shows the names typed; answers still change
            set_status(db, self.owner_assessment, "finished")
        finally:
            db.close()

    def kept(self, text: str) -> str:
        """Text as a plain text column gives it back: PostgreSQL cannot hold NUL, which its
        store writes as U+FFFD (storage/postgres.py); SQLite keeps it. (Answers are JSON, where
        a NUL is written as an escape, and come back as typed on both.)"""
        return text.replace("\x00", "\ufffd") if self.engine == "postgresql" else text

    def version(self, assessment_id: str, question_id: str, source: str) -> int:
        stored = self.stored(assessment_id, source).get(question_id)
        return stored.version if stored else 0

    def once(self, key: str, make: Callable[[], object]):
        """What `make` makes, made the first time it is asked for in this world."""
        if key not in self.made:
            self.made[key] = make()
        return self.made[key]

    def today(self) -> date:
        """Today where the firm works: what due dates are counted from on its pages."""
        db = self.db()
        try:
            return datetime.now(zone_of(accounts.firm_time_zone(db, self.firm_id))).date()
        finally:
            db.close()

    def new_client(self, name: str) -> int:
        db = self.db()
        try:
            return store.create_client(db, self.firm_id, name=name)
        finally:
            db.close()

    def new_action(self, client_id: int, *, party: str = "provider",
                   agreed_due: date | None = None) -> int:
        """A proposed action of the client; agreed (by the rules, as a member agrees one)
        when agreed_due is given."""
        today = self.today()
        db = self.db()
        try:
            made = Action(id=None, client_id=client_id, title="Back up the front desk PC",
                          why="Nothing is copied anywhere.", workstream="Security", party=party)
            action_id = action_store.add_action(db, self.firm_id, made, who="fuzz", on=today)
            if agreed_due is not None:
                proposed = action_store.get_action(db, self.firm_id, action_id)
                agreed = decide(proposed, Move(Status.AGREED, due=agreed_due, person="Sam Owner"),
                                who="fuzz", today=today)
                assert action_store.save_decision(db, self.firm_id, agreed)
            return action_id
        finally:
            db.close()

    def action(self, action_id: int) -> Action:
        db = self.db()
        try:
            return action_store.get_action(db, self.firm_id, action_id)
        finally:
            db.close()

    def last_event(self, action_id: int):
        db = self.db()
        try:
            return action_store.action_events(db, self.firm_id, action_id)[-1]
        finally:
            db.close()


def make_world(folder: Path) -> World:
    """The app on the SQLite file in `folder`, or on PostgreSQL when ITHEALTH_DATABASE_URL is set
    (the tests' `database_url` sets it for the PostgreSQL half)."""
    folder = Path(folder)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "fuzz-secret", "WTF_CSRF_ENABLED": False,
        "PROPAGATE_EXCEPTIONS": False,  # a crash is a 500 response, reported as such
        "SIGNIN_RATE_LIMIT": 10**9,
        "DATABASE": str(folder / "fuzz.sqlite"), "REPORT_DIR": str(folder / "reports")})
    owner = app.test_client()
    assert owner.post("/assessment/start").status_code == 303
    with owner.session_transaction() as session:
        owner_assessment = session["assessment_id"]
    who = make_member(app)
    member = app.test_client()
    signed = member.post("/account/sign-in", data={"email": who["email"], "password": PASSWORD})
    assert signed.status_code == 303
    db = connect(database(app.config))
    try:
        client_id = store.create_client(db, who["firm_id"], name="Harbour Dental")
        interview = store.start_client_assessment(
            db, app.extensions["bank"], who["firm_id"], client_id, mode="interview",
            created_by=who["user_id"])
        engine = db.engine
    finally:
        db.close()
    return World(app, owner, member, owner_assessment, who["firm_id"], who["user_id"],
                 client_id, interview, engine)


def send(browser, method: str, url: str, **kwargs):
    """One request; a 5xx fails at once, saying what was sent."""
    response = browser.open(url, method=method, **kwargs)
    STATS["requests"] += 1
    assert response.status_code < 500, (
        f"5xx: {method} {url} answered {response.status_code} for {_short(kwargs)}")
    return response


def _short(value, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


# ---- reading pages back -------------------------------------------------------------------------

class _Forms(HTMLParser):
    """Each <form> on a page as the (name, value) pairs a browser would submit."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._form: list | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = []
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            name = a.get("name")
            if not name or kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.append((name, a.get("value") or "on"))
                return
            self._form.append((name, a.get("value") or ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = (a["name"], [])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            text = "".join(parts)
            # The HTML parser drops one newline right after <textarea> (WTForms writes one).
            text = text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") \
                else text
            self._form.append((name, text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def form_with(html: str, field: str) -> MultiDict:
    """The form on the page that has a field called `field`, as a browser would submit it."""
    parser = _Forms()
    parser.feed(html)
    for pairs in parser.forms:
        if any(name == field for name, _ in pairs):
            return MultiDict(pairs)
    raise AssertionError(f"no form with a field {field!r} on the page")


def errors_on(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", e).strip()
            for e in re.findall(r'class="field-error"[^>]*>(.*?)</p>', html, re.S)]


def assert_escaped(html: str, value: str, where: str) -> None:
    """`value` appears escaped in the page, and none of its markup appears raw."""
    assert str(escape(value)) in html, f"{where}: {_short(value)} is not shown back escaped"
    for dangerous in DANGEROUS:
        if dangerous in value:
            assert dangerous not in html, f"{where}: {dangerous!r} reached the page unescaped"


def one_line(text: str) -> str:
    """As the report shows a one-line value: control characters dropped, spaces folded."""
    return " ".join(printable(text).split())


# ---- the owner's section form --------------------------------------------------------------------

def _visible(q) -> bool:
    return q.show_if is None


TEXT_QIDS = [q.id for q in BANK.questions if widget_for(q).template == "text"]
NUMBER_QIDS = [q.id for q in BANK.questions if widget_for(q).template == "number" and _visible(q)]
RADIO_QIDS = [q.id for q in BANK.questions if widget_for(q).template == "radios" and _visible(q)]
CHECKBOX_QIDS = [q.id for q in BANK.questions
                 if widget_for(q).template == "checkboxes" and _visible(q)]
RADIO_TRICKS = ["", " ", "not_sure", "na", "²", "--3", "٣", " 3 ", "3.0", "0", "6", "-1", "+3",
                "1e0", "daily ", "DAILY", "daily\x00", "usd\n", "none", "missing_admin"]


def _choice_ids(q) -> list[str]:
    return [value for value, _ in widget_for(q).choices(q)]


def _section_url(qid: str) -> str:
    return f"/assessment/section/{BANK.section_of[qid].id}"


def _owner_form(world: World, qid: str) -> tuple[str, MultiDict]:
    world.fresh_owner()
    url = _section_url(qid)
    page = send(world.owner, "GET", url)
    assert page.status_code == 200
    return url, form_with(page.get_data(as_text=True), "v_" + field_name(BANK.question_by_id[qid]))


def _refused(response, name: str, what) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 422, f"{_short(what)}: refused with {response.status_code}"
    assert f'id="err-{name}"' in html and errors_on(html), \
        f"{_short(what)} was refused without a message next to the field"
    return html


def _a_domain(qid: str, value: str) -> bool:
    """The email domain box takes only a domain (it is looked up): anything else it refuses,
    with a message beside it. Every other text box takes any text within the limit."""
    from assessment.support.email_check import DomainError, normalise_domain

    if qid != "profile.email_domain":
        return True
    try:
        normalise_domain(value)
    except DomainError:
        return False
    return True


def check_owner_text(world: World, drawn: tuple[str, str]) -> str:
    qid, value = drawn
    name = field_name(BANK.question_by_id[qid])
    url, form = _owner_form(world, qid)
    form.setlist(name, [value])
    response = send(world.owner, "POST", url, data=form)
    expected = value.strip()
    if response.status_code != 303:
        html = _refused(response, name, value)
        assert len(value) > MAX_TEXT_ANSWER or not _a_domain(qid, value), \
            f"refused a text within the limit: {_short(value)}"
        assert form_with(html, name)[name] == value, "the refused text is not shown back as typed"
        assert_escaped(html, value, "refused text")
        return "refused"
    stored = world.stored(world.owner_assessment, "owner").get(qid)
    if not expected:
        assert stored is None or stored.answer is None, "an empty text box left an answer"
    else:
        assert stored is not None and stored.answer is not None, f"{_short(value)} not stored"
        assert stored.answer.value == expected, \
            f"stored {_short(stored.answer.value)}, typed {_short(value)}"
    html = send(world.owner, "GET", url).get_data(as_text=True)
    assert form_with(html, name)[name] == expected, "the saved text is not shown back exactly"
    assert_escaped(html, expected, "section page")
    if qid == BUSINESS_NAME:
        report = send(world.owner, "GET", "/assessment/report").get_data(as_text=True)
        shown = one_line(expected)[:MAX_REPORT_NAME] or FALLBACK_BUSINESS_NAME
        assert_escaped(report, shown, "report HTML")
    return "echoed"


def _plain_decimal(text: str) -> Decimal | None:
    """The number in text made only of ASCII digits (an optional minus and decimals), if so."""
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def check_owner_number(world: World, drawn: tuple[str, str]) -> str:
    qid, value = drawn
    q = BANK.question_by_id[qid]
    name = field_name(q)
    low = q.min if q.min is not None else 0
    high = q.max if q.max is not None else 1e12
    url, form = _owner_form(world, qid)
    for state in ("not_sure", "na"):
        form.pop(f"{name}__{state}", None)
    form.setlist(name, [value])
    response = send(world.owner, "POST", url, data=form)
    plain = _plain_decimal(value.strip())
    if response.status_code != 303:
        html = _refused(response, name, value)
        # "1.500" reads as 1.5 or 1500 (docs/bank-format.md, Numbers): asked, not guessed.
        ambiguous = any("can be read two ways" in e for e in errors_on(html))
        assert plain is None or not low <= plain <= high or ambiguous, \
            f"refused a plain number within {low:g}..{high:g}: {value!r}"
        shown = form_with(html, name)[name]
        assert shown == value.strip(), \
            f"the refused figure {value!r} is shown back as {shown!r}"
        return "refused"
    stored = world.stored(world.owner_assessment, "owner").get(qid)
    if not value.strip():
        assert stored is None or stored.answer is None, "an emptied figure left an answer"
        return "echoed"
    assert stored is not None and stored.answer is not None, f"{value!r} accepted, not stored"
    number = stored.answer.value
    assert isinstance(number, (int, float)) and math.isfinite(number), \
        f"{value!r} stored as {number!r}"
    assert low <= number <= high, f"{value!r} stored as {number!r}, outside {low:g}..{high:g}"
    if plain is not None:
        assert math.isclose(number, float(plain), rel_tol=1e-12, abs_tol=1e-12), \
            f"{value!r} stored as {number!r}"
    # Shown back: the page's value, submitted again unchanged, is accepted and changes nothing.
    html = send(world.owner, "GET", url).get_data(as_text=True)
    again = form_with(html, "v_" + name)
    shown = again[name]
    version = world.version(world.owner_assessment, qid, "owner")
    resubmitted = send(world.owner, "POST", url, data=again)
    assert resubmitted.status_code == 303, (
        f"{value!r} was saved as {number!r} and shown as {shown!r}, which the same page then "
        f"refuses: {errors_on(resubmitted.get_data(as_text=True))}")
    assert world.version(world.owner_assessment, qid, "owner") == version, \
        f"{value!r}: saving the page unchanged changed the stored figure (shown as {shown!r})"
    return "echoed"


def check_owner_radio(world: World, drawn: tuple[str, str]) -> str:
    qid, value = drawn
    q = BANK.question_by_id[qid]
    name = field_name(q)
    choices = _choice_ids(q)
    url, form = _owner_form(world, qid)
    before = world.stored(world.owner_assessment, "owner").get(qid)
    form.setlist(name, [value])
    response = send(world.owner, "POST", url, data=form)
    if response.status_code != 303:
        _refused(response, name, value)
        assert value not in choices, f"refused one of the choices: {value!r}"
        return "refused"
    stored = world.stored(world.owner_assessment, "owner").get(qid)
    if value == "":
        assert stored == before, "an untouched choice changed the stored answer"
        return "echoed"
    assert stored is not None and stored.answer is not None, f"{value!r} accepted, not stored"
    token = stored.answer.state if stored.answer.state != "answered" \
        else str(stored.answer.value)
    assert token in choices, f"{value!r} stored as {token!r}, which is not a choice"
    if value in choices:
        assert token == value, f"chose {value!r}, stored {token!r}"
    html = send(world.owner, "GET", url).get_data(as_text=True)
    assert form_with(html, "v_" + name).getlist(name) == [token], \
        f"stored {token!r}, but the page does not show it chosen"
    return "echoed"


def check_owner_checkboxes(world: World, drawn: tuple[str, list[str]]) -> str:
    qid, values = drawn
    q = BANK.question_by_id[qid]
    name = field_name(q)
    own = [c.id for c in q.choices]
    special = [v for v in _choice_ids(q) if v not in own]
    url, form = _owner_form(world, qid)
    before = world.stored(world.owner_assessment, "owner").get(qid)
    form.setlist(name, values)
    response = send(world.owner, "POST", url, data=form)
    valid = bool(values) and all(v in own for v in values) or (
        len(values) == 1 and values[0] in special)
    if response.status_code != 303:
        _refused(response, name, values)
        assert not valid, f"refused ticks that are all choices: {values!r}"
        return "refused"
    stored = world.stored(world.owner_assessment, "owner").get(qid)
    if not values:
        assert stored == before, "no ticks changed the stored answer"
        return "echoed"
    assert valid, f"accepted ticks that are not choices: {_short(values)}"
    expected = [values[0]] if values[0] in special else [c for c in own if c in values]
    answer = stored.answer
    got = [answer.state] if answer.state != "answered" else list(answer.value)
    assert got == expected, f"ticked {values!r}, stored {got!r}"
    html = send(world.owner, "GET", url).get_data(as_text=True)
    assert form_with(html, "v_" + name).getlist(name) == expected, \
        f"stored {expected!r}, but the page shows other ticks"
    return "echoed"


def _text_drawn():
    return st.tuples(st.sampled_from(TEXT_QIDS), hostile_text)


def _number_drawn():
    return st.tuples(st.sampled_from(NUMBER_QIDS),
                     st.one_of(st.sampled_from(NUMBER_WORDS), st.sampled_from(NUMBER_WORDS),
                               st.integers(-10**6, 10**13).map(str),
                               st.decimals(allow_nan=False, allow_infinity=False,
                                           places=6).map(str),
                               st.floats().map(repr), short_hostile))


def _radio_value(qid: str):
    return st.one_of(st.sampled_from(_choice_ids(BANK.question_by_id[qid])),
                     st.sampled_from(RADIO_TRICKS), short_hostile)


SCALE_QIDS = [q for q in RADIO_QIDS if BANK.question_by_id[q].type == "scale"]


def _radio_drawn():
    qids = st.one_of(st.sampled_from(RADIO_QIDS), st.sampled_from(SCALE_QIDS))
    return qids.flatmap(lambda qid: st.tuples(st.just(qid),
                                                                     _radio_value(qid)))


def _checkbox_drawn():
    def values(qid):
        ids = _choice_ids(BANK.question_by_id[qid])
        tick = st.one_of(st.sampled_from(ids), st.sampled_from(ids), st.sampled_from(RADIO_TRICKS),
                         short_hostile)
        return st.one_of(st.lists(st.sampled_from(ids), max_size=len(ids), unique=True),
                         st.lists(tick, max_size=8),
                         st.lists(st.sampled_from(ids), min_size=50, max_size=500))
    return st.sampled_from(CHECKBOX_QIDS).flatmap(lambda qid: st.tuples(st.just(qid),
                                                                        values(qid)))


# ---- autosave (owner and interview): any JSON at all ---------------------------------------------

CURRENT = object()  # base_version: the version stored now
FRESH = object()  # client_key: a new one

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(),
                      st.integers(min_value=-10**400, max_value=10**400), st.floats(),
                      short_hostile, st.sampled_from(NUMBER_WORDS))
json_value = st.recursive(json_leaf, lambda kids: st.one_of(
    st.lists(kids, max_size=6), st.dictionaries(st.text(max_size=8), kids, max_size=6)),
    max_leaves=25)
NUMBER_TOKENS = ["1e309", "-1e309", "9" * 400, "-" + "9" * 400, "99999999999999999999999", "-0",
                 "NaN", "Infinity", "-Infinity", "1e-400", "0.1e1", "9" * 5000, "1" + "0" * 308]


def _valid_raw(q):
    ids = [c.id for c in q.choices]
    kind = widget_for(q).template
    if q.type == "scale":
        return st.integers(int(q.min) - 2, int(q.max) + 2)
    if kind == "radios":
        return st.sampled_from(ids)
    if kind == "checkboxes":
        return st.lists(st.sampled_from(ids), min_size=1, unique=True)
    if kind == "number":
        return st.one_of(st.integers(-10, 10**6), st.floats(), st.sampled_from(NUMBER_WORDS))
    return hostile_text


def _answer_for(qid: str):
    q = BANK.question_by_id[qid]
    return st.one_of(_valid_raw(q), _valid_raw(q), json_value,
                     st.fixed_dictionaries({"state": st.sampled_from(
                         ["not_sure", "na", "answered", "", "NOT_SURE"])},
                         optional={"value": st.one_of(_valid_raw(q), json_value)}),
                     st.lists(st.integers(), min_size=1000, max_size=5000))


def _structured(qid: str):
    return st.fixed_dictionaries(
        {"question": st.just(qid), "answer": _answer_for(qid),
         "base_version": st.one_of(st.just(CURRENT), st.just(CURRENT), st.integers(-3, 3),
                                   st.integers(min_value=2**63), st.booleans(), json_value),
         "client_key": st.one_of(st.just(FRESH), st.just(FRESH), short_hostile, json_value)})


def _raw_body():
    """A JSON document written by hand: numbers no JSON encoder writes, BASE and KEY filled in
    when sent."""
    def body(qid, number, quote):
        return ("DOC", qid, f'{{"question": {json.dumps(qid)}, "answer": {quote}{number}{quote}, '
                            f'"base_version": BASE, "client_key": KEY}}')
    return st.builds(body, st.sampled_from([q.id for q in BANK.questions]),
                     st.sampled_from(NUMBER_TOKENS), st.sampled_from(["", '"']))


content_types = st.sampled_from(["application/json", "application/json", "application/json",
                                 "application/json; charset=utf-8", "text/plain",
                                 "application/x-www-form-urlencoded"])


def _well_formed(qid: str):
    """Everything right but the answer, which may be anything."""
    q = BANK.question_by_id[qid]
    return st.fixed_dictionaries({
        "question": st.just(qid), "base_version": st.just(CURRENT), "client_key": st.just(FRESH),
        "answer": st.one_of(_valid_raw(q), _valid_raw(q), hostile_text,
                            st.sampled_from(NUMBER_WORDS), json_value)})


ALL_QIDS = [q.id for q in BANK.questions]
autosave_payload = st.one_of(
    st.sampled_from(ALL_QIDS).flatmap(_well_formed),
    st.sampled_from(NUMBER_QIDS + TEXT_QIDS + SCALE_QIDS).flatmap(_well_formed),
    st.sampled_from(ALL_QIDS).flatmap(_structured),
    st.sampled_from(NUMBER_QIDS + TEXT_QIDS).flatmap(_structured),
    st.fixed_dictionaries({}, optional={"question": json_value, "answer": json_value,
                                        "base_version": json_value, "client_key": json_value}),
    json_value,
    _raw_body(),
    st.text(max_size=50).map(lambda t: ("RAW", t)),
    st.builds(lambda opener, depth: ("RAW", opener * depth), st.sampled_from(["[", '{"a":']),
              st.integers(1, 100_000)),
)
autosave_drawn = st.one_of(st.tuples(autosave_payload, st.just("application/json")),
                           st.tuples(autosave_payload, content_types))


def _resolve(world: World, assessment_id: str, source: str, payload):
    """The request body and its question: sentinels replaced by the stored version and a fresh
    client key."""
    if isinstance(payload, tuple) and payload[0] == "RAW":
        return payload[1], None
    if isinstance(payload, tuple) and payload[0] == "DOC":
        _, qid, body = payload
        body = body.replace("BASE", str(world.version(assessment_id, qid, source)))
        return body.replace("KEY", json.dumps(uuid.uuid4().hex)), qid
    if isinstance(payload, dict):
        payload = dict(payload)
        qid = payload.get("question") if isinstance(payload.get("question"), str) else None
        if payload.get("base_version") is CURRENT:
            payload["base_version"] = world.version(assessment_id, qid, source) if qid else 0
        if payload.get("client_key") is FRESH:
            payload["client_key"] = uuid.uuid4().hex
        return json.dumps(payload), qid
    return json.dumps(payload), None


def _check_autosave(world: World, browser, url: str, assessment_id: str, source: str,
                    drawn) -> str:
    payload, content_type = drawn
    body, qid = _resolve(world, assessment_id, source, payload)
    response = send(browser, "POST", url, data=body.encode("utf-8"), content_type=content_type)
    assert response.is_json, f"autosave answered {response.mimetype}, not JSON, to {_short(body)}"
    data = response.get_json()
    if response.status_code >= 400:
        assert isinstance(data.get("message"), str) and data["message"].strip(), \
            f"{response.status_code} without a message for {_short(body)}"
        return "refused"
    assert response.status_code == 200 and isinstance(data.get("version"), int), data
    stored = world.stored(assessment_id, source).get(qid)
    assert stored is not None, f"answered 200 for {_short(body)}, but nothing is stored"
    if data.get("replayed"):
        assert stored.version >= data["version"], (data, stored.version)
        return "echoed"
    assert stored.version == data["version"], \
        f"answered version {data['version']}, stored {stored.version}"
    q = BANK.question_by_id[qid]
    answer = stored.answer
    if answer is not None and answer.state == "answered":
        value = answer.value
        if widget_for(q).template == "number":
            assert isinstance(value, (int, float)) and math.isfinite(value), value
        elif widget_for(q).template == "text":
            sent = json.loads(body)["answer"]
            sent = sent["value"] if isinstance(sent, dict) else sent
            assert value == sent.strip(), f"sent {_short(sent)}, stored {_short(value)}"
            if source == "owner":
                html = send(browser, "GET", _section_url(qid)).get_data(as_text=True)
                name = field_name(q)
                assert form_with(html, name)[name] == value, "autosaved text not shown back"
                assert_escaped(html, value, "section page after autosave")
        else:
            tokens = [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
            assert set(tokens) <= set(_choice_ids(q)), f"stored {value!r}"
    return "echoed"


def check_owner_autosave(world: World, drawn) -> str:
    return _check_autosave(world, world.owner, "/assessment/answer", world.owner_assessment,
                           "owner", drawn)


def check_interview_autosave(world: World, drawn) -> str:
    return _check_autosave(world, world.member,
                           f"/workspace/assessments/{world.interview}/answer", world.interview,
                           "consultant", drawn)


# ---- the workspace: client form, interview notes, branding ---------------------------------------

CLIENT_FIELDS = tuple(CLIENT_LIMITS)
client_values = st.fixed_dictionaries({
    "name": st.one_of(st.just("Harbour Dental"), field_text, field_text),
    **{k: field_text for k in CLIENT_FIELDS if k != "name"}})


def _client_ok(values: dict) -> bool:
    return bool(one_line(values["name"])) and all(
        len(values[k]) <= CLIENT_LIMITS[k] for k in CLIENT_FIELDS) and \
        name_problem(values["name"], what="the client's name") is None  # no hidden characters


def _check_client_page(world: World, client_id: int, values: dict, where: str) -> None:
    db = world.db()
    try:
        row = store.get_client(db, world.firm_id, client_id)
    finally:
        db.close()
    html = send(world.member, "GET", f"/workspace/clients/{client_id}").get_data(as_text=True)
    form = form_with(html, "contacts")
    for key in CLIENT_FIELDS:
        expected = world.kept(values[key].strip())
        assert row[key] == expected, f"{where}: {key} stored as {_short(row[key])}, " \
                                     f"typed {_short(values[key])}"
        assert form[key] == expected, f"{where}: {key} is not shown back exactly"
        assert_escaped(html, expected, f"{where}: client page, {key}")


def _check_client_refusal(response, values: dict, where: str) -> str:
    html = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, \
        f"{where}: refused {_short(values)} with {response.status_code}, not a 4xx"
    assert errors_on(html), f"{where}: refused without a message"
    assert not _client_ok(values), f"{where}: refused values within the limits {_short(values)}"
    form = form_with(html, "contacts")
    for key in CLIENT_FIELDS:
        assert form[key] == values[key], f"{where}: what was typed in {key} is not shown back"
    return "refused"


def check_client_create(world: World, values: dict) -> str:
    response = send(world.member, "POST", "/workspace/clients", data=values)
    if response.status_code != 303:
        return _check_client_refusal(response, values, "new client")
    client_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    _check_client_page(world, client_id, values, "new client")
    return "echoed"


def check_client_update(world: World, values: dict) -> str:
    url = f"/workspace/clients/{world.client_id}"
    response = send(world.member, "POST", url, data=values)
    if not _client_ok(values):
        # Refused: a 4xx with a message, and the edits are still on the page.
        return _check_client_refusal(response, values, "client update")
    assert response.status_code == 303, f"client update answered {response.status_code}"
    _check_client_page(world, world.client_id, values, "client update")
    return "echoed"


NOTE_QIDS = ["backup.automatic", "monitoring.watched"]


def _interview_answer(qid):
    return st.one_of(st.none(), st.sampled_from(_choice_ids(BANK.question_by_id[qid])),
                     st.sampled_from(RADIO_TRICKS[2:]), short_hostile)


interview_drawn = st.sampled_from(NOTE_QIDS).flatmap(
    lambda qid: st.tuples(st.just(qid), field_text, _interview_answer(qid)))


def check_interview_note(world: World, drawn) -> str:
    qid, note, answer = drawn
    q = BANK.question_by_id[qid]
    name = field_name(q)
    url = f"/workspace/assessments/{world.interview}/interview/{BANK.section_of[qid].id}"
    page = send(world.member, "GET", url).get_data(as_text=True)
    form = form_with(page, "n_" + name)
    form.setlist("n_" + name, [note])
    if answer is not None:
        form.setlist(name, [answer])
    form.setlist("then", ["overview"])
    response = send(world.member, "POST", url, data=form)
    expected = note.strip()
    answer_ok = answer is None or answer == "" or answer in _choice_ids(q)
    if response.status_code != 303:
        html = _refused(response, name, (note, answer))
        assert len(expected) > MAX_NOTE or not answer_ok, \
            f"refused a note within the limit with answer {answer!r}"
        shown = form_with(html, "n_" + name)["n_" + name]
        assert shown.strip() == expected, (
            f"the refused page lost the note that was typed: typed {_short(note)}, "
            f"shown {_short(shown)} (answer {answer!r})")
        return "refused"
    assert len(expected) <= MAX_NOTE and answer_ok, \
        f"accepted note of {len(expected)} chars with answer {answer!r}"
    expected = world.kept(expected)
    stored = world.stored(world.interview, "consultant").get(qid)
    assert (stored.note if stored else "") == expected, \
        f"note stored as {_short(stored and stored.note)}, typed {_short(note)}"
    html = send(world.member, "GET", url).get_data(as_text=True)
    assert form_with(html, "n_" + name)["n_" + name] == expected, "the note is not shown back"
    assert_escaped(html, expected, "interview page")
    if printable(expected).strip():  # a note of nothing but control characters and spaces is
        # left out of the report, as an empty one is
        report = send(world.member, "GET",
                      f"/workspace/assessments/{world.interview}/report?variant=full")
        assert_escaped(report.get_data(as_text=True), printable(expected), "report HTML, note")
    return "echoed"


signin_drawn = st.tuples(st.one_of(field_text, st.just("ana@northgate.example")),
                         st.one_of(field_text, st.just(PASSWORD + "x")))


def check_sign_in(world: World, drawn) -> str:
    email, password = drawn
    browser = world.app.test_client()
    response = send(browser, "POST", "/account/sign-in",
                    data={"email": email, "password": password})
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 429), \
        f"sign-in with {_short(drawn)} answered {response.status_code}"
    assert errors_on(html) or "error-summary" in html, "sign-in refused without a message"
    form = form_with(html, "password")
    assert form["email"] == email.strip(), "the email typed is not shown back"
    assert form["password"] == "", "the password was written back into the page"
    assert_escaped(html, email.strip(), "sign-in page")
    return "refused"


VALID_COLOURS = st.sampled_from(["#0d5c63", "#B5541B", "#000000", "#ffffff", "#123abc"])
HOSTILE_COLOURS = st.one_of(
    st.sampled_from(["#0d5c63\n", " #0d5c63", "#0d5c63 ", "#0d5c6", "#0d5c633", "red",
                     "#GGGGGG", "#0d5c63;}body{background:url(x)", "<script>", "", "\x00"]),
    short_hostile)
branding_values = st.fixed_dictionaries({
    "name": st.one_of(st.just("Northgate IT"), field_text, field_text),
    "primary_colour": st.one_of(VALID_COLOURS, VALID_COLOURS, VALID_COLOURS, HOSTILE_COLOURS),
    "accent_colour": st.one_of(VALID_COLOURS, VALID_COLOURS, VALID_COLOURS, HOSTILE_COLOURS),
    "contact_line": field_text, "disclaimer": field_text})


def _branding_ok(values: dict) -> bool:
    return bool(one_line(values["name"])) and all(
        len(values[k]) <= BRANDING_LIMITS[k] for k in BRANDING_LIMITS) and all(
        STRICT_COLOUR.fullmatch(values[k]) for k in ("primary_colour", "accent_colour")) and \
        name_problem(values["name"], what="your firm's name", limit=120) is None


def check_branding(world: World, values: dict) -> str:
    response = send(world.member, "POST", "/workspace/branding", data=values)
    if response.status_code != 303:
        html = response.get_data(as_text=True)
        assert response.status_code == 422, f"branding refused with {response.status_code}"
        assert errors_on(html), "branding refused without a message"
        assert not _branding_ok(values), f"refused branding within the limits {_short(values)}"
        form = form_with(html, "contact_line")
        for key in ("name", "primary_colour", "accent_colour", "contact_line", "disclaimer"):
            assert form[key] == values[key], f"what was typed in {key} is not shown back"
        return "refused"
    expected = {"name": one_line(values["name"]),
                "primary_colour": values["primary_colour"].lower(),
                "accent_colour": values["accent_colour"].lower(),
                "contact_line": one_line(values["contact_line"]),
                "disclaimer": one_line(values["disclaimer"])}
    html = send(world.member, "GET", "/workspace/branding").get_data(as_text=True)
    form = form_with(html, "contact_line")
    for key, value in expected.items():
        if key == "disclaimer" and not value:
            continue  # an empty disclaimer shows the default one
        assert form[key] == value, f"branding {key}: typed {_short(values[key])}, " \
                                   f"shown {_short(form[key])}"
        assert_escaped(html, value, f"branding page, {key}")
    report = send(world.member, "GET",
                  f"/workspace/assessments/{world.interview}/report").get_data(as_text=True)
    assert_escaped(report, one_line(expected["name"]),
                   f"report HTML, firm name (branding saved: {_short(values, 200)})")
    for key in ("contact_line", "disclaimer"):
        if expected[key]:
            assert_escaped(report, one_line(expected[key]), f"report HTML, {key}")
    assert expected["primary_colour"] in report, \
        f"the saved primary colour {expected['primary_colour']!r} is not used by the report"
    return "echoed"


# ---- the living roadmap: an action's details and moves, reviews, the owner's comments ---------

ROADMAP_LIMITS = {"person": 200, "ticket": 200, "notes": 5000}  # an action's details
MAX_REASON = 1000  # a move's reason
MAX_COST = 1_000_000_000  # an actual cost, a whole number
MAX_HEADLINE = 300  # a review's
MAX_REVIEW_NOTES = 500
MAX_COMMENT = 2000  # the owner's comment, 1 to 2,000 characters
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What a proposed action may be moved to by hand.
FROM_PROPOSED = {"agreed", "deferred", "risk_accepted", "dropped"}

FORMULA = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://127.0.0.1:9/","open")', "+1+1", "-2+3",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "=1+1\x00"]
NASTY = FORMULA + MARKUP + BIDI + TEMPLATE + [
    "\x00", "a\x00b", " \x00\x1f\x7f\u2028 ", "\u202eevil\u202c", "👩‍👩‍👧‍👦", "a\u00a0b", "\r\n"]
roadmap_text = st.one_of(st.sampled_from(NASTY), field_text, field_text)

TODAY = datetime.now(UTC).date()  # near enough to the firm's for drawing dates around it
WEEK_DAY = f"{TODAY.year + 3}-W01-1"  # an ISO week date, ten characters, a year or more ahead
DATE_WORDS = ["", " ", "2026-02-30", "31/12/2026", "12/31/2026", "9999-12-31", "0001-01-01",
              "2026-13-01", "2026-00-10", "2026-1-5", "20261015", WEEK_DAY, "2026-001",
              "٢٠٢٦-١٠-١٥", "２０２６-１０-１５", "2026‐10‐15", "2026-10-15T10:00",
              "2026-10-15\x00", "\x002026-10-15", "today", "2024-02-29", "2025-02-29",
              "-2026-10-15", "+2026-10-15", "<script>alert(1)</script>", "NaN", "1e309"]


def _day_after(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def _padded(text: str) -> str:
    return f" {text}\t"


near_day = st.integers(-60, 800).map(_day_after)
date_text = st.one_of(st.sampled_from(DATE_WORDS), near_day, near_day, near_day.map(_padded),
                      st.dates().map(date.isoformat), short_hostile)


def _typed_day(text: str) -> date | None:
    """A date box's value as the forms read it: None when left empty, the date when it is a
    real one written YYYY-MM-DD (spaces around it trimmed); ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    if not ISO_DAY.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def _day_or_none(text: str) -> date | None:
    try:
        return _typed_day(text)
    except ValueError:
        return None


def _typed_cost(text: str) -> int | None:
    """An actual cost as typed ("1,200", "1 200" or "1200"): None when left empty; ValueError
    for anything but a whole number of ASCII digits up to MAX_COST."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    if not re.fullmatch(r"[0-9]+", cleaned) or len(cleaned.lstrip("0")) > len(str(MAX_COST)) \
            or int(cleaned.lstrip("0") or "0") > MAX_COST:
        raise ValueError(text)
    return int(cleaned.lstrip("0") or "0")


def _no_raw_markup(html: str, values, where: str) -> None:
    for value in values:
        for dangerous in DANGEROUS:
            if dangerous in value:
                assert dangerous not in html, f"{where}: {dangerous!r} reached the page unescaped"


def _problem(response, status: int, marker: str, what) -> str:
    """The page of a refusal: its status, and its message where `marker` says."""
    html = response.get_data(as_text=True)
    assert response.status_code == status, \
        f"{_short(what)}: refused with {response.status_code}, not {status}"
    assert marker in html, f"{_short(what)} was refused without a message ({marker} missing)"
    return html


def _shown_back(html: str, values: dict, keys, field: str, what: str):
    """A refused page keeps what was typed: each of `keys` in its box exactly, and escaped.
    Returns the form read back (`field` names one of its boxes)."""
    shown = form_with(html, field)
    for key in keys:
        assert shown[key] == values[key], \
            f"the refused {key} {_short(values[key])} is shown back as {_short(shown[key])}"
        assert_escaped(html, values[key], f"{what}, {key}")
    return shown


# An action's details: who does it, the ticket, notes and the actual cost.

COST_WORDS = NUMBER_WORDS + ["1,200", "1 200", " 1200 ", "1200", "0", "000", "1000000000",
                             "1000000001", "1,000,000,000", "١٢٠٠", "1\u00a0200", "9" * 5000,
                             "0" * 5000 + "7", "", "12.00", "1.200", "1'200"]
details_values = st.fixed_dictionaries({
    "person": st.one_of(st.just("Sam Owner"), roadmap_text),
    "ticket": st.one_of(st.just("INC-1042"), roadmap_text),
    "notes": st.one_of(roadmap_text, hostile_text),
    "actual_cost": st.one_of(st.sampled_from(COST_WORDS), st.integers(-10, 2 * MAX_COST).map(str),
                             st.integers(0, 10**7).map("{:,}".format), short_hostile)})


def check_action_details(world: World, values: dict) -> str:
    action_id = world.once("details action", lambda: world.new_action(world.client_id))
    url = f"/workspace/actions/{action_id}"
    form = form_with(send(world.member, "GET", url).get_data(as_text=True), "actual_cost")
    for key, value in values.items():
        form.setlist(key, [value])
    response = send(world.member, "POST", url + "/details", data=form)
    expected = {"person": one_line(values["person"]), "ticket": one_line(values["ticket"]),
                "notes": printable(values["notes"]).strip()}
    try:
        cost = _typed_cost(values["actual_cost"])
    except ValueError:
        cost = "unreadable"
    ok = cost != "unreadable" and all(len(expected[k]) <= ROADMAP_LIMITS[k] for k in expected)
    if response.status_code != 303:
        html = _problem(response, 422, 'id="details-problem"', values)
        assert not ok, f"refused details within the limits: {_short(values)}"
        # The page writes a line break of its own after <textarea>, so a note that starts
        # with one comes back whole.
        _shown_back(html, values, values, "actual_cost", "refused details")
        return "refused"
    assert ok, f"accepted details that are over a limit or not a whole cost: {_short(values)}"
    expected = {key: world.kept(value) for key, value in expected.items()}
    stored = world.action(action_id)
    got = {"person": stored.person, "ticket": stored.ticket, "notes": stored.notes}
    assert got == expected and stored.actual_cost == cost, \
        f"typed {_short(values)}, stored {_short(got)} and cost {stored.actual_cost!r}"
    html = send(world.member, "GET", url).get_data(as_text=True)
    shown = form_with(html, "actual_cost")
    for key, value in expected.items():
        assert shown[key] == value, f"the saved {key} {_short(value)} is shown as " \
                                    f"{_short(shown[key])}"
        assert_escaped(html, value, f"action page, {key}")
    assert shown["actual_cost"] == ("" if cost is None else str(cost)), \
        f"actual cost {values['actual_cost']!r} saved as {cost!r}, shown {shown['actual_cost']!r}"
    _no_raw_markup(html, values.values(), "action page")
    return "echoed"


# A move of a proposed action: agree, defer, accept the risk, drop (anything else refused).

STATUS_WORDS = [s.value for s in Status]
move_to = st.one_of(st.sampled_from(sorted(FROM_PROPOSED)), st.sampled_from(STATUS_WORDS),
                    st.sampled_from(["", " agreed ", "AGREED", "Agreed", "agreed\x00",
                                     "risk accepted", "deferred\u200b", "<script>alert(1)</script>",
                                     "agreed" * 10]), short_hostile)


def _plausible_move(to: str, days: int, reason: str, person: str) -> dict:
    """A move of the right shape (the date it needs, a day or more ahead), its words drawn."""
    day = _day_after(days)
    return {"to": to, "due": day if to in ("agreed", "deferred") else "", "reason": reason,
            "person": person, "until": day if to == "risk_accepted" else ""}


any_move = st.fixed_dictionaries({
    "to": move_to,
    "due": st.one_of(near_day, near_day, date_text),
    "reason": st.one_of(st.just("Budget comes in the next quarter"), st.just(""), roadmap_text),
    "person": st.one_of(st.just("Sam Owner"), st.just(""), roadmap_text),
    "until": st.one_of(near_day, st.just(""), date_text)})
move_values = st.one_of(st.builds(_plausible_move, st.sampled_from(sorted(FROM_PROPOSED)),
                                  st.integers(1, 800), roadmap_text, roadmap_text), any_move)


def _move_refusal(values: dict, today: date) -> str | None:
    """Why moving a proposed action as typed is refused, by the rules; None when it is not."""
    to = values["to"].strip()
    if to not in FROM_PROPOSED:
        return "not a move a proposed action can make"
    try:
        due, until = _typed_day(values["due"]), _typed_day(values["until"])
    except ValueError:
        return "a date that is not a date"
    reason, person = one_line(values["reason"]), one_line(values["person"])
    if len(reason) > MAX_REASON or len(person) > ROADMAP_LIMITS["person"]:
        return "over a limit"
    if to == "agreed" and (due is None or due < today or not person):
        return "agreed without a due date from today on, or without a person"
    if to == "deferred" and (due is None or not reason):
        return "deferred without a date and a reason"
    if to == "risk_accepted" and (not person or until is None or until <= today):
        return "risk accepted without a person and a later date"
    if to == "dropped" and not reason:
        return "dropped without a reason"
    return None


def check_action_move(world: World, values: dict) -> str:
    # Refused moves leave the action proposed: the next example moves it again.
    action_id = world.once("proposed action", lambda: world.new_action(world.client_id))
    url = f"/workspace/actions/{action_id}"
    form = form_with(send(world.member, "GET", url).get_data(as_text=True), "until")
    for key, value in values.items():
        form.setlist(key, [value])
    response = send(world.member, "POST", url + "/move", data=form)
    why = _move_refusal(values, world.today())
    if response.status_code != 303:
        html = _problem(response, 400, 'id="move-problem"', values)
        assert why is not None, f"refused a move the rules allow: {_short(values)}"
        assert world.action(action_id).status is Status.PROPOSED, "a refused move moved it"
        shown = _shown_back(html, values, ("due", "reason", "person", "until"), "until",
                            "refused move")
        offered = values["to"] in FROM_PROPOSED
        assert shown.getlist("to") == ([values["to"]] if offered else []), \
            f"chose {values['to']!r}, the refused page has {shown.getlist('to')!r} chosen"
        _no_raw_markup(html, values.values(), "refused move")
        return "refused"
    assert why is None, f"accepted a move that is {why}: {_short(values)}"
    del world.made["proposed action"]  # moved: the next example takes a new one
    to, due, until = values["to"].strip(), _typed_day(values["due"]), _typed_day(values["until"])
    reason, person = world.kept(one_line(values["reason"])), world.kept(one_line(values["person"]))
    moved = world.action(action_id)
    assert moved.status.value == to, f"moved to {to!r}, stored {moved.status.value!r}"
    if to == "agreed":
        assert (moved.due, moved.original_due, moved.person) == (due, due, person), moved
    elif to == "deferred":
        assert moved.due == due, moved
    elif to == "risk_accepted":
        assert (moved.accepted_by, moved.accepted_until) == (person, until), moved
    event = world.last_event(action_id)
    assert event.reason == reason, f"reason typed {_short(values['reason'])}, kept " \
                                   f"{_short(event.reason)}"
    html = send(world.member, "GET", url).get_data(as_text=True)
    assert_escaped(html, reason, "action page, the move's reason")
    if to in ("agreed", "risk_accepted"):
        assert_escaped(html, person, "action page, the person")
    if to in ("agreed", "deferred"):
        assert date_day(due) in html, f"the due date {due} is not shown"
    roadmap = send(world.member, "GET", f"/workspace/clients/{world.client_id}/roadmap")
    _no_raw_markup(roadmap.get_data(as_text=True), values.values(), "roadmap")
    return "echoed"


# A draft review's headline, notes and next review date; starting a review for a period.

review_words = st.fixed_dictionaries({
    "headline": st.one_of(roadmap_text, st.just("")),
    "notes": st.one_of(roadmap_text, st.just(""), st.builds(_repeat, atom, st.sampled_from(
        [499, 500, 501]))),
    "next_review": st.one_of(st.just(""), near_day, date_text)})


def _draft_review(world: World) -> tuple[int, int, str, date]:
    """A draft review of a client of its own (so its drafted headline stays as it is): the
    client, the review, the drafted headline and the last day of its period."""
    client_id = world.new_client("Quayside Vets")
    start, end = default_period(world.today())
    db = world.db()
    try:
        review_id = review_store.create_review(db, world.firm_id, client_id, start, end,
                                               world.user_id)
    finally:
        db.close()
    page = send(world.member, "GET", f"/workspace/clients/{client_id}/reviews/{review_id}")
    draft = form_with(page.get_data(as_text=True), "next_review")["headline"]
    assert draft, "a new review has no drafted headline"
    return client_id, review_id, draft, end


def check_review_words(world: World, values: dict) -> str:
    client_id, review_id, draft, end = world.once("draft review", lambda: _draft_review(world))
    url = f"/workspace/clients/{client_id}/reviews/{review_id}"
    response = send(world.member, "POST", url, data=values)
    try:
        next_review = _typed_day(values["next_review"])
        ok = (next_review is None or next_review > end) and \
            len(values["headline"]) <= MAX_HEADLINE and len(values["notes"]) <= MAX_REVIEW_NOTES
    except ValueError:
        ok = False
    if response.status_code != 303:
        html = _problem(response, 422, 'class="field-error"', values)
        assert not ok, f"refused a review's words within the limits: {_short(values)}"
        _shown_back(html, values, values, "next_review", "refused review")
        return "refused"
    assert ok, f"accepted a review's words over a limit or with a wrong date: {_short(values)}"
    headline = values["headline"].strip()
    kept = {"headline": "" if headline == draft else world.kept(headline),
            "notes": world.kept(values["notes"].strip()),
            "next_review": next_review.isoformat() if next_review else None}
    db = world.db()
    try:
        row = review_store.get_review(db, world.firm_id, review_id)
    finally:
        db.close()
    got = {key: row[key] for key in kept}
    assert got == kept, f"typed {_short(values)}, stored {_short(got)}"
    html = send(world.member, "GET", url).get_data(as_text=True)
    shown = form_with(html, "next_review")
    expected = {"headline": kept["headline"] or draft, "notes": kept["notes"],
                "next_review": kept["next_review"] or ""}
    for key, value in expected.items():
        assert shown[key] == value, f"the saved {key} {_short(value)} is shown as " \
                                    f"{_short(shown[key])}"
        assert_escaped(html, value, f"review page, {key}")
    _no_raw_markup(html, values.values(), "review page")
    return "echoed"


def _period(start: str, days) -> dict:
    end = days if isinstance(days, str) else \
        (date.fromisoformat(start) + timedelta(days=days)).isoformat()
    return {"period_start": start, "period_end": end}


period_values = st.one_of(
    st.builds(_period, near_day, st.one_of(st.integers(-3, 400), date_text)),
    st.builds(_period, st.dates(max_value=date(9000, 1, 1)).map(date.isoformat),
              st.integers(-3, 400)),
    st.fixed_dictionaries({"period_start": date_text, "period_end": date_text}))


def check_review_start(world: World, values: dict) -> str:
    client_id = world.once("review client", lambda: world.new_client("Quayside Vets"))
    response = send(world.member, "POST", f"/workspace/clients/{client_id}/reviews",
                    data=values)
    try:
        start, end = _typed_day(values["period_start"]), _typed_day(values["period_end"])
        ok = (start is not None and end is not None
              and 0 <= (end - start).days < MAX_PERIOD_DAYS
              and FIRST_YEAR <= start.year and end.year <= LAST_YEAR)
    except ValueError:
        ok = False
    if response.status_code != 303:
        html = _problem(response, 422, 'class="field-error"', values)
        assert not ok, f"refused a period that is one: {_short(values)}"
        _shown_back(html, values, values, "period_end", "refused period")
        return "refused"
    assert ok, f"started a review for a period that is not one: {_short(values)}"
    found = re.search(r"/reviews/([0-9]+)$", response.headers["Location"])
    assert found, f"started, but sent to {response.headers['Location']}"
    db = world.db()
    try:
        row = review_store.get_review(db, world.firm_id, int(found.group(1)))
    finally:
        db.close()
    assert (row["period_start"], row["period_end"]) == (start.isoformat(), end.isoformat()), \
        f"typed {_short(values)}, stored {row['period_start']} to {row['period_end']}"
    page = send(world.member, "GET", response.headers["Location"])
    assert page.status_code == 200, f"the new review answered {page.status_code}"
    assert f"{date_day(start)} to {date_day(end)}" in page.get_data(as_text=True), \
        f"the review of {start} to {end} does not say its period"
    return "echoed"


# The owner's comment on their own action, through their private link.

owner_comment = st.one_of(roadmap_text, roadmap_text, hostile_text,
                          st.builds(_repeat, atom, st.sampled_from([1999, 2000, 2001, 2002])))


def _owner_link(world: World) -> tuple[str, int, int]:
    """A client of its own with one agreed action for the owner to do, and the owner's link:
    (token, action, client)."""
    client_id = world.new_client("Marina Bakery")
    action_id = world.new_action(client_id, party="client",
                                 agreed_due=world.today() + timedelta(days=30))
    db = world.db()
    try:
        token = roadmap_links.create_link(db, world.firm_id, client_id, world.user_id)
    finally:
        db.close()
    return token, action_id, client_id


def _comment_refused(text: str) -> bool:
    """The documented rule: 1 to 2,000 characters, with no control character (line breaks
    and tabs apart) and no bidi control."""
    return not text or len(text) > MAX_COMMENT or any(
        (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t") or ch in BIDI_CONTROLS
        for ch in text)


def check_owner_comment(world: World, comment: str) -> str:
    token, action_id, client_id = world.once("owner link", lambda: _owner_link(world))
    owner = world.once("owner link browser", world.app.test_client)
    page_url = f"/roadmap/{token}"
    # The owner's page gives the form, with its CSRF token.
    form = form_with(send(owner, "GET", page_url).get_data(as_text=True), "comment")
    form.setlist("comment", [comment])
    response = send(owner, "POST", f"{page_url}/actions/{action_id}/comment", data=form)
    text = comment.strip()
    if response.status_code != 303:
        html = _problem(response, 422, f'id="comment-{action_id}-error"', comment)
        assert errors_on(html), f"{_short(comment)} refused without a message"
        assert _comment_refused(text), f"refused a comment within the rule: {_short(comment)}"
        shown = form_with(html, "comment")["comment"]
        assert shown == text, f"the refused comment {_short(text)} is shown back as " \
                              f"{_short(shown)}"
        assert_escaped(html, text, "owner's page, refused comment")
        return "refused"
    assert not _comment_refused(text), f"accepted a comment against the rule: {_short(comment)}"
    db = world.db()
    try:
        said = roadmap_links.comments_by(db, world.firm_id, client_id, OWNER)[action_id]
    finally:
        db.close()
    assert said[-1]["reason"] == world.kept(text), \
        f"commented {_short(text)}, kept {_short(said[-1]['reason'])}"
    html = send(owner, "GET", page_url).get_data(as_text=True)
    assert_escaped(html, world.kept(text), "owner's page, the comment")
    firm_page = send(world.member, "GET", f"/workspace/actions/{action_id}")
    assert_escaped(firm_page.get_data(as_text=True), world.kept(text), "action page, comment")
    return "echoed"


# ---- the targets, shared with the benchmark ------------------------------------------------

@dataclass(frozen=True)
class Target:
    strategy: st.SearchStrategy
    check: Callable[[World, object], str]


TARGETS: dict[str, Target] = {
    "owner-text": Target(_text_drawn(), check_owner_text),
    "owner-number": Target(_number_drawn(), check_owner_number),
    "owner-radio": Target(_radio_drawn(), check_owner_radio),
    "owner-checkbox": Target(_checkbox_drawn(), check_owner_checkboxes),
    "owner-autosave": Target(autosave_drawn, check_owner_autosave),
    "interview-autosave": Target(autosave_drawn, check_interview_autosave),
    "client-create": Target(client_values, check_client_create),
    "client-update": Target(client_values, check_client_update),
    "interview-note": Target(interview_drawn, check_interview_note),
    "sign-in": Target(signin_drawn, check_sign_in),
    "branding": Target(branding_values, check_branding),
    "action-details": Target(details_values, check_action_details),
    "action-move": Target(move_values, check_action_move),
    "review-words": Target(review_words, check_review_words),
    "review-start": Target(period_values, check_review_start),
    "owner-comment": Target(owner_comment, check_owner_comment),
}

# Known-nasty inputs that every default run tries first, whatever hypothesis draws.
EXAMPLES: dict[str, list] = {
    "owner-text": [(BUSINESS_NAME, "<script>alert(1)</script>"),
                   (BUSINESS_NAME, '"><svg onload=alert(1)>\u202eevil\u202c {{7*7}}'),
                   (BUSINESS_NAME, "x" * 5001), (BUSINESS_NAME, " \x00\x1f\x7f\u2028 ")],
    "owner-number": [("profile.annual_revenue", "0.00001"), ("profile.staff_count", "1e309"),
                     ("profile.annual_revenue", "99999999999999999999999"),
                     ("profile.staff_count", "NaN"), ("profile.outage_hours_12m", "-0"),
                     ("patching.days", "not_sure")],
    "owner-radio": [("costs.predictable", "²"), ("costs.predictable", "--3"),
                    ("profile.currency", "<script>alert(1)</script>")],
    "owner-checkbox": [("patching.coverage", ["system", "not_sure"]),
                       ("security.email_web", ["scam_email", "'; DROP TABLE answers; --"])],
    "owner-autosave": [
        (("DOC", "profile.staff_count", '{"question": "profile.staff_count", "answer": '
          + "9" * 400 + ', "base_version": BASE, "client_key": KEY}'), "application/json"),
        (("RAW", "[" * 100_000), "application/json"),
        ({"question": "costs.predictable", "answer": "²", "base_version": CURRENT,
          "client_key": FRESH}, "application/json")],
    "interview-autosave": [
        (("DOC", "profile.staff_count", '{"question": "profile.staff_count", "answer": 1'
          + "0" * 400 + ', "base_version": BASE, "client_key": KEY}'), "application/json"),
        (("RAW", "[" * 100_000), "application/json")],
    "interview-note": [("backup.automatic", "<img src=x onerror=alert(1)> keep me", "weekly"),
                       ("backup.automatic", "keep this note", "<script>alert(1)</script>")],
    "client-update": [{"name": "", "sector": "Health", "size": "12", "contacts": "",
                       "notes": "edited"}],
    "branding": [{"name": "Northgate IT", "primary_colour": "#0d5c63\n",
                  "accent_colour": "#b5541b", "contact_line": "", "disclaimer": ""}],
    "action-details": [
        {"person": "<script>alert(1)</script>", "ticket": "=cmd|' /C calc'!A0",
         "notes": "\u202eevil\u202c \x00 {{7*7}} </textarea><script>alert(1)</script>",
         "actual_cost": "1,200"},
        {"person": "Sam\x00 Owner\u2028", "ticket": "INC-1", "notes": "\n" + "x" * 5001,
         "actual_cost": ""},
        {"person": "a" * 201, "ticket": "", "notes": "", "actual_cost": "-5"},
        {"person": "", "ticket": "", "notes": "", "actual_cost": "9" * 5000},
        {"person": "", "ticket": "", "notes": "", "actual_cost": "٣"}],
    "action-move": [
        {"to": "agreed", "due": "2026-02-30", "reason": "", "until": "",
         "person": "<img src=x onerror=alert(1)>"},
        {"to": "deferred", "due": "31/12/2026", "reason": "=cmd|' /C calc'!A0", "person": "",
         "until": ""},
        {"to": "agreed", "due": "9999-12-31", "reason": "\u202eevil\u202c <b>x</b>",
         "person": "Sam \x00 Owner", "until": ""},
        {"to": "risk_accepted", "due": "", "reason": "", "person": "Sam Owner",
         "until": "9999-12-31"},
        {"to": "verified", "due": _day_after(30), "reason": "", "person": "", "until": ""},
        {"to": "<script>alert(1)</script>", "due": "", "reason": "", "person": "",
         "until": ""},
        {"to": "dropped", "due": "", "reason": "x" * 1001, "person": "", "until": ""}],
    "review-words": [
        {"headline": "<script>alert(1)</script>", "notes": "=cmd|' /C calc'!A0",
         "next_review": "9999-12-31"},
        {"headline": "", "notes": "x" * 501, "next_review": "2026-02-30"},
        {"headline": "\x00\u202eevil\u202c", "notes": "\r\nkept\x00", "next_review": "31/12/2026"},
        {"headline": "x" * 301, "notes": "", "next_review": ""},
        {"headline": "Fine", "notes": "", "next_review": WEEK_DAY}],
    "review-start": [
        {"period_start": "2026-02-30", "period_end": "31/12/2026"},
        {"period_start": "9999-12-31", "period_end": "9999-12-31"},
        {"period_start": "0001-01-01", "period_end": "0001-01-01"},
        {"period_start": "", "period_end": ""},
        {"period_start": "2026-01-01", "period_end": "2025-12-31"},
        {"period_start": "2025-01-01", "period_end": "2026-01-02"},
        {"period_start": "<script>alert(1)</script>", "period_end": WEEK_DAY},
        {"period_start": _day_after(-30), "period_end": WEEK_DAY}],
    "owner-comment": ["<script>alert(1)</script>", "=cmd|' /C calc'!A0", "a\x00b",
                      "\u202eevil\u202c", "x" * 2001, "", "  kept  ", "x" * 2000,
                      "line one\r\nline two </textarea><img src=x onerror=alert(1)>"],
}


# Each sign-in attempt verifies an argon2 hash on purpose (slow): fewer of them in `make test`.
DEFAULT_RUN_EXAMPLES = {"sign-in": 25}


def run_target(name: str, world: World, configured: settings | None = None,
               record: Callable[[Callable[[], str]], None] | None = None) -> None:
    """Run one target under hypothesis. `record` (the benchmark's) wraps each check."""
    target = TARGETS[name]

    def body(drawn):  # named per target below, so hypothesis keeps their examples apart
        if record is None:
            STATS[target.check(world, drawn)] += 1
        else:
            record(lambda: target.check(world, drawn))

    if configured is None:
        configured = settings(FUZZ_SETTINGS,
                              max_examples=DEFAULT_RUN_EXAMPLES.get(name,
                                                                    FUZZ_SETTINGS.max_examples))
    body.__name__ = body.__qualname__ = "fuzz_" + name.replace("-", "_")
    test = given(target.strategy)(body)
    for value in reversed(EXAMPLES.get(name, []) if record is None else []):
        test = example(value)(test)
    configured(test)()


@pytest.mark.parametrize("name", list(TARGETS))
def test_hostile_input_is_refused_or_stored_and_shown_back_escaped(name, tmp_path,
                                                                  database_url):
    run_target(name, make_world(tmp_path))


# ---- one PDF with the nastiest inputs ------------------------------------------------------------

NASTY_NAME = ('<script>alert(1)</script> "Ünïcödé" & Sons {{7*7}} ${7*7} '
              "'; DROP TABLE answers; -- \u202eevil\u202c")
# Only characters the report's font has: a character without a glyph (a control character, say)
# makes WeasyPrint write that font with its own CMap, which pypdf cannot map back to text.
NASTY_NOTE = ('<img src=file:///etc/passwd> @import url(http://127.0.0.1:9/x.css); '
              '<a href="http://127.0.0.1:9/">link</a> {{7*7}} note-end')
NASTY_FIRM = '"><svg onload=alert(1)> Northgate & Co'


def _walk(node, seen: set, found: list) -> None:
    """Every name and string reachable from node in a PDF, collected in found."""
    if isinstance(node, IndirectObject):
        key = (node.idnum, node.generation)
        if key in seen:
            return
        seen.add(key)
        node = node.get_object()
    if isinstance(node, DictionaryObject):
        for key, value in node.items():
            found.append(str(key))
            _walk(value, seen, found)
    elif isinstance(node, ArrayObject):
        for value in node:
            _walk(value, seen, found)
    else:
        found.append(str(node))


def test_pdf_from_the_nastiest_inputs_has_the_names_as_text_and_no_actions(tmp_path,
                                                                          database_url):
    world = make_world(tmp_path)
    member = world.member
    section = f"/workspace/assessments/{world.interview}/interview/profile"
    form = form_with(send(member, "GET", section).get_data(as_text=True),
                     "q_profile__business_name")
    form.setlist("q_profile__business_name", [NASTY_NAME])
    form.setlist("then", ["overview"])
    assert send(member, "POST", section, data=form).status_code == 303
    backup = f"/workspace/assessments/{world.interview}/interview/backup"
    form = form_with(send(member, "GET", backup).get_data(as_text=True), "n_q_backup__automatic")
    form.setlist("q_backup__automatic", ["weekly"])
    form.setlist("n_q_backup__automatic", [NASTY_NOTE])
    form.setlist("then", ["overview"])
    assert send(member, "POST", backup, data=form).status_code == 303
    branded = send(member, "POST", "/workspace/branding", data={
        "name": NASTY_FIRM, "primary_colour": "#0d5c63", "accent_colour": "#b5541b",
        "contact_line": "<b>call</b> 555 & ask", "disclaimer": "{{7*7}} <i>no</i>"})
    assert branded.status_code == 303

    try:
        response = send(member, "GET",
                        f"/workspace/assessments/{world.interview}/report.pdf?variant=full")
    finally:
        shutdown_pool()  # the render workers this test started
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = one_line(" ".join(page.extract_text() or "" for page in reader.pages))
    for expected in ('<script>alert(1)</script> "Ünïcödé" & Sons {{7*7}} ${7*7}',
                     "'; DROP TABLE answers; --", NASTY_FIRM, "<img src=file:///etc/passwd>",
                     "<b>call</b> 555 & ask"):
        # Compared without white space: where a long line wraps is the layout's business.
        assert "".join(expected.split()) in "".join(text.split()), \
            f"{expected!r} is not in the PDF's text"
    names: list[str] = []
    _walk(reader.trailer, set(), names)
    for forbidden in ("/EmbeddedFiles", "/URI", "/Launch", "/JavaScript", "/JS", "/SubmitForm",
                      "/ImportData", "/GoToR"):
        assert forbidden not in names, f"the PDF has {forbidden}"
