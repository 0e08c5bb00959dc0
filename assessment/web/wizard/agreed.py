"""What a firm's client agreed last time, as their self-assessment asks it first: the
promises (none unless a firm sent the link for one of its clients), the page they make, and
whether any is still unanswered (then opening the link lands there). The page itself is
promises.py; links.landing_of asks this module, so it imports nothing of the wizard's pages."""

from __future__ import annotations

from ...core.actions import Action
from ...core.scoring import score
from ...storage import bank_of
from .. import dates, owner
from ..db import get_db
from ..promise_checks import Plan, plan, promised_questions, promises_section
from ..section_page import SectionPage
from .common import answers_of, owner_answers


def asked_first(assessment: dict) -> list[tuple[Action, str]]:
    """The promises this assessment checks first: none unless a firm sent it for one of its
    clients, and it can still be answered here."""
    if assessment["firm_id"] is None or assessment["client_id"] is None \
            or owner.read_only(assessment):
        return []
    return promised_questions(get_db(), assessment["firm_id"], assessment["client_id"],
                              dates.firm_today(assessment["firm_id"]))


def page_of(assessment: dict, asked: list[tuple[Action, str]]) -> tuple[SectionPage, Plan]:
    """The promises page with the owner's answers, and the questions under each promise."""
    bank = bank_of(get_db(), assessment)
    stored = owner_answers(assessment)
    answers = answers_of(stored)
    groups = plan(bank, asked, answers)
    return SectionPage(bank, promises_section(bank, groups), stored,
                       score(bank, answers)), groups


def waiting(assessment: dict) -> bool | None:
    """None when there are no promises to check; else whether some are still unanswered."""
    asked = asked_first(assessment)
    if not asked:
        return None
    page, _ = page_of(assessment, asked)
    return any(view.stored is None or not view.stored.answer for view in page.views)
