"""The firm's clients: the list, adding one, a client's page (details, assessments, trend,
links) and comparing two of their assessments."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ...core.history import compare, trend
from ...storage import clients as store
from ...support.audit import audit
from .. import dates
from ..auth import current_firm_id, member_required
from ..db import get_db
from ..names import Name
from .common import bp, client_or_404, last_finished, member_names, one_line, scored


class ClientForm(FlaskForm):
    name = StringField("Client name", validators=[
        DataRequired("Enter the client's name."), Name("the client's name"),
        Length(max=200, message="Keep the name under 200 characters.")])
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
    client = client_or_404(client_id)
    return _client_page(client, ClientForm(data=client))


def _client_page(client: dict, form: ClientForm, status: int = 200):
    rows = []
    for assessment in store.client_assessments(get_db(), current_firm_id(), client["id"],
                                               archived=False):
        bank, _, result = scored(assessment)
        rows.append((assessment, result))
    return render_template("workspace/client.html", title=client["name"], client=client,
                           rows=rows, points=trend(rows, dates.zone()), form=form,
                           names=member_names(),
                           links=store.client_links(get_db(), current_firm_id(), client["id"]),
                           link_days=store.SELF_LINK_DAYS,
                           last_finished=last_finished(client["id"]),
                           archived=store.client_assessments(get_db(), current_firm_id(),
                                                             client["id"], archived=True)
                           ), status


@bp.post("/clients/<int:client_id>")
@member_required
def update_client(client_id: int):
    client = client_or_404(client_id)
    form = ClientForm()
    if not form.validate():  # the edits stay on the page, each with its message
        return _client_page(client, form, 422)
    store.update_client(get_db(), current_firm_id(), client_id, **_client_fields(form))
    flash("Saved the client's details.", "success")
    return redirect(url_for("workspace.client", client_id=client_id), 303)


@bp.get("/clients/<int:client_id>/compare")
@member_required
def compare_view(client_id: int):
    client = client_or_404(client_id)
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
                           diff=compare(before, after), names=member_names())


def _choose_two(client: dict, message: str, status: int):
    """The comparison cannot be made: say what to choose, and where."""
    count = len(store.client_assessments(get_db(), current_firm_id(), client["id"],
                                         archived=False))
    if count < 2:
        message = (f"{client['name']} has {'one assessment' if count == 1 else 'no assessment'}"
                   " yet. A comparison needs two: start another one from their page.")
    return render_template("workspace/compare_choose.html", title=f"Compare: {client['name']}",
                           client=client, message=message), status
