"""The bank validator: the shipped bank passes, and each kind of authoring mistake is refused with
one typed error that names the file and the key path, both by load_bank and `flask bank check`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from assessment.core.bank import BankError, bank_from_snapshot, load_bank

from .conftest import BANK_FIXTURES, QUESTIONS

BROKEN = sorted(p.name for p in (BANK_FIXTURES / "broken").iterdir())


def broken_bank(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """The mini bank with the fixture's files laid over it, and the message it must produce."""
    target = tmp_path / "mini"
    shutil.copytree(BANK_FIXTURES / "mini", target)
    for file in (BANK_FIXTURES / "broken" / kind).glob("*.yaml"):
        shutil.copy(file, target / file.name)
    expect = (BANK_FIXTURES / "broken" / kind / "expect.txt").read_text().strip()
    return target, expect


def test_shipped_bank_is_valid(bank):
    """The bank the product ships must load; everything else stands on it."""
    assert bank.questions
    assert all(q.help for q in bank.questions)


def test_there_are_at_least_ten_kinds_of_broken_bank():
    """The issue asks for one fixture per kind of mistake, at least ten."""
    assert len(BROKEN) >= 10


@pytest.mark.parametrize("kind", BROKEN)
def test_broken_bank_names_file_and_key_path(tmp_path, kind):
    """A bank author must see where the mistake is: file, then key path, then what is wrong."""
    folder, expect = broken_bank(tmp_path, kind)
    with pytest.raises(BankError) as caught:
        load_bank(folder)
    message = str(caught.value)
    assert f"mini/{expect}" in message, message
    assert all(p.file.startswith("mini/") for p in caught.value.problems)


@pytest.mark.parametrize("kind", BROKEN)
def test_bank_check_command_fails_with_the_message(tmp_path, runner, kind):
    """`flask bank check DIR` exits non-zero and prints the same located message, no traceback."""
    folder, expect = broken_bank(tmp_path, kind)
    result = runner.invoke(args=["bank", "check", str(folder)])
    assert result.exit_code == 1
    assert f"mini/{expect}" in result.output
    assert "Traceback" not in result.output


def test_bank_check_passes_on_the_shipped_bank(runner):
    result = runner.invoke(args=["bank", "check", str(QUESTIONS)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: bank it_health")


def test_orphan_section_file_is_refused(mini_bank_dir):
    """A section file nobody lists would silently never be asked."""
    (mini_bank_dir / "extra.yaml").write_text("id: extra\n")
    with pytest.raises(BankError, match="mini/extra.yaml: section file is not listed"):
        load_bank(mini_bank_dir)


def test_bank_is_immutable(mini_bank):
    """Loaded once and shared by every request, so nobody may change it in place."""
    with pytest.raises(ValidationError, match="frozen"):
        mini_bank.sections[0].questions[0].weight = 0  # type: ignore[misc]


def test_snapshot_rebuilds_the_same_bank(mini_bank):
    """An assessment's stored snapshot gives back the bank it was answered against."""
    again = bank_from_snapshot(mini_bank.snapshot)
    assert again.hash == mini_bank.hash
    assert again.questions == mini_bank.questions


def test_hash_changes_when_the_bank_changes(mini_bank_dir, mini_bank):
    text = (mini_bank_dir / "backup.yaml").read_text().replace("Every week", "Weekly")
    (mini_bank_dir / "backup.yaml").write_text(text)
    assert load_bank(mini_bank_dir).hash != mini_bank.hash


def test_every_finding_must_explain_itself_from_bank_2_1(mini_bank_dir, mini_bank):
    """From 2.1 on, the critical rule, its lesser finding and a "Not sure" that is a finding
    each say why they matter, named by file and key path; a 2.0 bank, like those stored with
    old assessments, still loads without them."""
    assert all(q.critical.why_it_matters is None for q in mini_bank.questions if q.critical)
    assert bank_from_snapshot(mini_bank.snapshot).hash == mini_bank.hash
    bank_yaml = mini_bank_dir / "bank.yaml"
    bank_yaml.write_text(bank_yaml.read_text().replace("version: 2.0.0", "version: 2.1.0"))
    with pytest.raises(BankError) as caught:
        load_bank(mini_bank_dir)
    assert {str(p) for p in caught.value.problems} == {
        f"mini/{path}.why_it_matters: say in one or two plain sentences what happens to the "
        f"business if this finding stays"
        for path in ("backup.yaml: questions[0].critical",
                     "backup.yaml: questions[0].critical.not_sure",
                     "backup.yaml: questions[1].critical",
                     "backup.yaml: questions[1].critical.not_sure",
                     "security.yaml: questions[0].critical")}


def test_why_it_matters_is_refused_where_not_sure_is_no_finding(mini_bank_dir):
    """`why` says why "Not sure" is no finding; a `why_it_matters` there would mean nothing."""
    path = mini_bank_dir / "security.yaml"
    path.write_text(path.read_text().replace(
        "not_sure: {why: ", "not_sure: {why_it_matters: Nothing., why: "))
    with pytest.raises(BankError, match=r"mini/security.yaml: questions\[0\]\.critical\."
                                        r"not_sure\.why_it_matters: 'Not sure' is no finding"):
        load_bank(mini_bank_dir)


PLAN_MISTAKES = [
    # (file, text to replace, replacement, the located message)
    ("backup.yaml", "id: test, when: [year, never],",
     "id: test, when: [year, never], absorbs: [backup.nowhere:daily],",
     "backup.yaml: questions[1].recommendations[0].absorbs[0]: 'backup.nowhere:daily' is not a "
     "recommendation"),
    ("backup.yaml", "id: test, when: [year, never],",
     "id: test, when: [year, never], absorbs: [backup.automatic:find_out],",
     "backup.yaml: questions[1].recommendations[0].absorbs[0]: a 'find out' is asked in the "
     "first-week meeting"),
    ("backup.yaml", "id: daily, when: [weekly, none],",
     "id: daily, when: [weekly, none], after: [backup.tested:test],",
     None),  # fine alone; with the next change it is a circle
    ("backup.yaml", "id: find_out, when: [not_sure], title: Find out about backups,",
     "id: find_out, when: [not_sure], asks: nobody, title: Find out about backups,",
     "backup.yaml: questions[0].recommendations[1].asks"),
    ("security.yaml", "id: mfa, when: [\"no\"],",
     "id: mfa, when: [\"no\"], only_if: {q: backup.automatic, gt: 3},",
     "security.yaml: questions[0].recommendations[0].only_if: 'gt' does not apply to a "
     "'single' question"),
    ("security.yaml", "id: mfa, when: [\"no\"],",
     "id: mfa, when: [\"no\"], asks: owner,",
     "security.yaml: questions[0].recommendations[0].asks: only a 'find out'"),
]


@pytest.mark.parametrize("case", [c for c in PLAN_MISTAKES if c[3]],
                         ids=lambda c: c[3].split(": ")[1])
def test_plan_links_are_checked(mini_bank_dir, case):
    """Steps that absorb, follow or ask name real recommendations in ways the plan can keep."""
    file, old, new, expect = case
    path = mini_bank_dir / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(BankError) as caught:
        load_bank(mini_bank_dir)
    assert f"mini/{expect}" in str(caught.value), str(caught.value)


def test_steps_that_follow_each_other_in_a_circle_are_refused(mini_bank_dir):
    path = mini_bank_dir / "backup.yaml"
    text = path.read_text()
    text = text.replace("id: daily, when: [weekly, none],",
                        "id: daily, when: [weekly, none], after: [backup.tested:test],", 1)
    text = text.replace("id: test, when: [year, never],",
                        "id: test, when: [year, never], after: [backup.automatic:daily],", 1)
    path.write_text(text)
    with pytest.raises(BankError) as caught:
        load_bank(mini_bank_dir)
    assert "after: steps that come after each other in a circle" in str(caught.value)


def test_a_workstream_must_be_declared(mini_bank_dir):
    bank_yaml = mini_bank_dir / "bank.yaml"
    bank_yaml.write_text(bank_yaml.read_text() + (
        "workstreams:\n  - {id: backups, title: Backups you can restore, lead: provider}\n"))
    (mini_bank_dir / "backup.yaml").write_text(
        (mini_bank_dir / "backup.yaml").read_text().replace(
            "id: backup\n", "id: backup\nworkstream: backups\n", 1))
    with pytest.raises(BankError) as caught:
        load_bank(mini_bank_dir)
    assert "mini/security.yaml: workstream: name one of the workstreams in bank.yaml: backups" \
        in str(caught.value)


def test_a_strength_is_only_for_a_scored_question(mini_bank_dir):
    """`strength` says what the best answer means for "What is good"; an unscored question has
    no best answer."""
    path = mini_bank_dir / "security.yaml"
    path.write_text(path.read_text().replace(
        "    weight: 1\n    show_if: {q: security.wifi, equals: separate}\n",
        "    weight: 0\n    strength: Guests need a password.\n"
        "    show_if: {q: security.wifi, equals: separate}\n"))
    with pytest.raises(BankError) as caught:
        load_bank(mini_bank_dir)
    assert "mini/security.yaml: questions[3].strength: only for a scored question: it says " \
           "what its best answer means" in {str(p) for p in caught.value.problems}
