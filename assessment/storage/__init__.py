"""Storage: SQLite by default, PostgreSQL for a postgresql:// URL (engines.py). Every function
takes the database it works on: a db.Store, or for the administration a db.Admin."""

from . import handoffs  # hand-off links: one section answered by the IT provider
from .assessments import (KEEP, Conflict, NotFound, Saved, StoredAnswer, answers_for_scoring,
                          assessment_view, bank_of, create_assessment, export_assessment,
                          find_by_resume_hash, get_assessment, records_of, save_answer,
                          set_status, stored_answers)
from .copy import CopyError, copy_database
from .db import Admin, Store
from .engines import CannotConnect, connect, describe, is_url, make_private
from .migrations import migrate

__all__ = [
    "KEEP", "Admin", "CannotConnect", "Conflict", "CopyError", "NotFound", "Saved", "Store",
    "StoredAnswer", "answers_for_scoring", "assessment_view", "bank_of", "connect",
    "copy_database", "create_assessment", "describe", "export_assessment", "find_by_resume_hash",
    "get_assessment", "is_url", "make_private", "migrate", "records_of", "save_answer",
    "set_status", "stored_answers", "handoffs",
]
