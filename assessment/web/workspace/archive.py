"""Archiving and deleting (admins): a client or one assessment out of the lists with nothing
deleted, or deleted for good once the client's name has been typed."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired

from ...storage import clients as store
from ...support.audit import audit
from .. import renders
from ..auth import admin_required, current_firm_id
from ..db import get_db
from .common import assessment_or_404, bp, client_or_404


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
    client = client_or_404(client_id)
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
    record = assessment_or_404(assessment_id)
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
    client = client_or_404(client_id)
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
    record = assessment_or_404(assessment_id)
    client = client_or_404(record["client_id"])
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
