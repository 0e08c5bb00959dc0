"""Request logs without secrets: resume, claim and invite links carry a token in their path, so
it is replaced by "…" before a line is written. `RedactingLogger` does it for gunicorn's access
log (`make serve`); `redact_request_logs` for werkzeug's request log (the development server of
`make run`) and Flask's "Exception on PATH" lines."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from flask import Flask
from gunicorn.glogging import Logger

from ..support.private_files import create_file, make_folder

# The owner's roadmap link (/roadmap/<token>) only at the start of a path: the workspace's
# /workspace/clients/<id>/roadmap/... holds no secret.
SECRET_PATHS = re.compile(r"(/(?:assessment/resume|claim|account/invite|answer-for)/"
                          r"|(?<![\w.-])/roadmap/)[^/?\s]+")


def redact(path: str) -> str:
    return SECRET_PATHS.sub(r"\1…", path)


QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes: logged only when not OK


class RedactingLogger(Logger):
    def _set_handler(self, log, output, fmt, stream=None):
        """A log file gunicorn is to write (ITHEALTH_ACCESS_LOG) is made here first, readable
        and writable by the service user only: its lines hold visitors' addresses, and gunicorn
        itself would make it as the umask says (commonly readable by every local user)."""
        if output is not None and output != "-":
            make_folder(Path(output).parent)
            try:
                os.close(create_file(output))
            except FileExistsError:  # kept as it is: rotated, or /dev/null
                pass
        super()._set_handler(log, output, fmt, stream=stream)

    def access(self, resp, req, environ, request_time):
        status = getattr(resp, "status_code", None) or 0
        if getattr(req, "path", None) in QUIET_PATHS and 200 <= int(status) < 300:
            return  # a load balancer's probe every few seconds is noise
        super().access(resp, req, environ, request_time)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


class RedactingFilter(logging.Filter):
    """Rewrites a record whose message holds a secret path; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SECRET_PATHS.search(message):
            record.msg, record.args = redact(message), ()
        return True


_REDACTING_FILTER = RedactingFilter()


def redact_request_logs(app: Flask) -> None:
    # A filter on a logger sees the records made by that logger (before any handler does);
    # adding the same one again changes nothing.
    for logger in (logging.getLogger("werkzeug"), app.logger):
        logger.addFilter(_REDACTING_FILTER)
