"""The audit log never keeps a secret link's token, whole or in part, whatever field it arrives
in (support/audit.py)."""

from __future__ import annotations

import json
import logging
import secrets

from assessment.support.audit import NOT_LOGGED, audit, logger


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[dict] = []

    def emit(self, record):
        self.records.append(json.loads(record.getMessage()))


def captured(*calls) -> list[dict]:
    handler = Lines()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        for event, fields in calls:
            audit(event, **fields)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return handler.records


def test_a_token_pasted_where_an_id_goes_is_not_logged_at_all():
    token = secrets.token_urlsafe(32)
    [line] = captured(("access_denied", {"reason": "no such assessment in this firm",
                                          "assessment": token[:40], "member": 7}))
    assert line["assessment"] == NOT_LOGGED
    assert token[:12] not in json.dumps(line)
    assert line["member"] == 7 and line["reason"] == "no such assessment in this firm"


def test_ids_emails_and_ordinary_values_are_logged_as_they_are():
    fields = {"assessment": "q3VJ0xYd1sKf8aQe", "member": 3,
              "email": "a.very.long.mailbox_name_indeed@example.com",
              "time_zone": "America/Argentina/Buenos_Aires"}
    [line] = captured(("assessment_finished", fields))
    assert line["assessment"] == "q3VJ0xYd1sKf8aQe"
    assert line["email"] == "a.very.long.mailbox_name_indeed@example.com"
    assert line["time_zone"] == "America/Argentina/Buenos_Aires"
