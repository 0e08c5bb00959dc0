"""The web layer: thin views that parse a form, call the layers below, and redirect."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError

from ..core import plan_text, severity, wording
from ..core.brief import brief
from . import compression, converters, dates, db, health, security, sessions

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    converters.init_app(app)  # first: routes take their converters when they are added
    sessions.init_app(app)
    csrf.init_app(app)
    db.init_app(app)
    security.init_app(app)
    compression.init_app(app)
    dates.init_app(app)
    app.jinja_env.globals["wording"] = wording
    app.jinja_env.globals["plan_text"] = plan_text
    app.jinja_env.globals["brief"] = brief  # the results page opens with the report's brief
    app.jinja_env.globals["severity"] = severity  # the words and colours of bands and findings

    from . import auth, branded, handoff, reports, roadmap_link, wizard, workspace
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(wizard.bp)
    app.register_blueprint(handoff.bp)  # a section answered by the IT provider
    app.register_blueprint(roadmap_link.bp)  # the owner's private view of their roadmap
    auth.init_app(app)  # the login manager and the auth blueprint
    app.register_blueprint(workspace.bp)
    branded.init_app(app)  # a firm's branding and facts on its client's pages
    health.init_app(app)  # /healthz, /readyz, /metrics (and the request metrics)
    app.register_error_handler(CSRFError, wizard.handle_csrf_error)

    @app.before_request
    def refuse_without_bank():
        if app.extensions["bank_error"] is not None and request.endpoint not in health.ENDPOINTS:
            return render_template(
                "error.html", title="This service is being fixed",
                message="The questions could not be loaded. The people running this site can "
                        "see why with: flask bank check"), 503

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title="Page not found",
                               message="There is nothing at this address. Check the link, or "
                                       "start from the home page.",
                               open_assessment=wizard.open_summary()), 404

    @app.errorhandler(405)
    def not_allowed(error):
        return render_template("error.html", title="That did not work",
                               message="This page cannot be used that way. Go back and try "
                                       "again from the form."), 405

    @app.errorhandler(413)
    def too_large(error):
        member = auth.signed_in_member() if request.endpoint == "workspace.save_branding" \
            else None
        if member is not None and member.is_authenticated and member.is_admin:
            return workspace.logo_too_large(request.content_length)  # the page, saying why
        if request.endpoint == "workspace.add_evidence":  # the action's page, saying why
            kept = workspace.roadmap.evidence_too_large(request.content_length)
            if kept is not None:
                return kept
        kept = wizard.too_large()  # a question page: shown again, with what is saved
        if kept is not None:
            return kept
        return render_template("error.html", title="That was too large",
                               message="What you sent is larger than we accept. Try a smaller "
                                       "file or shorter text."), 413

    @app.errorhandler(500)
    def server_error(error):
        # The database being away met where its own handler (web/db.py) could not answer (an
        # error page that reads it, say): still the "we'll be back" page, not a 500.
        kind = db.outage_of(error)
        if kind is not None:
            return db.outage_response(error.original_exception, kind)
        return render_template("error.html", title="Something went wrong on our side",
                               message="Your saved answers are safe. Please try again in a "
                                       "moment."), 500
