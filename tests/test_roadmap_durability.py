"""Nothing of the roadmap is lost: a move, a details edit and a piece of evidence that the
server acknowledged are all in the database after the server is killed with SIGKILL straight
after answering (no shutdown, no chance to flush anything), as answers are
(test_durability.py). A real server process on a real SQLite file, driven over HTTP."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta

from assessment import create_app
from assessment.core.actions import Action, Status
from assessment.storage import actions, clients, connect, evidence

from .conftest import ROOT
from .test_serving import free_port
from .workspace_fixtures import make_member

SERVE = """
import sys
from werkzeug.serving import make_server
from assessment import create_app
app = create_app({"SECRET_KEY": "kill-test", "DATABASE": sys.argv[1],
                  "REPORT_DIR": sys.argv[1] + "-reports"})
make_server("127.0.0.1", int(sys.argv[2]), app, threaded=True).serve_forever()
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 303 is the acknowledgement: look at it, do not follow it


def start(database: str, port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-c", SERVE, database, str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    server.kill()
    raise AssertionError("the server did not start")


def test_acknowledged_roadmap_changes_survive_kill_9(tmp_path):
    database = str(tmp_path / "kill.sqlite")
    app = create_app({"TESTING": True, "SECRET_KEY": "kill-test", "DATABASE": database,
                      "REPORT_DIR": str(tmp_path / "r")})
    member = make_member(app)
    db = connect(database)
    client = clients.create_client(db, member["firm_id"], name="Harbour Dental")
    action_id = actions.add_action(db, member["firm_id"], Action(
        id=None, client_id=client, title="Turn on two-step sign-in", why="", workstream="",
        party="provider"), who="test", on=date.today())
    db.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def post(path: str, fields: dict, page: str) -> int:
        html = browser.open(base + page).read().decode()
        token = re.search(r'name="csrf_token"[^>]*? value="([^"]+)"', html).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, **fields}).encode()
        try:
            return browser.open(base + path, data=body).status
        except urllib.error.HTTPError as answer:
            return answer.code

    due = (date.today() + timedelta(days=30)).isoformat()
    page = f"/workspace/actions/{action_id}"
    steps = [
        (f"{page}/move", {"to": "agreed", "due": due, "person": "Sam at Acme IT"}),
        (f"{page}/details", {"person": "Sam at Acme IT", "ticket": "INC-1042",
                             "notes": "Licences ordered", "actual_cost": ""}),
        (f"{page}/evidence", {"link": "https://tickets.example/INC-1042", "name": "Ticket"}),
    ]
    server = start(database, port)
    try:
        assert post("/account/sign-in", {"email": member["email"],
                                         "password": member["password"]},
                    "/account/sign-in") == 303
        for path, fields in steps:
            assert post(path, fields, page) == 303, path
            os.kill(server.pid, signal.SIGKILL)  # straight after the acknowledgement
            server.wait()
            server = start(database, port)  # the session cookie is still good
    finally:
        server.kill()
        server.wait()

    db = connect(database)
    try:
        kept = actions.get_action(db, member["firm_id"], action_id)
        assert kept.status is Status.AGREED and kept.original_due.isoformat() == due
        assert kept.ticket == "INC-1042" and kept.notes == "Licences ordered"
        history = actions.action_events(db, member["firm_id"], action_id)
        assert [e.to_status for e in history] == [Status.PROPOSED, Status.AGREED,
                                                  Status.AGREED]
        links = evidence.action_evidence(db, member["firm_id"], action_id)
        assert [row["url"] for row in links] == ["https://tickets.example/INC-1042"]
        assert db.integrity_ok()
    finally:
        db.close()
