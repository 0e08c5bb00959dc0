"""Security headers on every response: every route in the URL map (pages, redirects, 405s, the
PDF and JSON downloads, a static file), a 404 and a 500. Plus the session cookie's flags, error
pages that give nothing away, and a download name that cannot break its header.

A new route fails `test_every_route_has_a_case` until it gets an entry in `cases()`.

Every test that reaches the database runs on SQLite and on PostgreSQL; the shared `world` is made
once for each.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from PIL import Image

from assessment import create_app
from assessment.core.actions import Action
from assessment.core.review import build_review
from assessment.report import shutdown_pool
from assessment.report.html import font_version
from assessment.storage import accounts, actions, connect, evidence, set_status
from assessment.storage import clients as store
from assessment.storage import reviews as review_store
from assessment.support.branding import clean_logo
from assessment.support.config import database

from .workspace_fixtures import csrf_token, make_member, sign_in

pytestmark = pytest.mark.both_backends

NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=_-]+)'")
TAG_NONCE = re.compile(r"<(script|style)\b([^>]*)>", re.I)
LEAKS = ("Traceback", "Werkzeug", "werkzeug", 'File "', "RuntimeError", "NotFound",
         "MethodNotAllowed", "InternalServerError", "site-packages", "jinja2")
REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin",
                     "strict-origin-when-cross-origin"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, module_database_url):
    """A firm admin signed in, with a client, an interview, a logo, open invite and claim links,
    and an owner with an assessment open and its resume token."""
    folder = tmp_path_factory.mktemp("headers")
    app = create_app({"TESTING": True, "SECRET_KEY": "headers-secret",
                      "DATABASE": str(folder / "h.sqlite"), "DATABASE_URL": module_database_url,
                      "REPORT_DIR": str(folder / "r")})
    admin = make_member(app)
    member = app.test_client()
    assert sign_in(member, admin["email"], admin["password"]).status_code == 303
    picture = io.BytesIO()
    Image.new("RGB", (40, 20), "#0d5c63").save(picture, format="PNG")
    db = connect(database(app.config))
    try:
        client_id = store.create_client(db, admin["firm_id"], name="Harbour Dental")
        assessment_id = store.start_client_assessment(
            db, app.extensions["bank"], admin["firm_id"], client_id, mode="interview",
            created_by=admin["user_id"])
        claim = store.create_claim_link(db, admin["firm_id"], admin["user_id"])
        invite = accounts.create_invite(db, admin["firm_id"], admin["user_id"])
        action_id = actions.add_action(db, admin["firm_id"], Action(
            id=None, client_id=client_id, title="Turn on two-step sign-in", why="",
            workstream="", party="provider"), who="test", on=date(2026, 10, 1))
        review_id = review_store.create_review(db, admin["firm_id"], client_id,
                                               date(2026, 10, 1), date(2026, 12, 31),
                                               admin["user_id"])
        review_store.lock_review(db, admin["firm_id"], review_id, build_review(
            client_name="Harbour Dental", actions=[], events={}, scores=[],
            period_start=date(2026, 10, 1), period_end=date(2026, 12, 31),
            today=date(2027, 1, 5)).to_json(), b"%PDF-1.7 stored pack", "Ana")
        evidence_id = evidence.add_file(
            db, admin["firm_id"], action_id, name="proof.pdf", content_type="application/pdf",
            body=b"%PDF-1.4 proof", added_by="test")
        accounts.update_branding(db, admin["firm_id"], name="Northgate IT",
                                 logo=clean_logo(picture.getvalue()))
    finally:
        db.close()
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    assert owner.post("/assessment/start",
                      data={"csrf_token": csrf_token(landing)}).status_code == 303
    with owner.session_transaction() as session:
        resume = session["resume_token"]
        owner_assessment = session["assessment_id"]
    db = connect(database(app.config))
    try:  # finished: its report is there to download (before, the report sends to check answers)
        set_status(db, owner_assessment, "finished")
    finally:
        db.close()
    yield {"app": app, "member": member, "owner": owner, "admin": admin,
           "client_id": client_id, "assessment_id": assessment_id, "claim": claim,
           "invite": invite, "resume": resume, "action_id": action_id,
           "evidence_id": evidence_id, "review_id": review_id}
    shutdown_pool()


def _logo_url(w) -> str:
    """The address of the firm's logo that its client's pages give out (signed)."""
    from assessment.web import branded

    with w["app"].test_request_context():
        return branded.look_of(w["admin"]["firm_id"]).logo_url


def cases(w) -> dict[str, tuple[str, str, str]]:
    """Endpoint -> (who, method, URL). who: member (the signed-in admin), owner (an assessment
    open), anon (a new browser). A POST-only route is asked with GET (a 405 has headers too);
    where the same URL also answers GET, it is POSTed without a CSRF token (a 400 page)."""
    c, a, r = w["client_id"], w["assessment_id"], w["review_id"]
    user = w["admin"]["user_id"]
    return {
        "static": ("anon", "GET", "/static/app.css"),
        "report_assets.font": ("anon", "GET",
                               f"/static/report-fonts/{font_version()}/Inter-Regular.otf"),
        "public.landing": ("anon", "GET", "/"),
        "public.claim": ("owner", "GET", f"/claim/{w['claim']}"),
        "public.claim_confirm": ("owner", "POST", f"/claim/{w['claim']}"),
        "auth.login": ("anon", "GET", "/account/sign-in"),
        "auth.logout": ("anon", "GET", "/account/sign-out"),
        "auth.second_factor": ("member", "GET", "/account/two-step"),
        "auth.totp_setup": ("member", "GET", "/account/two-step/setup"),
        "auth.account": ("member", "GET", "/account/"),
        "auth.change_password": ("member", "GET", "/account/password"),
        "auth.accept_invite": ("anon", "GET", f"/account/invite/{w['invite']}"),
        "auth.members": ("member", "GET", "/account/members"),
        "auth.invite": ("member", "GET", "/account/members/invite"),
        "auth.set_member_active": ("member", "GET", f"/account/members/{user}/active"),
        "auth.reset_member_totp": ("member", "GET", f"/account/members/{user}/reset-two-step"),
        "auth.require_totp": ("member", "GET", "/account/members/two-step"),
        "wizard.start": ("anon", "GET", "/assessment/start"),
        "wizard.resume": ("anon", "GET", f"/assessment/resume/{w['resume']}"),
        "wizard.resume_open": ("anon", "POST", f"/assessment/resume/{w['resume']}"),
        "brand.logo": ("anon", "GET", _logo_url(w)),
        "wizard.no_session": ("anon", "GET", "/assessment/none"),
        "workspace.promises": ("member", "GET", f"/workspace/assessments/{a}/promises"),
        "workspace.reviews": ("member", "GET", f"/workspace/clients/{c}/reviews"),
        "workspace.start_review": ("member", "POST", f"/workspace/clients/{c}/reviews"),
        "workspace.review": ("member", "GET", f"/workspace/clients/{c}/reviews/{r}"),
        "workspace.update_review": ("member", "POST", f"/workspace/clients/{c}/reviews/{r}"),
        "workspace.review_decide": ("member", "GET", f"/workspace/clients/{c}/reviews/{r}/decide"),
        "workspace.lock_review": ("member", "GET", f"/workspace/clients/{c}/reviews/{r}/lock"),
        "workspace.review_pdf": ("member", "GET", f"/workspace/clients/{c}/reviews/{r}.pdf"),
        "workspace.roadmap": ("member", "GET", f"/workspace/clients/{c}/roadmap"),
        "workspace.roadmap_json": ("member", "GET", f"/workspace/clients/{c}/roadmap.json"),
        "workspace.roadmap_csv": ("member", "GET", f"/workspace/clients/{c}/roadmap.csv"),
        "workspace.portfolio": ("member", "GET", "/workspace/portfolio"),
        "workspace.roadmap_bulk": ("member", "GET", f"/workspace/clients/{c}/roadmap/bulk"),
        "workspace.action": ("member", "GET", f"/workspace/actions/{w['action_id']}"),
        "workspace.move_action": ("member", "GET", f"/workspace/actions/{w['action_id']}/move"),
        "workspace.action_details": ("member", "GET",
                                     f"/workspace/actions/{w['action_id']}/details"),
        "workspace.add_evidence": ("member", "GET",
                                   f"/workspace/actions/{w['action_id']}/evidence"),
        "workspace.evidence_file": ("member", "GET", f"/workspace/evidence/{w['evidence_id']}"),
        "workspace.create_roadmap_link": ("member", "GET", f"/workspace/clients/{c}/roadmap-link"),
        "workspace.cancel_roadmap_link": ("member", "GET", "/workspace/roadmap-links/x/cancel"),
        "roadmap_link.view": ("anon", "GET", "/roadmap/no-such-link"),
        "roadmap_link.mark_done": ("anon", "GET", "/roadmap/no-such-link/actions/1/done"),
        "roadmap_link.comment": ("anon", "GET", "/roadmap/no-such-link/actions/1/comment"),
        "roadmap_link.add_evidence": ("anon", "GET", "/roadmap/no-such-link/actions/1/evidence"),
        "wizard.start_again": ("owner", "GET", "/assessment/start-again"),
        "wizard.switch": ("owner", "GET", "/assessment/switch"),
        "wizard.hub": ("owner", "GET", "/assessment/"),
        "wizard.section": ("owner", "GET", "/assessment/section/profile"),
        "wizard.promises": ("owner", "GET", "/assessment/promises"),
        "wizard.autosave": ("owner", "GET", "/assessment/answer"),
        "wizard.review": ("owner", "GET", "/assessment/review"),
        "wizard.finish": ("owner", "GET", "/assessment/finish"),
        "wizard.results": ("owner", "GET", "/assessment/results"),
        "wizard.report_pdf": ("owner", "GET", "/assessment/report.pdf"),
        "wizard.report_html": ("owner", "GET", "/assessment/report"),
        "wizard.answers_json": ("owner", "GET", "/assessment/answers.json"),
        "wizard.leave": ("owner", "GET", "/assessment/leave"),
        "wizard.replace_link": ("owner", "GET", "/assessment/link/replace"),
        "handoff.start": ("owner", "GET", "/assessment/section/backup/hand-off"),
        "handoff.replace": ("owner", "GET", "/assessment/section/backup/hand-off/replace"),
        "handoff.cancel": ("owner", "GET", "/assessment/section/backup/hand-off/cancel"),
        "handoff.query": ("owner", "GET",
                          "/assessment/section/backup/hand-off/query/backup.automatic"),
        "handoff.answer": ("anon", "GET", "/answer-for/no-such-link"),
        "handoff.autosave": ("anon", "GET", "/answer-for/no-such-link/answer"),
        "workspace.clients": ("member", "GET", "/workspace/"),
        "workspace.create_client": ("member", "GET", "/workspace/clients"),
        "workspace.client": ("member", "GET", f"/workspace/clients/{c}"),
        "workspace.update_client": ("member", "POST", f"/workspace/clients/{c}"),
        "workspace.start_interview": ("member", "GET", f"/workspace/clients/{c}/interview"),
        "workspace.send_self_assessment": ("member", "GET",
                                           f"/workspace/clients/{c}/self-assessment"),
        "workspace.renew": ("member", "GET", f"/workspace/clients/{c}/renew"),
        "workspace.claim_link": ("member", "GET", f"/workspace/clients/{c}/claim-link"),
        "workspace.claim_link_new_client": ("member", "GET", "/workspace/claim-link"),
        "workspace.assessment": ("member", "GET", f"/workspace/assessments/{a}"),
        "workspace.interview": ("member", "GET", f"/workspace/assessments/{a}/interview/backup"),
        "workspace.autosave": ("member", "GET", f"/workspace/assessments/{a}/answer"),
        "workspace.report_pdf": ("member", "GET", f"/workspace/assessments/{a}/report.pdf"),
        "workspace.report_html": ("member", "GET", f"/workspace/assessments/{a}/report"),
        "workspace.finish": ("member", "GET", f"/workspace/assessments/{a}/finish"),
        "workspace.reopen": ("member", "GET", f"/workspace/assessments/{a}/reopen"),
        "workspace.cancel_self_link": ("member", "GET", f"/workspace/assessments/{a}/link/cancel"),
        "workspace.replace_self_link": ("member", "GET",
                                        f"/workspace/assessments/{a}/link/replace"),
        "workspace.cancel_claim_link": ("member", "GET", "/workspace/claim-links/x/cancel"),
        "workspace.replace_claim_link": ("member", "GET", "/workspace/claim-links/x/replace"),
        "workspace.archive_client": ("member", "GET", f"/workspace/clients/{c}/archive"),
        "workspace.delete_client": ("member", "GET", f"/workspace/clients/{c}/delete"),
        "workspace.archive_assessment": ("member", "GET", f"/workspace/assessments/{a}/archive"),
        "workspace.delete_assessment": ("member", "GET", f"/workspace/assessments/{a}/delete"),
        "auth.cancel_invite": ("member", "GET", "/account/members/invites/x/cancel"),
        "auth.replace_invite": ("member", "GET", "/account/members/invites/x/replace"),
        "workspace.compare_view": ("member", "GET",
                                   f"/workspace/clients/{c}/compare?a={a}&b={a}"),
        "workspace.export_client": ("member", "GET", f"/workspace/clients/{c}/export.json"),
        "workspace.export_client_csv": ("member", "GET", f"/workspace/clients/{c}/answers.csv"),
        "workspace.export_firm": ("member", "GET", "/workspace/export.json"),
        "workspace.branding": ("member", "GET", "/workspace/branding"),
        "workspace.save_branding": ("member", "POST", "/workspace/branding"),
        "workspace.branding_logo": ("member", "GET", "/workspace/branding/logo"),
        "workspace.branding_preview": ("member", "GET", "/workspace/branding/preview.pdf"),
        "workspace.prices": ("member", "GET", "/workspace/prices"),
        "workspace.save_prices": ("member", "POST", "/workspace/prices"),
        "workspace.settings": ("member", "GET", "/workspace/settings"),
        "workspace.save_settings": ("member", "POST", "/workspace/settings"),
        "health.healthz": ("anon", "GET", "/healthz"),
        "health.readyz": ("anon", "GET", "/readyz"),
        "health.metrics": ("anon", "GET", "/metrics"),  # no token configured: a 404
    }


# What some answers must be, so the walk really reaches the downloads and the 405s.
EXPECTED_STATUS = {
    "static": 200, "report_assets.font": 200, "wizard.report_pdf": 200, "workspace.report_pdf": 200,
    "workspace.branding_preview": 200, "wizard.answers_json": 200,
    "workspace.export_client": 200, "workspace.export_firm": 200,
    "workspace.export_client_csv": 200, "workspace.branding_logo": 200,
    "wizard.report_html": 200, "workspace.report_html": 200, "workspace.branding": 200,
    "auth.members": 200, "wizard.section": 200, "public.claim": 200,
    "auth.accept_invite": 200, "workspace.update_client": 400,
    "workspace.save_branding": 400, "public.claim_confirm": 400,
    "workspace.prices": 200, "workspace.save_prices": 400, "brand.logo": 200,
    "workspace.settings": 200, "workspace.save_settings": 400,
    "health.healthz": 200, "health.readyz": 200, "health.metrics": 404,
    "workspace.roadmap": 200, "workspace.action": 200, "workspace.evidence_file": 200,
    "workspace.reviews": 200, "workspace.review": 200, "workspace.review_pdf": 200,
    "workspace.roadmap_json": 200, "workspace.roadmap_csv": 200, "workspace.portfolio": 200,
}


def request(w, who: str, method: str, url: str, base_url: str = "http://localhost"):
    browser = w[who] if who != "anon" else w["app"].test_client()
    return browser.open(url, method=method, base_url=base_url)


def csp_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def nonce_of(response) -> str:
    directives = csp_of(response)
    script = [NONCE.fullmatch(s) for s in directives.get("script-src", [])]
    style = [NONCE.fullmatch(s) for s in directives.get("style-src", [])]
    script = [m.group(1) for m in script if m]
    style = [m.group(1) for m in style if m]
    assert len(script) == 1, f"script-src has no single nonce: {directives.get('script-src')}"
    assert style == script, f"style-src has not the same nonce: {directives.get('style-src')}"
    return script[0]


def check_headers(response, label: str, *, https: bool = False) -> str:
    """Every header the quality bar asks for; returns the CSP nonce."""
    headers = response.headers
    raw_csp = headers.get("Content-Security-Policy", "")
    directives = csp_of(response)
    nonce = nonce_of(response)
    assert directives.get("object-src") == ["'none'"], label
    assert directives.get("base-uri") == ["'none'"], label
    assert directives.get("frame-ancestors") == ["'none'"], label
    assert "unsafe-inline" not in raw_csp and "unsafe-eval" not in raw_csp, label
    assert "*" not in directives.get("script-src", []), label
    assert headers.get("X-Content-Type-Options") == "nosniff", label
    assert headers.get("Referrer-Policy") in REFERRER_POLICIES, \
        f"{label}: Referrer-Policy {headers.get('Referrer-Policy')!r}"
    assert "camera=()" in headers.get("Permissions-Policy", ""), label
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", label
    if not label.startswith(("static", "report_assets.font")):  # kept: the address changes
        cache = [d.strip().lower() for d in headers.get("Cache-Control", "").split(",")]
        assert "no-store" in cache, f"{label}: Cache-Control {headers.get('Cache-Control')!r}"
    hsts = headers.get("Strict-Transport-Security")
    if https:
        assert hsts and re.search(r"max-age=(\d+)", hsts) \
            and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 15552000, \
            f"{label}: HSTS {hsts!r} over HTTPS"
    else:
        assert hsts is None, f"{label}: HSTS sent over plain HTTP"
    if response.mimetype == "text/html":
        page = response.get_data(as_text=True)
        for tag, attributes in TAG_NONCE.findall(page):
            assert f'nonce="{nonce}"' in attributes, \
                f"{label}: a <{tag}> without this response's nonce"
    return nonce


def check_error_page(response, label: str, *hidden: str) -> None:
    page = response.get_data(as_text=True)
    for leak in LEAKS + hidden:
        assert leak not in page, f"{label}: the error page shows {leak!r}"


# ---- every route -----------------------------------------------------------------------------


def test_every_route_has_a_case(world):
    endpoints = {rule.endpoint for rule in world["app"].url_map.iter_rules()}
    missing = endpoints - set(cases(world))
    assert not missing, f"routes without a headers case: {sorted(missing)}"
    stale = set(cases(world)) - endpoints
    assert not stale, f"cases for routes that are gone: {sorted(stale)}"


def test_every_route_sends_the_security_headers_with_a_fresh_nonce(world):
    app = world["app"]
    methods = {rule.endpoint: rule.methods - {"HEAD", "OPTIONS"}
               for rule in app.url_map.iter_rules()}
    for endpoint, (who, method, url) in cases(world).items():
        label = f"{endpoint} ({method} {url})"
        first = request(world, who, method, url)
        assert first.status_code < 500, f"{label}: {first.status_code}"
        if method not in methods[endpoint]:
            assert first.status_code == 405, f"{label}: expected 405, got {first.status_code}"
            check_error_page(first, label)
        if endpoint in EXPECTED_STATUS:
            assert first.status_code == EXPECTED_STATUS[endpoint], \
                f"{label}: {first.status_code}"
        nonce = check_headers(first, label)
        second = request(world, who, method, url)
        assert check_headers(second, label) != nonce, f"{label}: the nonce did not change"


def test_hsts_over_https_on_every_route(world):
    for endpoint, (who, method, url) in cases(world).items():
        response = request(world, who, method, url, base_url="https://localhost")
        assert response.status_code < 500, f"{endpoint}: {response.status_code}"
        check_headers(response, f"{endpoint} over HTTPS", https=True)


def test_downloads_say_what_they_are(world):
    for endpoint, mimetype in (("wizard.report_pdf", "application/pdf"),
                               ("workspace.report_pdf", "application/pdf"),
                               ("workspace.branding_preview", "application/pdf"),
                               ("wizard.answers_json", "application/json"),
                               ("workspace.export_client", "application/json"),
                               ("workspace.export_firm", "application/json"),
                               ("workspace.export_client_csv", "text/csv"),
                               ("workspace.review_pdf", "application/pdf"),
                               ("workspace.roadmap_json", "application/json"),
                               ("workspace.roadmap_csv", "text/csv"),
                               ("workspace.evidence_file", "application/pdf")):
        who, method, url = cases(world)[endpoint]
        response = request(world, who, method, url)
        assert response.status_code == 200 and response.mimetype == mimetype, endpoint
        disposition = response.headers.get("Content-Disposition", "")
        assert disposition.startswith("attachment;"), f"{endpoint}: {disposition!r}"


# ---- errors ----------------------------------------------------------------------------------


def test_404_has_headers_and_no_details(world):
    for base_url, https in (("http://localhost", False), ("https://localhost", True)):
        response = world["app"].test_client().get("/no/such/page", base_url=base_url)
        assert response.status_code == 404
        check_headers(response, "404", https=https)
        check_error_page(response, "404")


def test_405_has_headers_and_no_details(world):
    response = world["app"].test_client().get("/assessment/start")
    assert response.status_code == 405
    check_headers(response, "405")
    check_error_page(response, "405")


def test_500_has_headers_and_no_traceback(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "PROPAGATE_EXCEPTIONS": False,
                      "DATABASE": str(tmp_path / "e.sqlite"),
                      "REPORT_DIR": str(tmp_path / "r")})
    secret = "kaboom-internal-detail-8731"

    def explode():
        raise RuntimeError(secret)

    app.add_url_rule("/test-only/explode", "test_only_explode", explode)
    for base_url, https in (("http://localhost", False), ("https://localhost", True)):
        response = app.test_client().get("/test-only/explode", base_url=base_url)
        assert response.status_code == 500
        check_headers(response, "500", https=https)
        check_error_page(response, "500", secret)
        assert "Something went wrong" in response.get_data(as_text=True)


# ---- cookies ---------------------------------------------------------------------------------


def _session_cookie(response, name: str = "session") -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]
    assert cookies, f"no {name} cookie set"
    return cookies[-1]


def _flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(tmp_path, database_url, secure):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SESSION_COOKIE_SECURE": secure,
                      "DATABASE": str(tmp_path / "c.sqlite"),
                      "REPORT_DIR": str(tmp_path / "r")})
    base_url = "https://localhost" if secure else "http://localhost"
    # Over HTTPS, Flask-WTF also wants a same-origin Referer on every POST.
    referer = {"Referer": base_url + "/"}
    owner = app.test_client()
    landing = owner.get("/", base_url=base_url)
    started = owner.post("/assessment/start", base_url=base_url, headers=referer,
                         data={"csrf_token": csrf_token(landing.get_data(as_text=True))})
    assert started.status_code == 303
    admin = make_member(app)
    member = app.test_client()
    page = member.get("/account/sign-in", base_url=base_url).get_data(as_text=True)
    signed = member.post("/account/sign-in", base_url=base_url, headers=referer, data={
        "csrf_token": csrf_token(page), "email": admin["email"], "password": admin["password"]})
    assert signed.status_code == 303
    for label, response in (("owner start", started), ("sign-in", signed)):
        flags = _flags(_session_cookie(response))
        assert "httponly" in flags, f"{label}: {flags}"
        assert "samesite=lax" in flags, f"{label}: {flags}"
        assert ("secure" in flags) == secure, f"{label}: {flags}"


# ---- the download name -----------------------------------------------------------------------


def test_business_name_cannot_break_the_pdf_download_header(world):
    app = world["app"]
    owner = app.test_client()
    landing = owner.get("/").get_data(as_text=True)
    owner.post("/assessment/start", data={"csrf_token": csrf_token(landing)})
    page = owner.get("/assessment/section/profile").get_data(as_text=True)
    saved = owner.post("/assessment/section/profile", data={
        "csrf_token": csrf_token(page), "q_profile__business_name": 'a"b\r\nX: 1',
        "v_q_profile__business_name": "0"})
    assert saved.status_code == 303
    with owner.session_transaction() as session:
        assessment_id = session["assessment_id"]
    db = connect(database(app.config))
    try:  # a report is made once the assessment is finished
        set_status(db, assessment_id, "finished")
    finally:
        db.close()
    response = owner.get("/assessment/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    check_headers(response, "PDF with a hostile name")
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.isascii() and disposition.isprintable()
    assert "X" not in response.headers, "the business name added a header"
    assert disposition.startswith("attachment; ")
    assert disposition.count("filename=") == 1 and disposition.count("filename*=") == 1
    fallback = re.search(r'filename="([^"]*)"', disposition).group(1)
    assert '"' not in fallback and "\\" not in fallback
    assert re.search(r"filename\*=UTF-8''[A-Za-z0-9!#$&+\-.^_`|~%]+(;|$)", disposition), \
        disposition
    assert "a%22b%20X%3A%201.pdf" in disposition
