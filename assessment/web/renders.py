"""Which cached PDFs belong to an assessment, so that deleting it removes them too.

The report cache keys a PDF by a hash of everything in it, not by assessment. Each time an
assessment's report is downloaded or pre-rendered, the keys its reports have now are recorded
(storage.clients.remember_render); deleting the assessment removes the files under every key
recorded, and under the keys it has at that moment.
"""

from __future__ import annotations

from flask import current_app

from ..report import cache_key
from ..storage import clients as store
from . import reports
from .db import get_db


def current_keys(assessment: dict) -> list[str]:
    """The cache keys of the assessment's reports as they would be made now (every variant,
    for the firm and for the client)."""
    keys = []
    for full in (False, True):
        for for_client in (False, True):  # the firm's report, and the client's
            try:
                keys.append(cache_key(reports.report_input(assessment, full=full,
                                                           for_client=for_client)))
            except Exception:  # a report that cannot be put together has nothing cached
                current_app.logger.exception("report key of %s", assessment["id"])
    return keys


def remember(assessment: dict) -> None:
    for key in current_keys(assessment):
        store.remember_render(get_db(), assessment["id"], key)


def remove(keys: list[str]) -> int:
    """Delete the cached PDFs under these keys; returns how many files there were."""
    removed = 0
    for key in set(keys):
        path = reports.cache().path(key)
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
