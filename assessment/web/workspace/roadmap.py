"""A client's living roadmap in the workspace: its actions grouped (overdue, due in 30 days,
later, awaiting decision, done, accepted risk), decisions on several proposed actions at once,
an action's page, its moves, its details and its evidence.

The rules are core.actions' (which move is allowed, what each needs) and the grouping is
core.roadmap_view's; storage keeps each change with its event. Every lookup is scoped to the
member's firm: another firm's id is a 404 and nothing changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from ...core import actions as rules
from ...core import roadmap_view as view
from ...core.actions import Action, Move, MoveRefused, Status
from ...report.models import printable
from ...storage import action_details as details_store
from ...storage import bank_of, evidence
from ...storage import actions as store
from ...storage import clients as client_store
from ...support.audit import audit
from ...support.evidence_files import (
    MAX_BYTES,
    UPLOAD_REQUEST_BYTES,
    UploadRefused,
    check_upload,
    link_problem,
)
from .. import dates
from ..auth import current_firm_id, member_required, signed_in_member
from ..db import current_bank, get_db
from .common import bp, client_or_404, one_line

# What may be typed: long enough for real use, short enough to keep a page and a review readable.
MAX_PERSON = 200
MAX_REASON = 1000
MAX_TICKET = 200
MAX_NOTES = 5000
MAX_LINK_NAME = 200
MAX_COST = 1_000_000_000  # a whole-number amount; above this is a typing mistake
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
BULK_MOVES = (Status.AGREED, Status.DEFERRED)


class FormProblem(ValueError):
    """Something typed that cannot be used; the message says how to put it right."""


def parse_day(value: str, what: str) -> date | None:
    """A date typed as YYYY-MM-DD (what a date box sends); None when left empty."""
    value = (value or "").strip()
    if not value:
        return None
    if ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise FormProblem(f"The {what} “{value[:40]}” is not a date we can read. Write it as "
                      "year-month-day, for example 2026-10-15, or choose it in the calendar.")


def _limited(value: str, what: str, limit: int) -> str:
    if len(value) > limit:
        raise FormProblem(f"Keep the {what} under {limit:,} characters (it has {len(value):,}).")
    return value


def _who() -> str:
    """The member as the action's history names them."""
    return current_user.name or current_user.email


def _today() -> date:
    return dates.today()


def _party_labels(client: dict) -> dict[str, str]:
    """Who does an action, in the consultant's words: the client by its name (the owner's
    own pages say "Your business")."""
    return {**rules.PARTY_LABELS, "client": client["name"]}


# ---- the roadmap -----------------------------------------------------------------------------

@dataclass
class BulkInput:
    """What was typed in the "Awaiting a decision" form, kept when it is refused."""

    chosen: set[int] = field(default_factory=set)
    to: str = ""
    due: str = ""
    reason: str = ""
    person: str = ""
    problems: list[str] = field(default_factory=list)  # about the form as a whole
    refused: dict[int, str] = field(default_factory=dict)  # action id -> why it was refused


@bp.get("/clients/<int:client_id>/roadmap")
@member_required
def roadmap(client_id: int):
    client = client_or_404(client_id)
    try:
        filters = view.parse_filters(request.args)
    except view.FilterRefused as refused:
        return _roadmap_page(client, view.Filters(), filter_error=str(refused), status=400)
    return _roadmap_page(client, filters)


def _roadmap_page(client: dict, filters: view.Filters, *, bulk: BulkInput | None = None,
                  filter_error: str = "", status: int = 200):
    today = _today()
    actions = store.current_actions(get_db(), current_firm_id(), client["id"], today)
    groups = view.grouped(filters.apply(actions), today)
    return render_template(
        "workspace/roadmap.html", title=f"Roadmap: {client['name']}", client=client,
        groups=[g for g in groups if g.key != "dropped"],
        dropped=next(g for g in groups if g.key == "dropped"), total=len(actions),
        summary=view.summary_line(rules.measure(actions, today)),
        by_party=rules.measure_by_party(actions, today), filters=filters,
        filter_error=filter_error, bulk=bulk or BulkInput(), today=today, view=view,
        titles={a.id: a.title for a in actions},
        party_labels=_party_labels(client), severities=view.SEVERITIES), status


@bp.post("/clients/<int:client_id>/roadmap/bulk")
@member_required
def roadmap_bulk(client_id: int):
    """Agree or defer several proposed actions at once: all of them, or (when any one is
    refused) none, with each refusal said beside its action and everything typed kept."""
    client = client_or_404(client_id)
    db, firm, today = get_db(), current_firm_id(), _today()
    actions = {a.id: a for a in store.current_actions(db, firm, client_id, today)}
    typed = BulkInput(to=request.form.get("to", ""), due=request.form.get("due", ""),
                      reason=request.form.get("reason", ""),
                      person=request.form.get("person", ""))
    for raw in request.form.getlist("action"):
        action_id = int(raw) if raw.strip().isdecimal() else None
        if action_id not in actions:
            audit("access_denied", reason="bulk: no such action of this client",
                  client=client_id, action=raw[:40], member=current_user.id)
            abort(404)
        typed.chosen.add(action_id)
    try:
        filters = view.parse_filters(request.form)
    except view.FilterRefused:
        filters = view.Filters()

    move = _bulk_move(typed)
    if move is None:
        return _roadmap_page(client, filters, bulk=typed, status=422)
    decisions = []
    for action_id in sorted(typed.chosen):
        chosen = actions[action_id]
        if chosen.status is not Status.PROPOSED:  # decided by someone else since the page
            typed.refused[action_id] = (f"It is no longer awaiting a decision: it is "
                                        f"“{chosen.label}”. Open it to move it.")
            continue
        try:
            decisions.append(rules.decide(chosen, move, who=_who(), today=today))
        except MoveRefused as refused:
            typed.refused[action_id] = str(refused)
    if typed.refused:
        return _roadmap_page(client, filters, bulk=typed, status=422)
    if not _save_all(decisions):
        typed.problems.append("Someone changed one of these actions while you were deciding, "
                              "so none of them was changed. Here is the roadmap as it is now: "
                              "check the ticks and press the button again.")
        return _roadmap_page(client, filters, bulk=typed, status=409)
    audit("actions_decided", client=client_id, to=move.to.value, count=len(decisions),
          member=current_user.id)
    count = len(decisions)
    what = f"{count} action{'s' if count != 1 else ''}"
    when = f" to {dates.date_day(move.due)}" if move.to is Status.DEFERRED else (
        f", due {dates.date_day(move.due)}" if move.due else ", each on its own due date")
    flash(f"{'Agreed' if move.to is Status.AGREED else 'Deferred'} {what}{when}.", "success")
    return redirect(url_for("workspace.roadmap", client_id=client_id, **filters.query()), 303)


def _bulk_move(typed: BulkInput) -> Move | None:
    """The one move asked for every ticked action, or None with typed.problems said."""
    if not typed.chosen:
        typed.problems.append("Tick at least one proposed action to agree or defer.")
    to = {s.value: s for s in BULK_MOVES}.get(typed.to)
    if to is None:
        typed.problems.append("Choose whether to agree the ticked actions or defer them.")
    try:
        due = parse_day(typed.due, "due date")
        reason = _limited(one_line(typed.reason), "reason", MAX_REASON)
        person = _limited(one_line(typed.person), "person's name", MAX_PERSON)
    except FormProblem as problem:
        typed.problems.append(str(problem))
        return None
    if typed.problems or to is None:
        return None
    return Move(to, due=due, reason=reason, person=person)


def _save_all(decisions: list[rules.Decision]) -> bool:
    """Every decision kept, or none: one transaction, undone when any action was moved by
    someone else meanwhile."""
    db, firm = get_db(), current_firm_id()
    try:
        with db.write():
            for decision in decisions:
                if not store.save_decision(db, firm, decision):
                    raise _Stale
    except _Stale:
        return False
    return True


class _Stale(Exception):
    """An action of a bulk decision moved meanwhile: the transaction is undone."""


# ---- an action's page ------------------------------------------------------------------------

@dataclass
class MoveInput:
    to: str = ""
    due: str = ""
    reason: str = ""
    person: str = ""
    until: str = ""

    @classmethod
    def from_form(cls) -> MoveInput:
        return cls(**{name: request.form.get(name, "") for name in
                      ("to", "due", "reason", "person", "until")})


@dataclass
class DetailsInput:
    person: str = ""
    ticket: str = ""
    notes: str = ""
    actual_cost: str = ""

    @classmethod
    def of(cls, action: Action) -> DetailsInput:
        return cls(action.person, action.ticket, action.notes,
                   "" if action.actual_cost is None else str(action.actual_cost))

    @classmethod
    def from_form(cls) -> DetailsInput:
        return cls(**{name: request.form.get(name, "") for name in
                      ("person", "ticket", "notes", "actual_cost")})


@dataclass
class EvidenceInput:
    link: str = ""
    name: str = ""


def _action_or_404(action_id: int) -> tuple[Action, dict]:
    """The firm's action as it stands today (an accepted risk past its date brought back
    first), and its client; 404 for any other firm's."""
    db, firm = get_db(), current_firm_id()
    action = store.get_action(db, firm, action_id)
    client = client_store.get_client(db, firm, action.client_id) if action else None
    if action is None or client is None:
        audit("access_denied", reason="no such action in this firm", action=action_id,
              member=current_user.id)
        abort(404)
    expired = rules.expire_accepted_risks([action], _today())
    if expired and store.save_decision(db, firm, expired[0]):
        action = store.get_action(db, firm, action_id) or action
    return action, client


def _question_texts(action: Action, client: dict) -> list[tuple[str, str]]:
    """The questions that prove the action, as the client's latest assessment asked them (the
    current questions when it has none); the id where a question is no longer in the bank."""
    assessments = client_store.client_assessments(get_db(), current_firm_id(), client["id"])
    bank = current_bank()
    if assessments:
        try:
            bank = bank_of(get_db(), assessments[-1])
        except LookupError:
            pass
    texts = []
    for question_id in action.questions:
        question = bank.question_by_id.get(question_id)
        texts.append((question_id, (question.consultant_text or question.text)
                      if question else question_id))
    return texts


def _assessments(action: Action, events: list[rules.Event]) -> dict[str, dict]:
    """The firm's assessments the page names (made it, verified it, moved it), by id; one
    since deleted is left out, and the page names it without a link."""
    named = {action.from_assessment, action.verified_by, *(e.assessment for e in events)}
    found = {}
    for assessment_id in sorted(a for a in named if a):
        row = client_store.firm_assessment(get_db(), current_firm_id(), assessment_id)
        if row is not None:
            found[assessment_id] = row
    return found


def _action_page(action: Action, client: dict, *, move: MoveInput | None = None,
                 details: DetailsInput | None = None, link: EvidenceInput | None = None,
                 message: str = "", where: str = "", status: int = 200):
    """The action's page; `message` is a refusal shown at the form named by `where` (move,
    details, link or file), with what was typed kept in it."""
    db, firm = get_db(), current_firm_id()
    events = store.action_events(db, firm, action.id)
    return render_template(
        "workspace/action.html", title=action.title, action=action, client=client,
        moves=view.moves_from(action, rules.BY_HAND.get(action.status, frozenset())),
        events=events, evidence=evidence.action_evidence(db, firm, action.id),
        questions=_question_texts(action, client), assessments=_assessments(action, events),
        move=move or MoveInput(), details=details or DetailsInput.of(action),
        link=link or EvidenceInput(), message=message, where=where, view=view,
        status_labels=rules.LABELS, party_labels=_party_labels(client),
        severities=view.SEVERITIES, max_mb=MAX_BYTES // (1024 * 1024), today=_today()), status


@bp.get("/actions/<int:action_id>")
@member_required
def action(action_id: int):
    found, client = _action_or_404(action_id)
    return _action_page(found, client)


@bp.post("/actions/<int:action_id>/move")
@member_required
def move_action(action_id: int):
    found, client = _action_or_404(action_id)
    typed = MoveInput.from_form()
    try:
        move = _parse_move(typed)
        decision = rules.decide(found, move, who=_who(), today=_today())
    except (FormProblem, MoveRefused) as refused:
        return _action_page(found, client, move=typed, message=str(refused), where="move",
                            status=400)
    if not store.save_decision(get_db(), current_firm_id(), decision):
        now, _ = _action_or_404(action_id)
        return _action_page(now, client, move=typed, where="move", status=409, message=(
            f"Someone changed this action while you were deciding: it is now “{now.label}”. "
            "Here it is as it is now; nothing of yours was saved. Check it and choose again."))
    audit("action_moved", action=action_id, to=move.to.value, member=current_user.id)
    flash(f"Saved: the action is now “{decision.action.label}”.", "success")
    return redirect(url_for("workspace.action", action_id=action_id), 303)


def _parse_move(typed: MoveInput) -> Move:
    if not typed.to.strip():
        raise FormProblem("Choose what to do with the action.")
    to = rules.parse_status(typed.to.strip()[:40])
    return Move(to, due=parse_day(typed.due, "due date"),
                reason=_limited(one_line(typed.reason), "reason", MAX_REASON),
                person=_limited(one_line(typed.person), "person's name", MAX_PERSON),
                until=parse_day(typed.until, "date the risk is accepted until"))


@bp.post("/actions/<int:action_id>/details")
@member_required
def action_details(action_id: int):
    found, client = _action_or_404(action_id)
    typed = DetailsInput.from_form()
    try:
        change = view.detail_changes(
            found, person=_limited(one_line(typed.person), "person's name", MAX_PERSON),
            ticket=_limited(one_line(typed.ticket), "ticket reference", MAX_TICKET),
            notes=_limited(printable(typed.notes).strip(), "notes", MAX_NOTES),
            actual_cost=_whole_amount(typed.actual_cost))
    except FormProblem as problem:
        return _action_page(found, client, details=typed, message=str(problem),
                            where="details", status=422)
    if not change.changes:
        flash("Nothing to save: the details are as they were.", "info")
        return redirect(url_for("workspace.action", action_id=action_id), 303)
    if not details_store.save_details(get_db(), current_firm_id(), action_id, change.changes,
                                      who=_who(), on=_today(), reason=change.reason):
        abort(404)  # deleted meanwhile (with its client)
    audit("action_details_changed", action=action_id, member=current_user.id)
    flash("Saved the action's details.", "success")
    return redirect(url_for("workspace.action", action_id=action_id), 303)


def _whole_amount(value: str) -> int | None:
    """An actual cost as typed ("1,200" or "1200"); None when left empty."""
    cleaned = (value or "").strip().replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    if not cleaned.isdecimal() or not cleaned.isascii():
        raise FormProblem("Write the actual cost as a whole number without the currency sign, "
                          "for example 1200.")
    amount = int(cleaned.lstrip("0") or 0) if len(cleaned.lstrip("0")) <= 18 else MAX_COST + 1
    if amount > MAX_COST:
        raise FormProblem(f"The actual cost is more than {MAX_COST:,}: check the figure.")
    return amount


# ---- evidence --------------------------------------------------------------------------------

@bp.url_value_preprocessor
def _evidence_upload_limit(endpoint: str | None, values: dict | None) -> None:
    """An evidence file may be up to MAX_BYTES, more than the app accepts in one request
    elsewhere. The limit is raised for that one form, for a signed-in member, here: this runs
    before any before_request function (the CSRF check reads the form, and with it the
    limit)."""
    if endpoint != "workspace.add_evidence" or request.method != "POST":
        return
    member = signed_in_member()
    if member is not None and member.is_authenticated:
        request.max_content_length = UPLOAD_REQUEST_BYTES


@bp.post("/actions/<int:action_id>/evidence")
@member_required
def add_evidence(action_id: int):
    found, client = _action_or_404(action_id)
    upload = request.files.get("file")
    typed = EvidenceInput(link=request.form.get("link", ""), name=request.form.get("name", ""))
    name = one_line(typed.name)
    if len(name) > MAX_LINK_NAME:
        return _action_page(found, client, link=typed, where="link" if not upload else "file",
                            status=400, message=f"Keep the name under {MAX_LINK_NAME} "
                                                "characters.")
    db, firm = get_db(), current_firm_id()
    if upload is not None and upload.filename:
        body = upload.read()  # all of it (the request limit bounds it), so a refusal says its size
        try:
            checked = check_upload(upload.filename, body)
        except UploadRefused as refused:
            return _action_page(found, client, where="file", message=str(refused),
                                status=413 if len(body) > MAX_BYTES else 400)
        kept = evidence.add_file(db, firm, action_id, name=checked.name,
                                 content_type=checked.content_type, body=body, added_by=_who())
        said = f"Added the file “{checked.name}”."
    elif typed.link.strip():
        problem = link_problem(typed.link)
        if problem:
            return _action_page(found, client, link=typed, where="link", message=problem,
                                status=400)
        url = typed.link.strip()
        kept = evidence.add_link(db, firm, action_id, name=name or url[:MAX_LINK_NAME],
                                 url=url, added_by=_who())
        said = "Added the link."
    else:
        return _action_page(found, client, link=typed, where="link", status=400,
                            message="Enter a link, or choose a file to upload.")
    if kept is None:
        abort(404)  # deleted meanwhile (with its client)
    audit("evidence_added", action=action_id, evidence=kept, member=current_user.id)
    flash(said, "success")
    return redirect(url_for("workspace.action", action_id=action_id, _anchor="evidence"), 303)


def evidence_too_large(size: int | None):
    """An evidence upload larger than even its raised request limit (413): the action's page
    again, saying why. None when the address names no action of the member's firm (then the
    plain "too large" page)."""
    member = signed_in_member()
    action_id = (request.view_args or {}).get("action_id")
    if member is None or not member.is_authenticated or not isinstance(action_id, int):
        return None
    found = store.get_action(get_db(), member.firm_id, action_id)
    client = client_store.get_client(get_db(), member.firm_id, found.client_id) if found else None
    if found is None or client is None:
        return None
    sent = f"{size / 1024 / 1024:.1f} MB" if size else "more than we accept"
    return _action_page(found, client, where="file", status=413, message=(
        f"The upload is {sent}; the limit for a file of evidence is "
        f"{MAX_BYTES // (1024 * 1024)} MB. Send a smaller file (a PDF of the key page, a "
        "screenshot) or a link to where it is kept."))


@bp.get("/evidence/<int:evidence_id>")
@member_required
def evidence_file(evidence_id: int):
    """A file of evidence, as a download of the kind it was checked to be (never shown in the
    browser, where a file could pass for a page of this site)."""
    row = evidence.evidence_file(get_db(), current_firm_id(), evidence_id)
    if row is None:
        audit("access_denied", reason="no such evidence file in this firm",
              evidence=evidence_id, member=current_user.id)
        abort(404)
    response = send_file(BytesIO(bytes(row["body"] or b"")), mimetype=row["content_type"],
                         as_attachment=True, download_name=row["name"], max_age=0,
                         etag=False, conditional=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
