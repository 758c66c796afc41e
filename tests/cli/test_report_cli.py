"""``kyodaku report`` and ``kyodaku scan --report`` as a user runs them (real workspace,
a real scan, the report read back)."""

from __future__ import annotations

from typer.testing import CliRunner

from kyodaku.cli.main import app
from tests.report import scanned
from tests.report.htmltables import parse

runner = CliRunner()


def _run(home, *args: str):
    return runner.invoke(app, [*args, "--home", str(home)])


def test_scan_with_report_then_report_again(tmp_path):
    ws, corpus, shard = scanned.setup_workspace(tmp_path)
    results, report = tmp_path / "results.jsonl", tmp_path / "out" / "report.html"
    r = _run(ws.home, "scan", str(corpus), str(shard), "--licensee", scanned.LICENSEE, "--on", "2026-06-01",
             "--out", str(results), "--report", str(report), "--max-evidence", "3", "--workers", "1")
    assert r.exit_code == 0, r.output
    assert "report of 10 item(s)" in r.output and "4 evidence row(s)" in r.output  # 3 of kumo, 1 signal
    page = parse(report.read_text(encoding="utf-8"))
    assert len(page.table("Evidence: blocked and review items of Kumo (3 of 6)")) == 3
    text = " ".join(page.text)
    assert "scan entry #" in text and "block 0." in text  # the audit entry, the policy's thresholds
    # the same results, reported later: the scan is found in the audit log
    again = tmp_path / "again.html"
    r = _run(ws.home, "report", str(results), "--out", str(again))
    assert r.exit_code == 0, r.output
    page = parse(again.read_text(encoding="utf-8"))
    meta = " ".join(page.text)
    assert scanned.LICENSEE in meta and "2026-06-01" in meta and "scan entry #" in meta
    assert len(page.table("Evidence: blocked and review items of Kumo (6 of 6)")) == 6
    ws.dispose()


def test_report_usage_errors(tmp_path):
    ws, corpus, _shard = scanned.setup_workspace(tmp_path)
    r = _run(ws.home, "report", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r.html"))
    assert r.exit_code == 1 and "no results file" in r.output
    r = _run(ws.home, "scan", str(corpus), "--licensee", "a", "--report", str(tmp_path / "r.html"))
    assert r.exit_code == 1 and "--report needs --out" in r.output
    results = tmp_path / "hand-made.jsonl"
    results.write_text('{"path": "x.png", "verdict": "cleared", "matches": []}\n', encoding="utf-8")
    r = _run(ws.home, "report", str(results), "--out", str(tmp_path / "r.html"), "--licensee", "<acme>",
             "--on", "2026-01-02")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "&lt;acme&gt;" in html and "2026-01-02" in html
    r = _run(ws.home, "report", str(results), "--out", str(tmp_path / "r.html"), "--on", "yesterday")
    assert r.exit_code == 1 and "not a date" in r.output
    ws.dispose()
