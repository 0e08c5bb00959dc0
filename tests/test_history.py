"""History is what a consultant shows a client a year later: the comparison must be right."""

from __future__ import annotations

from assessment.core.bank import Answer
from assessment.core.history import compare, trend
from assessment.core.scoring import score


def test_compare_finds_resolved_new_and_still_open(mini_bank):
    before = score(mini_bank, {"backup.automatic": Answer("answered", "weekly"),
                               "backup.tested": Answer.not_sure(),
                               "security.mfa": Answer("answered", "yes")})
    after = score(mini_bank, {"backup.automatic": Answer("answered", "daily"),
                              "backup.tested": Answer.not_sure(),
                              "security.mfa": Answer("answered", "no")})
    diff = compare(before, after)
    assert "Back up daily" in [s.title for s in diff.steps_done]
    assert [f.title for f in diff.findings_new] == ["No two-step login on email"]
    assert [f.title for f in diff.findings_open] == ["Nobody knows whether backups work"]
    assert not diff.findings_resolved
    backup = next(s for s in diff.sections if s.section_id == "backup")
    assert backup.before == 25.0 and backup.after == 50.0 and backup.delta == 25.0


def test_trend_skips_assessments_without_a_score(mini_bank):
    empty = score(mini_bank, {})
    some = score(mini_bank, {"backup.automatic": Answer("answered", "daily")})
    rows = [({"created_at": "2026-01-02T00:00"}, empty), ({"created_at": "2026-06-01T00:00"}, some)]
    assert trend(rows) == [("Jun 2026", 100.0)]
