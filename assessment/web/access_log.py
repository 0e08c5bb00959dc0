"""gunicorn's access log without secrets: resume, claim and invite links carry a token in their
path, so it is replaced by "…" before the line is written."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

SECRET_PATHS = re.compile(r"(/(?:assessment/resume|claim|account/invite)/)[^/?\s]+")


def redact(path: str) -> str:
    return SECRET_PATHS.sub(r"\1…", path)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
