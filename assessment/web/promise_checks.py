"""The page of promises a client's next assessment asks first, shared by the consultant's
interview (workspace/promised.py) and the client's self-assessment link (wizard/promises.py):
each agreed action's questions, gathered into one page, and grouped under what was promised.

A promised question may be asked only after another is answered ("Is the server backed up?"
after "Do you have a server?"). In an assessment that starts empty, those earlier questions
come onto the page too, just before it, so the promise can be asked at all."""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from ..core.actions import Action, questions_to_ask_first
from ..core.bank import Bank, Question, Section
from ..storage import actions

Plan = list[tuple[Action, list[str]]]  # each promise with the question ids asked under it


def promised_questions(db, firm_id: int, client_id: int, today) -> list[tuple[Action, str]]:
    """(action, question id) for every promise the client's next assessment checks, in due
    order (accepted risks whose date has passed are brought back first, as everywhere)."""
    return questions_to_ask_first(actions.current_actions(db, firm_id, client_id, today))


def plan(bank: Bank, asked: list[tuple[Action, str]], answered: Collection[str]) -> Plan:
    """The page's questions under each promise: the promise's own, each after the unanswered
    questions that decide whether it is asked; every question once, where first needed."""
    placed: set[str] = set()
    groups: Plan = []

    def place(qid: str, into: list[str], visiting: set[str]) -> None:
        question = bank.question_by_id.get(qid)
        if question is None or qid in placed or qid in visiting:
            return
        visiting.add(qid)
        for gate in question.condition_refs:
            if gate not in answered:
                place(gate, into, visiting)
        placed.add(qid)
        into.append(qid)

    for action, qid in asked:
        if groups and groups[-1][0] is action:
            place(qid, groups[-1][1], set())
            continue
        ids: list[str] = []
        place(qid, ids, set())
        if ids:
            groups.append((action, ids))
    return groups


def promises_section(bank: Bank, groups: Plan) -> Section:
    """The planned questions as one page (a section that exists only on screen)."""
    questions: tuple[Question, ...] = tuple(bank.question_by_id[qid]
                                            for _, ids in groups for qid in ids)
    key = hashlib.sha256(",".join(q.id for q in questions).encode()).hexdigest()[:16]
    # Built from questions the bank has already checked; a page's id only, never stored.
    return Section.model_construct(id=f"promises-{key}", title="Promises to check first",
                                   intro="", kind="scored", workstream=None,
                                   questions=questions)


def grouped(groups: Plan, views) -> list[tuple[Action, list]]:
    """The page's question views under their promise; a question the business's answers no
    longer ask is left out, and so is a promise left with none."""
    by_id = {view.question.id: view for view in views}
    shown = [(action, [by_id[qid] for qid in ids if qid in by_id]) for action, ids in groups]
    return [(action, views) for action, views in shown if views]
