"""Our app with one more page that does nothing: what the layers every request passes through
(session cookie, CSRF check, security headers, sign-in manager) cost before any page's own work.
Served by bench_wizard.py beside the minimal Flask app."""

from assessment import create_app
from assessment.web import owner

app = create_app()


@app.get("/benchmark/bare")
def bare():
    owner.current()  # the owner's assessment, as every wizard page reads it
    return "ok"
