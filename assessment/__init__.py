"""IT Health Assessment: the application factory."""

from __future__ import annotations

import sys

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .core.bank import BankError, load_bank
from .core.prices import default_price_list
from .storage import CannotConnect, accounts, connect, describe, migrate
from .storage.copy import CopiedTo, copied_to
from .storage.engines import unavailable
from .support import config, sealed
from .support.redact import redact, redact_logs

# The commands that still start on a SQLite file copied to PostgreSQL: going back to it on
# purpose, saying that it was copied already, and taking a backup of it.
ON_A_COPIED_FILE = (("db", "reopen"), ("db", "copy"), ("db", "backup"))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(config.PROJECT_ROOT / "instance"),
                instance_relative_config=True)
    redact_logs(app.logger)  # no password of a database or queue URL in any log line
    app.config.from_mapping(config.defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ITHEALTH")
    if test_config:
        app.config.update(test_config)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy: trust its X-Forwarded-For/Proto/Host (client address for the
        # sign-in rate limit, https for Secure cookies and HSTS), and only from that many hops.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    config.check_secret_key(app.config)  # a ConfigError, like a database it cannot reach
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = config.instance_secret(app.instance_path)
    app.config["SECRET_KEY_FALLBACKS"] = config.key_fallbacks(app.config["SECRET_KEY_FALLBACKS"])
    # Two-step secrets are sealed at rest under a key made from the secret key (support/sealed.py).
    sealed.configure(app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"])

    # The bank is loaded and validated once. A broken bank does not stop `flask bank check` from
    # explaining what is wrong, but the web layer refuses to serve pages with it. The same goes
    # for the shipped price list (a PriceListError is a BankError).
    try:
        app.extensions["bank"] = load_bank(app.config["BANK_DIR"])
        default_price_list()
        app.extensions["bank_error"] = None
    except BankError as error:
        app.extensions["bank"] = None
        app.extensions["bank_error"] = error
        app.logger.error("The question bank is not valid:\n%s", error)
    target = config.database(app.config)
    db = connect(target, patient=True)  # migrations may take long on a large database
    try:
        migrate(db)
        mark = copied_to(db)
        if mark is not None and _command() not in ON_A_COPIED_FILE:
            raise config.ConfigError(_copied_message(target, mark))
        accounts.seal_two_step_secrets(db)  # any from before sealing, or under a rotated key
    except Exception as error:
        # Connected, but away by the time it was asked (or a pool this process already had):
        # the same message as a database that could not be reached at all.
        if unavailable(error) is None or isinstance(error, CannotConnect):
            raise
        raise CannotConnect(f"cannot connect to {describe(target)}: "
                            f"{redact(str(error).strip())}") from None
    finally:
        db.close()

    from . import cli, web
    from .report import configure_pool, configure_queue
    from .support import audit
    from .web.access_log import redact_request_logs

    audit.configure(app)
    redact_request_logs(app)
    configure_pool(workers=int(app.config["REPORT_WORKERS"]),
                   timeout=float(app.config["REPORT_TIMEOUT"]),
                   memory_mb=int(app.config["REPORT_MEMORY_MB"]),
                   queue_limit=int(app.config["REPORT_QUEUE_LIMIT"]))
    configure_queue(app.config["RENDER_QUEUE"], limit=int(app.config["REPORT_QUEUE_LIMIT"]),
                    wait=float(app.config["REPORT_QUEUE_WAIT"]), secret=app.config["SECRET_KEY"])

    web.init_app(app)
    cli.init_app(app)
    return app


def _copied_message(path: str, mark: CopiedTo) -> str:
    return (f"The SQLite database {path} was copied to {mark.url} on {mark.when()} (flask db "
            "copy): the app now runs on PostgreSQL, and answers saved there since are not in "
            "this file. Set ITHEALTH_DATABASE_URL to that database and start again. To go back "
            "to this file on purpose, run:\n    flask --app app db reopen")


def _command() -> tuple[str, ...]:
    """The command this process runs when it is the `flask` command line loading the app
    (("db", "reopen")), else (). Flask loads the app before it looks the command up, and keeps
    no record of which one it is, so the words are read from the command line."""
    if click.get_current_context(silent=True) is None:
        return ()
    words: list[str] = []
    args = iter(sys.argv[1:])
    for arg in args:
        if arg in ("--app", "-A", "--env-file", "-e"):
            next(args, None)  # the option's value
        elif not arg.startswith("-"):
            words.append(arg)
    return tuple(words[:2])
