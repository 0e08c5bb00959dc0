"""The roadmap's actions as the database keeps them (storage/actions.py), on both engines: the
original due date kept through a deferral, every change an event, an illegal move writing
nothing, an accepted risk coming back once, and another firm seeing nothing."""

from __future__ import annotations

from datetime import date

import pytest

from assessment.core.actions import Action, Move, MoveRefused, Status, decide
from assessment.storage import accounts, actions, clients

pytestmark = pytest.mark.both_backends

TODAY = date(2026, 10, 1)


@pytest.fixture
def firm_and_client(db):
    firm = accounts.create_firm(db, "Acme IT")
    client = clients.create_client(db, firm, name="Harbour Dental")
    return firm, client


def new_action(client: int) -> Action:
    return Action(id=None, client_id=client, title="Turn on two-step sign-in for email",
                  why="A stolen password opens every mailbox.", workstream="Identity",
                  party="provider", questions=("security.mfa_email",),
                  finding="security.mfa_email:turn_on", score_gain=6, from_assessment="a1")


def test_a_deferral_keeps_the_promise_and_every_change_is_an_event(db, firm_and_client):
    firm, client = firm_and_client
    action_id = actions.add_action(db, firm, new_action(client), who="assessment", on=TODAY)
    stored = actions.get_action(db, firm, action_id)
    agreed = decide(stored, Move(Status.AGREED, due=date(2026, 10, 15), person="Sam"),
                    who="ana@acme.example", today=TODAY)
    assert actions.save_decision(db, firm, agreed)
    pushed = decide(actions.get_action(db, firm, action_id),
                    Move(Status.DEFERRED, due=date(2026, 11, 15), reason="licences late"),
                    who="ana@acme.example", today=TODAY)
    assert actions.save_decision(db, firm, pushed)

    kept = actions.get_action(db, firm, action_id)
    assert (kept.status, kept.due, kept.original_due, kept.pushes) == (
        Status.DEFERRED, date(2026, 11, 15), date(2026, 10, 15), 1)
    assert kept.questions == ("security.mfa_email",) and kept.person == "Sam"
    history = actions.action_events(db, firm, action_id)
    assert [(e.from_status, e.to_status) for e in history] == [
        (None, Status.PROPOSED), (Status.PROPOSED, Status.AGREED),
        (Status.AGREED, Status.DEFERRED)]
    assert history[-1].reason == "licences late"
    assert history[-1].due_before == date(2026, 10, 15)


def test_an_illegal_move_writes_nothing_and_a_stale_one_loses(db, firm_and_client):
    firm, client = firm_and_client
    action_id = actions.add_action(db, firm, new_action(client), who="assessment", on=TODAY)
    stored = actions.get_action(db, firm, action_id)
    with pytest.raises(MoveRefused):
        decide(stored, Move(Status.VERIFIED), who="ana", today=TODAY)
    assert len(actions.action_events(db, firm, action_id)) == 1

    # Two people decide from the same proposed action: the second finds it moved.
    first = decide(stored, Move(Status.AGREED, due=date(2026, 10, 15), person="Sam"), who="ana",
                   today=TODAY)
    second = decide(stored, Move(Status.DROPPED, reason="no budget"), who="bo", today=TODAY)
    assert actions.save_decision(db, firm, first)
    assert not actions.save_decision(db, firm, second)
    assert actions.get_action(db, firm, action_id).status is Status.AGREED
    assert len(actions.action_events(db, firm, action_id)) == 2


def test_another_firm_sees_and_changes_nothing(db, firm_and_client):
    firm, client = firm_and_client
    other = accounts.create_firm(db, "Elsewhere Ltd")
    action_id = actions.add_action(db, firm, new_action(client), who="assessment", on=TODAY)
    assert actions.get_action(db, other, action_id) is None
    assert actions.client_actions(db, other, client) == []
    assert actions.action_events(db, other, action_id) == []
    stored = actions.get_action(db, firm, action_id)
    move = decide(stored, Move(Status.DROPPED, reason="x"), who="eve", today=TODAY)
    assert not actions.save_decision(db, other, move)
    assert actions.get_action(db, firm, action_id).status is Status.PROPOSED
    with pytest.raises(ValueError):
        actions.add_action(db, other, new_action(client), who="eve", on=TODAY)


def test_an_accepted_risk_is_back_for_a_decision_once_its_date_passes(db, firm_and_client):
    """Every page and export reads the roadmap through current_actions: on the day after the
    date, the risk is proposed again, and the history says why."""
    firm, client = firm_and_client
    action_id = actions.add_action(db, firm, new_action(client), who="assessment", on=TODAY)
    accepted = decide(actions.get_action(db, firm, action_id),
                      Move(Status.RISK_ACCEPTED, person="Dr Patel", until=date(2026, 12, 31)),
                      who="ana", today=TODAY)
    assert actions.save_decision(db, firm, accepted)
    on_the_day = actions.current_actions(db, firm, client, date(2026, 12, 31))
    assert on_the_day[0].status is Status.RISK_ACCEPTED
    after = actions.current_actions(db, firm, client, date(2027, 1, 1))
    assert after[0].status is Status.PROPOSED and after[0].accepted_by == ""
    history = actions.action_events(db, firm, action_id)
    assert (history[-1].who, history[-1].to_status) == ("system", Status.PROPOSED)
    assert "Dr Patel" in history[-1].reason and "2026-12-31" in history[-1].reason
    # Read again: it comes back once, not once per read.
    actions.current_actions(db, firm, client, date(2027, 1, 2))
    assert len(actions.action_events(db, firm, action_id)) == len(history)
