"""Storage: SQLite through sqlite-utils by default, PostgreSQL for a postgresql:// URL (db.py).
Every function takes the database (a db.Store) it works on."""

from . import handoffs  # hand-off links: one section answered by the IT provider
from .assessments import (
                          KEEP,
                          Conflict,
                          NotFound,
                          Saved,
                          StoredAnswer,
                          answers_for_scoring,
                          assessment_view,
                          bank_of,
                          create_assessment,
                          export_assessment,
                          find_by_resume_hash,
                          get_assessment,
                          records_of,
                          remember_bank,
                          save_answer,
                          set_status,
                          stored_answers,
)
from .copy import CopyError, TargetNotEmpty, copy_database
from .db import (
                          CannotConnect,
                          Store,
                          backup,
                          connect,
                          describe,
                          integrity_ok,
                          is_url,
                          make_private,
                          restore,
                          write,
)
from .migrations import migrate

__all__ = [
    "KEEP", "CannotConnect", "Conflict", "CopyError", "NotFound", "Saved", "Store",
    "StoredAnswer", "TargetNotEmpty", "answers_for_scoring", "assessment_view", "backup",
    "bank_of", "connect", "copy_database", "create_assessment", "describe", "export_assessment",
    "find_by_resume_hash", "get_assessment", "integrity_ok", "is_url", "make_private", "migrate",
    "records_of", "remember_bank", "restore", "save_answer", "set_status", "stored_answers",
    "handoffs", "write",
]
