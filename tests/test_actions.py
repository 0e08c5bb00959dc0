"""The living roadmap's rules (core/actions.py): moves, what the next assessment proves, and the
measures of promises kept, on fixtures a consultant would recognise."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest

from assessment.core.actions import (
    Action,
    Evidence,
    Move,
    MoveRefused,
    Status,
    check_promises,
    decide,
    expire_accepted_risks,
    measure,
    measure_by_party,
    parse_status,
    projection,
    questions_to_ask_first,
)

TODAY = date(2026, 10, 1)


def action(**fields) -> Action:
    base = Action(id=1, client_id=1, title="Turn on two-step sign-in for email",
                  why="A stolen password opens every mailbox.", workstream="Identity",
                  party="provider", questions=("security.mfa_email",),
                  finding="security.mfa_email:turn_on", score_gain=6)
    return replace(base, **fields)


def test_agreeing_freezes_the_original_due_date_and_deferring_counts_each_push():
    proposed = action()
    agreed = decide(proposed, Move(Status.AGREED, due=date(2026, 10, 15), person="Sam (Acme IT)"),
                    who="consultant", today=TODAY).action
    assert agreed.original_due == agreed.due == date(2026, 10, 15)
    assert agreed.person == "Sam (Acme IT)" and agreed.agreed_on == TODAY

    pushed = decide(agreed, Move(Status.DEFERRED, due=date(2026, 11, 15), reason="licences late"),
                    who="consultant", today=TODAY)
    assert pushed.action.due == date(2026, 11, 15)
    assert pushed.action.original_due == date(2026, 10, 15)  # the promise does not move
    assert pushed.action.pushes == 1
    assert pushed.event.due_before == date(2026, 10, 15)
    assert pushed.event.due_after == date(2026, 11, 15)
    assert pushed.event.reason == "licences late"

    again = decide(pushed.action, Move(Status.DEFERRED, due=date(2026, 12, 15), reason="holiday"),
                   who="consultant", today=TODAY).action
    assert again.pushes == 2 and again.original_due == date(2026, 10, 15)


@pytest.mark.parametrize("start, move, message", [
    (Status.PROPOSED, Move(Status.DONE), "cannot be moved to “Done (not yet checked)”"),
    (Status.AGREED, Move(Status.VERIFIED), "Only the next assessment can mark"),
    (Status.DONE, Move(Status.REGRESSED), "Only the next assessment can mark"),
    (Status.VERIFIED, Move(Status.IN_PROGRESS), "cannot be moved to “In progress”"),
    (Status.AGREED, Move(Status.DEFERRED, due=date(2026, 11, 1)), "Say why it is deferred"),
    (Status.AGREED, Move(Status.DEFERRED, due=date(2026, 10, 10), reason="x"),
     "moves the due date later"),
    (Status.AGREED, Move(Status.RISK_ACCEPTED, until=date(2027, 1, 1)), "Name the person"),
    (Status.AGREED, Move(Status.RISK_ACCEPTED, person="Dr Patel", until=TODAY),
     "until which the risk is accepted"),
    (Status.AGREED, Move(Status.DROPPED), "Say why it is dropped"),
    (Status.PROPOSED, Move(Status.AGREED), "Give a due date"),
    (Status.PROPOSED, Move(Status.AGREED, due=date(2026, 9, 1)), "cannot be in the past"),
    # A promise nobody is named to keep is not one.
    (Status.PROPOSED, Move(Status.AGREED, due=date(2026, 10, 15), person="  "),
     "Name the person who does it"),
])
def test_a_move_the_rules_forbid_is_refused_with_what_to_do(start, move, message):
    due = date(2026, 10, 15) if start is not Status.PROPOSED else None
    with pytest.raises(MoveRefused, match=re.escape(message)):
        decide(action(status=start, due=due, original_due=due), move, who="consultant",
               today=TODAY)


def test_an_unknown_state_is_refused_by_name():
    with pytest.raises(MoveRefused, match="“finished” is not a state"):
        parse_status("finished")


def test_the_owner_may_only_mark_their_own_actions_done():
    own = action(party="client", status=Status.AGREED, due=date(2026, 10, 15),
                 original_due=date(2026, 10, 15))
    done = decide(own, Move(Status.DONE), who="owner", today=TODAY, owner=True).action
    assert done.status is Status.DONE and done.done_on == TODAY
    with pytest.raises(MoveRefused, match="mark your own agreed actions as done"):
        decide(own, Move(Status.DEFERRED, due=date(2026, 12, 1), reason="busy"), who="owner",
               today=TODAY, owner=True)
    with pytest.raises(MoveRefused, match="for your IT provider"):
        decide(replace(own, party="provider"), Move(Status.DONE), who="owner", today=TODAY,
               owner=True)


def test_an_accepted_risk_comes_back_for_a_decision_after_its_date():
    accepted = decide(action(), Move(Status.RISK_ACCEPTED, person="Dr Patel",
                                     until=date(2026, 12, 31)), who="consultant",
                      today=TODAY).action
    assert expire_accepted_risks([accepted], date(2026, 12, 31)) == []
    [back] = expire_accepted_risks([accepted], date(2027, 1, 1))
    assert back.action.status is Status.PROPOSED and back.action.accepted_by == ""
    assert "Dr Patel" in back.event.reason and back.event.who == "system"


def evidence(answered=("security.mfa_email",), raising=()) -> Evidence:
    return Evidence(assessment="next", on=date(2027, 1, 10), answered=frozenset(answered),
                    raising=frozenset(raising))


def test_the_next_assessment_verifies_disproves_and_catches_regressions():
    promised = dict(due=date(2026, 12, 1), original_due=date(2026, 12, 1))
    passing, failing = evidence(), evidence(raising=("security.mfa_email:turn_on",))

    [verified] = check_promises([action(status=Status.AGREED, **promised)], passing)
    assert verified.action.status is Status.VERIFIED
    assert verified.action.verified_by == "next" and verified.event.who == "assessment"

    [not_confirmed] = check_promises([action(status=Status.DONE, **promised)], failing)
    assert not_confirmed.action.status is Status.NOT_CONFIRMED

    [regressed] = check_promises([action(status=Status.VERIFIED, **promised)], failing)
    assert regressed.action.status is Status.REGRESSED

    # Answered "not sure": nothing is proven either way, so nothing moves.
    assert check_promises([action(status=Status.DONE, **promised)], evidence(answered=())) == []
    # Still failing but never claimed: it stays agreed (and shows as overdue when due).
    assert check_promises([action(status=Status.AGREED, **promised)], failing) == []


def test_the_promised_questions_are_asked_first_each_once_in_due_order():
    later = action(id=2, title="Test a restore", questions=("backup.tested",),
                   status=Status.AGREED, due=date(2026, 12, 1), original_due=date(2026, 12, 1))
    sooner = action(id=1, status=Status.AGREED, due=date(2026, 10, 15),
                    original_due=date(2026, 10, 15), questions=("security.mfa_email",
                                                                "backup.tested"))
    proposed = action(id=3, questions=("network.firewall",))
    asked = questions_to_ask_first([later, proposed, sooner])
    assert [(a.id, q) for a, q in asked] == [(1, "security.mfa_email"), (1, "backup.tested")]


def known_fixture() -> list[Action]:
    """10 agreed and due by 1 January: 6 verified on time, 1 late, 1 claimed, 2 overdue."""
    due = date(2026, 12, 1)
    made = []

    def add(status, party, verified_on=None, pushes=0, current_due=due):
        made.append(action(id=len(made) + 1, status=status, party=party, due=current_due,
                           original_due=due, verified_on=verified_on, pushes=pushes,
                           cost_low=100, cost_high=300))

    for party in ("provider",) * 4 + ("client",) * 2:
        add(Status.VERIFIED, party, verified_on=date(2026, 11, 20))
    add(Status.VERIFIED, "provider", verified_on=date(2026, 12, 11), pushes=1,
        current_due=date(2026, 12, 15))
    add(Status.DONE, "client")
    add(Status.AGREED, "vendor", pushes=2, current_due=date(2026, 12, 20))
    add(Status.IN_PROGRESS, "provider")
    # Not counted: proposed, not yet due, dropped.
    made.append(action(id=99, status=Status.PROPOSED))
    made.append(action(id=98, status=Status.AGREED, due=date(2027, 3, 1),
                       original_due=date(2027, 3, 1)))
    made.append(action(id=97, status=Status.DROPPED, due=due, original_due=due))
    return made


def test_promises_kept_on_time_and_slippage_on_a_known_fixture():
    measured = measure(known_fixture(), as_of=date(2027, 1, 1))
    assert (measured.promises, measured.kept, measured.on_time, measured.late) == (10, 7, 6, 1)
    assert (measured.claimed, measured.overdue) == (1, 2)
    assert (measured.pushes, measured.pushed_twice) == (3, 1)
    # 10 days late verified, and two overdue by 31 days each from the original date.
    assert measured.days_late == 10 + 31 + 31


def test_a_deferral_moves_the_work_but_never_the_promise_out_of_the_count():
    """Pushing a due date past the day measured must not clean the record: the promise still
    counts from the date first agreed, not kept, as "moved to a later date"."""
    fixture = known_fixture()
    pushed = [replace(a, status=Status.DEFERRED, due=date(2027, 2, 1), pushes=a.pushes + 1)
              if a.id == 10 else a for a in fixture]
    before, after = measure(fixture, date(2027, 1, 1)), measure(pushed, date(2027, 1, 1))
    assert (after.promises, after.kept) == (before.promises, before.kept) == (10, 7)
    assert (after.overdue, after.moved) == (1, 1)
    assert after.days_late == before.days_late  # still late against the promise


def test_the_measures_by_party():
    parties = measure_by_party(known_fixture(), as_of=date(2027, 1, 1))
    provider, client, vendor = parties["provider"], parties["client"], parties["vendor"]
    assert (provider.promises, provider.kept, provider.on_time, provider.overdue) == (6, 5, 4, 1)
    assert (client.promises, client.kept, client.claimed) == (3, 2, 1)
    assert (vendor.promises, vendor.kept, vendor.overdue, vendor.pushed_twice) == (1, 0, 1, 1)


def test_projected_against_reached_names_the_slipped_promises():
    actions = known_fixture()
    made = projection(actions, before=58, reached=66, as_of=date(2027, 1, 1))
    # 11 promises due (the dropped one is not), 6 points each: capped at 100.
    assert made.projected == 100 and made.reached == 66
    slipped = {a.id for a in made.slipped}
    assert slipped == {8, 9, 10}
    small = projection([replace(a, score_gain=1) for a in actions], before=58, reached=66,
                       as_of=date(2027, 1, 1))
    assert small.projected == 68 and small.gap == 2


def test_a_dropped_action_taken_up_again_is_no_promise_until_agreed():
    dropped = decide(action(status=Status.AGREED, due=date(2026, 10, 15),
                            original_due=date(2026, 10, 15)),
                     Move(Status.DROPPED, reason="moving office"), who="c", today=TODAY).action
    again = decide(dropped, Move(Status.PROPOSED), who="c", today=TODAY + timedelta(days=30))
    assert again.action.status is Status.PROPOSED and not again.action.promised
