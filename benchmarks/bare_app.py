"""Our app with two more pages that do no page work: what the layers every request passes through
(session cookie, CSRF check, security headers, sign-in manager) cost before any page's own work,
and the least any answer save can cost here. Served by bench_wizard.py beside the minimal Flask
app."""

from flask import jsonify, request

from assessment import create_app
from assessment.storage.times import stamp
from assessment.web import owner
from assessment.web.db import get_db

app = create_app()


@app.get("/benchmark/bare")
def bare():
    owner.current()  # the owner's assessment, as every wizard page reads it
    return "ok"


@app.post("/benchmark/durable")
def durable():
    """The smallest durable save: the CSRF check every POST passes, the JSON body read, then one
    row updated and on disk before the reply, committed as an answer save commits."""
    assessment = owner.current()
    request.get_json()
    get_db().write_together(lambda db: db.execute(
        "UPDATE assessments SET updated_at = ? WHERE id = ?", [stamp(), assessment["id"]]))
    return jsonify(saved=True)
