"""Content checks on the question bank in questions/: what the format cannot enforce by itself.

The loader already refuses a bank that is malformed. These tests guard the content: every weak
answer leads somewhere, the frameworks are covered, owners can read the questions, and worked
answer sets in tests/fixtures/ land where a consultant would expect them to.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest
import textstat

from assessment.core.bank import load_bank
from assessment.core.bank.coverage import coverage
from assessment.core.bank.frameworks import load_frameworks
from assessment.core.bank.models import NOT_SURE
from assessment.core.scoring import parse_answers, score

QUESTIONS = Path(__file__).resolve().parents[1] / "questions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

REQUIRED_SECTIONS = (
    "monitoring", "patching", "backup", "security", "identity", "roadmap", "provider", "costs",
    "continuity", "compliance", "network", "incidents",
)
MIN_QUESTIONS, MAX_QUESTIONS = 50, 75
MAX_BREAK_FIX_ASKED = 65  # what the break-fix reference owner sees, profile included
MIN_READING_EASE, MIN_MEDIAN_READING_EASE = 40, 70  # owner wording of the questions
MIN_ADVICE_EASE, MIN_MEDIAN_ADVICE_EASE = 45, 60  # recommendation text
MIN_NIST_CATEGORIES = 18
FIND_OUT = "Find out"

# The exposures a consultant expects to cap the band, with what they do to it: existential ones
# (the business could be lost on their own) put it in the worst band whatever its score.
REQUIRED_CRITICAL = {
    "backup.automatic": ("existential", "no backups"),
    "backup.offsite": ("existential", "every copy in reach of one fire"),
    "security.endpoint": ("existential", "no protection against malware"),
    "identity.former_staff": ("existential", "former staff can still log in"),
    "backup.locked_copy": ("existential", "every copy in reach of one attacker with the office "
                                          "passwords"),
    "backup.restore_tested": ("serious", "backups never proven to work"),
    "security.mfa_email": ("serious", "no two-step login on email"),
    "security.mfa_admin": ("serious", "admin logins without two-step login"),
    "security.admin_daily": ("serious", "admin accounts used for daily work"),
    "network.remote_access": ("serious", "remote access by password alone"),
    "patching.who": ("serious", "nobody installs security updates"),
    "patching.days": ("serious", "security updates take months"),
    "network.old_systems": ("serious", "unsupported operating systems in use"),
    "compliance.payment_check": ("serious", "bank-detail changes not checked by phone"),
    "provider.remote_tools": ("serious", "the provider's remote tools open with a password"),
    # Rubric v3: exposures that get small businesses breached, and one person holding every key.
    "network.internet_facing": ("serious", "remote desktop open to the internet"),
    "network.vendor_access": ("serious", "a supplier's standing remote access by password"),
    "provider.credentials": ("serious", "only whoever runs the IT holds the master passwords"),
    "provider.it_cover": ("serious", "nobody could step in for the one IT person"),
    "backup.keys": ("serious", "only whoever runs the IT can open the backups"),
    "backup.versions": ("serious", "only the latest copy kept"),
    "provider.proactive": ("serious", "a monthly fee with no upkeep to show for it"),
}
# Weight tiers (docs/methodology.md): a question's weight follows the worst it can reveal.
MIN_WEIGHT = {"existential": 10, "serious": 5}
MAX_WEIGHT_WITHOUT_FINDING = 5
# Work that takes a small office weeks, not an afternoon.
HIGH_EFFORT = ("network.old_systems:retire_unsupported", "provider.proactive:compare_fixed_fee")


@pytest.fixture(scope="module")
def bank():
    return load_bank(Path(__file__).resolve().parents[1] / "questions")


def non_best_tokens(q) -> set[str]:
    """Every answer token of a scored question that earns less than full marks."""
    if q.type in ("single", "yesno"):
        best = max(c.score for c in q.choices)
        tokens = {c.id for c in q.choices if c.score < best}
    elif q.type == "multi":
        tokens = {f"missing_{c.id}" for c in q.choices if c.score > 0}
    elif q.type == "number":
        best = max(b.score for b in q.bands)
        tokens = {b.id for b in q.bands if b.score < best}
    elif q.type == "scale":
        tokens = {str(v) for v in range(int(q.min), int(q.max))}
    else:
        raise AssertionError(f"{q.id}: no rule for scored questions of type '{q.type}'")
    if q.not_sure:
        tokens.add(NOT_SURE)
    return tokens


def load_fixture(bank, name: str):
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    answers, errors = parse_answers(bank, data["answers"])
    assert not errors, f"{name} does not fit the bank:\n" + "\n".join(errors)
    return data, score(bank, answers)


# --- (a) recommendations --------------------------------------------------------------


def test_every_weak_answer_has_a_recommendation(bank):
    """A weak answer that triggers no recommendation is a gap the report stays silent about: the
    owner would lose points and never be told what to do. Every answer short of the best, and
    every 'Not sure', must be named by at least one recommendation."""
    gaps = {}
    for q in bank.questions:
        if not q.scored:
            continue
        named = {token for r in q.recommendations for token in r.when}
        missing = non_best_tokens(q) - named
        if missing:
            gaps[q.id] = sorted(missing)
    report = "\n".join(f"  {qid}: {', '.join(tokens)}" for qid, tokens in gaps.items())
    assert not gaps, f"answers with no recommendation:\n{report}"


def test_not_sure_leads_to_a_find_out_step(bank):
    """'Not sure' is reported as something to find out, because not knowing is itself the
    finding. Each question that allows it needs a recommendation aimed at not knowing, titled
    'Find out ...', rather than only the fix for a bad answer."""
    offenders = []
    for q in bank.questions:
        if not q.not_sure:
            continue
        titles = [r.title for r in q.recommendations if NOT_SURE in r.when]
        if not any(title.startswith(FIND_OUT) for title in titles):
            offenders.append(f"  {q.id}: {titles or 'no recommendation names not_sure'}")
    assert not offenders, "questions without a 'Find out' recommendation:\n" + "\n".join(offenders)


def test_required_exposures_are_critical(bank):
    """The brief and the consultant review name answers that mean the business is exposed right
    now; each must carry a critical rule of the right severity, or a business in that state
    would not see the band capped or the finding lead the report."""
    wrong = []
    for qid, (severity, why) in REQUIRED_CRITICAL.items():
        q = bank.question_by_id.get(qid)
        if q is None or q.critical is None:
            wrong.append(f"  {qid} ({why}): no critical rule")
        elif q.critical.severity != severity:
            wrong.append(f"  {qid} ({why}): {q.critical.severity}, expected {severity}")
    assert not wrong, "exposures without the right critical rule:\n" + "\n".join(wrong)


def findings_of(q) -> list[tuple[str, object]]:
    """Every finding a question can raise: its rule, its lesser finding, and "Not sure" when
    that is a finding, each with its key path."""
    rule = q.critical
    if rule is None:
        return []
    found = [("critical", rule)]
    if rule.lesser is not None:
        found.append(("critical.lesser", rule.lesser))
    if rule.not_sure is not None and rule.not_sure.severity is not None:
        found.append(("critical.not_sure", rule.not_sure))
    return found


def test_every_finding_explains_itself(bank):
    """The brief prints each finding with why it matters. The help of the question explains the
    question, not the finding ("Nobody can say whether the data is backed up" once came with a
    sentence about backups that depend on memory), so every finding has its own one or two
    plain sentences, different from every other finding's and from the help."""
    wrong, seen = [], {}
    for q in bank.questions:
        for path, finding in findings_of(q):
            where = f"{q.id} {path}"
            why = finding.why_it_matters
            if not why:
                wrong.append(f"  {where}: no why_it_matters")
                continue
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", why.strip()) if s]
            if not 1 <= len(sentences) <= 2 or not why.rstrip().endswith("."):
                wrong.append(f"  {where}: one or two whole sentences, not {len(sentences)}")
            if why in q.help or q.help.split(". ")[0] in why:
                wrong.append(f"  {where}: repeats the question's help")
            if why in seen:
                wrong.append(f"  {where}: same as {seen[why]}")
            seen[why] = where
            if textstat.flesch_reading_ease(why) < MIN_ADVICE_EASE:
                wrong.append(f"  {where}: hard to read "
                             f"({textstat.flesch_reading_ease(why):.0f})")
    assert seen, "the bank has no findings"
    assert not wrong, "findings that do not explain themselves:\n" + "\n".join(wrong)


def test_weights_follow_risk(bank):
    """A question that can reveal an existential exposure outweighs any hygiene question, and
    a serious one outweighs every question that can reveal no critical finding."""
    wrong = []
    for q in bank.questions:
        if not q.scored:
            continue
        severities = [q.critical.severity] if q.critical else []
        if q.critical and q.critical.not_sure and q.critical.not_sure.severity:
            severities.append(q.critical.not_sure.severity)
        worst = "existential" if "existential" in severities else (
            "serious" if severities else None)
        if worst and q.weight < MIN_WEIGHT[worst]:
            wrong.append(f"  {q.id}: weight {q.weight:g} for a {worst} exposure")
        if not worst and q.weight > MAX_WEIGHT_WITHOUT_FINDING:
            wrong.append(f"  {q.id}: weight {q.weight:g} without any critical finding")
    assert not wrong, "weights that do not follow risk:\n" + "\n".join(wrong)


def test_effort_is_honest(bank):
    """Replacing computers or changing provider is not an afternoon's work."""
    effort = {f"{q.id}:{r.id}": r.effort for q in bank.questions for r in q.recommendations}
    assert all(effort[rid] == "high" for rid in HIGH_EFFORT), {r: effort[r] for r in HIGH_EFFORT}


def test_owner_facing_text_has_no_invented_figures(bank):
    """Money in a report must only ever come from the business's own profile figures, and the
    bank must not quote statistics it cannot source. A percentage or a currency amount in the
    wording would be exactly that."""
    pattern = re.compile(r"\d\s*%|percent|[$£€¥]\s*\d|\d\s*(?:dollars|pounds|euros)\b",
                         re.IGNORECASE)
    offenders = []
    for q in bank.questions:
        texts = [q.text, q.help, q.hint or "", q.consultant_text or ""]
        texts += [c.label for c in q.choices if q.type != "profile"]
        texts += [f"{r.title} {r.text}" for r in q.recommendations]
        texts += [f.text for f in q.ask_provider]
        texts += [finding.why_it_matters or "" for _, finding in findings_of(q)]
        for text in texts:
            if pattern.search(text):
                offenders.append(f"  {q.id}: {text[:90]}")
    assert not offenders, "wording with figures that do not come from the business:\n" + \
        "\n".join(offenders)


# --- (b) framework coverage -----------------------------------------------------------


def test_framework_coverage(bank):
    """The report claims a mapping to CIS Controls v8 and NIST CSF 2.0. Every Implementation
    Group 1 safeguard (the basics for a small business) must be checked by some question, and
    every NIST function and most of its categories must be reached."""
    frameworks = load_frameworks(QUESTIONS / "frameworks")
    cov = coverage(bank, frameworks)
    functions = cov.nist_covered(cov.nist_functions)
    categories = cov.nist_covered(cov.nist_categories)
    missing_categories = [c for c, n in cov.nist_categories.items() if not n]
    summary = (f"CIS IG1 {len(cov.cis_ig1_covered)}/"
               f"{len(cov.cis_ig1_covered) + len(cov.cis_ig1_missing)} "
               f"(missing: {', '.join(cov.cis_ig1_missing) or 'none'}); "
               f"NIST CSF {functions}/{len(cov.nist_functions)} functions, "
               f"{categories}/{len(cov.nist_categories)} categories "
               f"(missing: {', '.join(missing_categories) or 'none'})")
    print(summary)
    assert not cov.cis_ig1_missing, summary
    assert functions == len(cov.nist_functions), summary
    assert categories >= MIN_NIST_CATEGORIES, summary


# --- (c) size and shape ---------------------------------------------------------------


def test_bank_size_and_sections(bank):
    """Twenty minutes is the promise to an owner: too many questions and they give up, too few
    and the report cannot cover what the brief lists. All twelve required topics must exist."""
    count = len(bank.questions)
    missing = [s for s in REQUIRED_SECTIONS if s not in bank.section_by_id]
    print(f"{len(bank.sections)} sections, {count} questions")
    assert MIN_QUESTIONS <= count <= MAX_QUESTIONS, f"{count} questions"
    assert not missing, f"missing sections: {missing}"


# --- (d) readability ------------------------------------------------------------------


def test_owner_wording_is_readable(bank):
    """Owners answer alone, often on a phone. Each question must be plain enough to answer
    without help (Flesch reading ease of at least 40), and the bank as a whole easy (median at
    least 70)."""
    ease = {q.id: textstat.flesch_reading_ease(q.text) for q in bank.questions}
    median = statistics.median(ease.values())
    lowest = min(ease, key=ease.get)
    print(f"reading ease: median {median:.1f}, lowest {ease[lowest]:.1f} ({lowest})")
    offenders = [f"  {qid}: {value:.1f}" for qid, value in ease.items()
                 if value < MIN_READING_EASE]
    assert not offenders, "questions too hard to read:\n" + "\n".join(offenders)
    assert median >= MIN_MEDIAN_READING_EASE, f"median reading ease {median:.1f}"


def test_advice_is_readable(bank):
    """Advice is read by owners who are not IT people: short sentences, common words. Every
    recommendation's text at least 45 on the Flesch scale, the median at least 60."""
    ease = {f"{q.id}:{r.id}": textstat.flesch_reading_ease(r.text)
            for q in bank.questions for r in q.recommendations}
    median = statistics.median(ease.values())
    lowest = min(ease, key=ease.get)
    print(f"advice reading ease: median {median:.1f}, lowest {ease[lowest]:.1f} ({lowest})")
    offenders = [f"  {rid}: {value:.1f}" for rid, value in ease.items()
                 if value < MIN_ADVICE_EASE]
    assert not offenders, "advice too hard to read:\n" + "\n".join(offenders)
    assert median >= MIN_MEDIAN_ADVICE_EASE, f"median reading ease {median:.1f}"


# --- (e) worked answer sets -----------------------------------------------------------


FIXTURE_NAMES = (
    "break_fix_untested_backups.json",
    "well_run_managed.json",
    "unsure_mixed.json",
    "single_critical_exposure.json",
)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_is_valid_and_complete(bank, name):
    """A worked answer set is only evidence if it fits the current bank and answers every
    question that applies; otherwise a band check below would pass on a half-empty assessment."""
    data, result = load_fixture(bank, name)
    assert data["bank"] == bank.id
    assert 2 <= data["rationale"].count(". ") + 1 <= 6, "rationale should be a few sentences"
    unanswered = [o.question.id for o in result.unanswered]
    assert result.complete, f"{name} leaves questions unanswered: {unanswered}"


def test_break_fix_shop_lands_in_the_critical_band(bank):
    """The article's case: hourly break-fix, nothing prevented, backups never restored and never
    out of the office. It must land in the worst band with the backups called out first, their
    fix among the three things to do first, and its own money figures in the report."""
    data, result = load_fixture(bank, "break_fix_untested_backups.json")
    findings = [f.title for f in result.critical_findings]
    print(f"break-fix: score {result.score}, band {result.band.id}, findings {findings}")
    assert result.band.id == "critical"
    assert result.critical_findings[0].outcome.question.id == "backup.offsite"
    assert "Backups have never been proven to work" in findings
    first_fixes = [s for s in result.steps if not s.find_out][:3]
    first_three = {part.split(":")[0] for s in first_fixes for part in s.parts}
    assert "backup.offsite" in first_three, [s.id for s in first_fixes]
    asked = sum(1 for o in result.outcomes if o.applicable)
    assert asked <= MAX_BREAK_FIX_ASKED, f"the break-fix owner sees {asked} questions"
    costs = result.costs
    assert costs is not None, "full profile figures should give a cost section"
    assert costs.downtime_cost_12m and costs.downtime_cost_12m > 0
    assert costs.reactive_share is not None and costs.monthly_spend is not None
    assert costs.billing_model == "hourly"


def test_well_run_client_lands_in_low_band(bank):
    """A client doing the right things must be told so. A well-run set landing anywhere but
    low, or raising a critical finding, would mean the rubric punishes good practice."""
    _, result = load_fixture(bank, "well_run_managed.json")
    print(f"well-run: score {result.score}, band {result.band.id}")
    assert result.band.id == "low", f"score {result.score}, band {result.band.id}"
    assert not result.critical_findings, [f.title for f in result.critical_findings]


def test_unsure_owner_is_told_what_to_find_out(bank):
    """An owner who does not know is the most common case. Every 'Not sure' must count as a
    risk and turn into a 'Find out' step in the report, or the report hides what is unknown."""
    _, result = load_fixture(bank, "unsure_mixed.json")
    assert len(result.not_sure) >= 10, f"only {len(result.not_sure)} not-sure answers"
    without = []
    for outcome in result.not_sure:
        assert outcome.share == 0 or outcome.share is None
        steps = [a for a in result.actions if a.outcome is outcome
                 and NOT_SURE in a.recommendation.when
                 and a.recommendation.title.startswith(FIND_OUT)]
        if not steps:
            without.append(outcome.question.id)
    print(f"unsure: {len(result.not_sure)} not sure, score {result.score}, "
          f"band {result.band.id}")
    assert not without, f"not-sure answers with no 'Find out' step: {without}"
    # Finding out is not fixing: the first phase, all "find out" steps, raises nothing.
    if all(a.find_out for a in result.roadmap[0].actions):
        assert result.roadmap[0].projected_score == result.score


def test_single_critical_exposure_caps_the_band(bank):
    """One critical exposure must lead the report even when everything else is excellent: the
    score alone would say low risk, so the band has to be capped at the rubric's cap."""
    _, result = load_fixture(bank, "single_critical_exposure.json")
    findings = [f.title for f in result.critical_findings]
    print(f"single critical: score {result.score}, uncapped {result.uncapped_band.id}, "
          f"band {result.band.id}, findings {findings}")
    assert len(findings) == 1, findings
    assert result.capped
    assert result.uncapped_band.id in ("low", "moderate")
    assert result.critical_findings[0].severity == "serious"
    assert result.band.id == "high"


def test_an_honest_near_miss_never_scores_worse_than_silence(bank):
    """Score what the business controls, not luck: owning up to a close call whose cause was
    then fixed must score exactly as well as a quiet year, and never better than leaving its
    cause open."""
    data, _ = load_fixture(bank, "well_run_managed.json")
    base = {k: v for k, v in data["answers"].items() if not k.startswith("incidents.")}

    def with_incidents(**answers):
        raw = {**base, **{f"incidents.{k}": v for k, v in answers.items()}}
        parsed, errors = parse_answers(bank, raw)
        assert not errors, errors
        return score(bank, parsed)

    quiet = with_incidents(happened="none")
    owned_up = with_incidents(happened="near_miss", kinds=["scam"], root_cause="fixed")
    left_open = with_incidents(happened="near_miss", kinds=["scam"], root_cause="repeating")
    assert owned_up.score >= quiet.score
    assert owned_up.band == quiet.band
    assert left_open.score < owned_up.score


def test_every_scored_question_says_its_best_answer_as_a_sentence(bank):
    """"What is good" prints a scored question's `strength` when its answer earns all the
    points: a short sentence about the business, never the question again."""
    missing = [q.id for q in bank.questions if q.scored and not q.strength]
    assert not missing, f"scored questions without a strength: {missing}"
    for q in bank.questions:
        if q.strength:
            assert q.strength.endswith(".") and "?" not in q.strength, q.id
            assert len(q.strength) <= 130, f"{q.id}: keep the strength short"
            assert q.strength.rstrip(".") not in q.text, q.id


def test_yearly_sales_are_asked_only_without_an_hourly_cost(bank):
    """Sales only estimate the hourly cost of downtime: given the hourly cost, they are not
    asked, and the reference answer sets (which give both) score as before."""
    revenue = bank.question_by_id["profile.annual_revenue"]
    assert revenue.condition_refs == ("profile.downtime_cost_per_hour",)
    for name in FIXTURE_NAMES:
        data, result = load_fixture(bank, name)
        outcome = next(o for o in result.outcomes if o.question.id == revenue.id)
        assert not outcome.applicable, name
        assert "annual_revenue" not in result.profile
        assert result.costs.hourly_basis == "given"
