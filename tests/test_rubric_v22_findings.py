"""Bank 2.2's critical rules (docs/scoring.md, step 5; docs/bank-format.md, `CriticalRule`):
a finding that stands only for some businesses (`only_if`), one that is worse for some
(`stronger`), and findings of one root cause that count once towards escalation (`weakness`).
Each runs on the small 2.2 bank in tests/bank_fixtures/v22, and the fields are refused in a
bank before 2.2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assessment.core.bank import BankError, bank_from_snapshot, load_bank
from assessment.core.scoring import parse_answers, result_to_dict, score

from .conftest import BANK_FIXTURES

V22 = BANK_FIXTURES / "v22"

# Every scored question answered, nothing critical: the base the tests change one thing of.
SOUND = {
    "profile.health_data": "no", "profile.client_money": "no",
    "backup.automatic": "daily", "backup.offsite": "away", "backup.locked": "no",
    "backup.encrypted": "yes",
    "security.callback": "yes", "security.password_manager": "yes",
    "security.shared_logins": "no", "security.mfa": "yes", "security.training": 5,
    "security.devices": 0,
}


@pytest.fixture(scope="module")
def bank():
    return load_bank(V22)


@pytest.fixture
def bank_dir(tmp_path) -> Path:
    target = tmp_path / "v22"
    shutil.copytree(V22, target)
    return target


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def result_of(bank, **changes):
    raw = {**SOUND, **{qid.replace("__", "."): value for qid, value in changes.items()}}
    answers, errors = parse_answers(bank, raw)
    assert not errors, errors
    return score(bank, answers)


def findings(result) -> dict[str, tuple[str, str]]:
    return {f.outcome.question.id: (f.title, f.severity) for f in result.critical_findings}


def test_the_sound_answers_have_no_finding(bank):
    result = result_of(bank)
    assert result.critical_findings == () and result.score == 100 and result.band.id == "low"


# only_if ---------------------------------------------------------------------------------------

def test_a_finding_with_only_if_stands_only_where_it_holds(bank):
    """Unencrypted backups are a finding for a business that holds health or client data; for
    another, the same answer costs its points and gets its fix, but caps nothing."""
    holds = result_of(bank, profile__health_data="yes", backup__encrypted="no")
    assert findings(holds) == {"backup.encrypted": ("Unencrypted backups carried off site",
                                                    "serious")}
    assert holds.band.id == "high"
    other = result_of(bank, profile__health_data="no", backup__encrypted="no")
    assert other.critical_findings == ()
    assert other.score == holds.score  # only the finding depends on it, never the points
    assert other.band.id == other.uncapped_band.id
    assert [a.id for a in other.actions] == ["backup.encrypted:encrypt"]
    assert not other.actions[0].fixes_finding and holds.actions[0].fixes_finding


def test_only_if_on_an_unanswered_question_is_false(bank):
    answers, _ = parse_answers(bank, {**SOUND, "backup.encrypted": "no"})
    del answers["profile.health_data"]
    assert score(bank, answers).critical_findings == ()


def test_only_if_drops_a_rules_not_sure_and_lesser_findings_too(bank_dir):
    """The whole rule stands or falls with only_if: its "Not sure" finding and its lesser one."""
    edit(bank_dir, "backup.yaml", "    show_if: {q: backup.automatic, in: [daily, weekly]}\n"
         "    scored_when_hidden: true\n    text: Are the backups encrypted?",
         "    not_sure: true\n    show_if: {q: backup.automatic, in: [daily, weekly]}\n"
         "    scored_when_hidden: true\n    text: Are the backups encrypted?")
    edit(bank_dir, "backup.yaml", "      only_if: {q: profile.health_data, equals: \"yes\"}\n",
         "      only_if: {q: profile.health_data, equals: \"yes\"}\n"
         "      not_sure: {severity: serious, finding: Nobody knows whether backups are "
         "encrypted, why_it_matters: A lost copy may be readable.}\n")
    bank = load_bank(bank_dir)
    unsure = {"backup__encrypted": {"state": "not_sure"}}
    assert findings(result_of(bank, profile__health_data="yes", **unsure)) == {
        "backup.encrypted": ("Nobody knows whether backups are encrypted", "serious")}
    assert result_of(bank, profile__health_data="no", **unsure).critical_findings == ()


def test_not_sure_on_what_only_if_looks_at_may_not_drop_the_finding(bank_dir):
    """Not knowing must never make an exposure disappear: the check says so, as for show_if."""
    edit(bank_dir, "profile.yaml", "  - id: profile.health_data\n    type: yesno\n",
         "  - id: profile.health_data\n    type: yesno\n    not_sure: true\n")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    assert "v22/backup.yaml: questions[3].critical.only_if: 'Not sure' on profile.health_data " \
           "drops this critical finding: keep it standing then, or make 'Not sure' on " \
           "profile.health_data a finding" in {str(p) for p in caught.value.problems}


@pytest.mark.parametrize("condition, message", [
    ("{q: security.mfa, equals: \"yes\"}",
     "critical.only_if.q: 'security.mfa' is not a question that comes before this one"),
    ("{q: profile.nowhere, equals: \"yes\"}",
     "critical.only_if.q: 'profile.nowhere' is not a question that comes before this one"),
    ("{q: profile.health_data, equals: maybe}",
     "critical.only_if.equals: 'maybe' is not an answer of profile.health_data"),
    ("{q: profile.health_data, gt: 3}",
     "critical.only_if.gt: operator 'gt' does not fit a 'yesno' question"),
])
def test_only_if_is_checked_like_show_if(bank_dir, condition, message):
    edit(bank_dir, "backup.yaml", "only_if: {q: profile.health_data, equals: \"yes\"}",
         f"only_if: {condition}")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    assert f"v22/backup.yaml: questions[3].{message}" in str(caught.value), str(caught.value)


# stronger --------------------------------------------------------------------------------------

def test_stronger_makes_the_finding_worse_where_it_holds(bank):
    """A payment-check gap is serious in general and existential where client money passes
    through: the worst band, with the entry's own words."""
    general = result_of(bank, security__callback="no")
    assert findings(general) == {"security.callback": ("Nobody checks new bank details",
                                                       "serious")}
    assert general.band.id == "high"
    assert general.critical_findings[0].why_it_matters == "One fake email can divert a payment."
    money = result_of(bank, profile__client_money="yes", security__callback="no")
    assert findings(money) == {"security.callback": (
        "Nobody checks new bank details, and client money passes through", "existential")}
    assert money.band.id == "critical"
    assert money.critical_findings[0].why_it_matters.startswith("Client money sent")
    assert money.actions[0].severity == "existential"  # the plan leads with it as existential
    data = result_to_dict(money)["critical_findings"][0]
    assert data["severity"] == "existential" and data["finding"].endswith("passes through")


def test_a_stronger_entry_keeps_the_rules_words_it_does_not_replace(bank_dir):
    edit(bank_dir, "security.yaml",
         "          finding: Nobody checks new bank details, and client money passes through\n"
         "          why_it_matters: Client money sent to a fraudster is money the business "
         "must repay.\n", "")
    money = result_of(load_bank(bank_dir), profile__client_money="yes", security__callback="no")
    finding = money.critical_findings[0]
    assert (finding.title, finding.severity) == ("Nobody checks new bank details", "existential")
    assert finding.why_it_matters == "One fake email can divert a payment."


def test_the_first_stronger_entry_that_holds_wins(bank_dir):
    edit(bank_dir, "security.yaml", "      stronger:\n",
         "      stronger:\n        - if: {q: profile.health_data, equals: \"yes\"}\n"
         "          severity: existential\n          finding: First entry\n")
    bank = load_bank(bank_dir)
    both = result_of(bank, profile__health_data="yes", profile__client_money="yes",
                     security__callback="no")
    assert both.critical_findings[0].title == "First entry"
    second = result_of(bank, profile__client_money="yes", security__callback="no")
    assert second.critical_findings[0].title.endswith("passes through")


def test_stronger_leaves_the_lesser_and_not_sure_findings_alone(bank_dir):
    """Only the rule's own finding is made worse: its lesser finding keeps its severity."""
    edit(bank_dir, "security.yaml", "      why_it_matters: One fake email can divert a "
         "payment.\n", "      why_it_matters: One fake email can divert a payment.\n"
         "      lesser: {when: [\"yes\"], severity: serious, finding: Calls back sometimes, "
         "why_it_matters: Sometimes is not always.}\n")
    edit(bank_dir, "security.yaml", "      - {id: callback, when: [\"no\"],",
         "      - {id: callback, when: [\"no\", \"yes\"],")
    result = result_of(load_bank(bank_dir), profile__client_money="yes",
                       security__callback="yes")
    assert findings(result) == {"security.callback": ("Calls back sometimes", "serious")}


@pytest.mark.parametrize("severity", ["serious"])
def test_a_stronger_entry_must_be_worse_than_the_rule(bank_dir, severity):
    edit(bank_dir, "security.yaml", "          severity: existential\n",
         f"          severity: {severity}\n")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    assert "v22/security.yaml: questions[0].critical.stronger[0].severity: 'serious' is not " \
           "worse than the rule's own severity 'serious'" in str(caught.value)


def test_a_stronger_entry_must_use_a_severity_the_bank_caps(bank_dir):
    edit(bank_dir, "bank.yaml", "  - {id: existential, caps_at: critical}\n", "")
    edit(bank_dir, "backup.yaml", "      severity: existential\n      finding: No backups\n",
         "      severity: serious\n      finding: No backups\n")
    edit(bank_dir, "backup.yaml", "not_sure: {severity: existential,", "not_sure: {severity: "
         "serious,")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    assert "v22/security.yaml: questions[0].critical.stronger[0].severity: 'existential' is " \
           "not one of the bank's severities" in str(caught.value)


@pytest.mark.parametrize("condition, message", [
    ("{q: security.mfa, equals: \"yes\"}",
     "critical.stronger[0].if.q: 'security.mfa' is not a question that comes before this one"),
    ("{q: security.callback, equals: \"yes\"}",
     "critical.stronger[0].if.q: 'security.callback' is not a question that comes before"),
    ("{any: [{q: profile.client_money, equals: \"yes\"}, {q: profile.staff, gt: 9}]}",
     "critical.stronger[0].if.any[1].q: 'profile.staff' is not a question that comes before"),
])
def test_a_stronger_condition_looks_only_at_earlier_questions(bank_dir, condition, message):
    edit(bank_dir, "security.yaml", "if: {q: profile.client_money, equals: \"yes\"}",
         f"if: {condition}")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    assert f"v22/security.yaml: questions[0].{message}" in str(caught.value), str(caught.value)


# weakness --------------------------------------------------------------------------------------

def test_findings_of_one_weakness_count_once_towards_escalation(bank, bank_dir):
    """Three serious findings make the band critical only when they are three weaknesses: no
    password manager and shared logins are one habit, so with no two-step login that is two."""
    three = dict(security__password_manager="no", security__shared_logins="yes",
                 security__mfa="no")
    result = result_of(bank, **three)
    assert [f.severity for f in result.critical_findings] == ["serious"] * 3
    assert {f.weakness for f in result.critical_findings} == {"password_habits", "security.mfa"}
    assert result.band.id == "high"
    assert [f["weakness"] for f in result_to_dict(result)["critical_findings"]] == [
        "password_habits", "password_habits", "security.mfa"]
    # The same answers without the shared weakness are three weaknesses: critical.
    for _ in range(2):
        edit(bank_dir, "security.yaml", "      weakness: password_habits\n", "")
    assert result_of(load_bank(bank_dir), **three).band.id == "critical"


def test_three_different_weaknesses_escalate(bank):
    result = result_of(bank, security__password_manager="no", security__callback="no",
                       security__mfa="no")
    assert result.uncapped_band.id != "critical" and result.band.id == "critical"


def test_projections_count_weaknesses_too(bank):
    """After a phase, the findings left standing escalate by weakness, as today's do."""
    result = result_of(bank, security__password_manager="no", security__shared_logins="yes",
                       security__mfa="no", security__callback="no")
    assert result.band.id == "critical"  # three weaknesses today
    after = result.roadmap[0]
    assert all(a.days == 30 for a in result.actions)
    assert after.projected_band.id == "low"  # every finding fixed in the first 30 days


# bank versions ---------------------------------------------------------------------------------

def test_the_fields_are_refused_before_bank_2_2(bank_dir):
    """An older bank is scored as it was written: 2.2's fields are named, one by one."""
    edit(bank_dir, "bank.yaml", "version: 2.2.0", "version: 2.1.0")
    edit(bank_dir, "backup.yaml", "    text: Is a copy kept away from the office?\n",
         "    text: Is a copy kept away from the office?\n    owners_rarely_know: true\n"
         "    check: {by: email_domain, answers: {enforced: away, partial: away, "
         "missing: here}}\n")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    new = "new in bank 2.2.0; this bank is 2.1.0 (raise its version to use it)"
    assert {str(p) for p in caught.value.problems} == {
        f"v22/{where}: {new}" for where in (
            "backup.yaml: questions[1].owners_rarely_know",
            "backup.yaml: questions[1].check",
            "backup.yaml: questions[3].critical.only_if",
            "security.yaml: questions[0].critical.stronger",
            "security.yaml: questions[1].critical.weakness",
            "security.yaml: questions[2].critical.weakness")}


def test_a_2_2_bank_survives_its_snapshot(bank):
    again = bank_from_snapshot(bank.snapshot)
    assert again.hash == bank.hash
    answers, _ = parse_answers(again, {**SOUND, "profile.client_money": "yes",
                                       "security.callback": "no"})
    assert score(again, answers).critical_findings[0].severity == "existential"


# lesser.only_if, and the fix for a business where the answer is no finding ---------------------

LESSER = ("      why_it_matters: One fake email can divert a payment.\n",
          "      why_it_matters: One fake email can divert a payment.\n"
          "      lesser:\n        when: [\"yes\"]\n"
          "        only_if: {q: profile.client_money, equals: \"yes\"}\n"
          "        severity: serious\n        finding: Calling back is no firm rule\n"
          "        why_it_matters: One missed call-back is enough.\n")


def test_a_lesser_finding_with_only_if_stands_only_where_it_holds(bank_dir):
    edit(bank_dir, "security.yaml", *LESSER)
    edit(bank_dir, "security.yaml", "      - {id: callback, when: [\"no\"],",
         "      - {id: callback, when: [\"no\", \"yes\"],")
    bank = load_bank(bank_dir)
    money = result_of(bank, profile__client_money="yes", security__callback="yes")
    assert findings(money) == {"security.callback": ("Calling back is no firm rule", "serious")}
    assert result_of(bank, security__callback="yes").critical_findings == ()
    # The rule's own finding does not depend on the lesser finding's condition.
    assert findings(result_of(bank, security__callback="no")) == {
        "security.callback": ("Nobody checks new bank details", "serious")}


def test_a_fix_proposed_only_where_the_answer_is_no_finding_may_wait(bank_dir):
    """A fix for a critical finding belongs in the first 30 days; the same answer's fix for a
    business where it is no finding (only_if: not the finding's condition) may take longer."""
    edit(bank_dir, "backup.yaml", "      - {id: encrypt, when: [\"no\"],",
         "      - {id: encrypt_later, when: [\"no\"], only_if: {not: {q: profile.health_data, "
         "equals: \"yes\"}}, title: Encrypt the backups this quarter, text: Turn it on., "
         "priority: medium, effort: low, timeframe: 90, who: provider, cost: none, done_when: "
         "The provider confirms encryption.}\n"
         "      - {id: encrypt, when: [\"no\"], only_if: {q: profile.health_data, equals: "
         "\"yes\"},")
    bank = load_bank(bank_dir)
    other = result_of(bank, backup__encrypted="no")
    assert [(a.id, a.days) for a in other.actions] == [("backup.encrypted:encrypt_later", 30)]
    # Where both could hold at once, the check still asks for 30 days.
    edit(bank_dir, "backup.yaml", "only_if: {not: {q: profile.health_data, equals: \"yes\"}}",
         "only_if: {q: profile.client_money, equals: \"yes\"}")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    assert "v22/backup.yaml: questions[3].recommendations[0].timeframe: a fix for a critical " \
           "finding belongs in the first 30 days" in str(caught.value)


def test_lesser_only_if_is_new_in_2_2_and_checked_like_show_if(bank_dir):
    edit(bank_dir, "security.yaml", *LESSER)
    edit(bank_dir, "security.yaml", "        only_if: {q: profile.client_money, equals: \"yes\"}",
         "        only_if: {q: security.mfa, equals: \"yes\"}")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    assert "v22/security.yaml: questions[0].critical.lesser.only_if.q: 'security.mfa' is not " \
           "a question that comes before this one" in str(caught.value)
    edit(bank_dir, "security.yaml", "        only_if: {q: security.mfa, equals: \"yes\"}",
         "        only_if: {q: profile.client_money, equals: \"yes\"}")
    edit(bank_dir, "bank.yaml", "version: 2.2.0", "version: 2.1.0")
    with pytest.raises(BankError) as caught:
        load_bank(bank_dir)
    assert "v22/security.yaml: questions[0].critical.lesser.only_if: new in bank 2.2.0" \
        in str(caught.value)
