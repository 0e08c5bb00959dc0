"""Answers that contradict each other (bank.yaml `contradictions`, bank 2.2): the loader checks
them, scoring names those that hold without changing anything it scores, and the owner's pages,
the consultant's assessment page and the report list them under "Answers that do not agree"."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader

from assessment.core import wording
from assessment.core.bank import BankError, bank_from_snapshot, load_bank
from assessment.core.bank.models import Contradiction
from assessment.core.scoring import parse_answers, result_to_dict, score
from assessment.report import ReportInput, render_html, render_print_html

from .conftest import BANK_FIXTURES, FIXTURES, ROOT

HEADING = "Answers that do not agree"
BASE = "well_run_managed"  # a reference answer set in which every answer agrees

# Each shipped contradiction: answers that make it hold, and answers to the same questions that
# agree (changes to the base answer set).
SHIPPED = {
    "no_company_but_provider": (
        {"profile.billing_model": "in_house", "profile.it_support": "provider",
         "patching.who": "named_person"},
        {"profile.billing_model": "in_house", "profile.it_support": "in_house",
         "patching.who": "named_person"}),
    "flat_fee_but_repair_bills": (
        {"profile.billing_model": "flat", "profile.reactive_spend_12m": 1500},
        {"profile.billing_model": "flat", "profile.reactive_spend_12m": 0}),
    "updates_by_company_without_one": (
        {"profile.billing_model": "in_house", "profile.it_support": "in_house",
         "patching.who": "provider"},
        {"profile.billing_model": "in_house", "profile.it_support": "in_house",
         "patching.who": "named_person"}),
    "warnings_seen_but_nothing_watched": (
        {"security.endpoint": "managed", "monitoring.watched": "nobody"},
        {"security.endpoint": "managed", "monitoring.watched": "always"}),
    "tested_but_slow_to_recover": (
        {"backup.restore_tested": "quarter", "backup.recovery_time": "unknown_long"},
        {"backup.restore_tested": "quarter", "backup.recovery_time": "hours"}),
    "no_problems_but_hours_lost": (
        {"incidents.happened": "none", "profile.outage_hours_12m": 6},
        {"incidents.happened": "none", "profile.outage_hours_12m": 0}),
}


def raw_answers(changes: dict | None = None) -> dict:
    raw = json.loads((FIXTURES / f"{BASE}.json").read_text(encoding="utf-8"))["answers"]
    return {**raw, **(changes or {})}


def scored(bank, changes: dict | None = None):
    answers, errors = parse_answers(bank, raw_answers(changes))
    assert not errors, errors
    return score(bank, answers)


def ids(result) -> list[str]:
    return [c.id for c in result.contradictions]


def flat(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------ the loader


@pytest.fixture
def v22_dir(tmp_path):
    """A copy of the small 2.2 bank in tests/bank_fixtures/v22, free to modify."""
    target = tmp_path / "v22"
    shutil.copytree(BANK_FIXTURES / "v22", target)
    return target


def with_contradictions(folder, entries: str) -> None:
    bank_yaml = folder / "bank.yaml"
    bank_yaml.write_text(bank_yaml.read_text() + "contradictions:\n" + entries)


GOOD = ("  - id: callback_without_money\n"
        "    when:\n"
        "      all:\n"
        "        - {q: security.callback, equals: \"yes\"}\n"
        "        - {q: profile.client_money, equals: \"no\"}\n"
        "    text: You said you call back, but no money moves. Check it.\n")


def problems_of(folder) -> set[str]:
    with pytest.raises(BankError) as caught:
        load_bank(folder)
    return {str(p) for p in caught.value.problems}


def test_a_contradiction_loads_and_is_kept_in_the_snapshot(v22_dir):
    """Any questions, in any order (a later section's before the profile's), with their
    question ids in the order the condition names them."""
    with_contradictions(v22_dir, GOOD)
    bank = load_bank(v22_dir)
    assert [c.id for c in bank.contradictions] == ["callback_without_money"]
    assert bank.contradictions[0].questions == ("security.callback", "profile.client_money")
    assert bank_from_snapshot(bank.snapshot).contradictions == bank.contradictions


@pytest.mark.parametrize("entries, expect", [
    (GOOD.replace("security.callback", "security.nowhere"),
     "v22/bank.yaml: contradictions[0].when.all[0].q: 'security.nowhere' is not a question of "
     "this bank"),
    (GOOD + GOOD,
     "v22/bank.yaml: contradictions[1].id: duplicate id 'callback_without_money'"),
    (GOOD.replace('equals: "yes"', "gt: 3"),
     "v22/bank.yaml: contradictions[0].when.all[0].gt: operator 'gt' does not fit a 'yesno' "
     "question"),
    (GOOD.replace('equals: "yes"', "equals: maybe"),
     "v22/bank.yaml: contradictions[0].when.all[0].equals: 'maybe' is not an answer of "
     "security.callback"),
], ids=["unknown question", "duplicate id", "operator", "answer"])
def test_a_bad_contradiction_is_refused_with_where_and_why(v22_dir, entries, expect):
    with_contradictions(v22_dir, entries)
    assert any(p.startswith(expect) for p in problems_of(v22_dir)), problems_of(v22_dir)


def test_a_contradiction_id_is_lowercase(v22_dir):
    with_contradictions(v22_dir, GOOD.replace("callback_without_money", "Callback"))
    found = problems_of(v22_dir)
    assert any(p.startswith("v22/bank.yaml: contradictions[0].id: String should match "
                            "pattern") for p in found), found


def test_a_bank_before_2_2_may_not_list_contradictions(mini_bank_dir):
    """An older bank is scored exactly as it was written: the usual 2.2 gating message."""
    with_contradictions(mini_bank_dir, GOOD.replace("security.callback", "security.mfa")
                        .replace("profile.client_money", "backup.automatic")
                        .replace('equals: "no"', "equals: daily"))
    assert problems_of(mini_bank_dir) == {
        "mini/bank.yaml: contradictions: new in bank 2.2.0; this bank is 2.0.0 (raise its "
        "version to use it)"}


def test_the_shipped_bank_check_stays_ok(runner, bank):
    assert list(SHIPPED) == [c.id for c in bank.contradictions]
    result = runner.invoke(args=["bank", "check"])
    assert result.exit_code == 0, result.output


def test_contradiction_is_documented():
    doc = (ROOT / "docs" / "bank-format.md").read_text(encoding="utf-8")
    table = re.search(r"^## `Contradiction`.*?$(.*?)(?=^## |\Z)", doc, re.S | re.M).group(1)
    assert [name for name in Contradiction.model_fields if f"`{name}`" not in table] == []
    assert "Answers that do not agree" in (ROOT / "docs" / "scoring.md").read_text("utf-8")


# ------------------------------------------------------------------------------ scoring


def test_the_base_answers_agree(bank):
    assert ids(scored(bank)) == []


@pytest.mark.parametrize("name", list(SHIPPED))
def test_each_shipped_contradiction_holds_only_when_the_answers_disagree(bank, name):
    disagree, agree = SHIPPED[name]
    result = scored(bank, disagree)
    assert ids(result) == [name]
    found = result.contradictions[0]
    assert found.questions == tuple(dict.fromkeys(
        c.q for _, c in bank.contradictions[list(SHIPPED).index(name)].when.comparisons()))
    assert ids(scored(bank, agree)) == []


def test_a_question_left_unanswered_makes_no_contradiction(bank):
    disagree, _ = SHIPPED["no_problems_but_hours_lost"]
    raw = raw_answers(disagree)
    del raw["profile.outage_hours_12m"]
    answers, _ = parse_answers(bank, raw)
    assert ids(score(bank, answers)) == []


def test_several_are_listed_in_bank_order(bank):
    changes = {**SHIPPED["no_problems_but_hours_lost"][0],
               **SHIPPED["warnings_seen_but_nothing_watched"][0]}
    assert ids(scored(bank, changes)) == ["warnings_seen_but_nothing_watched",
                                          "no_problems_but_hours_lost"]


@pytest.mark.parametrize("name", list(SHIPPED))
def test_a_contradiction_changes_nothing_that_is_scored(bank, name):
    """Score, band, findings, plan and projections are those of the same bank without any
    contradiction: they are told, never scored."""
    disagree, _ = SHIPPED[name]
    answers, _ = parse_answers(bank, raw_answers(disagree))
    told = score(bank, answers)
    untold = score(bank.model_copy(update={"contradictions": ()}), answers)
    assert told.contradictions and not untold.contradictions
    assert (told.score, told.band, told.uncapped_band) == \
        (untold.score, untold.band, untold.uncapped_band)
    assert told.critical_findings == untold.critical_findings
    with_them, without = result_to_dict(told), result_to_dict(untold)
    assert with_them.pop("contradictions") and without.pop("contradictions") == []
    assert with_them == without


def test_the_json_names_each_with_its_text_and_questions(bank):
    data = result_to_dict(scored(bank, SHIPPED["updates_by_company_without_one"][0]))
    assert data["contradictions"] == [{
        "id": "updates_by_company_without_one",
        "text": "You said no IT company looks after your IT, but also that an outside IT "
                "company puts the updates on. Check who does it.",
        "questions": ["profile.billing_model", "patching.who"]}]
    assert result_to_dict(scored(bank))["contradictions"] == []


# ------------------------------------------------------------------------------ the pages


def open_with(app, raw: dict, *, finished: bool = True):
    """An owner's browser with a self-assessment holding these answers."""
    from assessment.core.scoring import parse_answer
    from assessment.storage import create_assessment, save_answer, set_status
    from assessment.web import owner
    from assessment.web.db import current_bank, get_db

    with app.app_context():
        db, bank = get_db(), current_bank()
        token, token_hash = owner.new_resume_token()
        assessment_id = create_assessment(db, bank, resume_token_hash=token_hash)
        for qid, value in raw.items():
            save_answer(db, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(bank.question_by_id[qid], value))
        if finished:
            set_status(db, assessment_id, "finished")
    browser = app.test_client()
    assert browser.get(f"/assessment/resume/{token}").status_code == 303
    return browser, assessment_id


def block_of(page: str) -> str:
    found = re.search(r'<section class="notice notice-warning contradictions".*?</section>', page,
                      re.S)
    assert found, "no block of answers that do not agree"
    return found.group(0)


def test_results_and_review_pages_name_them_with_a_link_to_the_question(app, bank):
    text = bank.contradictions[list(SHIPPED).index("warnings_seen_but_nothing_watched")].text
    browser, _ = open_with(app, raw_answers(SHIPPED["warnings_seen_but_nothing_watched"][0]))
    for path in ("/assessment/results", "/assessment/review"):
        page = browser.get(path).get_data(as_text=True)
        block = html.unescape(block_of(page))
        assert f'<h2 id="contradictions-heading">{HEADING}</h2>' in block
        assert flat(text) in flat(block)
        # The first question its condition names is security.endpoint.
        assert "/assessment/section/security?back=review#q-security.endpoint" in block
        assert "Check the answers in “" in block


def test_the_words_fit_a_business_without_a_provider(app, bank):
    """"Ask your provider" reads as the arrangement says, like every other bank sentence."""
    changes = {**SHIPPED["warnings_seen_but_nothing_watched"][0],
               "profile.billing_model": "in_house", "profile.it_support": "family",
               "patching.who": "named_person"}
    browser, _ = open_with(app, raw_answers(changes))
    block = html.unescape(block_of(browser.get("/assessment/results").get_data(as_text=True)))
    assert "Ask whoever looks after your IT who receives those warnings." in block
    assert "your provider" not in block


def test_nothing_is_shown_when_the_answers_agree(app):
    browser, _ = open_with(app, raw_answers())
    for path in ("/assessment/results", "/assessment/review"):
        assert HEADING not in browser.get(path).get_data(as_text=True)


def test_the_consultants_assessment_page_names_them(app, bank):
    from assessment.storage import clients as store
    from assessment.storage import connect
    from assessment.support.config import database

    from .workspace_fixtures import csrf_token, make_member, sign_in, started_id

    member = make_member(app)
    browser = app.test_client()
    assert sign_in(browser, member["email"], member["password"]).status_code == 303
    db = connect(database(app.config))
    client_id = store.create_client(db, member["firm_id"], name="Harbour Dental")
    db.close()
    token = csrf_token(browser.get("/workspace/", follow_redirects=True).get_data(as_text=True))
    started = browser.post(f"/workspace/clients/{client_id}/interview",
                           data={"csrf_token": token})
    assessment_id = started_id(started)
    page = browser.get(f"/workspace/assessments/{assessment_id}").get_data(as_text=True)
    assert HEADING not in page

    from assessment.core.scoring import parse_answer
    from assessment.storage import save_answer

    db = connect(database(app.config))
    for qid, value in SHIPPED["tested_but_slow_to_recover"][0].items():
        save_answer(db, assessment_id, qid, base_version=0, source="consultant",
                    answer=parse_answer(bank.question_by_id[qid], value))
    save_answer(db, assessment_id, "backup.automatic", base_version=0, source="consultant",
                answer=parse_answer(bank.question_by_id["backup.automatic"], "daily"))
    db.close()
    page = html.unescape(block_of(browser.get(f"/workspace/assessments/{assessment_id}")
                                  .get_data(as_text=True)))
    assert "Ask what the last test covered: a file, or a whole computer." in page
    assert f"/workspace/assessments/{assessment_id}/interview/backup#q-backup.restore_tested" \
        in page


# ------------------------------------------------------------------------------ the report


def report_of(bank, changes: dict | None = None) -> ReportInput:
    return ReportInput(result=scored(bank, changes), business_name="Northgate Architects",
                       assessed_on=date(2025, 3, 12))


def test_the_report_html_names_them_in_the_brief(bank):
    changes = {**SHIPPED["no_problems_but_hours_lost"][0],
               **SHIPPED["flat_fee_but_repair_bills"][0]}
    page = html.unescape(render_html(report_of(bank, changes)))
    brief = page[page.index('id="brief"'):page.index('id="plan"')]
    assert f"<h2>{HEADING}</h2>" in brief
    for name in ("flat_fee_but_repair_bills", "no_problems_but_hours_lost"):
        text = bank.contradictions[list(SHIPPED).index(name)].text
        assert wording.adapt(text, "provider") in flat(brief)
    assert brief.index("fixed monthly fee covers") < brief.index("nothing went wrong")
    assert HEADING not in render_html(report_of(bank))


@pytest.fixture(scope="module")
def pool(render_pool):
    return render_pool  # the session's warm one (conftest.py)


def pdf_text(path) -> str:
    """The PDF's text, as a reader's tool extracts it: poppler's where installed."""
    tool = shutil.which("pdftotext")
    if tool:
        return subprocess.run([tool, str(path), "-"], check=True, capture_output=True,
                              text=True).stdout
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def test_the_pdf_report_names_them(pool, bank, tmp_path):
    name = "tested_but_slow_to_recover"
    path = tmp_path / "report.pdf"
    path.write_bytes(pool.render(render_print_html(report_of(bank, SHIPPED[name][0]))))
    text = flat(pdf_text(path))
    assert HEADING in text
    assert flat(bank.contradictions[list(SHIPPED).index(name)].text) in text
