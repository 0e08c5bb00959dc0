"""The application factory: configuration order, secret key, headers, error pages. The tests
of pages run on SQLite and on PostgreSQL; those of configuration make an app of their own on a
SQLite file."""

from __future__ import annotations

import pytest

from assessment import create_app

pytestmark = pytest.mark.both_backends


def test_config_order_defaults_instance_env_test(tmp_path, monkeypatch):
    """Environment variables override defaults; the test mapping overrides both."""
    monkeypatch.setenv("ITHEALTH_DATABASE", str(tmp_path / "env.sqlite"))
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["DATABASE"] == str(tmp_path / "env.sqlite")
    app = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "test.sqlite")})
    assert app.config["DATABASE"] == str(tmp_path / "test.sqlite")
    assert not app.debug


def test_landing_page_explains_the_assessment(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "No account needed" in page
    assert "Backups and getting your data back" in page


def test_security_headers_on_pages_and_errors(client):
    for path, status in (("/", 200), ("/no-such-page", 404)):
        response = client.get(path)
        assert response.status_code == status
        csp = response.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "'nonce-" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_not_found_page_is_friendly(client):
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "Page not found" in page and "Traceback" not in page


def test_broken_bank_refuses_to_serve_but_says_how_to_check(tmp_path):
    (tmp_path / "bank.yaml").write_text("id: [broken\n")
    app = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "d.sqlite"),
                      "BANK_DIR": str(tmp_path)})
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert "flask bank check" in response.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["bank", "check"])
    assert result.exit_code == 1 and "bank.yaml: line 2, column 1: not valid YAML" in result.output


def test_addresses_built_by_templates_follow_their_arguments_and_the_request(app):
    """Templates' url_for remembers what it built: a remembered address must still be the one
    for these arguments, this mount point and, for full addresses, this host."""
    from assessment.web.memo import cached_url_for

    with app.test_request_context("/"):
        backup = cached_url_for("wizard.section", section_id="backup")
        assert cached_url_for("wizard.section", section_id="backup") == backup
        assert cached_url_for("wizard.section", section_id="patching") != backup
        assert cached_url_for("wizard.section", section_id="backup", _anchor="q-1") == \
            backup + "#q-1"
    with app.test_request_context("/", base_url="http://example.test/mounted"):
        assert cached_url_for("wizard.section", section_id="backup") == "/mounted" + backup
    with app.test_request_context("/", base_url="https://other.test/"):
        assert cached_url_for("wizard.hub", _external=True).startswith("https://other.test/")
