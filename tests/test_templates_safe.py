"""Nothing turns autoescaping off: no `|safe`, `Markup(`, `{% autoescape false %}` or
`mark_safe` in the app's templates, the report's templates or the Python under assessment/,
except the entries of ALLOWED (each with its reason, printed when the test runs). Both Jinja
environments autoescape .html templates (and strings)."""

from __future__ import annotations

import re
from pathlib import Path

from assessment import create_app
from assessment.report.html import environment as report_environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = (ROOT / "assessment" / "templates", ROOT / "report_templates")
PYTHON_DIR = ROOT / "assessment"

UNSAFE = re.compile(
    r"\|\s*safe\b"  # {{ x|safe }}, {{ x | safe }}
    r"|\bMarkup\s*\("  # Markup(user_text)
    r"|\bmark_safe\b"  # Django-style
    r"|autoescape\s+(?:false|False|off)\b"  # {% autoescape false %}
    r"|autoescape\s*=\s*(?:False|None|0)\b"  # Environment(autoescape=False)
    r"|\bMarkup\.unescape\b|__html__\s*=|\|\s*unescape\b"
    r"|\brender_template_string\s*\(|\bfrom_string\s*\("  # templates built from text
)

# (path from the project root, the line stripped and without a trailing comment) -> why it is
# safe.
ALLOWED: dict[tuple[str, str], str] = {
    ("assessment/report/html.py", "return Markup(css)"):
        "the report's own stylesheet and fonts (files shipped with the product, never user "
        "data), put inline in the browser report's <style>; _screen_css() refuses any '</' in "
        "it, so it cannot close the style element",
    ("assessment/web/section_page.py", 'return Markup("\\n".join('):
        "a question's choices: halves rendered by the autoescaping part_choice_* macros from "
        "the bank (no answer, note or other user text), joined with the constant ' checked'",
}


def _sources():
    for folder in TEMPLATE_DIRS:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".html", ".htm", ".xml", ".svg", ".txt",
                                                  ".j2", ".jinja", ".css"):
                yield path
    yield from sorted(PYTHON_DIR.rglob("*.py"))


def _findings() -> list[tuple[str, int, str]]:
    found = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = re.sub(r"\s+#.*$", "", line) if path.suffix == ".py" else line
            if UNSAFE.search(code):
                found.append((rel, number, code.strip()))  # without a trailing comment
    return found


def test_no_template_or_code_turns_autoescaping_off():
    found = _findings()
    allowed = [f for f in found if (f[0], f[2]) in ALLOWED]
    for rel, number, line in allowed:
        print(f"allowed: {rel}:{number}: {line}\n  because {ALLOWED[(rel, line)]}")
    unexpected = [f"{rel}:{number}: {line}" for rel, number, line in found
                  if (rel, line) not in ALLOWED]
    assert not unexpected, (
        "escaping turned off (remove it, or add it to ALLOWED with the reason it is safe):\n"
        + "\n".join(unexpected))


def test_the_allowlist_has_no_stale_entries():
    present = {(rel, line) for rel, _, line in _findings()}
    stale = [entry for entry in ALLOWED if entry not in present]
    assert not stale, f"ALLOWED lists lines that no longer exist: {stale}"


def test_the_scan_finds_what_it_looks_for():
    for sample in ("{{ name|safe }}", "{{ name | safe }}", "Markup(text)",
                   "{% autoescape false %}", "mark_safe(x)", "Environment(autoescape=False)",
                   "render_template_string(text)"):
        assert UNSAFE.search(sample), sample
    for harmless in ("{{ name }}", "secrets.token_urlsafe(32)", "yaml.safe_load(text)",
                     "from markupsafe import Markup", "def _safe_next(target):",
                     "autoescape=select_autoescape(default=True)"):
        assert not UNSAFE.search(harmless), harmless


def test_app_environment_autoescapes_html(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE": str(tmp_path / "t.sqlite")})
    env = app.jinja_env
    for name in ("page.html", "wizard/section.html", "x.htm", "x.xml", "x.svg"):
        on = env.autoescape(name) if callable(env.autoescape) else env.autoescape
        assert on, f"the app environment does not autoescape {name}"
    with app.test_request_context():
        for name in env.list_templates(extensions=["html"]):
            assert env.get_template(name).environment.autoescape, name
        rendered = env.from_string("{{ v }}").render(v="<script>alert(1)</script>")
        assert rendered == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_report_environment_autoescapes_everything():
    env = report_environment()
    assert callable(env.autoescape) or env.autoescape is True
    for name in ("report.html", "charts.html", "anything.txt", None):
        on = env.autoescape(name) if callable(env.autoescape) else env.autoescape
        assert on, f"the report environment does not autoescape {name!r}"
    for name in env.list_templates():
        if name.endswith(".html"):
            template = env.get_template(name)
            assert template.environment is env
    rendered = env.from_string("{{ v }}").render(v='"><svg onload=alert(1)>')
    assert rendered == "&#34;&gt;&lt;svg onload=alert(1)&gt;"
