"""The command line: clear errors naming file and field, never a traceback."""

from __future__ import annotations

import json

import pytest

from assessment.core.bank import Answer
from assessment.storage import connect, create_assessment, save_answer
from assessment.support.config import database

pytestmark = pytest.mark.both_backends


def test_bank_coverage_prints_both_tables(runner):
    result = runner.invoke(args=["bank", "coverage"])
    assert result.exit_code == 0, result.output
    assert "CIS Controls v8, Implementation Group 1:" in result.output
    assert "NIST CSF 2.0:" in result.output
    assert "11.2" in result.output


def test_db_init_is_idempotent(runner, app):
    first = runner.invoke(args=["db", "init"])
    second = runner.invoke(args=["db", "init"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "schema up to date" in second.output


def test_db_backup_and_restore(runner, app, tmp_path, bank):
    db = connect(database(app.config))
    aid = create_assessment(db, bank)
    save_answer(db, aid, "backup.automatic", base_version=0, answer=Answer("answered", "daily"))
    db.close()
    target = tmp_path / "b.sqlite"
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 0 and "integrity check ok" in result.output
    again = runner.invoke(args=["db", "backup", str(target)])
    assert again.exit_code == 1 and "already exists" in again.output
    restored = runner.invoke(args=["db", "restore", str(target), "--yes"])
    assert restored.exit_code == 0 and "integrity check ok" in restored.output
    missing = runner.invoke(args=["db", "restore", str(tmp_path / "nope.sqlite"), "--yes"])
    assert missing.exit_code == 1 and "no such backup file" in missing.output


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_assess_score_prints_the_result(runner, tmp_path):
    path = write(tmp_path, "a.json", json.dumps(
        {"bank": "it_health", "answers": {"backup.automatic": "none"}}))
    result = runner.invoke(args=["assess", "score", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["score"] == 0
    assert data["critical_findings"][0]["question"] == "backup.automatic"
    # The severity stays the bank's word; beside it, the word every page and report shows.
    assert data["critical_findings"][0]["severity"] == "existential"
    assert data["critical_findings"][0]["severity_label"] == "Critical finding"
    for action in data["recommendations"]:
        assert action["severity_label"] == (None if action["severity"] is None
                                            else "Critical finding")


def test_assess_score_names_file_and_field(runner, tmp_path):
    """A wrong file says which file and which answer is wrong, and how."""
    cases = {
        "bad.json": ("{nope", "bad.json: line 1, column 2: not valid JSON"),
        "shape.json": ("[1, 2]", "shape.json: answers: expected an object"),
        "bank.json": ('{"bank": "other", "answers": {}}', "bank.json: bank: 'other' does not"),
        "unknown.json": ('{"answers": {"backup.nope": "x"}}',
                         "unknown.json: answers.backup.nope: no question with this id"),
        "value.json": ('{"answers": {"backup.automatic": "often"}}',
                       "value.json: answers.backup.automatic: Choose one of the options. "
                       "Use one of: daily, weekly, manual, sync_only, none; "
                       "or {\"state\": \"not_sure\"}."),
    }
    for name, (text, message) in cases.items():
        result = runner.invoke(args=["assess", "score", str(write(tmp_path, name, text))])
        assert result.exit_code == 1, name
        assert message in result.output, result.output
        assert "Traceback" not in result.output
    missing = runner.invoke(args=["assess", "score", str(tmp_path / "missing.json")])
    assert missing.exit_code == 1 and "missing.json: no such file" in missing.output


def test_assess_export(runner, app, bank):
    db = connect(database(app.config))
    aid = create_assessment(db, bank)
    save_answer(db, aid, "backup.automatic", base_version=0, answer=Answer("answered", "weekly"))
    db.close()
    result = runner.invoke(args=["assess", "export", aid])
    assert result.exit_code == 0
    assert json.loads(result.output)["answers"] == {"backup.automatic": "weekly"}
    unknown = runner.invoke(args=["assess", "export", "nope"])
    assert unknown.exit_code == 1 and "no assessment with id 'nope'" in unknown.output


def test_assessment_ids_never_read_as_options():
    """An id starting with "-" made `assess export ID` a usage error (exit 2) now and then."""
    from assessment.storage.assessments import new_id

    assert not any(new_id().startswith("-") for _ in range(5000))
