"""What the workspace's pages share: their blueprint, lookups scoped to the signed-in member's
firm (an id from another firm is answered with 404 and nothing changes), and the firm's view of
an assessment."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from ...core.viewpoint import FIRM
from ...report.models import printable
from ...storage import accounts, assessment_view, bank_of, stored_answers
from ...storage import clients as store
from ...support.audit import audit
from ..auth import current_firm_id
from ..db import get_db

bp = Blueprint("workspace", __name__, url_prefix="/workspace")
SOURCE = "consultant"


def client_or_404(client_id: int) -> dict:
    client = store.get_client(get_db(), current_firm_id(), client_id)
    if client is None:
        audit("access_denied", reason="no such client in this firm", client=client_id,
              member=current_user.id)
        abort(404)
    return client


def assessment_or_404(assessment_id: str) -> dict:
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


def member_names() -> dict[int, str]:
    """The firm's members by id, to say who started an assessment."""
    return {m.id: m.name for m in accounts.list_members(get_db(), current_firm_id())}


def waiting(assessment_id: str) -> frozenset[str]:
    """Answers copied from an earlier assessment that wait to be re-confirmed."""
    return frozenset(qid for qid, s in stored_answers(get_db(), assessment_id, SOURCE).items()
                     if s.reconfirm and s.answer)


def last_finished(client_id: int) -> dict | None:
    """The client's latest finished assessment (not archived), the one a new one copies."""
    done = [a for a in store.client_assessments(get_db(), current_firm_id(), client_id,
                                                archived=False) if a["status"] == "finished"]
    # Two finished within one millisecond (a script, or a fast double click) tie on time; the
    # one copied from the other is then the later, as it is in the client's history.
    sources = {a["copied_from"] for a in done}
    return max(done, key=lambda a: (a["finished_at"] or a["updated_at"], a["created_at"],
                                    a["id"] not in sources)) if done else None


def one_line(text: str | None) -> str:
    """Branding lines as reports print them: one line, no control characters."""
    return " ".join(printable(text or "").split())
