"""One severity vocabulary: distinct words for distinct levels, ranked, in the product's fixed
colours, the same on the web pages, in both reports and in the JSON result."""

from __future__ import annotations

import json
import re

from assessment.core import severity
from assessment.core.brief import brief
from assessment.core.history import compare
from assessment.core.scoring import parse_answers, score

from .conftest import FIXTURES, ROOT


def test_each_level_has_its_own_word_rank_and_colour():
    assert [level.id for level in severity.LEVELS] == ["critical", "high", "moderate", "low"]
    assert [level.rank for level in severity.LEVELS] == [0, 1, 2, 3]
    for attribute in ("name", "colour", "tint"):
        values = [getattr(level, attribute) for level in severity.LEVELS]
        assert len(set(values)) == len(values), attribute


def test_a_finding_is_named_after_the_band_it_forces():
    """"Serious" read as less than "Critical", though serious findings were critical findings
    too: each kind is now named by the band it forces, and the worse one ranks first."""
    existential, serious = severity.kind("existential"), severity.kind("serious")
    assert (existential.label, existential.level) == ("Critical finding", severity.CRITICAL)
    assert (serious.label, serious.level) == ("High-risk finding", severity.HIGH)
    assert existential.level.rank < serious.level.rank
    assert severity.label(None) == "High-risk finding", "1.x banks capped every finding at High"
    labels = {kind.label for kind in severity.KINDS.values()}
    assert not labels & {"Serious", "Critical on its own", "Severe", "Major"}


def test_counts_and_legend_name_the_worst_first():
    severities = ["serious", "existential", "serious"]
    assert severity.count_text(severities) == "1 critical finding and 2 high-risk findings"
    assert severity.count_text([]) == "no findings"
    assert severity.fact_text(severities) == "findings: 1 critical, 2 high-risk"
    assert severity.fact_text(["serious"]) == "high-risk finding"
    assert severity.fact_text(["existential"] * 2) == "critical findings"
    assert severity.fact_text([]) == "findings"
    assert [line["label"] for line in severity.legend(severities)] == [
        "Critical finding", "High-risk finding"]


def test_band_colours_are_fixed_and_unknown_bands_claim_no_level():
    assert severity.band_colour("critical") == severity.CRITICAL.colour
    assert severity.band_colour("low") == severity.LOW.colour
    assert severity.band_colour("somewhere") == severity.NEUTRAL
    assert severity.band_colour(None) == severity.NEUTRAL


def test_json_keeps_the_severity_and_adds_the_shown_word():
    data = {"critical_findings": [{"severity": "existential"}, {"severity": "serious"}],
            "recommendations": [{"severity": "serious", "fixes_critical": True},
                                {"severity": None, "fixes_critical": False}]}
    severity.with_labels(data)
    assert [f["severity_label"] for f in data["critical_findings"]] == [
        "Critical finding", "High-risk finding"]
    assert [a["severity_label"] for a in data["recommendations"]] == ["High-risk finding", None]
    assert data["critical_findings"][0]["severity"] == "existential"


def test_the_web_stylesheet_uses_the_same_colours():
    css = (ROOT / "assessment" / "static" / "app.css").read_text(encoding="utf-8")
    for level in severity.LEVELS:
        rule = re.search(rf"\.level-{level.id} {{ --level: (#[0-9a-f]{{6}}); "
                         rf"--level-tint: (#[0-9a-f]{{6}}); }}", css)
        assert rule, level.id
        assert rule.groups() == (level.colour, level.tint), level.id
    assert "band-rank-" not in css and "tag-critical" not in css


def test_web_pages_and_brief_use_the_words(bank, app):
    """The results page's brief, the workspace's findings and the comparison all use the
    labels; nothing shows the old "Also critical" run-on or "Serious"."""
    answers, errors = parse_answers(bank, {
        "backup.automatic": "none", "security.endpoint": "none", "identity.former_staff": "yes",
        "security.mfa_email": "none", "security.admin_daily": "everyone",
        "patching.who": "nobody", "network.old_systems": "yes"})
    assert not errors
    result = score(bank, answers)
    summary = brief(result)
    shown = [r["severity"] for r in summary["risks"]] + [
        f["severity"] for f in summary["more_findings"]]
    assert shown == [severity.label(f.severity) for f in result.critical_findings]
    assert [line["label"] for line in summary["legend"]] == ["Critical finding",
                                                             "High-risk finding"]
    diff = compare(score(bank, {}), result)
    assert {severity.label(f.severity) for f in diff.findings_new} == {"Critical finding",
                                                                       "High-risk finding"}
    templates = ROOT / "assessment" / "templates"
    for name in ("wizard/results.html", "workspace/assessment.html"):
        text = (templates / name).read_text(encoding="utf-8")
        assert "Also critical" not in text and "Critical findings" not in text, name
        assert "severity" in text or "r.severity" in text, name
    with app.test_request_context():
        page = app.jinja_env.get_template("wizard/_charts.html").module
        chart = str(page.roadmap_chart(result, bank))
        assert f'fill="{severity.band_colour(result.band.id)}"' in chart


def test_the_results_page_shows_the_labels_in_the_fixed_colours(app, bank):
    """The owner's results page: the band in its level's class, each finding with its label,
    the findings past five one to a line, and the legend."""
    from assessment.core.scoring import parse_answer
    from assessment.storage import create_assessment, save_answer, set_status
    from assessment.web import owner
    from assessment.web.db import current_bank, get_db

    answers = json.loads((FIXTURES / "break_fix_untested_backups.json").read_text())["answers"]
    with app.app_context():
        db, current = get_db(), current_bank()
        token, token_hash = owner.new_resume_token()
        assessment_id = create_assessment(db, current, resume_token_hash=token_hash)
        for qid, raw in answers.items():
            save_answer(db, assessment_id, qid, base_version=0, source="owner",
                        answer=parse_answer(current.question_by_id[qid], raw))
        set_status(db, assessment_id, "finished")
    client = app.test_client()
    assert client.get(f"/assessment/resume/{token}").status_code == 303
    page = client.get("/assessment/results").get_data(as_text=True)
    parsed, _ = parse_answers(bank, answers)
    result = score(bank, parsed)
    assert f'class="score-card level-{result.band.id}"' in page
    for f in result.critical_findings:
        tag = (f'<span class="tag level-{severity.kind(f.severity).level.id}">'
               f'{severity.label(f.severity)}</span>')
        assert f"<strong>{f.title.rstrip('.')}." in page.replace("&#39;", "'"), f.title
        assert tag in page
    if len(result.critical_findings) > 5:
        assert '<ul class="more-findings">' in page
    assert "Also critical" not in page and ">Serious<" not in page
    assert "<strong>Critical finding</strong>: on its own it puts the business" in page


def test_the_consultants_assessment_page_labels_each_finding(app, bank):
    from assessment.core.scoring import parse_answer
    from assessment.storage import clients as store
    from assessment.storage import save_answer
    from assessment.web.db import current_bank, get_db

    from .workspace_fixtures import make_member, sign_in

    answers = {"backup.automatic": "none", "security.mfa_email": "none"}
    member = make_member(app)
    client = app.test_client()
    assert sign_in(client, member["email"], member["password"]).status_code == 303
    with app.app_context():
        db, current = get_db(), current_bank()
        client_id = store.create_client(db, member["firm_id"], name="Harbour Dental")
        assessment_id = store.start_client_assessment(
            db, current, member["firm_id"], client_id, mode="interview",
            created_by=member["user_id"])
        for qid, raw in answers.items():
            save_answer(db, assessment_id, qid, base_version=0, source="consultant",
                        answer=parse_answer(current.question_by_id[qid], raw))
    page = client.get(f"/workspace/assessments/{assessment_id}").get_data(as_text=True)
    assert "<h3>Findings: 1 critical finding and 1 high-risk finding</h3>" in page
    assert '<span class="tag level-critical">Critical finding</span>' in page
    assert '<span class="tag level-high">High-risk finding</span>' in page
    assert "Critical findings" not in page
