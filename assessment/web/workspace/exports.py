"""Downloads of the firm's data: a client as JSON or its answers as CSV, the whole firm as
JSON (admins)."""

from __future__ import annotations

import csv
import io
import json

from flask import Response, abort
from flask_login import current_user

from ...core.viewpoint import SOURCES, counting
from ...storage import bank_of, export_assessment, records_of, stored_answers
from ...storage import clients as store
from ..auth import current_firm_id, member_required
from ..db import get_db
from .common import bp, client_or_404


@bp.get("/clients/<int:client_id>/export.json")
@member_required
def export_client(client_id: int):
    client = client_or_404(client_id)
    data = {"client": {k: client[k] for k in ("id", "name", "sector", "size", "contacts",
                                               "notes", "created_at")},
            "assessments": [export_assessment(get_db(), a["id"]) for a in
                            store.client_assessments(get_db(), current_firm_id(), client_id)]}
    return download(json.dumps(data, indent=2, ensure_ascii=False), "application/json",
                     f"client-{client_id}.json")


@bp.get("/clients/<int:client_id>/answers.csv")
@member_required
def export_client_csv(client_id: int):
    client_or_404(client_id)
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
                                 spreadsheet_cell(q.text), qid, source,
                                 spreadsheet_cell(q.describe(s.answer) if s.answer else ""),
                                 "yes" if (qid, source) in counts else "no",
                                 "yes" if s.verified else "no", spreadsheet_cell(s.note),
                                 "yes" if s.note_shared or source != "consultant" else "no",
                                 s.updated_at])
    return download(out.getvalue(), "text/csv", f"client-{client_id}-answers.csv")


def spreadsheet_cell(text: str) -> str:
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
    return download(json.dumps(data, indent=2, ensure_ascii=False), "application/json",
                     "firm-export.json")


def download(body: str, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
