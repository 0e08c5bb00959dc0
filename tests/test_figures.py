"""Figures are stored as the owner meant them, or the owner is asked: the reading rules of
docs/bank-format.md ("Numbers"), the answers file, the form without JavaScript, autosave, and
figures that contradict each other. The tests through the app run on SQLite and on PostgreSQL."""

from __future__ import annotations

import re

import pytest

from assessment.core.bank import AnswerError
from assessment.core.bank.types import AmbiguousNumber, parse_number, read_number
from assessment.core.figures import contradictions, show_figure
from assessment.core.scoring import parse_answer, parse_answers

pytestmark = pytest.mark.both_backends

SPEND = "profile.it_spend_12m"
REPAIRS = "profile.reactive_spend_12m"


@pytest.mark.parametrize("typed, number", [
    ("9500", 9500), ("9,500", 9500), ("9 500", 9500), ("£9,500", 9500), ("9\u00a0500", 9500),
    ("9.500,00", 9500), ("9,500.00", 9500), ("€1.234,56", 1234.56), ("12,5", 12.5),
    ("3.25", 3.25), ("0.500", 0.5), ("0,500", 0.5), ("1.234.567", 1234567),
    ("1,234,567", 1234567), ("1 234,567", 1234.567), ("9500 EUR", 9500), ("US$ 9,500", 9500),
    ("9'500", 9500), ("1_000", 1000), ("12%", 12), (".5", 0.5), (" 42 ", 42),
])
def test_unambiguous_forms_are_read_as_meant(typed, number):
    assert read_number(typed) == (number,)


@pytest.mark.parametrize("typed", ["4 2", "1,2,3", "9,", "1.", "1e3", "0x10", "NaN", "٣",
                                   "1.234,5.6", "1 234.567,8", "lots"])
def test_figures_that_are_not_numbers_are_refused(typed):
    assert read_number(typed) == ()


def test_a_dot_before_three_digits_reads_two_ways(bank):
    """9.500 is 9.5 in English and 9500 in much of Europe: both readings are offered."""
    assert read_number("9.500") == (9500, 9.5)
    with pytest.raises(AmbiguousNumber) as raised:
        parse_number(bank.question_by_id[SPEND], "9.500")
    assert raised.value.readings == (9500, 9.5)


def test_a_reading_the_question_cannot_take_is_dropped(bank):
    q = bank.question_by_id
    assert parse_number(q["profile.open_hours_per_week"], "37.500") == 37.5  # not 37500 hours
    assert parse_number(q["profile.staff_count"], "1.200") == 1200  # not 1.2 people
    assert parse_number(q["profile.staff_count"], "2.5") == 2.5  # one reading: kept as typed


def test_the_answers_file_reads_figures_the_same_way(bank):
    answers, errors = parse_answers(bank, {SPEND: "9.500,00", REPAIRS: "£1,200",
                                           "profile.annual_revenue": 9.5})
    assert not errors
    assert answers[SPEND].value == 9500 and answers[REPAIRS].value == 1200
    assert answers["profile.annual_revenue"].value == 9.5  # a JSON number is taken as it is
    _, errors = parse_answers(bank, {SPEND: "9.500"})
    assert len(errors) == 1
    assert "9,500 or 9.5" in errors[0] and "without quotes: 9500 or 9.5" in errors[0]
    with pytest.raises(AnswerError):
        parse_answer(bank.question_by_id[SPEND], "9,50,0")


def test_cli_refuses_an_ambiguous_figure_naming_both_readings(runner, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text('{"bank": "it_health", "answers": {"profile.it_spend_12m": "9.500"}}')
    result = runner.invoke(args=["assess", "score", str(path)])
    assert result.exit_code != 0
    assert "9,500 or 9.5" in result.output


def test_figures_are_shown_with_currency_and_units(bank):
    q = bank.question_by_id
    assert show_figure(q[SPEND], 9500, "£") == "£9,500"
    assert show_figure(q[SPEND], 9.5, "€") == "€9.50"
    assert show_figure(q["profile.outage_hours_12m"], 20.0) == "20 hours"
    assert show_figure(q["profile.outage_hours_12m"], 1) == "1 hour"
    assert show_figure(q["profile.open_hours_per_week"], 45) == "45 hours a week"
    assert show_figure(q["profile.staff_count"], 14) == "14 people"


def test_contradicting_figures_name_both(bank):
    def answers(**raw):
        return {qid: parse_answer(bank.question_by_id[qid], value)
                for qid, value in raw.items()}
    found = contradictions(bank, answers(**{"profile.currency": "gbp", SPEND: 9500,
                                            REPAIRS: 12000}))
    assert [c.key for c in found] == ["repairs_over_spend"]
    assert "£12,000" in found[0].message and "£9,500" in found[0].message
    found = contradictions(bank, answers(**{"profile.open_hours_per_week": 40,
                                            "profile.outage_hours_12m": 3000}))
    assert [c.key for c in found] == ["outages_over_open_hours"]
    assert "3,000 hours" in found[0].message and "40 hours a week" in found[0].message
    assert "2,080 hours" in found[0].message
    assert not contradictions(bank, answers(**{SPEND: 9500, REPAIRS: 9500,
                                               "profile.open_hours_per_week": 40,
                                               "profile.outage_hours_12m": 2080}))


# ---- the wizard, without a browser ---------------------------------------------------------

PROFILE = "/assessment/section/profile"


@pytest.fixture
def owner(app):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/assessment/start").status_code == 303
    return client


def _versions(client) -> dict[str, str]:
    html = client.get(PROFILE).get_data(as_text=True)
    return dict(re.findall(r'name="(v_[^"]+)" value="(\d+)"', html))


def _save(client, **fields):
    data = _versions(client) | {"then": "next"}
    data.update({"q_" + k.replace(".", "__") if "." in k else k: v for k, v in fields.items()})
    return client.post(PROFILE, data=data)


def _stored(app, client):
    from assessment.storage import stored_answers
    from assessment.web.db import get_db

    with client.session_transaction() as session:
        assessment_id = session["assessment_id"]
    with app.app_context():
        return {qid: s.answer.value for qid, s in stored_answers(get_db(), assessment_id,
                                                                "owner").items() if s.answer}


def test_form_saves_a_decimal_comma_figure_as_meant_and_says_how_it_read_it(app, owner):
    response = _save(owner, **{"profile.currency": "gbp", SPEND: "9.500,00"})
    assert response.status_code == 303
    assert _stored(app, owner)[SPEND] == 9500
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved as £9,500 (you typed “9.500,00”)" in page
    page = owner.get(PROFILE).get_data(as_text=True)
    assert "Saved as £9,500" in page
    assert re.search(r'data-currency>£</span>', page), "the money box shows no currency"
    assert re.search(r'figure-suffix[^>]*>hours a week<', page), "hours show no unit"


def test_form_asks_which_reading_and_saves_the_one_chosen(app, owner):
    response = _save(owner, **{"profile.currency": "eur", SPEND: "9.500"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“9.500” can be read two ways" in page
    labels = re.findall(r'<label for="q_profile__it_spend_12m__meant-\d">([^<]+)</label>', page)
    assert labels == ["€9,500", "€9.50"]
    assert SPEND not in _stored(app, owner), "an ambiguous figure was stored"
    response = _save(owner, **{SPEND: "9.500", SPEND + "__asked": "9.500",
                               SPEND + "__meant": "9500"})
    assert response.status_code == 303
    assert _stored(app, owner)[SPEND] == 9500
    # The page shows it back as 9,500, which saves again unchanged.
    assert _save(owner, **{SPEND: "9,500"}).status_code == 303


def test_autosave_offers_the_readings_and_echoes_what_it_saved(app, owner):
    _save(owner, **{"profile.currency": "gbp"})
    reply = owner.post("/assessment/answer", json={
        "question": SPEND, "answer": "9.500", "base_version": 0, "client_key": "key-ambiguous"})
    assert reply.status_code == 422
    body = reply.get_json()
    assert body["error"] == "ambiguous"
    assert [r["label"] for r in body["readings"]] == ["£9,500", "£9.50"]
    reply = owner.post("/assessment/answer", json={
        "question": SPEND, "answer": 9500, "base_version": 0, "client_key": "key-chosen"})
    assert reply.status_code == 200
    assert reply.get_json()["saved_as"] == "£9,500"
    assert reply.get_json()["box"] == "9,500"


def test_contradicting_figures_send_the_owner_back_to_a_message_naming_both(app, owner):
    response = _save(owner, **{"profile.currency": "gbp", SPEND: "9,500", REPAIRS: "12,000"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(PROFILE + "#checks")
    page = owner.get(PROFILE).get_data(as_text=True)
    assert "The spend on fixing things (£12,000) is more than all you paid for IT support " \
           "(£9,500)" in page
    # Seen once, saving the page again moves on (the figures are kept as given).
    response = _save(owner, checked="repairs_over_spend",
                     **{"profile.currency": "gbp", SPEND: "9,500", REPAIRS: "12,000"})
    assert response.headers["Location"].endswith("/assessment/section/monitoring")
    reply = owner.post("/assessment/answer", json={
        "question": "profile.outage_hours_12m", "answer": "3,000", "base_version": 0,
        "client_key": "key-outage-hours"})
    assert reply.status_code == 200
    assert [c["key"] for c in reply.get_json()["checks"]] == ["repairs_over_spend"]
    reply = owner.post("/assessment/answer", json={
        "question": "profile.open_hours_per_week", "answer": "40", "base_version": 0,
        "client_key": "key-open-hours"})
    assert reply.status_code == 200, reply.get_json()
    assert [c["key"] for c in reply.get_json()["checks"]] == [
        "repairs_over_spend", "outages_over_open_hours"]


# ---- one currency sign, short notices, and answers to questions no longer asked ------------

REVENUE = "profile.annual_revenue"
HOURLY = "profile.downtime_cost_per_hour"


def test_a_figure_typed_with_its_currency_sign_shows_one_sign(app, owner):
    """"£600" typed in a money box: saved as 600, and the box (beside its "£") shows 600, not
    "£600", also when the page comes back with a problem elsewhere on it."""
    response = _save(owner, **{"profile.currency": "gbp", SPEND: "£600",
                               "profile.staff_count": "lots"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _stored(app, owner)[SPEND] == 600
    assert re.search(r'name="q_profile__it_spend_12m" value="600"', page), "box shows two signs"
    assert "Saved as £600" in page
    reply = owner.post("/assessment/answer", json={
        "question": REPAIRS, "answer": "£250", "base_version": 0, "client_key": "key-sign"})
    assert reply.get_json()["saved_as"] == "£250" and reply.get_json()["box"] == "250"


def test_figures_typed_plainly_are_not_echoed_and_the_rest_share_one_notice(app, owner):
    """Without JavaScript, a figure typed as it is saved ("600", "£600", "9,500") needs no
    "Saved as"; those read from another form ("1.200,5") are named in one short notice, not a
    box each."""
    response = _save(owner, **{"profile.currency": "gbp", SPEND: "£9,500", REPAIRS: "600",
                               "profile.open_hours_per_week": "40"})
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved as" not in page and "you typed" not in page
    response = _save(owner, **{SPEND: "9.600,00", REPAIRS: "1.200,5",
                               "profile.outage_hours_12m": "12,5"})
    assert response.status_code == 303
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    notices = re.findall(r'<div class="notice notice-success"[^>]*>([^<]*)</div>', page)
    assert notices == ["Figures saved as: 12.5 hours (you typed “12,5”), £9,600 (you typed "
                       "“9.600,00”), £1,200.50 (you typed “1.200,5”)."]


def test_yearly_sales_are_not_asked_or_kept_once_the_hourly_cost_is_given(app, owner, bank):
    """Yearly sales only estimate the hourly cost: with the hourly cost given they are not
    asked, and what was typed for them is not kept, with a notice saying so. Emptying the
    hourly cost asks for them again."""
    assert bank.question_by_id[REVENUE].show_if is not None
    assert not _hidden(owner.get(PROFILE).get_data(as_text=True), REVENUE)
    # Both typed on the page without JavaScript: the hourly cost is kept, the sales are not.
    response = _save(owner, **{"profile.currency": "gbp", HOURLY: "850", REVENUE: "2,100,000"})
    assert response.status_code == 303
    stored = _stored(app, owner)
    assert stored[HOURLY] == 850 and REVENUE not in stored
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not kept: £2,100,000 for “What are the business&#39;s yearly sales, roughly?” Your " \
           "other answers on that page mean it is not asked; change them and it shows again." \
           in page
    # Sales saved while the hourly cost was empty, then the hourly cost given: not kept either.
    _save(owner, **{HOURLY: ""})
    assert HOURLY not in _stored(app, owner)
    _save(owner, **{REVENUE: "950000"})
    assert _stored(app, owner)[REVENUE] == 950000
    response = _save(owner, **{HOURLY: "400", REVENUE: "950,000"})
    assert REVENUE not in _stored(app, owner)
    assert "Not kept" in owner.get(response.headers["Location"]).get_data(as_text=True)
    assert _hidden(owner.get(PROFILE).get_data(as_text=True), REVENUE)
    _save(owner, **{HOURLY: ""})
    assert not _hidden(owner.get(PROFILE).get_data(as_text=True), REVENUE)


def _hidden(page: str, question_id: str) -> bool:
    """Whether the page hides a question (it is not asked)."""
    tag = re.search(rf'<div class="question[^"]*"\s+id="q-{re.escape(question_id)}"[^>]*>', page)
    assert tag, f"{question_id} is not on the page"
    return tag.group(0).rstrip(">").rstrip().endswith("hidden")
