"""The bank validator: the shipped bank passes, and each kind of authoring mistake is refused with
one typed error that names the file and the key path, both by load_bank and `flask bank check`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from assessment.bank import BankError, bank_from_snapshot, load_bank

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
