"""Storage: SQLite through sqlite-utils. Every function takes the Database it works on."""

from .assessments import (KEEP, Conflict, NotFound, Saved, StoredAnswer, answers_for_scoring,
                          bank_of, create_assessment, export_assessment, find_by_resume_hash,
                          get_assessment,
                          remember_bank, save_answer, set_status, stored_answers)
from .db import backup, connect, integrity_ok, make_private, restore, write
from .migrations import migrate

__all__ = [
    "KEEP", "Conflict", "NotFound", "Saved", "StoredAnswer", "answers_for_scoring", "backup",
    "bank_of", "connect", "create_assessment", "export_assessment", "find_by_resume_hash",
    "get_assessment", "integrity_ok", "make_private", "migrate", "remember_bank", "restore",
    "save_answer",
    "set_status", "stored_answers", "write",
]
