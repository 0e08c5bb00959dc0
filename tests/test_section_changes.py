"""What a submitted section page means, read without a database (web/section_changes.py): which
answers, notes and ticks change, what each box shows again, and what is said about a problem."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from assessment.core.bank import Answer, AnswerError
from assessment.storage import KEEP, StoredAnswer
from assessment.web.answer_fields import MAX_NOTE, field_name
from assessment.web.section_changes import answer_to_save, read_form

SPEND = "profile.it_spend_12m"  # a money figure
DOWNTIME = "profile.downtime_cost_per_hour"
REVENUE = "profile.annual_revenue"  # asked only while the cost of downtime is not answered
COVERAGE = "patching.coverage"  # ticks, with "Not sure"
WHO = "patching.who"  # one choice


def stored(qid: str, answer: Answer | None, **fields) -> StoredAnswer:
    values = {"question_id": qid, "source": "owner", "answer": answer, "note": "",
              "verified": False, "reconfirm": False, "answered_by": None, "version": 3,
              "updated_at": "2025-01-01T00:00:00+00:00"}
    return StoredAnswer(**(values | fields))


def box(bank, qid: str) -> str:
    return field_name(bank.question_by_id[qid])


def read(bank, section_id: str, form: dict, saved=(), **options):
    """The section's questions as `form` submits them, over the `saved` answers."""
    questions = bank.section_by_id[section_id].questions
    submitted = read_form(bank, questions, {s.question_id: s for s in saved},
                          MultiDict(form), **options)
    return submitted, {s.question.id: s for s in submitted.questions}


def test_a_new_figure_is_saved_as_read_and_its_box_shows_what_was_typed(bank):
    _, said = read(bank, "profile", {box(bank, SPEND): "£9,500"})
    assert said[SPEND].changes == {"answer": Answer("answered", 9500)}
    assert said[SPEND].value == "£9,500" and said[SPEND].error is None


def test_an_emptied_figure_box_clears_the_saved_figure(bank):
    _, said = read(bank, "profile", {box(bank, SPEND): "  "},
                   saved=[stored(SPEND, Answer("answered", 12000))])
    assert said[SPEND].changes == {"answer": None}


def test_a_figure_sent_back_as_the_page_showed_it_changes_nothing(bank):
    _, said = read(bank, "profile", {box(bank, SPEND): "12,000"},
                   saved=[stored(SPEND, Answer("answered", 12000))])
    assert said[SPEND].changes == {}


def test_a_figure_that_reads_two_ways_is_not_saved_and_stays_as_typed_with_both_readings(bank):
    _, said = read(bank, "profile", {box(bank, SPEND): "9.500"}, symbol="£")
    figure = said[SPEND]
    assert figure.changes == {}
    assert figure.value == "9.500" and figure.asked == "9.500"
    assert "can be read two ways" in figure.error
    assert figure.readings == (("9500", "£9,500"), ("9.5", "£9.50"))


def test_a_currency_chosen_on_the_page_signs_its_figures(bank):
    submitted, said = read(bank, "profile", {box(bank, "profile.currency"): "eur",
                                             box(bank, SPEND): "9.500"}, symbol="£")
    assert submitted.symbol == "€" and submitted.currency_on_page
    assert said[SPEND].readings[0] == ("9500", "€9,500")


def test_an_untouched_choice_keeps_its_saved_answer(bank):
    """No box of a question ticked is a question not answered on this page, not a cleared one."""
    _, said = read(bank, "patching", {}, saved=[
        stored(COVERAGE, Answer("answered", ("system",))),
        stored(WHO, Answer("answered", "provider"))])
    assert said[COVERAGE].changes == {} and said[WHO].changes == {}
    assert said[COVERAGE].value == []


def test_ticking_a_choice_and_not_sure_together_is_refused_with_a_message(bank):
    _, said = read(bank, "patching", MultiDict([(box(bank, COVERAGE), "system"),
                                                (box(bank, COVERAGE), "not_sure")]))
    assert said[COVERAGE].error == ("Tick either the options that apply or the last option, "
                                    "not both.")
    assert said[COVERAGE].changes == {}


def test_unticking_verified_and_shown_to_client_clears_them(bank):
    saved = stored(WHO, Answer("answered", "provider"), verified=True, note="Seen the report",
                   note_shared=True)
    _, said = read(bank, "patching", {box(bank, WHO): "provider",
                                      "n_" + box(bank, WHO): "Seen the report"},
                   saved=[saved], notes=True, verify=True, hide_unasked=False)
    assert said[WHO].changes == {"verified": False, "note_shared": False}
    assert said[WHO].verified is False and said[WHO].note_shared is False


def test_a_note_is_kept_on_the_page_when_the_answer_beside_it_has_a_problem(bank):
    form = MultiDict([(box(bank, COVERAGE), "system"), (box(bank, COVERAGE), "not_sure"),
                      ("n_" + box(bank, COVERAGE), "  Firmware is done by hand  ")])
    _, said = read(bank, "patching", form, notes=True, verify=True, hide_unasked=False)
    assert said[COVERAGE].note == "Firmware is done by hand"
    assert said[COVERAGE].error and said[COVERAGE].changes == {}  # saved once the answer reads


def test_a_note_that_is_too_long_says_so_and_stays_as_typed(bank):
    note = "x" * (MAX_NOTE + 1)
    _, said = read(bank, "patching", {box(bank, WHO): "provider", "n_" + box(bank, WHO): note},
                   notes=True, verify=True, hide_unasked=False)
    assert said[WHO].note == note and said[WHO].error == (
        f"Keep the note under {MAX_NOTE:,} characters.")
    assert said[WHO].changes == {}


def test_a_note_changed_on_its_own_is_saved_without_touching_the_answer(bank):
    _, said = read(bank, "patching", {box(bank, WHO): "provider",
                                      "n_" + box(bank, WHO): "Asked their provider"},
                   saved=[stored(WHO, Answer("answered", "provider"))], notes=True,
                   hide_unasked=False)
    assert said[WHO].changes == {"note": "Asked their provider"}


def test_an_answer_the_page_leaves_unasked_is_not_kept_and_said_in_words(bank):
    form = {box(bank, "profile.currency"): "gbp", box(bank, DOWNTIME): "500",
            box(bank, REVENUE): "2,100,000"}
    _, said = read(bank, "profile", form, saved=[stored(REVENUE, Answer("answered", 90000))])
    revenue = said[REVENUE]
    assert revenue.not_kept == "£2,100,000"
    assert revenue.changes == {"answer": None} and revenue.value == ""
    assert said[DOWNTIME].changes == {"answer": Answer("answered", 500)}


def test_the_interview_keeps_what_the_consultant_records_whatever_the_conditions(bank):
    form = {box(bank, DOWNTIME): "500", box(bank, REVENUE): "2,100,000"}
    _, said = read(bank, "profile", form, notes=True, verify=True, hide_unasked=False)
    assert said[REVENUE].not_kept == ""
    assert said[REVENUE].changes == {"answer": Answer("answered", 2100000)}


def test_a_copied_answer_is_saved_again_only_when_confirmed(bank):
    copied = stored(WHO, Answer("answered", "provider"), reconfirm=True)
    form = {box(bank, WHO): "provider"}
    _, waiting = read(bank, "patching", form, saved=[copied])
    _, confirmed = read(bank, "patching", form, saved=[copied], confirm=frozenset({WHO}))
    _, all_confirmed = read(bank, "patching", form, saved=[copied], confirm=True)
    assert waiting[WHO].changes == {}
    assert confirmed[WHO].changes == all_confirmed[WHO].changes == {
        "answer": Answer("answered", "provider")}


@pytest.mark.parametrize(("sent", "base"), [("7", 7), ("", 0), ("seven", -1)])
def test_the_version_the_page_showed_is_read_and_an_unreadable_one_counts_as_stale(bank, sent,
                                                                                   base):
    _, said = read(bank, "patching", {box(bank, WHO): "nobody", "v_" + box(bank, WHO): sent},
                   saved=[stored(WHO, Answer("answered", "provider"))])
    assert said[WHO].base_version == base


def test_an_email_domain_that_is_not_a_domain_is_refused(bank):
    q = bank.question_by_id["profile.email_domain"]
    with pytest.raises(AnswerError):
        answer_to_save(q, "not a domain", None)
    assert answer_to_save(q, "example.com", None) == Answer("answered", "example.com")
    assert answer_to_save(q, "example.com",
                          stored(q.id, Answer("answered", "example.com"))) is KEEP
