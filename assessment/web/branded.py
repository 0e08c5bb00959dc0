"""A firm's client sees the firm, not a stranger: the pages of an assessment that belongs to a
firm carry the firm's branding, and start from what the firm already knows.

- The welcome page a firm's self-assessment link opens on: who sent it, why, how long it takes,
  what the firm will see and how the link works. It changes nothing, neither the browser's
  session nor the record of the link being opened, until its button is pressed (wizard/links.py).
- The header of the client's pages: the firm's name and logo, and its colour as decoration only
  (a stripe and a border, never behind text, never in place of the band and finding colours).
- The firm's logo for those pages, at an address signed with the app's secret key: only a page
  that shows the branding gives it out, so nobody can list firms' logos by number.
- Facts the firm's record of the client holds (the business name, the number of staff when the
  record's size is one), filled in on the client's first page for them to check and correct.
- For the consultant: where what the client typed differs from the firm's record.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request, url_for
from PIL import Image

from ..core.bank import AnswerError
from ..core.progress import progress
from ..core.scoring import parse_answer, score
from ..report import DEFAULT_BRANDING
from ..storage import Conflict, accounts, bank_of, save_answer, stored_answers
from ..storage import clients as store
from ..support.branding import contrast, valid_colour
from . import owner
from .answer_fields import field_name, widget_for
from .db import get_db
from .memo import Memo

bp = Blueprint("brand", __name__)

BUSINESS_NAME = "profile.business_name"
STAFF_COUNT = "profile.staff_count"
FACTS = frozenset({BUSINESS_NAME, STAFF_COUNT})  # what a firm's record of a client can answer
# The client's pages of an assessment that belongs to a firm; the other pages (choosing between
# two assessments, errors, the landing page) stay the product's own.
BRANDED_ENDPOINTS = frozenset({"wizard.hub", "wizard.section", "wizard.review",
                               "wizard.results"})
LOGO_HEIGHT = 96  # pixels: twice the header's, for sharp screens
# "12", "12 staff", "about 12 people": a record's size that is a number of people.
STAFF = re.compile(r"(?:about|around|circa|c\.|~)?\s*(\d{1,6})\s*"
                   r"(?:staff|people|persons|employees|users|members of staff)?\.?", re.I)


@dataclass(frozen=True)
class Look:
    """What a client's page shows of the firm."""

    firm_id: int
    name: str
    contact: str
    primary: str  # #rrggbb, checked
    accent: str
    logo_url: str | None

    @property
    def records(self) -> str:
        """"Northgate IT's records"."""
        return f"{possessive(self.name)} records"

    @property
    def white_on_primary(self) -> bool:
        """White text on the primary colour meets WCAG AA (4.5 to 1)."""
        return contrast(self.primary, "#ffffff") >= 4.5


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"


def look_of(firm_id: int | None) -> Look | None:
    """The firm's look, or None for an owner on their own (or a firm that is gone)."""
    if firm_id is None:
        return None
    row = accounts.firm_look(get_db(), firm_id)
    if row is None:
        return None

    def colour(value: str | None, default: str) -> str:
        return value.lower() if valid_colour(value or "") else default

    return Look(firm_id=row["id"], name=row["name"], contact=row["contact_line"] or "",
                primary=colour(row["primary_colour"], DEFAULT_BRANDING.primary),
                accent=colour(row["accent_colour"], DEFAULT_BRANDING.accent),
                logo_url=url_for("brand.logo", firm_id=row["id"],
                                 key=_logo_key(row["id"], row["updated_at"]))
                if row["has_logo"] else None)


def _logo_key(firm_id: int, updated_at: str | None) -> str:
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    message = f"firm-logo:{firm_id}:{updated_at or ''}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def _page_look() -> dict:
    """The firm's look for the client's pages of an assessment that belongs to a firm."""
    if request.endpoint not in BRANDED_ENDPOINTS:
        return {}
    assessment = owner.current()
    if assessment is None or assessment["firm_id"] is None:
        return {}
    return {"firm_brand": look_of(assessment["firm_id"])}


# The logo as the header shows it, by firm and branding version: a few kilobytes, not the
# uploaded size.
_SMALL_LOGOS: Memo[tuple[int, str], bytes] = Memo(200)


@bp.get("/brand/<int:firm_id>/<key>/logo.png")
def logo(firm_id: int, key: str):
    row = accounts.firm_look(get_db(), firm_id)
    if row is None or not row["has_logo"] or not hmac.compare_digest(
            key.encode(), _logo_key(firm_id, row["updated_at"]).encode()):
        abort(404)
    version = (firm_id, row["updated_at"] or "")
    small = _SMALL_LOGOS.get(version)
    if small is None:
        full = accounts.firm_branding(get_db(), firm_id)
        if full is None or not full["logo"]:
            abort(404)
        small = _SMALL_LOGOS.keep(version, _scaled(full["logo"]))
    return Response(small, mimetype="image/png")


def _scaled(data: bytes) -> bytes:
    """The stored logo (already checked and re-encoded as PNG on upload) at header size."""
    with Image.open(io.BytesIO(data)) as image:
        picture = image.convert("RGBA")
    picture.thumbnail((LOGO_HEIGHT * 6, LOGO_HEIGHT))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


# ---- the welcome page ---------------------------------------------------------------------

def shows_welcome(assessment: dict, member) -> bool:
    """A firm's self-assessment link opens on the welcome page first; a member of that firm
    is asked instead whether to open it in the workspace (wizard.switch)."""
    if assessment["firm_id"] is None or not assessment["link_created_at"]:
        return False
    return not (member is not None and getattr(member, "firm_id", None) == assessment["firm_id"])


def welcome(assessment: dict, token: str, *, notice: str | None = None, status: int = 200):
    """The welcome page of a firm's self-assessment link, or None when its firm is gone."""
    look = look_of(assessment["firm_id"])
    if look is None:
        return None
    db = get_db()
    sender = accounts.get_user(db, assessment["firm_id"], assessment["created_by"]) \
        if assessment["created_by"] else None
    bank = bank_of(db, assessment)
    answers = {qid: s.answer for qid, s in stored_answers(db, assessment["id"]).items()
               if s.answer}
    state = progress(bank, score(bank, answers))
    facts = record_facts(assessment)
    return render_template(
        "wizard/welcome.html", title="Before you start", firm_brand=look,
        sender=sender.name if sender and sender.active else None, progress=state,
        started=bool(answers), finished=assessment["status"] == "finished",
        closed=assessment["closed_at"] is not None, expires=assessment["link_expires_at"],
        token=token, notice=notice, holds_name=BUSINESS_NAME in facts,
        description=f"An IT health check that {look.name} runs with your business."), status


# ---- facts from the firm's record ---------------------------------------------------------

def staff_of(size: str | None) -> int | None:
    """The number of people in a record's size ("12", "12 staff"), or None ("10-20")."""
    found = STAFF.fullmatch((size or "").strip())
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def record_facts(assessment: dict) -> dict[str, object]:
    """Answers the firm's record of the client gives, by question id, as forms send them."""
    if assessment["firm_id"] is None or assessment["client_id"] is None:
        return {}
    client = store.get_client(get_db(), assessment["firm_id"], assessment["client_id"])
    if client is None:
        return {}
    facts: dict[str, object] = {}
    name = " ".join((client["name"] or "").split())
    if name:
        facts[BUSINESS_NAME] = name
    staff = staff_of(client["size"])
    if staff is not None:
        facts[STAFF_COUNT] = str(staff)
    bank = bank_of(get_db(), assessment)
    usable = {}
    for qid, raw in facts.items():  # only what the assessment's own bank accepts
        q = bank.question_by_id.get(qid)
        try:
            if q is not None and parse_answer(q, raw) is not None:
                usable[qid] = raw
        except (AnswerError, ValueError):
            continue
    return usable


def prefill(page, assessment: dict) -> None:
    """On a section page as it opens: each question the client has never saved, that the
    firm's record answers, shows the record's answer and says where it comes from."""
    if not any(v.question.id in FACTS for v in page.views):
        return
    facts = record_facts(assessment)
    if not facts:
        return
    look = look_of(assessment["firm_id"])
    for view in page.views:
        raw = facts.get(view.question.id)
        if raw is None or view.stored is not None or not view.shown:
            continue
        view.value = widget_for(view.question).shown(raw)
        view.prefilled_from = look.records if look else ""


def keep_cleared(page, assessment: dict, form) -> None:
    """After a section is saved: a filled-in fact the client emptied stays empty (recorded as
    seen, with no answer), instead of being filled in again from the record next time."""
    if not any(v.question.id in FACTS for v in page.views):
        return
    facts = record_facts(assessment)
    for view in page.views:
        q = view.question
        if q.id not in facts or view.stored is not None or field_name(q) not in form:
            continue
        if widget_for(q).raw(form, q) is None:
            try:
                save_answer(get_db(), assessment["id"], q.id, base_version=0, answer=None,
                            source="owner")
            except Conflict:  # saved meanwhile (the page script): that answer stands
                pass


# ---- differences, for the consultant ------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    what: str
    typed: str
    record: str
    section_id: str


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def record_differences(assessment: dict, client: dict) -> list[Difference]:
    """Where the client typed something else than the firm's record says. A question the
    consultant has since answered with the record's value is settled, and not listed."""
    if assessment.get("client_id") is None or client is None:
        return []
    db = get_db()
    bank = bank_of(db, assessment)
    theirs = stored_answers(db, assessment["id"], "owner")
    ours = stored_answers(db, assessment["id"], "consultant")
    record = {BUSINESS_NAME: " ".join((client["name"] or "").split())}
    staff = staff_of(client["size"])
    if staff is not None:
        record[STAFF_COUNT] = str(staff)
    found = []
    for qid, expected in record.items():
        q = bank.question_by_id.get(qid)
        typed = theirs.get(qid)
        if q is None or not expected or typed is None or typed.answer is None \
                or typed.answer.state != "answered":
            continue
        said = str(widget_for(q).shown(typed.answer.value))
        mine = ours.get(qid)
        settled = mine is not None and mine.answer is not None and \
            mine.answer.state == "answered" and _same(str(widget_for(q).shown(
                mine.answer.value)), expected)
        if not _same(said, expected) and not settled:
            found.append(Difference(
                what="The business name" if qid == BUSINESS_NAME else "The number of staff",
                typed=said, record=expected, section_id=bank.section_of[qid].id))
    return found


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(_page_look)
    app.jinja_env.globals["record_differences"] = record_differences

