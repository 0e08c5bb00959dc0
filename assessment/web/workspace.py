"""The consultant's workspace: clients, interviews, client self-assessment links, history,
comparison, claim links and exports. Every lookup is scoped to the signed-in member's firm; an id
from another firm is answered with 404 and nothing changes."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError

from ..core.bank import Answer
from ..core.bank.types import format_number, read_number
from ..core.costs import CURRENCIES
from ..core.history import compare, trend
from ..core.prices import (
    CURRENCY_CODES,
    CURRENCY_NAMES,
    MAX_AMOUNT,
    PRICED_BANDS,
    default_price_list,
    firm_bands_problem,
)
from ..core.prices import money as prices_money
from ..core.progress import progress
from ..core.scoring import score
from ..core.viewpoint import FIRM, SOURCES, counting
from ..report import DEFAULT_BRANDING, RenderError, ReportInput, content_disposition
from ..report.models import printable
from ..storage import (
    accounts,
    assessment_view,
    bank_of,
    export_assessment,
    records_of,
    stored_answers,
)
from ..storage import clients as store
from ..storage.accounts import AccountError
from ..support.audit import audit
from ..support.branding import MAX_BYTES as MAX_LOGO_BYTES
from ..support.branding import LogoError, clean_logo, contrast_warnings, valid_colour
from . import dates, email_checks, handoff, owner, renders, reports, section_page
from .answer_fields import widget_for
from .auth import admin_required, current_firm_id, member_required
from .dates import day_time
from .db import current_bank, get_db
from .section_page import SectionPage, raw_of
from .security import json_body

bp = Blueprint("workspace", __name__, url_prefix="/workspace")
MAX_LOGO_MB = MAX_LOGO_BYTES // (1024 * 1024)
SOURCE = "consultant"


class ClientForm(FlaskForm):
    name = StringField("Client name", validators=[
        DataRequired("Enter the client's name."), Length(max=200, message="Keep the name "
                                                                          "under 200 characters.")])
    sector = StringField("Sector", validators=[Length(max=200, message="Keep it under 200 "
                                                                       "characters.")])
    size = StringField("Size (for example, number of staff)",
                       validators=[Length(max=100, message="Keep it under 100 characters.")])
    contacts = TextAreaField("Contacts", validators=[
        Length(max=2000, message="Keep contacts under 2,000 characters.")])
    notes = TextAreaField("Notes", validators=[Length(max=5000, message="Keep notes under "
                                                                        "5,000 characters.")])

    def validate_name(self, field):
        if not one_line(field.data):
            raise ValidationError("Enter the client's name in letters or digits.")


def _client_or_404(client_id: int) -> dict:
    client = store.get_client(get_db(), current_firm_id(), client_id)
    if client is None:
        audit("access_denied", reason="no such client in this firm", client=client_id,
              member=current_user.id)
        abort(404)
    return client


def _assessment_or_404(assessment_id: str) -> dict:
    assessment = store.firm_assessment(get_db(), current_firm_id(), assessment_id)
    if assessment is None:
        audit("access_denied", reason="no such assessment in this firm",
              assessment=assessment_id[:40], member=current_user.id)
        abort(404)
    return assessment


def scored(assessment: dict):
    """The answers that count, scored, as the firm sees them (viewpoint.py decides: the same
    answers and score the client sees, and every note)."""
    bank = bank_of(get_db(), assessment)
    stored = stored_answers(get_db(), assessment["id"])
    return bank, stored, assessment_view(get_db(), assessment, FIRM).result


@bp.get("/")
@member_required
def clients():
    return _clients_page(ClientForm())


def _clients_page(form: ClientForm, status: int = 200):
    return render_template("workspace/clients.html", title="Clients",
                           clients=store.list_clients(get_db(), current_firm_id()), form=form,
                           archived=store.list_clients(get_db(), current_firm_id(),
                                                       archived=True),
                           owner_links=store.claim_links(get_db(), current_firm_id(), None)
                           ), status


@bp.post("/clients")
@member_required
def create_client():
    form = ClientForm()
    if not form.validate():
        return _clients_page(form, 422)
    client_id = store.create_client(get_db(), current_firm_id(), **_client_fields(form))
    flash(f"Added {form.name.data}.", "success")
    return redirect(url_for("workspace.client", client_id=client_id), 303)


def _client_fields(form: ClientForm) -> dict[str, str]:
    return {name: (getattr(form, name).data or "").strip()
            for name in ("name", "sector", "size", "contacts", "notes")}


@bp.get("/clients/<int:client_id>")
@member_required
def client(client_id: int):
    client = _client_or_404(client_id)
    return _client_page(client, ClientForm(data=client))


def _member_names() -> dict[int, str]:
    """The firm's members by id, to say who started an assessment."""
    return {m.id: m.name for m in accounts.list_members(get_db(), current_firm_id())}


def _client_page(client: dict, form: ClientForm, status: int = 200):
    rows = []
    for assessment in store.client_assessments(get_db(), current_firm_id(), client["id"],
                                               archived=False):
        bank, _, result = scored(assessment)
        rows.append((assessment, result))
    return render_template("workspace/client.html", title=client["name"], client=client,
                           rows=rows, points=trend(rows, dates.zone()), form=form,
                           names=_member_names(),
                           links=store.client_links(get_db(), current_firm_id(), client["id"]),
                           link_days=store.SELF_LINK_DAYS,
                           last_finished=last_finished(client["id"]),
                           archived=store.client_assessments(get_db(), current_firm_id(),
                                                             client["id"], archived=True)
                           ), status


@bp.post("/clients/<int:client_id>")
@member_required
def update_client(client_id: int):
    client = _client_or_404(client_id)
    form = ClientForm()
    if not form.validate():  # the edits stay on the page, each with its message
        return _client_page(client, form, 422)
    store.update_client(get_db(), current_firm_id(), client_id, **_client_fields(form))
    flash("Saved the client's details.", "success")
    return redirect(url_for("workspace.client", client_id=client_id), 303)


@bp.post("/clients/<int:client_id>/interview")
@member_required
def start_interview(client_id: int):
    _client_or_404(client_id)
    assessment_id = store.start_client_assessment(
        get_db(), current_bank(), current_firm_id(), client_id, mode="interview",
        created_by=current_user.id)
    # Straight to the first question, as an owner pressing Start gets.
    first = current_bank().sections[0]
    return redirect(url_for("workspace.interview", assessment_id=assessment_id,
                            section_id=first.id, _anchor=f"q-{first.questions[0].id}"), 303)


@bp.post("/clients/<int:client_id>/self-assessment")
@member_required
def send_self_assessment(client_id: int):
    """A self-assessment for the client to fill in with the owner wizard; the link is shown once
    (only its hash is kept), so the consultant copies it now or makes a new one later."""
    _client_or_404(client_id)
    token, token_hash = owner.new_resume_token()
    assessment_id = store.start_client_assessment(
        get_db(), current_bank(), current_firm_id(), client_id, mode="self",
        created_by=current_user.id, resume_token_hash=token_hash)
    audit("link_created", kind="self", assessment=assessment_id, member=current_user.id)
    return _show_link(client_id, url_for("wizard.resume", token=token, _external=True),
                      expires=_assessment_or_404(assessment_id)["link_expires_at"])


@bp.post("/assessments/<assessment_id>/link/cancel")
@member_required
def cancel_self_link(assessment_id: str):
    record = _assessment_or_404(assessment_id)
    if store.cancel_self_link(get_db(), current_firm_id(), assessment_id):
        audit("link_cancelled", kind="self", assessment=assessment_id, member=current_user.id)
        flash("Cancelled: the link no longer opens the assessment, also where it is open "
              "already. The answers are kept; replace the link to give the client a new one.",
              "success")
    else:
        flash("That link was cancelled already, or there is none.", "info")
    return redirect(url_for("workspace.client", client_id=record["client_id"],
                            _anchor="links"), 303)


@bp.post("/assessments/<assessment_id>/link/replace")
@member_required
def replace_self_link(assessment_id: str):
    """A new link to the same assessment, answers kept; the old one stops working."""
    record = _assessment_or_404(assessment_id)
    token, token_hash = owner.new_resume_token()
    if not store.replace_self_link(get_db(), current_firm_id(), assessment_id, token_hash):
        flash("This assessment has no client link to replace.", "error")
        return redirect(url_for("workspace.client", client_id=record["client_id"]), 303)
    audit("link_replaced", kind="self", assessment=assessment_id, member=current_user.id)
    return _show_link(record["client_id"],
                      url_for("wizard.resume", token=token, _external=True),
                      expires=_assessment_or_404(assessment_id)["link_expires_at"],
                      replaced=True)


@bp.post("/clients/<int:client_id>/renew")
@member_required
def renew(client_id: int):
    """A new assessment that starts from the answers of the latest finished one; each copied
    answer waits to be re-confirmed before it counts."""
    _client_or_404(client_id)
    source = last_finished(client_id)
    if source is None:
        flash("There is no finished assessment to start from. Finish one first, or start an "
              "interview.", "error")
        return redirect(url_for("workspace.client", client_id=client_id), 303)
    assessment_id = store.start_client_assessment(
        get_db(), current_bank(), current_firm_id(), client_id, mode="interview",
        created_by=current_user.id, copy_from=source["id"])
    flash(f"Started from the {KINDS[kind_of(source)]} finished "
          f"{day_time(source['finished_at'] or source['updated_at'])}. Each copied answer waits "
          "to be re-confirmed before it counts: press “Still true” beside it, or “All still "
          "true” for a whole section.", "success")
    return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)


KINDS = {"interview": "interview", "self": "client self-assessment",
         "shared": "owner's own assessment"}


def kind_of(record: dict) -> str:
    return "interview" if record["mode"] == "interview" else "shared" if record["shared_at"] \
        else "self"


def last_finished(client_id: int) -> dict | None:
    """The client's latest finished assessment (not archived), the one a new one copies."""
    done = [a for a in store.client_assessments(get_db(), current_firm_id(), client_id,
                                                archived=False) if a["status"] == "finished"]
    # Two finished within one millisecond (a script, or a fast double click) tie on time; the
    # one copied from the other is then the later, as it is in the client's history.
    sources = {a["copied_from"] for a in done}
    return max(done, key=lambda a: (a["finished_at"] or a["updated_at"], a["created_at"],
                                    a["id"] not in sources)) if done else None


def waiting(assessment_id: str) -> frozenset[str]:
    """Answers copied from an earlier assessment that wait to be re-confirmed."""
    return frozenset(qid for qid, s in stored_answers(get_db(), assessment_id, SOURCE).items()
                     if s.reconfirm and s.answer)


@bp.post("/clients/<int:client_id>/claim-link")
@member_required
def claim_link(client_id: int):
    _client_or_404(client_id)
    return _new_claim_link(client_id)


@bp.post("/claim-link")
@member_required
def claim_link_new_client():
    return _new_claim_link(None)


def _new_claim_link(client_id: int | None, replaced: bool = False):
    token = store.create_claim_link(get_db(), current_firm_id(), current_user.id, client_id)
    audit("link_created", kind="claim", client=client_id, member=current_user.id)
    link = url_for("public.claim", token=token, _external=True)
    expires = store.open_claim_link(get_db(), token)["expires_at"]
    if client_id is None:
        return render_template("workspace/link.html", title="Link for an owner", link=link,
                               kind="claim", client=None, expires=expires, replaced=replaced)
    return _show_link(client_id, link, kind="claim", expires=expires, replaced=replaced)


def _claim_link_or_404(ref: str) -> dict:
    link = store.claim_link_by_ref(get_db(), current_firm_id(), ref)
    if link is None:
        audit("access_denied", reason="no such claim link in this firm", member=current_user.id)
        abort(404)
    return link


def _back_from(link: dict):
    if link["client_id"] is None:
        return redirect(url_for("workspace.clients", _anchor="owner-links"), 303)
    return redirect(url_for("workspace.client", client_id=link["client_id"], _anchor="links"),
                    303)


@bp.post("/claim-links/<link_id>/cancel")
@member_required
def cancel_claim_link(link_id: str):
    link = _claim_link_or_404(link_id)
    if store.cancel_claim_link(get_db(), current_firm_id(), link_id):
        audit("link_cancelled", kind="claim", member=current_user.id)
        flash("Cancelled: the link for the owner no longer works.", "success")
    else:
        flash("That link was used or cancelled already.", "info")
    return _back_from(link)


@bp.post("/claim-links/<link_id>/replace")
@member_required
def replace_claim_link(link_id: str):
    """Cancel a link for an owner that is not used yet and make a new one in its place."""
    link = _claim_link_or_404(link_id)
    if link["used_at"]:
        flash("That link was used already: the owner's assessment is with you.", "info")
        return _back_from(link)
    store.cancel_claim_link(get_db(), current_firm_id(), link_id)
    audit("link_replaced", kind="claim", member=current_user.id)
    return _new_claim_link(link["client_id"], replaced=True)


def _show_link(client_id: int, link: str, kind: str = "self", expires: str | None = None,
               replaced: bool = False):
    return render_template("workspace/link.html", title="Link for your client", link=link,
                           kind=kind, client=_client_or_404(client_id), expires=expires,
                           replaced=replaced)


@bp.get("/assessments/<assessment_id>")
@member_required
def assessment(assessment_id: str):
    record = _assessment_or_404(assessment_id)
    client = _client_or_404(record["client_id"])
    bank, stored, result = scored(record)
    owner_answers = stored_answers(get_db(), assessment_id, "owner")
    copied = store.firm_assessment(get_db(), current_firm_id(), record["copied_from"]) \
        if record["copied_from"] else None
    return render_template("workspace/assessment.html", title=f"Assessment for {client['name']}",
                           assessment=record, client=client, bank=bank, result=result,
                           progress=progress(bank, result, waiting(assessment_id)),
                           owner_answers=owner_answers, copied=copied, names=_member_names(),
                           final=finished_by_firm(record),
                           fresh=not any(s.answer for s in stored.values()))


def finished_by_firm(record: dict) -> bool:
    """Finished in the workspace (Finish pressed; for an interview, finished at all): its score
    is final and its reports are what the client gets."""
    return record["status"] == "finished" and bool(record["closed_at"]
                                                   or record["mode"] == "interview")


def _interview_page(record: dict, section_id: str) -> SectionPage:
    bank = bank_of(get_db(), record)
    section = bank.section_by_id.get(section_id)
    if section is None:
        abort(404)
    mine = stored_answers(get_db(), record["id"], SOURCE)
    effective = stored_answers(get_db(), record["id"])
    answers = {qid: s.answer for qid, s in effective.items() if s.answer}
    page = SectionPage(bank, section, mine, score(bank, answers), notes=True, verify=True,
                       interview=True,
                       client_answers=stored_answers(get_db(), record["id"], "owner"))
    for view in page.views:  # start from the client's answer where the consultant has none
        theirs = page.client_answers.get(view.question.id)
        if theirs and theirs.answer:
            view.client_said = view.question.describe(theirs.answer)
            mine = view.stored.answer if view.stored else None
            view.differs = mine is not None and mine != theirs.answer
            if view.stored is None:
                view.value = widget_for(view.question).shown(raw_of(theirs.answer))
    handoff.annotate_interview(page, record)  # what the client's IT provider answered
    return page


@bp.route("/assessments/<assessment_id>/interview/<section_id>", methods=["GET", "POST"])
@member_required
def interview(assessment_id: str, section_id: str):
    record = _assessment_or_404(assessment_id)
    if request.method == "POST" and record["closed_at"] is not None:
        flash("Nothing was saved. " + FINISHED, "warning")
        return redirect(url_for("workspace.interview", assessment_id=assessment_id,
                                section_id=section_id), 303)
    page = _interview_page(record, section_id)
    ids = [s.id for s in page.bank.sections]
    status = 200
    if request.method == "POST":
        # Copied answers ticked "Still true", or all of the page's ("All still true").
        every = request.form.get("then") == "confirm_all"
        before = waiting(assessment_id)
        confirm = True if every else frozenset(request.form.getlist("confirm"))
        if page.save(request.form, assessment_id, source=SOURCE, answered_by=current_user.id,
                     confirm=confirm):
            email_checks.saved(page, record)  # a new email domain: checked in the background
            _prerender_when_complete(record)
            confirmed = len(before - waiting(assessment_id))
            if confirmed:
                flash(f"Re-confirmed {confirmed} copied answer{'s' if confirmed != 1 else ''} "
                      f"on “{page.section.title}”.", "success")
            position = ids.index(section_id)
            if request.form.get("then") in ("next", "confirm_all") and position + 1 < len(ids):
                return redirect(url_for("workspace.interview", assessment_id=assessment_id,
                                        section_id=ids[position + 1]), 303)
            flash(f"Saved “{page.section.title}”.", "success")
            return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)
        status = 422 if page.errors else 409
    email_checks.show(page, record, assessment_view(get_db(), record, FIRM), interview=True)
    return render_template("workspace/interview.html", title=page.section.title, page=page,
                           assessment=record, client=_client_or_404(record["client_id"]),
                           finished_notice=FINISHED,
                           position=ids.index(section_id) + 1, count=len(ids),
                           progress=progress(page.bank, page.result, waiting(assessment_id)),
                           waits_here=[v for v in page.views if v.shown and v.stored
                                       and v.stored.reconfirm and v.stored.answer]), status


def _prerender_when_complete(record: dict) -> None:
    """Start the report once every answer is in, so it is ready when the firm finishes."""
    bank, _, result = scored(record)
    if progress(bank, result, waiting(record["id"])).complete:
        reports.prerender_soon(record)


# Finished means finished for everyone: once the firm has finished an assessment (closed_at),
# the firm's answers no more change than the client's until someone reopens it (which the audit
# log records), so the report stays what was agreed. A client's own Finish on their link does
# not lock the firm out: reviewing their answers is the firm's next step.
FINISHED = ("This assessment is finished, so its answers can no longer change. Reopen it to "
            "change them (reopening is recorded).")


@bp.post("/assessments/<assessment_id>/answer")
@member_required
def autosave(assessment_id: str):
    """The interview's autosave: the same contract as the owner's (idempotent, versioned)."""
    record = _assessment_or_404(assessment_id)
    if record["closed_at"] is not None:
        return jsonify(error="finished", message="Not saved. " + FINISHED), 403
    reply, status = section_page.autosave(bank_of(get_db(), record), assessment_id, json_body(),
                                          source=SOURCE, answered_by=current_user.id)
    if status == 200:
        email_checks.autosaved(request.get_json()["question"], record)
        bank, _, result = scored(record)
        state = progress(bank, result, waiting(assessment_id))
        reply["progress"] = {"done": state.done, "total": state.total, "percent": state.percent,
                             "waiting": state.waiting}
        if state.complete:
            reports.prerender_soon(record)
    return jsonify(reply), status


@bp.get("/assessments/<assessment_id>/report.pdf")
@member_required
def report_pdf(assessment_id: str):
    record = _assessment_or_404(assessment_id)
    response = reports.pdf_response(record)
    renders.remember(record)
    return response


@bp.get("/assessments/<assessment_id>/report")
@member_required
def report_html(assessment_id: str):
    return reports.html_response(_assessment_or_404(assessment_id))


@bp.post("/assessments/<assessment_id>/finish")
@member_required
def finish(assessment_id: str):
    record = _assessment_or_404(assessment_id)
    bank, _, result = scored(record)
    state = progress(bank, result, waiting(assessment_id))
    if not state.complete:
        flash(f"{state.left} question{'s' if state.left != 1 else ''} still need an answer"
              + (f", {state.waiting} of them copied from the last assessment and waiting to be "
                 "re-confirmed" if state.waiting else "") + ".", "error")
    else:
        store.close_assessment(get_db(), current_firm_id(), assessment_id)
        audit("assessment_finished", assessment=assessment_id, member=current_user.id)
        reports.prerender(_assessment_or_404(assessment_id))
        renders.remember(_assessment_or_404(assessment_id))
        flash("The assessment is finished. Its report is ready." + (
            " The client's link now only shows it: their answers can no longer change."
            if record["mode"] == "self" else ""), "success")
    return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)


@bp.post("/assessments/<assessment_id>/reopen")
@member_required
def reopen(assessment_id: str):
    """Undo Finish: in progress again, and the client's link can change answers again."""
    record = _assessment_or_404(assessment_id)
    if record["closed_at"] is None and record["status"] != "finished":
        flash("The assessment is open already.", "info")
    else:
        store.reopen_assessment(get_db(), current_firm_id(), assessment_id)
        audit("assessment_reopened", assessment=assessment_id, member=current_user.id)
        flash("Reopened. " + ("The client can change their answers through their link again; "
                              "finish it again when you have reviewed them."
                              if record["mode"] == "self" and record["resume_token_hash"]
                              else "Finish it again when it is ready."), "success")
    return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)


@bp.get("/clients/<int:client_id>/compare")
@member_required
def compare_view(client_id: int):
    client = _client_or_404(client_id)
    ids = {key: request.args.get(key, "").strip() for key in ("a", "b")}
    if not all(ids.values()):  # a bookmark, or an address typed without its two choices
        return _choose_two(client, "Choose the two assessments to compare on "
                                   f"{client['name']}'s page: one “from” and one “to”.", 400)
    chosen = {key: store.firm_assessment(get_db(), current_firm_id(), value[:80])
              for key, value in ids.items()}
    if any(a is None or a["client_id"] != client_id for a in chosen.values()):
        audit("access_denied", reason="compare: no such assessment of this client",
              client=client_id, member=current_user.id)
        return _choose_two(client, f"One of the two assessments is not one of {client['name']}'s "
                                   "(it may have been deleted). Choose two from the list on "
                                   f"{client['name']}'s page.", 404)
    first, second = chosen["a"], chosen["b"]
    _, _, before = scored(first)
    _, _, after = scored(second)
    return render_template("workspace/compare.html", title=f"Compare: {client['name']}",
                           client=client, first=first, second=second,
                           diff=compare(before, after), names=_member_names())


def _choose_two(client: dict, message: str, status: int):
    """The comparison cannot be made: say what to choose, and where."""
    count = len(store.client_assessments(get_db(), current_firm_id(), client["id"],
                                         archived=False))
    if count < 2:
        message = (f"{client['name']} has {'one assessment' if count == 1 else 'no assessment'}"
                   " yet. A comparison needs two: start another one from their page.")
    return render_template("workspace/compare_choose.html", title=f"Compare: {client['name']}",
                           client=client, message=message), status


@bp.get("/clients/<int:client_id>/export.json")
@member_required
def export_client(client_id: int):
    client = _client_or_404(client_id)
    data = {"client": {k: client[k] for k in ("id", "name", "sector", "size", "contacts",
                                               "notes", "created_at")},
            "assessments": [export_assessment(get_db(), a["id"]) for a in
                            store.client_assessments(get_db(), current_firm_id(), client_id)]}
    return _download(json.dumps(data, indent=2, ensure_ascii=False), "application/json",
                     f"client-{client_id}.json")


@bp.get("/clients/<int:client_id>/answers.csv")
@member_required
def export_client_csv(client_id: int):
    _client_or_404(client_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["assessment", "status", "section", "question", "question_id", "source",
                     "answer", "counts", "verified", "note", "note_shown_to_client",
                     "updated_at"])
    for record in store.client_assessments(get_db(), current_firm_id(), client_id):
        bank = bank_of(get_db(), record)
        # "counts": the answer the score, the reports and every page use (viewpoint.py).
        counted = counting(records_of(get_db(), record["id"]))
        counts = {(qid, r.source) for qid, r in counted.items()}
        for source in SOURCES:  # the client's own, their IT provider's, a check, the firm's
            for qid, s in stored_answers(get_db(), record["id"], source).items():
                q = bank.question_by_id.get(qid)
                if q is None:
                    continue
                writer.writerow([record["id"], record["status"], bank.section_of[qid].title,
                                 _cell(q.text), qid, source,
                                 _cell(q.describe(s.answer) if s.answer else ""),
                                 "yes" if (qid, source) in counts else "no",
                                 "yes" if s.verified else "no", _cell(s.note),
                                 "yes" if s.note_shared or source != "consultant" else "no",
                                 s.updated_at])
    return _download(out.getvalue(), "text/csv", f"client-{client_id}-answers.csv")


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with these as formulas; a leading quote stops that."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/export.json")
@member_required
def export_firm():
    if not current_user.is_admin:
        abort(403)
    firm_id = current_firm_id()
    data = {"clients": [
        {**{k: c[k] for k in ("id", "name", "sector", "size", "contacts", "notes")},
         "assessments": [export_assessment(get_db(), a["id"])
                         for a in store.client_assessments(get_db(), firm_id, c["id"])]}
        for c in store.list_clients(get_db(), firm_id, archived=None)]}
    return _download(json.dumps(data, indent=2, ensure_ascii=False), "application/json",
                     "firm-export.json")


def _download(body: str, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


class BrandingForm(FlaskForm):
    name = StringField("Firm name, as it appears on reports", validators=[
        DataRequired("Enter your firm's name."),
        Length(max=120, message="Keep the name under 120 characters.")])
    primary_colour = StringField("Primary colour (cover and headings)",
                                 validators=[DataRequired("Enter a colour like #0d5c63.")])
    accent_colour = StringField("Accent colour (highlights)",
                                validators=[DataRequired("Enter a colour like #b5541b.")])
    contact_line = StringField("Contact line (for example phone and email)", validators=[
        Length(max=200, message="Keep the contact line under 200 characters.")])
    disclaimer = TextAreaField("Footer disclaimer", validators=[
        Length(max=400, message="Keep the disclaimer under 400 characters.")])
    logo = FileField("Logo (PNG or JPEG, at most 2 MB)")
    remove_logo = BooleanField("Remove the current logo")

    def validate_name(self, field):
        if not one_line(field.data):
            raise ValidationError("Enter your firm's name in letters or digits.")

    def validate_primary_colour(self, field):
        if not valid_colour(field.data):
            raise ValidationError("Write the colour as # and six hex digits, like #0d5c63.")

    def validate_accent_colour(self, field):
        if not valid_colour(field.data):
            raise ValidationError("Write the colour as # and six hex digits, like #b5541b.")


def one_line(text: str | None) -> str:
    """Branding lines as reports print them: one line, no control characters."""
    return " ".join(printable(text or "").split())


def _branding_page(form: BrandingForm, status: int = 200):
    firm = accounts.firm_branding(get_db(), current_firm_id())
    primary = firm["primary_colour"] or DEFAULT_BRANDING.primary
    accent = firm["accent_colour"] or DEFAULT_BRANDING.accent
    return render_template("workspace/branding.html", title="Branding", form=form, firm=firm,
                           primary=primary, accent=accent,
                           warnings=contrast_warnings(primary, accent)), status


@bp.get("/branding")
@admin_required
def branding():
    return _branding_page(BrandingForm(data=_branding_data()))


def _branding_data() -> dict:
    firm = accounts.firm_branding(get_db(), current_firm_id())
    return {"name": firm["name"],
            "primary_colour": firm["primary_colour"] or DEFAULT_BRANDING.primary,
            "accent_colour": firm["accent_colour"] or DEFAULT_BRANDING.accent,
            "contact_line": firm["contact_line"] or "",
            "disclaimer": firm["disclaimer"] or DEFAULT_BRANDING.disclaimer}


@bp.post("/branding")
@admin_required
def save_branding():
    form = BrandingForm()
    logo = ...
    if form.validate():
        upload = form.logo.data
        if form.remove_logo.data:
            logo = None
        elif upload and upload.filename:
            try:
                # All of it (the request size limit bounds it), so a refusal can say its size.
                logo = clean_logo(upload.read())
            except LogoError as error:
                form.logo.errors.append(str(error))
    if form.errors:
        return _branding_page(form, 422)
    try:
        accounts.update_branding(
            get_db(), current_firm_id(), name=one_line(form.name.data), logo=logo,
            primary_colour=form.primary_colour.data.lower(),
            accent_colour=form.accent_colour.data.lower(),
            contact_line=one_line(form.contact_line.data),
            disclaimer=one_line(form.disclaimer.data))
    except AccountError as error:  # the name is another firm's
        form.name.errors.append(error.message)
        return _branding_page(form, 422)
    flash("Saved. Every report of your clients now carries this branding.", "success")
    return redirect(url_for("workspace.branding"), 303)


def logo_too_large(size: int | None):
    """A branding form larger than the app accepts at all (413): the page again, saying why."""
    form = BrandingForm(formdata=None, data=_branding_data())
    form.logo.errors = [
        (f"The upload is {size / 1024 / 1024:.1f} MB" if size else "The upload is too large")
        + f"; the limit for a logo is {MAX_LOGO_MB} MB. Save a smaller version and upload that."]
    return _branding_page(form, 413)


@bp.get("/branding/logo")
@member_required
def branding_logo():
    firm = accounts.firm_branding(get_db(), current_firm_id())
    if not firm or not firm["logo"]:
        abort(404)
    return Response(firm["logo"], mimetype="image/png")


@bp.get("/branding/preview.pdf")
@member_required
def branding_preview():
    """A sample report with the firm's branding, to check the cover before a client sees it."""
    bank = current_bank()
    sample = score(bank, {q.id: Answer("answered", q.choices[0].id) for q in bank.questions
                          if q.type in ("single", "yesno")})
    report = ReportInput(result=sample, business_name="Example client",
                         branding=reports.branding_of(get_db(), current_firm_id()),
                         prices=reports.prices_of(get_db(), current_firm_id()))
    try:
        pdf = reports.cache().get_or_render(report)
    except RenderError:
        abort(503)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition("Example client")})


# ---- the firm's price list (admins) ----------------------------------------------------------

BAND_WORDS = {"low": "Low cost", "medium": "Medium cost", "high": "High cost"}
END_WORDS = {"low": "lowest", "high": "highest"}


class PriceListForm(FlaskForm):
    """The firm's own range for each cost band, in one currency. Every figure empty: the
    shipped price list. Amounts are read as owners' figures are ("1,200", "£1 200")."""

    currency = SelectField("Currency of your prices", validate_choice=False, choices=[
        SelectChoice("", "Choose a currency")] + [
        SelectChoice(code, f"{CURRENCY_NAMES[code]} ({CURRENCIES[code]})")
        for code in CURRENCY_CODES])
    low_low = StringField("From")
    low_high = StringField("To")
    medium_low = StringField("From")
    medium_high = StringField("To")
    high_low = StringField("From")
    high_high = StringField("To")

    def amount_fields(self):
        return [(band, end, self[f"{band}_{end}"]) for band in PRICED_BANDS
                for end in ("low", "high")]

    def validate(self, extra_validators=None):
        """Each amount a number from 0 up, the lower first; all six or none. `self.bands`:
        band -> (low, high), empty when the firm goes back to the shipped list."""
        ok = super().validate(extra_validators)
        self.bands = {}
        typed = [f for _, _, f in self.amount_fields() if (f.data or "").strip()]
        if not typed:
            return ok
        if self.currency.data not in CURRENCY_CODES:
            self.currency.errors.append("Choose the currency your prices are in.")
        amounts = {}
        for band, end, f in self.amount_fields():
            text = (f.data or "").strip()
            where = f"the {END_WORDS[end]} figure for {BAND_WORDS[band].lower()}"
            if not text:
                f.errors.append(f"Enter {where} too, or leave every figure empty to use the "
                                "typical prices.")
                continue
            readings = read_number(text) if len(text) <= 40 else ()
            if not readings:
                f.errors.append(f"Enter {where} in digits, like 1200 or 1,200.")
            elif len(readings) > 1:
                f.errors.append(f"For {where}, “{text}” can be read as "
                                f"{format_number(readings[0])} or {format_number(readings[1])}. "
                                f"Type it without the dot, like "
                                f"{format_number(readings[0]).replace(',', '')}.")
            elif readings[0] < 0:
                f.errors.append(f"Enter {where} as 0 or more: a cost cannot be negative.")
            elif readings[0] > MAX_AMOUNT:
                f.errors.append(f"Enter {where} under {MAX_AMOUNT:,}.")
            else:
                amounts[(band, end)] = readings[0]
        for band in PRICED_BANDS:
            low, high = amounts.get((band, "low")), amounts.get((band, "high"))
            if low is not None and high is not None:
                if low > high:
                    self[f"{band}_low"].errors.append(
                        f"For {BAND_WORDS[band].lower()}, the first figure "
                        f"({format_number(low)}) is more than the second "
                        f"({format_number(high)}). Put the lower figure first.")
                else:
                    self.bands[band] = (low, high)
        return ok and not any(f.errors for f in self)


def _prices_data(saved: dict | None) -> dict:
    """The form's fields for what the firm saved (none for figures that cannot be used)."""
    if not saved or firm_bands_problem(saved.get("currency"), saved.get("bands")):
        return {}
    data = {"currency": saved.get("currency") or ""}
    for band, pair in (saved.get("bands") or {}).items():
        for end, value in zip(("low", "high"), pair, strict=True):
            data[f"{band}_{end}"] = format_number(value).replace(",", "")
    return data


def _prices_page(form: PriceListForm, status: int = 200):
    saved = accounts.firm_price_list(get_db(), current_firm_id())
    if saved and firm_bands_problem(saved.get("currency"), saved.get("bands")):
        saved = None  # what reports do with it too (reports.prices_of)
    typical = default_price_list()
    return render_template(
        "workspace/prices.html", title="Prices", form=form, saved=saved, typical=typical,
        bands=PRICED_BANDS, band_words=BAND_WORDS, currency_names=CURRENCY_NAMES,
        currencies=CURRENCY_CODES, money=prices_money), status


@bp.get("/prices")
@admin_required
def prices():
    saved = accounts.firm_price_list(get_db(), current_firm_id())
    return _prices_page(PriceListForm(data=_prices_data(saved)))


@bp.post("/prices")
@admin_required
def save_prices():
    form = PriceListForm()
    if "use_typical" in request.form:  # the CSRF token was checked before the view
        accounts.set_firm_price_list(get_db(), current_firm_id())
        audit("price_list_reset", member=current_user.id)
        flash("Your clients' reports now use the typical prices.", "success")
        return redirect(url_for("workspace.prices"), 303)
    if not form.validate():
        return _prices_page(form, 422)
    accounts.set_firm_price_list(get_db(), current_firm_id(), form.currency.data or None,
                                 form.bands or None)
    audit("price_list_saved", currency=form.currency.data if form.bands else None,
          member=current_user.id)
    flash("Saved. Your clients' reports now work out costs with your prices."
          if form.bands else "Saved. Your clients' reports use the typical prices.", "success")
    return redirect(url_for("workspace.prices"), 303)


# ---- the firm's settings (admins): the time zone the workspace shows times in ---------------

class SettingsForm(FlaskForm):
    time_zone = SelectField("Your firm's time zone", validate_choice=False)

    def validate_time_zone(self, field):
        if not dates.valid_zone(field.data):
            raise ValidationError("Choose a time zone from the list, such as Europe/London.")


def _settings_form(**kwargs) -> SettingsForm:
    form = SettingsForm(**kwargs)
    form.time_zone.choices = [(name, name.replace("_", " ")) for name in dates.zone_names()]
    return form


def _settings_page(form: SettingsForm, status: int = 200):
    saved = accounts.firm_time_zone(get_db(), current_firm_id())
    return render_template("workspace/settings.html", title="Settings", form=form,
                           saved=saved if dates.valid_zone(saved) else None,
                           example=dates.day_time(datetime.now(UTC).isoformat())), status


@bp.get("/settings")
@admin_required
def settings():
    saved = accounts.firm_time_zone(get_db(), current_firm_id())
    return _settings_page(_settings_form(data={"time_zone": saved or "UTC"}))


@bp.post("/settings")
@admin_required
def save_settings():
    form = _settings_form()
    if not form.validate():
        return _settings_page(form, 422)
    name = form.time_zone.data
    accounts.set_firm_time_zone(get_db(), current_firm_id(), name)
    audit("time_zone_saved", time_zone=name, member=current_user.id)
    moment = datetime.now(dates.zone_of(name))
    flash(f"Saved. Your workspace now shows times in {name.replace('_', ' ')}, such as "
          f"{moment:%H:%M} {dates.abbreviation(moment)} now.", "success")
    return redirect(url_for("workspace.settings"), 303)


# ---- archiving and deleting (admins) ---------------------------------------------------------

class ArchiveForm(FlaskForm):
    archived = HiddenField(validators=[AnyOf(("0", "1"), message="Use the buttons on the page.")])


class DeleteForm(FlaskForm):
    name = StringField("Type the client's name to confirm", validators=[
        DataRequired("Type the client's name, as shown above, to confirm.")])


def _same_name(typed: str | None, name: str) -> bool:
    return " ".join((typed or "").split()).casefold() == " ".join(name.split()).casefold()


@bp.post("/clients/<int:client_id>/archive")
@admin_required
def archive_client(client_id: int):
    client = _client_or_404(client_id)
    form = ArchiveForm()
    if not form.validate():
        flash("That did not work. Use the Archive or Restore button on the client's page.",
              "error")
        return redirect(url_for("workspace.client", client_id=client_id), 303)
    archived = form.archived.data == "1"
    store.set_client_archived(get_db(), current_firm_id(), client_id, archived)
    audit("client_archived" if archived else "client_restored", client=client_id,
          member=current_user.id)
    if archived:
        flash(f"Archived {client['name']}: no longer in the list of clients, and nothing is "
              "deleted. Restore it from the bottom of the Clients page.", "success")
        return redirect(url_for("workspace.clients"), 303)
    flash(f"Restored {client['name']}.", "success")
    return redirect(url_for("workspace.client", client_id=client_id), 303)


@bp.post("/assessments/<assessment_id>/archive")
@admin_required
def archive_assessment(assessment_id: str):
    record = _assessment_or_404(assessment_id)
    form = ArchiveForm()
    if not form.validate():
        flash("That did not work. Use the Archive or Restore button.", "error")
        return redirect(url_for("workspace.assessment", assessment_id=assessment_id), 303)
    archived = form.archived.data == "1"
    store.set_assessment_archived(get_db(), current_firm_id(), assessment_id, archived)
    audit("assessment_archived" if archived else "assessment_restored",
          assessment=assessment_id, member=current_user.id)
    flash("Archived the assessment: it is no longer in the client's list or trend, and nothing "
          "is deleted." if archived else "Restored the assessment.", "success")
    return redirect(url_for("workspace.client", client_id=record["client_id"]), 303)


def _delete_page(client: dict, form: DeleteForm, record: dict | None = None, status: int = 200):
    counts = {"assessments": len(store.client_assessments(get_db(), current_firm_id(),
                                                          client["id"]))} if record is None \
        else {}
    return render_template("workspace/delete.html", form=form, client=client, record=record,
                           counts=counts,
                           title=f"Delete {client['name']}" if record is None
                           else "Delete an assessment"), status


@bp.route("/clients/<int:client_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_client(client_id: int):
    """Delete a client for good, with every assessment, answer, note, link and cached report
    of it, once the client's name has been typed."""
    client = _client_or_404(client_id)
    form = DeleteForm()
    if request.method == "GET":
        return _delete_page(client, form)
    if not form.validate():
        return _delete_page(client, form, status=422)
    if not _same_name(form.name.data, client["name"]):
        form.name.errors.append(f"That is not the client's name. Type {client['name']} exactly "
                                "as shown, or go back to keep the client.")
        return _delete_page(client, form, status=422)
    keys = [k for a in store.client_assessments(get_db(), current_firm_id(), client_id)
            for k in renders.current_keys(a)]
    recorded = store.delete_client(get_db(), current_firm_id(), client_id, keys)
    files = renders.remove(recorded or [])
    audit("client_deleted", client=client_id, member=current_user.id, reports=files)
    flash(f"Deleted {client['name']}, with its assessments, answers, notes, links and "
          "reports.", "success")
    return redirect(url_for("workspace.clients"), 303)


@bp.route("/assessments/<assessment_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_assessment(assessment_id: str):
    """Delete one assessment for good (answers, notes, its link, cached reports), once the
    client's name has been typed."""
    record = _assessment_or_404(assessment_id)
    client = _client_or_404(record["client_id"])
    form = DeleteForm()
    if request.method == "GET":
        return _delete_page(client, form, record)
    if not form.validate():
        return _delete_page(client, form, record, 422)
    if not _same_name(form.name.data, client["name"]):
        form.name.errors.append(f"That is not the client's name. Type {client['name']} exactly "
                                "as shown, or go back to keep the assessment.")
        return _delete_page(client, form, record, 422)
    keys = renders.current_keys(record)
    recorded = store.delete_assessment(get_db(), current_firm_id(), assessment_id, keys)
    files = renders.remove(recorded or [])
    audit("assessment_deleted", assessment=assessment_id, client=client["id"],
          member=current_user.id, reports=files)
    flash("Deleted the assessment, with its answers, notes, link and reports.", "success")
    return redirect(url_for("workspace.client", client_id=client["id"]), 303)
