"""`flask report render`: one file or many, PDF or HTML, with a BRAND.yaml whose mistakes are
reported by file and field."""

from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image
from pypdf import PdfReader

from assessment.cli.reports import report_cli
from assessment.report import shutdown_pool

from .conftest import FIXTURES


@pytest.fixture
def cli(app):
    if "report" not in app.cli.commands:
        app.cli.add_command(report_cli)
    yield app.test_cli_runner()
    shutdown_pool()


def write_logo(path):
    image = Image.new("RGB", (120, 40), "#1f3a68")
    out = io.BytesIO()
    image.save(out, format="PNG")
    path.write_bytes(out.getvalue())


def test_render_several_as_html_with_a_progress_bar(cli, tmp_path):
    files = [FIXTURES / "well_run_managed.json", FIXTURES / "unsure_mixed.json"]
    result = cli.invoke(args=["report", "render", *map(str, files), "--out-dir",
                              str(tmp_path / "out"), "--html"])
    assert result.exit_code == 0, result.output
    assert "Rendering reports" in result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["unsure_mixed.html", "well_run_managed.html"]
    assert "<!DOCTYPE html>" in (tmp_path / "out" / "unsure_mixed.html").read_text()


@pytest.mark.parametrize("content, field", [
    ("firm_name: X\ncolour: '#123456'\n", "colour: unknown field"),
    ("primary: red\n", "primary: must be a colour"),
    ("accent: '#12345'\n", "accent: must be a colour"),
    ("logo: missing.png\n", "logo: no such file"),
    ("logo: notes.txt\n", "logo: must be a PNG or JPEG"),
    ("firm_name: ''\n", "firm_name: must not be empty"),
    ("- a list\n", "expected a mapping"),
])
def test_brand_file_errors_name_the_file_and_field(cli, tmp_path, content, field):
    (tmp_path / "notes.txt").write_text("hello")
    brand = tmp_path / "brand.yaml"
    brand.write_text(content, encoding="utf-8")
    result = cli.invoke(args=["report", "render", str(FIXTURES / "well_run_managed.json"),
                              "--out", str(tmp_path / "r.pdf"), "--brand", str(brand)])
    assert result.exit_code != 0
    assert f"{brand}: {field}" in result.output
    assert "Traceback" not in result.output


def test_usage_errors(cli, tmp_path):
    one = str(FIXTURES / "well_run_managed.json")
    result = cli.invoke(args=["report", "render", one, one])
    assert result.exit_code == 2 and "--out-dir" in result.output
    result = cli.invoke(args=["report", "render", one])
    assert result.exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"answers": {"nope.nothing": 1}}')
    result = cli.invoke(args=["report", "render", str(bad), "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and f"{bad}: answers.nope.nothing" in result.output


def test_an_exported_assessment_brings_notes_and_verification(cli, tmp_path, bank):
    import json

    data = json.loads((FIXTURES / "well_run_managed.json").read_text())
    qid = "backup.automatic"
    data["records"] = [
        {"question_id": qid, "source": "owner", "answer": "weekly", "note": None,
         "verified": False},
        {"question_id": qid, "source": "consultant", "answer": data["answers"][qid],
         "note": "Seen the backup console.", "verified": True},
    ]
    data["assessment"] = {"finished_at": "2025-05-01T10:00:00"}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "export.html"
    result = cli.invoke(args=["report", "render", str(path), "--out", str(out), "--html",
                              "--full"])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Seen the backup console." in html
    assert "Owner answered: Yes, automatically, but less often than every day" in html
    assert "1 May 2025" in html


def test_batch_pdf_with_a_brand_file(cli, tmp_path):
    write_logo(tmp_path / "logo.png")
    brand = tmp_path / "brand.yaml"
    brand.write_text("firm_name: Northgate IT Advisory\nlogo: logo.png\nprimary: '#1f3a68'\n"
                     "accent: '#c0392b'\ncontact: jane@northgate.example\n"
                     "disclaimer: Not an audit.\n", encoding="utf-8")
    files = [FIXTURES / "well_run_managed.json", FIXTURES / "single_critical_exposure.json"]
    copies = []
    for i, f in enumerate(files):
        copies.append(tmp_path / f"client{i}.json")
        shutil.copy(f, copies[-1])
    result = cli.invoke(args=["report", "render", *map(str, copies), "--out-dir",
                              str(tmp_path / "pdfs"), "--brand", str(brand)])
    assert result.exit_code == 0, result.output
    assert "Rendering reports" in result.output
    for i in range(2):
        pdf = tmp_path / "pdfs" / f"client{i}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF-")
        assert PdfReader(pdf).metadata.author == "Northgate IT Advisory"


def test_full_gives_the_full_report_and_the_leadership_report_is_the_default(cli, tmp_path):
    answers = str(FIXTURES / "break_fix_untested_backups.json")
    for flags, name in (([], "leadership.html"), (["--full"], "full.html")):
        result = cli.invoke(args=["report", "render", answers, "--out", str(tmp_path / name),
                                  "--html", *flags])
        assert result.exit_code == 0, result.output
    leadership = (tmp_path / "leadership.html").read_text()
    full = (tmp_path / "full.html").read_text()
    assert "Leadership report" in leadership and "Full report" not in leadership
    assert "Full report" in full
    assert len(full) > len(leadership)
