"""The application factory: configuration order, secret key, headers, error pages. The tests
of pages run on SQLite and on PostgreSQL; those of configuration make an app of their own on a
SQLite file."""

from __future__ import annotations

import re

import pytest

from assessment import create_app

pytestmark = pytest.mark.both_backends


def test_config_order_defaults_instance_env_test(tmp_path, monkeypatch):
    """Environment variables override defaults; the test mapping overrides both."""
    monkeypatch.setenv("ITHEALTH_DATABASE", str(tmp_path / "env.sqlite"))
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["DATABASE"] == str(tmp_path / "env.sqlite")
    app = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "test.sqlite")})
    assert app.config["DATABASE"] == str(tmp_path / "test.sqlite")
    assert not app.debug


def test_landing_page_explains_the_assessment(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "No account needed" in page
    assert "Backups and getting your data back" in page


def test_security_headers_on_pages_and_errors(client):
    for path, status in (("/", 200), ("/no-such-page", 404)):
        response = client.get(path)
        assert response.status_code == status
        csp = response.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "'nonce-" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_not_found_page_is_friendly(client):
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "Page not found" in page and "Traceback" not in page


def test_broken_bank_refuses_to_serve_but_says_how_to_check(tmp_path):
    (tmp_path / "bank.yaml").write_text("id: [broken\n")
    app = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "d.sqlite"),
                      "BANK_DIR": str(tmp_path)})
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert "flask bank check" in response.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["bank", "check"])
    assert result.exit_code == 1 and "bank.yaml: line 2, column 1: not valid YAML" in result.output


def test_addresses_built_by_templates_follow_their_arguments_and_the_request(app):
    """Templates' url_for remembers what it built: a remembered address must still be the one
    for these arguments, this mount point and, for full addresses, this host."""
    from assessment.web.memo import cached_url_for

    with app.test_request_context("/"):
        backup = cached_url_for("wizard.section", section_id="backup")
        assert cached_url_for("wizard.section", section_id="backup") == backup
        assert cached_url_for("wizard.section", section_id="patching") != backup
        assert cached_url_for("wizard.section", section_id="backup", _anchor="q-1") == \
            backup + "#q-1"
    with app.test_request_context("/", base_url="http://example.test/mounted"):
        assert cached_url_for("wizard.section", section_id="backup") == "/mounted" + backup
    with app.test_request_context("/", base_url="https://other.test/"):
        assert cached_url_for("wizard.hub", _external=True).startswith("https://other.test/")


# ---- the owner's pages: what a client met (issue "One truth", point 5) ---------------------

def _open_with(app, answers: dict, *, finished: bool = False):
    """A browser with a self-assessment open holding these answers; and its private link."""
    from assessment.core.scoring import parse_answer
    from assessment.storage import create_assessment, save_answer, set_status
    from assessment.web import owner
    from assessment.web.db import current_bank, get_db

    with app.app_context():
        db, bank = get_db(), current_bank()
        token, token_hash = owner.new_resume_token()
        assessment_id = create_assessment(db, bank, resume_token_hash=token_hash)
        for qid, raw in answers.items():
            save_answer(db, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], raw))
        if finished:
            set_status(db, assessment_id, "finished")
    browser = app.test_client()
    link = f"/assessment/resume/{token}"
    assert browser.get(link).status_code == 303
    return browser, link


def _reference_answers(name: str) -> dict:
    import json

    from .conftest import FIXTURES

    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["answers"]


def test_check_your_answers_puts_finish_first_and_says_a_scale_answer_in_words(app):
    """All answered: the page opens with "All questions are answered" and Finish, before the
    first answer; a 1-5 answer reads with what its ends mean, never a bare "1"."""
    app.config["WTF_CSRF_ENABLED"] = False
    browser, _ = _open_with(app, _reference_answers("break_fix_untested_backups"))
    page = browser.get("/assessment/review").get_data(as_text=True)
    top = page.index("All questions are answered")
    finish = page.index('id="finish-top"')
    assert top < finish < page.index('class="review-section"')
    assert "Finish now and see your results" in page  # at the top
    assert "Finish and see your results" in page  # and at the end
    assert "1 of 5 (Not at all: it depends on what breaks)" in page
    response = browser.post("/assessment/finish")
    assert response.headers["Location"].endswith("/assessment/results")


def test_check_your_answers_lists_what_is_missing_first_without_a_finish_that_fails(app):
    answers = _reference_answers("break_fix_untested_backups")
    del answers["backup.automatic"], answers["costs.predictable"]
    browser, _ = _open_with(app, answers)
    page = browser.get("/assessment/review").get_data(as_text=True)
    assert "2 questions still need an answer" in page
    assert page.index("still need an answer") < page.index('class="review-section"')
    assert "All questions are answered" not in page and 'id="finish-top"' not in page
    assert "/assessment/section/backup?back=review#q-backup.automatic" in page


def test_keep_this_link_is_shown_once_per_assessment_whatever_the_browser(app):
    """"Shown here once" is true: after the first page is saved in one browser, saving a page in
    another browser opened with the private link does not show it again."""
    app.config["WTF_CSRF_ENABLED"] = False
    first, link = _open_with(app, {})
    saved = first.post("/assessment/section/profile",
                       data={"q_profile__business_name": "Bakery", "then": "next"})
    assert "Keep this link to come back" in first.get(saved.headers["Location"]).get_data(
        as_text=True)
    second = app.test_client()
    assert second.get(link).status_code == 303
    saved = second.post("/assessment/section/backup",
                        data={"q_backup__automatic": "daily", "then": "next"})
    assert saved.status_code == 303
    after = second.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Keep this link to come back" not in after and "shown here once" not in after
    assert link in second.get("/assessment/").get_data(as_text=True)  # the overview keeps it


def test_the_progress_label_keeps_the_percentage_apart(app):
    browser, _ = _open_with(app, {"profile.business_name": "Bakery"})
    page = browser.get("/assessment/section/backup").get_data(as_text=True)
    assert re.search(r'left</span> <span class="progress-percent">\d+%</span>', page)
