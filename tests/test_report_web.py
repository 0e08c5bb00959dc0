"""The report on the web: both variants on the owner's and the consultant's routes.

Renders go to a stand-in pool whose renders finish when a test says so, so nothing here waits
for WeasyPrint.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Future

import pytest

from assessment import create_app
from assessment.report import ReportCache
from assessment.scoring import parse_answer
from assessment.storage import create_assessment, save_answer, set_status
from assessment.storage import clients as store

from .conftest import FIXTURES
from .workspace_fixtures import make_member, sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ANSWERS = json.loads((FIXTURES / "well_run_managed.json").read_text())["answers"]


class HeldPool:
    """Stands in for the render pool: each render is a Future that a test finishes (with the HTML
    it was given, as 'PDF' bytes, or with an error)."""

    def __init__(self, *, auto: bool = False):
        self.auto = auto
        self.jobs: list[tuple[Future, str]] = []
        self.timeout = 5.0

    def submit(self, html: str, timeout=None) -> Future:
        future: Future = Future()
        self.jobs.append((future, html))
        if self.auto:
            self.finish()
        return future

    def start(self) -> None:
        for future, _ in self.jobs:
            if not future.running() and not future.done():
                future.set_running_or_notify_cancel()
                future.started_at = time.monotonic()

    def finish(self, error: Exception | None = None) -> None:
        self.start()
        for future, html in self.jobs:
            if not future.done():
                if error is None:
                    future.set_result(b"%PDF-held " + html.encode())
                else:
                    future.set_exception(error)


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE": str(tmp_path / "app.sqlite"),
                      "REPORT_DIR": str(tmp_path / "reports")})
    app.extensions["report_cache"] = ReportCache(tmp_path / "reports", pool=HeldPool(auto=True))
    return app


def pool_of(app) -> HeldPool:
    return app.extensions["report_cache"]._pool


def hold_renders(app) -> HeldPool:
    pool = HeldPool()
    app.extensions["report_cache"]._pool = pool
    return pool


def finished_owner(app):
    """A test client with a finished self-assessment open (the whole well-run answer set)."""
    from assessment.web import owner
    from assessment.web.db import current_bank, get_db

    with app.app_context():
        db, bank = get_db(), current_bank()
        token, token_hash = owner.new_resume_token()
        assessment_id = create_assessment(db, bank, resume_token_hash=token_hash)
        for qid, raw in ANSWERS.items():
            save_answer(db, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], raw))
        set_status(db, assessment_id, "finished")
    client = app.test_client()
    assert client.get(f"/assessment/resume/{token}").status_code == 303
    return client


def consultant(app):
    """A signed-in consultant and the id of their client's finished interview."""
    from assessment.web.db import current_bank, get_db

    member = make_member(app)
    client = app.test_client()
    assert sign_in(client, member["email"], member["password"]).status_code == 303
    with app.app_context():
        db, bank = get_db(), current_bank()
        client_id = store.create_client(db, member["firm_id"], name="Harbour Dental")
        assessment_id = store.start_client_assessment(
            db, bank, member["firm_id"], client_id, mode="interview",
            created_by=member["user_id"])
        for qid, raw in ANSWERS.items():
            save_answer(db, assessment_id, qid, base_version=0, source="consultant",
                        answer=parse_answer(bank.question_by_id[qid], raw))
        set_status(db, assessment_id, "finished")
    return client, assessment_id


# ---------------------------------------------------------------- the two variants


def test_owner_downloads_either_variant_and_the_leadership_one_by_default(app):
    owner = finished_owner(app)
    default = owner.get("/assessment/report.pdf")
    leadership = owner.get("/assessment/report.pdf?variant=leadership")
    full = owner.get("/assessment/report.pdf?variant=full")
    for response in (default, leadership, full):
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
    assert default.data == leadership.data
    assert b"Leadership report" in default.data and b"Full report" not in default.data
    assert b"Full report" in full.data
    page = owner.get("/assessment/report?variant=full").get_data(as_text=True)
    assert "Full report" in page
    assert "Leadership report" in owner.get("/assessment/report").get_data(as_text=True)


def test_consultant_downloads_either_variant(app):
    member, assessment_id = consultant(app)
    base = f"/workspace/assessments/{assessment_id}"
    full = member.get(f"{base}/report.pdf?variant=full")
    assert full.status_code == 200 and b"Full report" in full.data
    assert b"Leadership report" in member.get(f"{base}/report.pdf").data
    assert "Full report" in member.get(f"{base}/report?variant=full").get_data(as_text=True)
    page = member.get(base).get_data(as_text=True)
    assert f'href="{base}/report.pdf?variant=full"' in page, "no full report link"
    assert f'href="{base}/report.pdf"' in page


@pytest.mark.parametrize("query", ["variant=everything", "variant=", "variant=FULL",
                                   "variant=full&variant=leadership"])
def test_any_other_variant_is_a_400_that_says_which_there_are(app, query):
    owner = finished_owner(app)
    for path in ("/assessment/report.pdf", "/assessment/report"):
        response = owner.get(f"{path}?{query}")
        assert response.status_code == 400 and response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "There is no such report" in page and "variant=full" in page
    assert not pool_of(app).jobs, "a refused variant started a render"
