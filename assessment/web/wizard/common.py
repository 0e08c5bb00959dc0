"""What the owner's pages share: their blueprint, and the answers they read."""

from __future__ import annotations

from flask import Blueprint

from ...core.viewpoint import BUSINESS
from ...storage import assessment_view, stored_answers
from ..db import get_db

bp = Blueprint("wizard", __name__, url_prefix="/assessment")
SOURCE = "owner"


def owner_answers(assessment):
    """What the business typed itself: the answers its section pages edit."""
    return stored_answers(get_db(), assessment["id"], SOURCE)


def seen(assessment):
    """What the assessment says to the business (viewpoint.py): the answers that count, the
    consultant's where they gave one, so every page shows the score the firm's report has."""
    return assessment_view(get_db(), assessment, BUSINESS)


def answers_of(stored):
    return {qid: s.answer for qid, s in stored.items() if s.answer}
